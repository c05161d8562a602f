"""SGIP 1.2 links: the SP's submit connection (a driver for ``LinkGroup``) and the listener for the SMG.

SGIP runs two TCP directions (sgip.md 1).  On ours (Bind type 1) we submit:
``SgipDriver`` wraps ``SgipClientSession``; the carrier id of an MT is the
Submit's own sequence triple (30 digits, ``format_message_id``), known as soon
as the Submit is sent (``pending_id``) and confirmed by Submit_Resp Result 0.
SGIP has no heartbeat: the session unbinds after ``idle_timeout`` without
traffic, and the group opens a connection again when it has something to send
(``LinkConfig.on_demand``, the default for SGIP).  Nor can it probe a silent
SMG: a Submit given up with nothing heard on its connection since it was sent
ends the session (``SgipClientSession``), so the link requeues what was in
flight and moves to a fresh connection instead of feeding a dead one.

On the SMG's connection (Bind type 2) the carrier pushes MO (Deliver) and
status reports (Report): ``SgipListenerFactory`` accepts it with the
credentials of ``SgipListenerConfig``, answers everything (the session does;
the answers to reports and MO go out once the group's Deferreds say they are
stored, see ``connection``) and hands reports and MO to the link group, whose
early-report buffer holds a Report that overtook its Submit_Resp.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any, Callable, Mapping, Protocol as TypingProtocol

from twisted.application.internet import StreamServerEndpointService
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Factory, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.codec import EncodeError
from smsgw.net.links.config import LinkConfig, SgipListenerConfig
from smsgw.net.links.connection import Sans, SessionProtocol
from smsgw.net.links.driver import (
    Answered, Closed, GaveUp, LoginFailed, MoIn, Problem, Ready, ReportIn, SubmitError, WireEvent,
)
from smsgw.net.links.reports import sgip_stat
from smsgw.net.links.smgp import carrier_timers
from smsgw.protocols.sgip12.status import Result
from smsgw.session.carrier_events import (
    DeliverReceived, LinkLost, LoggedIn, LoginRefused, ProtocolErrorReceived, ReportReceived, SubmitAnswered,
    SubmitTimedOut,
)
from smsgw.session.carrier_peer import NotReady
from smsgw.session.carrier_window import CarrierTimers
from smsgw.session.sgip_client import SgipClientSession, result_meaning
from smsgw.session.sgip_listener import BindRequested, SgipListenerSession, UserReported
from smsgw.session.sgip_sequence import SequenceGenerator, format_message_id

log = Logger(namespace="smsgw.net.sgip12")


def describe(code: int) -> str:
    return f"{result_meaning(code)} (Result {code})"


def report_in(e: ReportReceived) -> ReportIn:
    # the session gives the State as a digit: 0 delivered, 2 failed (1, waiting, never comes out)
    return ReportIn(e.message_id, sgip_stat(int(e.stat)), e.err, e.recipient)


def mo_in(e: DeliverReceived) -> MoIn:
    return MoIn(e.source, e.destination, e.coding, e.content, e.udhi, e.carrier_message_id, dict(e.extras))


_TRANSLATE: Mapping[type, Callable[[Any], WireEvent]] = {
    LoggedIn: lambda e: Ready("bound"),
    LoginRefused: lambda e: LoginFailed(e.status, e.reason),
    SubmitAnswered: lambda e: Answered(e.sequence, e.result, e.message_id, describe(e.result)),
    SubmitTimedOut: lambda e: GaveUp(e.sequence),
    ReportReceived: report_in,
    DeliverReceived: mo_in,
    LinkLost: lambda e: Closed(e.reason, e.clean),
    ProtocolErrorReceived: lambda e: Problem(f"bad PDU from the SMG: {e.error}"),
}


class SgipDriver:
    """One SP -> SMG connection (``LinkDriver``); ``sequence`` is the group's, shared by its connections."""

    def __init__(self, config: LinkConfig, now: float, sequence: SequenceGenerator) -> None:
        self.session = SgipClientSession(config.login, config.secret, sequence, now, carrier_timers(config),
                                         throttle_results=config.throttles)

    @property
    def closed(self) -> bool:
        return self.session.closed

    def open(self, now: float, wall: datetime) -> list[WireEvent]:
        self.session.bind(now)
        return []

    def can_submit(self) -> bool:
        return self.session.can_submit()

    def submit(self, fields: dict[str, Any], now: float) -> Any | None:
        try:
            return self.session.submit(fields, now)
        except (EncodeError, NotReady) as x:
            raise SubmitError("local:encode", str(x)) from None

    def pending_id(self, key: Any) -> str | None:
        return format_message_id(key)

    def close(self, now: float) -> list[WireEvent]:
        self.session.unbind(now, reason="closed by us")
        return []

    def receive(self, data: bytes, now: float) -> list[WireEvent]:
        return [_TRANSLATE[type(e)](e) for e in self.session.receive_data(data, now)]

    def tick(self, now: float) -> list[WireEvent]:
        return [_TRANSLATE[type(e)](e) for e in self.session.tick(now)]

    def next_deadline(self) -> float | None:
        return self.session.next_deadline()

    def data_to_send(self) -> bytes:
        return self.session.data_to_send()


