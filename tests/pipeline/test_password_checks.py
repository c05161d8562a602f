"""Bounded password work: how many run at once, how many wait, who is refused or dropped, and in what order."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from smsgw.pipeline.password_checks import PasswordCheckDropped, PasswordChecks, PasswordChecksBusy
from tests.pipeline.conftest import FakeReactor


class Work:
    """Stand-in for an argon2 computation: records how many run at once; ``gate`` holds it until set."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.order: list[str] = []

    def __call__(self, name: str, gate: threading.Event | None = None) -> str:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.order.append(name)
        if gate is not None:
            assert gate.wait(10)
        with self.lock:
            self.now -= 1
        return name


def failure_of(d: Any) -> Failure:
    box: list[Any] = []
    d.addBoth(box.append)
    assert box and isinstance(box[0], Failure), box
    return box[0]


def test_one_at_a_time_a_short_queue_and_a_lockout_seen_by_the_next_in_line(reactor: FakeReactor) -> None:
    pool = ThreadPool(minthreads=1, maxthreads=4, name="password-test")
    pool.start()
    try:
        checks = PasswordChecks(reactor, pool, concurrency=1, queue=2)
        work, gate = Work(), threading.Event()
        locked: list[str] = []
        first = checks.check(work, "first", gate)
        first.addCallback(locked.append)  # the caller's reaction to the result (a lockout) comes first
        dropped = checks.check(work, "dropped", wanted=lambda: not locked)
        second = checks.check(work, "second")
        refused = checks.check(work, "refused")  # one running, two waiting: no room
        assert isinstance(failure_of(refused).value, PasswordChecksBusy)
        admin = checks.run(work, "admin")  # an administrator's hashing waits however long the queue
        assert (checks.running, checks.waiting) == (1, 3) and not dropped.called
        gate.set()
        reactor.pump(first)
        assert isinstance(failure_of(dropped).value, PasswordCheckDropped)  # locked by the time its turn came
        assert reactor.pump(second) == "second" and reactor.pump(admin) == "admin"
        assert work.order == ["first", "second", "admin"] and work.most == 1
        assert (checks.checked, checks.refused, checks.dropped, checks.running, checks.waiting) == (3, 1, 1, 0, 0)
    finally:
        pool.stop()


def test_a_reader_thread_is_always_left_to_the_queries(reactor: FakeReactor, readers: ThreadPool) -> None:
    assert readers.max == 2
    assert PasswordChecks(reactor, readers, concurrency=2).concurrency == 1
    single = ThreadPool(minthreads=0, maxthreads=1)
    assert PasswordChecks(reactor, single, concurrency=2).concurrency == 1  # nothing to spare: still works
    with pytest.raises(ValueError):
        PasswordChecks(reactor, readers, concurrency=0)
