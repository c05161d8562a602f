"""Client faults against the whole gateway in process (carriers simulated): misbehaving SMPP clients
cost the gateway bounded memory, their binds come back, and well-behaved clients never notice.

What ``tests/gateway/test_smpp_flow.py`` and ``test_smpp_hostile.py`` already prove on the intake
alone (back-pressure with MO piled up in the store, 40 hostile sockets, a client vanishing with
submits in flight) is not repeated; here the receipts come from the carriers while the faults go on:

* a transceiver submits with registered delivery and stops reading: its receipts are offered,
  time out and are offered again, yet the server's write buffer stays bounded (the connection is
  paused and the notifier stops offering to it) while another enterprise's client submits and
  gets every receipt; when the slow one reads again it gets all of its own;
* clients that vanish — reset, half-closed, or gone silent without a FIN — lose their binds
  without an unbind, and the receipts of their messages go, once each, to the next bind;
* 300 connections at once — binds far beyond the account's limit, idle sockets, garbage, half a
  header — while a well-behaved client keeps submitting: it is served throughout, every hostile
  socket is closed, and afterwards the connection count and the bind count are back where they
  were, so the account's full bind limit is free again.
"""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import pytest_twisted
from twisted.internet.defer import DeferredList

from smsgw.pipeline.notifier import NotifierConfig
from smsgw.protocols.smpp34.status import CommandStatus as S
from tests.faults.test_carrier_faults import FaultGateway, Sampler, Sent, capture_log, check_store, failures
from tests.gateway.wire_client import WireClient, buffered, connect, server_side, sleep, until, within


@pytest.fixture
def logged() -> Iterator[list[dict[str, Any]]]:
    with capture_log() as events:
        yield events

#: Twisted pauses a producer when its transport holds more than this (abstract.FileDescriptor.bufferSize)
TWISTED_BUFFER = 65536
SMALL_SOCKET_BUFFER = 4096
#: long enough for the crowd's password checks (argon2, ~0.1-0.5 s each on a loaded 2-core machine)
BIND_TIMEOUT = 8.0
#: the crowd's binds and the limit of its account
BINDS, CROWD_BINDS = 12, 3


def receipts_of(client: WireClient) -> list[str]:
    return Sent().receipts(client)


async def outbox_empty(gw: FaultGateway, timeout: float = 10.0) -> None:
    def count(conn: Any) -> int:
        return int(conn.exec_driver_sql("select count(*) from outbox").scalar_one())

    left = -1
    for _ in range(int(timeout / 0.1)):
        left = await gw.service.store.read(count)
        if left == 0:
            return
        await sleep(0.1)
    raise AssertionError(f"{left} item(s) still in the outbox after {timeout} s")


@pytest_twisted.ensureDeferred
async def test_a_transceiver_that_stops_reading_its_receipts_is_paused_and_others_flow(
        tmp_path: Path, logged: list[Any]) -> None:
    # deliver_sm time out after 0.5 s and are offered again 0.2 s later: without the pause the server's
    # buffer would grow by a window of receipts at every round
    gw = FaultGateway(tmp_path, receipt_delay=1.5, smpp={"response_timeout": 0.5, "enquire_link_interval": 120.0})
    try:
        await gw.start()
        assert gw.service.notifier is not None
        gw.service.notifier.config = NotifierConfig(retry_after=0.2)
        await gw.account("calm", "calm", sender=True, max_binds=2, tps=10_000)
        slow_sent = Sent()
        slow = await gw.client(receive_buffer=SMALL_SOCKET_BUFFER)
        factory = gw.service.smpp_factory
        conn = server_side(factory, slow.transport.getHost().port)
        conn.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_SOCKET_BUFFER)
        await gw.submit(slow, 450, slow_sent, seed=7, window=64)
        slow.stop_reading()  # its receipts come 1.5 s after acceptance: none read yet
        await until(lambda: conn.paused, timeout=15, what="the slow receiver to be paused")
        offered = conn.session._next_sequence
        high = buffered(conn.transport)

        calm_sent = Sent()
        calm = await gw.client("calm", "calm")
        await gw.submit(calm, 150, calm_sent, seed=8)
        await gw.all_receipted(calm, calm_sent, 30)  # the other enterprise is served meanwhile
        assert sorted(calm_sent.receipts(calm)) == sorted(calm_sent.ids)
        for _ in range(10):  # more rounds of timeouts and retries: still nothing more is offered or buffered
            high = max(high, buffered(conn.transport))
            await sleep(0.1)
        assert conn.paused and conn.session._next_sequence == offered
        assert high <= TWISTED_BUFFER + 128 * 400  # at most one more window of receipts beyond the limit

        slow.start_reading()
        await until(lambda: set(slow_sent.receipts(slow)) >= set(slow_sent.ids), timeout=30,
                    what="the slow client's receipts once it reads")
        await outbox_empty(gw)  # every receipt acknowledged: none lost, none left over
        copies = len(slow_sent.receipts(slow)) - len(slow_sent.ids)  # offered again after a timeout: at least once
        assert failures(logged) == []
        slow.abort()
        calm.abort()
    finally:
        await gw.stop()
    check_store(gw.db, slow_sent)
    print(f"slow receiver paused after {offered - 1} deliver_sm, buffer high {high} bytes, "
          f"{copies} receipts read twice after timeouts; 150 receipts to the other enterprise meanwhile")


