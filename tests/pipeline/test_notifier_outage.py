"""The notifier through a store outage: SQLite locked by another connection, the real writer failing.

Acks, retries, claims and releases are store calls nobody waits for.  While the
database refuses writes each kind of failure is logged once, with what was
being done to which item or account, never as an unhandled error; once the
database is back each says it works again.
"""

from __future__ import annotations

import gc
import sqlite3
from typing import Any, Sequence

import pytest
import sqlalchemy as sa
from twisted.internet.task import Clock
from twisted.logger import capturedLogs
from twisted.python.threadpool import ThreadPool

from smsgw.domain.model import MoMessage
from smsgw.pipeline.notifier import Notifier, NotifierConfig
from smsgw.pipeline.storage import StoreClient
from smsgw.store.outbox import RecordMo
from tests.pipeline.conftest import FakeReactor
from tests.store.harness import CHEAP_HASHER, Harness

#: the writer gives up on a locked database after this long (the gateway's is 10 s)
RETRY_FOR = 0.3


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the outage is another connection holding SQLite's write lock


class Receiver:
    """A bound receiver: takes every deliver_sm, remembers its sequence."""

    def __init__(self) -> None:
        self.sequences: list[int] = []

    def can_deliver(self) -> bool:
        return True

    def deliver(self, fields: dict[str, Any]) -> int:
        self.sequences.append(len(self.sequences) + 1)
        return self.sequences[-1]


def barrier(client: StoreClient, reactor: FakeReactor) -> None:
    """Run the reactor until the writer has answered everything submitted so far (it answers in order)."""
    reactor.pump(client.outbox_retry(-1, 0).addBoth(lambda _: None))


def notifier_lines(events: Sequence[Any], level: str) -> list[str]:
    return [e["log_format"].format(**e) for e in events
            if e.get("log_namespace") == "smsgw.pipeline.notifier" and e["log_level"].name == level]


def test_a_long_outage_is_logged_once_per_kind_and_never_unhandled(
        store: Harness, reactor: FakeReactor, readers: ThreadPool) -> None:
    client = StoreClient.create(store.engine, reactor, readers, hasher=CHEAP_HASHER, retry_for=RETRY_FOR)
    clock = Clock()
    clock.advance(store.clock.now / 1000 + 1)  # the store's time: the items are due
    notifier = Notifier(client, clock, NotifierConfig(sweep_every=5.0))
    ent = store.enterprise()
    for n in range(5):
        store.run(RecordMo(MoMessage(id=store.ids.next(), carrier="cmcc", source_addr="13800138000",
                                     dest_addr="1069000012", content=f"MO {n}".encode("utf-16-be"),
                                     received_at=store.clock.now, data_coding=8, account_id=ent.id)))
    receiver = Receiver()
    notifier.attach(ent, receiver)
    barrier(client, reactor)
    assert receiver.sequences == [1, 2, 3, 4, 5]
    items = dict(notifier._pending)

    with capturedLogs() as logged:
        lock = sqlite3.connect(sa.make_url(store.url).database, isolation_level=None, timeout=5)
        try:
            lock.execute("BEGIN EXCLUSIVE")  # the outage: every write waits, then fails (StoreUnavailable)
            for sequence in (1, 2):
                notifier.answered(ent, receiver, sequence, 0)  # acks
            for sequence in (3, 4):
                notifier.answered(ent, receiver, sequence, 8)  # refused by the client: offered again later
            for _ in range(3):
                clock.advance(5.0)  # sweeps: claims of the account's outbox and releases of held MO parts
                barrier(client, reactor)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        gc.collect()  # a Deferred that failed unhandled says so when it is collected
        during = list(logged)
        failing = dict(notifier.failures.failing)

        notifier.answered(ent, receiver, 5, 0)  # the database is back
        clock.advance(5.0)
        barrier(client, reactor)
        notifier.stop()
        reactor.pump(client.stop())

    assert [e for e in logged if "log_failure" in e] == []
    warnings = notifier_lines(during, "warn")
    kinds = sorted(line.split(" failed")[0] for line in warnings)
    assert kinds == ["acknowledging a delivery", "notifying an account", "offering a delivery again later",
                     "releasing held parts of long MO"], warnings
    assert all("StoreUnavailable" in line for line in warnings)
    ack = next(line for line in warnings if line.startswith("acknowledging"))
    assert f"item {items[(id(receiver), 1)]}, account {ent.id}" in ack  # the first one, named
    assert failing[("acknowledging a delivery", "StoreUnavailable")] == 2
    assert failing[("notifying an account", "StoreUnavailable")] == 3
    recovered = notifier_lines(logged, "info")
    assert any(line.startswith("acknowledging a delivery works again, after 2 failure(s)") for line in recovered)
    assert any(line.startswith("notifying an account works again, after 3 failure(s)") for line in recovered)
    assert not any(key[0] in ("acknowledging a delivery", "notifying an account")
                   for key in notifier.failures.failing)
    assert notifier_lines(logged, "warn") == warnings  # nothing new once it works
