"""Money on refusal and final failure: the refund rule ([policy] refund, per account too, and
changed at run time), content refusals that stay charged, and the failure receipt of an
acknowledged refusal written in the accept's own transaction."""

from __future__ import annotations

from typing import Any

import pytest_twisted
import sqlalchemy as sa

from smsgw.domain import ids
from smsgw.domain.model import Message, MessageState, Report, Segment
from smsgw.policy.settings import AccountPolicy, PolicySettings
from smsgw.store import schema
from tests.policy.rig import make_policy_rig
from tests.policy.test_policy_smpp import _ledger_rows

S = MessageState
PRICE = 4000


def _outbox(conn: Any, message_id: int) -> list[tuple[str, str | None]]:
    o = schema.outbox
    return [(row.stat, row.err) for row in conn.execute(sa.select(o.c.stat, o.c.err).where(o.c.ref_id == message_id))]


@pytest_twisted.inlineCallbacks
def test_an_acknowledged_refusal_and_its_receipt_are_one_write(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path)
    try:
        at, account = rig.now_ms(), rig.account
        made = {}
        for reason, delivery in (("blacklist: 13800000001 is on the global blacklist", 1),
                                 ("content: keyword '代开发票' (reject)", 1), ("duplicate: suppressed", 2),
                                 ("blacklist: no receipt asked", 0), ("signature: not verified", 1)):
            message = Message(rig.intake.ids.next(), account.id, account.id, "", "13800000001", at, at + 3_600_000,
                              1, text="x", registered_delivery=delivery, carrier="cmcc", state=S.REJECTED,
                              reason=reason)
            # the store alone, as a crash right after the commit would leave it: no second step runs
            yield rig.store.accept(message, (Segment(1, b"x"),))
            made[reason.partition(":")[0] + str(delivery)] = message.id
        found = {}
        for key, message_id in made.items():
            found[key] = yield rig.store.read(_outbox, message_id)
        assert found == {"blacklist1": [("REJECTD", "601")], "content1": [("REJECTD", "602")],
                         "duplicate2": [("REJECTD", "603")], "blacklist0": [], "signature1": []}
    finally:
        yield rig.close()


@pytest_twisted.inlineCallbacks
def _deliver_and_fail(rig: Any, account: Any, dest: str, text: str, state: MessageState) -> Any:
    """Submit (the SMPP path, in process), hand the message to the carrier, and end it with ``state``."""
    status, fields = yield rig.intake.submit_text(account, dest, text)
    assert status == 0, status
    message_id = ids.from_text(fields["message_id"])
    [segment] = yield rig.store.claim_due(rig.now_ms() + 1, 10, "cmcc")
    assert segment.message_id == message_id
    if state is S.REJECTED:  # the carrier refused it for good in its submit response
        yield rig.store.submit_failed(message_id, 1, rig.now_ms(), "refused by the carrier", "13")
    else:
        yield rig.store.submitted(message_id, 1, "cmcc", f"c-{message_id}", rig.now_ms())
        stat = {S.UNDELIVERED: "UNDELIV", S.EXPIRED: "EXPIRED"}[state]
        yield rig.store.report(Report("cmcc", f"c-{message_id}", state, stat, rig.now_ms()))
    assert (yield rig.store.get_message(message_id)).state is state
    return message_id


@pytest_twisted.inlineCallbacks
def test_refund_rules_global_per_account_at_run_time_and_content_stays_charged(tmp_path: Any) -> None:
    settings = PolicySettings(refund=("rejected",), accounts={"generous": AccountPolicy(
        refund=("rejected", "undelivered", "expired"))})
    rig = yield make_policy_rig(tmp_path, settings=settings, price=PRICE)
    try:
        yield rig.policies.set_keyword("reject", "代开发票", "admin")
        yield rig.policies.set_keyword("review", "贷款", "admin")
        generous = yield rig.store.create_account("generous", "pw", rig.now_ms(), "test")
        yield rig.store.recharge(generous.id, 10**8, rig.now_ms(), "test")
        yield rig.store.set_price(generous.id, PRICE, rig.now_ms(), "test")
        yield rig.policies.add_signature(generous.id, "【慷慨】", "test", verified=True)
        yield rig.policies.refresh()
        assert rig.store.rules.refunds(generous.id) == {S.REJECTED, S.UNDELIVERED, S.EXPIRED}
        assert rig.store.rules.refunds(rig.account.id) == {S.REJECTED}

        plain = yield _deliver_and_fail(rig, rig.account, "13800000501", "您好", S.UNDELIVERED)
        kind = yield _deliver_and_fail(rig, generous, "13800000502", "您好", S.EXPIRED)
        assert (yield rig.store.read(_ledger_rows, plain)) == [("charge", -PRICE)]
        assert sorted((yield rig.store.read(_ledger_rows, kind))) == [("charge", -PRICE), ("refund", PRICE)]
        refused_by_carrier = yield _deliver_and_fail(rig, rig.account, "13800000507", "您好", S.REJECTED)
        assert sorted((yield rig.store.read(_ledger_rows, refused_by_carrier))) == [("charge", -PRICE),
                                                                                  ("refund", PRICE)]

        # refused for breaking the content rules: charged, whatever the refund rule says
        status, fields = yield rig.intake.submit_text(generous, "13800000503", "代开发票")
        refused = ids.from_text(fields["message_id"])
        assert status == 0 and (yield rig.store.get_message(refused)).state is S.REJECTED
        status, fields = yield rig.intake.submit_text(generous, "13800000504", "低息贷款")
        doubtful = ids.from_text(fields["message_id"])
        assert (yield rig.policies.review(doubtful, False, "admin", "loan ads")) is S.REJECTED
        for message_id in (refused, doubtful):
            assert (yield rig.store.read(_ledger_rows, message_id)) == [("charge", -PRICE)]

        # changed at run time: in force for the next failure, no restart
        yield rig.policies.set_account_policy(rig.account, "admin", {"refund": ["undelivered"]})
        assert rig.store.rules.refunds(rig.account.id) == {S.UNDELIVERED}
        again = yield _deliver_and_fail(rig, rig.account, "13800000505", "您好", S.UNDELIVERED)
        assert sorted((yield rig.store.read(_ledger_rows, again))) == [("charge", -PRICE), ("refund", PRICE)]
        carrier_refused = yield _deliver_and_fail(rig, rig.account, "13800000506", "您好", S.REJECTED)
        assert (yield rig.store.read(_ledger_rows, carrier_refused)) == [("charge", -PRICE)]
    finally:
        yield rig.close()
