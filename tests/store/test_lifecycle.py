"""Every transition of the state machine, as the store makes it, on both backends.

The ``store`` fixture checks after each test that every recorded history is a
chain of allowed transitions ending in the stored state (tests/store/harness.py).
"""

from __future__ import annotations

import sqlalchemy as sa
import pytest

from smsgw.domain.model import YUAN, HoldReason, LedgerKind, MessageState, Report
from smsgw.store import schema
from smsgw.store.cancel import Cancel
from smsgw.store.dispatching import ClaimDue, Hold, ReleaseHeld, Requeue, SubmitFailed, Submitted
from smsgw.store.errors import InvalidOperation, NotFound
from smsgw.store.queries import get_segments, history
from smsgw.store.reporting import RecordReport, ReportOutcome
from smsgw.store.review import ReviewDecision, pending_reviews
from smsgw.store.tx import Rules
from tests.store.harness import PRICE, Harness

S = MessageState
HOUR = 3_600_000


def transitions(store: Harness, message_id: int, seq: int = 0) -> list[tuple[MessageState | None, MessageState]]:
    with store.conn() as conn:
        return [(e.from_state, e.to_state) for e in history(conn, message_id) if e.seq == seq]


def send(store: Harness, message_id: int, parts: int = 1) -> list[str]:
    """Claim and submit every part; returns the carrier ids."""
    store.run(ClaimDue(store.clock.now, 1000))
    assert store.part_states(message_id) == [S.SENDING] * parts
    ids = []
    for seq in range(1, parts + 1):
        cid = f"c{message_id}-{seq}"
        assert store.run(Submitted(message_id, seq, "cmcc", cid, store.clock.now, "link1")) is True
        ids.append(cid)
    return ids


def report(store: Harness, cid: str, state: MessageState, stat: str, err: str | None = None) -> ReportOutcome:
    now = store.clock.now
    return store.run(RecordReport(Report("cmcc", cid, state, stat, now, err, done_at=now)))  # type: ignore[no-any-return]


def test_queued_to_delivered(store: Harness) -> None:
    ent = store.enterprise()
    msg = store.accept(ent)
    store.clock.advance(1000)
    [cid] = send(store, msg.id)
    assert store.state(msg.id) is S.SUBMITTED
    store.clock.advance(5000)
    outcome = report(store, cid, S.DELIVERED, "DELIVRD", "000")
    assert outcome == ReportOutcome(True, msg.id, 1, S.DELIVERED)
    assert store.state(msg.id) is S.DELIVERED
    assert transitions(store, msg.id) == [
        (None, S.ACCEPTED), (S.ACCEPTED, S.QUEUED), (S.QUEUED, S.SENDING), (S.SENDING, S.SUBMITTED),
        (S.SUBMITTED, S.DELIVERED),
    ]  # fmt: skip
    with store.conn() as conn:
        times = [e.at for e in history(conn, msg.id)]
        [part] = get_segments(conn, msg.id)
    assert times == sorted(times) and times[-1] == store.clock.now
    assert (part.carrier_msg_id, part.link, part.stat, part.err, part.attempts) == (cid, "link1", "DELIVRD", "000", 1)
    [receipt] = store.outbox(ent.id)
    assert (receipt.kind, receipt.ref_id, receipt.state, receipt.stat, receipt.err) == ("report", msg.id, "delivered", "DELIVRD", "000")
    assert (receipt.source_addr, receipt.dest_addr) == (msg.dest_addr, msg.source_addr)
    assert store.balance(ent.id) == 100 * YUAN - PRICE  # delivered: charged


@pytest.mark.parametrize(
    ("state", "stat"), [(S.UNDELIVERED, "UNDELIV"), (S.EXPIRED, "EXPIRED"), (S.DELIVERED, "DELIVRD")]
)
def test_reports_end_messages(store: Harness, state: MessageState, stat: str) -> None:
    ent = store.enterprise()
    msg = store.accept(ent)
    [cid] = send(store, msg.id)
    report(store, cid, state, stat, "E1")
    assert store.state(msg.id) is state
    assert transitions(store, msg.id)[-1] == (S.SUBMITTED, state)
    assert store.outbox(ent.id)[0].stat == stat


def test_receipt_only_when_asked(store: Harness) -> None:
    ent = store.enterprise()
    never = store.accept(ent, registered_delivery=0)
    failures_ok = store.accept(ent, registered_delivery=2)
    failures_bad = store.accept(ent, registered_delivery=2)
    for msg, state in ((never, S.UNDELIVERED), (failures_ok, S.DELIVERED), (failures_bad, S.UNDELIVERED)):
        [cid] = send(store, msg.id)
        report(store, cid, state, "X")
    assert [row.ref_id for row in store.outbox(ent.id)] == [failures_bad.id]


