"""The SGIP SMG simulator over real loopback sockets: our SP client submits, the simulator
connects back to a listener the test opens (our SP listener session) with reports and MO."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import pytest_twisted
from twisted.internet import reactor

from smsgw.domain.model import MessageState
from smsgw.session.carrier_events import (
    DeliverReceived, LinkLost, LoggedIn, LoginRefused, ReportReceived, SubmitAnswered,
)
from smsgw.session.carrier_window import CarrierTimers
from smsgw.session.sgip_client import SgipClientSession
from smsgw.session.sgip_listener import BindRequested, SgipListenerSession
from smsgw.session.sgip_sequence import SequenceGenerator, format_message_id
from smsgw.sim.behaviour import Account, Behaviour, CallbackTarget, Outcome
from smsgw.sim.sgip import SgipSimulator
from tests.sim.peers import Peer, PeerFactory, connect, eventually, sleep

NAME, PASSWORD = "sp1", "pw1"
SERVICE = "1065501234"
SP_NODE = 3010012345
CALLBACK_NAME, CALLBACK_PASSWORD = "smg", "cbpw"
TIMERS = CarrierTimers(response_timeout=5, max_sends=2, idle_timeout=30)


def submit_fields(report_flag: int = 1, users: tuple[str, ...] = ("8613800138000",)) -> dict[str, Any]:
    return {"sp_number": SERVICE + "01", "charge_number": "0" * 21, "user_number": list(users), "corp_id": "12345",
            "service_type": "TEST", "fee_type": 1, "fee_value": "0", "given_value": "0", "morelateto_mt_flag": 2,
            "report_flag": report_flag, "message_coding": 15, "message_content": "联通你好".encode("gbk")}


class Running:
    """The SP listener (our SgipListenerSession), the simulator pointed at it, and the SP's submit clients."""

    def __init__(self, listener_password: str = CALLBACK_PASSWORD, **kw: Any) -> None:
        self.listener = PeerFactory(lambda: Peer(lambda now: SgipListenerSession(now), on_event=self._bind))
        self.listener_password = listener_password
        self.listening = reactor.listenTCP(0, self.listener, interface="127.0.0.1")
        kw.setdefault("receipt_delay", 0.05)
        kw.setdefault("idle_timeout", 30.0)
        callback = CallbackTarget("127.0.0.1", self.listening.getHost().port, CALLBACK_NAME, CALLBACK_PASSWORD)
        self.sim = SgipSimulator(reactor, Behaviour(accounts=[Account(NAME, PASSWORD, SERVICE)], rng=random.Random(3),
                                                    callback=callback, callback_retry=0.1, **kw))
        self.port = self.sim.listen(0)
        self.clients: list[Peer] = []
        self._counter = 1

    def _bind(self, peer: Peer, event: Any) -> None:
        if isinstance(event, BindRequested):
            if (event.login_name, event.password) == (CALLBACK_NAME, self.listener_password):
                peer.session.accept_bind(event.sequence)
            else:
                peer.session.refuse_bind(event.sequence)

    async def client(self, name: str = NAME, password: str = PASSWORD, bind: bool = True) -> Peer:
        sequence = SequenceGenerator(SP_NODE, datetime.now, self._counter)
        self._counter += 1000
        peer = Peer(lambda now: SgipClientSession(name, password, sequence, now, TIMERS),
                    start=lambda s, now: s.bind(now))
        self.clients.append(peer)
        await connect(self.port.getHost().port, peer)
        if bind:
            await eventually(lambda: peer.of(LoggedIn), what="bind")
        return peer

    async def close(self) -> None:
        for c in self.clients:
            c.close()
        for p in self.listener.peers:
            p.close()
        self.sim.close()
        await self.port.stopListening()
        await self.listening.stopListening()


@pytest_twisted.ensureDeferred
async def test_a_wrong_password_is_refused_with_result_1() -> None:
    run = Running()
    try:
        client = await run.client(password="wrong", bind=False)
        await eventually(lambda: client.is_lost, what="disconnected")
        assert [e.status for e in client.of(LoginRefused)] == [1]
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_the_report_comes_over_the_callback_connection_and_quotes_the_submit_triple() -> None:
    run = Running(outcomes=[Outcome("UNDELIV")])
    try:
        client = await run.client()
        triple = client.call(lambda s, now: s.submit(submit_fields(), now))
        [answer] = await eventually(lambda: client.of(SubmitAnswered), what="submit answer")
        assert answer.accepted and answer.message_id == format_message_id(triple)
        [report] = await eventually(lambda: run.listener.events(ReportReceived), what="report")
        assert report.message_id == answer.message_id
        assert (report.state, report.stat, report.err) == (MessageState.UNDELIVERED, "2", "29")
        assert report.recipient == "8613800138000"
        [seen] = run.sim.received
        assert seen.text == "联通你好" and seen.destinations == ("8613800138000",)
        assert run.sim.counters["callback_binds"] == 1
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_report_flag_0_reports_failures_only_and_2_never() -> None:
    run = Running(outcomes=[Outcome("DELIVRD")])
    try:
        client = await run.client()
        client.call(lambda s, now: s.submit(submit_fields(report_flag=0), now))
        client.call(lambda s, now: s.submit(submit_fields(report_flag=2), now))
        await eventually(lambda: len(client.of(SubmitAnswered)) == 2)
        await sleep(0.3)
        assert run.sim.counters["reports_due"] == 0 and run.listener.events(ReportReceived) == []
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_submits_over_the_tps_limit_get_result_11() -> None:
    run = Running(tps=2)
    try:
        client = await run.client()
        for _ in range(6):
            client.call(lambda s, now: s.submit(submit_fields(report_flag=2), now))
        answers = await eventually(lambda: len(client.of(SubmitAnswered)) == 6 and client.of(SubmitAnswered))
        throttled = [a for a in answers if a.throttled]
        assert throttled and {a.result for a in throttled} == {11}
        assert 2 <= sum(a.accepted for a in answers) <= 3
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_injected_mo_goes_through_the_callback_connection() -> None:
    run = Running()
    try:
        results = await run.sim.inject_mo("8613900139000", SERVICE + "9", "hello", account=NAME)
        assert results == [0]
        [mo] = run.listener.events(DeliverReceived)
        assert (mo.source, mo.destination, mo.coding, mo.content) == ("8613900139000", SERVICE + "9", 0, b"hello")
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_the_callback_connection_unbinds_when_idle() -> None:
    run = Running(idle_timeout=0.2)
    try:
        await run.sim.inject_mo("8613900139000", SERVICE, "hi")
        [peer] = run.listener.peers
        await eventually(lambda: peer.is_lost, what="idle unbind")
        [lost] = peer.of(LinkLost)
        assert lost.clean and lost.reason == "peer unbound"
        # more work opens a new connection
        await run.sim.inject_mo("8613900139000", SERVICE, "again")
        assert len(run.listener.peers) == 2 and len(run.listener.events(DeliverReceived)) == 2
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_a_refused_callback_bind_keeps_the_work_queued() -> None:
    run = Running(listener_password="other")
    try:
        run.sim.inject_mo("8613900139000", SERVICE, "hi")
        await eventually(lambda: run.sim.counters["callback_refused"] >= 2, what="retried binds")
        assert run.sim.queued(NAME) == 1
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_drop_connections_closes_the_submit_link() -> None:
    run = Running()
    try:
        client = await run.client()
        assert run.sim.drop_connections() == 1
        await eventually(lambda: client.is_lost, what="dropped")
    finally:
        await run.close()
