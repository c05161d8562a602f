"""What the administrators' tools need from the store beyond the pipeline's operations.

Listings for the manhole (accounts, a ledger, signatures, messages to a
number; the audit log's reader is ``audit.audit_entries``), and two writes:

* ``ResetPassword`` — a new (temporary) password and the SMS that tells the
  account's reserved phone about it, in ONE transaction: the password is not
  changed unless its notice is queued;
* ``Audited`` — an administrative action that changes nothing in the store
  (suspending a carrier link) written to the audit log.

Every write has its audit row; reads take a connection (reader thread).
"""

from __future__ import annotations

from typing import Any

import attrs
import sqlalchemy as sa

from smsgw.domain import ids
from smsgw.domain.model import Account, LedgerEntry, LedgerKind, Message, Segment, SignatureStatus
from smsgw.store import schema
from smsgw.store.accepting import Accept
from smsgw.store.accounts import _account, get_account
from smsgw.store.audit import audit
from smsgw.store.errors import InvalidOperation, NotFound
from smsgw.store.queries import _message
from smsgw.store.tx import Tx

a = schema.accounts
led = schema.ledger
sg = schema.signatures
m = schema.messages


@attrs.frozen
class ResetPassword:
    """Store a new password hash and queue ``notice`` (to the reserved phone) with it.

    The notice must be addressed to the account's reserved phone and belong to
    the account, uncharged and without a receipt: it is the gateway speaking.
    """

    account_id: int
    password_hash: str
    notice: Message
    segments: tuple[Segment, ...]
    at: int
    actor: str

    def run(self, tx: Tx) -> int:
        """The notice's message id."""
        if not self.password_hash.startswith("$argon2"):
            raise InvalidOperation("passwords are stored as argon2 hashes only")
        account = get_account(tx.conn, self.account_id)
        if account is None:
            raise NotFound(f"no account {self.account_id}")
        if not account.reserved_phone:
            raise InvalidOperation(f"account {account.login} has no reserved phone to send a password to")
        notice = self.notice
        if (notice.dest_addr, notice.account_id, notice.charge, notice.registered_delivery) != (
            account.reserved_phone, account.id, 0, 0,
        ):  # fmt: skip
            raise InvalidOperation("a password notice goes to the account's reserved phone, uncharged, no receipt")
        tx.conn.execute(
            sa.update(a).where(a.c.id == account.id).values(password_hash=self.password_hash, updated_at=self.at)
        )
        Accept(notice, self.segments).run(tx)
        audit(tx, self.at, self.actor, "account.password_reset", str(account.id), login=account.login,
              phone=mask_phone(account.reserved_phone), notice=ids.to_text(notice.id))  # fmt: skip
        return notice.id


@attrs.frozen
class Audited:
    """Only an audit row: for administrative actions on things outside the store (links)."""

    action: str
    target: str | None
    at: int
    actor: str
    detail: tuple[tuple[str, Any], ...] = ()

    def run(self, tx: Tx) -> None:
        audit(tx, self.at, self.actor, self.action, self.target, **dict(self.detail))


def mask_phone(phone: str | None) -> str | None:
    """138****8000: enough for an administrator to recognise, not to read."""
    if not phone or len(phone) < 7:
        return phone
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


# ---------------------------------------------------------------------------- reads


def find_account(conn: sa.Connection, ref: int | str) -> Account | None:
    """An account by id (int) or login (str)."""
    if isinstance(ref, int):
        return get_account(conn, ref)
    row = conn.execute(sa.select(a).where(a.c.login == ref)).first()
    return None if row is None else _account(row)


def list_accounts(conn: sa.Connection, enterprise_id: int | None = None, limit: int = 100,
                  after_id: int = 0) -> list[Account]:
    """Enterprises (``enterprise_id=None``) or the sub-accounts of one, by id, a page at a time."""
    where = a.c.parent_id.is_(None) if enterprise_id is None else a.c.parent_id == enterprise_id
    query = sa.select(a).where(where, a.c.id > after_id).order_by(a.c.id).limit(limit)
    return [_account(row) for row in conn.execute(query)]


def ledger_entries(conn: sa.Connection, enterprise_id: int, limit: int = 20,
                   before_id: int | None = None) -> list[LedgerEntry]:
    """An enterprise's ledger, newest first, a page at a time."""
    query = sa.select(led).where(led.c.enterprise_id == enterprise_id).order_by(led.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(led.c.id < before_id)
    return [
        LedgerEntry(row.enterprise_id, row.amount, LedgerKind(row.kind), row.at, row.account_id, row.message_id,
                    row.actor, row.note, row.id)
        for row in conn.execute(query)
    ]


@attrs.frozen
class SignatureRow:
    id: int
    enterprise_id: int
    text: str
    status: SignatureStatus
    created_at: int
    decided_at: int | None
    decided_by: str | None


def signatures(conn: sa.Connection, status: SignatureStatus | None = SignatureStatus.PENDING,
               enterprise_id: int | None = None, limit: int = 50) -> list[SignatureRow]:
    """Signatures by id, filtered by status (None: all) and enterprise."""
    query = sa.select(sg).order_by(sg.c.id).limit(limit)
    if status is not None:
        query = query.where(sg.c.status == status.value)
    if enterprise_id is not None:
        query = query.where(sg.c.enterprise_id == enterprise_id)
    return [
        SignatureRow(row.id, row.enterprise_id, row.text, SignatureStatus(row.status), row.created_at,
                     row.decided_at, row.decided_by)
        for row in conn.execute(query)
    ]


def messages_to(conn: sa.Connection, phone: str, since_ms: int, limit: int = 20) -> list[Message]:
    """Messages to ``phone`` accepted since ``since_ms``, newest first.

    There is no index on the destination (it would cost every acceptance a
    write, DESIGN.md section 6); ids are time-ordered, so the search reads only
    the primary-key range of the period asked for.
    """
    floor = max(0, (since_ms - ids.EPOCH_MS)) << (ids.NODE_BITS + ids.SEQ_BITS)
    query = sa.select(m).where(m.c.id >= floor, m.c.dest_addr == phone).order_by(m.c.id.desc()).limit(limit)
    return [_message(row) for row in conn.execute(query)]
