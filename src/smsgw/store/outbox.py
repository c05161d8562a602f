"""The client outbox: receipts and MO messages until the client acknowledges them.

Rows are written by ``lifecycle.finalize`` (receipts) and ``RecordMo`` (MO; the
parts of a long MO for an account that reassembles wait in ``mo_parts``).  A
bound receiver takes a page with ``ClaimOutbox``, which leases the rows
(``next_attempt_at`` moves ``lease_ms`` ahead) instead of locking them: if the
deliver_sm_resp never comes — connection lost, gateway killed — the lease
runs out and the row is offered again.  ``AckOutbox`` deletes it; the receipt
and the MO message themselves stay in ``receipts`` / ``mo_messages``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import attrs
import sqlalchemy as sa

from smsgw.domain.model import MessageState, MoMessage, OutboxItem, OutboxKind
from smsgw.store import schema
from smsgw.store.lifecycle import OUTBOX_KEYS
from smsgw.store.mo_parts import hold_parts
from smsgw.store.tx import Tx, chunks

o = schema.outbox

MO_KEYS = (
    "id", "account_id", "carrier", "link", "carrier_msg_id", "source_addr", "dest_addr",
    "data_coding", "esm_class", "content", "received_at",
)  # fmt: skip


@attrs.frozen
class RecordMo:
    """Store an MO message and, when its account is known, queue it for the client."""

    mo: MoMessage
    coalesce: ClassVar[bool] = True

    def run(self, tx: Tx) -> int:
        (result,) = self.run_many(tx, [self])
        return result  # type: ignore[no-any-return]

    @classmethod
    def run_many(cls, tx: Tx, ops: Sequence[RecordMo]) -> list[Any]:
        rows, queued = [], []
        for op in ops:
            mo = op.mo
            rows.append(
                (mo.id, mo.account_id, mo.carrier, mo.link, mo.carrier_msg_id, mo.source_addr,
                 mo.dest_addr, mo.data_coding, mo.esm_class, mo.content, mo.received_at)
            )  # fmt: skip
            if mo.account_id is not None:
                queued.append(
                    (mo.account_id, OutboxKind.MO.value, mo.id, mo.source_addr, mo.dest_addr, None,
                     None, None, None, None, None, mo.data_coding, mo.esm_class, mo.content, 0,
                     mo.received_at, mo.received_at)
                )  # fmt: skip
        tx.insert_many(schema.mo_messages, MO_KEYS, rows)
        held = hold_parts(tx, [op.mo for op in ops])
        tx.insert_many(o, OUTBOX_KEYS, [row for row in queued if row[2] not in held])
        return [op.mo.id for op in ops]


@attrs.frozen
class ClaimOutbox:
    """Lease up to ``limit`` due items of one account, oldest first."""

    account_id: int
    now: int
    limit: int = 100
    lease_ms: int | None = None  # default: the store rules' outbox_lease_ms

    def run(self, tx: Tx) -> list[OutboxItem]:
        rows = tx.conn.execute(
            sa.select(o)
            .where(o.c.account_id == self.account_id, o.c.next_attempt_at <= self.now)
            .order_by(o.c.next_attempt_at, o.c.id)
            .limit(self.limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return []
        lease = self.lease_ms if self.lease_ms is not None else tx.rules.outbox_lease_ms
        ids = [row.id for row in rows]
        for chunk in chunks(ids):
            tx.conn.execute(
                sa.update(o)
                .where(o.c.id.in_(chunk))
                .values(attempts=o.c.attempts + 1, next_attempt_at=self.now + lease)
            )
        return [_item(row) for row in rows]


@attrs.frozen
class AckOutbox:
    """The client acknowledged an item: it leaves the outbox.  False if it was gone."""

    item_id: int
    coalesce: ClassVar[bool] = True

    def run(self, tx: Tx) -> bool:
        (result,) = self.run_many(tx, [self])
        return bool(result)

    @classmethod
    def run_many(cls, tx: Tx, ops: Sequence[AckOutbox]) -> list[Any]:
        ids = sorted({op.item_id for op in ops})
        present: set[int] = set()
        for chunk in chunks(ids):
            present.update(row.id for row in tx.conn.execute(sa.select(o.c.id).where(o.c.id.in_(chunk))))
            tx.conn.execute(sa.delete(o).where(o.c.id.in_(chunk)))
        results = []
        for op in ops:
            results.append(op.item_id in present)
            present.discard(op.item_id)  # a second ack of the same item in the batch finds it gone
        return results


@attrs.frozen
class RetryOutbox:
    """The client refused an item for now: offer it again at ``retry_at``."""

    item_id: int
    retry_at: int

    def run(self, tx: Tx) -> bool:
        result = tx.conn.execute(sa.update(o).where(o.c.id == self.item_id).values(next_attempt_at=self.retry_at))
        return bool(result.rowcount)


def _item(row: Any) -> OutboxItem:
    return OutboxItem(
        id=row.id, account_id=row.account_id, kind=OutboxKind(row.kind), ref_id=row.ref_id,
        source_addr=row.source_addr, dest_addr=row.dest_addr, created_at=row.created_at,
        attempts=row.attempts + 1, state=MessageState(row.state) if row.state else None,
        stat=row.stat, err=row.err, submit_at=row.submit_at, done_at=row.done_at, parts=row.parts,
        data_coding=row.data_coding, esm_class=row.esm_class, content=row.content,
    )  # fmt: skip


def pending_count(conn: sa.Connection, account_id: int) -> int:
    return int(conn.execute(sa.select(sa.func.count()).where(o.c.account_id == account_id)).scalar_one())
