"""Carrier status reports in our terms, and the reports that come before their submit response.

Stat words (cmpp.md 5.8, smgp.md 11, sgip.md 4.6) map to our final states;
the carrier's own words always travel on unchanged in ``Report.stat`` and
``Report.err``:

* DELIVRD -> delivered; EXPIRED -> expired; UNDELIV, DELETED, UNKNOWN,
  REJECTD -> undelivered (a carrier's REJECTD comes after our submit was
  accepted, so for us it is a failed delivery, not a refusal);
* ACCEPTD, ENROUTE are not final: no report goes up;
* gateway codes "XX:nnnn" (MA/MB/MC, CA/CB, DA/DB, SA/SB, IA/IB/IC and the
  MK:/MI:/ID:/DB: seen in real traffic) and any other word -> undelivered;
* SGIP has no stat word: State 0 is written "DELIVRD", 2 "UNDELIV", and the
  ErrorCode is kept as ``err``.

A link may override single words or "XX:" prefixes (``LinkConfig.stat_overrides``).

``EarlyReports`` keeps reports whose carrier id may still come in a submit
response (CMPP and SMGP ids are only known from the response; an SGIP report
arrives on another connection and can overtake its Submit_Resp).  A held
report is released when its id appears (right after that segment's
``Submitted``), when every submit that was unanswered when it arrived has its
answer (then it belongs to an older message and the store matches it), when it
has waited ``ttl`` seconds, or when the buffer is over ``limit``: nothing is
ever dropped, only delayed.  Pure: ``now`` is passed in.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict, deque
from datetime import datetime
from typing import Mapping

import attrs

from smsgw.domain.model import MessageState, Report
from smsgw.net.links.config import CARRIER_TZ

S = MessageState

#: the standard stat words (CMPP, SMGP, SMPP appendix B) and our final state for each
STAT_STATES: Mapping[str, MessageState] = {
    "DELIVRD": S.DELIVERED,
    "EXPIRED": S.EXPIRED,
    "UNDELIV": S.UNDELIVERED,
    "DELETED": S.UNDELIVERED,
    "UNKNOWN": S.UNDELIVERED,
    "REJECTD": S.UNDELIVERED,
}
#: words that are not a final state (cmpp.md 5.8: the gateway should not even forward ACCEPTD)
NOT_FINAL = frozenset({"ACCEPTD", "ENROUTE"})
#: SGIP Report State -> the word we record (sgip.md 4.6, spec 5.4); 1 (waiting) is not final
SGIP_STATES: Mapping[int, str] = {0: "DELIVRD", 2: "UNDELIV"}

_STATE_NAMES = {s.value: s for s in (S.DELIVERED, S.UNDELIVERED, S.EXPIRED, S.REJECTED)}


def state_of_stat(stat: str, overrides: Mapping[str, str] | None = None) -> MessageState | None:
    """Our final state for a carrier stat word; None when the word is not final."""
    word = stat.strip().upper()
    if overrides:
        named = overrides.get(word) or overrides.get(stat.strip())
        if named is None and ":" in word:
            named = overrides.get(word.split(":", 1)[0] + ":")
        if named is not None:
            if named.lower() in ("", "none", "not_final"):
                return None
            try:
                return _STATE_NAMES[named.lower()]
            except KeyError:
                raise ValueError(f"stat override {stat!r} -> {named!r} is not a final state") from None
    if word in NOT_FINAL:
        return None
    return STAT_STATES.get(word, S.UNDELIVERED)


def sgip_stat(state: int) -> str:
    """The stat word of an SGIP Report State (2 and anything unknown: UNDELIV)."""
    return SGIP_STATES.get(state, "UNDELIV")


_TIME = re.compile(r"[0-9]{10}([0-9]{2})?")


def report_time(text: str) -> int | None:
    """A report's YYMMDDHHMM[SS] (carrier local time) in ms since the epoch; None when unreadable.

    Real gateways send odd values (0001010000, empty): those give None (so does any year before 2001).
    """
    text = text.strip()
    if not _TIME.fullmatch(text):
        return None
    minute = _minute_ms(text[:10])
    if minute is None:
        return None
    seconds = int(text[10:12]) if len(text) == 12 else 0
    if seconds > 59:
        return None
    return minute + seconds * 1000


@functools.lru_cache(maxsize=1024)
def _minute_ms(yymmddhhmm: str) -> int | None:
    """The minute's start in ms since the epoch (reports of one minute share it: cached, no strptime)."""
    yy, month, day, hour, minute = (int(yymmddhhmm[i:i + 2]) for i in range(0, 10, 2))
    year = 2000 + yy if yy < 69 else 1900 + yy  # as strptime's %y
    if year < 2001:
        return None
    try:
        when = datetime(year, month, day, hour, minute, tzinfo=CARRIER_TZ)
    except ValueError:
        return None
    return int(when.timestamp()) * 1000


