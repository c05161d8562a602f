"""A tiny Twisted adapter for driving our sans-IO CLIENT sessions (and the SGIP listener) in the simulator tests.

Independent of ``smsgw.sim.adapter`` on purpose: the simulators' adapter is
what is under test.  Events are collected in ``events``; tests wait for them
with ``eventually`` (polling the reactor, bounded in time).
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

from twisted.internet import defer, task
from twisted.internet import reactor as _reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.logger import formatEvent, globalLogPublisher
from twisted.python.failure import Failure

reactor: Any = _reactor  # the global reactor pytest-twisted runs (typed loosely: zope interfaces)

#: every wait in these tests ends within this many seconds
TIMEOUT = 5.0


class Peer(Protocol):
    """Runs one sans-IO session over a real socket; ``on_event`` may answer events (e.g. accept a bind)."""

    def __init__(self, make_session: Callable[[float], Any], start: Callable[[Any, float], Any] | None = None,
                 on_event: Callable[["Peer", Any], None] | None = None) -> None:
        self.make_session = make_session
        self.start = start
        self.on_event = on_event
        self.session: Any = None
        self.events: list[Any] = []
        self.connected_at: float | None = None
        self.lost: defer.Deferred[None] = defer.Deferred()
        self.is_lost = False
        self._timer: IDelayedCall | None = None

    def now(self) -> float:
        return reactor.seconds()

    def connectionMade(self) -> None:
        self.session = self.make_session(self.now())
        if self.start is not None:
            self.start(self.session, self.now())
        self.flush()

    def dataReceived(self, data: bytes) -> None:
        self._take(self.session.receive_data(data, self.now()))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.is_lost = True
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        lost = getattr(self.session, "connection_lost", None)
        if lost is not None:
            self.events.extend(lost(str(reason.value)))
        self.lost.callback(None)

    def call(self, fn: Callable[[Any, float], Any]) -> Any:
        """Call ``fn(session, now)``, send what it produced, return its result."""
        result = fn(self.session, self.now())
        if isinstance(result, list):
            self._take(result)
        else:
            self.flush()
        return result

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def close(self) -> None:
        if not self.is_lost and self.transport is not None:
            self.transport.abortConnection()

    def _take(self, events: list[Any]) -> None:
        for event in events:
            self.events.append(event)
            if self.on_event is not None:
                self.on_event(self, event)
        self.flush()

    def flush(self) -> None:
        if self.is_lost:
            return
        data = self.session.data_to_send()
        if data:
            self.transport.write(data)
        if self.session.closed:
            self.transport.loseConnection()
            return
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        deadline = self.session.next_deadline()
        self._timer = None if deadline is None else reactor.callLater(
            max(0.0, deadline - self.now()), self._tick)

    def _tick(self) -> None:
        self._timer = None
        if not self.is_lost:
            self._take(self.session.tick(self.now()))


class PeerFactory(Factory):
    """Accepts connections, each driven by a ``Peer`` (the SGIP SP listener of the tests)."""

    def __init__(self, make: Callable[[], Peer]) -> None:
        self.make = make
        self.peers: list[Peer] = []

    def buildProtocol(self, addr: Any) -> Peer:
        peer = self.make()
        peer.factory = self
        self.peers.append(peer)
        return peer

    def events(self, kind: type) -> list[Any]:
        return [e for p in self.peers for e in p.of(kind)]


async def connect(port: int, peer: Peer) -> Peer:
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=int(TIMEOUT))
    await connectProtocol(endpoint, peer)
    return peer


async def eventually(condition: Callable[[], Any], timeout: float = TIMEOUT, what: str = "") -> Any:
    """Poll ``condition`` until it is truthy (its value is returned) or fail after ``timeout`` seconds."""
    deadline = reactor.seconds() + timeout
    while True:
        value = condition()
        if value:
            return value
        if reactor.seconds() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await task.deferLater(reactor, 0.01, lambda: None)


async def sleep(seconds: float) -> None:
    await task.deferLater(reactor, seconds, lambda: None)


@contextlib.contextmanager
def no_failures_logged() -> Iterator[None]:
    """Fail if a simulator handler raised: its adapter logs that (and aborts the connection) instead of crashing."""
    failures: list[dict[str, Any]] = []

    def observe(event: dict[str, Any]) -> None:
        if "log_failure" in event and str(event.get("log_namespace", "")).startswith("smsgw.sim"):
            failures.append(event)

    globalLogPublisher.addObserver(observe)
    try:
        yield
    finally:
        globalLogPublisher.removeObserver(observe)
    assert failures == [], [formatEvent(e) for e in failures]
