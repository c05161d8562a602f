"""An asyncio SMPP client that outlives the gateway: a fixed set of messages, each submitted until acknowledged.

``LoadClient`` keeps ``binds`` transceiver binds (over one or more accounts);
each bind sends submit_sm within its window from a shared queue of message
numbers, answers every deliver_sm at once with deliver_sm_resp, and, when its
connection goes (the gateway was killed, the bind failed), puts what was
unanswered back at the front of the queue and connects again after a short
pause.  A temporary refusal (``TEMPORARY``) sends the message again a little
later; any other refusal is final and counted.  So at the end every message
has either been acknowledged exactly once (``Tally.acked``) or refused for
good — and submits whose answer was lost with a connection are counted as
``unanswered`` (the gateway may have stored them: their receipts come back
as ``stray`` receipts).

The messages (``Plan``) are a seeded mix of short ASCII, short Chinese (UCS2)
and long Chinese (UCS2 in message_payload, three segments) to numbers of the
three carriers, every one with registered_delivery=1 and a text of its own.
PDUs are encoded with our codec (``codec_for("smpp34")``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, deque
from typing import Any, Sequence

import attrs

from smsgw.codec import Pdu
from smsgw.protocols.smpp34.status import CommandStatus as S
from smsgw.session.codecs import codec_for

SUBMIT_SM_RESP = 0x80000004
DELIVER_SM = 0x00000005
ENQUIRE_LINK = 0x00000015
UNBIND = 0x00000006
GENERIC_NACK = 0x80000000
BIND_TRANSCEIVER_RESP = 0x80000009

#: bytes waiting in our socket buffer before a bind stops adding submits
WRITE_BUFFER_LIMIT = 256 * 1024
#: submit_sm_resp statuses that mean "not now"
TEMPORARY = frozenset({int(S.ESME_RSYSERR), int(S.ESME_RMSGQFUL), int(S.ESME_RTHROTTLED)})

PREFIXES = ("138", "186", "133")  # China Mobile, China Unicom, China Telecom (config/numbering.toml)
ASCII_TEXT = "Your code is {n}. It is valid for 5 minutes."
CHINESE_TEXT = "【示例科技】您的验证码是{n}，五分钟内有效。"
LONG_TEXT = ("【示例科技】尊敬的客户，您本月账单编号{n}已经生成，请于二十五日前完成缴费，逾期将产生滞纳金。"
             "您可以通过手机营业厅、网上营业厅或就近的营业网点办理缴费业务，如有疑问请致电客服热线，"
             "我们将竭诚为您服务。感谢您一直以来的支持与信任，祝您生活愉快，工作顺利。回复TD退订")


#: kind → (data_coding, text, its encoding, carried in message_payload); the text has a number of its own
KINDS = {
    "ascii": (1, ASCII_TEXT, "ascii", False),
    "chinese": (8, CHINESE_TEXT, "utf-16-be", False),
    "long": (8, LONG_TEXT, "utf-16-be", True),  # three segments
}
#: what every submit_sm of a plan has in common (registered_delivery 1: a receipt for each)
SUBMIT_DEFAULTS: dict[str, Any] = dict(
    service_type="", source_addr_ton=0, source_addr_npi=0, source_addr="", dest_addr_ton=1, dest_addr_npi=1,
    esm_class=0, protocol_id=0, priority_flag=0, schedule_delivery_time="", validity_period="",
    registered_delivery=1, replace_if_present_flag=0, sm_default_msg_id=0,
)


def _header(length: int, command: int, status: int, sequence: int) -> bytes:
    return b"".join(v.to_bytes(4, "big") for v in (length, command, status, sequence))


@attrs.frozen
class Plan:
    """The messages to send: (kind, destination) for each number 0..count-1."""

    kinds: tuple[str, ...]
    destinations: tuple[str, ...]

    @classmethod
    def build(cls, count: int, seed: int = 7, shares: tuple[float, float, float] = (0.7, 0.2, 0.1)) -> Plan:
        rng = random.Random(seed)
        kinds = tuple(rng.choices(("ascii", "chinese", "long"), weights=shares, k=count))
        destinations = tuple(rng.choice(PREFIXES) + f"{rng.randrange(10**8):08d}" for _ in range(count))
        return cls(kinds, destinations)

    def __len__(self) -> int:
        return len(self.kinds)

    def fields(self, number: int) -> dict[str, Any]:
        """The submit_sm fields of message ``number``."""
        data_coding, template, encoding, as_payload = KINDS[self.kinds[number]]
        text = template.format(n=number).encode(encoding)
        body = {"short_message": b"", "tlvs": {"message_payload": text}} if as_payload else {"short_message": text}
        return {**SUBMIT_DEFAULTS, "destination_addr": self.destinations[number], "data_coding": data_coding, **body}


@attrs.define
class Tally:
    """What the client saw; message ids are our gateway's text ids."""

    #: message id → the plan's number of the message it acknowledged
    acked: dict[str, int] = attrs.Factory(dict)
    #: final refusals: status → count
    refused: Counter[int] = attrs.Factory(Counter)
    #: temporary refusals (each sent again): status → count
    retried: Counter[int] = attrs.Factory(Counter)
    #: submits whose answer was lost with their connection (sent again)
    unanswered: int = 0
    #: receipts per message id (all of them, acknowledged or not)
    receipts: Counter[str] = attrs.Factory(Counter)
    #: receipts' message_state TLV values
    receipt_states: Counter[int] = attrs.Factory(Counter)
    other_delivers: int = 0
    binds: int = 0
    bind_failures: int = 0
    connection_losses: int = 0

    @property
    def missing_receipts(self) -> list[str]:
        return [mid for mid in self.acked if not self.receipts[mid]]

    @property
    def duplicate_receipts(self) -> int:
        return sum(n - 1 for n in self.receipts.values() if n > 1)

    @property
    def stray_receipts(self) -> list[str]:
        """Receipted ids the client never got in a submit_sm_resp."""
        return [mid for mid in self.receipts if mid not in self.acked]


