"""Expiry: messages past their validity period end ``expired``, with a receipt.

The validity period is fixed at acceptance in ``messages.expires_at``
(``domain.model.expires_at_for``: the client's, else the account default,
else 48 hours).  A message that never went out (held or queued) expires at
that time; one submitted to a carrier waits ``Rules.report_grace_ms`` longer
for the carrier's own report before the gateway gives up on it.  Messages in
``sending`` are in a link's hands and are left alone: recovery or the link
puts them back to ``queued`` first.

Each ``Expire`` takes one bounded page through ``ix_messages_open``; callers
repeat it while it returns a full page.
"""

from __future__ import annotations

import attrs
import sqlalchemy as sa

from smsgw.domain.model import MessageState
from smsgw.store import schema
from smsgw.store.lifecycle import finalize, segments_of, state_is
from smsgw.store.tx import Tx, chunks

m = schema.messages
s = schema.segments
rq = schema.review_queue
S = MessageState

OPEN = (S.HELD, S.QUEUED, S.SENDING, S.SUBMITTED)
NOT_OUT = (S.HELD.value, S.QUEUED.value)
EXPIRABLE_PARTS = (S.HELD.value, S.QUEUED.value, S.SUBMITTED.value)


@attrs.frozen
class Expire:
    now: int
    limit: int = 1000

    def run(self, tx: Tx) -> int:
        """How many messages ended in this page."""
        grace = tx.rules.report_grace_ms
        # ``state IN (...)`` repeats the partial index's condition verbatim so
        # that SQLite uses it; the second condition picks the expirable ones.
        rows = tx.conn.execute(
            sa.select(m.c.id, m.c.state)
            .where(
                state_is(m.c.state, *OPEN),
                m.c.expires_at <= self.now,
                sa.or_(
                    m.c.state.in_(NOT_OUT),
                    sa.and_(m.c.state == S.SUBMITTED.value, m.c.expires_at <= self.now - grace),
                ),
            )
            .order_by(m.c.expires_at, m.c.id)
            .limit(self.limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return 0
        ids = [row.id for row in rows]
        for mid, parts in segments_of(tx, ids).items():
            if len(parts) > 1:
                for part in parts:
                    if part.state in EXPIRABLE_PARTS:
                        tx.event(mid, self.now, S(part.state), S.EXPIRED, "validity period over", seq=part.seq)
        for chunk in chunks(ids):
            tx.conn.execute(
                sa.update(s)
                .where(s.c.message_id.in_(chunk), s.c.state.in_(EXPIRABLE_PARTS))
                .values(state=S.EXPIRED.value, done_at=self.now, stat="EXPIRED")
            )
            tx.conn.execute(
                sa.update(rq)
                .where(rq.c.message_id.in_(chunk), rq.c.decision.is_(None))
                .values(decision="expired", decided_at=self.now)
            )
        ended = finalize(tx, {mid: (self.now, "validity period over") for mid in ids})
        return len(ended)
