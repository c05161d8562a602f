"""Accounts: opening, changing, recharging, pricing, and checking a login.

Writes are operations for the writer (each with its audit row); reads take a
connection and run on a reader thread.  Passwords arrive already hashed
(``smsgw.store.passwords``), because hashing is slow on purpose.
"""

from __future__ import annotations

import enum
import ipaddress
from typing import Any

import attrs
import sqlalchemy as sa
from argon2 import PasswordHasher

from smsgw.domain.model import Account, AccountStatus, LedgerKind
from smsgw.store import schema
from smsgw.store.audit import audit
from smsgw.store.errors import InvalidOperation, NotFound
from smsgw.store.ledger import change_balance
from smsgw.store.passwords import DEFAULT_HASHER, needs_rehash, verify_password
from smsgw.store.tx import Tx

a = schema.accounts
p = schema.prices

# Fields an administrator may change with UpdateAccount (not money, not login).
UPDATABLE = frozenset(
    {"name", "allowed_ips", "max_binds", "tps", "reserved_phone", "extension", "default_validity_s",
     "credit_limit", "quota_left", "low_balance_threshold", "reassemble_mo"}
)  # fmt: skip


@attrs.frozen
class CreateAccount:
    """Open an enterprise account, or a sub-account when ``parent_id`` is set."""

    login: str
    password_hash: str
    at: int
    actor: str
    parent_id: int | None = None
    name: str = ""
    allowed_ips: tuple[str, ...] = ()
    max_binds: int = 1
    tps: int = 100
    reserved_phone: str | None = None
    extension: str | None = None
    default_validity_s: int | None = None
    credit_limit: int = 0
    quota_left: int | None = None
    low_balance_threshold: int | None = None
    reassemble_mo: bool = False

    def run(self, tx: Tx) -> Account:
        if not self.password_hash.startswith("$argon2"):
            raise InvalidOperation("passwords are stored as argon2 hashes only")
        for net in self.allowed_ips:
            ipaddress.ip_network(net, strict=False)
        if self.parent_id is not None:
            parent = get_account(tx.conn, self.parent_id)
            if parent is None or not parent.is_enterprise:
                raise InvalidOperation(f"account {self.parent_id} is not an enterprise account")
        elif self.quota_left is not None:
            raise InvalidOperation("only sub-accounts have a quota of their own")
        statement = (
            sa.insert(a)
            .values(
                login=self.login, password_hash=self.password_hash, parent_id=self.parent_id,
                name=self.name, status=AccountStatus.ACTIVE.value, allowed_ips=",".join(self.allowed_ips),
                max_binds=self.max_binds, tps=self.tps, reserved_phone=self.reserved_phone,
                extension=self.extension, default_validity_s=self.default_validity_s,
                balance=0, credit_limit=self.credit_limit, quota_left=self.quota_left,
                low_balance_threshold=self.low_balance_threshold, created_at=self.at, updated_at=self.at,
                reassemble_mo=self.reassemble_mo,
            )  # fmt: skip
            .returning(a.c.id)
        )
        try:
            account_id = int(tx.conn.execute(statement).scalar_one())
        except sa.exc.IntegrityError as error:
            raise InvalidOperation(f"login {self.login!r} or extension {self.extension!r} is taken") from error
        audit(tx, self.at, self.actor, "account.create", str(account_id), login=self.login, parent_id=self.parent_id)
        account = get_account(tx.conn, account_id)
        assert account is not None
        return account


@attrs.frozen
class UpdateAccount:
    account_id: int
    at: int
    actor: str
    changes: tuple[tuple[str, Any], ...]

    def run(self, tx: Tx) -> Account:
        values = dict(self.changes)
        unknown = set(values) - UPDATABLE
        if unknown:
            raise InvalidOperation(f"cannot change {sorted(unknown)}")
        if "allowed_ips" in values:
            for net in values["allowed_ips"]:
                ipaddress.ip_network(net, strict=False)
            values["allowed_ips"] = ",".join(values["allowed_ips"])
        _update(tx, self.account_id, values, self.at)
        audit(tx, self.at, self.actor, "account.update", str(self.account_id), **dict(self.changes))
        account = get_account(tx.conn, self.account_id)
        assert account is not None
        return account


@attrs.frozen
class SetPassword:
    account_id: int
    password_hash: str
    at: int
    actor: str

    def run(self, tx: Tx) -> None:
        if not self.password_hash.startswith("$argon2"):
            raise InvalidOperation("passwords are stored as argon2 hashes only")
        _update(tx, self.account_id, {"password_hash": self.password_hash}, self.at)
        audit(tx, self.at, self.actor, "account.password", str(self.account_id))


@attrs.frozen
class SetStatus:
    account_id: int
    status: AccountStatus
    at: int
    actor: str
    reason: str | None = None

    def run(self, tx: Tx) -> None:
        _update(tx, self.account_id, {"status": self.status.value}, self.at)
        audit(tx, self.at, self.actor, "account.status", str(self.account_id), status=self.status.value,
              reason=self.reason)  # fmt: skip


@attrs.frozen
class Recharge:
    """Add money to an enterprise (RECHARGE, positive) or correct it (ADJUSTMENT)."""

    enterprise_id: int
    amount: int
    at: int
    actor: str
    note: str | None = None
    kind: LedgerKind = LedgerKind.RECHARGE

    def run(self, tx: Tx) -> int:
        if self.kind not in (LedgerKind.RECHARGE, LedgerKind.ADJUSTMENT):
            raise InvalidOperation(f"{self.kind.value} is not an administrative balance change")
        if self.kind is LedgerKind.RECHARGE and self.amount <= 0:
            raise InvalidOperation("a recharge adds a positive amount")
        balance = change_balance(
            tx, self.enterprise_id, self.amount, self.kind, self.at, actor=self.actor, note=self.note
        )
        audit(tx, self.at, self.actor, f"balance.{self.kind.value}", str(self.enterprise_id),
              amount=self.amount, balance=balance, note=self.note)  # fmt: skip
        return balance