# ---------------------------------------------------------------------------- the listener (SMG -> SP)

class InboundSink(TypingProtocol):
    """Where the listener hands what the SMG pushes (``LinkGroup`` is one)."""

    name: str

    def report_arrived(self, event: ReportIn) -> Any: ...

    def mo_arrived(self, event: MoIn) -> Any: ...


class SgipListenerProtocol(SessionProtocol):
    """One connection the SMG opened to us."""

    def __init__(self, factory: SgipListenerFactory) -> None:
        self.factory = factory
        self.clock = factory.clock
        self.session: SgipListenerSession | None = None

    def connectionMade(self) -> None:
        f = self.factory
        assert self.transport is not None
        host = getattr(self.transport.getPeer(), "host", "")
        if f.config.allowed_hosts and host not in f.config.allowed_hosts:
            log.warn("SGIP listener {name}: connection from {host} not allowed", name=f.config.name, host=host)
            self.transport.abortConnection()  # type: ignore[attr-defined]  # ITCPTransport
            return
        self.session = SgipListenerSession(self.clock.seconds(), f.timers)
        f.connections.add(self)
        self._flush()

    def dataReceived(self, data: bytes) -> None:
        if self.session is None or self._gone:
            return
        self._handle_received(self.session.receive_data(data, self.clock.seconds()), self._handle,
                              (ReportReceived, DeliverReceived))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._gone = True
        self._cancel_timer()
        self.factory.connections.discard(self)

    def _sans(self) -> Sans | None:
        return self.session

    def _on_tick(self, now: float) -> None:
        if self.session is not None:
            self._handle(self.session.tick(now))

    def _handle(self, events: list[Any]) -> None:
        f = self.factory
        assert self.session is not None
        for event in events:
            if isinstance(event, BindRequested):
                if f.credentials_match(event.login_name, event.password):
                    self.session.accept_bind(event.sequence)
                    log.info("SGIP listener {name}: SMG {peer} bound as {login}", name=f.config.name,
                             peer=self._peer(), login=event.login_name)
                else:
                    log.warn("SGIP listener {name}: bind from {peer} as {login!r} refused (bad credentials)",
                             name=f.config.name, peer=self._peer(), login=event.login_name)
                    self.session.refuse_bind(event.sequence, Result.ILLEGAL_LOGIN)
            elif isinstance(event, ReportReceived):
                self._keep(f.sink.report_arrived(report_in(event)))
            elif isinstance(event, DeliverReceived):
                self._keep(f.sink.mo_arrived(mo_in(event)))
            elif isinstance(event, UserReported):
                log.info("SGIP listener {name}: user {user} condition {condition} (UserRpt)", name=f.config.name,
                         user=event.user_number, condition=event.user_condition)
            elif isinstance(event, ProtocolErrorReceived):
                log.warn("SGIP listener {name}: bad PDU from {peer}: {error}", name=f.config.name,
                         peer=self._peer(), error=str(event.error))
            elif isinstance(event, LinkLost):
                log.info("SGIP listener {name}: {peer} closed: {reason}", name=f.config.name, peer=self._peer(),
                         reason=event.reason)
        self._flush()


class SgipListenerFactory(Factory):
    """Accepts the SMG's connections (Bind type 2) for one SP account; see the module docstring."""

    protocol = SgipListenerProtocol  # type: ignore[assignment]

    def __init__(self, config: SgipListenerConfig, sink: InboundSink, clock: IReactorTime) -> None:
        self.config = config
        self.sink = sink
        self.clock = clock
        self.timers = CarrierTimers(response_timeout=config.response_timeout, login_timeout=config.login_timeout,
                                    peer_idle_timeout=config.peer_idle_timeout)
        self.connections: set[SgipListenerProtocol] = set()

    def buildProtocol(self, addr: Any) -> SgipListenerProtocol:
        return SgipListenerProtocol(self)

    def credentials_match(self, login: str, password: str) -> bool:
        ok_login = hmac.compare_digest(login.encode(), self.config.login.encode())
        ok_secret = hmac.compare_digest(password.encode(), self.config.secret.encode())
        return ok_login and ok_secret


def listener_service(config: SgipListenerConfig, sink: InboundSink, reactor: Any) -> StreamServerEndpointService:
    """A Service listening on ``config.interface:port`` for the SMG (add it to the application's MultiService)."""
    endpoint = TCP4ServerEndpoint(reactor, config.port, interface=config.interface)
    service = StreamServerEndpointService(endpoint, SgipListenerFactory(config, sink, reactor))
    service.setName(f"sgip-listener:{config.name}")
    return service
