"""The thin Twisted adapter between a TCP connection and a sans-IO session (as ``net/smpp_listener.py``).

Bytes read go to ``session.receive_data``; the events come back to ``handle``
(the subclass's dispatch table); after every input the adapter writes
``session.data_to_send()``, schedules ``session.tick`` at ``next_deadline()``
with the reactor it was given, and closes the transport once the session says
``closed``.  Nothing here knows a protocol.

A bug in a handler must not take the simulator down: it is logged, and that one
connection is aborted.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Mapping, Protocol as TypingProtocol

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure


class SansIoSession(TypingProtocol):
    """What every session of ``smsgw.session`` offers (CMPP, SGIP, SMGP; either role)."""

    @property
    def closed(self) -> bool: ...

    def receive_data(self, data: bytes, now: float) -> list[Any]: ...

    def data_to_send(self) -> bytes: ...

    def next_deadline(self) -> float | None: ...

    def tick(self, now: float) -> list[Any]: ...


class SessionProtocol(Protocol):
    """One connection driving one sans-IO session; subclasses give ``make_session`` and ``handle``."""

    def __init__(self, reactor: IReactorTime, log: Logger) -> None:
        self.reactor = reactor
        self.log = log
        self.session: Any = None
        #: the transport is gone or going (dropped, closed, lost): nothing more is sent
        self.gone = False
        self._timer: IDelayedCall | None = None

    # ---------------------------------------------------------------- for subclasses

    def make_session(self, now: float) -> SansIoSession:
        raise NotImplementedError

    #: event class -> handler(self, event): the subclass's dispatch table
    HANDLERS: ClassVar[Mapping[type, Callable[[Any, Any], None]]] = {}

    def handle(self, events: list[Any]) -> None:
        """Act on the session's events through ``HANDLERS`` (``flush`` follows); stops once the connection is gone."""
        for event in events:
            if self.gone:
                return
            handler = self.HANDLERS.get(type(event))
            if handler is None:
                self.log.warn("no handler for {event!r}", event=event)
                continue
            handler(self, event)

    def started(self) -> None:
        """The session exists and the connection is up (e.g. send a Bind)."""

    def ended(self, reason: str) -> None:
        """The connection is gone; hand back whatever was in flight on it."""

    # ---------------------------------------------------------------- Protocol

    def connectionMade(self) -> None:
        self.session = self.make_session(self.now())
        self._guarded(self.started)

    def dataReceived(self, data: bytes) -> None:
        if self.gone or self.session is None:
            return
        self._guarded(lambda: self.handle(self.session.receive_data(data, self.now())))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.gone = True
        self._cancel_timer()
        lost = getattr(self.session, "connection_lost", None)  # CMPP sessions have none
        if lost is not None:
            lost(str(reason.value))  # marks the session closed; ``ended`` takes back what was in flight
        self.ended(str(reason.value))

    # ---------------------------------------------------------------- output

    def now(self) -> float:
        return self.reactor.seconds()

    def flush(self) -> None:
        """Write what the session has to send; close when it has ended; else schedule its next tick."""
        session = self.session
        if session is None or self.gone or self.transport is None:
            return
        data = session.data_to_send()
        if data:
            self.write(data)
        if session.closed:
            self.gone = True
            self._cancel_timer()
            self.transport.loseConnection()
            return
        self._schedule(session.next_deadline())

    def drop(self) -> None:
        """Close the connection now, without the protocol's goodbye (TERMINATE, Exit, Unbind).

        What the session already produced (answers to earlier requests) is written
        first, then the socket is closed; nothing more is read or sent.
        """
        if self.gone:
            return
        if self.session is not None and self.transport is not None:
            data = self.session.data_to_send()
            if data:
                self.write(data)
        self.gone = True
        self._cancel_timer()
        if self.transport is not None:
            self.transport.loseConnection()

    def write(self, data: bytes) -> None:
        """Put bytes the session produced on the wire (a subclass may hold them back)."""
        if self.transport is not None:
            self.transport.write(data)

    def peer(self) -> str:
        peer = self.transport.getPeer() if self.transport is not None else None
        return f"{getattr(peer, 'host', peer)}:{getattr(peer, 'port', '')}"

    # ---------------------------------------------------------------- internals

    def _guarded(self, step: Any) -> None:
        try:
            step()
        except Exception:
            self.log.failure("connection {peer} failed; aborting it", peer=self.peer())
            self.gone = True
            self._cancel_timer()
            if self.transport is not None:
                self.transport.abortConnection()
            return
        self.flush()

    def _schedule(self, deadline: float | None) -> None:
        if self._timer is not None and self._timer.active():
            if deadline is not None and abs(self._timer.getTime() - deadline) < 1e-6:
                return
            self._timer.cancel()
        self._timer = None
        if deadline is not None:
            self._timer = self.reactor.callLater(max(0.0, deadline - self.now()), self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self.gone or self.session is None:
            return
        self._guarded(lambda: self.handle(self.session.tick(self.now())))

    def _cancel_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
