"""A small SMPP client of our own, over Twisted, for tests that must misbehave on purpose.

smpplib and npm ``smpp`` are the well-behaved clients we did not write (see
``test_smpp_gateway.py`` and ``tests/interop``); this one sends raw bytes,
stops reading, floods, and lets a test see exactly what came back and when the
server closed the connection.  It decodes with our codec only what the server
sends, so a server bug cannot hide behind a client of the same origin.
``Stall`` holds the store's writer so that requests stay in flight on purpose.
"""

from __future__ import annotations

import socket
import time
from typing import Any, Callable

import attrs
from twisted.internet import reactor as global_reactor
from twisted.internet import task
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure

from smsgw.codec import Pdu
from smsgw.session.codecs import codec_for

CODEC = codec_for("smpp34")
#: answers a client owes the server (what ``auto_answer`` sends back)
_ANSWERS = {"deliver_sm": "deliver_sm_resp", "data_sm": "data_sm_resp", "enquire_link": "enquire_link_resp",
            "unbind": "unbind_resp"}


class WireClient(Protocol):
    """Records every PDU the server sends; ``request`` pairs a request with its response."""

    def __init__(self, auto_answer: bool = True) -> None:
        self.auto_answer = auto_answer
        self.received: list[Pdu] = []
        self.bytes_received = 0
        self.closed: Deferred[None] = Deferred()
        self.is_closed = False
        self._framer = CODEC.framer()
        self._waiting: dict[int, Deferred[Pdu]] = {}
        self._sequence = 0

    # ---------------------------------------------------------------- Protocol

    def dataReceived(self, data: bytes) -> None:
        self.bytes_received += len(data)
        for frame in self._framer.feed(data):
            pdu = CODEC.decode(frame)
            self.received.append(pdu)
            waiter = self._waiting.pop(pdu.sequence, None) if pdu.command.endswith("_resp") or \
                pdu.command == "generic_nack" else None
            if waiter is not None:
                waiter.callback(pdu)
            elif self.auto_answer and pdu.command in _ANSWERS:
                self.send(Pdu(_ANSWERS[pdu.command], pdu.sequence, {}))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.is_closed = True
        for waiter in self._waiting.values():
            waiter.errback(ConnectionError("closed before the answer"))
        self._waiting.clear()
        self.closed.callback(None)

    # ---------------------------------------------------------------- sending

    def next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def send(self, pdu: Pdu) -> None:
        self.transport.write(CODEC.encode(pdu))

    def send_raw(self, data: bytes) -> None:
        self.transport.write(data)

    def request(self, command: str, fields: dict[str, Any] | None = None) -> Deferred[Pdu]:
        sequence = self.next_sequence()
        d: Deferred[Pdu] = Deferred()
        self._waiting[sequence] = d
        self.send(Pdu(command, sequence, fields or {}))
        return d

    def expect(self, sequence: int) -> Deferred[Pdu]:
        """The answer to a request sent by hand (``send``/``send_raw``) with this sequence."""
        for pdu in self.received:
            if pdu.sequence == sequence and (pdu.command.endswith("_resp") or pdu.command == "generic_nack"):
                d: Deferred[Pdu] = Deferred()
                d.callback(pdu)
                return d
        d = Deferred()
        self._waiting[sequence] = d
        return d

    def bind(self, system_id: str = "demo", password: str = "demo", mode: str = "transceiver") -> Deferred[Pdu]:
        return self.request(f"bind_{mode}", {"system_id": system_id, "password": password,
                                             "interface_version": 0x34})

    def submit(self, destination: str = "13800138000", text: bytes = b"hello", **fields: Any) -> Deferred[Pdu]:
        return self.request("submit_sm", {"source_addr": "1065", "destination_addr": destination,
                                          "short_message": text, **fields})

    # ---------------------------------------------------------------- misbehaving

    def stop_reading(self) -> None:
        self.transport.stopReading()

    def start_reading(self) -> None:
        self.transport.startReading()

    def abort(self) -> None:
        self.transport.abortConnection()


def connect(port: int, *, auto_answer: bool = True, receive_buffer: int | None = None,
            send_buffer: int | None = None) -> Deferred[WireClient]:
    """Connect to 127.0.0.1:port; ``receive_buffer``/``send_buffer`` shrink the socket's buffers before the
    handshake (so a client that stops reading fills the server's side quickly instead of the kernel's)."""
    if receive_buffer is None and send_buffer is None:
        return connectProtocol(TCP4ClientEndpoint(global_reactor, "127.0.0.1", port, timeout=5),
                               WireClient(auto_answer))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        if send_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        sock.settimeout(5)
        sock.connect(("127.0.0.1", port))  # completes in the listener's backlog; the reactor accepts later
        sock.setblocking(False)
        client = WireClient(auto_answer)
        global_reactor.adoptStreamConnection(sock.fileno(), socket.AF_INET, Factory.forProtocol(lambda: client))
    finally:
        sock.close()  # the reactor holds its own duplicate of the descriptor
    d: Deferred[WireClient] = Deferred()
    d.callback(client)
    return d


@inlineCallbacks
def until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``predicate`` on the reactor until it is true; fail the test after ``timeout`` seconds."""
    end = global_reactor.seconds() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if global_reactor.seconds() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        yield task.deferLater(global_reactor, 0.01, lambda: None)


def sleep(seconds: float) -> Deferred[None]:
    return task.deferLater(global_reactor, seconds, lambda: None)


def within(d: Deferred[Any], timeout: float = 10.0) -> Deferred[Any]:
    """``d``, failing with TimeoutError after ``timeout`` seconds (every wait in these tests is bounded)."""
    return d.addTimeout(timeout, global_reactor)


def server_side(factory: Any, client_port: int) -> Any:
    """The listener's protocol for the client connected from ``client_port``."""
    for conn in factory.connections:
        if conn.transport.getPeer().port == client_port:
            return conn
    return None


def buffered(transport: Any) -> int:
    """Bytes a Twisted TCP transport holds that the kernel has not taken yet."""
    return len(transport.dataBuffer) - transport.offset + transport._tempDataLen


@attrs.frozen
class Stall:
    """A store operation that keeps the writer thread busy: what is submitted meanwhile waits for its commit."""

    seconds: float

    def run(self, tx: Any) -> None:
        time.sleep(self.seconds)
