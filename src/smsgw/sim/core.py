"""What every simulated carrier gateway does alike: judge submits, keep records, queue receipts and MO.

``CarrierSimulator`` is a Twisted ``Factory`` for the SP connections of one
simulated gateway.  It owns, for all protocols:

* the verdict on each submit: dropped (``Behaviour.drop_every``/``drop_probability``), throttled (a token
  bucket per account, ``Behaviour.tps``), refused (no destination) or accepted
  under a new carrier message id;
* ``received`` (the last ``record_limit`` submits, decoded) and ``counters``;
* receipts: after the configured delay, a report per destination whose submit
  asked for one, with an outcome drawn from the mix;
* the outbox of each account: reports and MO wait there until a connection of
  that account can take them (within its window), go back to the front when a
  connection is lost or a deliver goes unanswered, and leave when the SP answers.
  So a link that drops loses nothing: it gets everything again on its next login;
* ``inject_mo``, ``drop_connections`` (also every ``Behaviour.drop_interval`` seconds),
  ``listen``/``service`` and ``close``;
* the faults of ``faults``: spells of silence (logged-in connections are muted,
  submits not taken, nothing sent), throttle storms, and reports sent before
  the submit's answer (``silence``/``throttle_storm`` start a spell now).

A protocol module (``cmpp``, ``sgip``, ``smgp``) adds how a submit is read and
answered, how ids are made, and how a queued report or MO becomes a PDU.
"""

from __future__ import annotations

import enum
import functools
import itertools
from collections import Counter, deque
from datetime import datetime
from typing import Any, Callable, ClassVar, Mapping

from twisted.application.internet import TCPServer
from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IListeningPort
from twisted.internet.protocol import Factory
from twisted.logger import Logger

from smsgw.sim.adapter import SessionProtocol
from smsgw.sim.behaviour import CHINA, Account, Behaviour, Outcome
from smsgw.sim.faults import Faults, Spell
from smsgw.sim.records import (
    Delivery, MoJob, ReceivedSubmit, ReportJob, SubmitView, TokenBucket, mo_parts, text_of,
)


class Verdict(enum.Enum):
    ACCEPT = "accepted"
    ACCEPT_THEN_DROP = "accepted, then dropped"
    THROTTLE = "throttled"
    DROP = "dropped"
    IGNORE = "ignored"


class SpConnection(SessionProtocol):
    """An SP's connection to the simulator (the accepting side); protocol modules subclass it."""

    factory: CarrierSimulator
    #: whether a spell of silence mutes this connection once it is logged in (the SP's own connections)
    MUTABLE: ClassVar[bool] = True

    def __init__(self, simulator: CarrierSimulator) -> None:
        super().__init__(simulator.reactor, simulator.log)
        self.simulator = simulator
        #: the logged-in account's name
        self.account: str | None = None
        #: our delivers awaiting the SP's answer, by sequence
        self.in_flight: dict[Any, Delivery] = {}

    def connectionMade(self) -> None:
        self.simulator.connections.add(self)
        self.simulator.counters["connections"] += 1
        super().connectionMade()

    def write(self, data: bytes) -> None:
        """Nothing reaches a logged-in SP while the gateway is silent (``faults``)."""
        if self.MUTABLE and self.account is not None and self.simulator.silent:
            self.simulator.counters["muted_bytes"] += len(data)
            return
        super().write(data)

    def ended(self, reason: str) -> None:
        self.simulator.connection_ended(self, reason)

    # handlers every protocol's table uses
    def on_protocol_error(self, event: Any) -> None:
        self.simulator.counters["protocol_errors"] += 1
        self.log.warn("{peer} sent a bad PDU: {error}", peer=self.peer(), error=str(event.error))

    def on_link_lost(self, event: Any) -> None:
        self.log.info("session with {peer} ended: {reason}", peer=self.peer(), reason=event.reason)

    def on_answered(self, event: Any) -> None:
        self.simulator.answered(self, event.sequence, event.result)

    def on_timed_out(self, event: Any) -> None:
        self.simulator.timed_out(self, event.sequence)

    def on_submit(self, event: Any) -> None:
        self.simulator.handle_submit(self, event.sequence, event.fields)

    # protocol modules give these
    def can_deliver(self) -> bool:
        return False

    def send(self, delivery: Delivery) -> Any:
        """Put ``delivery`` on the wire; returns its sequence, or None when the window is full."""
        raise NotImplementedError

    def answer_submit(self, sequence: Any, result: int, native_id: Any) -> None:
        raise NotImplementedError


