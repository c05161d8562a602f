"""Database faults under load: SQLite locked by another process, PostgreSQL restarted.

The rig (``rig``) runs the three carrier simulators and the gateway as
processes of their own; a ``LoadClient`` submits a light, paced load of
messages (each one until it is acknowledged, sending again after a temporary
refusal).

* SQLite locked: another process takes the write lock (``BEGIN EXCLUSIVE``)
  for longer than the store writer's retry window (``Writer.retry_for``,
  10 s).  While it is held no submit_sm gets status 0 (durable before
  acknowledged); submits wait, and those in a batch that waited the whole
  retry window are refused with ESME_RSYSERR
  (``intake.STORE_STATUS[StoreUnavailable]``), a status the client may
  retry.  Nothing else is refused, and what the carrier links reported
  meanwhile is kept until the database takes it (``Writer``,
  ``retry_until_stored``).
* PostgreSQL restarted: the gateway on a private throw-away cluster
  (``tests/pgserver.Cluster``, never the machine's shared server) which is
  stopped for a few seconds and started again under load; the gateway goes on
  without a restart of its own.

After the fault the test waits (bounded) until every message is acknowledged,
has its receipt and the store has nothing left to do, stops the gateway and
checks the store as the crash test does (``rig.StoreAudit``): every
acknowledged message stored, delivered, with its segments and exactly one
charge; balances equal to their ledgers; histories that follow the state
machine.  Figures are printed (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest

from smsgw.protocols.smpp34.status import CommandStatus
from tests.faults.loadclient import LoadClient, Plan
from tests.faults.rig import AccountSpec, Child, Rig
from tests.faults.store_audit import StoreAudit, open_work
from tests.pgserver import Cluster

pytestmark = pytest.mark.slow

ACCOUNTS = (AccountSpec("store-a", "secret-a"), AccountSpec("store-b", "secret-b"))
BINDS = 2
#: the store writer's retry window (``smsgw.store.writer.Writer``'s default, which the gateway uses)
RETRY_FOR = 10.0
ESME_RSYSERR = int(CommandStatus.ESME_RSYSERR)
TIMEOUT = 300.0
STALL = 60.0

#: holds SQLite's write lock for argv[2] seconds; says "locked" and "released"
LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
conn.execute("BEGIN EXCLUSIVE")
print("locked", time.time(), flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
print("released", time.time(), flush=True)
"""


class AckTimes:
    """When each acknowledgement arrived (wall clock), read from the client's tally as it grows."""

    def __init__(self, client: LoadClient) -> None:
        self.client = client
        self.times: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            grown = len(self.client.tally.acked) - len(self.times)
            self.times.extend([time.time()] * grown)
            await asyncio.sleep(0.05)

    def __enter__(self) -> AckTimes:
        self._task = asyncio.create_task(self._watch())
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._task is not None
        self._task.cancel()

    def between(self, start: float, end: float) -> int:
        return sum(1 for t in self.times if start <= t <= end)


Fault = Callable[[AckTimes], Awaitable[dict[str, Any]]]


async def load_with_fault(rig: Rig, plan: Plan, rate: float, fault: Fault, after: int) -> tuple[LoadClient, dict[str, Any]]:
    """Run the load; once ``after`` messages are settled, run ``fault`` (its figures); then wait until all is done."""
    client = LoadClient(rig.gateway.smpp_port, rig.credentials, plan, binds=BINDS, window=16, rate=rate)
    client.start()
    try:
        with AckTimes(client) as acks:
            await client.wait_settled(after, TIMEOUT, STALL)
            figures = await fault(acks)
        await client.wait_settled(len(plan), TIMEOUT, STALL)
        await client.wait_receipts(TIMEOUT, STALL)
        # every stored message final (also those whose submit_sm_resp was lost); receipts whose
        # acknowledgement the fault kept from the store are offered again when their lease ends
        deadline = time.monotonic() + TIMEOUT
        while (await asyncio.to_thread(open_work, rig.url))[0]:
            assert time.monotonic() < deadline, f"store still busy: {open_work(rig.url)}"
            await asyncio.sleep(0.5)
    finally:
        await client.close()
    return client, figures


