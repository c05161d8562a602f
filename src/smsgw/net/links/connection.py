"""The Twisted side of one carrier connection: bytes to the driver, uniform events to the group.

``SessionProtocol`` is the thin adapter every carrier connection shares
(STYLE.md 1): ``dataReceived`` -> session -> events; after each step it
writes ``data_to_send()``, re-arms one timer at the session's
``next_deadline`` and closes the transport once the session has ended.  Time
comes from the clock passed in (``IReactorTime``), so tests may use
``task.Clock``.

Durable before acknowledged, for what the carrier pushes too: the sessions
answer a report or an MO as they read it, so when a chunk of data brings one
(``_handle_received``) the answers it produced are held back until the
Deferreds the owner returned for its reports and MO have fired — the store
has committed them.  If one fails (the store refused for now) the connection
is dropped with those answers unsent, and the carrier offers them again.

``CarrierConnection`` is the SP's outgoing connection (one per
``ClientService`` of a ``LinkGroup``): it logs in on ``connectionMade``,
remembers which of its submits are awaiting an answer (key -> the group's
send), and hands everything that happens to its owner.  Whatever is still
unanswered when the transport goes is handed back in ``connection_lost``,
so the group can re-queue it: nothing is lost with a connection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Mapping, Protocol as TypingProtocol

from twisted.internet.defer import Deferred, FirstError, gatherResults
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.net.links.driver import (
    Answered, Closed, GaveUp, LinkDriver, LoginFailed, MoIn, Problem, Ready, ReportIn, WireEvent,
)

log = Logger(namespace="smsgw.net.links")


class Sans(TypingProtocol):
    """What ``SessionProtocol`` needs from a session or driver."""

    @property
    def closed(self) -> bool: ...

    def data_to_send(self) -> bytes: ...

    def next_deadline(self) -> float | None: ...


class SessionProtocol(Protocol):
    """Write, re-arm the timer, close when the session is over; subclasses say what a tick is."""

    clock: IReactorTime
    _timer: IDelayedCall | None = None
    _gone = False
    #: while the events of a chunk of data are handled: the Deferreds of what it brought (``_keep``)
    _stored: list[Deferred[Any]] | None = None

    def _sans(self) -> Sans | None:
        raise NotImplementedError

    def _handle_received(self, events: list[Any], handle: Callable[[list[Any]], None],
                         brings: tuple[type, ...]) -> None:
        """``handle`` the events of a chunk of data; when one of them is of a kind in ``brings`` (reports,
        MO), the session's answers to the chunk are written only once what it brought is stored."""
        sans = self._sans()
        if sans is None or not any(isinstance(event, brings) for event in events):
            handle(events)
            return
        answers = sans.data_to_send()
        self._stored = []
        try:
            handle(events)
        finally:
            stored, self._stored = self._stored, None
        if not stored:
            self._write(answers)
            return
        done = gatherResults(stored, consumeErrors=True)
        done.addCallbacks(lambda _: self._write(answers), self._not_stored)

    def _keep(self, result: Any) -> None:
        """Note what the owner returned for a report or MO (a Deferred: answer once it fires)."""
        if self._stored is not None and isinstance(result, Deferred):
            self._stored.append(result)

    def _write(self, data: bytes) -> None:
        sans = self._sans()
        if data and not self._gone and self.transport is not None and sans is not None and not sans.closed:
            self.transport.write(data)

    def _not_stored(self, failure: Failure) -> None:
        error = failure.value.subFailure.value if isinstance(failure.value, FirstError) else failure.value
        log.warn("{peer}: what the carrier sent could not be stored ({error}); dropping the connection "
                 "unanswered so that it is sent again", peer=self._peer(), error=str(error))
        if not self._gone and self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]  # ITCPTransport

    def _on_tick(self, now: float) -> None:
        raise NotImplementedError

    def _flush(self) -> None:
        sans = self._sans()
        if sans is None or self._gone:
            return
        data = sans.data_to_send()
        if data and self.transport is not None:
            self.transport.write(data)
        if sans.closed:
            self._cancel_timer()
            if self.transport is not None:
                self.transport.loseConnection()
            return
        self._schedule(sans.next_deadline())

    def _schedule(self, deadline: float | None) -> None:
        if self._timer is not None and self._timer.active():
            # A timer due no later than needed stays: rescheduling on every answer (the oldest
            # request's deadline moves each time) cost more than the early tick, which finds
            # nothing due and arms the timer again.
            if deadline is not None and self._timer.getTime() <= deadline + 1e-6:
                return
            self._timer.cancel()
        self._timer = None
        if deadline is not None:
            self._timer = self.clock.callLater(max(0.0, deadline - self.clock.seconds()), self._fire)

    def _fire(self) -> None:
        self._timer = None
        if not self._gone:
            self._on_tick(self.clock.seconds())

    def _cancel_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _peer(self) -> str:
        if self.transport is None:
            return "?"
        peer = self.transport.getPeer()
        return f"{getattr(peer, 'host', peer)}:{getattr(peer, 'port', '')}"


