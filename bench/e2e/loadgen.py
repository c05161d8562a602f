"""bench/e2e load generator: N SMPP transceiver binds, window W, a message mix; latencies and rates.

asyncio (``asyncio.Protocol``, no streams, to keep the generator's own cost
low: the null-SMSC baseline measures what that cost leaves of the machine).
PDUs are encoded once per template with our codec (``codec_for("smpp34")``)
and only their sequence number is patched per send; submit_sm_resp is read
from the header and the message id; deliver_sm (the receipts) is decoded by
the codec and answered at once.

The mix: short ASCII, short Chinese (UCS2, one segment) and long Chinese
(UCS2 in message_payload, three segments) to numbers of all three carriers
(China Mobile 138..., China Unicom 186..., China Telecom 133...), every
message with registered_delivery=1.  A long message is ONE submit_sm
(message_payload), so a gateway and the null SMSC both answer it with one
submit_sm_resp and one receipt.

A ``Phase`` is a stretch of sending: saturating (every bind keeps W in
flight) or paced (R submits per second over all binds).  It records, for the
submits it sent, the submit_sm_resp latencies and statuses, and for their
receipts the latency from sending the submit_sm to receiving the deliver_sm;
and it counts the receipts that arrive (for any message) while it runs, which
gives the completed rate of a steady state.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import attrs

from smsgw.codec import Pdu
from smsgw.session.codecs import codec_for

SUBMIT_SM_RESP = 0x80000004
DELIVER_SM = 0x00000005
ENQUIRE_LINK = 0x00000015
ENQUIRE_LINK_RESP = 0x80000015
UNBIND = 0x00000006
UNBIND_RESP = 0x80000006
GENERIC_NACK = 0x80000000
BIND_TRANSCEIVER_RESP = 0x80000009

#: number prefixes of the three carriers (config/numbering.toml)
CARRIER_PREFIXES = {"cmcc": "138", "cucc": "186", "ctcc": "133"}

ASCII_TEXT = "Your verification code is {code}. It is valid for 5 minutes. Do not share it."
CHINESE_TEXT = "【示例科技】您的验证码是{code}，5分钟内有效。如非本人操作，请忽略本短信。"
LONG_TEXT = ("【示例科技】尊敬的客户您好，您本月的账单已经生成，应付金额为{code}元，请于本月二十五日前完成缴费，"
             "逾期将产生滞纳金。您可以通过手机营业厅、网上营业厅或前往就近的营业网点办理缴费业务。"
             "如有疑问请致电客服热线，我们将竭诚为您服务。感谢您一直以来的支持与信任，祝您生活愉快，"
             "工作顺利，万事如意。回复TD退订")


def now() -> float:
    return time.perf_counter()


@attrs.frozen
class Mix:
    """Shares of the three kinds of message (they need not add up to 1)."""

    ascii: float = 0.5
    chinese: float = 0.35
    long: float = 0.15


def submit_fields(kind: str, dest: str, code: int, schedule: str = "") -> dict[str, Any]:
    fields: dict[str, Any] = {
        "service_type": "", "source_addr_ton": 0, "source_addr_npi": 0, "source_addr": "",
        "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": dest, "esm_class": 0,
        "protocol_id": 0, "priority_flag": 0, "schedule_delivery_time": schedule, "validity_period": "",
        "registered_delivery": 1, "replace_if_present_flag": 0, "sm_default_msg_id": 0,
    }  # fmt: skip
    if kind == "ascii":
        fields.update(data_coding=1, short_message=ASCII_TEXT.format(code=code).encode("ascii"))
    elif kind == "chinese":
        fields.update(data_coding=8, short_message=CHINESE_TEXT.format(code=code).encode("utf-16-be"))
    else:
        fields.update(data_coding=8, short_message=b"",
                      tlvs={"message_payload": LONG_TEXT.format(code=code).encode("utf-16-be")})
    return fields


@attrs.define
class Templates:
    """Pre-encoded submit_sm PDUs (sequence 0) and how many segments each one is."""

    pdus: list[bytes]
    kinds: list[str]

    @classmethod
    def build(cls, mix: Mix, count: int = 2048, seed: int = 7, schedule: str = "") -> Templates:
        codec = codec_for("smpp34")
        rng = random.Random(seed)
        kinds = rng.choices(("ascii", "chinese", "long"), weights=(mix.ascii, mix.chinese, mix.long), k=count)
        pdus = []
        for kind in kinds:
            prefix = rng.choice(tuple(CARRIER_PREFIXES.values()))
            dest = prefix + f"{rng.randrange(10**8):08d}"
            pdus.append(codec.encode(Pdu("submit_sm", 0, submit_fields(kind, dest, rng.randrange(10**6), schedule))))
        return cls(pdus, kinds)


def percentile(sorted_values: list[float], share: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, int(round(share * (len(sorted_values) - 1)))))
    return sorted_values[index]


@attrs.define
class Phase:
    """One stretch of sending; see the module docstring."""

    name: str
    #: submits per second over all binds; None: saturate the windows
    rate: float | None
    started: float = 0.0
    ended: float = 0.0
    sent: int = 0
    accepted: int = 0
    statuses: dict[int, int] = attrs.field(factory=dict)
    submit_latency: list[float] = attrs.field(factory=list)
    receipt_latency: list[float] = attrs.field(factory=list)
    #: receipts (for any message) that arrived between started and ended
    receipts_during: int = 0
    first_receipt: float | None = None
    last_receipt: float | None = None

    @property
    def seconds(self) -> float:
        return max(1e-9, self.ended - self.started)

    def summary(self) -> dict[str, Any]:
        sub = sorted(self.submit_latency)
        rec = sorted(self.receipt_latency)
        ms = lambda v: None if v is None else round(v * 1000, 2)  # noqa: E731
        return {
            "phase": self.name,
            "offered_rate": self.rate,
            "seconds": round(self.seconds, 2),
            "sent": self.sent,
            "accepted": self.accepted,
            "refused": {f"0x{k:08x}": v for k, v in sorted(self.statuses.items()) if k != 0},
            "accepted_per_s": round(self.accepted / self.seconds, 1),
            "completed_per_s": round(self.receipts_during / self.seconds, 1),
            "receipts": len(self.receipt_latency),
            "receipts_missing": self.accepted - len(self.receipt_latency),
            "submit_p50_ms": ms(percentile(sub, 0.50)),
            "submit_p99_ms": ms(percentile(sub, 0.99)),
            "submit_max_ms": ms(sub[-1] if sub else None),
            "receipt_p50_ms": ms(percentile(rec, 0.50)),
            "receipt_p99_ms": ms(percentile(rec, 0.99)),
        }


class Shared:
    """What all binds share: the phase being measured, sent times of messages awaiting a receipt."""

    def __init__(self) -> None:
        self.phase: Phase | None = None
        #: our message id (text, as in receipted_message_id) → (time the submit_sm was sent, its phase)
        self.waiting: dict[bytes, tuple[float, Phase]] = {}
        #: receipts that arrived before their submit_sm_resp (possible with the null SMSC)
        self.early: dict[bytes, float] = {}
        self.receipts = 0
        self.unknown_receipts = 0
        self.receipt_seen = asyncio.Event()

    def receipt(self, message_id: bytes, at: float) -> None:
        self.receipts += 1
        phase = self.phase
        if phase is not None and phase.started <= at and not phase.ended:
            phase.receipts_during += 1
        found = self.waiting.pop(message_id, None)
        if found is None:
            self.early[message_id] = at
            return
        self._count(found, at)

    def resp(self, message_id: bytes, sent_at: float, phase: Phase) -> None:
        at = self.early.pop(message_id, None)
        if at is None:
            self.waiting[message_id] = (sent_at, phase)
        else:
            self._count((sent_at, phase), at)

    def _count(self, found: tuple[float, Phase], at: float) -> None:
        sent_at, phase = found
        phase.receipt_latency.append(at - sent_at)
        if phase.first_receipt is None:
            phase.first_receipt = at
        phase.last_receipt = at
        self.receipt_seen.set()


class Bind(asyncio.Protocol):
    """One transceiver bind: sends submit_sm within its window, answers receipts."""

    def __init__(self, shared: Shared, templates: Templates, window: int, index: int) -> None:
        self.shared = shared
        self.templates = templates
        self.window = window
        self.index = index
        self.codec = codec_for("smpp34")
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.sequence = 1
        #: sequence → (sent time, phase)
        self.in_flight: dict[int, tuple[float, Phase]] = {}
        self.room = asyncio.Event()
        self.paused = False
        self.bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.next_template = index * 97
        self.deliver_resp_head = bytes(8)

    # ------------------------------------------------------------------ asyncio

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.bound.done():
            self.bound.set_exception(ConnectionError(f"bind {self.index}: connection lost before the bind: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)
        self.room.set()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self.room.set()

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        pos = 0
        end = len(buf)
        out: list[bytes] = []
        at = now()
        while end - pos >= 16:
            length = int.from_bytes(buf[pos:pos + 4], "big")
            if end - pos < length:
                break
            frame = bytes(buf[pos:pos + length])
            pos += length
            command = int.from_bytes(frame[4:8], "big")
            if command == SUBMIT_SM_RESP:
                self._submit_resp(frame, at)
            elif command == DELIVER_SM:
                out.append(self._deliver(frame, at))
            elif command == ENQUIRE_LINK:
                out.append((16).to_bytes(4, "big") + ENQUIRE_LINK_RESP.to_bytes(4, "big") + bytes(4) + frame[12:16])
            elif command == UNBIND:
                out.append((16).to_bytes(4, "big") + UNBIND_RESP.to_bytes(4, "big") + bytes(4) + frame[12:16])
            elif command == BIND_TRANSCEIVER_RESP:
                status = int.from_bytes(frame[8:12], "big")
                if not self.bound.done():
                    if status:
                        self.bound.set_exception(ConnectionError(f"bind {self.index} refused: 0x{status:08x}"))
                    else:
                        self.bound.set_result(status)
            elif command == GENERIC_NACK:
                self._submit_resp(frame, at)
        del buf[:pos]
        if out and self.transport is not None:
            self.transport.write(b"".join(out))

    def _submit_resp(self, frame: bytes, at: float) -> None:
        sequence = int.from_bytes(frame[12:16], "big")
        found = self.in_flight.pop(sequence, None)
        if found is None:
            return
        sent_at, phase = found
        status = int.from_bytes(frame[8:12], "big")
        phase.submit_latency.append(at - sent_at)
        phase.statuses[status] = phase.statuses.get(status, 0) + 1
        if status == 0:
            phase.accepted += 1
            message_id = frame[16:frame.index(0, 16)] if len(frame) > 16 else b""
            self.shared.resp(message_id, sent_at, phase)
        self.room.set()

    def _deliver(self, frame: bytes, at: float) -> bytes:
        pdu = self.codec.decode(frame)
        receipted = pdu.fields.get("tlvs", {}).get("receipted_message_id")
        if receipted is None:  # the receipt text's "id:" field
            text = pdu.fields.get("short_message", b"")
            start = text.find(b"id:")
            receipted = text[start + 3:text.find(b" ", start)].decode() if start >= 0 else ""
        if pdu.fields.get("esm_class", 0) & 0x04:
            self.shared.receipt(receipted.encode() if isinstance(receipted, str) else receipted, at)
        else:
            self.shared.unknown_receipts += 1
        return (17).to_bytes(4, "big") + (0x80000005).to_bytes(4, "big") + bytes(4) + frame[12:16] + b"\x00"

    # ------------------------------------------------------------------ actions

    async def bind(self, system_id: str, password: str) -> None:
        pdu = Pdu("bind_transceiver", self._next_sequence(), {
            "system_id": system_id, "password": password, "system_type": "", "interface_version": 0x34,
            "addr_ton": 0, "addr_npi": 0, "address_range": ""})
        assert self.transport is not None
        self.transport.write(self.codec.encode(pdu))
        await asyncio.wait_for(self.bound, 30)

    async def unbind(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        head = (16).to_bytes(4, "big") + UNBIND.to_bytes(4, "big") + bytes(4)
        self.transport.write(head + self._next_sequence().to_bytes(4, "big"))
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), 2)
        except asyncio.TimeoutError:
            self.transport.close()

    def _next_sequence(self) -> int:
        sequence = self.sequence
        self.sequence = 1 if sequence >= 0x7FFFFFFF else sequence + 1
        return sequence

    def _send(self, count: int, phase: Phase) -> None:
        pdus = self.templates.pdus
        at = now()
        chunks = []
        for _ in range(count):
            template = pdus[self.next_template % len(pdus)]
            self.next_template += 1
            sequence = self._next_sequence()
            chunks.append(template[:12] + sequence.to_bytes(4, "big") + template[16:])
            self.in_flight[sequence] = (at, phase)
        phase.sent += count
        assert self.transport is not None
        self.transport.write(b"".join(chunks))

    async def drive(self, phase: Phase, until: float, rate: float | None, limit: int | None) -> int:
        """Send until ``until`` (perf_counter time) or ``limit`` submits; at ``rate`` per second or saturating."""
        started = now()
        sent = 0
        while self.transport is not None and not self.transport.is_closing():
            t = now()
            if t >= until or (limit is not None and sent >= limit):
                break
            room = self.window - len(self.in_flight)
            if rate is not None:
                room = min(room, int((t - started) * rate) + 1 - sent)
            if limit is not None:
                room = min(room, limit - sent)
            if room > 0 and not self.paused:
                self._send(room, phase)
                sent += room
                continue
            self.room.clear()
            wait = 0.001 if rate is not None else 0.05
            try:
                await asyncio.wait_for(self.room.wait(), wait)
            except asyncio.TimeoutError:
                pass
        return sent

    async def settle(self, deadline: float) -> None:
        """Wait until every submit of this bind has its answer (or the deadline)."""
        while self.in_flight and now() < deadline:
            self.room.clear()
            try:
                await asyncio.wait_for(self.room.wait(), 0.05)
            except asyncio.TimeoutError:
                pass


class LoadGenerator:
    """N binds to one SMPP server and the phases run over them."""

    def __init__(self, host: str, port: int, system_id: str, password: str, binds: int, window: int,
                 templates: Templates) -> None:
        self.host = host
        self.port = port
        self.system_id = system_id
        self.password = password
        self.count = binds
        self.window = window
        self.templates = templates
        self.shared = Shared()
        self.binds: list[Bind] = []

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        for index in range(self.count):
            _, bind = await loop.create_connection(
                lambda i=index: Bind(self.shared, self.templates, self.window, i), self.host, self.port)
            await bind.bind(self.system_id, self.password)
            self.binds.append(bind)

    async def run_phase(self, name: str, seconds: float, rate: float | None = None, warmup: float = 0.0,
                        total: int | None = None) -> Phase:
        """Send for ``warmup`` seconds unmeasured, then ``seconds`` (or ``total`` submits) measured."""
        if warmup > 0:
            await self._drive(Phase(f"{name}-warmup", rate), warmup, rate, None)
        phase = Phase(name, rate)
        await self._drive(phase, seconds, rate, total)
        return phase

    async def _drive(self, phase: Phase, seconds: float, rate: float | None, total: int | None) -> None:
        self.shared.phase = phase
        phase.started = now()
        per_bind_rate = None if rate is None else rate / len(self.binds)
        limits: list[int | None] = [None] * len(self.binds)
        if total is not None:
            limits = [total // len(self.binds) + (1 if i < total % len(self.binds) else 0)
                      for i in range(len(self.binds))]
        until = phase.started + seconds
        await asyncio.gather(*(b.drive(phase, until, per_bind_rate, lim) for b, lim in zip(self.binds, limits)))
        deadline = now() + 30
        await asyncio.gather(*(b.settle(deadline) for b in self.binds))
        phase.ended = now()

    async def drain_receipts(self, phases: list[Phase], timeout: float, quiet: float = 5.0) -> None:
        """Wait until every accepted message of ``phases`` has its receipt, or ``timeout``,
        or ``quiet`` seconds without any receipt."""
        deadline = now() + timeout
        while now() < deadline:
            missing = sum(p.accepted - len(p.receipt_latency) for p in phases)
            if missing <= 0:
                return
            self.shared.receipt_seen.clear()
            try:
                await asyncio.wait_for(self.shared.receipt_seen.wait(), min(quiet, max(0.01, deadline - now())))
            except asyncio.TimeoutError:
                return

    async def close(self) -> None:
        await asyncio.gather(*(b.unbind() for b in self.binds))