class _Bind(asyncio.Protocol):
    """One transceiver connection of a ``LoadClient``."""

    def __init__(self, client: LoadClient) -> None:
        self.client = client
        self.codec = codec_for("smpp34")
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.sequence = 0
        #: sequence → plan number
        self.in_flight: dict[int, int] = {}
        self.bound: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.bound.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved even if nobody waits
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.room = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.bound.done():
            self.bound.set_exception(ConnectionError(f"connection lost before the bind answer: {exc}"))
        if not self.lost.done():
            self.lost.set_result(None)
        if self.in_flight:
            self.client.tally.unanswered += len(self.in_flight)
            self.client.todo.extendleft(sorted(self.in_flight.values(), reverse=True))
            self.in_flight.clear()
        self.room.set()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out = []
        while len(self.buffer) >= 16:
            length = int.from_bytes(self.buffer[:4], "big")
            if len(self.buffer) < length:
                break
            frame = bytes(self.buffer[:length])
            del self.buffer[:length]
            command = int.from_bytes(frame[4:8], "big")
            status = int.from_bytes(frame[8:12], "big")
            sequence = int.from_bytes(frame[12:16], "big")
            if command == GENERIC_NACK and not self.bound.done():
                self.bound.set_exception(ConnectionError(f"bind answered with generic_nack 0x{status:08x}"))
            elif command in (SUBMIT_SM_RESP, GENERIC_NACK):
                self._answered(sequence, status, frame)
            elif command == DELIVER_SM:
                self._delivered(frame)
                out.append(_header(17, DELIVER_SM | 0x80000000, 0, sequence) + b"\x00")
            elif command in (ENQUIRE_LINK, UNBIND):
                out.append(_header(16, command | 0x80000000, 0, sequence))
            elif command == BIND_TRANSCEIVER_RESP and not self.bound.done():
                if status:
                    self.bound.set_exception(ConnectionError(f"bind refused: 0x{status:08x}"))
                else:
                    self.bound.set_result(None)
        if out and self.transport is not None:
            self.transport.write(b"".join(out))

    def _answered(self, sequence: int, status: int, frame: bytes) -> None:
        number = self.in_flight.pop(sequence, None)
        if number is None:
            return
        self.room.set()
        client = self.client
        if status == 0:
            message_id = frame[16:frame.index(0, 16)].decode("ascii")
            client.tally.acked[message_id] = number
            client.progress.set()
        elif status in TEMPORARY or frame[4:8] == GENERIC_NACK.to_bytes(4, "big"):
            client.tally.retried[status] += 1
            asyncio.get_running_loop().call_later(client.retry_delay, client.todo.append, number)
        else:
            client.tally.refused[status] += 1
            client.finally_refused.add(number)
            client.progress.set()

    def _delivered(self, frame: bytes) -> None:
        pdu = self.codec.decode(frame)
        tally = self.client.tally
        tlvs = pdu.fields.get("tlvs") or {}
        if not pdu.fields.get("esm_class", 0) & 0x04 or "receipted_message_id" not in tlvs:
            tally.other_delivers += 1
            return
        receipted = tlvs["receipted_message_id"]
        tally.receipts[receipted.decode() if isinstance(receipted, bytes) else str(receipted)] += 1
        tally.receipt_states[int(tlvs.get("message_state", 0))] += 1
        self.client.progress.set()

    def next_sequence(self) -> int:
        self.sequence = self.sequence % 0x7FFFFFFF + 1
        return self.sequence

    async def bind(self, login: str, password: str, timeout: float) -> None:
        assert self.transport is not None
        self.transport.write(self.codec.encode(Pdu("bind_transceiver", self.next_sequence(), {
            "system_id": login, "password": password, "system_type": "", "interface_version": 0x34,
            "addr_ton": 0, "addr_npi": 0, "address_range": ""})))
        await asyncio.wait_for(asyncio.shield(self.bound), timeout)

    async def send_until_lost(self) -> None:
        """Keep the window full from the client's queue until the connection goes or the client closes."""
        client = self.client
        while not self.lost.done() and not client.closing:
            room = client.window - len(self.in_flight)
            batch = []
            while room > 0 and client.todo and not self._backed_up() and client.may_send():
                number = client.todo.popleft()
                sequence = self.next_sequence()
                self.in_flight[sequence] = number
                batch.append(self.codec.encode(Pdu("submit_sm", sequence, client.plan.fields(number))))
                room -= 1
            if batch and self.transport is not None:
                self.transport.write(b"".join(batch))
            self.room.clear()
            try:
                await asyncio.wait_for(self.room.wait(), 0.02 if client.todo else 0.2)
            except asyncio.TimeoutError:
                pass

    def _backed_up(self) -> bool:
        """The gateway reads slower than we write: wait (the send loop looks again shortly)."""
        return self.transport is None or self.transport.get_write_buffer_size() > WRITE_BUFFER_LIMIT

    async def unbind(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(_header(16, UNBIND, 0, self.next_sequence()))
        try:
            await asyncio.wait_for(asyncio.shield(self.lost), 2)
        except asyncio.TimeoutError:
            self.transport.close()


class LoadClient:
    """See the module docstring.  ``rate``: submits per second over all binds (None: as fast as the windows go)."""

    def __init__(self, port: int, credentials: Sequence[tuple[str, str]], plan: Plan, *, binds: int = 4,
                 window: int = 32, rate: float | None = None, host: str = "127.0.0.1",
                 reconnect_delay: float = 0.2, retry_delay: float = 0.2) -> None:
        self.host = host
        self.port = port
        self.credentials = list(credentials)
        self.plan = plan
        self.binds = binds
        self.window = window
        self.rate = rate
        self.reconnect_delay = reconnect_delay
        self.retry_delay = retry_delay
        self.tally = Tally()
        self.todo: deque[int] = deque(range(len(plan)))
        self.finally_refused: set[int] = set()
        self.closing = False
        self.progress = asyncio.Event()
        self._started = time.monotonic()
        self._sent = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._connections: list[_Bind] = []

    # ---------------------------------------------------------------- control

    def start(self) -> None:
        self._started = time.monotonic()
        self._tasks = [asyncio.create_task(self._keep_bound(i)) for i in range(self.binds)]

    def may_send(self) -> bool:
        if self.rate is None:
            return True
        if self._sent >= (time.monotonic() - self._started) * self.rate:
            return False
        self._sent += 1
        return True

    @property
    def settled(self) -> int:
        """Messages acknowledged or refused for good."""
        return len(self.tally.acked) + len(self.finally_refused)

    async def wait_for(self, condition: Any, timeout: float, what: str, stall: float | None = None) -> None:
        """Until ``condition()`` holds; TimeoutError naming ``what`` after ``timeout`` seconds, or
        after ``stall`` seconds in which nothing was acknowledged, refused or receipted."""
        deadline = time.monotonic() + timeout
        moved = time.monotonic()
        while not condition():
            now = time.monotonic()
            if now >= deadline or (stall is not None and now - moved >= stall):
                raise TimeoutError(f"{what}: not within {now - moved:.0f}s of the last progress "
                                   f"({self.summary()})")
            self.progress.clear()
            try:
                await asyncio.wait_for(self.progress.wait(), min(deadline - now, 0.5))
                moved = time.monotonic()
            except asyncio.TimeoutError:
                pass

    async def wait_settled(self, count: int, timeout: float, stall: float | None = None) -> None:
        await self.wait_for(lambda: self.settled >= count, timeout, f"{count} messages settled", stall)

    async def wait_receipts(self, timeout: float, stall: float | None = None) -> None:
        """Until every message is settled and every acknowledged one has a receipt."""
        await self.wait_for(lambda: self.settled >= len(self.plan) and not self.tally.missing_receipts, timeout,
                            "every receipt", stall)

    async def close(self) -> None:
        self.closing = True
        for connection in list(self._connections):
            await connection.unbind()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def summary(self) -> dict[str, Any]:
        t = self.tally
        return {"acked": len(t.acked), "refused": dict(t.refused), "retried": dict(t.retried),
                "unanswered": t.unanswered, "receipts": sum(t.receipts.values()),
                "missing_receipts": len(t.missing_receipts) if self.settled >= len(self.plan) else None,
                "binds": t.binds, "bind_failures": t.bind_failures, "connection_losses": t.connection_losses}

    # ---------------------------------------------------------------- one bind, again and again

    async def _keep_bound(self, index: int) -> None:
        login, password = self.credentials[index % len(self.credentials)]
        loop = asyncio.get_running_loop()
        while not self.closing:
            try:
                _, connection = await asyncio.wait_for(
                    loop.create_connection(lambda: _Bind(self), self.host, self.port), 10)
            except (OSError, asyncio.TimeoutError):
                await asyncio.sleep(self.reconnect_delay)
                continue
            self._connections.append(connection)
            try:
                await connection.bind(login, password, timeout=60)
            except (ConnectionError, asyncio.TimeoutError):
                self.tally.bind_failures += 1
            else:
                self.tally.binds += 1
                await connection.send_until_lost()
                if not self.closing:
                    self.tally.connection_losses += 1
            finally:
                if not self.closing:
                    self._connections.remove(connection)
                    if connection.transport is not None:
                        connection.transport.abort()
            await asyncio.sleep(self.reconnect_delay)