class ConnectionOwner(TypingProtocol):
    """What a ``CarrierConnection`` reports to (a slot of ``LinkGroup``)."""

    clock: IReactorTime
    name: str

    def make_driver(self, now: float) -> LinkDriver: ...

    def wall(self) -> datetime:
        """The carrier's local time now (login timestamps)."""

    def connection_made(self, connection: CarrierConnection) -> None: ...

    def logged_in(self, connection: CarrierConnection, detail: str) -> None: ...

    def login_failed(self, connection: CarrierConnection, code: int, reason: str) -> None: ...

    def answered(self, connection: CarrierConnection, send: Any, event: Answered) -> None: ...

    def gave_up(self, connection: CarrierConnection, send: Any) -> None: ...

    def report_arrived(self, event: ReportIn) -> Deferred[Any] | None:
        """A report (the carrier's answer waits for the Deferred returned, see the module docstring)."""

    def mo_arrived(self, event: MoIn) -> Deferred[Any] | None: ...

    def connection_lost(self, connection: CarrierConnection, unanswered: list[Any], reason: str) -> None: ...


class CarrierConnection(SessionProtocol):
    """One SP -> carrier connection; see the module docstring."""

    def __init__(self, owner: ConnectionOwner) -> None:
        self.owner = owner
        self.clock = owner.clock
        self.driver: LinkDriver | None = None
        #: submits awaiting an answer: session key -> the owner's send record
        self.sends: dict[Any, Any] = {}
        self.ready = False
        #: logged in at some point (a connection lost before that counts as a failed attempt)
        self.ready_once = False
        self.closing = False
        #: why the session ended, when it said so itself (``Closed``)
        self.end: Closed | None = None

    # ---------------------------------------------------------------- Protocol

    def connectionMade(self) -> None:
        now = self.clock.seconds()
        self.driver = self.owner.make_driver(now)
        self.owner.connection_made(self)
        self._handle(self.driver.open(now, self.owner.wall()))

    def dataReceived(self, data: bytes) -> None:
        if self.driver is None or self._gone:
            return
        self._handle_received(self.driver.receive(data, self.clock.seconds()), self._handle, (ReportIn, MoIn))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._gone = True
        self.ready = False
        self._cancel_timer()
        unanswered = list(self.sends.values())
        self.sends.clear()
        why = self.end.reason if self.end is not None else reason.getErrorMessage()
        self.owner.connection_lost(self, unanswered, why)

    # ---------------------------------------------------------------- calls from the group

    @property
    def clean_end(self) -> bool:
        return self.end is not None and self.end.clean

    def can_submit(self) -> bool:
        return (self.ready and not self.closing and not self._gone and self.driver is not None
                and self.driver.can_submit())

    def submit(self, send: Any, fields: dict[str, Any]) -> Any | None:
        """Send one submit; its key, or None when the window turned out full.  ``SubmitError`` passes through."""
        assert self.driver is not None
        key = self.driver.submit(fields, self.clock.seconds())
        if key is not None:
            self.sends[key] = send
            self._flush()
        return key

    def pending_id(self, key: Any) -> str | None:
        return None if self.driver is None else self.driver.pending_id(key)

    def close(self) -> None:
        """Say goodbye politely (TERMINATE / Unbind / Exit); the transport closes when the session ends."""
        if self.driver is None or self._gone or self.closing:
            return
        self.closing = True
        self._handle(self.driver.close(self.clock.seconds()))

    def abort(self) -> None:
        if self.transport is not None and not self._gone:
            self.transport.abortConnection()

    # ---------------------------------------------------------------- events

    def _sans(self) -> Sans | None:
        return self.driver

    def _on_tick(self, now: float) -> None:
        if self.driver is not None:
            self._handle(self.driver.tick(now))

    def _handle(self, events: list[WireEvent]) -> None:
        for event in events:
            _HANDLERS[type(event)](self, event)
        self._flush()

    def _ready(self, event: Ready) -> None:
        self.ready = True
        self.ready_once = True
        self.owner.logged_in(self, event.detail)

    def _login_failed(self, event: LoginFailed) -> None:
        self.owner.login_failed(self, event.code, event.reason)

    def _answered(self, event: Answered) -> None:
        send = self.sends.pop(event.key, None)
        if send is not None:  # None: an answer to a submit already given up
            self.owner.answered(self, send, event)

    def _gave_up(self, event: GaveUp) -> None:
        send = self.sends.pop(event.key, None)
        if send is not None:
            self.owner.gave_up(self, send)

    def _report(self, event: ReportIn) -> None:
        self._keep(self.owner.report_arrived(event))

    def _mo(self, event: MoIn) -> None:
        self._keep(self.owner.mo_arrived(event))

    def _closed(self, event: Closed) -> None:
        self.end = event
        self.ready = False

    def _problem(self, event: Problem) -> None:
        log.warn("{link} {peer}: {problem}", link=self.owner.name, peer=self._peer(), problem=event.text)


_HANDLERS: Mapping[type, Callable[[CarrierConnection, Any], None]] = {
    Ready: CarrierConnection._ready,
    LoginFailed: CarrierConnection._login_failed,
    Answered: CarrierConnection._answered,
    GaveUp: CarrierConnection._gave_up,
    ReportIn: CarrierConnection._report,
    MoIn: CarrierConnection._mo,
    Closed: CarrierConnection._closed,
    Problem: CarrierConnection._problem,
}
