"""``LinkGroup``: one carrier account, its connections, its window and TPS cap (DESIGN.md 3, steps 5-6).

The dispatcher hands segments to ``send``; the group maps each one to the
protocol's submit (``mapping``), queues it, and sends it on a logged-in
connection with room in its window when the account's token bucket
(``ratelimit``) allows, at most ``in_flight_cap`` unanswered over the whole
account.  Every ``send`` Deferred fires exactly once (``events``): the
carrier's id, a throttle (the group has already slowed down; the caller
retries), a refusal with the carrier's code, or ``Requeue`` when it is not
known to be taken (connection dropped, no answer after N sends, no usable
connection within ``queue_timeout``, suspended, stopped).

Connections: ``connections`` slots (``slot``), each a ``ClientService``
(clock passed in) whose retry policy backs off exponentially after lost
connections and much more slowly after a refused login, so bad credentials
never hammer the carrier.  SGIP links connect on demand (``on_demand``): a
slot starts when there is work, the session unbinds when idle, and the slot
stays stopped until the next send.

Reports and MO from the connections (and from the SGIP listener, which
calls ``report_arrived``/``mo_arrived``) go to the ``LinkObserver`` through
``inbound``; a report whose carrier id may still come in a submit response
waits there until that response has been turned into ``Submitted``.
"""

from __future__ import annotations

import random as _random
import time
from collections import OrderedDict, deque
from datetime import datetime
from typing import Any, Callable

import attrs
from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.interfaces import IDelayedCall, IReactorTime, IStreamClientEndpoint
from twisted.logger import Logger

from smsgw.domain.model import ClaimedSegment
from smsgw.net.links.cmpp import CmppDriver
from smsgw.net.links.config import CARRIER_TZ, LinkConfig
from smsgw.net.links.connection import CarrierConnection
from smsgw.net.links.driver import Answered, LinkDriver, MoIn, ReportIn, SubmitError
from smsgw.net.links.events import LinkObserver, Refused, Requeue, SendOutcome, Submitted, Throttled
from smsgw.net.links.inbound import Inbound
from smsgw.net.links.mapping import MappingError, submit_fields
from smsgw.net.links.ratelimit import RateLimiter
from smsgw.net.links.sgip import SgipDriver
from smsgw.net.links.slot import Slot
from smsgw.net.links.smgp import SmgpDriver
from smsgw.session.sgip_sequence import SequenceGenerator


@attrs.define(eq=False)
class _Send:
    """One ``send`` call until its Deferred has fired."""

    segment: ClaimedSegment
    fields: dict[str, Any]
    deferred: Deferred[SendOutcome]
    queued_at: float
    #: order of sending over the whole group (0: not sent yet)
    serial: int = 0
    sent_at: float | None = None
    #: the carrier id known before the answer (SGIP triple)
    pending_id: str | None = None
    done: bool = False


@attrs.frozen
class LinkGroupState:
    """A snapshot for the manhole, metrics and the dispatcher."""

    name: str
    protocol: str
    up: bool
    #: connections logged in / open but not (yet) logged in
    connections: int
    connecting: int
    in_flight: int
    queued: int
    tps: float
    throttled: bool
    suspended: bool
    stopping: bool
    login_failures: int
    last_error: str | None
    early_reports: int