def test_long_message_ends_with_its_last_part(store: Harness) -> None:
    ent = store.enterprise()
    good = store.accept(ent, parts=3)
    mixed = store.accept(ent, parts=2)
    good_ids = send(store, good.id, 3)
    mixed_ids = send(store, mixed.id, 2)
    assert report(store, good_ids[0], S.DELIVERED, "DELIVRD").message_state is None
    assert report(store, good_ids[2], S.DELIVERED, "DELIVRD").message_state is None
    assert store.state(good.id) is S.SUBMITTED
    assert report(store, good_ids[1], S.DELIVERED, "DELIVRD").message_state is S.DELIVERED
    report(store, mixed_ids[0], S.DELIVERED, "DELIVRD")
    assert report(store, mixed_ids[1], S.UNDELIVERED, "UNDELIV", "006").message_state is S.UNDELIVERED
    assert store.part_states(mixed.id) == [S.DELIVERED, S.UNDELIVERED]
    assert transitions(store, mixed.id, seq=2) == [(S.QUEUED, S.SENDING), (S.SENDING, S.SUBMITTED), (S.SUBMITTED, S.UNDELIVERED)]
    receipts = {row.ref_id: row for row in store.outbox(ent.id)}
    assert len(receipts) == 2  # one receipt per message, not per part
    assert (receipts[good.id].stat, receipts[good.id].parts) == ("DELIVRD", 3)
    assert (receipts[mixed.id].stat, receipts[mixed.id].err) == ("UNDELIV", "006")


def test_report_before_the_submit_response_is_applied_later(store: Harness) -> None:
    ent = store.enterprise()
    msg = store.accept(ent)
    store.run(ClaimDue(store.clock.now, 10))
    early = report(store, "early-1", S.DELIVERED, "DELIVRD")
    assert early == ReportOutcome(False)
    assert store.state(msg.id) is S.SENDING
    store.run(Submitted(msg.id, 1, "cmcc", "early-1", store.clock.now))
    assert store.state(msg.id) is S.DELIVERED
    r = schema.receipts
    assert store.rows(sa.select(r.c.message_id, r.c.seq)) == [(msg.id, 1)]


def test_late_submit_response_after_requeue(store: Harness) -> None:
    ent = store.enterprise()
    msg = store.accept(ent)
    store.run(ClaimDue(store.clock.now, 10))
    assert store.run(Requeue(((msg.id, 1),), store.clock.now, "response timeout")) == 1
    assert store.state(msg.id) is S.QUEUED
    assert store.run(Submitted(msg.id, 1, "cmcc", "late", store.clock.now)) is True
    assert store.state(msg.id) is S.SUBMITTED
    assert transitions(store, msg.id)[-3:] == [(S.SENDING, S.QUEUED), (S.QUEUED, S.SENDING), (S.SENDING, S.SUBMITTED)]


def test_report_for_a_part_still_sending(store: Harness) -> None:
    ent = store.enterprise()
    msg = store.accept(ent, parts=2)
    store.run(ClaimDue(store.clock.now, 10))
    store.run(Submitted(msg.id, 1, "cmcc", "p1", store.clock.now))
    store.run(Submitted(msg.id, 2, "cmcc", "p2", store.clock.now))
    report(store, "p1", S.DELIVERED, "DELIVRD")
    report(store, "p2", S.DELIVERED, "DELIVRD")
    # a duplicate report (the carrier resent it) changes nothing
    assert report(store, "p2", S.UNDELIVERED, "UNDELIV") == ReportOutcome(True, msg.id, 2)
    assert store.state(msg.id) is S.DELIVERED


def test_window_hold_released_by_time_in_pages(store: Harness) -> None:
    ent = store.enterprise()
    opening = store.clock.now + 10 * HOUR
    held = [store.accept(ent, state=S.HELD, hold_reason=HoldReason.WINDOW, due_at=opening) for _ in range(5)]
    later = store.accept(ent, state=S.HELD, hold_reason=HoldReason.WINDOW, due_at=opening + HOUR)
    review = store.accept(ent, state=S.HELD, hold_reason=HoldReason.REVIEW)
    assert store.run(ReleaseHeld(opening - 1, 10)) == 0
    assert store.run(ClaimDue(opening, 10)) == []  # held messages are not due
    store.clock.now = opening
    assert store.run(ReleaseHeld(opening, 2)) == 2
    assert store.run(ReleaseHeld(opening, 2)) == 2
    assert store.run(ReleaseHeld(opening, 2)) == 1
    assert store.run(ReleaseHeld(opening, 2)) == 0
    assert [store.state(m.id) for m in held] == [S.QUEUED] * 5
    assert (store.state(later.id), store.state(review.id)) == (S.HELD, S.HELD)
    assert transitions(store, held[0].id)[-1] == (S.HELD, S.QUEUED)
    claimed = store.run(ClaimDue(opening, 10))
    assert [c.message_id for c in claimed] == [m.id for m in held]


