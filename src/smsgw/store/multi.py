"""submit_multi: ONE message id for the client, one stored message per destination.

SMPP 3.4 section 4.5.2 answers a submit_multi with one message_id (and the
destinations that failed).  Each destination is stored as a message of its
own - its segments, charge, carrier, state and history - and ``multi_members``
maps it to the submission's id.  ``AcceptMember`` writes that row in the
transaction that accepts the message, so no receipt can exist before the
mapping does.  The client only ever sees the submission's id:

* receipts carry it - ``ClaimDeliveries`` puts it in place of the message's
  own id when it leases the outbox items (the receipt's source_addr, the phone,
  tells the destinations apart, as SMSCs do for a submit_multi);
* query_sm, cancel_sm and replace_sm on it reach every message (``members``).

The submission's id comes from the same generator as message ids, so it is
never a message's own id.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import attrs
import sqlalchemy as sa

from smsgw.domain.model import Message, OutboxItem, OutboxKind
from smsgw.store import schema
from smsgw.store.accepting import Accept, AcceptResult
from smsgw.store.outbox import ClaimOutbox
from smsgw.store.queries import get_message
from smsgw.store.tx import Tx, chunks

mm = schema.multi_members
MEMBER_KEYS = ("message_id", "submission_id")


@attrs.frozen
class AcceptMember:
    """``Accept`` one destination's message of the submit_multi ``submission_id``."""

    accept: Accept
    submission_id: int
    coalesce: ClassVar[bool] = True

    def run(self, tx: Tx) -> AcceptResult:
        result = self.accept.run(tx)
        tx.insert_many(mm, MEMBER_KEYS, [(self.accept.message.id, self.submission_id)])
        return result

    @classmethod
    def run_many(cls, tx: Tx, ops: Sequence[AcceptMember]) -> list[Any]:
        results = Accept.run_many(tx, [op.accept for op in ops])
        rows = [(op.accept.message.id, op.submission_id)
                for op, result in zip(ops, results) if not isinstance(result, Exception)]  # fmt: skip
        tx.insert_many(mm, MEMBER_KEYS, rows)
        return results


@attrs.frozen
class ClaimDeliveries:
    """``ClaimOutbox``, with the receipts of a submit_multi's messages naming the submission."""

    account_id: int
    now: int
    limit: int = 100

    def run(self, tx: Tx) -> list[OutboxItem]:
        items = ClaimOutbox(self.account_id, self.now, self.limit).run(tx)
        reports = sorted({item.ref_id for item in items if item.kind is OutboxKind.REPORT})
        shown: dict[int, int] = {}
        for chunk in chunks(reports):
            query = sa.select(mm.c.message_id, mm.c.submission_id).where(mm.c.message_id.in_(chunk))
            shown.update((row.message_id, row.submission_id) for row in tx.conn.execute(query))
        if not shown:
            return items
        return [
            attrs.evolve(item, ref_id=shown[item.ref_id])
            if item.kind is OutboxKind.REPORT and item.ref_id in shown else item
            for item in items
        ]  # fmt: skip


def members(conn: sa.Connection, submission_id: int) -> list[Message]:
    """The messages of a submit_multi, in the order they were accepted ([] for any other id)."""
    query = sa.select(mm.c.message_id).where(mm.c.submission_id == submission_id).order_by(mm.c.message_id)
    found = (get_message(conn, message_id) for message_id in conn.execute(query).scalars())
    return [message for message in found if message is not None]
