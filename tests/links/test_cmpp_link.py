"""CMPP 2.0/3.0 link group over loopback against a test ISMG built from ``CmppServerSession``."""

from __future__ import annotations

import pytest
import pytest_twisted

from smsgw.domain.model import MessageState
from smsgw.net.links.events import Refused, Requeue, Submitted, Throttled
from smsgw.session.report_cmpp import msg_id_text
from tests.links.carriers import CmppCarrier, SmgpCarrier, sleep, wait_for
from tests.links.fixtures import segment
from tests.links.rig import Rig

SECRETS = {"901234": "s3cret"}


def rig(protocol: str = "cmpp30") -> Rig:
    return Rig(CmppCarrier(SECRETS), protocol)


@pytest.mark.parametrize("protocol", ["cmpp20", "cmpp30"])
@pytest_twisted.ensureDeferred
async def test_login_and_send_gives_the_carrier_id(protocol: str) -> None:
    r = await rig(protocol).start()
    try:
        outcomes = [await r.send(segment(n)) for n in range(3)]
        assert outcomes == [Submitted(cid, r.group.name) for cid in r.carrier.accepted]
        assert len(set(r.carrier.accepted)) == 3
        _, _, fields = r.carrier.submits[0]
        assert fields["src_id"] == "106590001201"  # SP number + the account's extension
        assert fields["dest_terminal_id"] == ["13800138000"] and fields["msg_fmt"] == 8
        assert r.carrier.connections[0].session.protocol == protocol
        assert r.observer.states == [(r.group.name, True)]
    finally:
        await r.close()
    assert r.observer.states[-1] == (r.group.name, False)


