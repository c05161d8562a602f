"""Sending from the web centre and the HTTP API: through ``Intake.submit_text``, paced, previewed.

Every message goes the way of an SMPP submit_sm (``Intake.submit_text``), so
balance, routing, policies and durability are the same.  A batch is sent in
chunks whose accepts share the store's group commit; rows the account's TPS
limit throttled are tried again a second later, until ``max_wait`` has
passed (then they stay ESME_RTHROTTLED, and the caller says so row by row).

``preview`` says what a text will cost before it is sent: coding, length,
segments (signature included) and the price per carrier of the numbers given.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence

import attrs
from twisted.internet.defer import ensureDeferred, gatherResults

from smsgw.domain.coding import Coding, CodingError, choose_coding, unit_length
from smsgw.domain.model import DEFAULT_VALIDITY_MS, Account
from smsgw.domain.segments import count_segments
from smsgw.protocols.smpp34.status import CommandStatus as S
from smsgw.routing.numbers import InvalidNumber, normalise
from smsgw.web.http import sleep

#: accepts handed to the intake at once (they share the writer's commits)
CHUNK = 200
#: the most characters one message may have
MAX_TEXT = 1000
#: how far ahead a message may be scheduled (SMPP times carry two-digit years; a month is plenty)
MAX_SCHEDULE_MS = 31 * 24 * 3_600_000


@attrs.frozen
class Outgoing:
    dest_addr: str
    text: str
    source_addr: str = ""
    receipt: bool = True
    priority: int = 0
    schedule_ms: int | None = None
    validity_ms: int | None = None


@attrs.frozen
class Sent:
    status: int
    message_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == S.ESME_ROK


def signed(text: str, signature: str | None) -> str:
    """The text as sent: 【signature】 first, unless the text already starts with it."""
    if not signature:
        return text
    mark = f"【{signature}】"
    return text if text.startswith(mark) else mark + text


class Sender:
    def __init__(self, intake: Any, reactor: Any) -> None:
        self.intake = intake
        self.reactor = reactor

    async def one(self, account: Account, out: Outgoing) -> Sent:
        validity = out.validity_ms
        if out.schedule_ms is not None:
            if out.schedule_ms > self.reactor.seconds() * 1000 + MAX_SCHEDULE_MS:
                return Sent(int(S.ESME_RINVSCHED))
            if validity is None:
                # a scheduled message is valid for the usual period from when it is due, not from now
                validity = max(out.schedule_ms, int(self.reactor.seconds() * 1000)) + DEFAULT_VALIDITY_MS
        status, fields = await self.intake.submit_text(
            account, out.dest_addr, out.text, source_addr=out.source_addr, receipt=out.receipt,
            priority=out.priority, schedule_ms=out.schedule_ms, validity_ms=validity,
        )  # fmt: skip
        return Sent(int(status), fields.get("message_id") if status == S.ESME_ROK else None)

    async def many(self, account: Account, batch: Sequence[Outgoing], max_wait: float = 30.0) -> list[Sent]:
        """One result per message, in order; throttled ones retried until ``max_wait`` is spent."""
        results: list[Sent | None] = [None] * len(batch)
        pending = list(range(len(batch)))
        deadline = self.reactor.seconds() + max_wait
        while pending:
            throttled = []
            for start in range(0, len(pending), CHUNK):
                chunk = pending[start:start + CHUNK]
                sent = await gatherResults([_deferred(self.one(account, batch[i])) for i in chunk], consumeErrors=True)
                for index, result in zip(chunk, sent):
                    results[index] = result
                    if result.status == S.ESME_RTHROTTLED:
                        throttled.append(index)
            if not throttled or self.reactor.seconds() + 1.0 > deadline:
                break
            await sleep(self.reactor, 1.0)  # the account's token bucket refills at its TPS per second
            pending = throttled
        return [r if r is not None else Sent(int(S.ESME_RSYSERR)) for r in results]


def _deferred(coro: Any) -> Any:
    return ensureDeferred(coro)


@attrs.frozen
class CarrierCost:
    carrier: str
    numbers: int
    price: int  # milli-fen per segment
    cost: int  # milli-fen for all numbers


@attrs.frozen
class Preview:
    text: str  # as sent (signature included)
    coding: str  # ascii or ucs2
    length: int  # characters (UTF-16 units for UCS2)
    segments: int
    too_long: bool
    numbers: int  # valid destinations
    invalid: int
    carriers: tuple[CarrierCost, ...]
    cost: int  # milli-fen, all numbers

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text, "coding": self.coding, "length": self.length, "segments": self.segments,
            "too_long": self.too_long, "numbers": self.numbers, "invalid": self.invalid, "cost_millifen": self.cost,
            "carriers": [attrs.asdict(c) for c in self.carriers],
        }  # fmt: skip


def segments_of(text: str) -> tuple[Coding, int, int]:
    """(coding towards the carriers, length in units, segments) as the intake will split it."""
    coding = choose_coding(text, "cmpp30")
    try:
        return coding, unit_length(text, coding), count_segments(text, coding)
    except CodingError:
        return coding, len(text), 0


async def preview(intake: Any, account: Account, text: str, dests: Iterable[str]) -> Preview:
    coding, length, parts = segments_of(text)
    carriers: Counter[str] = Counter()
    invalid = 0
    portability = intake.portability()
    for raw in dests:
        try:
            carrier = intake.plan.carrier_of(normalise(raw).digits, portability)
        except InvalidNumber:
            invalid += 1
            continue
        carriers[carrier.value] += 1
    costs = []
    for carrier, count in sorted(carriers.items()):
        price = int(await intake.price(account, carrier))
        costs.append(CarrierCost(carrier, count, price, price * parts * count))
    too_long = parts == 0 or length > MAX_TEXT or parts > 255
    return Preview(text, coding.value, length, parts, too_long, sum(carriers.values()), invalid, tuple(costs),
                   sum(c.cost for c in costs))

