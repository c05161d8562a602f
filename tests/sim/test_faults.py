"""The simulators' faults (``smsgw.sim.faults``): spells of silence, throttle storms, reports first.

On the fake reactor of ``test_clock`` (time moves only with ``advance``), except
SGIP's early report, which travels over the callback connection on real sockets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure

from smsgw.session.carrier_events import (
    LinkLost as CarrierLinkLost, LoggedIn as CarrierLoggedIn, ReportReceived as CarrierReport,
    SubmitAnswered as CarrierAnswered,
)
from smsgw.session.cmpp_client import (
    CmppClientSession, LinkLost, LoggedIn, ReportReceived, SubmitAnswered, Timers,
)
from smsgw.session.sgip_client import SgipClientSession
from smsgw.session.sgip_sequence import SequenceGenerator
from smsgw.session.smgp_client import SmgpClientSession
from smsgw.sim import runner
from smsgw.sim.behaviour import Behaviour
from smsgw.sim.cmpp import CmppSimulator
from smsgw.sim.faults import EARLY_ANSWER_WAIT, Spell, parse_spell
from smsgw.sim.sgip import SgipSimulator
from smsgw.sim.smgp import SmgpSimulator
from tests.sim.peers import eventually
from tests.sim.test_clock import SECRET, SP_ID, Wire, behaviour, mt
from tests.sim.test_sgip_sim import Running, submit_fields

WALL = datetime(2024, 3, 8, 9, 30)
#: a client that probes an idle link after 2 s and gives up after 2 unanswered sends 1 s apart
PROBING = Timers(active_test_interval=2.0, response_timeout=1.0, max_sends=2)
SMGP_MT = {"need_report": 1, "msg_format": 15, "src_term_id": "10659", "dest_term_id": ["13300000000"],
           "msg_content": "你好".encode("gbk")}


def started(sim: Any) -> Any:
    sim.doStart()  # what listening does: spells count from here
    return sim


def cmpp(clock: MemoryReactorClock, sim: CmppSimulator, timers: Timers | None = None) -> Wire:
    wire = Wire(sim, CmppClientSession("cmpp30", SP_ID, SECRET, clock.seconds(), timers=timers), clock)
    wire.client.connect(WALL, clock.seconds())
    wire.pump()
    return wire


def tick(wire: Wire) -> list[Any]:
    """Let the client's own timers run (probes, resends) at the clock's time."""
    wire.events.extend(wire.client.tick(wire.clock.seconds()))
    return wire.pump()


# ---------------------------------------------------------------------- the text forms


def test_spells_and_their_text_form() -> None:
    assert parse_spell("5:10") == Spell(5.0, 10.0) and parse_spell("5") == Spell(5.0, None)
    spell = Spell(5.0, 10.0)
    assert [spell.covers(t) for t in (4.9, 5.0, 14.9, 15.0)] == [False, True, True, False]
    assert Spell(3.0).covers(1e9) and Spell(3.0).end is None
    for bad in ("x", "5:y", "-1:3", "2:0"):
        with pytest.raises(ValueError):
            parse_spell(bad)
    with pytest.raises(ValueError):
        Behaviour(accounts=[], report_first=1.5)


def test_runner_options_describe_the_faults() -> None:
    args = runner.parser().parse_args(["smgp30", "--silence", "5:10", "--silence", "60", "--throttle-storm", "2:3",
                                       "--report-first", "0.25"])
    b = runner.build(args, MemoryReactorClock()).behaviour
    assert b.silences == (Spell(5, 10), Spell(60)) and b.throttle_storms == (Spell(2, 3),)
    assert b.report_first == 0.25
    assert [b.silent(t) for t in (4, 5, 16, 59, 600)] == [False, True, False, False, True]
    assert [b.storming(t) for t in (1, 2, 4.9, 5)] == [False, True, True, False]
    with pytest.raises(SystemExit):
        runner.parser().parse_args(["cmpp30", "--silence", "soon"])


# ---------------------------------------------------------------------- silence


def test_a_silent_gateway_takes_logins_but_answers_nothing_after_them() -> None:
    clock = MemoryReactorClock()
    sim = started(CmppSimulator(clock, behaviour(receipt_delay=1.0)))
    wire = cmpp(clock, sim, PROBING)
    wire.client.submit(mt(), clock.seconds())
    wire.pump()
    [before] = wire.of(SubmitAnswered)

    sim.silence(10.0)
    wire.advance(1.0)  # the report of the first submit falls due in the silence
    assert wire.of(ReportReceived) == [] and sim.queued() == 1
    wire.client.submit(mt(), clock.seconds())
    wire.pump()
    assert wire.of(SubmitAnswered) == [before]  # not taken, not answered
    assert sim.counters["ignored"] == 1 and sim.received[-1].status == "ignored"

    # a second SP connection still logs in, then hears nothing either
    other = cmpp(clock, sim, PROBING)
    assert other.of(LoggedIn)
    other.client.submit(mt(), clock.seconds())
    other.pump()
    assert other.of(SubmitAnswered) == [] and sim.counters["ignored"] == 2

    # the keep-alive goes unanswered too: the client gives the link up (probe at 2 s, resent at 3 s, dead at 4 s)
    for _ in range(5):
        clock.advance(1.0)
        tick(wire)
    [lost] = wire.of(LinkLost)
    assert "active_test" in lost.reason
    assert sim.counters["muted_bytes"] > 0
    wire.protocol.connectionLost(Failure(ConnectionDone("the client closed it")))

    # the spell ends: the queued report goes out on the connection that is still there, submits are taken again
    clock.advance(10.0)
    other.pump()
    [report] = other.of(ReportReceived)
    assert report.msg_id == before.msg_id
    other.client.submit(mt(report=0), clock.seconds())
    other.pump()
    assert [a.result for a in other.of(SubmitAnswered)] == [0]
    assert sim.counters["accepted"] == 2


def test_spells_of_silence_from_the_options_count_from_listening() -> None:
    clock = MemoryReactorClock()
    clock.advance(100.0)
    sim = started(CmppSimulator(clock, behaviour(silences=[Spell(5.0, 3.0)], receipt_delay=0.0)))
    wire = cmpp(clock, sim)
    clock.advance(5.0)  # 5 s after listening began: silent
    wire.client.submit(mt(), clock.seconds())
    wire.pump()
    assert wire.of(SubmitAnswered) == [] and sim.counters["ignored"] == 1
    clock.advance(3.0)
    wire.client.submit(mt(), clock.seconds())
    wire.pump()
    wire.advance(0.0)
    assert [a.result for a in wire.of(SubmitAnswered)] == [0] and len(wire.of(ReportReceived)) == 1


def test_a_silent_gateway_for_good_never_answers_again() -> None:
    clock = MemoryReactorClock()
    sim = started(SmgpSimulator(clock, behaviour(silences=[Spell(0.0)])))
    wire = Wire(sim, SmgpClientSession(SP_ID, SECRET, 0.0), clock)
    wire.client.login(0.0, WALL)
    wire.pump()
    assert wire.of(CarrierLoggedIn)
    for _ in range(3):
        wire.client.submit(SMGP_MT, clock.seconds())
        wire.advance(3600.0)
    assert wire.of(CarrierAnswered) == [] and sim.counters["ignored"] == 3
    assert sim.counters["accepted"] == 0


# ---------------------------------------------------------------------- throttle storms


def test_a_throttle_storm_answers_every_submit_with_result_8_then_passes() -> None:
    clock = MemoryReactorClock()
    sim = started(CmppSimulator(clock, behaviour()))  # no TPS limit at all
    wire = cmpp(clock, sim)
    sim.throttle_storm(2.0)
    for _ in range(3):
        wire.client.submit(mt(report=0), clock.seconds())
    wire.pump()
    clock.advance(2.0)
    wire.client.submit(mt(report=0), clock.seconds())
    wire.pump()
    answers = wire.of(SubmitAnswered)
    assert [(a.result, a.throttled) for a in answers] == [(8, True)] * 3 + [(0, False)]
    assert sim.counters["storm_throttled"] == 3 and sim.counters["accepted"] == 1


def test_throttle_storms_use_each_protocols_slow_down_code() -> None:
    clock = MemoryReactorClock()
    smgp = started(SmgpSimulator(clock, behaviour(throttle_storms=[Spell(0.0, 5.0)])))
    wire = Wire(smgp, SmgpClientSession(SP_ID, SECRET, 0.0), clock)
    wire.client.login(0.0, WALL)
    wire.pump()
    wire.client.submit(SMGP_MT, 0.0)
    wire.pump()
    [busy] = wire.of(CarrierAnswered)
    assert (busy.result, busy.throttled) == (1, True)

    sgip = started(SgipSimulator(clock, behaviour(throttle_storms=[Spell(0.0)])))
    sequence = SequenceGenerator(3010012345, lambda: WALL)
    wire = Wire(sgip, SgipClientSession(SP_ID, SECRET, sequence, clock.seconds()), clock)
    wire.client.bind(clock.seconds())
    wire.pump()
    wire.client.submit(submit_fields(report_flag=1), clock.seconds())
    wire.pump()
    [node_busy] = wire.of(CarrierAnswered)
    assert (node_busy.result, node_busy.throttled) == (11, True)


# ---------------------------------------------------------------------- reports first


def test_cmpp_report_goes_before_the_submit_answer() -> None:
    clock = MemoryReactorClock()
    sim = started(CmppSimulator(clock, behaviour(report_first=1.0, receipt_delay=30.0)))
    wire = cmpp(clock, sim)
    wire.client.submit(mt(), clock.seconds())
    wire.pump()  # no time passes: the report does not wait for the receipt delay
    report, answer = wire.events[-2:]
    assert isinstance(report, ReportReceived) and isinstance(answer, SubmitAnswered)
    assert report.msg_id == answer.msg_id and answer.result == 0
    assert sim.counters["reports_first"] == 1 and sim.counters["reports_answered"] == 1
    wire.advance(60.0)
    assert len(wire.of(ReportReceived)) == 1  # sent once only


def test_the_answer_waits_for_the_early_report_at_most_a_second() -> None:
    clock = MemoryReactorClock()
    sim = started(CmppSimulator(clock, behaviour(report_first=1.0)))
    wire = cmpp(clock, sim)
    wire.client.submit(mt(), clock.seconds())
    wire.protocol.dataReceived(wire.client.data_to_send())  # the SP does not read (nor answer) yet
    before = wire.transport.value()
    wire.transport.clear()
    clock.advance(EARLY_ANSWER_WAIT - 0.01)
    assert wire.transport.value() == b""
    clock.advance(0.02)
    after = wire.transport.value()
    wire.transport.clear()
    events = wire.client.receive_data(before + after, clock.seconds())
    assert [type(e) for e in events] == [ReportReceived, SubmitAnswered]


def test_smgp_report_goes_before_the_submit_answer() -> None:
    clock = MemoryReactorClock()
    sim = started(SmgpSimulator(clock, behaviour(report_first=1.0)))
    wire = Wire(sim, SmgpClientSession(SP_ID, SECRET, 0.0), clock)
    wire.client.login(0.0, WALL)
    wire.pump()
    wire.client.submit(SMGP_MT, 0.0)
    wire.pump()
    report, answer = wire.events[-2:]
    assert isinstance(report, CarrierReport) and isinstance(answer, CarrierAnswered)
    assert report.message_id == answer.message_id


def test_report_first_share_is_drawn_per_submit() -> None:
    clock = MemoryReactorClock()
    sim = started(CmppSimulator(clock, behaviour(report_first=0.5, receipt_delay=5.0)))
    wire = cmpp(clock, sim)
    for _ in range(40):
        wire.client.submit(mt(), clock.seconds())
        wire.pump()
    assert 8 <= sim.counters["reports_first"] <= 32
    wire.advance(5.0)
    assert len(wire.of(ReportReceived)) == 40 and len(wire.of(SubmitAnswered)) == 40


@pytest_twisted.ensureDeferred
async def test_sgip_report_over_the_callback_is_answered_before_the_submit() -> None:
    run = Running(report_first=1.0, receipt_delay=30.0)
    order: list[str] = []
    bind = run._bind

    def listener_event(peer: Any, event: Any) -> None:
        bind(peer, event)
        if isinstance(event, CarrierReport):
            order.append("report")

    run._bind = listener_event  # type: ignore[method-assign]
    try:
        client = await run.client()
        client.on_event = lambda peer, event: order.append("answer") if isinstance(event, CarrierAnswered) else None
        client.call(lambda s, now: s.submit(submit_fields(), now))
        [answer] = await eventually(lambda: client.of(CarrierAnswered), what="the submit's answer")
        assert order == ["report", "answer"] and answer.accepted
        [report] = run.listener.events(CarrierReport)
        assert report.message_id == answer.message_id
        assert not client.of(CarrierLinkLost)
    finally:
        await run.close()
