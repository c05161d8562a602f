"""What the simulators keep and queue: submits as seen, reports and MO to send, the TPS bucket.

Plain data (attrs) plus two pure helpers: the text of a submit's content
(``text_of``) and an MO cut into parts (``mo_parts``).  No reactor here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

import attrs
from twisted.internet import defer

from smsgw.domain.coding import Coding, CodingError, choose_coding, decode, encode, from_msg_fmt, to_msg_fmt
from smsgw.domain.segments import SegmentationError, split
from smsgw.domain.udh import UdhError, parse_udh
from smsgw.sim.behaviour import Outcome

#: one MO part carries at most this many content bytes (140-octet user data)
MAX_CONTENT = 140


@attrs.frozen
class SubmitView:
    """The parts of a submit every protocol has, read by the protocol module."""

    destinations: tuple[str, ...]
    source: str
    coding: int
    content: bytes
    udhi: bool
    #: CMPP Registered_Delivery, SGIP ReportFlag, SMGP NeedReport, as sent
    report_flag: int
    fields: Mapping[str, Any]


@attrs.frozen
class ReceivedSubmit:
    """One submit as the simulator saw it (``CarrierSimulator.received``)."""

    protocol: str
    account: str
    #: "accepted", "throttled", "refused" or "dropped"
    status: str
    #: the Result/Status answered; None when dropped unanswered
    result: int | None
    #: the carrier message id as text (``SubmitAnswered.message_id`` of our clients), when accepted
    message_id: str | None
    destinations: tuple[str, ...]
    source: str
    coding: int
    content: bytes
    #: the text without its UDH; None for binary or undecodable content
    text: str | None
    udhi: bool
    report_flag: int
    #: the Stat drawn for each destination (accepted submits only)
    outcomes: tuple[str, ...]
    fields: Mapping[str, Any]
    at: float


@attrs.define(eq=False)
class ReportJob:
    """A status report to send: the MT's id, one recipient, the outcome and the submit's data."""

    native_id: Any  # CMPP int, SMGP 10 bytes, SGIP triple
    message_id: str
    recipient: str
    outcome: Outcome
    submitted: datetime
    view: SubmitView
    done: datetime | None = None


@attrs.frozen
class MoJob:
    """One MO part to deliver."""

    source: str
    destination: str
    coding: int
    content: bytes
    udhi: bool


@attrs.define(eq=False)
class Delivery:
    """An item of an account's outbox; ``answered`` fires with the SP's Result."""

    account: str
    job: ReportJob | MoJob
    answered: defer.Deferred[int] | None = None
    sends: int = 0

    @property
    def kind(self) -> str:
        """"reports" or "mo" (the prefix of its counters)."""
        return "reports" if isinstance(self.job, ReportJob) else "mo"


@attrs.define
class TokenBucket:
    """``rate`` submits per second, bursts up to ``capacity``."""

    rate: float
    capacity: float
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def text_of(view: SubmitView) -> str | None:
    content = view.content
    if view.udhi:
        try:
            _, content = parse_udh(content)
        except UdhError:
            return None
    coding = from_msg_fmt(view.coding) if 0 <= view.coding <= 0xFF else Coding.BINARY
    if coding is Coding.BINARY:
        return None
    try:
        return decode(content, coding)
    except CodingError:
        return None


def mo_parts(content: str | bytes, coding: int | None, protocol: str, reference: int) -> list[tuple[int, bytes, bool]]:
    """(coding code, content, udhi) of each part of an MO; see ``CarrierSimulator.inject_mo``."""
    if isinstance(content, str):
        kind = choose_coding(content, protocol) if coding is None else from_msg_fmt(coding)
        code = to_msg_fmt(kind) if coding is None else coding
        encoded = encode(content, kind)
        if len(encoded) <= MAX_CONTENT:
            return [(code, encoded, False)]
    else:
        kind, code = Coding.BINARY, 4 if coding is None else coding
        content = bytes(content)
        if len(content) <= MAX_CONTENT:
            return [(code, content, False)]
    try:
        segments = split(content, kind, reference % 256)
    except SegmentationError as x:
        raise ValueError(f"cannot split the MO: {x}") from None
    return [(code, s.user_data, True) for s in segments]
