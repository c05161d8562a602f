"""Simulated China Unicom SMG: SGIP 1.2 in both directions (sgip.md 1), on ``session.sgip_server``/``sgip_callback``.

The SP connects and binds with LoginType 1 (a wrong name or password gets
Result 1 and the connection is closed, spec 3.7.2).  Submits are answered with
Result 0 (the Submit's own sequence triple is the MT's id, there is no other),
or Result 11 "node busy" over the account's TPS (sgip.md 5).

Reports and MOs travel the other way: the SMG opens a connection to the SP's
listener (``Behaviour.callback``: host, port, Bind credentials), binds with
LoginType 2, sends Report/Deliver within the window, keeps the connection while
it has work and unbinds when it has been idle for ``Behaviour.idle_timeout``
(the session's own timer).  A refused or failed callback connection is tried
again after ``Behaviour.callback_retry`` seconds; the queue waits meanwhile.
"""

from __future__ import annotations

from typing import Any, Mapping

from twisted.internet.interfaces import IConnector
from twisted.internet.protocol import ClientFactory
from twisted.python.failure import Failure

from smsgw.protocols.sgip12.status import THROTTLE, ReportFlag, Result
from smsgw.session.carrier_events import (
    LinkLost, LoggedIn, LoginRefused, ProtocolErrorReceived, RequestAnswered, RequestTimedOut, SubmitReceived,
)
from smsgw.session.carrier_window import CarrierTimers
from smsgw.session.sgip_callback import SgipCallbackSession
from smsgw.session.sgip_listener import BindRequested
from smsgw.session.sgip_sequence import SequenceGenerator, format_message_id
from smsgw.session.sgip_server import SgipServerSession
from smsgw.sim.adapter import SessionProtocol
from smsgw.sim.behaviour import Behaviour, Outcome
from smsgw.sim.core import CarrierSimulator, SpConnection
from smsgw.sim.records import Delivery, MoJob, ReportJob, SubmitView

#: the longest wait between callback connection attempts
MAX_RETRY = 30.0
#: ReportFlag values that always ask for a report (1: always; 3: monthly billing, report required)
_ALWAYS_REPORT = frozenset({int(ReportFlag.ALWAYS), int(ReportFlag.MONTHLY_BILLING)})


class SgipSpConnection(SpConnection):
    """The SP's submit connection (Bind type 1); the SMG sends nothing but answers on it."""

    simulator: SgipSimulator

    def make_session(self, now: float) -> SgipServerSession:
        return SgipServerSession(now, self.simulator.server_timers)

    def _bind(self, event: BindRequested) -> None:
        account = self.simulator.account(event.login_name)
        if account is not None and account.secret == event.password:
            self.session.accept_bind(event.sequence)
            self.simulator.logged_in(self, account.name)
        else:
            self.session.refuse_bind(event.sequence, Result.ILLEGAL_LOGIN)
            self.simulator.login_refused(self, event.login_name, int(Result.ILLEGAL_LOGIN))

    def answer_submit(self, sequence: Any, result: int, native_id: Any) -> None:
        self.session.respond_submit(sequence, result)

    HANDLERS = {
        BindRequested: _bind,
        SubmitReceived: SpConnection.on_submit,
        ProtocolErrorReceived: SpConnection.on_protocol_error,
        LinkLost: SpConnection.on_link_lost,
    }


