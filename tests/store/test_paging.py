"""Paging, not loading: a million held messages, bounded memory, index-driven pages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from smsgw.domain.model import HoldReason, MessageState
from smsgw.store import schema
from smsgw.store.dispatching import ClaimDue, ReleaseHeld
from smsgw.store.expiry import Expire
from smsgw.store.lifecycle import state_is
from tests.store.harness import Harness

S = MessageState
ROOT = Path(__file__).resolve().parents[2]
HELD = 1_000_000
MB = 1024 * 1024


@pytest.mark.slow
def test_a_million_held_messages_are_paged_in_bounded_memory(store: Harness) -> None:
    store.check_at_end = False  # the harness would load every row to check it
    ent = store.enterprise()
    opening = store.clock.now + 86_400_000
    store.writer.stop(timeout=30)
    out = subprocess.run(
        [sys.executable, "-m", "tests.store.paging_child", store.url, str(ent.id), str(HELD), str(opening)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    print(f"\npaging [{store.backend}]: {figures}")
    due = HELD // 50
    assert figures["released"] == due and figures["claimed"] == due
    assert figures["release_pages"] == due // 1000 and figures["claim_pages"] == due // 500
    # Loading the held set as objects would take this much (measured on a sample)...
    loading_all = figures["bytes_per_loaded_message"] * HELD
    assert loading_all > 500 * MB
    # ... paging through it took a small, fixed amount, whatever the held count.
    assert figures["traced_peak_bytes"] < 8 * MB
    assert figures["rss_peak_reset"]
    assert (figures["rss_peak_kb"] - figures["rss_before_kb"]) * 1024 < 32 * MB
    m = schema.messages
    with store.conn() as conn:
        counts: dict[str, int] = dict(conn.execute(sa.select(m.c.state, sa.func.count()).group_by(m.c.state)).all())
    assert counts == {"held": HELD - due, "sending": due}


def explain(store: Harness, query: sa.Select) -> str:  # type: ignore[type-arg]
    with store.conn() as conn:
        if store.backend == "sqlite":
            sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
            return " | ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
        return _pg_explain(conn, query)


def _pg_explain(conn: sa.Connection, query: sa.Select) -> str:  # type: ignore[type-arg]
    from sqlalchemy.dialects import postgresql

    sql = str(query.compile(dialect=postgresql.psycopg.dialect(), compile_kwargs={"literal_binds": True}))
    conn.exec_driver_sql("SET enable_seqscan = off")  # small test tables: ask whether an index *can* serve it
    return " | ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {sql}"))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_pages_use_the_partial_indexes(store: Harness) -> None:
    m, s = schema.messages, schema.segments
    held = (
        sa.select(m.c.id).where(state_is(m.c.state, S.HELD), m.c.due_at <= 10).order_by(m.c.due_at, m.c.id).limit(10)
    )
    due = (
        sa.select(s.c.message_id)
        .where(state_is(s.c.state, S.QUEUED), s.c.due_at <= 10)
        .order_by(s.c.due_at, s.c.message_id, s.c.seq)
        .limit(10)
    )
    expiring = (
        sa.select(m.c.id)
        .where(state_is(m.c.state, S.HELD, S.QUEUED, S.SENDING, S.SUBMITTED), m.c.expires_at <= 10)
        .order_by(m.c.expires_at, m.c.id)
        .limit(10)
    )
    for query, index in ((held, "ix_messages_held"), (due, "ix_segments_queued"), (expiring, "ix_messages_open")):
        plan = explain(store, query)
        assert index in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan  # the index gives the order


def test_pages_are_bounded_and_ordered(store: Harness) -> None:
    ent = store.enterprise()
    t0 = store.clock.now
    held = [store.accept(ent, state=S.HELD, hold_reason=HoldReason.WINDOW, due_at=t0 + (7 - i) * 10) for i in range(8)]
    released = []
    while n := store.run(ReleaseHeld(t0 + 100, 3)):
        assert n <= 3
        released.append(n)
    assert released == [3, 3, 2]
    order = [c.message_id for c in store.run(ClaimDue(t0 + 100, 100))]
    assert order == [msg.id for msg in held]  # released at the same time: id order
    assert store.run(Expire(t0, 3)) == 0