def check_store(rig: Rig, client: LoadClient, name: str, figures: dict[str, Any]) -> None:
    """Stop the gateway politely and check everything the module docstring lists."""
    assert rig.gateway.stop() == 0, rig.gateway.log_text()[-3000:]
    tally = client.tally
    audit = StoreAudit.read(rig.url)
    figures.update({
        "messages": len(client.plan), "acked": len(tally.acked), "stored_messages": len(audit.messages),
        "temporary_refusals": {f"0x{k:02x}": v for k, v in tally.retried.items()},
        "unanswered_submits": tally.unanswered, "receipts": sum(tally.receipts.values()),
        "duplicate_receipts": tally.duplicate_receipts, "connection_losses": tally.connection_losses,
    })  # fmt: skip
    print(f"\n{name}:", json.dumps(figures, indent=1))
    (rig.workdir / "figures.json").write_text(json.dumps(figures, indent=1))
    assert not tally.refused, f"final refusals: {dict(tally.refused)}"
    assert len(tally.acked) == len(client.plan)
    assert audit.problems(tally.acked) == []
    assert not [mid for mid, row in audit.messages.items() if row[0] != "delivered"]
    assert not tally.missing_receipts
    assert set(tally.stray_receipts) <= set(audit.messages)


def test_sqlite_locked_by_another_process(tmp_path: Path) -> None:
    hold = RETRY_FOR + 3.0
    plan = Plan.build(3000, seed=11)
    with Rig.running(tmp_path, ACCOUNTS) as rig:
        database = rig.url.removeprefix("sqlite:///")

        async def lock(acks: AckTimes) -> dict[str, Any]:
            locker = Child("locker", [sys.executable, "-c", LOCKER, database, str(hold)], tmp_path / "locker.log")
            try:
                locked = float((await asyncio.to_thread(locker.wait_for, r"locked (\S+)", 60)).group(1))
                released = float((await asyncio.to_thread(locker.wait_for, r"released (\S+)", hold + 60)).group(1))
            finally:
                locker.kill()
            # acknowledgements of commits made just before the lock may still be on their way for a moment
            return {"lock_held_s": round(released - locked, 1), "acked_during_lock": acks.between(locked + 0.5, released)}

        client, figures = asyncio.run(load_with_fault(rig, plan, 150.0, lock, after=600))
        check_store(rig, client, "SQLite locked", figures)
    assert figures["acked_during_lock"] == 0
    # whether a submit is refused depends on which batch of the writer it fell in: the first batch after
    # the lock gives up after RETRY_FOR; the next one starts then and outlasts the lock
    assert set(client.tally.retried) <= {ESME_RSYSERR}


class RestartableCluster(Cluster):
    """``tests.pgserver.Cluster`` that can be stopped and started again (same data, same port)."""

    def _ctl(self, *args: str) -> None:
        subprocess.run([self._pg_ctl, "-D", self.data, "-w", *args], check=True, capture_output=True,
                       preexec_fn=self._demote(), timeout=120)

    def stop_server(self) -> None:
        self._ctl("-m", "fast", "stop")

    def start_server(self) -> None:
        self._ctl("-l", f"{self.directory}/log", "-o",
                  f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1", "start")


@pytest.mark.postgres
def test_postgresql_restarted_under_load(tmp_path: Path) -> None:
    down = 4.0
    plan = Plan.build(2500, seed=13)
    cluster = RestartableCluster()
    try:
        with Rig.running(tmp_path, ACCOUNTS, store_url=cluster.url) as rig:

            async def restart(acks: AckTimes) -> dict[str, Any]:
                began = time.time()
                await asyncio.to_thread(cluster.stop_server)
                stopped = time.time()
                await asyncio.sleep(down)
                await asyncio.to_thread(cluster.start_server)
                started = time.time()
                return {"postgres_stop_s": round(stopped - began, 1), "postgres_down_s": round(started - stopped, 1),
                        "acked_while_down": acks.between(stopped + 0.5, started)}

            client, figures = asyncio.run(load_with_fault(rig, plan, 150.0, restart, after=500))
            check_store(rig, client, "PostgreSQL restarted", figures)
        assert figures["acked_while_down"] == 0
        assert set(client.tally.retried) <= {ESME_RSYSERR}
    finally:
        cluster.stop()
