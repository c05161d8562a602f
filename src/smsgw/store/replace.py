"""replace_sm: a client changes the text of a message that has not gone out yet.

Only while the message and all its parts are held or queued (no part in a
link's hands), and only with the same number of segments, so the charge taken
at acceptance stays right.  The new segments replace the old ones in place.
"""

from __future__ import annotations

import attrs
import sqlalchemy as sa

from smsgw.domain.model import MessageState
from smsgw.store import schema
from smsgw.store.audit import audit
from smsgw.store.lifecycle import segments_of
from smsgw.store.tx import Tx

m = schema.messages
s = schema.segments
S = MessageState
REPLACEABLE = (S.HELD.value, S.QUEUED.value)


@attrs.frozen
class Replace:
    message_id: int
    text: str | None
    payloads: tuple[bytes, ...]
    esm_class: int
    at: int
    actor: str

    def run(self, tx: Tx) -> bool:
        row = tx.conn.execute(sa.select(m.c.state, m.c.parts).where(m.c.id == self.message_id).with_for_update()).first()
        if row is None or row.state not in REPLACEABLE or row.parts != len(self.payloads):
            return False
        parts = segments_of(tx, [self.message_id], lock=True).get(self.message_id, [])
        if len(parts) != len(self.payloads) or any(part.state not in REPLACEABLE for part in parts):
            return False
        tx.conn.execute(sa.update(m).where(m.c.id == self.message_id).values(text=self.text))
        for seq, payload in enumerate(self.payloads, start=1):
            tx.conn.execute(sa.update(s).where(s.c.message_id == self.message_id, s.c.seq == seq)
                            .values(payload=payload, esm_class=self.esm_class))
        audit(tx, self.at, self.actor, "message.replace", str(self.message_id))
        return True