def test_review_approve_and_refuse(store: Harness) -> None:
    ent = store.enterprise(balance=YUAN)
    ok = store.accept(ent, state=S.HELD, hold_reason=HoldReason.REVIEW, reason="keyword")
    bad = store.accept(ent, state=S.HELD, hold_reason=HoldReason.REVIEW, reason="keyword")
    refund = store.accept(ent, state=S.HELD, hold_reason=HoldReason.REVIEW, reason="keyword")
    with store.conn() as conn:
        assert [p.message_id for p in pending_reviews(conn)] == [ok.id, bad.id, refund.id]
    assert store.run(ReviewDecision(ok.id, True, store.clock.now, "admin")) is S.QUEUED
    assert store.run(ReviewDecision(bad.id, False, store.clock.now, "admin", "fraud")) is S.REJECTED
    assert store.run(ReviewDecision(refund.id, False, store.clock.now, "admin", refund=True)) is S.REJECTED
    with pytest.raises(InvalidOperation):
        store.run(ReviewDecision(ok.id, True, store.clock.now, "admin"))
    assert transitions(store, ok.id)[-1] == (S.HELD, S.QUEUED)
    assert transitions(store, bad.id)[-1] == (S.HELD, S.REJECTED)
    # refused for content: charged; refused with refund: money back
    assert store.balance(ent.id) == YUAN - 2 * PRICE
    assert store.ledger(ent.id)[-1].kind == LedgerKind.REFUND.value
    with store.conn() as conn:
        assert pending_reviews(conn) == []
    assert [row.ref_id for row in store.outbox(ent.id)] == [bad.id, refund.id]  # REJECTD receipts


def test_queued_back_to_held(store: Harness) -> None:
    ent = store.enterprise()
    msg = store.accept(ent, parts=2)
    opening = store.clock.now + HOUR
    store.run(Hold(msg.id, HoldReason.WINDOW, store.clock.now, until=opening, note="window closed"))
    assert store.state(msg.id) is S.HELD and store.part_states(msg.id) == [S.HELD, S.HELD]
    assert store.run(ClaimDue(store.clock.now + 2 * HOUR, 10)) == []
    assert store.run(ReleaseHeld(opening, 10)) == 1
    store.clock.now = opening
    send(store, msg.id, 2)
    with pytest.raises(InvalidOperation):
        store.run(Hold(msg.id, HoldReason.REVIEW, store.clock.now))


def test_claims_are_pages_in_due_order(store: Harness) -> None:
    ent = store.enterprise()
    late = store.accept(ent, due_at=store.clock.now + 500)
    first = store.accept(ent, parts=2)
    second = store.accept(ent)
    page1 = store.run(ClaimDue(store.clock.now, 2))
    assert [(c.message_id, c.seq) for c in page1] == [(first.id, 1), (first.id, 2)]
    assert page1[0].payload.startswith(b"\x05\x00\x03") and page1[0].parts == 2 and page1[0].attempts == 1
    page2 = store.run(ClaimDue(store.clock.now, 2))
    assert [(c.message_id, c.seq) for c in page2] == [(second.id, 1)]
    assert store.run(ClaimDue(store.clock.now, 2)) == []
    assert [c.message_id for c in store.run(ClaimDue(store.clock.now + 500, 2))] == [late.id]


def test_claim_by_carrier(store: Harness) -> None:
    ent = store.enterprise()
    mobile = store.accept(ent, carrier="cmcc")
    unicom = store.accept(ent, carrier="cucc")
    assert [c.message_id for c in store.run(ClaimDue(store.clock.now, 10, "cucc"))] == [unicom.id]
    assert store.state(mobile.id) is S.QUEUED


