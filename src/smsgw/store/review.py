"""The review queue: messages held for an administrator's decision."""

from __future__ import annotations

import attrs
import sqlalchemy as sa

from smsgw.domain.model import HoldReason, MessageState
from smsgw.store import schema
from smsgw.store.audit import audit
from smsgw.store.errors import InvalidOperation, NotFound
from smsgw.store.lifecycle import finalize
from smsgw.store.tx import Tx

m = schema.messages
s = schema.segments
rq = schema.review_queue
S = MessageState


@attrs.frozen
class ReviewDecision:
    """Approve (→ queued now) or refuse (→ rejected) a message held for review.

    A refused message keeps its charge unless ``refund`` — the contract
    charges for messages refused for breaking the content rules (DESIGN.md §5).
    """

    message_id: int
    approve: bool
    at: int
    actor: str
    note: str | None = None
    refund: bool = False

    def run(self, tx: Tx) -> MessageState:
        row = tx.conn.execute(
            sa.select(m.c.state, m.c.hold_reason).where(m.c.id == self.message_id).with_for_update()
        ).first()
        if row is None:
            raise NotFound(f"no message {self.message_id}")
        if row.state != S.HELD.value or row.hold_reason != HoldReason.REVIEW.value:
            raise InvalidOperation(f"message {self.message_id} is not waiting for review")
        decision = "approved" if self.approve else "rejected"
        tx.conn.execute(
            sa.update(rq)
            .where(rq.c.message_id == self.message_id)
            .values(decision=decision, decided_at=self.at, decided_by=self.actor)
        )
        audit(tx, self.at, self.actor, f"review.{decision}", str(self.message_id), note=self.note)
        if self.approve:
            tx.conn.execute(
                sa.update(m).where(m.c.id == self.message_id).values(state=S.QUEUED.value, due_at=self.at)
            )
            tx.conn.execute(
                sa.update(s).where(s.c.message_id == self.message_id).values(state=S.QUEUED.value, due_at=self.at)
            )
            tx.event(self.message_id, self.at, S.HELD, S.QUEUED, self.note or "review approved")
            return S.QUEUED
        tx.conn.execute(
            sa.update(s)
            .where(s.c.message_id == self.message_id)
            .values(state=S.REJECTED.value, done_at=self.at, stat="REJECTD")
        )
        finalize(tx, {self.message_id: (self.at, self.note or "review refused")}, refund=self.refund)
        return S.REJECTED


@attrs.frozen
class PendingReview:
    message_id: int
    enterprise_id: int
    reason: str | None
    created_at: int
    text: str | None
    dest_addr: str


def pending_reviews(conn: sa.Connection, limit: int = 50, after_id: int = 0) -> list[PendingReview]:
    """A page of undecided messages, oldest id first."""
    query = (
        sa.select(rq.c.message_id, rq.c.enterprise_id, rq.c.reason, rq.c.created_at, m.c.text, m.c.dest_addr)
        .select_from(rq.join(m, m.c.id == rq.c.message_id))
        .where(rq.c.decision.is_(None), rq.c.message_id > after_id)
        .order_by(rq.c.message_id)
        .limit(limit)
    )
    return [PendingReview(*row) for row in conn.execute(query)]
