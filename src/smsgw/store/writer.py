"""The writer: one thread, group commit, answers after the commit.

Callers (the reactor thread) ``submit(op, done)`` and return at once; the
only thing they wait for is a short lock around a deque.  The writer thread
takes everything waiting (up to ``max_batch``), runs it in ONE transaction,
commits, and then hands all the answers back with ONE call of ``notify`` —
``reactor.callFromThread`` in the gateway — so a batch of 2000 accepts costs
one fsync and one wake-up of the reactor, not 2000.  While a commit is in
progress the next batch gathers: the busier the gateway, the bigger the batch.

Inside the transaction, operations of the same coalescing kind run as one
``run_many``.  The hot kinds (``REGROUP_ORDER``: accepts, submit results,
reports, MO, outbox acknowledgements) are regrouped: between two operations
of other kinds, which keep their place and order, all of them run together
kind by kind in that order, so a busy batch costs a few set-based statements
per kind instead of a few per interleaved run (see ``REGROUP_ORDER`` for why
the order is safe).  Other coalescing kinds coalesce when consecutive.
Isolation: each run, and each single operation, executes inside a SAVEPOINT.
If a run fails, it is rolled back to its savepoint and its operations are run
again one at a time, each in its own savepoint, so only the guilty operation
fails; the rest of the batch commits.

When the database refuses writes (SQLite locked by another process,
PostgreSQL restarting or unreachable) the whole transaction is rolled back
and the batch retried with backoff for up to ``retry_for`` seconds; then every
operation of the batch fails with ``StoreUnavailable`` — except those that
record what has already happened on a carrier link (``retry_until_stored``: a
submit's result, a refusal, a re-queue): nothing would ever write those again,
and a segment whose result is lost stays ``sending`` until a restart, so they
go back to the front of the queue and wait for the database.  A batch is
committed entirely or not at all — never half-written.  (One case stays uncertain, as
with any database client: the connection dying during COMMIT itself.  A retried
accept then finds its own message and fails with ``DuplicateMessage``.)

``stop()`` refuses new operations, writes everything already queued, and ends
the thread.
"""

from __future__ import annotations

import collections
import functools
import logging
import threading
import time
from typing import Any, Callable, Sequence

import attrs
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from smsgw.store.accepting import Accept
from smsgw.store.dispatching import Submitted
from smsgw.store.errors import StoreBusy, StoreClosed, StoreUnavailable
from smsgw.store.outbox import AckOutbox, RecordMo
from smsgw.store.reporting import RecordReport
from smsgw.store.tx import Operation, Rules, Statements, Tx

log = logging.getLogger("smsgw.store.writer")

Completion = Callable[[Any, BaseException | None], None]
Notify = Callable[[Callable[[], None]], None]

#: Coalescing kinds the writer regroups within a stretch of a batch (between
#: two operations of other kinds), and the order their groups run in.  Why
#: moving them is safe: an ``Accept`` creates a message nothing else in the
#: same batch can name yet (every other operation on it follows its commit);
#: ``Submitted`` runs before ``RecordReport`` so that a report queued after its
#: submit result (the links make sure of that) still finds its carrier id — and
#: one queued before it, which the store would have kept unmatched until the
#: ``Submitted``, now matches at once; MO records and outbox acknowledgements
#: touch rows no other kind here writes (an acknowledged item was claimed in
#: an earlier commit).  Claims, cancels, holds and the rest are not moved.
REGROUP_ORDER: tuple[type, ...] = (Accept, Submitted, RecordReport, RecordMo, AckOutbox)
_RANK = {kind: rank for rank, kind in enumerate(REGROUP_ORDER)}


