"""The Deferred adapter: answers on the reactor thread, after the commit, one hand-over per batch."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from twisted.internet.defer import Deferred
from twisted.python.threadpool import ThreadPool

from smsgw.domain.model import YUAN, AccountStatus, HoldReason, MessageState, Report
from smsgw.pipeline.states import InvalidTransition
from smsgw.pipeline.storage import StoreClient
from smsgw.store import schema
from smsgw.store.accounts import AuthFailure
from smsgw.store.db import create_engine
from smsgw.store.errors import InsufficientBalance
from smsgw.store.writer import Writer
from tests.pipeline.conftest import FakeReactor
from tests.store.harness import CHEAP_HASHER, PRICE, Harness

S = MessageState


@pytest.fixture
def client(store: Harness, reactor: FakeReactor, readers: ThreadPool) -> Iterator[StoreClient]:
    client = StoreClient.create(store.engine, reactor, readers, hasher=CHEAP_HASHER)
    yield client
    reactor.pump(client.stop())


def test_accept_fires_on_the_reactor_thread_after_the_commit(
    store: Harness, reactor: FakeReactor, readers: ThreadPool
) -> None:
    ent = store.enterprise(balance=10 * YUAN)
    writer = Writer(store.engine, notify=reactor.callFromThread)
    client = StoreClient(writer, reactor, readers)
    probe = create_engine(store.url)
    seen = []

    def on_ack(result: Any) -> None:
        assert threading.current_thread() is reactor.thread
        with probe.connect() as conn:  # durable before acknowledged
            m = schema.messages
            seen.append(conn.execute(sa.select(m.c.id).where(m.c.id == result.message_id)).scalar())

    ops = [store.message(ent) for _ in range(100)]
    deferreds = [client.accept(op.message, op.segments).addCallback(on_ack) for op in ops]
    assert not any(d.called for d in deferreds)
    writer.start()
    for d in deferreds:
        reactor.pump(d)
    assert seen == [op.message.id for op in ops]
    assert reactor.calls_from_threads == writer.stats.batches == 1  # one hand-over for 100 answers
    reactor.pump(client.stop())
    probe.dispose()


def test_errors_arrive_as_failures(client: StoreClient, store: Harness, reactor: FakeReactor) -> None:
    poor = store.enterprise(balance=0)
    op = store.message(poor)
    with pytest.raises(InsufficientBalance):
        reactor.pump(client.accept(op.message, op.segments))
    with pytest.raises(InvalidTransition):  # refused before it reaches the store
        client.accept(store.message(poor, state=S.DELIVERED).message, op.segments)


def test_a_message_through_the_client(client: StoreClient, store: Harness, reactor: FakeReactor) -> None:
    ent = store.enterprise(balance=YUAN)
    now = store.clock.now
    opening = now + 1000
    held = [store.message(ent, state=S.HELD, hold_reason=HoldReason.WINDOW, due_at=opening) for _ in range(5)]
    for op in held:
        reactor.pump(client.accept(op.message, op.segments))
    assert reactor.pump(client.release_held(opening, page=2)) == 5
    claimed = reactor.pump(client.claim_due(opening, 1))
    assert [c.message_id for c in claimed] == [held[0].message.id]
    first = claimed[0].message_id
    assert reactor.pump(client.submitted(first, 1, "cmcc", "k1", opening)) is True
    outcome = reactor.pump(client.report(Report("cmcc", "k1", S.DELIVERED, "DELIVRD", opening + 5)))
    assert outcome.message_state is S.DELIVERED
    [item] = reactor.pump(client.outbox_claim(ent.id, opening + 5))
    assert item.ref_id == first
    assert reactor.pump(client.outbox_ack(item.id)) is True
    message = reactor.pump(client.get_message(first))
    assert message.state is S.DELIVERED
    events = reactor.pump(client.history(first))
    assert [e.to_state for e in events] == [S.ACCEPTED, S.HELD, S.QUEUED, S.SENDING, S.SUBMITTED, S.DELIVERED]
    # the others (still queued) expire in pages
    assert reactor.pump(client.expire(opening + 48 * 3_600_000, page=2)) == 4


def test_accounts_through_the_client(client: StoreClient, store: Harness, reactor: FakeReactor) -> None:
    now = store.clock.now
    ent = reactor.pump(client.create_account("acme", "pa55", now, "admin", name="Acme"))
    assert reactor.pump(client.recharge(ent.id, 10 * YUAN, now, "admin", "first payment")) == 10 * YUAN
    reactor.pump(client.set_price(ent.id, PRICE, now, "admin"))
    assert reactor.pump(client.price_for(ent.id, "cmcc")) == PRICE
    assert reactor.pump(client.authenticate("acme", "pa55", "127.0.0.1")).ok
    assert reactor.pump(client.authenticate("acme", "nope", "127.0.0.1")).failure is AuthFailure.BAD_PASSWORD
    reactor.pump(client.set_password(ent.id, "n3w", now, "admin"))
    assert reactor.pump(client.authenticate("acme", "n3w", None)).ok
    reactor.pump(client.set_status(ent.id, AccountStatus.SUSPENDED, now, "admin"))
    assert reactor.pump(client.authenticate("acme", "n3w", None)).failure is AuthFailure.INACTIVE
    account = reactor.pump(client.get_account(ent.id))
    assert (account.balance, account.status) == (10 * YUAN, AccountStatus.SUSPENDED)


def test_pipeline_never_touches_the_global_reactor() -> None:
    code = (
        "import sys\n"
        "import smsgw.pipeline.storage, smsgw.pipeline.states\n"
        "assert 'twisted.internet.reactor' not in sys.modules, 'the global reactor was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_stop_answers_after_everything_queued(store: Harness, reactor: FakeReactor, readers: ThreadPool) -> None:
    ent = store.enterprise(balance=YUAN)
    writer = Writer(store.engine, notify=reactor.callFromThread)
    client = StoreClient(writer, reactor, readers)
    ops = [store.message(ent) for _ in range(10)]
    deferreds: list[Deferred[Any]] = [client.accept(op.message, op.segments) for op in ops]
    writer.start()
    reactor.pump(client.stop())
    for d in deferreds:
        reactor.pump(d)
    assert store.balance(ent.id) == YUAN - 10 * PRICE
