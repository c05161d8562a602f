"""Administered lists: blacklists, keyword lists, signatures, number portability.

The policy layer keeps in-memory indexes of these (DESIGN.md §6) and loads
them page by page with ``iter_*``; changes go through the writer with an
audit row each.  Scope 0 is global; any other scope is an enterprise id.
"""

from __future__ import annotations

from typing import Iterator

import attrs
import sqlalchemy as sa

from smsgw.domain.model import SignatureStatus
from smsgw.store import schema
from smsgw.store.audit import audit
from smsgw.store.errors import NotFound
from smsgw.store.tx import Tx

GLOBAL = 0

b = schema.blacklist
k = schema.keywords
sg = schema.signatures
pt = schema.portability


@attrs.frozen
class Blacklist:
    """Add (``listed=True``) or remove a number from a blacklist."""

    phone: str
    at: int
    actor: str
    scope_id: int = GLOBAL
    listed: bool = True
    reason: str | None = None

    def run(self, tx: Tx) -> bool:
        """True when the list changed."""
        where = (b.c.scope_id == self.scope_id, b.c.phone == self.phone)
        present = tx.conn.execute(sa.select(b.c.phone).where(*where)).first()
        if self.listed == (present is not None):
            return False
        if self.listed:
            tx.conn.execute(
                sa.insert(b).values(
                    scope_id=self.scope_id, phone=self.phone, reason=self.reason, created_at=self.at,
                    created_by=self.actor,
                )  # fmt: skip
            )
        else:
            tx.conn.execute(sa.delete(b).where(*where))
        action = "blacklist.add" if self.listed else "blacklist.remove"
        audit(tx, self.at, self.actor, action, self.phone, scope_id=self.scope_id, reason=self.reason)
        return True


@attrs.frozen
class Keyword:
    """Add or remove a word of a keyword list (reject, review, unsubscribe, ...)."""

    list: str
    word: str
    at: int
    actor: str
    scope_id: int = GLOBAL
    listed: bool = True

    def run(self, tx: Tx) -> bool:
        where = (k.c.list == self.list, k.c.scope_id == self.scope_id, k.c.word == self.word)
        present = tx.conn.execute(sa.select(k.c.word).where(*where)).first()
        if self.listed == (present is not None):
            return False
        if self.listed:
            tx.conn.execute(
                sa.insert(k).values(list=self.list, scope_id=self.scope_id, word=self.word, created_at=self.at)
            )
        else:
            tx.conn.execute(sa.delete(k).where(*where))
        action = "keyword.add" if self.listed else "keyword.remove"
        audit(tx, self.at, self.actor, action, self.word, list=self.list, scope_id=self.scope_id)
        return True


@attrs.frozen
class AddSignature:
    enterprise_id: int
    text: str
    at: int
    actor: str

    def run(self, tx: Tx) -> int:
        result = tx.conn.execute(
            sa.insert(sg)
            .values(
                enterprise_id=self.enterprise_id, text=self.text, status=SignatureStatus.PENDING.value,
                created_at=self.at,
            )  # fmt: skip
            .returning(sg.c.id)
        )
        signature_id = int(result.scalar_one())
        audit(tx, self.at, self.actor, "signature.add", str(signature_id),
              enterprise_id=self.enterprise_id, text=self.text)  # fmt: skip
        return signature_id


@attrs.frozen
class DecideSignature:
    signature_id: int
    status: SignatureStatus
    at: int
    actor: str

    def run(self, tx: Tx) -> None:
        result = tx.conn.execute(
            sa.update(sg)
            .where(sg.c.id == self.signature_id)
            .values(status=self.status.value, decided_at=self.at, decided_by=self.actor)
        )
        if not result.rowcount:
            raise NotFound(f"no signature {self.signature_id}")
        audit(tx, self.at, self.actor, "signature.decide", str(self.signature_id), status=self.status.value)


@attrs.frozen
class SetPortability:
    """A number moved to another carrier (``carrier=None`` removes the override)."""

    phone: str
    carrier: str | None
    at: int
    actor: str
    note: str | None = None

    def run(self, tx: Tx) -> None:
        tx.conn.execute(sa.delete(pt).where(pt.c.phone == self.phone))
        if self.carrier is not None:
            tx.conn.execute(
                sa.insert(pt).values(phone=self.phone, carrier=self.carrier, note=self.note, updated_at=self.at)
            )
        audit(tx, self.at, self.actor, "portability.set", self.phone, carrier=self.carrier)


def is_blacklisted(conn: sa.Connection, phone: str, enterprise_id: int | None = None) -> bool:
    scopes = [GLOBAL] if enterprise_id is None else [GLOBAL, enterprise_id]
    return conn.execute(sa.select(b.c.phone).where(b.c.phone == phone, b.c.scope_id.in_(scopes))).first() is not None


def iter_blacklist(conn: sa.Connection, page: int = 5000) -> Iterator[tuple[int, str]]:
    """(scope_id, phone) for every entry, read a page at a time."""
    after: tuple[int, str] = (-1, "")
    while True:
        rows = conn.execute(
            sa.select(b.c.scope_id, b.c.phone)
            .where(sa.tuple_(b.c.scope_id, b.c.phone) > sa.tuple_(sa.literal(after[0]), sa.literal(after[1])))
            .order_by(b.c.scope_id, b.c.phone)
            .limit(page)
        ).all()
        for row in rows:
            yield row.scope_id, row.phone
        if len(rows) < page:
            return
        after = (rows[-1].scope_id, rows[-1].phone)


def keywords(conn: sa.Connection, list_name: str) -> list[tuple[int, str]]:
    """(scope_id, word) of one list; keyword lists are small (hundreds)."""
    query = sa.select(k.c.scope_id, k.c.word).where(k.c.list == list_name).order_by(k.c.scope_id, k.c.word)
    return [(row.scope_id, row.word) for row in conn.execute(query)]


def verified_signatures(conn: sa.Connection, enterprise_id: int) -> list[str]:
    query = sa.select(sg.c.text).where(
        sg.c.enterprise_id == enterprise_id, sg.c.status == SignatureStatus.VERIFIED.value
    )
    return [row.text for row in conn.execute(query.order_by(sg.c.text))]


def portability_override(conn: sa.Connection, phone: str) -> str | None:
    row = conn.execute(sa.select(pt.c.carrier).where(pt.c.phone == phone)).first()
    return None if row is None else row.carrier
