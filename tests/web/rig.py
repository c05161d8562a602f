"""The web centre in-process for tests: a real SQLite store and SMPP intake, the site on 127.0.0.1:0.

Two enterprises (``acme`` with sub-accounts ``acme-a`` and ``acme-b``, and
``rival``), priced and funded, and one provider administrator ``root``.
Passwords are hashed with cheap argon2 parameters to keep the suite fast.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import attrs
from argon2 import PasswordHasher
from twisted.internet import reactor as global_reactor
from twisted.internet.defer import inlineCallbacks
from twisted.python.threadpool import ThreadPool

from smsgw.domain.ids import IdGenerator
from smsgw.domain.model import FEN, YUAN
from smsgw.pipeline.intake import Intake, IntakeConfig
from smsgw.pipeline.storage import StoreClient
from smsgw.policy.lockout import Lockout
from smsgw.routing.numbering import load_plan
from smsgw.store import api_keys, migrate
from smsgw.store.db import sqlite_url
from smsgw.store.startup import open_store
from smsgw.web.site import build_site, make_site

ROOT = Path(__file__).resolve().parents[2]
CHEAP = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
PRICE = 4 * FEN  # 0.04 yuan per segment
PASSWORDS = {"acme": "acme-pass", "acme-a": "a-pass-1", "acme-b": "b-pass-1", "rival": "rival-pass"}


class NoReceivers:
    def attach(self, account: Any, connection: Any) -> None: ...
    def detach(self, account: Any, connection: Any) -> None: ...
    def answered(self, account: Any, connection: Any, sequence: int, status: int | None) -> None: ...


@attrs.define
class WebRig:
    store: StoreClient
    intake: Intake
    root: Any
    port: int
    accounts: dict[str, Any]
    _listening: Any
    _opened: Any
    _readers: ThreadPool

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @inlineCallbacks
    def issue_key(self, login: str) -> Any:
        """A live API key for an account, as the settings page makes one."""
        key_id, secret, whole = api_keys.new_secret()
        yield self.store.run(api_keys.IssueApiKey(self.accounts[login].id, key_id, api_keys.secret_hash(secret),
                                                  "test", int(time.time() * 1000), "test"))
        return whole

    @inlineCallbacks
    def close(self) -> Any:
        yield self._listening.stopListening()
        yield self.store.stop()
        self._readers.stop()
        self._opened.engine.dispose()


@inlineCallbacks
def make_web_rig(tmp_path: Path, *, tps: int = 1000, lockout: Lockout | None = None) -> Any:
    url = sqlite_url(str(tmp_path))
    migrate.upgrade(url)
    opened = open_store(url, notify=global_reactor.callFromThread, now=int(time.time() * 1000))
    readers = ThreadPool(minthreads=1, maxthreads=4, name="web-test-readers")
    readers.start()
    store = StoreClient(opened.writer, global_reactor, readers, hasher=CHEAP)
    try:
        now = int(time.time() * 1000)
        accounts: dict[str, Any] = {}
        for login, parent, extension in (("acme", None, "8001"), ("acme-a", "acme", "800101"),
                                         ("acme-b", "acme", "800102"), ("rival", None, "8002")):
            accounts[login] = yield store.create_account(
                login, PASSWORDS[login], now, "test", tps=tps, max_binds=4, extension=extension,
                parent_id=accounts[parent].id if parent else None, name=login.upper())
        for login in ("acme", "rival"):
            yield store.recharge(accounts[login].id, 1000 * YUAN, now, "test")
            yield store.set_price(accounts[login].id, PRICE, now, "test")
        ids = IdGenerator(clock=lambda: int(time.time() * 1000), node=1, floor=opened.id_floor)
        intake = Intake(store, ids, global_reactor, load_plan(ROOT / "config" / "numbering.toml"), NoReceivers(),
                        lockout=lockout, config=IntakeConfig())
        root = build_site(store, intake, global_reactor, admins={"root": CHEAP.hash("root-pass")})
        listening = global_reactor.listenTCP(0, make_site(root), interface="127.0.0.1")
    except BaseException:
        yield store.stop()
        readers.stop()
        opened.engine.dispose()
        raise
    return WebRig(store, intake, root, listening.getHost().port, accounts, listening, opened, readers)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)
