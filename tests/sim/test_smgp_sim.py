"""The SMGP SMGW simulator over real loopback sockets, driven by our own SMGP client session."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import pytest_twisted
from twisted.internet import reactor

from smsgw.domain.model import MessageState
from smsgw.protocols.smgp30.status import LoginMode
from smsgw.session.carrier_events import DeliverReceived, LoggedIn, LoginRefused, ReportReceived, SubmitAnswered
from smsgw.session.carrier_window import CarrierTimers
from smsgw.session.report_smgp import msg_id_parts, msg_id_from_text
from smsgw.session.smgp_client import SmgpClientSession
from smsgw.sim.behaviour import Account, Behaviour, Outcome
from smsgw.sim.smgp import SmgpSimulator
from tests.sim.peers import Peer, connect, eventually, sleep

CLIENT_ID, SECRET = "10690123", "s3cret"
SERVICE = "10690123"
TIMERS = CarrierTimers(response_timeout=5, max_sends=2)


def submit_fields(need_report: int = 1) -> dict[str, Any]:
    return {"need_report": need_report, "msg_format": 8, "src_term_id": SERVICE + "5", "dest_term_id": ["13300000000"],
            "msg_content": "电信你好".encode("utf-16-be")}


class Running:
    def __init__(self, **kw: Any) -> None:
        kw.setdefault("receipt_delay", 0.05)
        self.sim = SmgpSimulator(reactor, Behaviour(accounts=[Account(CLIENT_ID, SECRET, SERVICE)],
                                                    rng=random.Random(5), **kw))
        self.port = self.sim.listen(0)
        self.clients: list[Peer] = []

    async def client(self, secret: str = SECRET, mode: int = LoginMode.TRANSMIT, login: bool = True) -> Peer:
        peer = Peer(lambda now: SmgpClientSession(CLIENT_ID, secret, now, login_mode=mode, timers=TIMERS),
                    start=lambda s, now: s.login(now, datetime.now()))
        self.clients.append(peer)
        await connect(self.port.getHost().port, peer)
        if login:
            await eventually(lambda: peer.of(LoggedIn), what="login")
        return peer

    async def close(self) -> None:
        for c in self.clients:
            c.close()
        self.sim.close()
        await self.port.stopListening()


@pytest_twisted.ensureDeferred
async def test_a_wrong_secret_is_refused_with_status_21() -> None:
    run = Running()
    try:
        client = await run.client(secret="nope", login=False)
        await eventually(lambda: client.is_lost, what="disconnected")
        assert [e.status for e in client.of(LoginRefused)] == [21]
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_submit_gets_a_bcd_msg_id_and_the_report_carries_it() -> None:
    run = Running(outcomes=[Outcome("REJECTD", smgp_err="006")])
    try:
        client = await run.client()
        [authentic] = [e.authentic for e in client.of(LoggedIn)]
        assert authentic  # our AuthenticatorServer is the real MD5
        client.call(lambda s, now: s.submit(submit_fields(), now))
        [answer] = await eventually(lambda: client.of(SubmitAnswered), what="submit answer")
        parts = msg_id_parts(msg_id_from_text(answer.message_id))
        assert parts is not None and parts.gateway == "010061" and parts.sequence == 1
        [report] = await eventually(lambda: client.of(ReportReceived), what="report")
        assert (report.message_id, report.stat, report.err) == (answer.message_id, "REJECTD", "006")
        assert report.state is MessageState.UNDELIVERED and report.recipient == "13300000000"
        assert run.sim.received[0].text == "电信你好"
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_submits_over_the_tps_limit_get_status_1_system_busy() -> None:
    run = Running(tps=2)
    try:
        client = await run.client()
        for _ in range(6):
            client.call(lambda s, now: s.submit(submit_fields(need_report=0), now))
        answers = await eventually(lambda: len(client.of(SubmitAnswered)) == 6 and client.of(SubmitAnswered))
        throttled = [a for a in answers if a.throttled]
        assert throttled and {a.result for a in throttled} == {1}
        assert 2 <= sum(a.accepted for a in answers) <= 3
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_mo_goes_to_a_receiving_link_only() -> None:
    run = Running()
    try:
        sender = await run.client(mode=LoginMode.SEND)
        d = run.sim.inject_mo("13300000001", SERVICE + "77", "TD")
        await sleep(0.2)
        assert not d.called and run.sim.queued(CLIENT_ID) == 1  # a send-only link takes no Deliver
        receiver = await run.client(mode=LoginMode.RECEIVE)
        assert await d == [0]
        [mo] = receiver.of(DeliverReceived)
        assert (mo.source, mo.destination, mo.coding, mo.content) == ("13300000001", SERVICE + "77", 0, b"TD")
        assert sender.of(DeliverReceived) == []
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_drop_connections_closes_the_link() -> None:
    run = Running()
    try:
        client = await run.client()
        assert run.sim.drop_connections() == 1
        await eventually(lambda: client.is_lost, what="dropped")
    finally:
        await run.close()
