"""The store's administrative operations and listings (smsgw.store.admin_ops), on SQLite and PostgreSQL."""

from __future__ import annotations

import attrs
import pytest
import sqlalchemy as sa

from smsgw.admin.notices import password_notice, temporary_password
from smsgw.domain import ids
from smsgw.domain.coding import Coding, decode
from smsgw.domain.model import (
    DEFAULT_VALIDITY_MS,
    YUAN,
    Account,
    LedgerKind,
    Message,
    MessageState,
    Segment,
    SignatureStatus,
)
from smsgw.routing.numbering import load_plan
from smsgw.store import admin_ops, schema
from smsgw.store.accounts import Recharge, authenticate
from smsgw.store.audit import audit_entries
from smsgw.store.errors import InvalidOperation
from smsgw.store.lists import AddSignature, DecideSignature
from smsgw.store.passwords import hash_password
from tests.admin.gateway import ROOT
from tests.store.harness import CHEAP_HASHER, Harness

PLAN = load_plan(ROOT / "config" / "numbering.toml")


def _notice(store: Harness, account: Account, password: str) -> tuple[Message, tuple[Segment, ...]]:
    return password_notice(account, password, ids=store.ids, plan=PLAN, now_ms=store.clock.now)


def test_reset_password_changes_it_and_queues_the_notice_together(store: Harness) -> None:
    ent = store.enterprise(reserved_phone="13800138000")
    message, segments = _notice(store, ent, "Tmp2Pass9x")
    notice_id = store.run(admin_ops.ResetPassword(ent.id, hash_password("Tmp2Pass9x", CHEAP_HASHER), message,
                                                  segments, store.clock.now, "manhole:ops"))
    assert notice_id == message.id
    with store.conn() as conn:
        assert authenticate(conn, ent.login, "Tmp2Pass9x", None, CHEAP_HASHER).ok
        assert not authenticate(conn, ent.login, "secret", None, CHEAP_HASHER).ok
        [entry] = [e for e in audit_entries(conn) if e.action == "account.password_reset"]
    assert entry.actor == "manhole:ops" and entry.detail == {"login": ent.login, "phone": "138****8000",
                                                             "notice": ids.to_text(notice_id)}
    assert store.state(notice_id) is MessageState.QUEUED
    m = schema.messages
    row = store.rows(sa.select(m).where(m.c.id == notice_id))[0]
    assert (row.dest_addr, row.charge, row.registered_delivery, row.carrier) == ("13800138000", 0, 0, "cmcc")
    assert "Tmp2Pass9x" not in row.text  # the password is only in what the carrier gets
    s = schema.segments
    [payload] = [r.payload for r in store.rows(sa.select(s).where(s.c.message_id == notice_id))]
    assert "Tmp2Pass9x" in decode(payload, Coding.UCS2)
    assert [r.kind for r in store.ledger(ent.id)] == [LedgerKind.RECHARGE.value]  # not charged


def test_reset_password_without_a_reserved_phone_changes_nothing(store: Harness) -> None:
    ent = store.enterprise()
    other = store.enterprise(reserved_phone="13800138000")
    message, segments = _notice(store, other, "Tmp2Pass9x")
    with pytest.raises(InvalidOperation, match="no reserved phone"):
        store.run(admin_ops.ResetPassword(ent.id, hash_password("x", CHEAP_HASHER),
                                          attrs.evolve(message, account_id=ent.id), segments, store.clock.now,
                                          "manhole:ops"))
    redirected = attrs.evolve(message, dest_addr="13900000000")
    with pytest.raises(InvalidOperation, match="reserved phone"):
        store.run(admin_ops.ResetPassword(other.id, hash_password("x", CHEAP_HASHER), redirected, segments,
                                          store.clock.now, "manhole:ops"))
    with pytest.raises(InvalidOperation, match="argon2"):
        store.run(admin_ops.ResetPassword(other.id, "plain", message, segments, store.clock.now, "manhole:ops"))
    with store.conn() as conn:
        assert authenticate(conn, other.login, "secret", None, CHEAP_HASHER).ok
        assert [e.action for e in audit_entries(conn) if e.action == "account.password_reset"] == []
    assert store.scalar(sa.select(sa.func.count()).select_from(schema.messages)) == 0