class SgipCallbackConnection(SpConnection):
    """The SMG's connection to the SP's listener (Bind type 2): Deliver and Report go here."""

    simulator: SgipSimulator
    #: our own connection: a spell of silence only stops what is sent over it (``pump``)
    MUTABLE = False

    def __init__(self, simulator: SgipSimulator, link: CallbackLink) -> None:
        super().__init__(simulator)
        self.link = link
        self.account = link.account
        self.bound = False

    def connectionMade(self) -> None:
        SessionProtocol.connectionMade(self)  # not one of the SP connections that ``connections`` lists

    def make_session(self, now: float) -> SgipCallbackSession:
        target = self.link.target
        sim = self.simulator
        return SgipCallbackSession(target.login_name, target.password, sim.sequence, now, sim.callback_timers)

    def started(self) -> None:
        self.session.bind(self.now())

    def _logged_in(self, event: LoggedIn) -> None:
        self.bound = True
        self.simulator.counters["callback_binds"] += 1
        self.log.info("bound to the SP listener {peer} for {account}", peer=self.peer(), account=self.account)
        assert self.account is not None
        self.simulator.pump(self.account)

    def _login_refused(self, event: LoginRefused) -> None:
        self.simulator.counters["callback_refused"] += 1
        self.log.warn("the SP listener {peer} refused our Bind: {reason}", peer=self.peer(), reason=event.reason)

    def can_deliver(self) -> bool:
        return not self.gone and bool(self.session.can_send())

    def send(self, delivery: Delivery) -> Any:
        return self.simulator.render(self.session, delivery)

    def ended(self, reason: str) -> None:
        self.simulator.connection_ended(self, reason)
        self.link.lost(self)

    HANDLERS = {
        LoggedIn: _logged_in,
        LoginRefused: _login_refused,
        RequestAnswered: SpConnection.on_answered,
        RequestTimedOut: SpConnection.on_timed_out,
        ProtocolErrorReceived: SpConnection.on_protocol_error,
        LinkLost: SpConnection.on_link_lost,
    }


class CallbackLink(ClientFactory):
    """The callback connection of one account: opened when there is work, retried after a failure."""

    noisy = False

    def __init__(self, simulator: SgipSimulator, account: str) -> None:
        self.simulator = simulator
        self.account = account
        self.connection: SgipCallbackConnection | None = None
        self._connector: IConnector | None = None
        self._waiting = False
        #: failed attempts since the last successful Bind (the retry delay doubles with each)
        self.failures = 0

    @property
    def target(self) -> Any:
        return self.simulator.behaviour.callback

    def ensure(self) -> None:
        """Connect unless connected, connecting, or waiting to retry."""
        sim = self.simulator
        if self.connection is not None or self._connector is not None or self._waiting or sim.closed:
            return
        if self.target is None:
            return
        sim.counters["callback_connects"] += 1
        self._connector = sim.reactor.connectTCP(self.target.host, self.target.port, self,
                                                 timeout=max(1, int(sim.behaviour.response_timeout)))

    def buildProtocol(self, addr: Any) -> Any:
        self._connector = None
        connection = SgipCallbackConnection(self.simulator, self)
        connection.factory = self  # type: ignore[assignment]
        self.connection = connection
        return connection

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        self._connector = None
        self.simulator.counters["callback_failures"] += 1
        self.simulator.log.warn("cannot connect to the SP listener {host}:{port}: {reason}", host=self.target.host,
                                port=self.target.port, reason=str(reason.value))
        self._retry(self._backoff())

    def lost(self, connection: SgipCallbackConnection) -> None:
        if self.connection is connection:
            self.connection = None
        if connection.bound:
            self.failures = 0
        if self.simulator.queued(self.account):
            # work arrived while the connection was going: come back at once if it had worked, else later
            self._retry(0.0 if connection.bound else self._backoff())

    def _backoff(self) -> float:
        delay = min(MAX_RETRY, self.simulator.behaviour.callback_retry * 2 ** min(self.failures, 16))
        self.failures += 1
        return delay

    def stop(self) -> None:
        if self._connector is not None:
            self._connector.stopConnecting()
            self._connector = None
        if self.connection is not None:
            self.connection.drop()

    def _retry(self, delay: float) -> None:
        if self._waiting or self.simulator.closed:
            return
        self._waiting = True
        self.simulator.call_later(delay, self._again)

    def _again(self) -> None:
        self._waiting = False
        if self.simulator.queued(self.account):
            self.ensure()


