"""Accepting messages: rows, charges, balances, quotas, and batch isolation."""

from __future__ import annotations

import attrs
import pytest
import sqlalchemy as sa

from smsgw.domain.model import YUAN, HoldReason, LedgerKind, MessageState
from smsgw.store import schema
from smsgw.store.accepting import Accept, AcceptResult
from smsgw.store.accounts import Recharge
from smsgw.store.errors import DuplicateMessage, InsufficientBalance, InvalidOperation, QuotaExceeded
from smsgw.store.queries import get_message, get_segments, history
from smsgw.store.writer import Writer, call_now
from tests.store.harness import PRICE, Harness

S = MessageState


def test_accept_writes_message_segments_and_charge(store: Harness) -> None:
    ent = store.enterprise(balance=10 * YUAN)
    op = store.message(ent, parts=3)
    result = store.run(op)
    assert result == AcceptResult(op.message.id, 10 * YUAN - 3 * PRICE)
    with store.conn() as conn:
        msg = get_message(conn, op.message.id)
        parts = get_segments(conn, op.message.id)
    assert msg == attrs.evolve(op.message, due_at=op.message.created_at)  # queued: due now
    assert [p.segment for p in parts] == list(op.segments)
    assert all(p.due_at == op.message.created_at for p in parts)
    charge = store.ledger(ent.id)[-1]
    assert (charge.kind, charge.amount, charge.message_id, charge.account_id) == (
        LedgerKind.CHARGE.value, -3 * PRICE, op.message.id, ent.id,
    )  # fmt: skip
    assert store.balance(ent.id) == 10 * YUAN - 3 * PRICE


def test_accepted_states_and_history(store: Harness) -> None:
    ent = store.enterprise()
    queued = store.accept(ent)
    window = store.accept(ent, state=S.HELD, hold_reason=HoldReason.WINDOW, due_at=store.clock.now + 3_600_000)
    review = store.accept(ent, state=S.HELD, hold_reason=HoldReason.REVIEW, reason="keyword 贷款")
    refused = store.accept(ent, state=S.REJECTED, reason="blacklisted number", price=0)
    assert [store.state(m.id) for m in (queued, window, review, refused)] == [S.QUEUED, S.HELD, S.HELD, S.REJECTED]
    assert store.part_states(window.id) == [S.HELD]
    assert store.part_states(refused.id) == [S.REJECTED]
    with store.conn() as conn:
        assert [(e.from_state, e.to_state, e.reason) for e in history(conn, review.id)] == [
            (None, S.ACCEPTED, None), (S.ACCEPTED, S.HELD, "keyword 贷款"),
        ]  # fmt: skip
        assert [(e.from_state, e.to_state) for e in history(conn, queued.id)] == [(None, S.ACCEPTED), (S.ACCEPTED, S.QUEUED)]
    rq = schema.review_queue
    assert store.rows(sa.select(rq.c.message_id, rq.c.reason)) == [(review.id, "keyword 贷款")]
    # the rejected message was not charged: no ledger row for it
    assert {row.message_id for row in store.ledger(ent.id)} == {None, queued.id, window.id, review.id}


def test_policy_rejection_can_be_charged(store: Harness) -> None:
    """The contract charges for messages refused for their content (DESIGN.md §5)."""
    ent = store.enterprise(balance=YUAN)
    refused = store.accept(ent, state=S.REJECTED, reason="content rules")
    assert store.balance(ent.id) == YUAN - PRICE
    assert store.ledger(ent.id)[-1].message_id == refused.id


def test_sub_account_spends_from_its_enterprise_within_its_quota(store: Harness) -> None:
    ent = store.enterprise(balance=YUAN)
    sub = store.sub_account(ent, quota_left=3 * PRICE)
    free = store.sub_account(ent)
    store.accept(sub, parts=2)
    store.accept(free, parts=2)
    assert store.balance(ent.id) == YUAN - 4 * PRICE
    assert store.balance(sub.id) == 0
    a = schema.accounts
    assert store.scalar(sa.select(a.c.quota_left).where(a.c.id == sub.id)) == PRICE
    with pytest.raises(QuotaExceeded):
        store.accept(sub, parts=2)
    store.accept(sub, parts=1)
    assert store.scalar(sa.select(a.c.quota_left).where(a.c.id == sub.id)) == 0
    assert store.balance(ent.id) == YUAN - 5 * PRICE


def test_insufficient_balance_is_refused_and_writes_nothing(store: Harness) -> None:
    ent = store.enterprise(balance=PRICE)
    with pytest.raises(InsufficientBalance):
        store.accept(ent, parts=2)
    assert store.scalar(sa.select(sa.func.count()).select_from(schema.messages)) == 0
    assert store.balance(ent.id) == PRICE


def test_credit_limit_allows_overdraft(store: Harness) -> None:
    ent = store.enterprise(balance=0, credit_limit=2 * PRICE)
    store.accept(ent, parts=2)
    assert store.balance(ent.id) == -2 * PRICE
    with pytest.raises(InsufficientBalance):
        store.accept(ent)


def _one_batch(store: Harness, ops: list) -> list:  # type: ignore[type-arg]
    """Submit before the writer starts, so that all of them form one batch."""
    writer = Writer(store.engine, notify=call_now)
    outcomes: list = [None] * len(ops)  # type: ignore[type-arg]
    for index, op in enumerate(ops):
        writer.submit(op, lambda result, error, index=index: outcomes.__setitem__(index, (result, error)))
    writer.start()
    writer.stop(timeout=30)
    assert writer.stats.batches == 1
    return outcomes


def test_a_failing_accept_does_not_poison_its_batch(store: Harness) -> None:
    rich = store.enterprise(balance=YUAN)
    poor = store.enterprise(balance=PRICE)
    ops = [store.message(rich) for _ in range(5)]
    ops.insert(2, store.message(poor, parts=2))  # cannot pay
    ops.insert(4, ops[0])  # the same message again
    broken = store.message(rich)
    ops.append(Accept(broken.message, broken.segments[:0]))  # no segments
    outcomes = _one_batch(store, ops)
    errors = [None if error is None else type(error) for _, error in outcomes]
    assert errors == [None, None, InsufficientBalance, None, DuplicateMessage, None, None, InvalidOperation]
    stored = {row.id for row in store.rows(sa.select(schema.messages.c.id))}
    assert stored == {op.message.id for op in ops[:2] + ops[3:4] + ops[5:7]}
    assert store.balance(rich.id) == YUAN - 5 * PRICE
    assert store.balance(poor.id) == PRICE


def test_balance_in_results_is_after_the_batch(store: Harness) -> None:
    ent = store.enterprise(balance=YUAN)
    outcomes = _one_batch(store, [store.message(ent) for _ in range(10)])
    assert {result.balance for result, _ in outcomes} == {YUAN - 10 * PRICE}


def test_recharge_between_accepts_in_one_batch(store: Harness) -> None:
    """Operations keep their order inside a batch: the recharge pays for what follows."""
    ent = store.enterprise(balance=0)
    first = store.message(ent)
    ops = [first, Recharge(ent.id, YUAN, store.clock.now, "test"), store.message(ent)]
    outcomes = _one_batch(store, ops)
    assert isinstance(outcomes[0][1], InsufficientBalance)
    assert outcomes[1] == (YUAN, None)
    assert outcomes[2][1] is None
    assert store.balance(ent.id) == YUAN - PRICE