def test_audited_writes_only_the_audit_row(store: Harness) -> None:
    store.run(admin_ops.Audited("link.suspend", "cmcc-1", store.clock.now, "manhole:ops", (("reason", "maintenance"),)))
    with store.conn() as conn:
        [entry] = audit_entries(conn)
    assert (entry.action, entry.target, entry.actor, entry.detail) == ("link.suspend", "cmcc-1", "manhole:ops",
                                                                       {"reason": "maintenance"})


def test_listings(store: Harness) -> None:
    first, second = store.enterprise(), store.enterprise(balance=0)
    sub = store.sub_account(first)
    store.run(Recharge(second.id, 5 * YUAN, store.clock.now, "manhole:ops", "first payment"))
    with store.conn() as conn:
        assert [a.id for a in admin_ops.list_accounts(conn)] == [first.id, second.id]
        assert [a.id for a in admin_ops.list_accounts(conn, after_id=first.id)] == [second.id]
        assert [a.id for a in admin_ops.list_accounts(conn, first.id)] == [sub.id]
        assert admin_ops.find_account(conn, sub.login) == admin_ops.find_account(conn, sub.id)
        assert admin_ops.find_account(conn, "nobody") is None
        [entry] = admin_ops.ledger_entries(conn, second.id)
        assert (entry.amount, entry.kind, entry.note, entry.actor) == (5 * YUAN, LedgerKind.RECHARGE, "first payment",
                                                                       "manhole:ops")
    one = store.run(AddSignature(first.id, "【甲】", store.clock.now, "web"))
    two = store.run(AddSignature(second.id, "【乙】", store.clock.now, "web"))
    store.run(DecideSignature(one, SignatureStatus.VERIFIED, store.clock.now, "manhole:ops"))
    with store.conn() as conn:
        assert [s.id for s in admin_ops.signatures(conn)] == [two]
        assert [s.text for s in admin_ops.signatures(conn, None)] == ["【甲】", "【乙】"]
        assert [s.decided_by for s in admin_ops.signatures(conn, SignatureStatus.VERIFIED, first.id)] == ["manhole:ops"]


def test_messages_to_a_number_within_a_period(store: Harness) -> None:
    ent = store.enterprise()
    old = store.accept(ent, dest="13900000001")
    store.clock.advance(3 * 86_400_000)
    new = store.accept(ent, dest="13900000001", expires_at=store.clock.now + DEFAULT_VALIDITY_MS)
    store.accept(ent, dest="13900000002")
    with store.conn() as conn:
        assert [m.id for m in admin_ops.messages_to(conn, "13900000001", 0)] == [new.id, old.id]
        assert [m.id for m in admin_ops.messages_to(conn, "13900000001", store.clock.now - 86_400_000)] == [new.id]


def test_temporary_passwords_and_notices() -> None:
    words = {temporary_password() for _ in range(50)}
    assert len(words) == 50 and all(len(w) == 10 and not set(w) & set("0O1lI") for w in words)
    from smsgw.domain.ids import IdGenerator

    account = Account(id=7, login="acme", parent_id=3, reserved_phone="13300000000")
    message, segments = password_notice(account, "x" * 80, ids=IdGenerator(lambda: 1_767_225_600_000, node=1),
                                        plan=PLAN, now_ms=1_767_225_600_000, template="{password}")
    assert (message.carrier, message.enterprise_id, message.parts) == ("ctcc", 3, 2)  # 80 UCS2 characters: 2 parts
    assert [s.esm_class for s in segments] == [0x40, 0x40] and segments[0].payload.startswith(b"\x05\x00\x03")
    with pytest.raises(ValueError, match="no reserved phone"):
        password_notice(attrs.evolve(account, reserved_phone=None), "x", ids=IdGenerator(lambda: 1_767_225_600_000,
                                                                                         node=1),
                        plan=PLAN, now_ms=1_767_225_600_000)