@pytest_twisted.ensureDeferred
async def test_clients_that_vanish_lose_their_binds_and_the_next_bind_gets_their_receipts(
        tmp_path: Path, logged: list[Any]) -> None:
    # no receipt comes before the three have gone (2.5 s after their messages were accepted)
    gw = FaultGateway(tmp_path, receipt_delay=2.5, smpp={"enquire_link_interval": 0.5, "response_timeout": 0.5})
    try:
        await gw.start()
        intake = gw.service.intake
        assert intake is not None
        demo = (await gw.service.store.read(_find, "demo")).id
        sent = Sent()
        reset = await gw.client()
        half_closed = await gw.client()
        mute = await gw.client(auto_answer=False)
        for seed, client in enumerate((reset, half_closed, mute)):
            await gw.submit(client, 30, sent, seed=20 + seed)
        assert intake.bind_count(demo) == 3
        reset.abort()  # RST, no unbind
        half_closed.transport.loseWriteConnection()  # FIN, no unbind
        mute.stop_reading()  # gone without a word: never reads, never answers the probe
        await until(lambda: intake.bind_count(demo) == 0, timeout=10, what="the three binds released")
        await until(lambda: len(gw.service.smpp_factory.connections) == 0, timeout=10, what="their connections gone")
        assert receipts_of(reset) == receipts_of(half_closed) == []  # they left before any receipt

        heir = await gw.client()
        await gw.all_receipted(heir, sent, 30)
        assert sorted(sent.receipts(heir)) == sorted(sent.ids)  # all 90, each once
        await outbox_empty(gw)
        assert failures(logged) == []
        heir.abort()
    finally:
        await gw.stop()
    check_store(gw.db, sent)


def _find(conn: Any, login: str) -> Any:
    from smsgw.store import accounts

    found = accounts.find_login(conn, login)
    assert found is not None
    return found[0]


@pytest_twisted.ensureDeferred
async def test_three_hundred_connections_while_a_client_keeps_sending(tmp_path: Path, logged: list[Any]) -> None:
    gw = FaultGateway(tmp_path, smpp={"bind_timeout": BIND_TIMEOUT})
    connections = Sampler(lambda: len(gw.service.smpp_factory.connections), every=0.05)
    try:
        await gw.start()
        intake = gw.service.intake
        factory = gw.service.smpp_factory
        assert intake is not None and factory is not None
        crowd = await gw.account("crowd", "crowd", sender=False, max_binds=CROWD_BINDS)
        sent = Sent()
        good = await gw.client()
        connections.start()
        rng = random.Random(300)
        kinds = ["bind"] * BINDS + ["idle"] * (110 - BINDS) + ["garbage"] * 90 + ["half-header"] * 100
        rng.shuffle(kinds)
        sockets: list[tuple[str, WireClient]] = []
        binds = []
        for kind in kinds:
            c = await connect(gw.port)
            sockets.append((kind, c))
            if kind == "bind":  # each costs the server a password check (argon2) before the limit says no
                binds.append(c.bind("crowd", "crowd"))
            elif kind == "garbage":
                c.send_raw(rng.randbytes(rng.randrange(8, 300)))
            elif kind == "half-header":
                c.send_raw(b"\x00\x00\x00")
        latencies = []
        for n in range(5):  # the good client goes on meanwhile
            started = time.monotonic()
            await gw.submit(good, 30, sent, seed=40 + n)
            latencies.append(time.monotonic() - started)
        answers = await within(DeferredList(binds, consumeErrors=True), 30)
        # the limit held; a bind still being checked when the bind timer fired is closed unanswered
        statuses = [answer.status if ok else "closed" for ok, answer in answers]
        refused = statuses.count(S.ESME_RBINDFAIL)
        assert statuses.count(0) == CROWD_BINDS and refused + statuses.count("closed") == BINDS - CROWD_BINDS
        assert refused > 0, statuses
        for kind, c in sockets:
            if kind == "bind":  # gone without unbinding, half of them with a reset
                c.abort() if rng.random() < 0.5 else c.transport.loseConnection()
        await until(lambda: all(c.is_closed for _, c in sockets), timeout=BIND_TIMEOUT + 10,
                    what="every crowd socket closed")
        garbage = [c for kind, c in sockets if kind == "garbage"]
        assert all(p.command == "generic_nack" for c in garbage for p in c.received)
        await gw.all_receipted(good, sent, 30)
        assert sorted(sent.receipts(good)) == sorted(sent.ids)  # served throughout, exactly once
        await until(lambda: len(factory.connections) == 1, timeout=10, what="only the good client connected")
        assert intake.bind_count(crowd.id) == 0
        again = [await gw.client("crowd", "crowd") for _ in range(CROWD_BINDS)]  # the whole limit is free again
        assert intake.bind_count(crowd.id) == CROWD_BINDS
        assert failures(logged) == []
        for c in [good, *again]:
            c.abort()
    finally:
        connections.stop()
        await gw.stop()
    check_store(gw.db, sent)
    assert max(connections.values) >= 150  # the crowd really was there at once
    print(f"300 sockets ({BINDS} binds for a limit of {CROWD_BINDS}, {110 - BINDS} idle, 90 garbage, "
          f"100 half headers), {max(connections.values)} connections at the peak; the good client's batches of 30 took "
          f"{', '.join(f'{x:.2f}' for x in latencies)} s; {len(sent.ids)} messages receipted once each")
