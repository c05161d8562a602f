"""Simulators on a fake reactor (``MemoryReactorClock`` + ``StringTransport``).

Receipt delay, TPS, the seeded mix, scheduled drops, the service, bad input.

No sockets: the client session's bytes are fed to the simulator's protocol and
the transport's output back to the client; time moves only with ``advance``.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport

from smsgw.session.carrier_events import ReportReceived as SmgpReport, SubmitAnswered as SmgpAnswered
from smsgw.session.cmpp_client import CmppClientSession, LoggedIn, ReportReceived, SubmitAnswered
from smsgw.session.smgp_client import SmgpClientSession
from smsgw.sim.behaviour import Account, Behaviour, Outcome
from smsgw.sim.cmpp import CmppSimulator
from smsgw.sim.sgip import SgipSimulator
from smsgw.sim.smgp import SmgpSimulator
from tests.sim.peers import no_failures_logged

SP_ID, SECRET = "901234", "s3cret"
ADDRESS = IPv4Address("TCP", "127.0.0.1", 40000)


def behaviour(**kw: Any) -> Behaviour:
    kw.setdefault("rng", random.Random(7))
    return Behaviour(accounts=[Account(SP_ID, SECRET, "10659")], **kw)


class Wire:
    """A client session connected to a simulator's protocol through a StringTransport."""

    def __init__(self, sim: Any, client: Any, clock: MemoryReactorClock) -> None:
        self.sim, self.client, self.clock = sim, client, clock
        self.protocol = sim.buildProtocol(ADDRESS)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)
        self.events: list[Any] = []

    def pump(self) -> list[Any]:
        while True:
            out = self.client.data_to_send()
            if out:
                self.protocol.dataReceived(out)
            back = self.transport.value()
            self.transport.clear()
            if back:
                self.events.extend(self.client.receive_data(back, self.clock.seconds()))
            if not out and not back:
                return self.events

    def advance(self, seconds: float) -> list[Any]:
        self.clock.advance(seconds)
        return self.pump()

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def cmpp_wire(**kw: Any) -> Wire:
    clock = MemoryReactorClock()
    sim = CmppSimulator(clock, behaviour(**kw))
    wire = Wire(sim, CmppClientSession("cmpp30", SP_ID, SECRET, 0.0), clock)
    wire.client.connect(datetime(2024, 3, 8, 9, 30), 0.0)
    wire.pump()
    assert wire.of(LoggedIn)
    return wire


def mt(report: int = 1) -> dict[str, Any]:
    return {"registered_delivery": report, "msg_fmt": 0, "src_id": "10659", "dest_terminal_id": ["13800138000"],
            "msg_content": b"hello"}


def test_the_report_goes_after_the_configured_delay_on_the_reactor_clock() -> None:
    wire = cmpp_wire(receipt_delay=5.0)
    wire.client.submit(mt(), 0.0)
    wire.pump()
    [answer] = wire.of(SubmitAnswered)
    assert wire.advance(4.9) and wire.of(ReportReceived) == []
    wire.advance(0.2)
    [report] = wire.of(ReportReceived)
    assert report.msg_id == answer.msg_id and report.delivered
    # the Msg_Id carries the reactor's time as China time: 1970-01-01 08:00:00 at 0
    assert answer.msg_id.startswith("10")  # month 1, day 1: 0001 00001 ...


def test_tps_is_a_token_bucket_on_the_reactor_clock() -> None:
    wire = cmpp_wire(tps=2)
    for _ in range(3):
        wire.client.submit(mt(report=0), wire.clock.seconds())
    wire.pump()
    assert [a.result for a in wire.of(SubmitAnswered)] == [0, 0, 8]
    wire.clock.advance(0.5)  # one token back
    wire.client.submit(mt(report=0), wire.clock.seconds())
    wire.client.submit(mt(report=0), wire.clock.seconds())
    wire.pump()
    assert [a.result for a in wire.of(SubmitAnswered)][3:] == [0, 8]
    assert wire.sim.counters["throttled"] == 2


def test_a_seeded_generator_makes_the_outcome_mix_repeatable() -> None:
    mix = [Outcome("DELIVRD", 1), Outcome("EXPIRED", 1), Outcome("UNDELIV", 2)]

    def run(seed: int) -> list[str]:
        wire = cmpp_wire(outcomes=mix, rng=random.Random(seed), receipt_delay=0)
        for _ in range(30):
            wire.client.submit(mt(), 0.0)
            wire.pump()
            wire.advance(0)
        return [r.stat for r in wire.of(ReportReceived)]

    first = run(11)
    assert first == run(11) and len(first) == 30
    assert set(first) == {"DELIVRD", "EXPIRED", "UNDELIV"}
    assert first != run(12)


