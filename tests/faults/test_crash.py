"""SIGKILL under load: the gateway killed at random moments while clients submit tens of thousands of messages.

Three carrier simulators and the gateway (durable SQLite) run as processes of
their own (``rig``).  A ``LoadClient`` with four binds over two enterprises
submits 20,000 messages (short ASCII, short Chinese, long Chinese in three
segments, to all three carriers, each asking for a receipt), binding again
whenever the gateway goes away.  At seeded random points of the load the
gateway is killed with SIGKILL and started again at once on the same port and
data directory.  After the load the test waits (bounded, and failing as soon
as nothing moves for a minute) until every acknowledged message has its
receipt and the store has nothing left to do, stops the gateway politely and
checks:

* every message that got submit_sm_resp 0 is in the store, final, with its
  segments, charged exactly once; every stored message is final; every
  balance equals the sum of its ledger; every history follows the state machine;
* every acknowledged message got at least one receipt; duplicate receipts
  (offered again because their acknowledgement was not committed at the kill)
  are among what recovery found in the outbox and within kills x binds x the
  notifier's window;
* every segment reached its carrier; the segments sent twice are among those
  recovery found ``sending`` (sent, or about to be, but with no carrier id
  committed at the kill), at most kills x the dispatcher's in-flight bound.
  Figures compare them with kills x the sum of the links' windows: a
  segment leaves its link's window when the carrier answers, before its
  ``Submitted`` is committed, so one kill can resend more than a window.

The figures are printed (``pytest -s``) and written to ``figures.json`` in the
test's directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

from smsgw.pipeline.dispatcher import DispatcherConfig
from smsgw.pipeline.notifier import NotifierConfig
from tests.faults.loadclient import LoadClient, Plan
from tests.faults.rig import LINK_CONNECTIONS, LINK_WINDOW, LINKS, AccountSpec, Rig
from tests.faults.store_audit import StoreAudit, open_work

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("SMSGW_FAULTS_SEED", "20240517"))
MESSAGES = 20_000
KILLS = 3
BINDS = 4
WINDOW = 32
ACCOUNTS = (AccountSpec("crash-a", "secret-a", max_binds=BINDS), AccountSpec("crash-b", "secret-b", max_binds=BINDS))
#: generous bounds for a loaded two-core machine; a run that stops moving fails after STALL seconds
TIMEOUT = 600.0
STALL = 60.0
#: the sum of the links' windows in the rig's configuration
LINK_WINDOWS = len(LINKS) * LINK_CONNECTIONS * LINK_WINDOW


def kill_points(rng: random.Random, messages: int, kills: int) -> list[tuple[int, float]]:
    """(settled messages, extra delay in seconds) for each kill: one in each equal slice of 10-90% of the load."""
    low, high = int(messages * 0.1), int(messages * 0.9)
    width = (high - low) // kills
    return [(low + i * width + rng.randrange(width), rng.uniform(0.0, 0.5)) for i in range(kills)]


async def drive(rig: Rig, client: LoadClient, points: list[tuple[int, float]]) -> list[dict[str, Any]]:
    """Submit everything, killing and restarting the gateway at ``points``; then wait until all is done."""
    kills = []
    client.start()
    try:
        for settled, delay in points:
            await client.wait_settled(settled, TIMEOUT, STALL)
            await asyncio.sleep(delay)
            at = client.settled
            began = time.monotonic()
            await asyncio.to_thread(rig.gateway.restart)
            kills.append({"settled_at_kill": at, "restart_s": round(time.monotonic() - began, 2)})
        await client.wait_settled(len(client.plan), TIMEOUT, STALL)
        await client.wait_receipts(TIMEOUT, STALL)
        # receipts offered again after a kill are still on their way: wait for an empty outbox
        deadline = time.monotonic() + TIMEOUT
        while await asyncio.to_thread(open_work, rig.url) != (0, 0):
            assert time.monotonic() < deadline, f"store still busy: {open_work(rig.url)}"
            await asyncio.sleep(0.5)
    finally:
        await client.close()
    return kills


def test_sigkill_under_load(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    points = kill_points(rng, MESSAGES, KILLS)
    plan = Plan.build(MESSAGES, seed=SEED)
    started = time.monotonic()
    with Rig.running(tmp_path, ACCOUNTS) as rig:
        client = LoadClient(rig.gateway.smpp_port, rig.credentials, plan, binds=BINDS, window=WINDOW)
        kills = asyncio.run(drive(rig, client, points))
        assert rig.gateway.stop() == 0, rig.gateway.log_text()[-3000:]
        sims = rig.simulators.counters()
    duration = time.monotonic() - started
    tally = client.tally
    audit = StoreAudit.read(rig.url)
    recovered = rig.gateway.recoveries()[1:]  # the first start found nothing to recover

    carrier_of = {link.protocol: link.carrier for link in LINKS}
    segments_by_carrier = {carrier: 0 for carrier in carrier_of.values()}
    for mid, (_state, _parts, _charge, _enterprise, carrier) in audit.messages.items():
        segments_by_carrier[carrier] += audit.segments[mid]
    resent = {carrier_of[p]: sims[p].get("accepted", 0) - segments_by_carrier[carrier_of[p]] for p in sims}
    figures = {
        "seed": SEED, "messages": MESSAGES, "kills": len(kills), "kill_points": kills, "binds": BINDS,
        "acked": len(tally.acked), "stored_messages": len(audit.messages),
        "stored_segments": sum(audit.segments.values()), "unanswered_submits": tally.unanswered,
        "temporary_refusals": dict(tally.retried), "receipts": sum(tally.receipts.values()),
        "duplicate_receipts": tally.duplicate_receipts, "stray_receipts": len(tally.stray_receipts),
        "segments_sent_again": resent, "link_windows_x_kills": len(kills) * LINK_WINDOWS,
        "recovered": recovered, "binds_made": tally.binds, "connection_losses": tally.connection_losses,
        "gateway_start_s": rig.gateway.start_seconds, "duration_s": round(duration, 1),
    }  # fmt: skip
    print("\nSIGKILL under load:", json.dumps(figures, indent=1))
    (tmp_path / "figures.json").write_text(json.dumps(figures, indent=1))

    assert len(kills) == KILLS and rig.gateway.starts == KILLS + 1
    assert not tally.refused, f"final refusals: {dict(tally.refused)}"
    assert len(tally.acked) == MESSAGES
    assert audit.problems(tally.acked) == []
    assert not [mid for mid, row in audit.messages.items() if row[0] != "delivered"]
    assert not tally.missing_receipts
    # a receipt for a message whose submit_sm_resp was lost with the gateway: it was stored all the same
    assert set(tally.stray_receipts) <= set(audit.messages)
    assert len(audit.messages) <= MESSAGES + tally.unanswered
    assert len(recovered) == KILLS
    assert tally.duplicate_receipts <= sum(r["outbox_pending"] for r in recovered)
    assert tally.duplicate_receipts <= len(kills) * BINDS * NotifierConfig().window
    assert all(n >= 0 for n in resent.values()), resent
    assert sum(resent.values()) <= sum(r["requeued_segments"] for r in recovered)
    assert sum(r["requeued_segments"] for r in recovered) <= len(kills) * DispatcherConfig().max_in_flight