# ---------------------------------------------------------------------------- early reports

@attrs.define
class _Held:
    report: Report
    #: released once every submit numbered up to this one has its answer (None: wait for the id only)
    barrier: int | None
    deadline: float


class EarlyReports:
    """Reports waiting for their submit response; see the module docstring."""

    def __init__(self, ttl: float, limit: int) -> None:
        self.ttl = ttl
        self.limit = limit
        self._held: OrderedDict[int, _Held] = OrderedDict()
        self._by_id: dict[str, list[int]] = {}
        #: (barrier, token) of the reports held on a barrier, in arrival order; barriers never decrease
        #: (each is the group's serial when its report came), so those settled are always a prefix.
        #: Tokens released otherwise stay here until they reach the front, and are skipped then.
        self._barriers: deque[tuple[int, int]] = deque()
        self._token = 0

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, report: Report, now: float, barrier: int | None) -> list[Report]:
        """Keep ``report``; returns what has to go now to stay within ``limit`` (oldest first)."""
        self._token += 1
        self._held[self._token] = _Held(report, barrier, now + self.ttl)
        if barrier is not None:
            self._barriers.append((barrier, self._token))
        self._by_id.setdefault(report.carrier_msg_id, []).append(self._token)
        out: list[Report] = []
        while len(self._held) > self.limit:
            token = next(iter(self._held))
            out.append(self._pop(token))
        return out

    def holds(self, carrier_msg_id: str) -> bool:
        """A report of this id is waiting."""
        return carrier_msg_id in self._by_id

    def release_id(self, carrier_msg_id: str) -> list[Report]:
        """The id was just given to a segment: its reports may go."""
        return [self._pop(t) for t in list(self._by_id.get(carrier_msg_id, ()))]

    def release_settled(self, open_from: int | None) -> list[Report]:
        """Every submit numbered below ``open_from`` is answered (None: all are): release what waited on them."""
        barriers = self._barriers
        out: list[Report] = []
        while barriers and (open_from is None or barriers[0][0] < open_from):
            _, token = barriers.popleft()
            if token in self._held:
                out.append(self._pop(token))
        return out

    def expire(self, now: float) -> list[Report]:
        """Reports that waited ``ttl``: they go anyway (the store keeps an unmatched one until its id comes)."""
        out: list[Report] = []
        while self._held:
            token, held = next(iter(self._held.items()))
            if held.deadline > now:
                break
            out.append(self._pop(token))
        return out

    def next_deadline(self) -> float | None:
        return next(iter(self._held.values())).deadline if self._held else None

    def drain(self) -> list[Report]:
        self._barriers.clear()
        return [self._pop(t) for t in list(self._held)]

    def _pop(self, token: int) -> Report:
        held = self._held.pop(token)
        tokens = self._by_id[held.report.carrier_msg_id]
        tokens.remove(token)
        if not tokens:
            del self._by_id[held.report.carrier_msg_id]
        return held.report