class LinkGroup(Service):
    """The connections of one carrier account; see the module docstring."""

    def __init__(
        self,
        config: LinkConfig,
        observer: LinkObserver,
        *,
        reactor: Any = None,
        clock: IReactorTime | None = None,
        wallclock: Callable[[], float] = time.time,
        extensions: Callable[[int], str | None] | None = None,
        endpoint: IStreamClientEndpoint | None = None,
        random: Callable[[], float] = _random.random,
    ) -> None:
        """``reactor`` connects (default: the global one), ``clock`` times everything (default: ``reactor``).

        ``wallclock`` gives epoch seconds (login timestamps, validity, report times);
        ``extensions`` maps an account id to its extension (子号) appended to the SP number;
        ``endpoint`` replaces the TCP endpoint to ``config.host:port``; ``random`` is the
        reconnect jitter's source.
        """
        if reactor is None:
            from twisted.internet import reactor as global_reactor
            reactor = global_reactor
        self.config = config
        self.link_name: str = config.name
        self.name = config.name  # type: ignore[assignment]  # the Service's name, for a MultiService
        self.clock: IReactorTime = clock if clock is not None else reactor
        self.endpoint: IStreamClientEndpoint = endpoint or HostnameEndpoint(reactor, config.host, config.port,
                                                     timeout=config.response_timeout)
        self.random = random
        self.log = Logger(namespace=f"smsgw.net.{config.protocol}")
        self._wallclock = wallclock
        self._extensions = extensions or (lambda _account_id: None)
        self.limiter = RateLimiter(config.tps, config.bucket_size, self.clock, factor=config.throttle_factor,
                                   hold=config.throttle_hold, floor=config.min_tps)
        self.inbound = Inbound(config, observer, self.clock, self.wall_ms, self.log)
        self._sequence: SequenceGenerator | None = None
        if config.protocol == "sgip12":
            # shared by the connections and kept across them: triples stay unique (sgip.md 2)
            self._sequence = SequenceGenerator(config.sgip_node(), self.local_now, int(random() * 2**31))
        self._queue: deque[_Send] = deque()
        self._in_flight: dict[int, _Send] = {}
        #: the in-flight sends whose carrier id is not known yet, by serial (oldest first: serials only grow);
        #: an OrderedDict because its first key is found at once, where a dict used as a queue skips
        #: every entry deleted before it
        self._unnamed: OrderedDict[int, _Send] = OrderedDict()
        self._pending_ids: dict[str, int] = {}
        self._serial = 0
        self._up = False
        self._suspended = False
        self.stopping = False
        self._stop_phase: str | None = None
        self._stop_waiters: list[Deferred[None]] = []
        self._stop_timer: IDelayedCall | None = None
        self._pump_timer: IDelayedCall | None = None
        self._queue_timer: IDelayedCall | None = None
        self._pumping = False
        self._pump_again = False
        self.last_error: str | None = None
        self._slots = [Slot(self, i) for i in range(config.connections)]

    # public API

    def startService(self) -> None:
        super().startService()
        if not self.config.connects_on_demand:
            for slot in self._slots:
                slot.start()
        self._pump()

    def stopService(self) -> Deferred[None]:
        super().stopService()
        return self.stop()

    def send(self, segment: ClaimedSegment) -> Deferred[SendOutcome]:
        """Send one segment; the Deferred fires exactly once with a ``SendOutcome``."""
        d: Deferred[SendOutcome] = Deferred()
        if self.stopping:
            d.callback(Requeue("link group stopped"))
            return d
        if self._suspended:
            d.callback(Requeue("link group suspended"))
            return d
        try:
            fields = submit_fields(self.config, segment, self._extensions(segment.account_id), self.local_now())
        except MappingError as x:
            d.callback(Refused(x.code, x.reason, final=True))
            return d
        self._queue.append(_Send(segment, fields, d, self.clock.seconds()))
        self._arm_queue_timer()
        self._pump()
        return d

    @property
    def state(self) -> LinkGroupState:
        conns = [s.conn for s in self._slots if s.conn is not None]
        return LinkGroupState(
            name=self.link_name, protocol=self.config.protocol, up=self._up,
            connections=sum(1 for c in conns if c.ready), connecting=sum(1 for c in conns if not c.ready),
            in_flight=len(self._in_flight), queued=len(self._queue), tps=self.limiter.rate,
            throttled=self.limiter.slow_until is not None, suspended=self._suspended, stopping=self.stopping,
            login_failures=max((s.login_failures for s in self._slots), default=0), last_error=self.last_error,
            early_reports=len(self.inbound.early),
        )

    def available(self) -> bool:
        """Can take segments now: logged in, or an on-demand link (SGIP) that connects when work
        arrives and whose last login did not fail."""
        if self._suspended or self.stopping:
            return False
        if self._up:
            return True
        return self.config.connects_on_demand and max((s.login_failures for s in self._slots), default=0) == 0

    def suspend(self) -> None:
        """Take no more segments (they come back as ``Requeue``); connections stay up for reports and MO."""
        self._suspended = True
        self._requeue_queued("link group suspended")

    def resume(self) -> None:
        self._suspended = False
        self._pump()

    def stop(self) -> Deferred[None]:
        """Stop politely: queued segments come back at once, in-flight ones get ``stop_timeout`` to be
        answered, then each connection says goodbye (TERMINATE / Unbind / Exit) and is dropped after
        another ``stop_timeout``; whatever is still unanswered then comes back as ``Requeue``.
        A stopped group is not started again (make a new one)."""
        d: Deferred[None] = Deferred()
        if self._stop_phase == "done":
            d.callback(None)
            return d
        self._stop_waiters.append(d)
        if self.stopping:
            return d
        self.stopping = True
        self.running = False
        self._cancel(self._pump_timer)
        self._cancel(self._queue_timer)
        self._requeue_queued("link group stopped")
        for slot in self._slots:
            if slot.conn is None:
                self._stop_slot(slot)
        if self._in_flight:
            self._stop_phase = "draining"
            self._stop_timer = self.clock.callLater(self.config.stop_timeout, self._goodbye)
        else:
            self._goodbye()
        return d

    # what the carrier pushes (from the connections and the SGIP listener)

    def report_arrived(self, event: ReportIn) -> Deferred[Any] | None:
        """A status report: up now, or after the submit response it may have overtaken.  The
        connection answers it when the Deferred returned fires (None: at once), see ``inbound``."""
        return self.inbound.report(event, waits_for_id=event.carrier_msg_id in self._pending_ids,
                                   barrier=self._serial if self._open_from() is not None else None)

    def mo_arrived(self, event: MoIn) -> Deferred[Any] | None:
        return self.inbound.mo(event)

    # clocks

    def local_now(self) -> datetime:
        """The carriers' wall clock (China Standard Time)."""
        return datetime.fromtimestamp(self._wallclock(), CARRIER_TZ)

    def wall_ms(self) -> int:
        return int(self._wallclock() * 1000)

    def has_work(self) -> bool:
        return bool(self._queue)

    # sending

    def make_driver(self, now: float) -> LinkDriver:
        c = self.config
        if c.protocol == "sgip12":
            assert self._sequence is not None
            return SgipDriver(c, now, self._sequence)
        if c.protocol == "smgp30":
            return SmgpDriver(c, now)
        return CmppDriver(c, now)

    def _pump(self) -> None:
        """Send what the windows, the in-flight cap and the token bucket allow (safe to re-enter)."""
        if self._pumping:
            self._pump_again = True
            return
        self._pumping = True
        try:
            self._pump_again = True
            while self._pump_again:
                self._pump_again = False
                self._pump_once()
        finally:
            self._pumping = False

    def _pump_once(self) -> None:
        while self._queue and not self.stopping and not self._suspended:
            if len(self._in_flight) >= self.config.in_flight_cap:
                return
            conn = self._pick()
            if conn is None:
                self._demand()
                return
            wait = self.limiter.take()
            if wait > 0:
                self._arm_pump(wait)
                return
            self._submit(conn, self._queue.popleft())

    def _pick(self) -> CarrierConnection | None:
        usable = [s.conn for s in self._slots if s.conn is not None and s.conn.can_submit()]
        return min(usable, key=lambda c: len(c.sends)) if usable else None

    def _demand(self) -> None:
        if self.config.connects_on_demand and self.running:
            for slot in self._slots:
                if slot.conn is None:
                    slot.start_when_allowed()

    def _submit(self, conn: CarrierConnection, send: _Send) -> None:
        self._serial += 1
        send.serial = self._serial
        send.sent_at = self.clock.seconds()
        self._in_flight[send.serial] = send
        self._unnamed[send.serial] = send
        try:
            key = conn.submit(send, send.fields)
        except SubmitError as x:
            self._finish(send, Refused(x.code, x.reason, final=True))
            return
        if key is None:  # cannot happen after can_submit; keep the segment anyway
            del self._in_flight[send.serial]
            del self._unnamed[send.serial]
            send.serial = 0
            self.limiter.give_back()
            self._queue.appendleft(send)
            return
        send.pending_id = conn.pending_id(key)
        if send.pending_id is not None:
            self._pending_ids[send.pending_id] = send.serial
            del self._unnamed[send.serial]

    def _finish(self, send: _Send, outcome: SendOutcome) -> None:
        """Fire a send's Deferred (once), then release the reports that waited for it."""
        if send.done:
            return
        send.done = True
        if isinstance(outcome, Requeue) and send.pending_id is not None and self.inbound.early.holds(send.pending_id):
            # the carrier reported on this submit (SGIP: its triple) before its answer was lost: it was
            # taken, and sending it again would be a second SMS whose report never matches the first
            outcome = Submitted(send.pending_id, self.link_name)
        self._in_flight.pop(send.serial, None)
        self._unnamed.pop(send.serial, None)
        if send.pending_id is not None:
            self._pending_ids.pop(send.pending_id, None)
        send.deferred.callback(outcome)
        ids = [outcome.carrier_msg_id] if isinstance(outcome, Submitted) else []
        if send.pending_id is not None and not ids:
            ids.append(send.pending_id)  # not taken after all: its report goes up unmatched (the store keeps it)
        self.inbound.settle(ids, self._open_from())
        self._pump()
        self._check_stop()

    def _open_from(self) -> int | None:
        """The oldest unanswered submit whose carrier id is not known yet (None: there is none)."""
        return next(iter(self._unnamed), None)

    def _requeue_queued(self, reason: str) -> None:
        while self._queue:
            self._finish(self._queue.popleft(), Requeue(reason))

    # what the slots report

    def slot_answered(self, send: _Send, event: Answered) -> None:
        c = self.config
        code = event.code
        outcome: SendOutcome
        if code == 0:
            carrier_id = event.carrier_msg_id or send.pending_id
            if carrier_id is None:  # cannot happen: every session names the id of an accepted submit
                outcome = Requeue("accepted without a carrier id")
            else:
                outcome = Submitted(carrier_id, self.link_name)
        elif code in c.throttles:
            self.limiter.throttled(send.sent_at)
            self.log.warn("{link}: throttled by the carrier ({reason}); TPS now {tps:.1f}", link=self.link_name,
                          reason=event.reason, tps=self.limiter.rate)
            outcome = Throttled(str(code), event.reason)
        else:
            outcome = Refused(str(code), event.reason, final=code not in c.retries)
        self._finish(send, outcome)

    def slot_gave_up(self, send: _Send) -> None:
        self._finish(send, Requeue(f"no answer after {self.config.max_sends} send(s)"))

    def slot_logged_in(self, slot: Slot, detail: str) -> None:
        self.last_error = None
        self.log.info("{connection}: logged in ({detail})", connection=slot.name, detail=detail)
        if not self._up:
            self._up = True
            self.inbound.link_state(True)
        if self.stopping and slot.conn is not None:
            slot.conn.close()
            return
        self._pump()

    def slot_login_failed(self, slot: Slot, code: int, reason: str) -> None:
        self.last_error = f"login refused: {reason}"
        self.log.error("{connection}: login refused by the carrier: {reason} (attempt {n}); "
                       "retrying slowly", connection=slot.name, reason=reason, n=slot.login_failures)
        if self._up and not self._any_ready():
            self._up = False
            self.inbound.link_state(False)

    def slot_connection_lost(self, slot: Slot, conn: CarrierConnection, unanswered: list[_Send],
                             reason: str) -> None:
        clean = conn.clean_end
        (self.log.info if clean else self.log.warn)(
            "{connection}: connection closed: {reason}", connection=slot.name, reason=reason)
        if not clean and not (slot.login_failures and not conn.ready_once):  # keep "login refused"
            self.last_error = f"connection lost: {reason}"
        if self.stopping:
            self._stop_slot(slot)
        elif self.config.connects_on_demand:
            # no automatic reconnect: the next send opens a connection (after the backoff, if this failed)
            self._stop_slot(slot)
            slot.retry_at = self.clock.seconds() if clean else self.clock.seconds() + slot.retry_delay(1)
        for send in unanswered:
            self._finish(send, Requeue(f"connection lost with the segment in flight: {reason}"))
        idle = clean and self.config.connects_on_demand
        if self._up and not idle and not self._any_ready():
            self._up = False
            self.inbound.link_state(False)
        self._pump()
        self._check_stop()

    def _any_ready(self) -> bool:
        return any(s.conn is not None and s.conn.ready for s in self._slots)

    # timers

    def _arm_pump(self, delay: float) -> None:
        if self._pump_timer is not None and self._pump_timer.active():
            return
        self._pump_timer = self.clock.callLater(delay, self._pump_fired)

    def _pump_fired(self) -> None:
        self._pump_timer = None
        self._pump()

    def _arm_queue_timer(self) -> None:
        if not self._queue or (self._queue_timer is not None and self._queue_timer.active()):
            return
        delay = max(0.0, self._queue[0].queued_at + self.config.queue_timeout - self.clock.seconds())
        self._queue_timer = self.clock.callLater(delay, self._queue_timeout)

    def _queue_timeout(self) -> None:
        self._queue_timer = None
        limit = self.clock.seconds() - self.config.queue_timeout
        while self._queue and self._queue[0].queued_at <= limit:
            self._finish(self._queue.popleft(), Requeue(
                f"no usable connection within {self.config.queue_timeout:g} s"
                + (f" ({self.last_error})" if self.last_error else "")))
        self._arm_queue_timer()

    @staticmethod
    def _cancel(call: IDelayedCall | None) -> None:
        if call is not None and call.active():
            call.cancel()

    # stopping: draining -> closing -> done

    def _stop_slot(self, slot: Slot) -> None:
        slot.stop().addBoth(lambda _: self._check_stop())

    def _goodbye(self) -> None:
        if self._stop_phase in ("closing", "done"):
            return
        self._stop_phase = "closing"
        self._cancel(self._stop_timer)
        for slot in self._slots:
            if slot.conn is not None:
                slot.conn.close()
            else:
                self._stop_slot(slot)
        self._stop_timer = self.clock.callLater(self.config.stop_timeout, self._abort_all)
        self._check_stop()

    def _abort_all(self) -> None:
        self._stop_timer = None
        for slot in self._slots:
            if slot.conn is not None:
                slot.conn.abort()

    def _check_stop(self) -> None:
        if self._stop_phase == "draining" and not self._in_flight:
            self._goodbye()
            return
        if self._stop_phase != "closing" or not all(s.idle for s in self._slots):
            return
        self._stop_phase = "done"
        self._cancel(self._stop_timer)
        for send in list(self._in_flight.values()):
            self._finish(send, Requeue("link group stopped"))
        self.inbound.drain()
        if self._up:
            self._up = False
            self.inbound.link_state(False)
        waiters, self._stop_waiters = self._stop_waiters, []
        for d in waiters:
            d.callback(None)
