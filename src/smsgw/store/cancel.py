"""cancel_sm: a client withdraws a message that has not gone out yet."""

from __future__ import annotations

import attrs
import sqlalchemy as sa

from smsgw.domain.model import MessageState
from smsgw.store import schema
from smsgw.store.audit import audit
from smsgw.store.lifecycle import finalize, segments_of
from smsgw.store.tx import Tx

m = schema.messages
s = schema.segments
rq = schema.review_queue
S = MessageState
CANCELLABLE = (S.HELD.value, S.QUEUED.value)


@attrs.frozen
class Cancel:
    """Held or queued, with no part in a link's hands: the message ends
    ``rejected`` ("cancelled"), its charge comes back, no receipt is sent
    (the client asked for it).  False when it is too late."""

    message_id: int
    at: int
    actor: str

    def run(self, tx: Tx) -> bool:
        row = tx.conn.execute(sa.select(m.c.state).where(m.c.id == self.message_id).with_for_update()).first()
        if row is None or row.state not in CANCELLABLE:
            return False
        parts = segments_of(tx, [self.message_id], lock=True).get(self.message_id, [])
        if any(part.state not in CANCELLABLE for part in parts):
            return False
        tx.conn.execute(
            sa.update(s).where(s.c.message_id == self.message_id).values(state=S.REJECTED.value, done_at=self.at)
        )
        tx.conn.execute(
            sa.update(rq)
            .where(rq.c.message_id == self.message_id, rq.c.decision.is_(None))
            .values(decision="cancelled", decided_at=self.at, decided_by=self.actor)
        )
        if len(parts) > 1:
            for part in parts:
                tx.event(self.message_id, self.at, S(part.state), S.REJECTED, "cancelled", seq=part.seq)
        finalize(tx, {self.message_id: (self.at, "cancelled by client")}, refund_always=True, receipt=False)
        audit(tx, self.at, self.actor, "message.cancel", str(self.message_id))
        return True
