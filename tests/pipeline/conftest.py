"""Fixtures of the pipeline tests: the store fixtures, a fake reactor, a reader pool."""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterator

import pytest
from twisted.internet.defer import Deferred
from twisted.python.threadpool import ThreadPool

from tests.store.fixtures import backend, db_url, pg_url, sqlite_template, store  # noqa: F401


class FakeReactor:
    """Just ``callFromThread``: calls wait in a queue until the test pumps them."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.SimpleQueue()
        self.calls_from_threads = 0
        self.thread = threading.current_thread()

    def callFromThread(self, fn: Callable[..., Any], *args: Any) -> None:  # noqa: N802 (Twisted's name)
        self.calls_from_threads += 1
        self._calls.put((fn, args))

    def pump(self, d: Deferred[Any], timeout: float = 30) -> Any:
        """Run the queued calls on this (the "reactor") thread until ``d`` fired; its result."""
        box: list[Any] = []
        d.addBoth(box.append)
        while not box:
            fn, args = self._calls.get(timeout=timeout)
            fn(*args)
        result = box[0]
        if hasattr(result, "raiseException"):
            result.raiseException()
        return result


@pytest.fixture
def reactor() -> FakeReactor:
    return FakeReactor()


@pytest.fixture
def readers() -> Iterator[ThreadPool]:
    pool = ThreadPool(minthreads=1, maxthreads=2, name="store-readers")
    pool.start()
    yield pool
    pool.stop()
