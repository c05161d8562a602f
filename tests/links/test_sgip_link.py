"""SGIP 1.2: the submit link (on demand, idle unbind) and our listener for the SMG's own connection.

The test SMG is ``SgipServerSession`` on its submit port; it connects back to our
``SgipListenerFactory`` with ``SgipCallbackSession`` (Bind type 2) to push
Report and Deliver, as a real SMG does (sgip.md 1).
"""

from __future__ import annotations

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import Clock

from smsgw.domain.model import MessageState
from smsgw.net.links.config import SgipListenerConfig
from smsgw.net.links.events import Refused, Requeue, Submitted, Throttled
from smsgw.net.links.group import LinkGroup
from smsgw.net.links.sgip import SgipListenerFactory
from smsgw.protocols.sgip12.status import Result
from smsgw.session.carrier_events import LinkLost, LoggedIn, LoginRefused, RequestAnswered
from smsgw.sim.behaviour import Account, Behaviour
from smsgw.sim.sgip import SgipSimulator
from tests.links.carriers import SgipCallback, SgipCarrier, listen, sleep, wait_for
from tests.links.fixtures import WALL_S, Observer, config, segment
from tests.links.rig import Rig

LISTENER = SgipListenerConfig(name="sgip-in", port=0, login="smguser", secret="smgpass")


def rig() -> Rig:
    return Rig(SgipCarrier("spuser", "sppass"), "sgip12")


async def with_listener(r: Rig) -> int:
    port = await listen(SgipListenerFactory(LISTENER, r.group, reactor))
    r.extra_ports.append(port)
    return port.getHost().port


@pytest_twisted.ensureDeferred
async def test_connects_on_demand_and_the_triple_is_the_carrier_id() -> None:
    r = await rig().start()
    try:
        await sleep(0.05)
        assert r.carrier.logins == []  # nothing to send: no connection
        outcome = await r.send(segment())
        assert outcome == Submitted(r.carrier.accepted[0], r.group.name)
        _, triple, fields = r.carrier.submits[0]
        assert triple[0] == 3010012345  # our SP node id: area 010, corp 12345
        assert outcome.carrier_msg_id == f"{triple[0]:010d}{triple[1]:010d}{triple[2]:010d}"
        assert fields["sp_number"] == "1065591201" and fields["user_number"] == ["8613800138000"]
        assert r.observer.states == [(r.group.name, True)]
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_idle_link_unbinds_and_reopens_on_demand() -> None:
    r = await rig().start(idle_timeout=0.15)
    try:
        assert isinstance(await r.send(segment(1)), Submitted)
        await wait_for(lambda: r.carrier.unbinds == 1 and r.group.state.connections == 0, what="the idle unbind")
        await sleep(0.1)
        assert len(r.carrier.logins) == 1  # no reconnect while idle
        assert r.group.state.up and r.observer.states == [(r.group.name, True)]  # idle is not down
        second = await r.send(segment(2))
        assert isinstance(second, Submitted) and len(r.carrier.logins) == 2
        assert second.carrier_msg_id != r.carrier.accepted[0]  # triples stay unique across connections
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_node_busy_throttles_and_other_results_are_final() -> None:
    r = await rig().start(tps=10)
    try:
        r.carrier.mode = "throttle"
        outcome = await r.send(segment(1))
        assert isinstance(outcome, Throttled) and outcome.code == "11"
        assert r.group.state.tps == 5
        r.carrier.mode = int(Result.ILLEGAL_MOBILE_NUMBER)
        refused = await r.send(segment(2))
        assert isinstance(refused, Refused) and refused.final and refused.code == "6"
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_report_on_the_listener_is_matched_to_the_segment_id() -> None:
    r = await rig().start()
    smg = SgipCallback("smguser", "smgpass")
    try:
        port = await with_listener(r)
        outcome = await r.send(segment())
        assert isinstance(outcome, Submitted)
        await smg.connect(port)
        await wait_for(lambda: any(isinstance(e, LoggedIn) for e in smg.events), what="the SMG's bind")
        smg.report(outcome.carrier_msg_id, state=2, error_code=26)
        await wait_for(lambda: r.observer.reports, what="the report")
        [report] = r.observer.reports
        assert (report.carrier_msg_id, report.state, report.stat, report.err) == (
            outcome.carrier_msg_id, MessageState.UNDELIVERED, "UNDELIV", "26")
        await wait_for(lambda: smg.answers, what="the Report_Resp")
        assert smg.answers[0].result == 0
    finally:
        smg.close()
        await r.close()


