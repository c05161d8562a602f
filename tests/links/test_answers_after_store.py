"""Reports and MO are answered to the carrier only once the observer says they are stored.

The observer's ``report``/``mo`` return a Deferred (the store's commit in the
gateway, fired by the test here): until it fires the carrier gets no
Deliver_Resp / Report_Resp, so a gateway killed in between leaves the report
with the carrier, which sends it again.  If it fails (the store refused for
now) the connection is dropped unanswered.  A report held for its submit
response is answered once it has gone up and been stored.
"""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet.defer import Deferred

from smsgw.domain.model import MoMessage, Report
from smsgw.net.links.events import Submitted
from smsgw.session import cmpp_server
from smsgw.session.carrier_events import LoggedIn
from smsgw.session.sgip_sequence import format_message_id
from smsgw.store.errors import StoreUnavailable
from tests.links.carriers import CmppCarrier, SgipCallback, SgipCarrier, sleep, wait_for
from tests.links.fixtures import Observer, segment
from tests.links.rig import Rig
from tests.links.test_sgip_link import with_listener


class StoringObserver(Observer):
    """Hands back a Deferred for every report and MO; the test fires it as the store's commit would."""

    def __init__(self) -> None:
        super().__init__()
        self.stored: list[Deferred[None]] = []

    def report(self, report: Report) -> Deferred[None]:
        super().report(report)
        self.stored.append(Deferred())
        return self.stored[-1]

    def mo(self, mo: MoMessage) -> Deferred[None]:
        super().mo(mo)
        self.stored.append(Deferred())
        return self.stored[-1]


class AnsweredCmpp(CmppCarrier):
    """The test ISMG, also noting the SP's answers to its Deliver."""

    def __init__(self) -> None:
        super().__init__({"901234": "s3cret"})
        self.answers: list[int] = []

    def on_event(self, conn: Any, event: Any) -> None:
        if isinstance(event, cmpp_server.DeliverAnswered):
            self.answers.append(event.result)
        else:
            super().on_event(conn, event)


def cmpp_rig() -> Rig:
    r = Rig(AnsweredCmpp(), "cmpp30")
    r.observer = StoringObserver()
    return r


@pytest_twisted.ensureDeferred
async def test_report_is_answered_after_it_is_stored() -> None:
    r = await cmpp_rig().start()
    try:
        outcome = await r.send(segment())
        assert isinstance(outcome, Submitted)
        r.carrier.report(r.carrier.connections[0], outcome.carrier_msg_id)
        await wait_for(lambda: r.observer.stored, what="the report")
        await sleep(0.1)
        assert r.carrier.answers == []
        r.observer.stored[0].callback(None)
        await wait_for(lambda: r.carrier.answers, what="the Deliver_Resp")
        assert r.carrier.answers == [0]
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_mo_is_answered_after_it_is_stored() -> None:
    r = await cmpp_rig().start()
    try:
        await r.up()
        r.carrier.mo(r.carrier.connections[0], "106590001201", "TD")
        await wait_for(lambda: r.observer.stored, what="the MO")
        await sleep(0.1)
        assert r.carrier.answers == []
        r.observer.stored[0].callback(None)
        await wait_for(lambda: r.carrier.answers, what="the Deliver_Resp")
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_report_the_store_refused_drops_the_connection_unanswered() -> None:
    r = await cmpp_rig().start(reconnect_min=0.05)
    try:
        outcome = await r.send(segment())
        first = r.carrier.connections[0]
        r.carrier.report(first, outcome.carrier_msg_id)
        await wait_for(lambda: r.observer.stored, what="the report")
        r.observer.stored[0].errback(StoreUnavailable("the database refused writes"))
        await wait_for(lambda: first not in r.carrier.connections, what="the connection to be dropped")
        assert r.carrier.answers == []
        await wait_for(lambda: r.carrier.connections, what="the link to come back")
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_sgip_report_held_for_its_submit_resp_is_answered_once_stored() -> None:
    r = Rig(SgipCarrier("spuser", "sppass"), "sgip12")
    r.observer = StoringObserver()
    await r.start()
    r.carrier.mode = "hold"  # the submit stays unanswered: its report overtakes the answer
    smg = SgipCallback("smguser", "smgpass")
    try:
        pending = r.send(segment())
        port = await with_listener(r)
        await wait_for(lambda: r.carrier.held, what="the submit")
        conn, triple = r.carrier.held[0]
        await smg.connect(port)
        await wait_for(lambda: any(isinstance(e, LoggedIn) for e in smg.events), what="the SMG's bind")
        smg.report(format_message_id(triple), state=0)
        await wait_for(lambda: r.group.state.early_reports == 1, what="the report to be held")
        r.carrier.answer(conn, triple)
        await pending
        await wait_for(lambda: r.observer.stored, what="the report to go up")
        await sleep(0.1)
        assert smg.answers == []
        r.observer.stored[0].callback(None)
        await wait_for(lambda: smg.answers, what="the Report_Resp")
        assert smg.answers[0].result == 0
    finally:
        smg.close()
        await r.close()
