"""Accepting a message: the write that must be durable before the client's ack.

One ``Accept`` writes the message, its segments, the CHARGE ledger row and
the balance change (and a review-queue row for a message held for review, or
the failure receipt of one refused after acknowledgement, ``Rules.refusal_receipts``).
A run of accepts in one writer batch becomes one executemany per table and
one balance UPDATE per enterprise (DESIGN.md §6 budget: three row writes per
message plus an index entry or two).

The acceptance itself is not a ``message_events`` row: the message row holds
it (``created_at``, ``first_state``, ``reason``) and the history reader puts
it first.  That is one row write per message saved on the hot path.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar, Sequence

import attrs
import sqlalchemy as sa

from smsgw.domain.model import HoldReason, LedgerKind, Message, MessageState, OutboxKind, Segment, wants_receipt
from smsgw.store import schema
from smsgw.store.errors import DuplicateMessage, InsufficientBalance, InvalidOperation, NotFound, QuotaExceeded
from smsgw.store.ledger import LEDGER_KEYS
from smsgw.store.lifecycle import OUTBOX_KEYS
from smsgw.store.tx import Tx, chunks

a = schema.accounts
S = MessageState

MESSAGE_KEYS = (
    "id", "account_id", "enterprise_id", "source_addr", "dest_addr", "text", "data_coding",
    "registered_delivery", "priority", "carrier", "parts", "charge", "state", "first_state",
    "hold_reason", "reason", "created_at", "due_at", "expires_at", "final_at",
)  # fmt: skip
SEGMENT_KEYS = ("message_id", "seq", "state", "due_at", "esm_class", "payload")
REVIEW_KEYS = ("message_id", "enterprise_id", "reason", "created_at")

ACCEPTED_AS = frozenset({S.QUEUED, S.HELD, S.REJECTED})
_VALUE = {state: state.value for state in S}


@attrs.frozen
class AcceptResult:
    message_id: int
    # The enterprise's balance after the charges of the whole batch this
    # message was committed in; None when the message was not charged.
    balance: int | None


@attrs.frozen
class Accept:
    """Store an accepted (queued or held) or policy-rejected message."""

    message: Message
    segments: tuple[Segment, ...]
    coalesce: ClassVar[bool] = True

    def run(self, tx: Tx) -> AcceptResult:
        try:
            (result,) = _accept(tx, [self])
        except sa.exc.IntegrityError as error:
            raise DuplicateMessage(f"message {self.message.id} is already stored") from error
        if isinstance(result, Exception):
            raise result
        return result  # type: ignore[no-any-return]

    @classmethod
    def run_many(cls, tx: Tx, ops: Sequence[Accept]) -> list[Any]:
        return _accept(tx, ops)


def _invalid(op: Accept) -> InvalidOperation | None:
    msg = op.message
    if msg.state not in ACCEPTED_AS:
        return InvalidOperation(f"message {msg.id}: cannot be accepted as {msg.state.value}")
    if msg.state is S.HELD:
        if msg.hold_reason is None:
            return InvalidOperation(f"message {msg.id}: held without a reason")
        if msg.hold_reason is HoldReason.WINDOW and msg.due_at is None:
            return InvalidOperation(f"message {msg.id}: held for the window without a release time")
    if msg.parts != len(op.segments) or [seg.seq for seg in op.segments] != list(range(1, msg.parts + 1)):
        return InvalidOperation(f"message {msg.id}: segments do not match parts={msg.parts}")
    if msg.charge < 0:
        return InvalidOperation(f"message {msg.id}: negative charge")
    return None


def _accept(tx: Tx, ops: Sequence[Accept]) -> list[Any]:
    results: list[Any] = [None] * len(ops)
    good = []
    for index, op in enumerate(ops):
        problem = _invalid(op)
        if problem is None:
            good.append(op)
        else:
            results[index] = problem
    if not good:
        return results
    at = max(op.message.created_at for op in good)
    balances = _charge(tx, [op.message for op in good], at)

    messages, segments, ledger, reviews, receipts = [], [], [], [], []
    queued, held, window, review = S.QUEUED, S.HELD, HoldReason.WINDOW, HoldReason.REVIEW
    rules = tx.rules
    charge_kind = LedgerKind.CHARGE.value
    for op in good:
        msg = op.message
        state = msg.state
        hold = None
        due_at: int | None
        seg_due: int | None
        if state is queued:
            due_at = msg.due_at if msg.due_at is not None else msg.created_at
            seg_due = due_at
        elif state is held:
            hold = msg.hold_reason.value  # type: ignore[union-attr]
            due_at = msg.due_at if msg.hold_reason is window else None
            seg_due = None
        else:
            due_at = seg_due = None
            err = rules.refusal_err(msg.reason)
            if err is not None and wants_receipt(msg.registered_delivery, S.REJECTED):
                receipts.append(_refusal_receipt(msg, err))
        value = _VALUE[state]
        mid = msg.id
        messages.append(
            (
                mid, msg.account_id, msg.enterprise_id, msg.source_addr, msg.dest_addr, msg.text,
                msg.data_coding, msg.registered_delivery, msg.priority, msg.carrier, msg.parts,
                msg.charge, value, value, hold, msg.reason, msg.created_at, due_at, msg.expires_at,
                msg.created_at if state is S.REJECTED else None,
            )  # fmt: skip
        )
        for seg in op.segments:
            segments.append((mid, seg.seq, value, seg_due, seg.esm_class, seg.payload))
        if msg.charge:
            ledger.append(
                (msg.enterprise_id, msg.account_id, -msg.charge, charge_kind, mid, msg.created_at, None, None)
            )
        if hold is not None and msg.hold_reason is review:
            reviews.append((mid, msg.enterprise_id, msg.reason, msg.created_at))
    tx.insert_many(schema.messages, MESSAGE_KEYS, messages)
    tx.insert_many(schema.segments, SEGMENT_KEYS, segments)
    tx.insert_many(schema.ledger, LEDGER_KEYS, ledger)
    tx.insert_many(schema.review_queue, REVIEW_KEYS, reviews)
    tx.insert_many(schema.outbox, OUTBOX_KEYS, receipts)

    for index, op in enumerate(ops):
        if results[index] is None:
            msg = op.message
            results[index] = AcceptResult(msg.id, balances.get(msg.enterprise_id) if msg.charge else None)
    return results


def _refusal_receipt(msg: Message, err: str) -> tuple[Any, ...]:
    """The REJECTD receipt of a message refused after the client got its id (``Rules.refusal_receipts``)."""
    at = msg.created_at
    return (
        msg.account_id, OutboxKind.REPORT.value, msg.id, msg.dest_addr, msg.source_addr,  # from the phone
        S.REJECTED.value, "REJECTD", err, at, at, msg.parts, 0, 0, None, 0, at, at,
    )  # fmt: skip


# Built once: the batch runs it per enterprise, and building costs more than running.
_DEBIT = (
    sa.update(a)
    .where(
        a.c.id == sa.bindparam("eid"),
        a.c.parent_id.is_(None),
        a.c.balance - sa.bindparam("amount") >= -a.c.credit_limit,
    )
    .values(balance=a.c.balance - sa.bindparam("amount"), updated_at=sa.bindparam("at"))
    .returning(a.c.balance)
)


def _charge(tx: Tx, messages: list[Message], at: int) -> dict[int, int]:
    """Debit the batch's charges: one UPDATE per enterprise and per sub-account
    with a quota.  Raises when one of them cannot pay, which makes the writer
    run the batch's accepts one by one so that only that message fails."""
    per_enterprise: dict[int, int] = defaultdict(int)
    per_sub_account: dict[int, int] = defaultdict(int)
    owner: dict[int, int] = {}
    for msg in messages:
        if msg.charge:
            per_enterprise[msg.enterprise_id] += msg.charge
            if msg.account_id != msg.enterprise_id:
                per_sub_account[msg.account_id] += msg.charge
                owner[msg.account_id] = msg.enterprise_id
    if per_sub_account:
        _debit_quotas(tx, per_sub_account, owner, at)
    balances = {}
    for enterprise_id, total in per_enterprise.items():
        updated = tx.conn.execute(_DEBIT, {"eid": enterprise_id, "amount": total, "at": at}).first()
        if updated is None:
            exists = tx.conn.execute(sa.select(a.c.id).where(a.c.id == enterprise_id, a.c.parent_id.is_(None))).first()
            if exists is None:
                raise NotFound(f"no enterprise account {enterprise_id}")
            raise InsufficientBalance(enterprise_id, total)
        balances[enterprise_id] = int(updated[0])
    return balances


def _debit_quotas(tx: Tx, needed: dict[int, int], owner: dict[int, int], at: int) -> None:
    rows: dict[int, Any] = {}
    for chunk in chunks(sorted(needed)):
        query = sa.select(a.c.id, a.c.parent_id, a.c.quota_left).where(a.c.id.in_(chunk)).with_for_update()
        for found in tx.conn.execute(query):
            rows[found.id] = found
    updates = []
    for account_id, total in needed.items():
        row = rows.get(account_id)
        if row is None or row.parent_id != owner[account_id]:
            raise NotFound(f"no sub-account {account_id} of enterprise {owner[account_id]}")
        if row.quota_left is not None:
            if row.quota_left < total:
                raise QuotaExceeded(account_id, total)
            updates.append({"aid": account_id, "amount": total, "at": at})
    if updates:
        tx.conn.execute(
            sa.update(a)
            .where(a.c.id == sa.bindparam("aid"))
            .values(quota_left=a.c.quota_left - sa.bindparam("amount"), updated_at=sa.bindparam("at")),
            updates,
        )
