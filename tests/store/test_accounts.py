"""Accounts: opening, argon2 passwords, authentication, money, prices, audit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from smsgw.domain.model import YUAN, AccountStatus, LedgerKind
from smsgw.store import schema
from smsgw.store.accounts import (
    AuthFailure,
    CreateAccount,
    Recharge,
    SetPassword,
    SetPrice,
    SetStatus,
    UpdateAccount,
    authenticate,
    find_login,
    get_account,
    price_for,
    sub_accounts,
)
from smsgw.store.audit import audit_entries
from smsgw.store.errors import InsufficientBalance, InvalidOperation, NotFound
from smsgw.store.passwords import hash_password, needs_rehash, verify_password
from tests.store.harness import CHEAP_HASHER, Harness


def test_enterprise_and_sub_accounts(store: Harness) -> None:
    ent = store.enterprise(balance=0, name="示例科技", tps=50, max_binds=4, allowed_ips=("10.0.0.0/8",),
                           reserved_phone="13900000000", low_balance_threshold=10 * YUAN)  # fmt: skip
    sub = store.sub_account(ent, name="营销部", quota_left=YUAN, extension="0101")
    assert ent.is_enterprise and ent.enterprise_id == ent.id
    assert (sub.parent_id, sub.enterprise_id, sub.extension, sub.quota_left) == (ent.id, ent.id, "0101", YUAN)
    with store.conn() as conn:
        assert get_account(conn, ent.id) == ent
        assert sub_accounts(conn, ent.id) == [sub]
    assert (ent.tps, ent.max_binds, ent.allowed_ips, ent.status) == (50, 4, ("10.0.0.0/8",), AccountStatus.ACTIVE)
    with pytest.raises(InvalidOperation):  # no sub-accounts of sub-accounts
        store.sub_account(sub)
    with pytest.raises(InvalidOperation):  # only argon2 hashes are stored
        store.run(CreateAccount("plain", "secret", 0, "test"))
    with pytest.raises(InvalidOperation, match="is taken"):  # logins are unique
        store.run(CreateAccount(ent.login, hash_password("x", CHEAP_HASHER), 0, "test"))


def test_passwords_are_argon2_hashes() -> None:
    hashed = hash_password("s3cret!", CHEAP_HASHER)
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "s3cret!", CHEAP_HASHER)
    assert not verify_password(hashed, "s3cret", CHEAP_HASHER)
    assert not verify_password("not a hash", "s3cret!", CHEAP_HASHER)
    assert needs_rehash(hashed)  # weaker than the default parameters
    with pytest.raises(ValueError):
        hash_password("")


def test_authenticate(store: Harness) -> None:
    ent = store.enterprise(allowed_ips=("192.0.2.0/24", "2001:db8::1"))
    sub = store.sub_account(ent)
    with store.conn() as conn:
        stored = find_login(conn, ent.login)
        assert stored is not None and stored[1].startswith("$argon2id$")

        def auth(login: str, password: str = "secret", ip: str | None = "192.0.2.7") -> AuthFailure | None:
            with store.conn() as c:
                return authenticate(c, login, password, ip, CHEAP_HASHER).failure

        assert auth(ent.login) is None
        assert auth(ent.login, ip="2001:db8::1") is None
        assert auth(sub.login, ip="203.0.113.9") is None  # no list of its own: any address
        assert auth(ent.login, "wrong") is AuthFailure.BAD_PASSWORD
        assert auth("nobody") is AuthFailure.UNKNOWN_LOGIN
        assert auth(ent.login, ip="198.51.100.1") is AuthFailure.ADDRESS_NOT_ALLOWED
        assert auth(ent.login, ip=None) is AuthFailure.ADDRESS_NOT_ALLOWED
    store.run(SetStatus(ent.id, AccountStatus.SUSPENDED, store.clock.now, "admin", "unpaid"))
    assert auth(ent.login) is AuthFailure.INACTIVE
    assert auth(sub.login) is AuthFailure.INACTIVE  # its enterprise is suspended
    store.run(SetStatus(ent.id, AccountStatus.ACTIVE, store.clock.now, "admin"))
    store.run(SetPassword(sub.id, hash_password("new", CHEAP_HASHER), store.clock.now, "admin"))
    assert auth(sub.login, "secret") is AuthFailure.BAD_PASSWORD
    assert auth(sub.login, "new") is None
    with store.conn() as conn:
        assert authenticate(conn, sub.login, "new", None, CHEAP_HASHER).rehash is False


def test_recharge_and_adjustments_are_ledger_rows(store: Harness) -> None:
    ent = store.enterprise(balance=0)
    assert store.run(Recharge(ent.id, 50 * YUAN, store.clock.now, "admin", "bank transfer 0042")) == 50 * YUAN
    assert store.run(Recharge(ent.id, -5 * YUAN, store.clock.now, "admin", "correction", LedgerKind.ADJUSTMENT)) == 45 * YUAN
    with pytest.raises(InvalidOperation):
        store.run(Recharge(ent.id, -1, store.clock.now, "admin"))
    with pytest.raises(InvalidOperation):
        store.run(Recharge(ent.id, 1, store.clock.now, "admin", kind=LedgerKind.CHARGE))
    sub = store.sub_account(ent)
    with pytest.raises(NotFound):  # money belongs to the enterprise
        store.run(Recharge(sub.id, YUAN, store.clock.now, "admin"))
    rows = store.ledger(ent.id)
    assert [(r.kind, r.amount, r.actor, r.note) for r in rows] == [
        ("recharge", 50 * YUAN, "admin", "bank transfer 0042"), ("adjustment", -5 * YUAN, "admin", "correction"),
    ]  # fmt: skip
    with store.conn() as conn:
        actions = [(e.action, e.actor, e.detail) for e in audit_entries(conn, limit=3)]
    assert actions[1] == ("balance.adjustment", "admin", {"amount": -5 * YUAN, "balance": 45 * YUAN, "note": "correction"})


def test_adjustment_may_overdraw_but_charges_may_not(store: Harness) -> None:
    ent = store.enterprise(balance=0)
    store.run(Recharge(ent.id, -YUAN, store.clock.now, "admin", kind=LedgerKind.ADJUSTMENT))
    assert store.balance(ent.id) == -YUAN
    with pytest.raises(InsufficientBalance):
        store.accept(ent)


def test_prices_fall_back_from_sub_account_to_enterprise(store: Harness) -> None:
    ent = store.enterprise()
    sub = store.sub_account(ent)
    with store.conn() as conn:
        assert price_for(conn, sub.id, "cmcc") is None
    store.run(SetPrice(ent.id, 4_000, store.clock.now, "admin"))
    store.run(SetPrice(ent.id, 3_500, store.clock.now, "admin", "cmcc"))
    store.run(SetPrice(sub.id, 3_800, store.clock.now, "admin"))
    with store.conn() as conn:
        assert price_for(conn, ent.id, "cmcc") == 3_500
        assert price_for(conn, ent.id, "ctcc") == 4_000
        assert price_for(conn, sub.id, "cmcc") == 3_800
    store.run(SetPrice(sub.id, 3_000, store.clock.now, "admin"))  # replaces
    with store.conn() as conn:
        assert price_for(conn, sub.id, None) == 3_000
    p = schema.prices
    assert store.scalar(sa.select(sa.func.count()).select_from(p)) == 3


def test_update_account_is_audited(store: Harness) -> None:
    ent = store.enterprise()
    changed = store.run(UpdateAccount(ent.id, store.clock.now, "admin", (("tps", 500), ("allowed_ips", ("127.0.0.1",)))))
    assert (changed.tps, changed.allowed_ips) == (500, ("127.0.0.1",))
    with pytest.raises(InvalidOperation):
        store.run(UpdateAccount(ent.id, store.clock.now, "admin", (("balance", 10**9),)))
    with store.conn() as conn:
        [entry] = audit_entries(conn, limit=1)
    assert (entry.action, entry.target, entry.detail) == ("account.update", str(ent.id), {"allowed_ips": ["127.0.0.1"], "tps": 500})
