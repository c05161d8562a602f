"""A gateway stack with the policy services: real SQLite store, real SMPP listener on
127.0.0.1, and a fake clock (``task.Clock``) for everything the policies see — the
intake's "now", the release of held messages — so tests can submit at 23:00 China time
and release at 08:05 without waiting."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any, Callable

import attrs
import smpplib.client
import smpplib.exceptions
import smpplib.smpp
from twisted.internet import reactor as global_reactor
from twisted.internet import task
from twisted.internet.defer import inlineCallbacks, maybeDeferred
from twisted.internet.task import deferLater
from twisted.python.threadpool import ThreadPool

from smsgw.codec import Pdu
from smsgw.domain.ids import IdGenerator
from smsgw.domain.model import FEN
from smsgw.net.smpp_listener import SmppServerFactory
from smsgw.pipeline.carrier_events import CarrierEvents
from smsgw.pipeline.intake import Intake, IntakeConfig
from smsgw.pipeline.notifier import Notifier
from smsgw.pipeline.policies import PolicyService
from smsgw.pipeline.storage import StoreClient
from smsgw.policy.settings import PolicySettings
from smsgw.routing.numbering import load_plan
from smsgw.session.codecs import codec_for
from smsgw.store import migrate
from smsgw.store.db import sqlite_url
from smsgw.store.startup import open_store
from tests.policy.clock import china

ROOT = Path(__file__).resolve().parents[2]
NOON = china(2024, 5, 1, 12, 0)
SIGNATURE = "【测试】"
SP_NUMBER = "1069000"


@attrs.define
class PolicyRig:
    store: StoreClient
    intake: Intake
    notifier: Notifier
    policies: PolicyService
    events: CarrierEvents
    clock: task.Clock
    port: int
    account: Any
    _listening: Any
    _opened: Any
    _readers: ThreadPool

    def set_time(self, ms: int) -> None:
        """Move the fake clock to ``ms`` (forwards only)."""
        self.clock.advance(ms / 1000 - self.clock.seconds())

    def now_ms(self) -> int:
        return int(self.clock.seconds() * 1000)

    @inlineCallbacks
    def close(self) -> Any:
        self.policies.stop()
        self.notifier.stop()
        yield self._listening.stopListening()
        for conn in list(self._listening.factory.connections):
            conn.transport.abortConnection()
        yield self.store.stop()
        self._readers.stop()
        self._opened.engine.dispose()


@inlineCallbacks
def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Wait (in real time, bounded) until ``check()`` — a value or a Deferred — is true; its last value."""
    end = time.monotonic() + timeout
    while True:
        value = yield maybeDeferred(check)
        if value or time.monotonic() > end:
            return value
        yield deferLater(global_reactor, 0.02, lambda: None)


@inlineCallbacks
def make_policy_rig(tmp_path: Path, *, settings: PolicySettings | None = None, start_at: int = NOON,
                    balance_fen: int = 100_000, price: int = 0, signature: str | None = SIGNATURE,
                    login: str = "demo", **account_fields: Any) -> Any:
    url = sqlite_url(str(tmp_path))
    migrate.upgrade(url)
    opened = open_store(url, notify=global_reactor.callFromThread, now=int(time.time() * 1000))
    readers = ThreadPool(minthreads=1, maxthreads=4, name="policy-test-readers")
    readers.start()
    store = StoreClient(opened.writer, global_reactor, readers)
    clock = task.Clock()
    clock.advance(start_at / 1000)
    account = yield store.create_account(login, "demo", start_at, "test", tps=100_000, max_binds=4,
                                         extension="8888", **account_fields)
    if balance_fen:
        yield store.recharge(account.id, balance_fen * FEN, start_at, "test")
    if price:
        yield store.set_price(account.id, price, start_at, "test")
    ids = IdGenerator(clock=lambda: int(time.time() * 1000), node=1, floor=opened.id_floor)
    plan = load_plan(ROOT / "config" / "numbering.toml")
    notifier = Notifier(store, global_reactor)
    policies = PolicyService(store, clock, ids, plan, settings, wake=notifier.wake)
    if signature:
        yield policies.add_signature(account.id, signature, "test", verified=True)
    yield policies.start()
    intake = Intake(store, ids, clock, plan, notifier, policies=policies, config=IntakeConfig())
    events = CarrierEvents(store, ids, wake=notifier.wake, sp_numbers={"cmcc": SP_NUMBER},
                           mo_routed=policies.mo_received)
    yield events.refresh_extensions()
    factory = SmppServerFactory(intake, global_reactor, None)
    listening = global_reactor.listenTCP(0, factory, interface="127.0.0.1")
    return PolicyRig(store, intake, notifier, policies, events, clock, listening.getHost().port, account,
                     listening, opened, readers)


