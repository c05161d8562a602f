"""One connection slot of a ``LinkGroup``: a ``ClientService`` and the ``CarrierConnection`` it keeps.

The slot is the ``ConnectionOwner`` of its connections and passes what they
report to the group.  Its retry policy is the backoff of DESIGN.md 3.5 and
cmpp.md 6: exponential from ``reconnect_min`` after a lost connection (a
connection lost before its login counts as a failed attempt, so a gateway
that accepts and drops at once is not hammered either), and from
``auth_backoff_min`` after a refused login, never faster.  On-demand slots
(SGIP) are started by the group when it has work and stopped when their
connection ends; ``retry_at`` keeps them to the same backoff.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Protocol as TypingProtocol

from twisted.application.internet import ClientService
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime, IStreamClientEndpoint
from twisted.internet.protocol import Factory

from smsgw.net.links.config import LinkConfig
from smsgw.net.links.connection import CarrierConnection
from smsgw.net.links.driver import Answered, LinkDriver, MoIn, ReportIn


class SlotOwner(TypingProtocol):
    """What a slot needs from its group."""

    config: LinkConfig
    link_name: str
    clock: IReactorTime
    endpoint: IStreamClientEndpoint
    stopping: bool
    #: the reconnect jitter's source, 0..1
    random: Callable[[], float]

    def local_now(self) -> datetime: ...

    def has_work(self) -> bool: ...

    def make_driver(self, now: float) -> LinkDriver: ...

    def slot_logged_in(self, slot: Slot, detail: str) -> None: ...

    def slot_login_failed(self, slot: Slot, code: int, reason: str) -> None: ...

    def slot_answered(self, send: Any, event: Answered) -> None: ...

    def slot_gave_up(self, send: Any) -> None: ...

    def slot_connection_lost(self, slot: Slot, conn: CarrierConnection, unanswered: list[Any], reason: str) -> None: ...

    def report_arrived(self, event: ReportIn) -> Deferred[Any] | None: ...

    def mo_arrived(self, event: MoIn) -> Deferred[Any] | None: ...


class SlotFactory(Factory):
    """Builds the slot's ``CarrierConnection`` for each connection its ClientService makes."""

    def __init__(self, slot: Slot) -> None:
        self.slot = slot

    def buildProtocol(self, addr: Any) -> CarrierConnection:
        return CarrierConnection(self.slot)


class Slot:
    """One of the account's connections: a ``ClientService`` and its current ``CarrierConnection``."""

    def __init__(self, group: SlotOwner, index: int) -> None:
        self.group = group
        self.name = f"{group.link_name}#{index + 1}"
        self.clock = group.clock
        self.conn: CarrierConnection | None = None
        #: consecutive refused logins / connections lost before login (reset by a login)
        self.login_failures = 0
        self.unready = 0
        self.running = False
        #: on demand: do not connect again before this clock time
        self.retry_at = 0.0
        self._restart: IDelayedCall | None = None
        #: the Deferred of the last ``stop`` (fires when the ClientService has stopped)
        self.stopped: Deferred[None] | None = None
        self.service = ClientService(group.endpoint, SlotFactory(self), retryPolicy=self.retry_delay,
                                     clock=group.clock)

    # ConnectionOwner

    def make_driver(self, now: float) -> LinkDriver:
        return self.group.make_driver(now)

    def wall(self) -> datetime:
        return self.group.local_now()

    def connection_made(self, connection: CarrierConnection) -> None:
        self.conn = connection

    def logged_in(self, connection: CarrierConnection, detail: str) -> None:
        self.login_failures = 0
        self.unready = 0
        self.group.slot_logged_in(self, detail)

    def login_failed(self, connection: CarrierConnection, code: int, reason: str) -> None:
        self.login_failures += 1
        self.group.slot_login_failed(self, code, reason)

    def answered(self, connection: CarrierConnection, send: Any, event: Answered) -> None:
        self.group.slot_answered(send, event)

    def gave_up(self, connection: CarrierConnection, send: Any) -> None:
        self.group.slot_gave_up(send)

    def report_arrived(self, event: ReportIn) -> Deferred[Any] | None:
        return self.group.report_arrived(event)

    def mo_arrived(self, event: MoIn) -> Deferred[Any] | None:
        return self.group.mo_arrived(event)

    def connection_lost(self, connection: CarrierConnection, unanswered: list[Any], reason: str) -> None:
        if self.conn is connection:
            self.conn = None
        if self.login_failures == 0 and not connection.clean_end and not connection.ready_once:
            self.unready += 1
        self.group.slot_connection_lost(self, connection, unanswered, reason)

    # service control

    def retry_delay(self, attempt: int) -> float:
        """The ClientService retry policy: slow after refused logins, exponential otherwise, with jitter."""
        c = self.group.config
        if self.login_failures:
            base = min(c.auth_backoff_max, c.auth_backoff_min * c.reconnect_factor ** (self.login_failures - 1))
        else:
            n = max(attempt, self.unready, 1)
            base = min(c.reconnect_max, c.reconnect_min * c.reconnect_factor ** min(n - 1, 64))
        delay = base * (1.0 + c.reconnect_jitter * self.group.random())
        self.retry_at = self.clock.seconds() + delay
        return delay

    def start(self) -> None:
        self._cancel_restart()
        if not self.running and not self.group.stopping:
            self.running = True
            self.service.startService()

    def start_when_allowed(self) -> None:
        """On demand: connect now, or at ``retry_at`` when the last attempt failed."""
        if self.running or self._restart is not None or self.group.stopping:
            return
        delay = self.retry_at - self.clock.seconds()
        if delay <= 0:
            self.start()
        else:
            self._restart = self.clock.callLater(delay, self._restart_now)

    def _restart_now(self) -> None:
        self._restart = None
        if self.group.has_work():
            self.start()

    def _cancel_restart(self) -> None:
        if self._restart is not None and self._restart.active():
            self._restart.cancel()
        self._restart = None

    def stop(self) -> Deferred[None]:
        """Stop connecting (and drop the connection, if one is still open)."""
        self._cancel_restart()
        if not self.running:
            self.stopped = succeed(None)
        else:
            self.running = False
            self.stopped = self.service.stopService()
        return self.stopped

    @property
    def idle(self) -> bool:
        """No connection, not connecting, and any stop finished."""
        return self.conn is None and not self.running and (self.stopped is None or self.stopped.called)
