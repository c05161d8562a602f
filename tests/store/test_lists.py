"""Blacklists, keyword lists, signatures and portability overrides."""

from __future__ import annotations

from smsgw.domain.model import SignatureStatus
from smsgw.store.audit import audit_entries
from smsgw.store.lists import (
    AddSignature,
    Blacklist,
    DecideSignature,
    Keyword,
    SetPortability,
    is_blacklisted,
    iter_blacklist,
    keywords,
    portability_override,
    verified_signatures,
)
from tests.store.harness import Harness


def test_blacklists_global_and_per_enterprise(store: Harness) -> None:
    ent = store.enterprise()
    other = store.enterprise()
    now = store.clock.now
    assert store.run(Blacklist("13800000001", now, "admin", reason="complaint")) is True
    assert store.run(Blacklist("13800000001", now, "admin")) is False  # already there
    assert store.run(Blacklist("13800000002", now, "ent", scope_id=ent.id)) is True
    with store.conn() as conn:
        assert is_blacklisted(conn, "13800000001")
        assert is_blacklisted(conn, "13800000001", other.id)
        assert is_blacklisted(conn, "13800000002", ent.id)
        assert not is_blacklisted(conn, "13800000002", other.id)
        assert not is_blacklisted(conn, "13800000002")
    assert store.run(Blacklist("13800000001", now, "admin", listed=False)) is True
    with store.conn() as conn:
        assert not is_blacklisted(conn, "13800000001")
        assert [e.action for e in audit_entries(conn)][:3] == ["blacklist.remove", "blacklist.add", "blacklist.add"]


def test_blacklist_is_read_in_pages(store: Harness) -> None:
    ent = store.enterprise()
    expected = []
    for i in range(25):
        scope = 0 if i % 2 else ent.id
        store.run(Blacklist(f"1390000{i:04d}", store.clock.now, "admin", scope_id=scope))
        expected.append((scope, f"1390000{i:04d}"))
    with store.conn() as conn:
        assert list(iter_blacklist(conn, page=4)) == sorted(expected)


def test_keywords_signatures_portability(store: Harness) -> None:
    ent = store.enterprise()
    now = store.clock.now
    for word in ("退订", "TD", "T"):
        store.run(Keyword("unsubscribe", word, now, "admin"))
    store.run(Keyword("review", "贷款", now, "admin"))
    store.run(Keyword("review", "彩票", now, "admin", scope_id=ent.id))
    assert store.run(Keyword("unsubscribe", "T", now, "admin", listed=False)) is True
    with store.conn() as conn:
        assert keywords(conn, "unsubscribe") == [(0, "TD"), (0, "退订")]
        assert keywords(conn, "review") == [(0, "贷款"), (ent.id, "彩票")]
    first = store.run(AddSignature(ent.id, "【示例】", now, "ent"))
    store.run(AddSignature(ent.id, "【测试】", now, "ent"))
    store.run(DecideSignature(first, SignatureStatus.VERIFIED, now, "admin"))
    with store.conn() as conn:
        assert verified_signatures(conn, ent.id) == ["【示例】"]
    store.run(SetPortability("13312345678", "cmcc", now, "admin", "携号转网"))
    with store.conn() as conn:
        assert portability_override(conn, "13312345678") == "cmcc"
    store.run(SetPortability("13312345678", None, now, "admin"))
    with store.conn() as conn:
        assert portability_override(conn, "13312345678") is None
