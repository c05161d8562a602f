"""Recovery at start, and a real crash: a child process killed with SIGKILL mid-stream."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest
import sqlalchemy as sa

from smsgw.domain.model import YUAN, LedgerKind, MessageState
from smsgw.store import schema
from smsgw.store.dispatching import ClaimDue, Submitted
from smsgw.store.errors import LedgerMismatch
from smsgw.store.ledger import BalanceMismatch, check_balances
from smsgw.store.recovery import recover
from tests.store.harness import Harness

S = MessageState
ROOT = Path(__file__).resolve().parents[2]
ACKS_BEFORE_KILL = 3000  # crash_child.STALL_AFTER


def test_recovery_requeues_sending(store: Harness) -> None:
    ent = store.enterprise()
    whole = store.accept(ent)
    half = store.accept(ent, parts=2)
    waiting = store.accept(ent, due_at=store.clock.now + 10_000)
    store.run(ClaimDue(store.clock.now, 10))
    store.run(Submitted(half.id, 1, "cmcc", "h1", store.clock.now))
    store.writer.stop(timeout=30)  # the gateway "dies" here
    report = recover(store.engine, store.clock.now + 5)
    assert report.requeued_segments == 2 and report.mismatches == ()
    assert (store.state(whole.id), store.part_states(whole.id)) == (S.QUEUED, [S.QUEUED])
    # a message with a part already at the carrier stays sending; the rest goes again
    assert (store.state(half.id), store.part_states(half.id)) == (S.SENDING, [S.SUBMITTED, S.QUEUED])
    assert store.state(waiting.id) is S.QUEUED
    assert recover(store.engine, store.clock.now + 6).requeued_segments == 0  # idempotent
    store.start_new_writer()
    claimed = store.run(ClaimDue(store.clock.now + 5, 10))
    assert {(c.message_id, c.seq) for c in claimed} == {(whole.id, 1), (half.id, 2)}


def test_ledger_check_finds_tampering(store: Harness) -> None:
    ent = store.enterprise(balance=YUAN)
    store.accept(ent)
    a = schema.accounts
    with store.engine.begin() as conn:
        conn.execute(sa.update(a).where(a.c.id == ent.id).values(balance=a.c.balance + 1))
    with store.conn() as conn:
        assert check_balances(conn) == [BalanceMismatch(ent.id, YUAN - 4_000 + 1, YUAN - 4_000)]
    with pytest.raises(LedgerMismatch):
        recover(store.engine, store.clock.now)
    assert recover(store.engine, store.clock.now, strict=False).mismatches == (BalanceMismatch(ent.id, YUAN - 3_999, YUAN - 4_000),)
    with store.engine.begin() as conn:
        conn.execute(sa.update(a).where(a.c.id == ent.id).values(balance=a.c.balance - 1))


def read_lines(
    proc: subprocess.Popen[bytes], until: float, buffer: bytearray, lines: list[str], stop: Callable[[list[str]], bool]
) -> None:
    """Read the child's complete lines until ``stop(lines)`` is true or the deadline."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    while not stop(lines):
        remaining = until - time.monotonic()
        assert remaining > 0, f"child too slow: {len(lines)} lines"
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        buffer.extend(chunk)
        *complete, rest = buffer.split(b"\n")
        lines.extend(line.decode() for line in complete)
        buffer[:] = rest


@pytest.mark.slow
def test_kill_9_mid_stream_loses_no_acknowledged_message(store: Harness) -> None:
    ent = store.enterprise(balance=10_000_000 * YUAN)
    store.writer.stop(timeout=30)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.store.crash_child", store.url, str(ent.id)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    buffer = bytearray()
    lines: list[str] = []
    try:
        # the child blocks inside a writer transaction and says so: kill it there
        read_lines(proc, time.monotonic() + 60, buffer, lines, lambda ls: "STALL" in ls)
        os.kill(proc.pid, signal.SIGKILL)
        # whatever the child wrote before it died is still in the pipe
        read_lines(proc, time.monotonic() + 30, buffer, lines, lambda ls: False)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not [line for line in lines if line.startswith("ERROR")]
    claimed = int(next(line for line in lines if line.startswith("CLAIMED")).split()[1])
    assert claimed == 20
    acked = [int(line.split()[1]) for line in lines if line.startswith("ACK")]
    assert len(acked) >= ACKS_BEFORE_KILL and len(set(acked)) == len(acked)

    # reopen: every acknowledged message is there, whole, and paid for
    m, s, led = schema.messages, schema.segments, schema.ledger
    with store.conn() as conn:
        assert check_balances(conn) == []
        stored = {row.id: row for row in conn.execute(sa.select(m.c.id, m.c.parts, m.c.charge, m.c.state))}
        per_message = sa.select(s.c.message_id, sa.func.count()).group_by(s.c.message_id)
        part_counts: dict[int, int] = dict(conn.execute(per_message).all())
        charges: dict[int, int] = dict(
            conn.execute(sa.select(led.c.message_id, led.c.amount).where(led.c.kind == LedgerKind.CHARGE.value)).all()
        )
    missing = set(acked) - set(stored)
    assert not missing, f"{len(missing)} acknowledged messages lost"
    assert len(stored) >= len(acked) + 10  # and perhaps some committed but not yet answered
    audit = schema.audit_log
    with store.conn() as conn:  # the killed transaction left nothing
        assert conn.execute(sa.select(audit.c.id).where(audit.c.action == "crash.marker")).all() == []
    for mid, row in stored.items():  # nothing half-written
        assert part_counts[mid] == row.parts and charges[mid] == -row.charge
    sending = [mid for mid, row in stored.items() if row.state == S.SENDING.value]
    assert len(sending) == 10  # 20 claimed segments of ten 2-part messages

    report = recover(store.engine, store.clock.now)
    assert report.requeued_segments == claimed and report.mismatches == ()
    assert {store.state(mid) for mid in sending} == {S.QUEUED}
    store.start_new_writer()