def plan_groups(ops: Sequence[Operation]) -> list[tuple[type, list[int]]]:
    """The batch as runs to execute: (kind, indices into ``ops``), in execution order."""
    groups: list[tuple[type, list[int]]] = []
    stretch: dict[type, list[int]] = {}
    for index, op in enumerate(ops):
        kind = type(op)
        if kind in _RANK:
            stretch.setdefault(kind, []).append(index)
            continue
        if stretch:
            groups.extend((k, stretch[k]) for k in sorted(stretch, key=_RANK.__getitem__))
            stretch = {}
        elif groups and groups[-1][0] is kind and getattr(kind, "coalesce", False):
            groups[-1][1].append(index)
            continue
        groups.append((kind, [index]))
    groups.extend((k, stretch[k]) for k in sorted(stretch, key=_RANK.__getitem__))
    return groups


def call_now(fn: Callable[[], None]) -> None:
    """A ``notify`` that runs the answers on the writer thread itself (tools, tests)."""
    fn()


def is_temporary(error: BaseException) -> bool:
    """Errors that say "not now" about the database, not about an operation."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError))


@attrs.define
class WriterStats:
    batches: int = 0
    operations: int = 0
    failed: int = 0
    retries: int = 0
    largest_batch: int = 0
    commit_seconds: float = 0.0


class Writer:
    def __init__(
        self,
        engine: sa.Engine,
        *,
        notify: Notify,
        rules: Rules = Rules(),
        max_batch: int = 2000,
        max_pending: int = 200_000,
        retry_for: float = 10.0,
        retry_delay: float = 0.05,
        on_retry: Callable[[BaseException, int], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        name: str = "smsgw-writer",
    ) -> None:
        self.engine = engine
        self.rules = rules
        self.stats = WriterStats()
        self._notify = notify
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._retry_for = retry_for
        self._retry_delay = retry_delay
        self._on_retry = on_retry
        self._sleep = sleep
        self._monotonic = monotonic
        self._statements = Statements(engine.dialect)
        self._queue: collections.deque[tuple[Operation, Completion]] = collections.deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._conn: sa.Connection | None = None
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    # -- caller side (any thread) -------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def submit(self, op: Operation, done: Completion) -> None:
        """Queue ``op``; ``done(result, error)`` runs through ``notify`` after
        the commit that made it durable (or with the error that failed it)."""
        with self._cond:
            if self._stopping:
                refused: BaseException | None = StoreClosed("the store writer has stopped")
            elif len(self._queue) >= self._max_pending:
                refused = StoreBusy(f"{len(self._queue)} operations waiting for the store")
            else:
                refused = None
                self._queue.append((op, done))
                if len(self._queue) == 1:
                    self._cond.notify()
        if refused is not None:
            done(None, refused)

    def run_sync(self, op: Operation, timeout: float | None = None) -> Any:
        """Submit and wait: for tools and tests, never on the reactor thread
        (the answer may need the reactor to arrive)."""
        finished = threading.Event()
        box: list[Any] = []

        def done(result: Any, error: BaseException | None) -> None:
            box.extend((result, error))
            finished.set()

        self.submit(op, done)
        if not finished.wait(timeout):
            raise TimeoutError(f"no answer for {op!r} within {timeout}s")
        result, error = box
        if error is not None:
            raise error
        return result

    @property
    def pending(self) -> int:
        return len(self._queue)

    def stop(self, timeout: float | None = None) -> None:
        """Refuse new operations, commit the queued ones, end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError("the store writer did not finish in time")

    # -- writer thread ------------------------------------------------------

    def _loop(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._stopping:
                        self._cond.wait()
                    if not self._queue:
                        return
                    # The reactor waits for this lock in ``submit``: hold it for a swap, not a copy
                    # (a thread descheduled while holding it makes the other wait a GIL switch).
                    if len(self._queue) <= self._max_batch:
                        taken, self._queue = self._queue, collections.deque()
                    else:
                        taken = collections.deque(self._queue.popleft() for _ in range(self._max_batch))
                batch = list(taken)
                ops = [op for op, _ in batch]
                outcomes = self._execute(ops)
                answers: list[tuple[Completion, Any, BaseException | None]] = []
                again: list[tuple[Operation, Completion]] = []
                for (op, done), (result, error) in zip(batch, outcomes):
                    if isinstance(error, StoreUnavailable) and getattr(op, "retry_until_stored", False):
                        again.append((op, done))
                    else:
                        answers.append((done, result, error))
                if again:
                    answers += self._requeue(again)
                try:
                    self._notify(functools.partial(_answer, answers))
                except Exception:  # the reactor is gone: nobody is waiting any more
                    log.exception("could not hand %d answers back", len(answers))
        finally:
            self._close_connection()

    def _requeue(self, waiting: list[tuple[Operation, Completion]]) -> list[tuple[Completion, Any, BaseException]]:
        """Put operations that must not be lost back in front of the queue; once stopping, the answers
        that fail them instead."""
        with self._cond:
            if not self._stopping:
                self._queue.extendleft(reversed(waiting))
                return []
        failure = StoreClosed("the store writer stopped while the database refused writes")
        return [(done, None, failure) for _, done in waiting]

    def _execute(self, ops: Sequence[Operation]) -> list[tuple[Any, BaseException | None]]:
        deadline = self._monotonic() + self._retry_for
        attempt = 0
        while True:
            try:
                started = self._monotonic()
                conn = self._connection()
                with conn.begin():
                    tx = Tx(conn, self._statements, self.rules)
                    outcomes = self._run_ops(tx, ops)
                    tx.flush()
                self._count(ops, outcomes, self._monotonic() - started)
                return outcomes
            except Exception as error:
                if not is_temporary(error):
                    log.exception("store batch of %d operations failed", len(ops))
                    self._close_connection()
                    return [(None, error)] * len(ops)
                self._close_connection()
                attempt += 1
                self.stats.retries += 1
                if self._on_retry is not None:
                    self._on_retry(error, attempt)
                if self._monotonic() >= deadline:
                    log.error("store refused writes for %.1fs: %s", self._retry_for, error)
                    failure = StoreUnavailable(f"the database refused writes for {self._retry_for}s: {error}")
                    failure.__cause__ = error
                    return [(None, failure)] * len(ops)
                self._sleep(min(self._retry_delay * 2 ** (attempt - 1), 1.0))

    def _run_ops(self, tx: Tx, ops: Sequence[Operation]) -> list[tuple[Any, BaseException | None]]:
        outcomes: list[tuple[Any, BaseException | None]] = [(None, None)] * len(ops)
        for kind, indices in plan_groups(ops):
            if len(indices) > 1:
                group = [ops[i] for i in indices]
                results = self._in_savepoint(tx, lambda: kind.run_many(tx, group))  # type: ignore[attr-defined]
                if not isinstance(results, BaseException):
                    for i, r in zip(indices, results):
                        outcomes[i] = (None, r) if isinstance(r, BaseException) else (r, None)
                    continue
            for i in indices:
                result = self._in_savepoint(tx, functools.partial(ops[i].run, tx))
                outcomes[i] = (None, result) if isinstance(result, BaseException) else (result, None)
        return outcomes

    def _in_savepoint(self, tx: Tx, work: Callable[[], Any]) -> Any:
        """Run ``work``; on failure undo exactly its writes and return the error."""
        savepoint = tx.conn.begin_nested()
        mark = tx.mark()
        try:
            result = work()
        except Exception as error:
            if is_temporary(error):
                raise
            savepoint.rollback()
            tx.reset(mark)
            return error
        savepoint.commit()
        return result

    def _connection(self) -> sa.Connection:
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(sqlite_begin="IMMEDIATE")
        return self._conn

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                log.debug("closing a broken store connection failed", exc_info=True)

    def _count(
        self, ops: Sequence[Operation], outcomes: list[tuple[Any, BaseException | None]], seconds: float
    ) -> None:
        stats = self.stats
        stats.batches += 1
        stats.operations += len(ops)
        stats.failed += sum(1 for _, error in outcomes if error is not None)
        stats.largest_batch = max(stats.largest_batch, len(ops))
        stats.commit_seconds += seconds


def _answer(answers: list[tuple[Completion, Any, BaseException | None]]) -> None:
    for done, result, error in answers:
        try:
            done(result, error)
        except Exception:
            log.exception("a store completion failed")
