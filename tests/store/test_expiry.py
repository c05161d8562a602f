"""Expiry: the validity period (client's, account default, 48 h) ends messages with a receipt."""

from __future__ import annotations

import pytest

from smsgw.domain.model import DEFAULT_VALIDITY_MS, YUAN, HoldReason, MessageState, Report, expires_at_for
from smsgw.store.dispatching import ClaimDue, Submitted
from smsgw.store.expiry import Expire
from smsgw.store.reporting import RecordReport
from smsgw.store.tx import Rules
from tests.store.harness import PRICE, Harness

S = MessageState
HOUR = 3_600_000


def test_expires_at_rule() -> None:
    assert expires_at_for(1000, 5000, 3600) == 5000  # the client's validity period wins
    assert expires_at_for(1000, None, 3600) == 1000 + 3_600_000  # then the account's default
    assert expires_at_for(1000, None, None) == 1000 + DEFAULT_VALIDITY_MS  # then 48 hours
    assert DEFAULT_VALIDITY_MS == 48 * HOUR


def test_validity_sources_end_messages_at_their_time(store: Harness) -> None:
    ent = store.enterprise(default_validity_s=2 * 3600)
    t0 = store.clock.now
    client = store.accept(ent, expires_at=expires_at_for(t0, t0 + HOUR, ent.default_validity_s))
    account = store.accept(ent, expires_at=expires_at_for(t0, None, ent.default_validity_s))
    fallback = store.accept(ent, expires_at=expires_at_for(t0, None, None))
    assert store.run(Expire(t0 + HOUR - 1)) == 0
    assert store.run(Expire(t0 + HOUR)) == 1
    assert [store.state(m.id) for m in (client, account, fallback)] == [S.EXPIRED, S.QUEUED, S.QUEUED]
    assert store.run(Expire(t0 + 2 * HOUR)) == 1
    assert store.run(Expire(t0 + 48 * HOUR - 1)) == 0
    assert store.run(Expire(t0 + 48 * HOUR)) == 1
    assert {store.state(m.id) for m in (client, account, fallback)} == {S.EXPIRED}
    receipts = store.outbox(ent.id)
    assert [(r.ref_id, r.state, r.stat) for r in receipts] == [
        (client.id, "expired", "EXPIRED"), (account.id, "expired", "EXPIRED"), (fallback.id, "expired", "EXPIRED"),
    ]  # fmt: skip
    assert store.balance(ent.id) == 100 * YUAN - 3 * PRICE  # Rules(): expiry keeps the charge


def test_expired_messages_are_not_claimed(store: Harness) -> None:
    ent = store.enterprise()
    msg = store.accept(ent, expires_at=store.clock.now + 1000)
    assert store.run(ClaimDue(store.clock.now + 1000, 10)) == []
    store.run(Expire(store.clock.now + 1000))
    assert store.state(msg.id) is S.EXPIRED


def test_held_messages_expire_too(store: Harness) -> None:
    ent = store.enterprise()
    t0 = store.clock.now
    window = store.accept(ent, state=S.HELD, hold_reason=HoldReason.WINDOW, due_at=t0 + 5 * HOUR, expires_at=t0 + HOUR)
    review = store.accept(ent, state=S.HELD, hold_reason=HoldReason.REVIEW, expires_at=t0 + HOUR, parts=2)
    assert store.run(Expire(t0 + HOUR)) == 2
    assert (store.state(window.id), store.state(review.id)) == (S.EXPIRED, S.EXPIRED)
    assert store.part_states(review.id) == [S.EXPIRED, S.EXPIRED]


def test_submitted_messages_wait_for_the_report_grace(backend: str, db_url: str) -> None:
    store = Harness(backend, db_url, rules=Rules(report_grace_ms=HOUR)).start()
    try:
        ent = store.enterprise()
        t0 = store.clock.now
        msg = store.accept(ent, expires_at=t0 + HOUR, parts=2)
        sending = store.accept(ent, expires_at=t0 + HOUR)
        store.run(ClaimDue(t0, 10))
        store.run(Submitted(msg.id, 1, "cmcc", "g1", t0))
        store.run(Submitted(msg.id, 2, "cmcc", "g2", t0))
        store.run(RecordReport(Report("cmcc", "g1", S.DELIVERED, "DELIVRD", t0 + 10)))
        assert store.run(Expire(t0 + 2 * HOUR - 1)) == 0
        assert store.run(Expire(t0 + 2 * HOUR)) == 1
        assert store.part_states(msg.id) == [S.DELIVERED, S.EXPIRED]
        assert store.state(msg.id) is S.EXPIRED
        assert store.state(sending.id) is S.SENDING  # in a link's hands: left alone
        store.check_invariants()
    finally:
        store.close()


@pytest.mark.parametrize("page", [1, 7])
def test_expiry_pages(store: Harness, page: int) -> None:
    ent = store.enterprise()
    t0 = store.clock.now
    for i in range(10):
        store.accept(ent, expires_at=t0 + i)
    total = 0
    while (ended := store.run(Expire(t0 + 100, page))) == page:
        total += ended
    assert total + ended == 10