class CarrierSimulator(Faults, Factory):
    """Base of the simulated gateways; see the module docstring."""

    noisy = False

    #: the protocol id this simulator speaks (for records and logs)
    protocol_id: str
    #: the Result/Status answering a submit over the account's speed limit
    THROTTLE_RESULT: ClassVar[int]
    #: the Result/Status answering a submit without destination
    BAD_DESTINATION: ClassVar[int]

    def __init__(self, reactor: Any, behaviour: Behaviour, log_namespace: str) -> None:
        self.reactor = reactor
        self.behaviour = behaviour
        self.log = Logger(namespace=log_namespace)
        #: the last ``behaviour.record_limit`` submits, oldest first
        self.received: deque[ReceivedSubmit] = deque(maxlen=behaviour.record_limit)
        self.counters: Counter[str] = Counter()
        #: the SP connections open now
        self.connections: set[SpConnection] = set()
        self._buckets: dict[str, TokenBucket] = {}
        self._outbox: dict[str, deque[Delivery]] = {}
        self._calls: set[IDelayedCall] = set()
        self._submits = 0
        self._mo_reference = itertools.count(1)
        self._closed = False
        self._spell_ends: set[Spell] = set()
        #: when the simulator began listening (spells are measured from here)
        self.started_at = self.now()

    @property
    def closed(self) -> bool:
        """``close`` was called: nothing more is queued, sent or retried."""
        return self._closed

    # ------------------------------------------------------------------ time

    def now(self) -> float:
        return float(self.reactor.seconds())

    def wall(self) -> datetime:
        """The carrier's local time (China), from the reactor's clock."""
        return datetime.fromtimestamp(self.now(), CHINA)

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> IDelayedCall:
        """A timer that ``close`` cancels."""
        call: IDelayedCall

        def run() -> None:
            self._calls.discard(call)
            fn(*args)

        call = self.reactor.callLater(delay, run)
        self._calls.add(call)
        return call

    def cancel_call(self, call: IDelayedCall) -> None:
        if call.active():
            call.cancel()
        self._calls.discard(call)

    def elapsed(self) -> float:
        """Seconds since the simulator began listening."""
        return self.now() - self.started_at

    # ------------------------------------------------------------------ accounts and links

    def account(self, name: str) -> Account | None:
        return self.behaviour.account(name)

    def logged_in(self, connection: SpConnection, account: str) -> None:
        connection.flush()  # the login's answer goes out even in a spell of silence
        connection.account = account
        self.counters["logins"] += 1
        self.log.info("{account} logged in from {peer}", account=account, peer=connection.peer())
        self.pump(account)

    def login_refused(self, connection: SpConnection, name: str, status: int) -> None:
        self.counters["logins_refused"] += 1
        self.log.info("login of {name!r} from {peer} refused with {status}", name=name, peer=connection.peer(),
                      status=status)

    def links_of(self, account: str) -> list[SpConnection]:
        return [c for c in self.connections if c.account == account and not c.gone]

    def connection_ended(self, connection: SpConnection, reason: str) -> None:
        self.connections.discard(connection)
        account = connection.account
        if account is None or self._closed:
            return
        back = list(connection.in_flight.values())
        connection.in_flight.clear()
        if back:
            self.counters["requeued"] += len(back)
            self._outbox.setdefault(account, deque()).extendleft(reversed(back))
        self.log.info("{account} at {peer} disconnected ({reason}); {n} deliver(s) back in the queue",
                      account=account, peer=connection.peer(), reason=reason, n=len(back))
        self.pump(account)

    # ------------------------------------------------------------------ submits

    def read_submit(self, fields: Mapping[str, Any]) -> SubmitView:
        raise NotImplementedError

    def new_message_id(self, sequence: Any) -> tuple[Any, str]:
        """(the id as the protocol carries it, its text form) for an accepted submit."""
        raise NotImplementedError

    def wants_report(self, view: SubmitView, outcome: Outcome) -> bool:
        raise NotImplementedError

    def handle_submit(self, connection: SpConnection, sequence: Any, fields: Mapping[str, Any]) -> None:
        """Judge a submit, answer it on ``connection``, record it, schedule its reports."""
        account = connection.account
        assert account is not None
        view = self.read_submit(fields)
        protocol = getattr(connection.session, "protocol", self.protocol_id)  # CMPP: the connection's version
        record = functools.partial(self._record, protocol, account, view)
        verdict = self._judge(account)
        if verdict is Verdict.IGNORE:
            # answered for the session's sake only (it stops waiting for our decision); the muted
            # connection swallows the answer, so the SP sees none
            connection.answer_submit(sequence, self.THROTTLE_RESULT, None)
            record("ignored", None, None, ())
            return
        if verdict is Verdict.DROP:
            record("dropped", None, None, ())
            self.log.info("dropping {peer} on a submit, unanswered", peer=connection.peer())
            connection.drop()
            return
        if verdict is Verdict.THROTTLE:
            connection.answer_submit(sequence, self.THROTTLE_RESULT, None)
            record("throttled", self.THROTTLE_RESULT, None, ())
            return
        if not view.destinations:
            connection.answer_submit(sequence, self.BAD_DESTINATION, None)
            record("refused", self.BAD_DESTINATION, None, ())
            return
        native, text = self.new_message_id(sequence)
        self.counters["accepted"] += 1
        submitted = self.wall()
        outcomes = [self.behaviour.draw_outcome() for _ in view.destinations]
        record("accepted", 0, text, tuple(o.stat for o in outcomes))
        early = []
        for recipient, outcome in zip(view.destinations, outcomes):
            if self.wants_report(view, outcome):
                job = ReportJob(native, text, recipient, outcome, submitted, view)
                if self.behaviour.draw_report_first():
                    early.append(self._report_first(account, job))
                else:
                    self.call_later(self.behaviour.draw_receipt_delay(), self._report_due, account, job)
        answer = functools.partial(self._answer_accepted, connection, sequence, native,
                                   verdict is Verdict.ACCEPT_THEN_DROP)
        if early:
            self._answer_after(early, answer)
        else:
            answer()

    def _answer_accepted(self, connection: SpConnection, sequence: Any, native: Any, then_drop: bool) -> None:
        connection.answer_submit(sequence, 0, native)
        if then_drop:
            self.log.info("dropping {peer} after answering a submit", peer=connection.peer())
            connection.drop()
        else:
            connection.flush()  # the answer may come after the handler, once its early report is answered

    def _report_first(self, account: str, job: ReportJob) -> defer.Deferred[int]:
        """Send a report at once, ahead of the queue; the Deferred fires when the SP has answered it."""
        job.done = self.wall()
        self.counters["reports_due"] += 1
        self.counters["reports_first"] += 1
        answered: defer.Deferred[int] = defer.Deferred()
        self._outbox.setdefault(account, deque()).appendleft(Delivery(account, job, answered))
        self.pump(account)
        return answered

    def _judge(self, account: str) -> Verdict:
        self.counters["submits"] += 1
        if self.silent:
            self.counters["ignored"] += 1
            return Verdict.IGNORE
        if self.behaviour.storming(self.elapsed()):
            self.counters["throttled"] += 1
            self.counters["storm_throttled"] += 1
            return Verdict.THROTTLE
        self._submits += 1
        drop = self.behaviour.draw_drop(self._submits)
        if drop and not self.behaviour.drop_after_answer:
            self.counters["dropped"] += 1
            return Verdict.DROP
        if not self._bucket_take(account):
            self.counters["throttled"] += 1
            return Verdict.THROTTLE
        if drop:
            self.counters["dropped"] += 1
            return Verdict.ACCEPT_THEN_DROP
        return Verdict.ACCEPT

    def _bucket_take(self, name: str) -> bool:
        account = self.account(name)
        tps = self.behaviour.tps_of(account) if account is not None else self.behaviour.tps
        if tps is None:
            return True
        bucket = self._buckets.get(name)
        if bucket is None:
            capacity = max(1.0, tps)
            bucket = self._buckets[name] = TokenBucket(tps, capacity, capacity, self.now())
        return bucket.take(self.now())

    def _record(self, protocol: str, account: str, view: SubmitView, status: str, result: int | None,
                message_id: str | None, outcomes: tuple[str, ...]) -> None:
        self.received.append(ReceivedSubmit(
            protocol, account, status, result, message_id, view.destinations, view.source, view.coding,
            view.content, text_of(view), view.udhi, view.report_flag, outcomes, view.fields, self.now(),
        ))

    def _report_due(self, account: str, job: ReportJob) -> None:
        job.done = self.wall()
        self.counters["reports_due"] += 1
        self.enqueue(Delivery(account, job))

    # ------------------------------------------------------------------ MO

    def inject_mo(self, source: str, destination: str, content: str | bytes, coding: int | None = None, *,
                  account: str | None = None) -> defer.Deferred[list[int]]:
        """Send an MO from handset ``source`` to ``destination`` (service number + extension).

        ``content`` is text (encoded in ``coding``, by default ASCII or UCS2 as
        it fits) or bytes already in ``coding`` (default 4, binary).  Longer
        than 140 bytes, it goes in parts with a concatenation UDH.  The MO goes
        to ``account``, else the account whose ``service_number`` is the longest
        prefix of ``destination``, else the only account.  The Deferred fires
        with the SP's Result for each part once answered.
        """
        target = account or self._account_for(destination)
        if self.account(target) is None:
            raise ValueError(f"no account {target!r}")
        parts = mo_parts(content, coding, self.protocol_id, next(self._mo_reference))
        answers = []
        for code, payload, udhi in parts:
            d: defer.Deferred[int] = defer.Deferred()
            answers.append(d)
            self.enqueue(Delivery(target, MoJob(source, destination, code, payload, udhi), d))
        return defer.gatherResults(answers, consumeErrors=True)

    def _account_for(self, destination: str) -> str:
        matches = [a for a in self.behaviour.accounts if a.service_number and destination.startswith(a.service_number)]
        if matches:
            return max(matches, key=lambda a: len(a.service_number)).name
        if len(self.behaviour.accounts) == 1:
            return self.behaviour.accounts[0].name
        raise ValueError(f"no account's service number starts {destination!r}: name the account")

    # ------------------------------------------------------------------ outbox

    def enqueue(self, delivery: Delivery) -> None:
        if self._closed:
            return
        self._outbox.setdefault(delivery.account, deque()).append(delivery)
        self.pump(delivery.account)

    def queued(self, account: str | None = None) -> int:
        """Deliveries waiting for a connection (of ``account``, or of all)."""
        if account is not None:
            return len(self._outbox.get(account, ()))
        return sum(map(len, self._outbox.values()))

    def pump(self, account: str) -> None:
        """Send what ``account``'s outbox holds over its connections, as far as their windows allow
        (nothing in a spell of silence)."""
        queue = self._outbox.get(account)
        if not queue or self.silent:
            return
        for connection in self.links_of(account):
            self.send_over(connection, queue)
            if not queue:
                break

    def send_over(self, connection: SpConnection, queue: deque[Delivery]) -> None:
        sent = False
        while queue and connection.can_deliver():
            delivery = queue.popleft()
            try:
                sequence = connection.send(delivery)
            except Exception as x:  # fields that do not fit this connection (e.g. a 32-digit number in 2.0)
                self.counters["undeliverable"] += 1
                self.log.warn("cannot send {kind} to {account}: {error}", kind=delivery.kind,
                              account=delivery.account, error=str(x))
                if delivery.answered is not None:
                    delivery.answered.errback(x)
                continue
            if sequence is None:
                queue.appendleft(delivery)
                break
            delivery.sends += 1
            connection.in_flight[sequence] = delivery
            self.counters[f"{delivery.kind}_sent"] += 1
            sent = True
        if sent:
            connection.flush()

    def answered(self, connection: SpConnection, sequence: Any, result: int) -> None:
        """The SP answered one of our delivers on ``connection``."""
        delivery = connection.in_flight.pop(sequence, None)
        if delivery is None:
            return
        self.counters[f"{delivery.kind}_answered"] += 1
        if result != 0:
            self.counters[f"{delivery.kind}_refused"] += 1
            self.log.warn("{account} answered a {kind} with {result}", account=delivery.account,
                          kind=delivery.kind, result=result)
        if delivery.answered is not None:
            delivery.answered.callback(result)
        if connection.account is not None:
            self.pump(connection.account)

    def timed_out(self, connection: SpConnection, sequence: Any) -> None:
        """One of our delivers got no answer after its last resend: back to the front of the queue."""
        delivery = connection.in_flight.pop(sequence, None)
        if delivery is None:
            return
        self.counters["requeued"] += 1
        self._outbox.setdefault(delivery.account, deque()).appendleft(delivery)
        self.pump(delivery.account)

    # ------------------------------------------------------------------ control

    def startFactory(self) -> None:
        """Listening has begun: spells count from now; start the scheduled drops, if any."""
        self.started_at = self.now()
        if self._closed:
            return
        if self.behaviour.drop_interval is not None:
            self.call_later(self.behaviour.drop_interval, self._drop_on_schedule)
        self._arm_spell_ends()

    def _drop_on_schedule(self) -> None:
        dropped = self.drop_connections()
        self.log.info("scheduled drop: {n} connection(s) closed", n=dropped)
        if self.behaviour.drop_interval is not None and not self._closed:
            self.call_later(self.behaviour.drop_interval, self._drop_on_schedule)

    def drop_connections(self) -> int:
        """Close every SP connection now (no TERMINATE/Exit/Unbind); returns how many."""
        connections = [c for c in self.connections if not c.gone]
        for c in connections:
            c.drop()
        self.counters["drops"] += len(connections)
        return len(connections)

    def listen(self, port: int, interface: str = "127.0.0.1") -> IListeningPort:
        """Listen on ``interface``:``port`` (0: any free port; ``getHost().port`` says which)."""
        listening: IListeningPort = self.reactor.listenTCP(port, self, interface=interface)
        return listening

    def service(self, port: int, interface: str = "127.0.0.1") -> TCPServer:
        """A service listening on ``port`` that closes the simulator when stopped."""
        return _SimulatorService(self, port, interface=interface, reactor=self.reactor)

    def close(self) -> None:
        """Stop: cancel receipts and retries, cut every connection, forget the queues."""
        self._closed = True
        for call in list(self._calls):
            if call.active():
                call.cancel()
        self._calls.clear()
        self._outbox.clear()
        for c in list(self.connections):
            c.drop()

    def snapshot(self) -> dict[str, Any]:
        """Counters and queue lengths, for logs and the runner's periodic line."""
        return {**self.counters, "queued": self.queued(), "connections_open": len(self.connections)}


class _SimulatorService(TCPServer):
    def __init__(self, simulator: CarrierSimulator, port: int, **kw: Any) -> None:
        super().__init__(port, simulator, **kw)
        self.simulator = simulator

    def stopService(self) -> Any:
        self.simulator.close()
        return super().stopService()

