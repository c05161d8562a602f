"""The writer: group commit, answers after the commit, stop, refusals and retries."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any, Callable

import attrs
import pytest
import sqlalchemy as sa

from smsgw.domain.model import YUAN
from smsgw.store import schema
from smsgw.store.accounts import Recharge
from smsgw.store.db import create_engine
from smsgw.store.errors import NotFound, StoreBusy, StoreClosed, StoreUnavailable
from smsgw.store.tx import Tx
from smsgw.store.writer import Writer, call_now
from tests.store.harness import PRICE, Harness

m = schema.messages


class Answers:
    """Collects answers; ``wait(n)`` blocks until n have arrived (no sleeping)."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, BaseException | None]] = []
        self._cond = threading.Condition()

    def done(self, result: Any, error: BaseException | None) -> None:
        with self._cond:
            self.items.append((result, error))
            self._cond.notify_all()

    def wait(self, count: int, timeout: float = 30) -> list[tuple[Any, BaseException | None]]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.items) >= count, timeout), f"{len(self.items)} of {count} answers"
            return list(self.items)


def count_messages(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(m)).scalar_one())
    finally:
        engine.dispose()


def test_one_notification_per_batch_and_answers_after_commit(store: Harness) -> None:
    ent = store.enterprise(balance=100 * YUAN)
    notifications = []
    seen_committed = []
    probe = create_engine(store.url)

    def notify(fn: Callable[[], None]) -> None:
        notifications.append(fn)
        fn()

    def done(result: Any, error: BaseException | None) -> None:
        assert error is None
        # another connection sees the row: the commit happened before the answer
        with probe.connect() as conn:
            seen_committed.append(conn.execute(sa.select(m.c.id).where(m.c.id == result.message_id)).first() is not None)

    writer = Writer(store.engine, notify=notify, max_batch=300)
    ops = [store.message(ent) for _ in range(1000)]
    for op in ops:
        writer.submit(op, done)
    writer.start()
    writer.stop(timeout=60)
    probe.dispose()
    assert writer.stats.operations == 1000
    assert writer.stats.batches == len(notifications) == 4  # 300 + 300 + 300 + 100
    assert writer.stats.largest_batch == 300
    assert seen_committed == [True] * 1000


def test_concurrent_submitters_are_grouped(store: Harness) -> None:
    ent = store.enterprise(balance=100 * YUAN)
    answers = Answers()
    ops = [store.message(ent) for _ in range(2000)]

    def submit(chunk: list[Any]) -> None:
        for op in chunk:
            store.writer.submit(op, answers.done)

    threads = [threading.Thread(target=submit, args=(ops[i::4],)) for i in range(4)]
    batches_before = store.writer.stats.batches
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(error is None for _, error in answers.wait(2000))
    assert store.writer.stats.batches - batches_before < 2000  # several accepts per commit
    assert count_messages(store.url) == 2000
    assert store.balance(ent.id) == 100 * YUAN - 2000 * PRICE


def test_stop_writes_everything_queued_then_refuses(store: Harness) -> None:
    ent = store.enterprise()
    writer = Writer(store.engine, notify=call_now)
    answers = Answers()
    for _ in range(50):
        writer.submit(store.message(ent), answers.done)
    writer.start()
    writer.stop(timeout=30)
    assert len(answers.items) == 50 and all(error is None for _, error in answers.items)
    writer.submit(store.message(ent), answers.done)
    assert isinstance(answers.items[-1][1], StoreClosed)
    assert count_messages(store.url) == 50


def test_too_many_waiting_is_refused_at_once(store: Harness) -> None:
    ent = store.enterprise()
    writer = Writer(store.engine, notify=call_now, max_pending=3)  # not started: nothing drains
    answers = Answers()
    for _ in range(4):
        writer.submit(store.message(ent), answers.done)
    assert len(answers.items) == 1 and isinstance(answers.items[0][1], StoreBusy)
    assert answers.items[0][1].temporary
    writer.start()
    writer.stop(timeout=30)
    assert count_messages(store.url) == 3


def test_failures_of_different_kinds_stay_with_their_operation(store: Harness) -> None:
    ent = store.enterprise(balance=YUAN)
    writer = Writer(store.engine, notify=call_now)
    answers = Answers()
    ops = [store.message(ent), Recharge(999_999, YUAN, 0, "test"), store.message(ent), Recharge(ent.id, YUAN, 0, "t")]
    for op in ops:
        writer.submit(op, answers.done)
    writer.start()
    writer.stop(timeout=30)
    errors = [type(error) if error else None for _, error in answers.items]
    assert errors == [None, NotFound, None, None]
    assert writer.stats.batches == 1
    assert store.balance(ent.id) == 2 * YUAN - 2 * PRICE


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_locked_by_another_process_is_retried(store: Harness) -> None:
    ent = store.enterprise()
    path = str(sa.make_url(store.url).database)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
    retried = threading.Event()
    writer = Writer(store.engine, notify=call_now, retry_for=30, on_retry=lambda error, n: retried.set())
    writer.start()
    answers = Answers()
    op = store.message(ent)
    writer.submit(op, answers.done)  # returns at once: the caller never waits for the database
    assert retried.wait(30)
    assert answers.items == []
    blocker.execute("ROLLBACK")
    blocker.close()
    [(result, error)] = answers.wait(1)
    assert error is None and result.message_id == op.message.id
    writer.stop(timeout=30)
    assert count_messages(store.url) == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_locked_too_long_fails_temporarily_and_writes_nothing(store: Harness) -> None:
    ent = store.enterprise()
    path = str(sa.make_url(store.url).database)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    writer = Writer(store.engine, notify=call_now, retry_for=0.5)
    writer.start()
    answers = Answers()
    for _ in range(3):
        writer.submit(store.message(ent), answers.done)
    results = answers.wait(3)
    blocker.execute("ROLLBACK")
    blocker.close()
    assert all(isinstance(error, StoreUnavailable) and error.temporary for _, error in results)
    writer.stop(timeout=30)
    assert count_messages(store.url) == 0
    assert store.balance(ent.id) == 100 * YUAN


@attrs.frozen
class BackendPid:
    def run(self, tx: Tx) -> int:
        return int(tx.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgres_connection_killed_is_reconnected(store: Harness) -> None:
    ent = store.enterprise()
    retries = []
    writer = Writer(store.engine, notify=call_now, retry_for=30, on_retry=lambda error, n: retries.append(error))
    writer.start()
    pid = writer.run_sync(BackendPid(), timeout=30)
    with store.conn() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    op = store.message(ent)
    assert writer.run_sync(op, timeout=30).message_id == op.message.id
    assert len(retries) >= 1
    assert writer.run_sync(BackendPid(), timeout=30) != pid
    writer.stop(timeout=30)
    assert count_messages(store.url) == 1


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgres_unreachable_fails_temporarily(store: Harness) -> None:
    ent = store.enterprise()
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nobody listens here once closed
    url = sa.make_url(store.url).set(port=port)
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    writer = Writer(engine, notify=call_now, retry_for=0.3)
    writer.start()
    with pytest.raises(StoreUnavailable):
        writer.run_sync(store.message(ent), timeout=30)
    writer.stop(timeout=30)
    engine.dispose()