@attrs.frozen
class SetPrice:
    """The price per segment for an account; ``carrier=''`` is its default."""

    account_id: int
    price: int
    at: int
    actor: str
    carrier: str = ""

    def run(self, tx: Tx) -> None:
        if self.price < 0:
            raise InvalidOperation("negative price")
        if get_account(tx.conn, self.account_id) is None:
            raise NotFound(f"no account {self.account_id}")
        tx.conn.execute(sa.delete(p).where(p.c.account_id == self.account_id, p.c.carrier == self.carrier))
        tx.conn.execute(
            sa.insert(p).values(account_id=self.account_id, carrier=self.carrier, price=self.price, updated_at=self.at)
        )
        audit(tx, self.at, self.actor, "price.set", str(self.account_id), carrier=self.carrier, price=self.price)


def _update(tx: Tx, account_id: int, values: dict[str, Any], at: int) -> None:
    result = tx.conn.execute(sa.update(a).where(a.c.id == account_id).values(updated_at=at, **values))
    if not result.rowcount:
        raise NotFound(f"no account {account_id}")


def _account(row: Any) -> Account:
    return Account(
        id=row.id, login=row.login, name=row.name, parent_id=row.parent_id, status=AccountStatus(row.status),
        allowed_ips=tuple(filter(None, row.allowed_ips.split(","))), max_binds=row.max_binds, tps=row.tps,
        reserved_phone=row.reserved_phone, extension=row.extension, default_validity_s=row.default_validity_s,
        balance=row.balance, credit_limit=row.credit_limit, quota_left=row.quota_left,
        low_balance_threshold=row.low_balance_threshold, created_at=row.created_at,
        reassemble_mo=bool(row.reassemble_mo),
    )  # fmt: skip


def get_account(conn: sa.Connection, account_id: int) -> Account | None:
    row = conn.execute(sa.select(a).where(a.c.id == account_id)).first()
    return None if row is None else _account(row)


def find_login(conn: sa.Connection, login: str) -> tuple[Account, str] | None:
    """The account and its password hash."""
    row = conn.execute(sa.select(a).where(a.c.login == login)).first()
    return None if row is None else (_account(row), row.password_hash)


def sub_accounts(conn: sa.Connection, enterprise_id: int) -> list[Account]:
    return [_account(row) for row in conn.execute(sa.select(a).where(a.c.parent_id == enterprise_id).order_by(a.c.id))]


def price_for(conn: sa.Connection, account_id: int, carrier: str | None) -> int | None:
    """Price per segment: the account's for this carrier, its default, then
    its enterprise's for this carrier and default; None if there is none."""
    account = get_account(conn, account_id)
    if account is None:
        return None
    owners = [account.id] if account.is_enterprise else [account.id, account.enterprise_id]
    carriers = [carrier, ""] if carrier else [""]
    rows = {
        (row.account_id, row.carrier): row.price
        for row in conn.execute(sa.select(p).where(p.c.account_id.in_(owners), p.c.carrier.in_(carriers)))
    }
    for owner in owners:
        for car in carriers:
            if (owner, car) in rows:
                return int(rows[(owner, car)])
    return None


class AuthFailure(str, enum.Enum):
    UNKNOWN_LOGIN = "unknown_login"
    BAD_PASSWORD = "bad_password"
    INACTIVE = "inactive"  # the account or its enterprise is suspended or blacklisted
    ADDRESS_NOT_ALLOWED = "address_not_allowed"


@attrs.frozen
class AuthResult:
    account: Account | None
    failure: AuthFailure | None = None
    # The hash is weaker than the current parameters: the caller may store a new one.
    rehash: bool = False

    @property
    def ok(self) -> bool:
        return self.failure is None


def authenticate(
    conn: sa.Connection, login: str, password: str, peer_ip: str | None, hasher: PasswordHasher = DEFAULT_HASHER
) -> AuthResult:
    """Check a bind or web login.  Slow (argon2): call it on a reader thread."""
    found = find_login(conn, login)
    if found is None:
        # Spend the time a wrong password costs (hashing costs what verifying
        # does), so that logins cannot be probed by timing.
        hasher.hash(password or "-")
        return AuthResult(None, AuthFailure.UNKNOWN_LOGIN)
    account, password_hash = found
    if not verify_password(password_hash, password, hasher):
        return AuthResult(account, AuthFailure.BAD_PASSWORD)
    if account.status is not AccountStatus.ACTIVE:
        return AuthResult(account, AuthFailure.INACTIVE)
    if not account.is_enterprise:
        parent = get_account(conn, account.enterprise_id)
        if parent is None or parent.status is not AccountStatus.ACTIVE:
            return AuthResult(account, AuthFailure.INACTIVE)
    if not ip_allowed(account.allowed_ips, peer_ip):
        return AuthResult(account, AuthFailure.ADDRESS_NOT_ALLOWED)
    return AuthResult(account, None, needs_rehash(password_hash, hasher))


def ip_allowed(allowed: tuple[str, ...], peer_ip: str | None) -> bool:
    if not allowed:
        return True
    if peer_ip is None:
        return False
    address = ipaddress.ip_address(peer_ip)
    return any(address in ipaddress.ip_network(net, strict=False) for net in allowed)

