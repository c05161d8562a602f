"""Password work, bounded: argon2 never crowds out the store's readers or the reactor.

Each argon2 hash or verification keeps a core busy for 0.2-0.5 s by design.
Run freely on the store's reader pool, a flood of binds or sign-ins took every
reader (the reads a submit needs, such as its price, waited behind the hashes)
and every core (the reactor starved): 16 binds held up a bound client's
submits by seconds.  So:

* at most ``concurrency`` computations run at once, on the reader pool, which
  keeps threads free for queries (``concurrency`` is held below the pool's size);
* at most ``queue`` logins wait for their turn; one more is refused at once
  with ``PasswordChecksBusy`` (the SMPP listener answers ESME_RBINDFAIL, the
  web centre 429), without costing a hash;
* a waiting login whose ``wanted()`` has turned false by its turn (its login or
  address got locked out meanwhile) is dropped with ``PasswordCheckDropped``,
  again without a hash.  A finished check's result is handed over before the
  next one starts, so the lockout it causes is seen by the next in line.

Administrators' hashing (new accounts, new passwords) waits its turn but is
never refused (``run``).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, TypeVar

import attrs
from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

T = TypeVar("T")

#: computations at once, and logins waiting, unless told otherwise
DEFAULT_CONCURRENCY = 2
DEFAULT_QUEUE = 16


class PasswordChecksBusy(Exception):
    """Too many logins are waiting for a password check: refused without checking."""


class PasswordCheckDropped(Exception):
    """The login was no longer wanted when its turn came (locked out meanwhile): not checked."""


@attrs.define(eq=False)
class _Job:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    wanted: Callable[[], bool] | None
    done: Deferred[Any]


class PasswordChecks:
    """See the module docstring.  Counters: ``checked`` (computations run), ``refused``, ``dropped``."""

    def __init__(self, reactor: IReactorFromThreads, pool: ThreadPool, concurrency: int = DEFAULT_CONCURRENCY,
                 queue: int = DEFAULT_QUEUE) -> None:
        if concurrency < 1 or queue < 0:
            raise ValueError("concurrency must be at least 1 and queue not negative")
        self._reactor = reactor
        self._pool = pool
        # leave at least one reader thread to the queries (a pool of one has nothing to spare)
        self.concurrency = max(1, min(concurrency, int(getattr(pool, "max", concurrency + 1)) - 1))
        self.queue = queue
        self._waiting: deque[_Job] = deque()
        self.running = 0
        self.checked = 0
        self.refused = 0
        self.dropped = 0

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def check(self, fn: Callable[..., T], *args: Any, wanted: Callable[[], bool] | None = None) -> Deferred[T]:
        """A login's check: ``fn(*args)`` on the pool when its turn comes, or refused/dropped (see above)."""
        if self.running >= self.concurrency and len(self._waiting) >= self.queue:
            self.refused += 1
            return fail(PasswordChecksBusy(f"{self.running + len(self._waiting)} password checks under way"))
        return self._enqueue(_Job(fn, args, wanted, Deferred()))

    def run(self, fn: Callable[..., T], *args: Any) -> Deferred[T]:
        """Hashing that must happen (an administrator's): it waits its turn, however long the queue."""
        return self._enqueue(_Job(fn, args, None, Deferred()))

    def _enqueue(self, job: _Job) -> Deferred[Any]:
        self._waiting.append(job)
        self._next()
        return job.done

    def _next(self) -> None:
        while self._waiting and self.running < self.concurrency:
            job = self._waiting.popleft()
            if job.wanted is not None and not job.wanted():
                self.dropped += 1
                job.done.errback(Failure(PasswordCheckDropped("no longer wanted when its turn came")))
                continue
            self.running += 1
            self.checked += 1
            d = deferToThreadPool(self._reactor, self._pool, job.fn, *job.args)
            d.addBoth(self._finished, job)

    def _finished(self, result: Any, job: _Job) -> None:
        self.running -= 1
        # the caller's callbacks first (a failure may lock out a key), then the next in line
        if isinstance(result, Failure):
            job.done.errback(result)
        else:
            job.done.callback(result)
        self._next()
