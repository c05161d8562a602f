"""SMGP 3.0 link group over loopback against a test SMGW built from ``SmgpServerSession``."""

from __future__ import annotations

import pytest_twisted

from smsgw.domain.model import MessageState
from smsgw.domain.udh import Concat
from smsgw.net.links.events import Refused, Requeue, Submitted, Throttled
from tests.links.carriers import SmgpCarrier, wait_for
from tests.links.fixtures import segment
from tests.links.rig import Rig

SECRETS = {"client01": "smgpsecret"}


def rig() -> Rig:
    return Rig(SmgpCarrier(SECRETS), "smgp30")


@pytest_twisted.ensureDeferred
async def test_login_send_report_and_mo() -> None:
    r = await rig().start()
    try:
        outcome = await r.send(segment(udh=Concat(3, 2, 1), parts=2))
        assert outcome == Submitted(r.carrier.accepted[0], r.group.name)
        assert len(outcome.carrier_msg_id) == 20
        _, _, fields = r.carrier.submits[0]
        assert fields["src_term_id"] == "118900101" and fields["msg_type"] == 6
        assert fields["tlvs"]["pk_total"] == 2 and fields["tlvs"]["tp_udhi"] == 1
        conn = r.carrier.connections[0]
        r.carrier.report(conn, outcome.carrier_msg_id, "EXPIRED", "001")
        r.carrier.report(conn, outcome.carrier_msg_id, "ACCEPTD", "000")  # not final: dropped by the session
        r.carrier.mo(conn, "118900101", "退订")
        await wait_for(lambda: r.observer.reports and r.observer.mos, what="the report and the MO")
        [report] = r.observer.reports
        assert (report.carrier_msg_id, report.state, report.stat, report.err) == (
            outcome.carrier_msg_id, MessageState.EXPIRED, "EXPIRED", "001")
        [mo] = r.observer.mos
        assert (mo.dest_addr, mo.content.decode("gbk"), mo.data_coding) == ("118900101", "退订", 15)
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_system_busy_throttles_and_daily_limit_is_not_final() -> None:
    r = await rig().start(tps=16)
    try:
        r.carrier.mode = "throttle"
        outcome = await r.send(segment(1))
        assert isinstance(outcome, Throttled) and outcome.code == "1" and r.group.state.tps == 8
        r.carrier.mode = 75
        refused = await r.send(segment(2))
        assert isinstance(refused, Refused) and not refused.final and refused.code == "75"
        r.carrier.mode = 47
        final = await r.send(segment(3))
        assert isinstance(final, Refused) and final.final
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_report_before_submit_response() -> None:
    r = await rig().start()
    try:
        await r.up()
        r.carrier.before_answer = lambda conn, carrier_id: r.carrier.report(conn, carrier_id)
        outcome = await r.send(segment())
        await wait_for(lambda: r.observer.reports, what="the report")
        assert r.observer.log[-2:] == [("submitted", outcome.carrier_msg_id), ("report", outcome.carrier_msg_id)]
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_dropped_connection_requeues_in_flight() -> None:
    r = await rig().start(reconnect_min=0.05)
    try:
        await r.up()
        r.carrier.mode = "hold"
        pending = [r.send(segment(n)) for n in range(3)]
        await wait_for(lambda: len(r.carrier.submits) == 3, what="3 submits")
        r.carrier.drop_all()
        outcomes = [await d for d in pending]
        assert all(isinstance(o, Requeue) for o in outcomes)
        await r.up()
    finally:
        await r.close()
