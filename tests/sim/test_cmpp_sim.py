"""The CMPP ISMG simulator over real loopback sockets, driven by our own CMPP client session."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor

from smsgw.session.cmpp_client import (
    CmppClientSession, DeliverReceived, LoggedIn, LoginRefused, ReportReceived, SubmitAnswered,
)
from smsgw.session.cmpp_common import Timers
from smsgw.session.report_cmpp import parse_msg_id, unpack_msg_id
from smsgw.sim.behaviour import Account, Behaviour, Outcome
from smsgw.sim.cmpp import CmppSimulator
from tests.sim.peers import Peer, connect, eventually, sleep

SP_ID, SECRET = "901234", "s3cret"
SERVICE = "1065901234"
CLIENT_TIMERS = Timers(active_test_interval=60, response_timeout=5, max_sends=2, login_timeout=5)


def behaviour(**kw: Any) -> Behaviour:
    kw.setdefault("receipt_delay", 0.05)
    return Behaviour(accounts=[Account(SP_ID, SECRET, SERVICE)], rng=random.Random(1), **kw)


def mt(n: int, dest: str = "13800138000", report: int = 1) -> dict[str, Any]:
    return {"registered_delivery": report, "service_id": "demo", "msg_fmt": 8, "src_id": SERVICE + "01",
            "dest_terminal_id": [dest], "msg_content": f"验证码{n:04d}".encode("utf-16-be")}


class Running:
    """A simulator listening on a free loopback port, and the clients of one test."""

    def __init__(self, sim: CmppSimulator) -> None:
        self.sim = sim
        self.port = sim.listen(0)
        self.clients: list[Peer] = []

    async def client(self, protocol: str = "cmpp30", sp_id: str = SP_ID, secret: str = SECRET,
                     login: bool = True) -> Peer:
        peer = Peer(lambda now: CmppClientSession(protocol, sp_id, secret, now, timers=CLIENT_TIMERS),
                    start=lambda s, now: s.connect(datetime.now(), now))
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
async def test_wrong_secret_and_unknown_sp_are_refused_and_disconnected() -> None:
    run = Running(CmppSimulator(reactor, behaviour()))
    try:
        wrong = await run.client(secret="nope", login=False)
        unknown = await run.client(sp_id="999999", login=False)
        await eventually(lambda: wrong.is_lost and unknown.is_lost, what="both disconnected")
        assert [e.status for e in wrong.of(LoginRefused)] == [3]  # AuthenticatorSource mismatch
        assert [e.status for e in unknown.of(LoginRefused)] == [2]  # unknown SP_Id
        assert run.sim.counters["logins_refused"] == 2 and run.sim.counters["logins"] == 0
    finally:
        await run.close()


@pytest.mark.parametrize("protocol", ["cmpp20", "cmpp30"])
@pytest_twisted.ensureDeferred
async def test_submit_gets_a_msg_id_and_the_report_carries_it_with_the_configured_outcome(protocol: str) -> None:
    outcome = Outcome("UNDELIV", cmpp_stat="MB:0008")
    run = Running(CmppSimulator(reactor, behaviour(outcomes=[outcome])))
    try:
        client = await run.client(protocol)
        client.call(lambda s, now: s.submit(mt(1), now))
        [answer] = await eventually(lambda: client.of(SubmitAnswered), what="submit answer")
        assert answer.accepted and not answer.throttled
        parts = unpack_msg_id(parse_msg_id(answer.msg_id))
        assert parts.gateway == 10061 and parts.sequence == 1  # the bit layout, gateway code "010061"
        [report] = await eventually(lambda: client.of(ReportReceived), what="report")
        assert report.msg_id == answer.msg_id
        assert report.stat == "MB:0008" and report.dest_terminal_id == "13800138000"
        [seen] = run.sim.received
        assert (seen.protocol, seen.status, seen.message_id) == (protocol, "accepted", answer.msg_id)
        assert seen.destinations == ("13800138000",) and seen.text == "验证码0001"
        assert seen.outcomes == ("UNDELIV",)
        await eventually(lambda: run.sim.counters["reports_answered"] == 1, what="report answered")
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_no_report_unless_registered_delivery_asks() -> None:
    run = Running(CmppSimulator(reactor, behaviour()))
    try:
        client = await run.client()
        client.call(lambda s, now: s.submit(mt(1, report=0), now))
        await eventually(lambda: client.of(SubmitAnswered), what="submit answer")
        await sleep(0.3)
        assert client.of(ReportReceived) == [] and run.sim.counters["reports_due"] == 0
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_submits_over_the_tps_limit_get_result_8() -> None:
    run = Running(CmppSimulator(reactor, behaviour(tps=3)))
    try:
        client = await run.client()
        for n in range(8):
            client.call(lambda s, now, n=n: s.submit(mt(n, report=0), now))
        answers = await eventually(lambda: len(client.of(SubmitAnswered)) == 8 and client.of(SubmitAnswered))
        throttled = [a for a in answers if a.throttled]
        assert throttled and all(a.result == 8 for a in throttled)
        assert 3 <= sum(a.accepted for a in answers) <= 4  # a burst of 3, maybe one more token refilled
        assert run.sim.counters["throttled"] == len(throttled)
        assert [r.status for r in run.sim.received].count("throttled") == len(throttled)
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_injected_mo_arrives_and_the_deferred_fires_with_the_sp_result() -> None:
    run = Running(CmppSimulator(reactor, behaviour()))
    try:
        client = await run.client()
        results = await run.sim.inject_mo("13900139000", SERVICE + "77", "退订 TD")
        assert results == [0]
        [mo] = client.of(DeliverReceived)
        assert (mo.src_terminal_id, mo.dest_id, mo.msg_fmt) == ("13900139000", SERVICE + "77", 8)
        assert mo.content.decode("utf-16-be") == "退订 TD" and not mo.tp_udhi
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_a_long_mo_goes_in_parts_with_a_udh() -> None:
    run = Running(CmppSimulator(reactor, behaviour()))
    try:
        client = await run.client()
        text = "长" * 100  # 200 UCS2 bytes: two parts
        assert await run.sim.inject_mo("13900139000", SERVICE, text) == [0, 0]
        parts = client.of(DeliverReceived)
        assert [p.tp_udhi for p in parts] == [True, True]
        assert b"".join(p.content[6:] for p in parts).decode("utf-16-be") == text
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_drop_connections_closes_the_sp_link() -> None:
    run = Running(CmppSimulator(reactor, behaviour()))
    try:
        client = await run.client()
        assert run.sim.drop_connections() == 1
        await eventually(lambda: client.is_lost, what="connection closed")
        assert run.sim.connections == set()
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_drop_every_n_submits_loses_that_submit_unanswered() -> None:
    run = Running(CmppSimulator(reactor, behaviour(drop_every=2)))
    try:
        client = await run.client()
        first = client.call(lambda s, now: s.submit(mt(1), now))
        client.call(lambda s, now: s.submit(mt(2), now))
        await eventually(lambda: client.is_lost, what="dropped")
        assert [a.sequence for a in client.of(SubmitAnswered)] == [first]
        assert [r.status for r in run.sim.received] == ["accepted", "dropped"]
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_reports_due_while_disconnected_wait_for_the_next_login() -> None:
    run = Running(CmppSimulator(reactor, behaviour(receipt_delay=0.2)))
    try:
        first = await run.client()
        first.call(lambda s, now: s.submit(mt(1), now))
        [answer] = await eventually(lambda: first.of(SubmitAnswered))
        run.sim.drop_connections()
        await eventually(lambda: first.is_lost)
        await eventually(lambda: run.sim.queued(SP_ID) == 1, what="report queued")
        second = await run.client()
        [report] = await eventually(lambda: second.of(ReportReceived), what="report on the new link")
        assert report.msg_id == answer.msg_id and report.stat == "DELIVRD"
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_an_mo_in_flight_when_the_link_drops_is_delivered_again_on_the_next_login() -> None:
    run = Running(CmppSimulator(reactor, behaviour()))
    try:
        first = await run.client()
        answered = run.sim.inject_mo("13900139000", SERVICE, "hello")
        assert run.sim.counters["mo_sent"] == 1  # on the wire, not answered yet
        run.sim.drop_connections()
        await eventually(lambda: first.is_lost)
        assert not answered.called and run.sim.queued(SP_ID) == 1
        second = await run.client()
        assert await answered == [0]
        assert [m.content for m in second.of(DeliverReceived)] == [b"hello"]
        assert run.sim.counters["requeued"] == 1 and run.sim.counters["mo_sent"] == 2
    finally:
        await run.close()


@pytest_twisted.ensureDeferred
async def test_drop_after_answer_accepts_the_submit_then_closes() -> None:
    run = Running(CmppSimulator(reactor, behaviour(drop_every=1, drop_after_answer=True)))
    try:
        client = await run.client()
        client.call(lambda s, now: s.submit(mt(1), now))
        await eventually(lambda: client.is_lost, what="dropped")
        [answer] = client.of(SubmitAnswered)
        assert answer.accepted and run.sim.received[0].status == "accepted"
        again = await run.client()
        [report] = await eventually(lambda: again.of(ReportReceived), what="report after the drop")
        assert report.msg_id == answer.msg_id
    finally:
        await run.close()
