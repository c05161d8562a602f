"""Reading messages back: one message, its parts, its history, pages of them.

Reads take a connection and run on a reader thread (never the writer's, so
a long web-centre query does not delay acknowledgements).  Every listing is
a page bounded by ``limit`` and continued with keyset pagination.
"""

from __future__ import annotations

from typing import Any

import attrs
import sqlalchemy as sa

from smsgw.domain.model import HoldReason, Message, MessageEvent, MessageState, Segment
from smsgw.store import schema

m = schema.messages
s = schema.segments
e = schema.message_events
S = MessageState


@attrs.frozen
class SegmentView:
    segment: Segment
    attempts: int
    due_at: int | None
    link: str | None
    carrier_msg_id: str | None
    submitted_at: int | None
    done_at: int | None
    stat: str | None
    err: str | None


def _message(row: Any) -> Message:
    return Message(
        id=row.id, account_id=row.account_id, enterprise_id=row.enterprise_id, source_addr=row.source_addr,
        dest_addr=row.dest_addr, created_at=row.created_at, expires_at=row.expires_at, parts=row.parts,
        text=row.text, data_coding=row.data_coding, registered_delivery=row.registered_delivery,
        priority=row.priority, carrier=row.carrier, state=S(row.state),
        hold_reason=HoldReason(row.hold_reason) if row.hold_reason else None, reason=row.reason,
        due_at=row.due_at, charge=row.charge, final_at=row.final_at,
    )  # fmt: skip


def get_message(conn: sa.Connection, message_id: int) -> Message | None:
    row = conn.execute(sa.select(m).where(m.c.id == message_id)).first()
    return None if row is None else _message(row)


def get_segments(conn: sa.Connection, message_id: int) -> list[SegmentView]:
    rows = conn.execute(sa.select(s).where(s.c.message_id == message_id).order_by(s.c.seq))
    return [
        SegmentView(
            Segment(row.seq, row.payload, row.esm_class, S(row.state)), row.attempts, row.due_at, row.link,
            row.carrier_msg_id, row.submitted_at, row.done_at, row.stat, row.err,
        )  # fmt: skip
        for row in rows
    ]


def history(conn: sa.Connection, message_id: int) -> list[MessageEvent]:
    """Every transition of the message, oldest first.

    The first two come from the message row (acceptance is not a separate
    event row, see ``accepting``): nothing → accepted, accepted → the state
    it was stored in.
    """
    row = conn.execute(
        sa.select(m.c.created_at, m.c.first_state, m.c.hold_reason, m.c.reason).where(m.c.id == message_id)
    ).first()
    if row is None:
        return []
    first = S(row.first_state)
    first_reason = row.reason if first is not S.QUEUED else None
    if first is S.HELD and first_reason is None:
        first_reason = row.hold_reason
    events = [
        MessageEvent(message_id, row.created_at, None, S.ACCEPTED),
        MessageEvent(message_id, row.created_at, S.ACCEPTED, first, reason=first_reason),
    ]
    for ev in conn.execute(sa.select(e).where(e.c.message_id == message_id).order_by(e.c.id)):
        events.append(
            MessageEvent(
                message_id, ev.at, S(ev.from_state) if ev.from_state else None, S(ev.to_state), ev.seq, ev.reason
            )
        )
    return events


def messages_of(
    conn: sa.Connection, account_id: int, limit: int = 50, before_id: int | None = None
) -> list[Message]:
    """A page of an account's messages, newest first (ids are time-ordered)."""
    query = sa.select(m).where(m.c.account_id == account_id).order_by(m.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(m.c.id < before_id)
    return [_message(row) for row in conn.execute(query)]


def count_by_state(conn: sa.Connection) -> dict[MessageState, int]:
    rows = conn.execute(sa.select(m.c.state, sa.func.count()).group_by(m.c.state))
    return {S(state): int(count) for state, count in rows}


def max_message_id(conn: sa.Connection) -> int:
    """The floor for ``domain.ids.IdGenerator`` at start (messages and MO share ids)."""
    highest = 0
    for table in (m, schema.mo_messages):
        value = conn.execute(sa.select(sa.func.max(table.c.id))).scalar()
        highest = max(highest, int(value or 0))
    return highest