def test_smgp_receipt_delay_and_busy_status_on_the_clock() -> None:
    clock = MemoryReactorClock()
    sim = SmgpSimulator(clock, behaviour(tps=1, receipt_delay=2.0, outcomes=[Outcome("EXPIRED")]))
    wire = Wire(sim, SmgpClientSession(SP_ID, SECRET, 0.0), clock)
    wire.client.login(0.0, datetime(2024, 3, 8, 9, 30))
    wire.pump()
    fields = {"need_report": 1, "msg_format": 15, "src_term_id": "10659", "dest_term_id": ["13300000000"],
              "msg_content": "你好".encode("gbk")}
    wire.client.submit(fields, 0.0)
    wire.client.submit(fields, 0.0)
    wire.pump()
    ok, busy = wire.of(SmgpAnswered)
    assert ok.accepted and busy.result == 1 and busy.throttled
    assert ok.message_id.startswith("010061")  # BCD: gateway code, then MMDDHHMM and the sequence
    wire.advance(1.9)
    assert wire.of(SmgpReport) == []
    wire.advance(0.2)
    [report] = wire.of(SmgpReport)
    assert (report.message_id, report.stat, report.err) == (ok.message_id, "EXPIRED", "001")
    assert sim.received[0].text == "你好"


def test_garbage_is_answered_or_closes_the_connection_without_hurting_the_simulator() -> None:
    clock = MemoryReactorClock()
    sim = CmppSimulator(clock, behaviour())
    bad = sim.buildProtocol(ADDRESS)
    transport = StringTransport()
    bad.makeConnection(transport)
    bad.dataReceived(b"\x00\x00\x00\x05junk" + b"\xff" * 40)  # an impossible Total_Length
    assert transport.disconnecting
    # the simulator still serves others
    wire = cmpp_wire()
    wire.client.submit(mt(), 0.0)
    wire.pump()
    assert wire.of(SubmitAnswered)[0].accepted


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # the autouse failure check
@given(st.binary(max_size=300))
def test_no_bytes_make_a_simulator_fail(data: bytes) -> None:
    with no_failures_logged():
        clock = MemoryReactorClock()
        for make in (CmppSimulator, SmgpSimulator, SgipSimulator):
            protocol = make(clock, behaviour()).buildProtocol(ADDRESS)
            transport = StringTransport()
            protocol.makeConnection(transport)
            protocol.dataReceived(data)
            clock.advance(120)  # login timeout and friends
            assert transport.disconnecting  # refused, or closed for not logging in
        wire = cmpp_wire()  # after a login, the submit/deliver paths
        wire.protocol.dataReceived(data)
        wire.clock.advance(300)


def test_scheduled_drops_close_every_connection_on_the_clock() -> None:
    clock = MemoryReactorClock()
    sim = CmppSimulator(clock, behaviour(drop_interval=10.0))
    sim.doStart()  # what listening does
    wire = Wire(sim, CmppClientSession("cmpp30", SP_ID, SECRET, 0.0), clock)
    wire.client.connect(datetime(2024, 3, 8, 9, 30), 0.0)
    wire.pump()
    clock.advance(9.9)
    assert not wire.transport.disconnecting
    clock.advance(0.2)
    assert wire.transport.disconnecting and sim.counters["drops"] == 1
    sim.close()
    assert clock.getDelayedCalls() == [] or all(not c.active() for c in clock.getDelayedCalls())


def test_the_service_listens_on_start_and_closes_the_simulator_on_stop() -> None:
    clock = MemoryReactorClock()
    sim = SmgpSimulator(clock, behaviour(receipt_delay=30))
    service = sim.service(0, "127.0.0.1")
    service.startService()
    assert clock.tcpServers[0][:2] == (0, sim)
    wire = Wire(sim, SmgpClientSession(SP_ID, SECRET, 0.0), clock)
    wire.client.login(0.0, datetime(2024, 3, 8, 9, 30))
    wire.pump()
    wire.client.submit({"need_report": 1, "msg_format": 0, "src_term_id": "10659", "dest_term_id": ["13300000000"],
                        "msg_content": b"x"}, 0.0)
    wire.pump()
    assert sim.counters["accepted"] == 1
    service.stopService()
    assert sim.closed and wire.transport.disconnecting
    clock.advance(60)
    assert sim.counters["reports_due"] == 0  # the pending receipt was cancelled
