"""Message state changes as the store makes them: the shared steps.

Operations (accepting, dispatching, reporting, expiry, recovery) move rows
between states with guarded set-based UPDATEs and record each message-level
transition in ``message_events``; segments of long messages get their own
events (``seq`` > 0).  For a single-part message the message's events are its
segment's, so none are written twice.

The transitions used here are a subset of ``smsgw.pipeline.states`` (a test
holds the two together); the store cannot import the pipeline (layers).

``finalize`` is the one place where a message ends: it derives the final
state from the parts, writes it, puts the receipt into the client's outbox
when the client asked for one, and refunds the charge when the rules say so
— all in the caller's transaction.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import sqlalchemy as sa

from smsgw.domain.model import (
    FINAL_STATES,
    RECEIPT_STAT,
    LedgerKind,
    MessageState,
    OutboxKind,
    combine_part_states,
    wants_receipt,
)
from smsgw.store import schema
from smsgw.store.ledger import change_balance
from smsgw.store.tx import Tx, chunks

m = schema.messages
s = schema.segments
S = MessageState

FINAL_VALUES = tuple(sorted(state.value for state in FINAL_STATES))

OUTBOX_KEYS = (
    "account_id", "kind", "ref_id", "source_addr", "dest_addr", "state", "stat", "err",
    "submit_at", "done_at", "parts", "data_coding", "esm_class", "content", "attempts",
    "next_attempt_at", "created_at",
)  # fmt: skip


def state_is(column: sa.ColumnElement[Any], *states: MessageState) -> sa.ColumnElement[bool]:
    """``state = 'x'`` / ``state IN (...)`` with literals, not bound parameters:
    SQLite only uses a partial index when the query repeats its WHERE term."""
    if len(states) == 1:
        return column == sa.literal_column(f"'{states[0].value}'")
    return column.in_([sa.literal_column(f"'{state.value}'") for state in states])


def path_to(current: MessageState, target: MessageState) -> list[MessageState]:
    """The states a message passes through to reach ``target``.

    A carrier's answer can overtake the store's record of the step before it:
    a report arrives before the submit response is recorded (SGIP reports come
    on another connection), or a late submit response after the link gave the
    segment up.  The message then passes the missing steps at the same time,
    so that its history only holds transitions of the state machine.
    """
    if target in (S.SUBMITTED, S.DELIVERED, S.UNDELIVERED):
        path = []
        if current is S.QUEUED:
            path.append(S.SENDING)
        if current in (S.QUEUED, S.SENDING) and target is not S.SUBMITTED:
            path.append(S.SUBMITTED)
        return path + [target]
    return [target]


def record_path(
    tx: Tx, message_id: int, current: MessageState, target: MessageState, at: int, reason: str | None
) -> None:
    for state in path_to(current, target):
        tx.event(message_id, at, current, state, reason)
        current = state


def segments_of(tx: Tx, message_ids: Sequence[int], lock: bool = False) -> dict[int, list[Any]]:
    """Every segment of the messages, by message id, in seq order."""
    parts: dict[int, list[Any]] = {}
    for chunk in chunks(list(message_ids)):
        query = (
            sa.select(s.c.message_id, s.c.seq, s.c.state, s.c.stat, s.c.err, s.c.done_at)
            .where(s.c.message_id.in_(chunk))
            .order_by(s.c.message_id, s.c.seq)
        )
        if lock:
            query = query.with_for_update()
        for row in tx.conn.execute(query):
            parts.setdefault(row.message_id, []).append(row)
    return parts


def finalize(
    tx: Tx,
    ends: Mapping[int, tuple[int, str | None]],
    *,
    refund: bool = True,
    refund_always: bool = False,
    receipt: bool = True,
    parts: Mapping[int, list[Any]] | None = None,
) -> dict[int, MessageState]:
    """End every message in ``ends`` (id → (time, reason)) whose parts are all
    final; returns the ones ended and their states.

    ``refund=False`` keeps the charge whatever the rules say (a message an
    administrator refused for its content is charged, DESIGN.md §5);
    ``refund_always`` gives it back whatever they say (a cancelled message).
    ``receipt=False`` sends no receipt even if the client asked for one.
    ``parts``: the messages' segments as they now stand, when the caller has just read and
    changed them (the report path), so they are not read again.
    """
    ids = sorted(ends)
    if not ids:
        return {}
    open_rows: list[Any] = []
    for chunk in chunks(ids):
        open_rows.extend(
            tx.conn.execute(
                sa.select(
                    m.c.id, m.c.state, m.c.account_id, m.c.enterprise_id, m.c.source_addr,
                    m.c.dest_addr, m.c.registered_delivery, m.c.charge, m.c.parts, m.c.created_at,
                    m.c.data_coding,
                )  # fmt: skip
                .where(m.c.id.in_(chunk), m.c.state.not_in(FINAL_VALUES))
                .with_for_update()
            )
        )
    if not open_rows:
        return {}
    if parts is None:
        parts = segments_of(tx, [row.id for row in open_rows])
    ended: dict[int, MessageState] = {}
    updates = []
    receipts = []
    for row in open_rows:
        segs = parts.get(row.id, [])
        final = combine_part_states(S(seg.state) for seg in segs)
        if final is None:
            continue
        current = S(row.state)
        if final is S.REJECTED and current is S.SUBMITTED:
            # refused after it went out (a REJECTD report): not delivered
            final = S.UNDELIVERED
        at, reason = ends[row.id]
        ended[row.id] = final
        updates.append({"mid": row.id, "cur": row.state, "st": final.value, "at": at, "rs": reason})
        record_path(tx, row.id, current, final, at, reason)
        if receipt and wants_receipt(row.registered_delivery, final):
            receipts.append(_receipt(row, final, segs, at))
        if row.charge > 0 and (refund_always or (refund and final in tx.rules.refunds(row.account_id))):
            _refund(tx, row, at)
    if updates:
        tx.conn.execute(
            sa.update(m)
            .where(m.c.id == sa.bindparam("mid"), m.c.state == sa.bindparam("cur"))
            .values(state=sa.bindparam("st"), final_at=sa.bindparam("at"), reason=sa.bindparam("rs")),
            updates,
        )
    tx.insert_many(schema.outbox, OUTBOX_KEYS, receipts)
    return ended


def _receipt(row: Any, final: MessageState, segs: list[Any], at: int) -> tuple[Any, ...]:
    # A single part passes the carrier's own stat and err on; a long message
    # reports its combined state, with the first failed part's error.
    if len(segs) == 1 and segs[0].stat:
        stat, err = segs[0].stat, segs[0].err
    else:
        stat = RECEIPT_STAT[final]
        failed = [seg for seg in segs if seg.state != S.DELIVERED.value and seg.err]
        err = failed[0].err if failed else None
    done_times = [seg.done_at for seg in segs if seg.done_at is not None]
    done_at = max(done_times) if done_times else at
    return (
        row.account_id, OutboxKind.REPORT.value, row.id,
        row.dest_addr, row.source_addr,  # the receipt comes from the phone
        final.value, stat, err, row.created_at, done_at, row.parts, 0, 0, None, 0, at, at,
    )  # fmt: skip


def _refund(tx: Tx, row: Any, at: int) -> None:
    change_balance(
        tx, row.enterprise_id, row.charge, LedgerKind.REFUND, at,
        account_id=row.account_id, message_id=row.id,
    )  # fmt: skip
    if row.account_id != row.enterprise_id:
        a = schema.accounts
        tx.conn.execute(
            sa.update(a)
            .where(a.c.id == row.account_id, a.c.quota_left.is_not(None))
            .values(quota_left=a.c.quota_left + row.charge)
        )
