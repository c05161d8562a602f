"""HTTP API keys: issuing, revoking, and finding the account a key belongs to.

A key is shown once, when it is issued: ``smsgw_<key_id>_<secret>``.  The
store keeps the key_id (to find the row and to show in lists) and the SHA-256
of the secret; the secret is 32 random bytes, so a fast hash is enough and
keeps every API call cheap.  Issuing and revoking write an audit row.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import attrs
import sqlalchemy as sa

from smsgw.domain.model import Account
from smsgw.store import schema
from smsgw.store.accounts import get_account
from smsgw.store.audit import audit
from smsgw.store.errors import InvalidOperation, NotFound
from smsgw.store.tx import Tx

k = schema.api_keys

PREFIX = "smsgw_"
#: the most live keys one account may hold (a key per program is plenty)
MAX_KEYS = 20


@attrs.frozen
class ApiKey:
    id: int
    account_id: int
    key_id: str
    label: str
    created_at: int
    revoked_at: int | None


def new_secret() -> tuple[str, str, str]:
    """(key_id, secret, the whole key as given to the user)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return key_id, secret, f"{PREFIX}{key_id}_{secret}"


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def split_key(token: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed key, else None."""
    if not token.startswith(PREFIX):
        return None
    key_id, sep, secret = token[len(PREFIX):].partition("_")
    if not sep or not key_id or not secret or len(key_id) > 24:
        return None
    return key_id, secret


@attrs.frozen
class IssueApiKey:
    """Store a new key for an account; the caller made the secret (``new_secret``)."""

    account_id: int
    key_id: str
    secret_hash: str
    label: str
    at: int
    actor: str

    def run(self, tx: Tx) -> ApiKey:
        if get_account(tx.conn, self.account_id) is None:
            raise NotFound(f"no account {self.account_id}")
        live = tx.conn.execute(
            sa.select(sa.func.count()).where(k.c.account_id == self.account_id, k.c.revoked_at.is_(None))
        ).scalar_one()
        if live >= MAX_KEYS:
            raise InvalidOperation(f"an account holds at most {MAX_KEYS} API keys; revoke one first")
        key_pk = tx.conn.execute(
            sa.insert(k)
            .values(account_id=self.account_id, key_id=self.key_id, secret_hash=self.secret_hash,
                    label=self.label[:64], created_at=self.at)
            .returning(k.c.id)
        ).scalar_one()  # fmt: skip
        audit(tx, self.at, self.actor, "apikey.issue", str(self.account_id), key_id=self.key_id)
        return ApiKey(int(key_pk), self.account_id, self.key_id, self.label[:64], self.at, None)


@attrs.frozen
class RevokeApiKey:
    """Revoke one of ``account_id``'s keys; False when it has no such live key."""

    account_id: int
    key_id: str
    at: int
    actor: str

    def run(self, tx: Tx) -> bool:
        result = tx.conn.execute(
            sa.update(k)
            .where(k.c.account_id == self.account_id, k.c.key_id == self.key_id, k.c.revoked_at.is_(None))
            .values(revoked_at=self.at)
        )
        if not result.rowcount:
            return False
        audit(tx, self.at, self.actor, "apikey.revoke", str(self.account_id), key_id=self.key_id)
        return True


def _key(row: sa.Row) -> ApiKey:  # type: ignore[type-arg]
    return ApiKey(row.id, row.account_id, row.key_id, row.label, row.created_at, row.revoked_at)


def keys_of(conn: sa.Connection, account_id: int) -> list[ApiKey]:
    """An account's keys, newest first (revoked ones included)."""
    rows = conn.execute(sa.select(k).where(k.c.account_id == account_id).order_by(k.c.id.desc()))
    return [_key(row) for row in rows]


def account_for_key(conn: sa.Connection, token: str) -> Account | None:
    """The account a live, well-formed key belongs to; None for anything else."""
    parts = split_key(token)
    if parts is None:
        return None
    key_id, secret = parts
    row = conn.execute(sa.select(k).where(k.c.key_id == key_id)).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, secret_hash(secret)):
        return None
    return get_account(conn, row.account_id)
