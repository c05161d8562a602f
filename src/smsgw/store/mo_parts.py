"""Long MO held until whole, for accounts that take it reassembled (``accounts.reassemble_mo``).

A reply longer than one SMS reaches us as parts, each with a concatenation UDH
(GSM 03.40 9.2.3.24.1: reference, total, number).  For an account that wants
it reassembled, ``RecordMo`` does not queue such a part for the client: it
stores the MO as always and calls ``hold_parts`` in the same transaction,
which notes the part in ``mo_parts``.  The part that completes its message
queues ONE outbox item holding the parts' payloads joined (UDH removed,
``esm_class`` 0, ``parts`` = total), so the notifier sends one deliver_sm with
the whole text.  Everything is in the store: a restart loses no part and a
message completes whichever process records its last part.

``ReleaseStaleParts`` (run periodically by the notifier) gives up on a message
whose first part is ``timeout_ms`` old: its parts are queued as they came,
UDH and all.  It measures from the first part, so a trickle of parts cannot
hold a message for ever (``domain.reassembly`` has the same rules in memory).

Carriers deliver at least once, so parts come twice: a second copy of a part
still waiting, or of a part of a message just released, is stored but not
queued (the first copy wins).  Released rows are kept ``timeout_ms`` for that
check, then deleted; the MO messages themselves stay in ``mo_messages``.

Two gateway processes recording parts of one message at the same instant may
each miss the other's part; the message is then released as parts on timeout.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence

import attrs
import sqlalchemy as sa

from smsgw.domain.model import MoMessage, OutboxKind
from smsgw.domain.udh import Concat, UdhError, parse_concat
from smsgw.store import schema
from smsgw.store.lifecycle import OUTBOX_KEYS
from smsgw.store.tx import Tx

p = schema.mo_parts
mo = schema.mo_messages
ESM_UDHI = 0x40

_Group = tuple[int, str, str, int, int]  # account, source, destination, reference, total


def concat_of(content: bytes, esm_class: int) -> tuple[Concat, bytes] | None:
    """The concatenation facts of an MO part and its payload without the UDH (None: not a part)."""
    if not esm_class & ESM_UDHI:
        return None
    try:
        concat, body = parse_concat(content)
    except UdhError:
        return None  # a header we cannot trust: the part goes to the client as it came
    return None if concat is None else (concat, body)


def hold_parts(tx: Tx, mos: Sequence[MoMessage]) -> set[int]:
    """Note the parts among ``mos`` (already in ``mo_messages``) whose accounts reassemble;
    queue the messages they complete.  Returns the ids of the MOs the caller must not queue."""
    parts = []
    for message in mos:
        found = None if message.account_id is None else concat_of(message.content, message.esm_class)
        if found is not None:
            parts.append((message, found[0]))
    if not parts:
        return set()
    a = schema.accounts
    wanted = {m.account_id for m, _ in parts}
    reassembling = set(tx.conn.execute(sa.select(a.c.id).where(a.c.id.in_(wanted), a.c.reassemble_mo)).scalars())
    held: set[int] = set()
    for message, concat in parts:
        if message.account_id in reassembling:
            _hold(tx, message, concat)
            held.add(message.id)
    return held


def _hold(tx: Tx, message: MoMessage, concat: Concat) -> None:
    assert message.account_id is not None
    group: _Group = (message.account_id, message.source_addr, message.dest_addr, concat.reference, concat.total)
    rows = _group_rows(tx.conn, group)
    waiting = [row for row in rows if row.released_at is None]
    if any(row.number == concat.number for row in waiting):
        return  # a second copy of a part still waiting
    if not waiting and any(row.number == concat.number and row.content == message.content for row in rows):
        return  # a second copy of a part of a message already released
    tx.conn.execute(sa.insert(p).values(
        mo_id=message.id, account_id=message.account_id, source_addr=message.source_addr,
        dest_addr=message.dest_addr, reference=concat.reference, total=concat.total, number=concat.number,
        received_at=message.received_at,
    ))  # fmt: skip
    if len(waiting) + 1 < concat.total:
        return
    whole = sorted(_group_rows(tx.conn, group, waiting_only=True), key=lambda row: row.number)
    _release(tx, whole, message.received_at)
    first = min(whole, key=lambda row: row.received_at)
    payload = b"".join(_body(row) for row in whole)
    tx.insert_many(schema.outbox, OUTBOX_KEYS, [(
        first.account_id, OutboxKind.MO.value, whole[0].mo_id, first.source_addr, first.dest_addr, None, None,
        None, None, None, concat.total, whole[0].data_coding, 0, payload, 0, message.received_at,
        first.received_at,
    )])  # fmt: skip


def _group_rows(conn: sa.Connection, group: _Group, waiting_only: bool = False) -> list[Any]:
    account_id, source, dest, reference, total = group
    query = (
        sa.select(p, mo.c.content, mo.c.data_coding, mo.c.esm_class)
        .join(mo, mo.c.id == p.c.mo_id)
        .where(p.c.account_id == account_id, p.c.source_addr == source, p.c.dest_addr == dest,
               p.c.reference == reference, p.c.total == total)
    )  # fmt: skip
    if waiting_only:
        query = query.where(p.c.released_at.is_(None))
    return list(conn.execute(query).all())


def _body(row: Any) -> bytes:
    found = concat_of(row.content, row.esm_class)
    return row.content if found is None else found[1]


def _release(tx: Tx, rows: Sequence[Any], at: int) -> None:
    tx.conn.execute(sa.update(p).where(p.c.mo_id.in_([row.mo_id for row in rows])).values(released_at=at))


@attrs.frozen
class ReleaseStaleParts:
    """Queue, as they came, the parts of every message whose first part is ``timeout_ms`` old;
    forget released parts as old as that.  Returns the accounts that got parts (to wake)."""

    now: int
    timeout_ms: int

    def run(self, tx: Tx) -> list[int]:
        cutoff = self.now - self.timeout_ms
        tx.conn.execute(sa.delete(p).where(p.c.released_at.is_not(None), p.c.released_at <= cutoff))
        query = (
            sa.select(p, mo.c.content, mo.c.data_coding, mo.c.esm_class)
            .join(mo, mo.c.id == p.c.mo_id)
            .where(p.c.released_at.is_(None))
            .with_for_update(of=p, skip_locked=True)
        )
        groups: dict[_Group, list[Any]] = defaultdict(list)
        for row in tx.conn.execute(query):
            groups[(row.account_id, row.source_addr, row.dest_addr, row.reference, row.total)].append(row)
        stale = [rows for rows in groups.values() if min(row.received_at for row in rows) <= cutoff]
        if not stale:
            return []
        queued = []
        for rows in sorted(stale, key=lambda rows: min(row.received_at for row in rows)):
            rows.sort(key=lambda row: row.number)
            _release(tx, rows, self.now)
            queued += [(
                row.account_id, OutboxKind.MO.value, row.mo_id, row.source_addr, row.dest_addr, None, None, None,
                None, None, None, row.data_coding, row.esm_class, row.content, 0, self.now, row.received_at,
            ) for row in rows]  # fmt: skip
        tx.insert_many(schema.outbox, OUTBOX_KEYS, queued)
        return sorted({row[0] for row in queued})