@pytest_twisted.ensureDeferred
async def test_report_overtaking_its_submit_resp_waits_for_it() -> None:
    r = await rig().start()
    smg = SgipCallback("smguser", "smgpass")
    try:
        port = await with_listener(r)
        await smg.connect(port)
        await wait_for(lambda: any(isinstance(e, LoggedIn) for e in smg.events), what="the SMG's bind")
        r.carrier.mode = "hold"
        pending = r.send(segment())
        await wait_for(lambda: r.carrier.held, what="the submit")
        conn, triple = r.carrier.held[0]
        carrier_id = f"{triple[0]:010d}{triple[1]:010d}{triple[2]:010d}"
        smg.report(carrier_id, state=0)
        await wait_for(lambda: r.group.state.early_reports == 1, what="the report to be held")
        assert r.observer.reports == []
        r.carrier.answer(conn, triple)
        outcome = await pending
        await wait_for(lambda: r.observer.reports, what="the report")
        assert r.observer.log[-2:] == [("submitted", carrier_id), ("report", carrier_id)]
        assert outcome == Submitted(carrier_id, r.group.name)
        assert r.observer.reports[0].state is MessageState.DELIVERED
    finally:
        smg.close()
        await r.close()


@pytest_twisted.ensureDeferred
async def test_mo_on_the_listener_keeps_the_extension() -> None:
    r = await rig().start()
    smg = SgipCallback("smguser", "smgpass")
    try:
        port = await with_listener(r)
        await smg.connect(port)
        await wait_for(lambda: any(isinstance(e, LoggedIn) for e in smg.events), what="the SMG's bind")
        smg.deliver("1065591201", "TD")
        await wait_for(lambda: r.observer.mos, what="the MO")
        [mo] = r.observer.mos
        assert (mo.dest_addr, mo.source_addr, mo.content, mo.data_coding) == (
            "1065591201", "13800138000", "TD".encode("utf-16-be"), 8)
        assert mo.carrier_msg_id is not None and len(mo.carrier_msg_id) == 30
        assert [type(e) for e in smg.events if isinstance(e, RequestAnswered)] == [RequestAnswered]
    finally:
        smg.close()
        await r.close()


@pytest_twisted.ensureDeferred
async def test_listener_refuses_the_wrong_credentials() -> None:
    r = await rig().start()
    smg = SgipCallback("smguser", "wrong")
    try:
        port = await with_listener(r)
        await smg.connect(port)
        await wait_for(lambda: smg.lost, what="the listener to close")
        [refused] = [e for e in smg.events if isinstance(e, LoginRefused)]
        assert refused.status == Result.ILLEGAL_LOGIN
        assert any(isinstance(e, LinkLost) for e in smg.events)
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_a_silent_smg_is_left_for_a_fresh_connection() -> None:
    """SGIP has no keep-alive: a submit given up with nothing heard since it was sent drops the
    connection (the segment is requeued as ever) and the next send opens a new one."""
    clock = Clock()  # the link's timers and the simulator's (its spell of silence) on simulated time
    sim = SgipSimulator(clock, Behaviour(accounts=[Account("spuser", "sppass", "10655912")]))
    port = await listen(sim)
    observer = Observer()
    # never idle within the test: without the fix the dead connection would be kept for good
    cfg = config("sgip12", port=port.getHost().port, response_timeout=1.0, max_sends=2, idle_timeout=3600.0,
                 reconnect_min=0.5)
    group = LinkGroup(cfg, observer, reactor=reactor, clock=clock, wallclock=lambda: WALL_S,
                      extensions=lambda account_id: "01", random=lambda: 0.0)
    group.startService()
    try:
        assert isinstance(await group.send(segment(1)), Submitted)
        sim.silence(10.0)  # from now: logins still answered, nothing else
        unanswered = group.send(segment(2))
        await wait_for(lambda: sim.counters["ignored"] == 1, what="the submit to reach the silent SMG")
        clock.advance(1.0)  # the response timeout: sent again (the same triple)
        await sleep(0.05)
        clock.advance(1.0)  # no answer to the second send either: given up
        outcome = await unanswered
        assert isinstance(outcome, Requeue) and "no answer after 2 send(s)" in outcome.reason
        await wait_for(lambda: group.state.connections == 0 and not sim.connections,
                       what="the silent connection to be dropped")
        assert observer.states == [(group.name, True), (group.name, False)]
        assert "silent" in (group.state.last_error or "")
        clock.advance(8.0)  # the spell is over (and the reconnect backoff long past)
        assert isinstance(await group.send(segment(3)), Submitted)
        assert sim.counters["logins"] == 2 and observer.states[-1] == (group.name, True)
    finally:
        stopping = group.stop()
        clock.advance(cfg.stop_timeout)
        await wait_for(lambda: stopping.called, timeout=15, what="the group to stop")
        sim.close()
        await port.stopListening()
