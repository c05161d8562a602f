"""From held to submitted: what the dispatcher and carrier links write.

The dispatcher never loads what is waiting: ``ReleaseHeld`` and ``ClaimDue``
each take one bounded page, in (due time, id) order, through a partial index
(``ix_messages_held``, ``ix_segments_queued``).  Claiming marks the page
``sending`` in the same transaction, so two dispatchers (or two nodes on
PostgreSQL, with SKIP LOCKED) never get the same segment.

``sending`` is not a promise: recovery and ``Requeue`` put it back to
``queued``, which makes delivery to the carrier at-least-once.  ``Submitted``
records the carrier's id for the segment, which is what reports match.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from smsgw.domain.model import ClaimedSegment, HoldReason, MessageState
from smsgw.store import schema
from smsgw.store.errors import InvalidOperation, NotFound
from smsgw.store.lifecycle import finalize, record_path, segments_of, state_is
from smsgw.store.reporting import match_pending
from smsgw.store.tx import Tx, chunks

m = schema.messages
s = schema.segments
S = MessageState

# A message is past ``sending`` once none of its parts still waits to go out.
WAITING = (S.HELD.value, S.QUEUED.value, S.SENDING.value)
MOVING = (S.QUEUED.value, S.SENDING.value)
WENT_OUT = frozenset({S.SUBMITTED, S.DELIVERED, S.UNDELIVERED, S.EXPIRED})


@attrs.frozen
class ReleaseHeld:
    """Release up to ``limit`` messages held for the window whose time has come."""

    now: int
    limit: int = 1000

    def run(self, tx: Tx) -> int:
        ids = [
            row.id
            for row in tx.conn.execute(
                sa.select(m.c.id)
                .where(state_is(m.c.state, S.HELD), m.c.due_at <= self.now)
                .order_by(m.c.due_at, m.c.id)
                .limit(self.limit)
                .with_for_update(skip_locked=True)
            )
        ]
        if not ids:
            return 0
        tx.conn.execute(
            sa.update(m).where(m.c.id.in_(ids), m.c.state == S.HELD.value).values(state=S.QUEUED.value, due_at=self.now)
        )
        tx.conn.execute(
            sa.update(s)
            .where(s.c.message_id.in_(ids), s.c.state == S.HELD.value)
            .values(state=S.QUEUED.value, due_at=self.now)
        )
        for mid in ids:
            tx.event(mid, self.now, S.HELD, S.QUEUED, "window open")
        return len(ids)


@attrs.frozen
class Hold:
    """Put a queued message back on hold (the window closed; a late review)."""

    message_id: int
    reason: HoldReason
    at: int
    until: int | None = None
    note: str | None = None

    def run(self, tx: Tx) -> None:
        if self.reason is HoldReason.WINDOW and self.until is None:
            raise InvalidOperation("a window hold needs a release time")
        row = tx.conn.execute(
            sa.select(m.c.state, m.c.enterprise_id).where(m.c.id == self.message_id).with_for_update()
        ).first()
        if row is None:
            raise NotFound(f"no message {self.message_id}")
        parts = segments_of(tx, [self.message_id], lock=True)[self.message_id]
        if row.state != S.QUEUED.value or any(p.state != S.QUEUED.value for p in parts):
            raise InvalidOperation(f"message {self.message_id} is {row.state}, not entirely queued")
        due = self.until if self.reason is HoldReason.WINDOW else None
        tx.conn.execute(
            sa.update(m)
            .where(m.c.id == self.message_id)
            .values(state=S.HELD.value, hold_reason=self.reason.value, due_at=due, reason=self.note)
        )
        tx.conn.execute(
            sa.update(s).where(s.c.message_id == self.message_id).values(state=S.HELD.value, due_at=None)
        )
        if self.reason is HoldReason.REVIEW:
            rq = schema.review_queue
            tx.conn.execute(sa.delete(rq).where(rq.c.message_id == self.message_id))
            tx.conn.execute(
                sa.insert(rq).values(
                    message_id=self.message_id, enterprise_id=row.enterprise_id, reason=self.note, created_at=self.at
                )
            )
        tx.event(self.message_id, self.at, S.QUEUED, S.HELD, self.note or self.reason.value)


@attrs.frozen
class ClaimDue:
    """Take up to ``limit`` due segments for sending (optionally for one carrier)."""

    now: int
    limit: int = 500
    carrier: str | None = None

    def run(self, tx: Tx) -> list[ClaimedSegment]:
        query = (
            sa.select(
                s.c.message_id, s.c.seq, s.c.payload, s.c.esm_class, s.c.attempts, m.c.parts,
                m.c.data_coding, m.c.source_addr, m.c.dest_addr, m.c.account_id, m.c.enterprise_id,
                m.c.registered_delivery, m.c.priority, m.c.carrier, m.c.expires_at, m.c.state,
            )  # fmt: skip
            .select_from(s.join(m, m.c.id == s.c.message_id))
            .where(state_is(s.c.state, S.QUEUED), s.c.due_at <= self.now, m.c.expires_at > self.now)
            .order_by(s.c.due_at, s.c.message_id, s.c.seq)
            .limit(self.limit)
            .with_for_update(of=s, skip_locked=True)
        )
        if self.carrier is not None:
            query = query.where(m.c.carrier == self.carrier)
        rows = tx.conn.execute(query).all()
        if not rows:
            return []
        tx.conn.execute(
            sa.update(s)
            .where(s.c.message_id == sa.bindparam("mid"), s.c.seq == sa.bindparam("sq"))
            .values(state=S.SENDING.value, attempts=s.c.attempts + 1),
            [{"mid": row.message_id, "sq": row.seq} for row in rows],
        )
        starting = sorted({row.message_id for row in rows if row.state == S.QUEUED.value})
        for chunk in chunks(starting):
            tx.conn.execute(
                sa.update(m).where(m.c.id.in_(chunk), m.c.state == S.QUEUED.value).values(state=S.SENDING.value)
            )
        for mid in starting:
            tx.event(mid, self.now, S.QUEUED, S.SENDING)
        for row in rows:
            if row.parts > 1:
                tx.event(row.message_id, self.now, S.QUEUED, S.SENDING, seq=row.seq)
        return [
            ClaimedSegment(
                message_id=row.message_id, seq=row.seq, parts=row.parts, payload=row.payload,
                esm_class=row.esm_class, data_coding=row.data_coding, source_addr=row.source_addr,
                dest_addr=row.dest_addr, account_id=row.account_id, enterprise_id=row.enterprise_id,
                registered_delivery=row.registered_delivery, priority=row.priority, carrier=row.carrier,
                attempts=row.attempts + 1, expires_at=row.expires_at,
            )  # fmt: skip
            for row in rows
        ]


@attrs.frozen
class Submitted:
    """The carrier accepted a segment and gave it ``carrier_msg_id``.

    The result is False when the segment had already ended (expired while in
    flight, say); the carrier id is recorded anyway so its report matches.
    """

    message_id: int
    seq: int
    carrier: str
    carrier_msg_id: str
    at: int
    link: str | None = None
    coalesce: ClassVar[bool] = True
    #: a result of the carrier link: kept until the database takes it (``writer``)
    retry_until_stored: ClassVar[bool] = True

    def run(self, tx: Tx) -> bool:
        (result,) = self.run_many(tx, [self])
        if isinstance(result, Exception):
            raise result
        return bool(result)

    @classmethod
    def run_many(cls, tx: Tx, ops: Sequence[Submitted]) -> list[Any]:
        mids = sorted({op.message_id for op in ops})
        parts = segments_of(tx, mids, lock=True)
        states = {(mid, p.seq): p.state for mid, segs in parts.items() for p in segs}
        results: list[Any] = []
        mappings, updates = [], []
        touched: set[int] = set()
        for op in ops:
            key = (op.message_id, op.seq)
            if key not in states:
                results.append(NotFound(f"no segment {op.seq} of message {op.message_id}"))
                continue
            mappings.append(
                {"carrier": op.carrier, "carrier_msg_id": op.carrier_msg_id, "message_id": op.message_id,
                 "seq": op.seq, "link": op.link, "submitted_at": op.at}
            )  # fmt: skip
            if states[key] in (S.SENDING.value, S.QUEUED.value):
                updates.append(
                    {"mid": op.message_id, "sq": op.seq, "at": op.at, "link": op.link, "cid": op.carrier_msg_id}
                )
                if len(parts[op.message_id]) > 1:
                    tx.event(op.message_id, op.at, S(states[key]), S.SUBMITTED, seq=op.seq)
                states[key] = S.SUBMITTED.value
                touched.add(op.message_id)
                results.append(True)
            else:
                results.append(False)
        _upsert_carrier_ids(tx, mappings)
        if updates:
            tx.conn.execute(
                sa.update(s)
                .where(s.c.message_id == sa.bindparam("mid"), s.c.seq == sa.bindparam("sq"))
                .values(
                    state=S.SUBMITTED.value,
                    submitted_at=sa.bindparam("at"),
                    link=sa.bindparam("link"),
                    carrier_msg_id=sa.bindparam("cid"),
                ),
                updates,
            )
        at = max(op.at for op in ops)
        _advance_to_submitted(tx, touched, states, at)
        match_pending(tx, {(str(mp["carrier"]), str(mp["carrier_msg_id"])) for mp in mappings})
        return results


def _upsert_carrier_ids(tx: Tx, rows: list[dict[str, Any]]) -> None:
    # A carrier may report the same id twice (a duplicate after a re-send):
    # the latest submission wins.
    if not rows:
        return
    c = schema.carrier_message_ids
    insert = postgresql.insert(c) if tx.conn.dialect.name == "postgresql" else sqlite.insert(c)
    excluded = insert.excluded
    stmt = insert.on_conflict_do_update(
        index_elements=[c.c.carrier, c.c.carrier_msg_id],
        set_={"message_id": excluded.message_id, "seq": excluded.seq, "link": excluded.link,
              "submitted_at": excluded.submitted_at},
    )  # fmt: skip
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        seen[(row["carrier"], row["carrier_msg_id"])] = row
    tx.conn.execute(stmt, list(seen.values()))


def _advance_to_submitted(tx: Tx, mids: set[int], states: dict[tuple[int, int], str], at: int) -> None:
    """Messages none of whose parts waits any more become ``submitted``."""
    waiting = {mid for (mid, _), state in states.items() if state in WAITING}
    ready = sorted(mids - waiting)
    for chunk in chunks(ready):
        rows = tx.conn.execute(
            sa.select(m.c.id, m.c.state).where(m.c.id.in_(chunk), m.c.state.in_(MOVING)).with_for_update()
        ).all()
        if not rows:
            continue
        tx.conn.execute(
            sa.update(m)
            .where(m.c.id.in_([row.id for row in rows]), m.c.state.in_(MOVING))
            .values(state=S.SUBMITTED.value)
        )
        for row in rows:
            record_path(tx, row.id, S(row.state), S.SUBMITTED, at, None)


@attrs.frozen
class SubmitFailed:
    """The carrier (or the link) refused a segment.

    With ``retry_at`` the segment waits in ``queued`` until then; without it
    the segment is rejected and, once every part has ended, so is the message.
    """

    message_id: int
    seq: int
    at: int
    reason: str
    err: str | None = None
    retry_at: int | None = None
    #: a result of the carrier link: kept until the database takes it (``writer``)
    retry_until_stored: ClassVar[bool] = True

    def run(self, tx: Tx) -> MessageState:
        parts = segments_of(tx, [self.message_id], lock=True).get(self.message_id, [])
        seg = next((p for p in parts if p.seq == self.seq), None)
        if seg is None:
            raise NotFound(f"no segment {self.seq} of message {self.message_id}")
        current = S(seg.state)
        if current not in (S.SENDING, S.QUEUED):
            return current
        multipart = len(parts) > 1
        if self.retry_at is not None:
            tx.conn.execute(
                sa.update(s)
                .where(s.c.message_id == self.message_id, s.c.seq == self.seq)
                .values(state=S.QUEUED.value, due_at=self.retry_at, err=self.err)
            )
            if multipart and current is not S.QUEUED:
                tx.event(self.message_id, self.at, current, S.QUEUED, self.reason, seq=self.seq)
            _back_to_queued(tx, [self.message_id], self.at, self.reason)
            return S.QUEUED
        tx.conn.execute(
            sa.update(s)
            .where(s.c.message_id == self.message_id, s.c.seq == self.seq)
            .values(state=S.REJECTED.value, done_at=self.at, stat="REJECTD", err=self.err)
        )
        if multipart:
            tx.event(self.message_id, self.at, current, S.REJECTED, self.reason, seq=self.seq)
        states = {(self.message_id, p.seq): p.state for p in parts}
        states[(self.message_id, self.seq)] = S.REJECTED.value
        finalize(tx, {self.message_id: (self.at, self.reason)})
        _advance_to_submitted(tx, {self.message_id}, states, self.at)
        return S.REJECTED


@attrs.frozen
class Requeue:
    """Put segments a link had in flight back to ``queued`` (the link dropped)."""

    keys: tuple[tuple[int, int], ...]
    at: int
    reason: str = "link lost"
    #: a result of the carrier link: kept until the database takes it (``writer``)
    retry_until_stored: ClassVar[bool] = True

    def run(self, tx: Tx) -> int:
        return requeue_sending(tx, self.at, self.reason, self.keys)


def requeue_sending(tx: Tx, at: int, reason: str, keys: Sequence[tuple[int, int]] | None = None) -> int:
    """``sending`` → ``queued`` for the given segments, or for all (recovery)."""
    query = sa.select(s.c.message_id, s.c.seq, m.c.parts).select_from(s.join(m, m.c.id == s.c.message_id))
    query = query.where(s.c.state == S.SENDING.value).with_for_update(of=s)
    rows: Sequence[Any]
    if keys is not None:
        wanted = set(keys)
        rows = [
            row
            for chunk in chunks(sorted({mid for mid, _ in wanted}))
            for row in tx.conn.execute(query.where(s.c.message_id.in_(chunk)))
            if (row.message_id, row.seq) in wanted
        ]
    else:
        rows = tx.conn.execute(query).all()
    if not rows:
        return 0
    tx.conn.execute(
        sa.update(s)
        .where(s.c.message_id == sa.bindparam("mid"), s.c.seq == sa.bindparam("sq"), s.c.state == S.SENDING.value)
        .values(state=S.QUEUED.value, due_at=at),
        [{"mid": row.message_id, "sq": row.seq} for row in rows],
    )
    for row in rows:
        if row.parts > 1:
            tx.event(row.message_id, at, S.SENDING, S.QUEUED, reason, seq=row.seq)
    _back_to_queued(tx, sorted({row.message_id for row in rows}), at, reason)
    return len(rows)


def _back_to_queued(tx: Tx, mids: Sequence[int], at: int, reason: str) -> None:
    """A ``sending`` message none of whose parts went out is ``queued`` again."""
    parts = segments_of(tx, mids)
    back = [
        mid for mid in mids if not any(S(p.state) in WENT_OUT for p in parts.get(mid, []))
    ]
    for chunk in chunks(back):
        rows = tx.conn.execute(
            sa.select(m.c.id).where(m.c.id.in_(chunk), m.c.state == S.SENDING.value).with_for_update()
        ).all()
        ids = [row.id for row in rows]
        if ids:
            tx.conn.execute(sa.update(m).where(m.c.id.in_(ids)).values(state=S.QUEUED.value))
        for mid in ids:
            tx.event(mid, at, S.SENDING, S.QUEUED, reason)
