"""A flood of binds with wrong credentials while a bound client submits (the whole gateway in process).

Every bind costs an argon2 check (0.2-0.5 s of a core here, by design).  Run
freely on the store's four reader threads, a flood of them left the reads a
submit needs waiting behind the hashes and starved the reactor of CPU: a good
client's batch took seconds instead of a tenth.  The checks are bounded now
(``smsgw.pipeline.password_checks``), and this test holds the gateway to it:

* 24 binds arrive at once, each from an address and a login of its own, so no
  lockout stops them (a spread-out flood).  Meanwhile the bound client's
  batches of 30 submits and a query_sm (a store read) are answered about as
  fast as before the flood (compared with a baseline measured in the same
  test, so a loaded machine does not make it flaky); beyond the few checks
  running and the short queue, binds are refused at once with ESME_RBINDFAIL;
  every bind gets an answer.
* 10 wrong passwords for one account from one address: the lockout locks its
  login and address after 5 failures, and the binds still waiting their turn
  are then refused without a check: at most 5 + the checks already running
  cost argon2.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.threads import deferToThreadPool

from smsgw.policy.lockout import LockoutRules
from smsgw.protocols.smpp34.status import CommandStatus as S
from smsgw.store.passwords import DEFAULT_HASHER, verify_password
from tests.faults.test_carrier_faults import FaultGateway, Sent, capture_log, failures
from tests.gateway.wire_client import WireClient, within

#: binds of the spread-out flood, and of the burst on one account from one address
FLOOD, BURST = 24, 10
#: a batch during the flood may take SLOWDOWN x the baseline plus the time of HASHES password checks, both
#: measured in the test (so a loaded machine moves the bound too): generous, as the flood's checks still use
#: a core, but far below the unbounded checks' delay (ten checks' time or more: 1.5-3.9 s against 0.06 s)
SLOWDOWN, HASHES = 3.0, 4


@pytest.fixture
def logged() -> Iterator[list[dict[str, Any]]]:
    with capture_log() as events:
        yield events


async def connect_from(port: int, address: str) -> WireClient:
    """A connection to the gateway from another loopback address (each flood bind has an address of its own)."""
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=5, bindAddress=(address, 0))
    return await connectProtocol(endpoint, WireClient())


async def timed_hash(gw: FaultGateway) -> float:
    """Seconds one argon2 verification takes on the gateway's reader pool now (the gateway's hasher)."""
    password_hash = await deferToThreadPool(reactor, gw.service.readers, DEFAULT_HASHER.hash, "secret")
    started = time.monotonic()
    await deferToThreadPool(reactor, gw.service.readers, verify_password, password_hash, "guess")
    return time.monotonic() - started


async def timed_batch(gw: FaultGateway, client: WireClient, sent: Sent, seed: int) -> float:
    """Seconds until a batch of 30 submits and a query_sm of the last one are all answered."""
    started = time.monotonic()
    await gw.submit(client, 30, sent, seed=seed, window=30)
    query = await within(client.request("query_sm", {"message_id": sent.ids[-1], "source_addr": "1065"}), 30)
    assert (query.command, query.status) == ("query_sm_resp", 0), query
    return time.monotonic() - started


def binds_at_once(clients: list[tuple[WireClient, str, str]]) -> Deferred[list[Any]]:
    """Send every bind now, in one go (all connected beforehand); fires with their statuses ("closed": none)."""
    answers = DeferredList([c.bind(login, password) for c, login, password in clients], consumeErrors=True)
    answers.addCallback(lambda results: [answer.status if ok else "closed" for ok, answer in results])
    return within(answers, 60)


@pytest_twisted.ensureDeferred
async def test_a_bind_flood_does_not_hold_up_a_bound_client(tmp_path: Path, logged: list[Any]) -> None:
    gw = FaultGateway(tmp_path, smpp={"bind_timeout": 60.0})
    try:
        await gw.start()
        intake, store = gw.service.intake, gw.service.store
        assert intake is not None and store is not None
        limit = LockoutRules().limit
        assert intake.lockout.rules.limit == limit
        await gw.account("victim", "right password", sender=False)
        sent = Sent()
        good = await gw.client()
        await timed_batch(gw, good, sent, seed=1)  # warm: prices cached, links up
        baseline = max([await timed_batch(gw, good, sent, seed=2 + n) for n in range(2)])
        one_hash = await timed_hash(gw)

        flood = [(await connect_from(gw.port, f"127.0.0.{2 + n}"), f"flood{n}", "guess") for n in range(FLOOD)]
        answers = binds_at_once(flood)
        during = [await timed_batch(gw, good, sent, seed=10 + n) for n in range(3)]
        unanswered = sum(1 for c, _, _ in flood if not any(p.command.startswith("bind") for p in c.received))
        statuses = await answers
        assert unanswered > 0, "the flood was over before the measurement: it measured nothing"
        assert max(during) <= SLOWDOWN * baseline + HASHES * one_hash, (baseline, one_hash, during)
        # checked in turn (an unknown login costs a hash too), or refused at once without one
        refused, checked = statuses.count(S.ESME_RBINDFAIL), statuses.count(S.ESME_RINVSYSID)
        assert refused + checked == FLOOD and refused > 0, statuses
        assert store.passwords.refused == refused

        burst = [(await connect_from(gw.port, "127.0.0.99"), "victim", "wrong") for _ in range(BURST)]
        checked_before = store.passwords.checked
        burst_statuses = await binds_at_once(burst)
        wrong, locked = burst_statuses.count(S.ESME_RINVPASWD), burst_statuses.count(S.ESME_RBINDFAIL)
        assert wrong + locked == BURST and limit <= wrong <= limit + store.passwords.concurrency, burst_statuses
        assert store.passwords.checked - checked_before == wrong and store.passwords.dropped == locked
        assert intake.lockout.locked("ip:127.0.0.99", reactor.seconds())

        await gw.all_receipted(good, sent, 60)  # the good client's messages went out all along
        assert sorted(sent.receipts(good)) == sorted(sent.ids)
        assert failures(logged) == []
        for c, _, _ in flood + burst:
            c.abort()
        good.abort()
    finally:
        await gw.stop()
    print(f"baseline {baseline:.2f} s per 30 submits + query_sm, one argon2 check {one_hash:.2f} s; during a flood of {FLOOD} binds "
          f"{', '.join(f'{x:.2f}' for x in during)} s; flood: {checked} checked, {refused} refused at once; "
          f"burst of {BURST} wrong passwords: {wrong} checked, {locked} refused once locked out")