@pytest_twisted.ensureDeferred
async def test_throttle_answer_slows_the_group_down() -> None:
    r = await rig().start(tps=40, throttle_hold=30)
    try:
        r.carrier.mode = "throttle"
        outcome = await r.send(segment())
        assert isinstance(outcome, Throttled) and outcome.code == "8"
        assert r.group.state.throttled and r.group.state.tps == 20
        r.carrier.mode = "accept"
        assert isinstance(await r.send(segment(2)), Submitted)  # retrying is the caller's job, and works
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_refusal_is_final_with_the_carrier_code() -> None:
    r = await rig().start()
    try:
        r.carrier.mode = 13
        outcome = await r.send(segment())
        assert isinstance(outcome, Refused) and outcome.final and outcome.code == "13"
        assert "Dest_terminal_Id" in outcome.reason
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_mapping_failure_is_refused_locally_without_sending() -> None:
    r = await rig().start()
    try:
        outcome = await r.send(segment(dest="not-a-number"))
        assert isinstance(outcome, Refused) and outcome.final and outcome.code == "local:destination"
        assert r.carrier.submits == []
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_dropped_connection_requeues_every_segment_in_flight() -> None:
    r = await rig().start(reconnect_min=0.05)
    try:
        await r.up()
        r.carrier.mode = "hold"
        pending = [r.send(segment(n)) for n in range(5)]
        await wait_for(lambda: len(r.carrier.submits) == 5, what="5 submits at the ISMG")
        r.carrier.drop_all()
        outcomes = [await d for d in pending]
        assert all(isinstance(o, Requeue) and "connection lost" in o.reason for o in outcomes)
        assert r.group.state.in_flight == 0
        # the group comes back by itself and sends again
        r.carrier.mode = "accept"
        assert isinstance(await r.send(segment(9)), Submitted)
        assert len(r.carrier.logins) == 2
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_window_limits_what_is_unanswered() -> None:
    r = await rig().start(window=2)
    try:
        await r.up()
        r.carrier.mode = "hold"
        pending = [r.send(segment(n)) for n in range(5)]
        await wait_for(lambda: len(r.carrier.submits) == 2, what="2 submits")
        await sleep(0.1)
        assert len(r.carrier.submits) == 2 and r.group.state.queued == 3
        r.carrier.mode = "accept"
        for conn, sequence in r.carrier.held:
            r.carrier.answer(conn, sequence)
        outcomes = [await d for d in pending]
        assert all(isinstance(o, Submitted) for o in outcomes)
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_unanswered_submit_is_resent_then_requeued() -> None:
    r = await rig().start(response_timeout=0.1, max_sends=2)
    try:
        await r.up()
        r.carrier.mode = "hold"
        outcome = await r.send(segment())
        assert isinstance(outcome, Requeue) and "no answer after 2" in outcome.reason
        sequences = [seq for _, seq, _ in r.carrier.submits]
        assert len(sequences) == 1  # the resend carried the same Sequence_Id: the ISMG took it as one
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_report_before_its_submit_response_is_matched_after_it() -> None:
    r = await rig().start()
    try:
        await r.up()
        # the ISMG sends the report first, then the submit response, on the same connection
        r.carrier.before_answer = lambda conn, carrier_id: r.carrier.report(conn, carrier_id, "DELIVRD")
        outcome = await r.send(segment())
        assert isinstance(outcome, Submitted)
        await wait_for(lambda: r.observer.reports, what="the report")
        assert r.observer.log[-2:] == [("submitted", outcome.carrier_msg_id), ("report", outcome.carrier_msg_id)]
        [report] = r.observer.reports
        assert (report.carrier, report.carrier_msg_id, report.state, report.stat) == (
            "cmcc", outcome.carrier_msg_id, MessageState.DELIVERED, "DELIVRD")
        assert report.submit_at is not None and report.done_at == report.submit_at + 60_000
        assert r.group.state.early_reports == 0
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_report_of_an_older_message_goes_up_at_once_with_its_raw_code() -> None:
    r = await rig().start()
    try:
        await r.up()
        r.carrier.report(r.carrier.connections[0], msg_id_text(0xB2B9DA8000010000), "MK:0001")
        await wait_for(lambda: r.observer.reports, what="the report")
        [report] = r.observer.reports
        assert (report.carrier_msg_id, report.state, report.stat) == (
            "b2b9da8000010000", MessageState.UNDELIVERED, "MK:0001")
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_mo_reaches_the_observer_with_the_extension_in_dest() -> None:
    r = await rig().start()
    try:
        await r.up()
        r.carrier.mo(r.carrier.connections[0], "106590001201", "退订", source="8613800138000")
        await wait_for(lambda: r.observer.mos, what="the MO")
        [mo] = r.observer.mos
        assert (mo.dest_addr, mo.source_addr, mo.content.decode("utf-16-be")) == ("106590001201", "13800138000", "退订")
        assert (mo.carrier, mo.link, mo.data_coding, mo.id, mo.account_id) == ("cmcc", r.group.name, 8, 0, None)
        assert mo.carrier_msg_id is not None and len(mo.carrier_msg_id) == 16
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_suspend_and_stop_hand_everything_back() -> None:
    r = await rig().start(window=1, stop_timeout=0.2)
    try:
        await r.up()
        r.carrier.mode = "hold"
        in_flight = r.send(segment(1))
        queued = r.send(segment(2))
        await wait_for(lambda: len(r.carrier.submits) == 1, what="one submit")
        r.group.suspend()
        assert isinstance(await queued, Requeue)
        assert (await r.send(segment(3))) == Requeue("link group suspended")
        r.group.resume()
        stopping = r.group.stop()
        assert (await r.send(segment(4))) == Requeue("link group stopped")
        outcome = await in_flight  # unanswered: TERMINATE after stop_timeout, then handed back
        assert isinstance(outcome, Requeue)
        await wait_for(lambda: stopping.called, what="stop")
        assert r.group.state.in_flight == 0 and r.group.state.connections == 0
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_stop_waits_for_answers_in_flight() -> None:
    r = await rig().start(stop_timeout=5)
    try:
        await r.up()
        r.carrier.mode = "hold"
        pending = r.send(segment())
        await wait_for(lambda: r.carrier.held, what="a held submit")
        stopping = r.group.stop()
        await sleep(0.05)
        conn, sequence = r.carrier.held[0]
        r.carrier.answer(conn, sequence)
        assert isinstance(await pending, Submitted)
        await wait_for(lambda: stopping.called, what="stop")
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_several_connections_share_one_account() -> None:
    r = await rig().start(connections=3, window=1)
    try:
        await r.up(3)
        r.carrier.mode = "hold"
        pending = [r.send(segment(n)) for n in range(3)]
        await wait_for(lambda: len(r.carrier.submits) == 3, what="3 submits")
        assert len({id(conn) for conn, _, _ in r.carrier.submits}) == 3  # one per connection
        r.carrier.mode = "accept"
        for conn, sequence in r.carrier.held:
            r.carrier.answer(conn, sequence)
        outcomes = [await d for d in pending]
        assert all(isinstance(o, Submitted) for o in outcomes)
        assert len(r.carrier.logins) == 3
    finally:
        await r.close()


@pytest.mark.parametrize("protocol", ["cmpp30", "smgp30"])
@pytest_twisted.ensureDeferred
async def test_keep_alive_holds_a_live_link_and_drops_a_dead_one(protocol: str) -> None:
    carrier = CmppCarrier(SECRETS) if protocol == "cmpp30" else SmgpCarrier({"client01": "smgpsecret"})
    r = await Rig(carrier, protocol).start(active_test_interval=0.05, response_timeout=0.2, max_sends=2,
                                           reconnect_min=0.05)
    try:
        await r.up()
        await sleep(0.4)  # several probes, all answered by the gateway's session
        assert len(r.carrier.logins) == 1 and r.group.state.connections == 1
        r.carrier.frozen = True  # the gateway hangs: probes go unanswered, the link is dropped after N
        await wait_for(lambda: r.group.state.connections == 0, what="the dead link to be dropped")
        r.carrier.frozen = False
        await wait_for(lambda: len(r.carrier.logins) == 2 and r.group.state.connections == 1, what="a new link")
        assert r.observer.states == [(r.group.name, True), (r.group.name, False), (r.group.name, True)]
    finally:
        await r.close()
