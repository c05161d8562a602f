"""Twisted adapter for SMPP client connections: bytes to the sans-IO session, events to the application.

One ``SmppServerProtocol`` per connection; the factory holds the application
(``SmppApplication``: authentication, submissions, receipt/MO delivery) and the
reactor, which tests replace with ``task.Clock``-driven fakes or real loopback.

Back-pressure: the protocol registers itself as the transport's push producer.
When the client stops reading and our write buffer fills, Twisted pauses us;
we then stop reading the client's requests and stop offering it deliveries,
so nothing is buffered without bound; when the buffer has drained the
application is told (``writable``) so held-back deliveries go out at once.
A connection we close gets ``response_timeout`` to take our last bytes, then
is aborted: a client that does not read cannot hold its socket open.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol as TypingProtocol

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IPushProducer, IReactorTime
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from smsgw.codec import Pdu
from smsgw.net.listen import listen as listen_tcp_or_tls
from smsgw.protocols.smpp34.status import CommandStatus as S
from smsgw.session.codecs import codec_for
from smsgw.session.smpp_server import (
    BindRefused, BindRequested, CloseConnection, DeliveryAnswered, DeliveryTimedOut, ProtocolErrorReceived, RequestReceived,
    SmppServerSession, Timers, Unbound,
)

log = Logger(namespace="smsgw.net.smpp34")


class SmppApplication(TypingProtocol):
    """What the listener needs from the rest of the gateway."""

    def authenticate(self, bind: BindRequested, peer_host: str) -> defer.Deferred[Any]:
        """Fire with the bound account, or fail with ``BindRefused``."""

    def request(self, account: Any, pdu: Pdu) -> defer.Deferred[tuple[int, dict[str, Any]]]:
        """Handle submit_sm & co; fire with (status, response fields) once durable."""

    def bound(self, account: Any, connection: "SmppServerProtocol") -> None:
        """A bind succeeded; receivers/transceivers may now be offered deliveries."""

    def unbound(self, account: Any, connection: "SmppServerProtocol") -> None:
        """The connection of a bound account ended."""

    def delivery_answered(self, account: Any, connection: "SmppServerProtocol", sequence: int, status: int | None) -> None:
        """A deliver_sm we sent was answered (status) or timed out (None)."""

    def writable(self, account: Any, connection: "SmppServerProtocol") -> None:
        """A receiver paused by back-pressure can take deliveries again."""


@implementer(IPushProducer)
class SmppServerProtocol(Protocol):
    """One client connection."""

    factory: "SmppServerFactory"

    def __init__(self) -> None:
        self.session: SmppServerSession | None = None
        self.account: Any = None
        self.paused = False
        self._timer: IDelayedCall | None = None
        self._closing: IDelayedCall | None = None

    # ---------------------------------------------------------------- Protocol

    def connectionMade(self) -> None:
        f = self.factory
        self.session = SmppServerSession(codec_for("smpp34"), f.reactor.seconds(), f.timers, window=f.window)
        self.transport.registerProducer(self, True)
        f.connections.add(self)
        self._schedule()

    def dataReceived(self, data: bytes) -> None:
        assert self.session is not None
        events = self.session.receive_data(data, self.factory.reactor.seconds())
        self._handle(events)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.factory.connections.discard(self)
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._closing is not None and self._closing.active():
            self._closing.cancel()
        self._closing = None
        if self.account is not None:
            account, self.account = self.account, None
            self.factory.app.unbound(account, self)

    # ---------------------------------------------------------------- IPushProducer

    def pauseProducing(self) -> None:
        """Our write buffer is full: stop reading requests and stop offering deliveries."""
        self.paused = True
        self.transport.pauseProducing()

    def resumeProducing(self) -> None:
        self.paused = False
        self.transport.resumeProducing()
        if self.account is not None and self.can_deliver():
            # what the notifier held back while we were paused waits in the outbox: ask for it now,
            # not at its next sweep
            self.factory.app.writable(self.account, self)

    def stopProducing(self) -> None:
        self.paused = True

    # ---------------------------------------------------------------- delivery

    def can_deliver(self) -> bool:
        return self.session is not None and self.session.can_deliver() and not self.paused

    def deliver(self, fields: dict[str, Any]) -> int:
        """Send a deliver_sm; returns its sequence (answer comes to ``app.delivery_answered``)."""
        assert self.session is not None
        sequence = self.session.deliver(fields, self.factory.reactor.seconds())
        self._flush()
        return sequence

    def unbind(self) -> None:
        assert self.session is not None
        self.session.unbind(self.factory.reactor.seconds())
        self._flush()
        if self.session.state.value == "closed":
            self._close()

    # ---------------------------------------------------------------- internals

    def _handle(self, events: list[Any]) -> None:
        session = self.session
        assert session is not None
        for event in events:
            if isinstance(event, RequestReceived):
                self._request(event.pdu)
            elif isinstance(event, BindRequested):
                self._bind(event)
            elif isinstance(event, DeliveryAnswered):
                self.factory.app.delivery_answered(self.account, self, event.sequence, event.status)
            elif isinstance(event, DeliveryTimedOut):
                self.factory.app.delivery_answered(self.account, self, event.sequence, None)
            elif isinstance(event, ProtocolErrorReceived):
                log.warn("client {peer} sent a bad PDU: {error}", peer=self._peer(), error=str(event.error))
            elif isinstance(event, Unbound):
                log.info("client {peer} ({system_id}) unbound: {reason}", peer=self._peer(),
                         system_id=session.system_id, reason=event.reason)
            elif isinstance(event, CloseConnection):
                self._flush()
                self._close()
                return
        self._flush()

    def _bind(self, bind: BindRequested) -> None:
        d = defer.maybeDeferred(self.factory.app.authenticate, bind, self._peer_host())

        def ok(account: Any) -> None:
            session = self.session
            if session is None or self.transport is None or not self.connected:
                return
            self.account = account
            session.accept_bind(bind.sequence, bind.mode, bind.system_id, self.factory.system_id,
                                bind.interface_version)
            self._flush()
            self.factory.app.bound(account, self)

        def refused(failure: Failure) -> None:
            if self.session is None or not self.connected:
                return
            if failure.check(BindRefused):
                status = failure.value.status
                log.info("bind of {system_id!r} from {peer} refused: {reason}", system_id=bind.system_id,
                         peer=self._peer(), reason=failure.value.reason)
            else:
                status = S.ESME_RBINDFAIL
                log.failure("bind of {system_id!r} failed", failure, system_id=bind.system_id)
            self.session.reject_bind(bind.sequence, bind.mode, int(status))
            self._flush()

        d.addCallbacks(ok, refused)

    def _request(self, pdu: Pdu) -> None:
        started = self.factory.reactor.seconds()
        d = defer.maybeDeferred(self.factory.app.request, self.account, pdu)

        def answer(result: tuple[int, dict[str, Any]]) -> None:
            if self.session is None:
                return
            status, fields = result
            self.session.respond(pdu, status, fields)
            self._flush()
            if self.factory.answered is not None:
                self.factory.answered(pdu.command, int(status), self.factory.reactor.seconds() - started)

        def failed(failure: Failure) -> None:
            log.failure("{command} from {peer} failed", failure, command=pdu.command, peer=self._peer())
            if self.session is not None:
                self.session.respond(pdu, S.ESME_RSYSERR)
                self._flush()

        d.addCallbacks(answer, failed)

    def _close(self) -> None:
        """Close once our last bytes are sent, but do not wait for a peer that does not read: a polite
        close would hold the socket and its full buffer for ever.  It gets ``response_timeout``."""
        self.transport.loseConnection()
        if self._closing is None:
            self._closing = self.factory.reactor.callLater(self.factory.timers.response_timeout, self._abort)

    def _abort(self) -> None:
        self._closing = None
        log.info("client {peer} did not take our last bytes in time; connection aborted", peer=self._peer())
        self.transport.abortConnection()

    def _flush(self) -> None:
        session = self.session
        if session is None:
            return
        data = session.data_to_send()
        if data and self.transport is not None:
            self.transport.write(data)
        self._schedule()

    def _schedule(self) -> None:
        session = self.session
        if session is None:
            return
        deadline = session.next_deadline()
        if self._timer is not None and self._timer.active():
            if deadline is not None and abs(self._timer.getTime() - deadline) < 1e-6:
                return
            self._timer.cancel()
        self._timer = None
        if deadline is not None:
            delay = max(0.0, deadline - self.factory.reactor.seconds())
            self._timer = self.factory.reactor.callLater(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self.session is None:
            return
        self._handle(self.session.tick(self.factory.reactor.seconds()))

    def _peer_host(self) -> str:
        peer = self.transport.getPeer()
        return getattr(peer, "host", str(peer))

    def _peer(self) -> str:
        peer = self.transport.getPeer()
        return f"{getattr(peer, 'host', peer)}:{getattr(peer, 'port', '')}"


class SmppServerFactory(Factory):
    """Shared state of the SMPP listener: the application, reactor, timers and open connections."""

    protocol = SmppServerProtocol

    def __init__(self, app: SmppApplication, reactor: IReactorTime, timers: Timers | None = None,
                 window: int = 64, system_id: str = "smsgw") -> None:
        self.app = app
        self.reactor = reactor
        self.timers = timers or Timers()
        self.window = window
        self.system_id = system_id
        self.connections: set[SmppServerProtocol] = set()
        #: told (command, status, seconds from request to response) after each answer: the metrics
        self.answered: Callable[[str, int, float], None] | None = None


def listen(reactor: Any, factory: SmppServerFactory, port: int, interface: str,
           tls_cert: str = "", tls_key: str = "") -> Any:
    """Listen for SMPP clients: plain TCP, or TLS when a PEM certificate and key are configured."""
    return listen_tcp_or_tls(reactor, factory, port, interface, tls_cert, tls_key, what="SMPP")
