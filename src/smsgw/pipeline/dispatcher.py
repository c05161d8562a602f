"""Dispatch: due segments from the store to the carrier links, outcomes back to the store.

The dispatcher pages due segments per carrier (only for carriers that have a
usable route now, so a carrier whose links are all down keeps its messages
queued in the store, never dropped and never churned), asks routing for the
link group, and hands each segment to it.  In-flight segments are bounded
(``max_in_flight``), so nothing is loaded beyond what the links can take.
Every outcome is recorded: ``Submitted`` with the carrier's id, ``Throttled``
and non-final refusals back to the queue after a delay, final refusals end the
segment with the carrier's code, ``Requeue`` back to the queue at once.

The send window is looked at again here, at the last moment before a link:
a message accepted at 22:29 and still waiting at 22:31 must not go out.  With
``window`` (the policy service's ``window_release``), claimed segments of
accounts whose window is closed are not sent: their messages go back to
held(window) in one transaction (``policy_store.HoldForWindow``) and are
released with the others when the window opens.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol

import attrs
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger

from smsgw.domain.model import ClaimedSegment
from smsgw.domain.outcomes import Refused, Requeue, SendOutcome, Submitted, Throttled
from smsgw.pipeline.policy_store import HoldForWindow
from smsgw.policy.verdict import Rule, reason
from smsgw.routing.numbering import Carrier
from smsgw.routing.router import Route, RoutingTable, choose_route

log = Logger(namespace="smsgw.pipeline.dispatcher")

#: (account id, now ms) → None when the account may send now, else when its window opens
WindowCheck = Callable[[int, int], "int | None"]
WINDOW_CLOSED = reason(Rule.WINDOW, "the send window closed before it went out")


class LinkGroupLike(Protocol):
    """``net.links.LinkGroup``: ``send`` fires once with an outcome; ``available()`` says it can take work."""

    def available(self) -> bool: ...

    def send(self, segment: ClaimedSegment) -> Deferred[SendOutcome]: ...


@attrs.frozen
class DispatcherConfig:
    #: segments handed to links and not yet answered, over all links
    max_in_flight: int = 2000
    #: segments claimed per store round trip
    page: int = 500
    #: while segments are in flight, claim only once this much room is free: under load the
    #: outcomes free room one segment at a time, and a claim per handful of segments cost a
    #: store round trip (an index scan of the due queue) each — most of the writer's time
    min_claim: int = 100
    #: how often to look for due work when there was none
    idle_poll: float = 0.5
    #: wait before a throttled or temporarily refused segment is tried again
    throttle_retry: float = 1.0
    refused_retry: float = 60.0


class Dispatcher:
    def __init__(
        self,
        store: Any,
        clock: Any,
        groups: Mapping[str, LinkGroupLike],
        table: RoutingTable,
        config: DispatcherConfig | None = None,
        window: WindowCheck | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.groups = dict(groups)
        self.table = table
        self.config = config or DispatcherConfig()
        #: the send window per account (None: every message goes when due)
        self.window = window
        self.in_flight = 0
        self.counters = {"sent": 0, "submitted": 0, "throttled": 0, "refused": 0, "requeued": 0, "waited": 0,
                         "window_held": 0}
        self._timer: IDelayedCall | None = None
        self._running = False
        self._busy = False
        self._carriers = tuple(Carrier)
        self._first = 0  # the carrier a round starts with, in turn (claims share the room fairly)

    # ---------------------------------------------------------------- control

    def start(self) -> None:
        self._running = True
        self.poke()

    def stop(self) -> None:
        self._running = False
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def poke(self) -> None:
        """New work may be due (a message was accepted, a link came up): look soon."""
        if not self._running or self._busy:
            return
        if self._timer is not None and self._timer.active():
            if self._timer.getTime() <= self.clock.seconds():
                return
            self._timer.cancel()
        self._timer = self.clock.callLater(0, self._round)

    # ---------------------------------------------------------------- work

    def _up(self) -> frozenset[str]:
        return frozenset(name for name, g in self.groups.items() if g.available())

    def _round(self) -> None:
        self._timer = None
        if not self._running or self._busy:
            return
        self._busy = True
        d = self._claim_and_send()
        d.addErrback(lambda f: log.failure("dispatch round failed", f) or 0)
        d.addCallback(self._after_round)

    def _room_to_claim(self) -> int:
        """How many segments a round may claim now (0: wait for more outcomes)."""
        room = self.config.max_in_flight - self.in_flight
        if room <= 0 or (self.in_flight and room < min(self.config.min_claim, self.config.max_in_flight)):
            return 0
        return room

    def _after_round(self, claimed: int) -> None:
        self._busy = False
        if not self._running:
            return
        if claimed and self._room_to_claim():
            self._timer = self.clock.callLater(0, self._round)
        else:
            self._timer = self.clock.callLater(self.config.idle_poll, self._round)

    @inlineCallbacks
    def _claim_and_send(self) -> Any:
        up = self._up()
        total = 0
        count = len(self._carriers)
        first, self._first = self._first, (self._first + 1) % count
        for carrier in (self._carriers[(first + i) % count] for i in range(count)):
            room = self._room_to_claim()
            if not room:
                break
            probe = choose_route(self.table, carrier, up, account_id=None, enterprise_id=None)
            has_account_routes = bool(self.table.accounts)
            if not isinstance(probe, Route) and not has_account_routes:
                continue  # every link of this carrier is down: its messages wait in the store
            now_ms = int(self.clock.seconds() * 1000)
            segments = yield self.store.claim_due(now_ms, min(room, self.config.page), carrier.value)
            total += len(segments)
            if self.window is not None and segments:
                segments = yield self._within_window(segments, now_ms)
            for segment in segments:
                self._dispatch(segment, up)
        return total

    def _within_window(self, segments: list[ClaimedSegment], now_ms: int) -> Any:
        """The claimed segments that may go out now; the messages of the others are held
        for their window (a list, or a Deferred of one when some were closed)."""
        check = self.window
        assert check is not None
        opens: dict[int, int | None] = {}
        closed: dict[int, int] = {}
        for segment in segments:
            account_id = segment.account_id
            if account_id not in opens:
                opens[account_id] = check(account_id, now_ms)
            until = opens[account_id]
            if until is not None:
                closed[segment.message_id] = until
        if not closed:
            return segments
        keys = tuple((seg.message_id, seg.seq) for seg in segments if seg.message_id in closed)
        d: Deferred[list[int]] = self.store.run(HoldForWindow(keys, tuple(closed.items()), now_ms, WINDOW_CLOSED))

        def held(ids: list[int]) -> list[ClaimedSegment]:
            self.counters["window_held"] += len(ids)
            gone = set(ids)
            return [seg for seg in segments if seg.message_id not in gone]

        def failed(failure: Any) -> list[ClaimedSegment]:
            # not sent and not held: back to the queue, to be looked at again
            log.failure("holding {n} message(s) for their window failed", failure, n=len(closed))
            self._record(self.store.requeue(keys, now_ms, "window hold failed"))
            return [seg for seg in segments if seg.message_id not in closed]

        d.addCallbacks(held, failed)
        return d

    def _dispatch(self, segment: ClaimedSegment, up: frozenset[str]) -> None:
        carrier = Carrier(segment.carrier) if segment.carrier else None
        route = None
        if carrier is not None:
            route = choose_route(self.table, carrier, up, account_id=segment.account_id,
                                 enterprise_id=segment.enterprise_id)
        if not isinstance(route, Route) or route.link_group not in self.groups:
            self.counters["waited"] += 1
            reason = getattr(route, "reason", "no route")
            self._record(self.store.submit_failed(segment.message_id, segment.seq, self._ms(), reason,
                                                  None, self._ms(self.config.refused_retry)))
            return
        self.in_flight += 1
        self.counters["sent"] += 1
        d = self.groups[route.link_group].send(segment)
        d.addCallback(self._outcome, segment)
        d.addErrback(self._send_failed, segment)

    def _outcome(self, outcome: SendOutcome, segment: ClaimedSegment) -> None:
        self.in_flight -= 1
        store = self.store
        key = (segment.message_id, segment.seq)
        if isinstance(outcome, Submitted):
            self.counters["submitted"] += 1
            self._record(store.submitted(*key, segment.carrier or "", outcome.carrier_msg_id, self._ms(), outcome.link))
        elif isinstance(outcome, Throttled):
            self.counters["throttled"] += 1
            self._record(store.submit_failed(*key, self._ms(), "throttled", outcome.code,
                                             self._ms(self.config.throttle_retry)))
        elif isinstance(outcome, Refused):
            self.counters["refused"] += 1
            retry = None if outcome.final else self._ms(self.config.refused_retry)
            self._record(store.submit_failed(*key, self._ms(), outcome.reason, outcome.code, retry))
        elif isinstance(outcome, Requeue):
            self.counters["requeued"] += 1
            self._record(store.requeue((key,), self._ms(), outcome.reason))
        if self._room_to_claim():
            self.poke()

    def _send_failed(self, failure: Any, segment: ClaimedSegment) -> None:
        self.in_flight -= 1
        log.failure("link send of {mid}/{seq} failed", failure, mid=segment.message_id, seq=segment.seq)
        self._record(self.store.requeue(((segment.message_id, segment.seq),), self._ms(), "link error"))

    def _record(self, d: Deferred[Any]) -> None:
        d.addErrback(lambda f: log.failure("recording a dispatch outcome failed", f))

    def _ms(self, delay: float = 0.0) -> int:
        return int((self.clock.seconds() + delay) * 1000)