class SgipSimulator(CarrierSimulator):
    """The simulated SMG; a Twisted ``Factory`` for the SPs' submit connections (``listen``/``service``)."""

    protocol_id = "sgip12"
    THROTTLE_RESULT = int(THROTTLE)
    BAD_DESTINATION = int(Result.ILLEGAL_MOBILE_NUMBER)

    def __init__(self, reactor: Any, behaviour: Behaviour, *, server_timers: CarrierTimers | None = None,
                 callback_timers: CarrierTimers | None = None) -> None:
        super().__init__(reactor, behaviour, "smsgw.sim.sgip12")
        b = behaviour
        self.server_timers = server_timers or CarrierTimers(
            window=b.window, response_timeout=b.response_timeout, max_sends=b.max_sends,
            login_timeout=b.login_timeout, peer_idle_timeout=b.peer_idle_timeout,
        )
        self.callback_timers = callback_timers or CarrierTimers(
            window=b.window, response_timeout=b.response_timeout, max_sends=b.max_sends, idle_timeout=b.idle_timeout,
        )
        #: the SMG's own triples (node id, China time, counter), shared by all its callback connections
        self.sequence = SequenceGenerator(b.node_id, self.wall)
        self.links: dict[str, CallbackLink] = {}

    def buildProtocol(self, addr: Any) -> Any:
        connection = SgipSpConnection(self)
        connection.factory = self
        return connection

    # ---------------------------------------------------------------- submits

    def read_submit(self, fields: Mapping[str, Any]) -> SubmitView:
        return SubmitView(
            destinations=tuple(fields["user_number"]), source=fields["sp_number"], coding=fields["message_coding"],
            content=bytes(fields["message_content"]), udhi=fields["tp_udhi"] != 0, report_flag=fields["report_flag"],
            fields=dict(fields),
        )

    def new_message_id(self, sequence: Any) -> tuple[Any, str]:
        return sequence, format_message_id(sequence)

    def wants_report(self, view: SubmitView, outcome: Outcome) -> bool:
        flag = view.report_flag
        return flag in _ALWAYS_REPORT or (flag == ReportFlag.ON_FAILURE and not outcome.delivered)

    # ---------------------------------------------------------------- the callback direction

    def link(self, account: str) -> CallbackLink:
        link = self.links.get(account)
        if link is None:
            link = self.links[account] = CallbackLink(self, account)
        return link

    def links_of(self, account: str) -> list[SpConnection]:
        connection = self.link(account).connection
        return [connection] if connection is not None and not connection.gone else []

    def pump(self, account: str) -> None:
        super().pump(account)
        if self.queued(account) and not self.silent:
            self.link(account).ensure()

    def render(self, session: SgipCallbackSession, delivery: Delivery) -> Any:
        """Send ``delivery`` as Report or Deliver; its triple, or None when the window is full."""
        now = self.now()
        job = delivery.job
        if isinstance(job, ReportJob):
            state, error = job.outcome.sgip()
            return session.report({
                "submit_sequence_number": job.native_id, "report_type": 0, "user_number": job.recipient,
                "state": state, "error_code": error,
            }, now)
        assert isinstance(job, MoJob)
        # sgip.md 4.5/7: the handset number travels as "86" + MSISDN
        source = "86" + job.source if len(job.source) == 11 and job.source.startswith("1") else job.source
        return session.deliver({
            "user_number": source, "sp_number": job.destination, "tp_pid": 0, "tp_udhi": 1 if job.udhi else 0,
            "message_coding": job.coding, "message_content": job.content,
        }, now)

    # ---------------------------------------------------------------- control

    def drop_connections(self) -> int:
        """Cut the SPs' submit connections and our callback connections at once."""
        dropped = super().drop_connections()
        for link in self.links.values():
            if link.connection is not None and not link.connection.gone:
                link.connection.drop()
                dropped += 1
                self.counters["drops"] += 1
        return dropped

    def close(self) -> None:
        super().close()
        for link in self.links.values():
            link.stop()
