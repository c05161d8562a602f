"""Message history: readable, complete, and checked (the harness's checker catches bad rows)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from smsgw.domain.model import MessageState, Report
from smsgw.store import schema
from smsgw.store.dispatching import ClaimDue, Submitted
from smsgw.store.queries import count_by_state, history, max_message_id, messages_of
from smsgw.store.reporting import RecordReport
from tests.store.harness import Harness

S = MessageState


def test_a_long_message_history_has_its_parts(store: Harness) -> None:
    ent = store.enterprise()
    msg = store.accept(ent, parts=2)
    t1 = store.clock.advance(100)
    store.run(ClaimDue(t1, 10))
    t2 = store.clock.advance(100)
    store.run(Submitted(msg.id, 1, "cmcc", "a", t2))
    store.run(Submitted(msg.id, 2, "cmcc", "b", t2))
    t3 = store.clock.advance(100)
    store.run(RecordReport(Report("cmcc", "a", S.DELIVERED, "DELIVRD", t3)))
    store.run(RecordReport(Report("cmcc", "b", S.DELIVERED, "DELIVRD", t3)))
    with store.conn() as conn:
        events = [(e.at - msg.created_at, e.seq, e.from_state, e.to_state) for e in history(conn, msg.id)]
    assert events == [
        (0, 0, None, S.ACCEPTED), (0, 0, S.ACCEPTED, S.QUEUED),
        (100, 0, S.QUEUED, S.SENDING), (100, 1, S.QUEUED, S.SENDING), (100, 2, S.QUEUED, S.SENDING),
        (200, 1, S.SENDING, S.SUBMITTED), (200, 2, S.SENDING, S.SUBMITTED), (200, 0, S.SENDING, S.SUBMITTED),
        (300, 1, S.SUBMITTED, S.DELIVERED), (300, 2, S.SUBMITTED, S.DELIVERED), (300, 0, S.SUBMITTED, S.DELIVERED),
    ]  # fmt: skip


def test_listings_and_counts(store: Harness) -> None:
    ent = store.enterprise()
    sent = [store.accept(ent) for _ in range(5)]
    with store.conn() as conn:
        page = messages_of(conn, ent.id, limit=3)
        assert [m.id for m in page] == [m.id for m in reversed(sent)][:3]
        assert [m.id for m in messages_of(conn, ent.id, limit=3, before_id=page[-1].id)] == [sent[1].id, sent[0].id]
        assert count_by_state(conn) == {S.QUEUED: 5}
        assert max_message_id(conn) == sent[-1].id


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_invariant_checker_catches_a_forbidden_transition(store: Harness) -> None:
    ent = store.enterprise()
    msg = store.accept(ent)
    e = schema.message_events
    with store.engine.begin() as conn:
        conn.execute(sa.insert(e).values(message_id=msg.id, seq=0, at=0, from_state="queued", to_state="delivered"))
    with pytest.raises(AssertionError, match="not allowed"):
        store.check_invariants()
    store.check_at_end = False
