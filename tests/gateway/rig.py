"""A gateway stack for integration tests: real SQLite store, real listener on 127.0.0.1.

``make_rig`` builds the SMPP side alone (store, intake, notifier, listener);
``start_gateway_service`` the whole ``GatewayService`` with its carrier simulators.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import attrs
from twisted.internet import reactor as global_reactor
from twisted.internet.defer import inlineCallbacks
from twisted.python.threadpool import ThreadPool

from smsgw.domain.ids import IdGenerator
from smsgw.domain.model import FEN
from smsgw.net.smpp_listener import SmppServerFactory
from smsgw.pipeline.intake import Intake, IntakeConfig
from smsgw.pipeline.notifier import Notifier, NotifierConfig
from smsgw.pipeline.storage import StoreClient
from smsgw.routing.numbering import load_plan
from smsgw.session.smpp_server import Timers
from smsgw.store import migrate
from smsgw.store.db import sqlite_url
from smsgw.store.startup import open_store

ROOT = Path(__file__).resolve().parents[2]


def start_gateway_service(tmp_path: Path) -> Any:
    """The whole gateway in this process on the repository's demo config (built-in carrier simulators),
    every port free, SQLite under ``tmp_path``; started: wait for its ``ready``, stop it with ``stopService``."""
    from smsgw.app.config import load
    from smsgw.app.gateway import GatewayService

    cfg = load(ROOT / "config" / "smsgw.toml").with_overrides(
        data_dir=str(tmp_path / "data"), smpp_port=0, web_port=0, manhole_port=0, metrics_port=0)
    gw = GatewayService(cfg, global_reactor)
    gw.startService()
    return gw


@attrs.define
class Rig:
    store: StoreClient
    intake: Intake
    notifier: Notifier
    port: int
    account: Any
    _listening: Any
    _opened: Any
    _readers: ThreadPool

    @inlineCallbacks
    def close(self) -> Any:
        self.notifier.stop()
        yield self._listening.stopListening()
        for conn in list(self.intake_factory_connections()):
            conn.transport.abortConnection()
        yield self.store.stop()
        self._readers.stop()
        self._opened.engine.dispose()

    def intake_factory_connections(self) -> Any:
        return self._listening.factory.connections


@inlineCallbacks
def make_rig(tmp_path: Path, *, tps: int = 1000, balance_fen: int = 100_000, price: int = 0,
             timers: Timers | None = None, notifier: NotifierConfig | None = None, **account_fields: Any) -> Any:
    url = sqlite_url(str(tmp_path))
    migrate.upgrade(url)
    opened = open_store(url, notify=global_reactor.callFromThread, now=int(time.time() * 1000))
    readers = ThreadPool(minthreads=1, maxthreads=4, name="test-readers")
    readers.start()
    store = StoreClient(opened.writer, global_reactor, readers)
    now = int(time.time() * 1000)
    account = yield store.create_account("demo", "demo", now, "test", tps=tps, max_binds=4, **account_fields)
    if balance_fen:
        yield store.recharge(account.id, balance_fen * FEN, now, "test")
    if price:
        yield store.set_price(account.id, price, now, "test")
    ids = IdGenerator(clock=lambda: int(time.time() * 1000), node=1, floor=opened.id_floor)
    notifications = Notifier(store, global_reactor, notifier)
    intake = Intake(store, ids, global_reactor, load_plan(ROOT / "config" / "numbering.toml"), notifications,
                    config=IntakeConfig())
    factory = SmppServerFactory(intake, global_reactor, timers)
    listening = global_reactor.listenTCP(0, factory, interface="127.0.0.1")
    return Rig(store, intake, notifications, listening.getHost().port, account, listening, opened, readers)
