"""Timers and the sliding window of requests awaiting a carrier's response.

The carrier specs share one retry model (cmpp.md section 1, smgp.md section 1):
at most W requests unanswered at a time (W = 16), a request unanswered after
T (60 s) is resent, the same bytes with the same sequence, and after N sends in
total (N = 3) it is given up.  Active_Test follows the same rule (resend after
T, close after N).  SGIP 1.2 specifies no window or timers; we apply the same
model to it (the values are contract parameters anyway, smgp.md section 1).

Pure bookkeeping: no clock, ``now`` (seconds, any monotonic origin) is passed in.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterator

import attrs

#: an int (SMGP, CMPP) or an SGIP triple (node id, MMDDHHMMSS, counter)
Sequence = Any


@attrs.define
class CarrierTimers:
    """Window and timer settings of one carrier connection (spec defaults; all configurable)."""

    #: W: requests sent and not yet answered (submits, or a simulator's delivers/reports)
    window: int = 16
    #: T: how long to wait for a response before resending
    response_timeout: float = 60.0
    #: N: sends in total (the first one included) before a request is given up
    max_sends: int = 3
    #: C (SMGP): send Active_Test after this long without hearing from the peer
    active_test_interval: float = 180.0
    #: SGIP has no heartbeat: the connecting side unbinds after this long without traffic
    #: (SMSGate's default is 30 s; real SMGs' own idle timeout is carrier configuration)
    idle_timeout: float = 30.0
    #: accepting side: close a connection that has not logged in after this long
    login_timeout: float = 60.0
    #: accepting side (SGIP): close a bound connection silent for this long (its client should
    #: have unbound; longer than ``idle_timeout`` so a well-behaved peer always goes first)
    peer_idle_timeout: float = 180.0

    def __attrs_post_init__(self) -> None:
        if self.window < 1 or self.max_sends < 1:
            raise ValueError("window and max_sends must be at least 1")
        if min(self.response_timeout, self.active_test_interval, self.idle_timeout, self.login_timeout,
               self.peer_idle_timeout) <= 0:
            raise ValueError("timers must be positive")


@attrs.define
class Pending:
    """One request we sent and whose response we wait for."""

    command: str
    sequence: Sequence
    #: the fields as the caller gave them (handed back when the request is given up)
    fields: dict[str, Any]
    #: the encoded PDU, resent as is
    data: bytes
    deadline: float
    #: sends allowed in total (login and Exit/Unbind go once, submits and Active_Test N times)
    max_sends: int = 1
    sends: int = 1


class RequestWindow:
    """Requests awaiting a response, keyed by sequence, with their resend deadlines.

    ``size`` None means unbounded (used for control requests: login, Active_Test,
    Exit, Unbind, which must go out even when the submit window is full).
    """

    def __init__(self, size: int | None, timeout: float, max_sends: int) -> None:
        self.size = size
        self.timeout = timeout
        self.max_sends = max_sends
        #: an OrderedDict: ``next_deadline`` takes its first entry, found at once (a dict used as a
        #: queue would skip every entry deleted before it)
        self._pending: OrderedDict[Sequence, Pending] = OrderedDict()
        #: False once a deadline went in below the one before it (the clock went back): then
        #: ``next_deadline`` scans; while True the first pending request has the earliest deadline
        self._ordered = True
        self._last_deadline = float("-inf")

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, sequence: Sequence) -> bool:
        return sequence in self._pending

    def __iter__(self) -> Iterator[Pending]:
        return iter(list(self._pending.values()))

    @property
    def full(self) -> bool:
        return self.size is not None and len(self._pending) >= self.size

    def add(self, command: str, sequence: Sequence, fields: dict[str, Any], data: bytes, now: float,
            max_sends: int | None = None) -> Pending:
        """Register a request just sent; ``max_sends`` overrides the window's N for this one."""
        if self.full:
            raise OverflowError("request window is full")
        if sequence in self._pending:
            raise ValueError(f"sequence {sequence!r} is already awaiting a response")
        pending = Pending(command, sequence, fields, data, now + self.timeout,
                          self.max_sends if max_sends is None else max_sends)
        self._append(pending)
        return pending

    def _append(self, pending: Pending) -> None:
        if not self._pending:
            self._ordered = True
        elif pending.deadline < self._last_deadline:
            self._ordered = False
        self._last_deadline = pending.deadline
        self._pending[pending.sequence] = pending

    def get(self, sequence: Sequence) -> Pending | None:
        return self._pending.get(sequence)

    def pop(self, sequence: Sequence) -> Pending | None:
        return self._pending.pop(sequence, None)

    def next_deadline(self) -> float | None:
        # Every deadline is "now + timeout" when sent or resent, and a resent request moves to
        # the end: in sending order the deadlines never decrease, so the first one is the
        # earliest.  Checked at each insertion; if the clock went back, scan.
        if not self._pending:
            return None
        if self._ordered:
            return next(iter(self._pending.values())).deadline
        return min(p.deadline for p in self._pending.values())

    def due(self, now: float) -> tuple[list[Pending], list[Pending]]:
        """Requests whose deadline has passed: (to resend now, given up).

        A request to resend gets a new deadline and its send count goes up; a given-up
        request leaves the window.  Both lists are in sending order.
        """
        resend: list[Pending] = []
        given_up: list[Pending] = []
        for sequence, p in list(self._pending.items()):
            if now < p.deadline:
                continue
            del self._pending[sequence]
            if p.sends < p.max_sends:
                p.sends += 1
                p.deadline = now + self.timeout
                resend.append(p)
            else:
                given_up.append(p)
        for p in resend:  # to the end: the order of deadlines (see next_deadline)
            self._append(p)
        return resend, given_up

    def drain(self) -> list[Pending]:
        """Remove and return everything still unanswered (the connection is gone)."""
        out = list(self._pending.values())
        self._pending.clear()
        return out
