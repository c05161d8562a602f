"""bench/smpp load generator: N transceiver binds, W submit_sm in flight on each, every answer timed.

asyncio protocols (no streams: the generator's own cost per PDU stays small
next to the gateway's).  Submissions are encoded once, as templates, with
our codec; per send only the 4-byte sequence number is patched.  Answers are
read from the 16-byte header alone.  A bind sends its next submit_sm as soon
as one is answered, so each keeps exactly W in flight (closed loop) and the
rate measured is the gateway's, as long as the generator is not the limit
(its CPU time is reported next to the figures).

Figures: every submit_sm_resp with its arrival time, latency (send to
answer) and status; the rate is the answers with status 0 per second.
"""

from __future__ import annotations

import asyncio
import random
import struct
import time
from collections import Counter
from typing import Any

import attrs

from smsgw.codec import Pdu
from smsgw.session.codecs import codec_for

HEADER = struct.Struct(">IIII")
BIND_TRANSCEIVER_RESP = 0x80000009
SUBMIT_SM_RESP = 0x80000004
ENQUIRE_LINK, ENQUIRE_LINK_RESP = 0x00000015, 0x80000015
DELIVER_SM, DELIVER_SM_RESP = 0x00000005, 0x80000005
UNBIND, UNBIND_RESP = 0x00000006, 0x80000006
GENERIC_NACK = 0x80000000

#: China Mobile, Unicom and Telecom number ranges (config/numbering.toml)
PREFIXES = ("138", "139", "150", "186", "185", "133", "189")
#: (text, data_coding, how it is encoded): short ASCII (GSM default alphabet) and short Chinese (UCS2)
TEXTS = (
    ("Your verification code is {code}. Valid for 5 minutes.", 0, "ascii"),
    ("【示例】您的验证码是{code}，5分钟内有效，请勿泄露。", 8, "utf-16-be"),
)


def templates(count: int, seed: int = 1) -> list[bytes]:
    """``count`` encoded submit_sm PDUs (sequence 0), half short ASCII, half short Chinese, to numbers of all
    three carriers; no receipt asked (the bench measures acceptance)."""
    codec = codec_for("smpp34")
    rng = random.Random(seed)
    out = []
    for i in range(count):
        text, coding, encoding = TEXTS[i % len(TEXTS)]
        body = text.format(code=f"{rng.randrange(10**6):06d}").encode(encoding)
        number = rng.choice(PREFIXES) + f"{rng.randrange(10**8):08d}"
        out.append(codec.encode(Pdu("submit_sm", 0, {
            "source_addr": "106900", "destination_addr": number, "data_coding": coding, "short_message": body,
            "registered_delivery": 0})))
    return out


@attrs.define
class Figures:
    """What the generator saw; times are ``time.perf_counter()`` seconds."""

    sent: int = 0
    #: (arrival time, latency seconds, status) per submit_sm_resp
    answers: list[tuple[float, float, int]] = attrs.field(factory=list)
    nacks: int = 0
    started: float = 0.0
    stopped: float = 0.0


