"""What the web centre and the HTTP API read, always within an account's scope.

Every listing takes the ids of the accounts the caller may see (``scope_ids``:
an enterprise sees itself and its sub-accounts, a sub-account only itself)
and filters by them in SQL, so one enterprise never reads another's rows.
Listings are pages bounded by ``limit`` with keyset continuation; times
become id ranges (message and MO ids are time-ordered, ``domain.ids``), so a
period is a primary-key range, not a scan.

One write lives here too: ``AckOwnOutbox``, the HTTP API's acknowledgement of
pulled receipts and MO messages, which deletes only the caller's own rows.
"""

from __future__ import annotations

from typing import Any, Sequence

import attrs
import sqlalchemy as sa

from smsgw.domain import ids
from smsgw.domain.model import Account, LedgerEntry, LedgerKind, Message, MessageState, OutboxItem, SignatureStatus
from smsgw.store import schema
from smsgw.store.admin_ops import SignatureRow, signatures
from smsgw.store.outbox import _item
from smsgw.store.queries import _message
from smsgw.store.tx import Tx, chunks

a = schema.accounts
m = schema.messages
r = schema.receipts
mo = schema.mo_messages
o = schema.outbox
led = schema.ledger
bl = schema.blacklist
sg = schema.signatures

MAX_PAGE = 1000


def id_floor(ms: int) -> int:
    """The smallest id issued at or after ``ms`` (0 before the id epoch)."""
    return max(0, ms - ids.EPOCH_MS) << (ids.NODE_BITS + ids.SEQ_BITS)


def scope_ids(conn: sa.Connection, account: Account) -> list[int]:
    """The accounts whose rows ``account`` may read."""
    if not account.is_enterprise:
        return [account.id]
    subs = conn.execute(sa.select(a.c.id).where(a.c.parent_id == account.id).order_by(a.c.id)).scalars()
    return [account.id, *subs]


@attrs.frozen
class MessageFilter:
    since_ms: int | None = None
    until_ms: int | None = None
    dest_addr: str | None = None
    state: MessageState | None = None
    account_id: int | None = None  # one sub-account (or the enterprise itself) of the scope
    before_id: int | None = None
    limit: int = 50


def find_messages(conn: sa.Connection, scope: Sequence[int], flt: MessageFilter) -> list[Message]:
    """Messages of the scope matching the filter, newest first."""
    owners = [i for i in scope if flt.account_id is None or i == flt.account_id]
    if not owners:
        return []
    query = sa.select(m).where(m.c.account_id.in_(owners))
    if flt.since_ms is not None:
        query = query.where(m.c.id >= id_floor(flt.since_ms))
    if flt.until_ms is not None:
        query = query.where(m.c.id < id_floor(flt.until_ms))
    if flt.before_id is not None:
        query = query.where(m.c.id < flt.before_id)
    if flt.dest_addr:
        query = query.where(m.c.dest_addr == flt.dest_addr)
    if flt.state is not None:
        query = query.where(m.c.state == flt.state.value)
    query = query.order_by(m.c.id.desc()).limit(min(max(1, flt.limit), MAX_PAGE))
    return [_message(row) for row in conn.execute(query)]


def message_in_scope(conn: sa.Connection, scope: Sequence[int], message_id: int) -> Message | None:
    row = conn.execute(sa.select(m).where(m.c.id == message_id, m.c.account_id.in_(list(scope)))).first()
    return None if row is None else _message(row)


@attrs.frozen
class ReceiptRow:
    id: int
    message_id: int
    seq: int | None
    account_id: int
    dest_addr: str
    carrier: str
    state: MessageState
    stat: str
    err: str | None
    submit_at: int | None
    done_at: int | None
    received_at: int


def _receipt(row: Any) -> ReceiptRow:
    return ReceiptRow(row.id, row.message_id, row.seq, row.account_id, row.dest_addr, row.carrier,
                      MessageState(row.state), row.stat, row.err, row.submit_at, row.done_at,
                      row.received_at)  # fmt: skip


_RECEIPT_COLUMNS = (r.c.id, r.c.message_id, r.c.seq, m.c.account_id, m.c.dest_addr, r.c.carrier, r.c.state,
                    r.c.stat, r.c.err, r.c.submit_at, r.c.done_at, r.c.received_at)  # fmt: skip


def receipts_page(conn: sa.Connection, scope: Sequence[int], limit: int = 50,
                  before_id: int | None = None) -> list[ReceiptRow]:
    """Carrier receipts for the scope's messages, newest first."""
    query = (
        sa.select(*_RECEIPT_COLUMNS)
        .select_from(r.join(m, m.c.id == r.c.message_id))
        .where(m.c.account_id.in_(list(scope)))
        .order_by(r.c.id.desc())
        .limit(min(max(1, limit), MAX_PAGE))
    )
    if before_id is not None:
        query = query.where(r.c.id < before_id)
    return [_receipt(row) for row in conn.execute(query)]


def receipts_of(conn: sa.Connection, message_id: int) -> list[ReceiptRow]:
    """The carrier receipts of one message (the caller checked it may see it)."""
    query = (
        sa.select(*_RECEIPT_COLUMNS)
        .select_from(r.join(m, m.c.id == r.c.message_id))
        .where(r.c.message_id == message_id)
        .order_by(r.c.id)
    )
    return [_receipt(row) for row in conn.execute(query)]


@attrs.frozen
class MoRow:
    id: int
    account_id: int
    carrier: str
    source_addr: str
    dest_addr: str
    data_coding: int
    esm_class: int
    content: bytes
    received_at: int