def test_temporary_refusal_requeues_with_delay(store: Harness) -> None:
    ent = store.enterprise()
    msg = store.accept(ent, parts=2)
    store.run(ClaimDue(store.clock.now, 10))
    store.run(Submitted(msg.id, 1, "cmcc", "a", store.clock.now))
    retry_at = store.clock.now + 30_000
    assert store.run(SubmitFailed(msg.id, 2, store.clock.now, "flow control", "8", retry_at)) is S.QUEUED
    assert store.part_states(msg.id) == [S.SUBMITTED, S.QUEUED]
    assert store.state(msg.id) is S.SENDING  # part 1 went out
    assert store.run(ClaimDue(retry_at - 1, 10)) == []
    [again] = store.run(ClaimDue(retry_at, 10))
    assert (again.message_id, again.seq, again.attempts) == (msg.id, 2, 2)
    store.run(Submitted(msg.id, 2, "cmcc", "b", retry_at))
    assert store.state(msg.id) is S.SUBMITTED


def test_carrier_refusal_rejects_and_refunds(store: Harness) -> None:
    ent = store.enterprise(balance=YUAN)
    msg = store.accept(ent, parts=2)
    store.run(ClaimDue(store.clock.now, 10))
    assert store.run(SubmitFailed(msg.id, 1, store.clock.now, "carrier refused", "13")) is S.REJECTED
    assert store.state(msg.id) is S.SENDING
    store.run(SubmitFailed(msg.id, 2, store.clock.now, "carrier refused", "13"))
    assert store.state(msg.id) is S.REJECTED
    assert transitions(store, msg.id)[-1] == (S.SENDING, S.REJECTED)
    assert store.balance(ent.id) == YUAN  # Rules(): carrier refusals are refunded
    refund = store.ledger(ent.id)[-1]
    assert (refund.kind, refund.amount, refund.message_id) == ("refund", 2 * PRICE, msg.id)
    [receipt] = store.outbox(ent.id)
    assert (receipt.stat, receipt.err) == ("REJECTD", "13")


def test_part_refused_after_another_went_out(store: Harness) -> None:
    ent = store.enterprise(balance=YUAN)
    msg = store.accept(ent, parts=2)
    store.run(ClaimDue(store.clock.now, 10))
    store.run(Submitted(msg.id, 1, "cmcc", "x1", store.clock.now))
    store.run(SubmitFailed(msg.id, 2, store.clock.now, "carrier refused", "13"))
    assert store.state(msg.id) is S.SUBMITTED
    report(store, "x1", S.DELIVERED, "DELIVRD")
    assert store.state(msg.id) is S.UNDELIVERED
    assert store.balance(ent.id) == YUAN - 2 * PRICE  # only REJECTED is refunded by default


def test_refund_rule_is_configurable(backend: str, db_url: str) -> None:
    store = Harness(backend, db_url, rules=Rules(refund_states=frozenset({S.REJECTED, S.UNDELIVERED}))).start()
    try:
        ent = store.enterprise(balance=YUAN)
        msg = store.accept(ent)
        [cid] = send(store, msg.id)
        report(store, cid, S.UNDELIVERED, "UNDELIV")
        assert store.balance(ent.id) == YUAN
        store.check_invariants()
    finally:
        store.close()


def test_submitted_for_unknown_segment(store: Harness) -> None:
    with pytest.raises(NotFound):
        store.run(Submitted(12345, 1, "cmcc", "zz", store.clock.now))


def test_cancel_before_it_goes_out(store: Harness) -> None:
    ent = store.enterprise(balance=YUAN)
    started = store.accept(ent, parts=2)
    review = store.accept(ent, state=S.HELD, hold_reason=HoldReason.REVIEW)
    window = store.accept(ent, state=S.HELD, hold_reason=HoldReason.WINDOW, due_at=store.clock.now + HOUR, parts=2)
    queued = store.accept(ent)
    store.run(ClaimDue(store.clock.now, 1))  # the first part of `started`
    assert store.part_states(started.id) == [S.SENDING, S.QUEUED]
    assert store.run(Cancel(started.id, store.clock.now, "client")) is False  # a part is at the link
    for msg in (review, window, queued):
        assert store.run(Cancel(msg.id, store.clock.now, "client")) is True
        assert store.state(msg.id) is S.REJECTED
    assert store.run(Cancel(review.id, store.clock.now, "client")) is False  # already ended
    assert transitions(store, review.id)[-1] == (S.HELD, S.REJECTED)
    assert transitions(store, window.id, seq=2) == [(S.HELD, S.REJECTED)]
    assert store.outbox(ent.id) == []  # the client asked: no receipt
    assert store.balance(ent.id) == YUAN - 2 * PRICE  # cancelled ones are refunded