class Bind(asyncio.Protocol):
    """One transceiver connection keeping ``window`` submit_sm in flight while ``load.sending``."""

    def __init__(self, load: "Load", system_id: str, password: str) -> None:
        self.load = load
        self.codec = codec_for("smpp34")
        self.system_id, self.password = system_id, password
        self.transport: asyncio.Transport | None = None
        self.bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.unbound: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.in_flight: dict[int, float] = {}
        self._buf = bytearray()
        self._sequence = 1
        self._next = 0

    # ---------------------------------------------------------------- asyncio

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.codec.encode(Pdu("bind_transceiver", 1, {
            "system_id": self.system_id, "password": self.password, "interface_version": 0x34})))

    def connection_lost(self, exc: Exception | None) -> None:
        for future in (self.bound, self.unbound):
            if not future.done():
                future.set_exception(ConnectionError(f"connection lost: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        pos, n = 0, len(buf)
        out: list[bytes] = []
        figures = self.load.figures
        now = time.perf_counter()
        while n - pos >= 16:
            length, command, status, sequence = HEADER.unpack_from(buf, pos)
            if n - pos < length:
                break
            if command == SUBMIT_SM_RESP:
                sent_at = self.in_flight.pop(sequence, None)
                if sent_at is not None:
                    figures.answers.append((now, now - sent_at, status))
                    if self.load.sending:
                        out.append(self._submit(now))
            elif command == GENERIC_NACK:
                figures.nacks += 1
                self.in_flight.pop(sequence, None)
            elif command == BIND_TRANSCEIVER_RESP:
                self.bound.set_result(status)
            elif command in (ENQUIRE_LINK, DELIVER_SM):
                out.append(HEADER.pack(16 if command == ENQUIRE_LINK else 17,
                                       ENQUIRE_LINK_RESP if command == ENQUIRE_LINK else DELIVER_SM_RESP,
                                       0, sequence) + (b"" if command == ENQUIRE_LINK else b"\0"))
            elif command == UNBIND_RESP and not self.unbound.done():
                self.unbound.set_result(None)
            pos += length
        del buf[:pos]
        if out and self.transport is not None:
            self.transport.write(b"".join(out))

    # ---------------------------------------------------------------- sending

    def _submit(self, now: float) -> bytes:
        self._sequence = self._sequence + 1 if self._sequence < 0x7FFFFFFF else 2
        sequence = self._sequence
        pool = self.load.templates
        pdu = pool[self._next]
        self._next = (self._next + 1) % len(pool)
        self.in_flight[sequence] = now
        self.load.figures.sent += 1
        return pdu[:12] + sequence.to_bytes(4, "big") + pdu[16:]

    def fill(self) -> None:
        """Put the whole window in flight."""
        assert self.transport is not None
        now = time.perf_counter()
        self.transport.write(b"".join(self._submit(now) for _ in range(self.load.window - len(self.in_flight))))

    def unbind(self) -> None:
        assert self.transport is not None
        self.transport.write(HEADER.pack(16, UNBIND, 0, 1))


@attrs.define
class Load:
    """The whole run: binds, their window, the shared templates and figures."""

    window: int
    templates: list[bytes]
    figures: Figures = attrs.field(factory=Figures)
    sending: bool = False


async def run(host: str, port: int, *, binds: int, window: int, duration: float, system_id: str, password: str,
              drain_timeout: float = 30.0) -> Figures:
    """Bind ``binds`` transceivers, send for ``duration`` seconds, wait for the last answers, unbind."""
    loop = asyncio.get_running_loop()
    load = Load(window=window, templates=templates(4096))
    connections: list[Bind] = []
    for _ in range(binds):
        _, protocol = await loop.create_connection(lambda: Bind(load, system_id, password), host, port)
        connections.append(protocol)
    statuses = await asyncio.wait_for(asyncio.gather(*(c.bound for c in connections)), 60)
    if any(statuses):
        raise RuntimeError(f"bind refused: statuses {Counter(statuses)}")
    load.sending = True
    load.figures.started = time.perf_counter()
    for c in connections:
        c.fill()
    await asyncio.sleep(duration)
    load.sending = False
    load.figures.stopped = time.perf_counter()
    end = loop.time() + drain_timeout
    while any(c.in_flight for c in connections) and loop.time() < end:
        await asyncio.sleep(0.05)
    for c in connections:
        c.unbind()
    await asyncio.wait([asyncio.ensure_future(c.unbound) for c in connections], timeout=10)
    for c in connections:
        if c.transport is not None:
            c.transport.close()
    return load.figures


def summarise(figures: Figures, warmup: float) -> dict[str, Any]:
    """Rates and latencies from ``warmup`` seconds after the start to the end of sending."""
    start = figures.started + warmup
    stop = figures.stopped
    window = [(t, lat, st) for t, lat, st in figures.answers if start <= t < stop]
    ok = [lat for _, lat, st in window if st == 0]
    per_second = Counter(int(t - start) for t, _, st in window if st == 0)
    seconds = [per_second.get(i, 0) for i in range(int(stop - start))]
    lat = sorted(ok)

    def pct(p: float) -> float | None:
        return round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000, 2) if lat else None

    span = max(stop - start, 1e-9)
    return {
        "measured_seconds": round(span, 2),
        "sent_total": figures.sent,
        "answered_total": len(figures.answers),
        "ok": len(ok),
        "refused": dict(Counter(f"0x{st:08x}" for _, _, st in window if st != 0)),
        "generic_nack": figures.nacks,
        "rate_ok_per_s": round(len(ok) / span, 1),
        "per_second": {"min": min(seconds, default=0), "median": sorted(seconds)[len(seconds) // 2] if seconds else 0,
                       "max": max(seconds, default=0)},
        "latency_ms": {"p50": pct(50), "p90": pct(90), "p99": pct(99), "max": pct(100)},
    }