class Client:
    """smpplib (a client we did not write), driven from a thread, recording what it receives."""

    def __init__(self, port: int, login: str = "demo") -> None:
        self.c = smpplib.client.Client("127.0.0.1", port, timeout=10, allow_unknown_opt_params=True)
        self.login = login
        self.delivered: list[Any] = []
        self.c.set_message_sent_handler(lambda pdu: None)
        self.c.set_message_received_handler(self.delivered.append)

    def bind(self) -> Any:
        self.c.connect()
        return self.c.bind_transceiver(system_id=self.login, password="demo")

    def submit(self, dest: str, text: str, **extra: Any) -> Any:
        """One submit_sm (IA5 when the text is ASCII, else UCS2) → its submit_sm_resp."""
        if text.isascii():
            payload, coding = text.encode("ascii"), 1
        else:
            payload, coding = text.encode("utf-16-be"), 8
        extra.setdefault("registered_delivery", True)
        pdu = self.c.send_message(source_addr="", destination_addr=dest, short_message=payload,
                                  data_coding=coding, **extra)
        resp = self.c.read_pdu()
        while resp.command != "submit_sm_resp":
            self._handle(resp)
            resp = self.c.read_pdu()
        assert resp.sequence == pdu.sequence
        return resp

    def statuses(self, submissions: list[tuple[str, str]]) -> list[int]:
        """Submit each (destination, text) in turn; their submit_sm_resp statuses."""
        return [self.submit(dest, text).status for dest, text in submissions]

    def _handle(self, pdu: Any) -> None:
        if pdu.command == "deliver_sm":
            self.delivered.append(pdu)
            resp = smpplib.smpp.make_pdu("deliver_sm_resp", client=self.c)
            resp.sequence = pdu.sequence
            self.c.send_pdu(resp)

    def wait_delivered(self, count: int, timeout: float = 10) -> list[Any]:
        end = time.time() + timeout
        while len(self.delivered) < count and time.time() < end:
            try:
                self._handle(self.c.read_pdu())
            except (OSError, smpplib.exceptions.ConnectionError):
                break
        return self.delivered

    def close(self) -> None:
        try:
            self.c.unbind()
        except Exception:
            pass
        self.c.disconnect()


def raw(port: int, *requests: tuple[str, dict[str, Any]], login: str = "demo") -> list[Any]:
    """A transmitter bind with our own encoder, for PDUs smpplib lacks (submit_multi)."""
    codec = codec_for("smpp34")
    framer = codec.framer()
    got: list[Any] = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        def read(n: int) -> None:
            while len(got) < n:
                got.extend(codec.decode(f) for f in framer.feed(sock.recv(4096)))

        sock.sendall(codec.encode(Pdu("bind_transmitter", 1, {"system_id": login, "password": "demo"})))
        read(1)
        for i, (command, fields) in enumerate(requests, start=2):
            sock.sendall(codec.encode(Pdu(command, i, fields)))
            read(i)
    assert got[0].status == 0, got[0]
    return got[1:]