def mo_page(conn: sa.Connection, scope: Sequence[int], limit: int = 50, before_id: int | None = None) -> list[MoRow]:
    """MO messages (replies) to the scope's extensions, newest first."""
    query = sa.select(mo).where(mo.c.account_id.in_(list(scope))).order_by(mo.c.id.desc())
    if before_id is not None:
        query = query.where(mo.c.id < before_id)
    rows = conn.execute(query.limit(min(max(1, limit), MAX_PAGE)))
    return [MoRow(row.id, row.account_id, row.carrier, row.source_addr, row.dest_addr, row.data_coding,
                  row.esm_class, bytes(row.content), row.received_at) for row in rows]  # fmt: skip


def daily_counts(conn: sa.Connection, scope: Sequence[int], since_ms: int,
                 tz_offset_ms: int = 0) -> dict[tuple[int, str], tuple[int, int]]:
    """(local day number, state) → (messages, segments) accepted since ``since_ms``.

    A day number is ``(ms + tz_offset_ms) // 86_400_000``."""
    day = (m.c.created_at + tz_offset_ms) // 86_400_000
    query = (
        sa.select(day, m.c.state, sa.func.count(), sa.func.sum(m.c.parts))
        .where(m.c.account_id.in_(list(scope)), m.c.id >= id_floor(since_ms))
        .group_by(sa.text("1"), sa.text("2"))
    )
    return {(int(d), state): (int(n), int(p or 0)) for d, state, n, p in conn.execute(query)}


def ledger_page(conn: sa.Connection, enterprise_id: int, account_id: int | None = None, limit: int = 50,
                before_id: int | None = None) -> list[LedgerEntry]:
    """An enterprise's ledger (or one sub-account's rows of it), newest first."""
    query = sa.select(led).where(led.c.enterprise_id == enterprise_id)
    if account_id is not None:
        query = query.where(led.c.account_id == account_id)
    if before_id is not None:
        query = query.where(led.c.id < before_id)
    rows = conn.execute(query.order_by(led.c.id.desc()).limit(min(max(1, limit), MAX_PAGE)))
    return [LedgerEntry(row.enterprise_id, row.amount, LedgerKind(row.kind), row.at, row.account_id,
                        row.message_id, row.actor, row.note, row.id) for row in rows]  # fmt: skip


@attrs.frozen
class BlacklistRow:
    phone: str
    reason: str | None
    created_at: int
    created_by: str | None


def blacklist_page(conn: sa.Connection, scope_id: int, limit: int = 100, after_phone: str = "") -> list[BlacklistRow]:
    query = (
        sa.select(bl).where(bl.c.scope_id == scope_id, bl.c.phone > after_phone)
        .order_by(bl.c.phone).limit(min(max(1, limit), MAX_PAGE))
    )  # fmt: skip
    return [BlacklistRow(row.phone, row.reason, row.created_at, row.created_by) for row in conn.execute(query)]


def signatures_page(conn: sa.Connection, enterprise_id: int | None = None, status: SignatureStatus | None = None,
                    limit: int = 100) -> list[SignatureRow]:
    """Signatures of one enterprise (or all: the administrators' view), oldest first."""
    return signatures(conn, status, enterprise_id, min(max(1, limit), MAX_PAGE))


def signature_owner(conn: sa.Connection, signature_id: int) -> int | None:
    return conn.execute(sa.select(sg.c.enterprise_id).where(sg.c.id == signature_id)).scalar()


def enterprise_page(conn: sa.Connection, limit: int = 100, after_id: int = 0) -> list[tuple[Account, int]]:
    """Enterprise accounts by id with how many sub-accounts each has (administrators' view)."""
    from smsgw.store.accounts import _account

    child = a.alias("child")
    subs = sa.select(sa.func.count()).where(child.c.parent_id == a.c.id).scalar_subquery()
    query = (
        sa.select(a, subs.label("subs")).where(a.c.parent_id.is_(None), a.c.id > after_id)
        .order_by(a.c.id).limit(min(max(1, limit), MAX_PAGE))
    )  # fmt: skip
    return [(_account(row), int(row.subs)) for row in conn.execute(query)]


def outbox_pending(conn: sa.Connection, account_id: int, kind: str, limit: int = 100,
                   after_id: int = 0) -> list[OutboxItem]:
    """Receipts or MO messages waiting for one account, oldest first, without leasing them."""
    query = (
        sa.select(o).where(o.c.account_id == account_id, o.c.kind == kind, o.c.id > after_id)
        .order_by(o.c.id).limit(min(max(1, limit), MAX_PAGE))
    )  # fmt: skip
    return [_item(row) for row in conn.execute(query)]


@attrs.frozen
class AckOwnOutbox:
    """Delete pulled items of one account and kind; ids of other accounts are ignored.  How many went."""

    account_id: int
    kind: str
    item_ids: tuple[int, ...]

    def run(self, tx: Tx) -> int:
        gone = 0
        for chunk in chunks(sorted(set(self.item_ids))):
            result = tx.conn.execute(
                sa.delete(o).where(o.c.id.in_(chunk), o.c.account_id == self.account_id, o.c.kind == self.kind)
            )
            gone += result.rowcount or 0
        return gone


def logins(conn: sa.Connection, account_ids: Sequence[int]) -> dict[int, str]:
    """id → login, for showing who sent what."""
    found: dict[int, str] = {}
    for chunk in chunks(sorted(set(account_ids))):
        found.update((row.id, row.login) for row in conn.execute(sa.select(a.c.id, a.c.login).where(a.c.id.in_(chunk))))
    return found
