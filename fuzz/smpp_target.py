"""Fuzz target: the sans-IO SMPP server session with a stand-in application, fed a client's byte stream.

The session must never raise, and may only answer with PDUs our own codec
decodes (or close).  The stand-in application does what the gateway's does
with the client's data, minus the store: it accepts or refuses binds, reads
submit_sm/data_sm/replace_sm with ``smpp_submit.read_submission`` (which may
only refuse with ``SubmitRefused``) and normalises the destination
(``InvalidNumber`` only), answers the other requests, and, once bound as a
receiver, keeps up to three receipts in flight for the client's responses to match.

Flags (``fuzz.stream``): bit 3 starts already bound, bits 4-5 the bind mode,
bit 6 makes the application refuse binds, bit 7 makes it answer each request
one step late (so the window fills and late answers meet a closed session).
Halfway through a chunked stream the client falls silent for longer than the
enquire_link interval.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from smsgw.codec import Pdu
from smsgw.domain.coding import Coding
from smsgw.protocols.smpp34.status import CommandStatus as S
from smsgw.routing.numbers import InvalidNumber, normalise
from smsgw.session.codecs import codec_for
from smsgw.session.smpp_server import (
    BIND_MODES, BindRequested, CloseConnection, DeliveryAnswered, DeliveryTimedOut, ProtocolErrorReceived,
    RequestReceived, SmppServerSession, State, Timers, Unbound,
)
from smsgw.session.smpp_submit import Submission, SubmitRefused, read_submission

from fuzz import stream
from fuzz.wire import Written

CODEC = codec_for("smpp34")
#: the wall clock read_submission counts relative times from
WALL = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
TIMERS = Timers(enquire_link_interval=30, response_timeout=10, bind_timeout=60)
MODES = ("transmitter", "receiver", "transceiver", "transceiver")
#: what data_coding 0 means for the client, by mode index (the gateway's per-client setting)
DC0 = (Coding.GSM7, Coding.ASCII, Coding.LATIN1, Coding.GSM7)
RECEIPT = {
    "source_addr": "13800138000", "destination_addr": "1065", "esm_class": 0x04,
    "short_message": b"id:1 sub:001 dlvrd:001 submit date:2405010800 done date:2405010801 stat:DELIVRD err:000 text:",
    "tlvs": {"receipted_message_id": "1", "message_state": 2},
}
EVENTS = (BindRequested, CloseConnection, DeliveryAnswered, DeliveryTimedOut, ProtocolErrorReceived, RequestReceived,
          Unbound)
#: what we may send on our own (everything else we write is a response)
OUR_REQUESTS = frozenset({"deliver_sm", "enquire_link", "unbind"})


def check_submission(sub: Submission) -> None:
    """What the store bills must be what a carrier takes: 1..255 segments of at most 140 octets (ASCII 159)."""
    assert 1 <= len(sub.segments) <= 255, len(sub.segments)
    widest = 159 if sub.coding is Coding.ASCII else 140
    assert all(len(s) <= widest for s in sub.segments), (sub.coding, [len(s) for s in sub.segments])
    assert sub.coding in (Coding.ASCII, Coding.UCS2, Coding.BINARY), sub.coding


def _read(pdu: Pdu, dc0: Coding) -> tuple[int, dict[str, Any]]:
    try:
        sub = read_submission(pdu, WALL, dc0=dc0, reference=0x1234)
    except SubmitRefused as refused:
        return refused.status, {}
    check_submission(sub)
    try:
        number = normalise(sub.dest_addr)
    except InvalidNumber:
        return int(S.ESME_RINVDSTADR), {}
    assert normalise(number.digits) == number, "normalise is idempotent"
    return int(S.ESME_ROK), {"message_id": "1"}


def answer(pdu: Pdu, dc0: Coding) -> tuple[int, dict[str, Any]]:
    """The stand-in application's answer to a ``RequestReceived``."""
    f = pdu.fields
    if pdu.command in ("submit_sm", "data_sm"):
        return _read(pdu, dc0)
    if pdu.command == "replace_sm":
        # as the gateway does: the stored message's coding and destination, the client's text
        fields = dict(f, data_coding=8, destination_addr="13800138000")
        status, _ = _read(Pdu("submit_sm", pdu.sequence, fields), Coding.ASCII)
        return status, {}
    if pdu.command == "submit_multi":
        return int(S.ESME_ROK), {"message_id": "1", "unsuccess_sme": []}
    if pdu.command == "query_sm":
        return int(S.ESME_ROK), {"message_id": f["message_id"], "final_date": "", "message_state": 2, "error_code": 0}
    return int(S.ESME_ROK), {}


class Client:
    """The session, the stand-in application and the checks on both sides."""

    def __init__(self, flags: stream.Flags) -> None:
        self.prebound = flags.take(1)
        mode_index = flags.take(2)
        self.mode = MODES[mode_index]
        self.dc0 = DC0[mode_index]
        self.refuse = flags.take(1)
        self.late = flags.take(1)
        self.session = SmppServerSession(CODEC, 0.0, TIMERS, window=4)
        self.written = Written(CODEC)
        self.held: list[Pdu] = []
        self.closed = False
        self.now = 0.0

    def bind_first(self) -> None:
        command = {v: k for k, v in BIND_MODES.items()}[self.mode]
        self.receive(CODEC.encode(Pdu(command, 1, {"system_id": "demo", "password": "demo"})), accept=True)

    def receive(self, data: bytes, accept: bool = False) -> None:
        state = self.session.state
        events = self.session.receive_data(data, self.now)
        if state is State.CLOSED:
            assert events == [], "a closed session still reports events"
        self.handle(events, accept or not self.refuse)

    def handle(self, events: list[Any], accept: bool) -> None:
        s = self.session
        for event in events:
            assert isinstance(event, EVENTS), event
            if isinstance(event, CloseConnection):
                assert s.state is State.CLOSED
                self.closed = True
            elif isinstance(event, BindRequested):
                if accept:
                    s.accept_bind(event.sequence, event.mode, event.system_id,
                                  interface_version=event.interface_version)
                else:
                    s.reject_bind(event.sequence, event.mode, int(S.ESME_RINVPASWD))
            elif isinstance(event, RequestReceived):
                assert event.pdu.sequence in s.in_flight
                if self.late:
                    self.held.append(event.pdu)
                else:
                    s.respond(event.pdu, *self._answer(event.pdu))
        if self.closed:
            assert s.state is State.CLOSED, "the session reopened after CloseConnection"

    def _answer(self, pdu: Pdu) -> tuple[int, dict[str, Any]]:
        return answer(pdu, self.dc0)

    def step(self, seconds: float) -> None:
        s = self.session
        if self.held:
            pdu = self.held.pop(0)
            s.respond(pdu, *self._answer(pdu))
        if s.can_deliver() and s.outstanding < 3:
            s.deliver(RECEIPT, self.now)
        self.now += seconds
        self.handle(s.tick(self.now), not self.refuse)
        self.check_output()

    def pause(self, seconds: float) -> None:
        """The client falls silent: we probe it with enquire_link, our deliver_sm time out."""
        self.now += seconds
        self.handle(self.session.tick(self.now), not self.refuse)
        self.check_output()

    def check_output(self) -> None:
        for pdu in self.written.take(self.session.data_to_send()):
            response = pdu.command.endswith("_resp") or pdu.command == "generic_nack"
            assert response or pdu.command in OUR_REQUESTS, pdu


def check_smpp_server(data: bytes) -> None:
    flags, chunks = stream.split(data)
    client = Client(flags)
    if client.prebound:
        client.bind_first()
        client.check_output()
    for i, chunk in enumerate(chunks):
        if i and i == len(chunks) // 2:
            client.pause(TIMERS.enquire_link_interval + 1)
        client.receive(chunk)
        client.step(stream.elapsed(chunk))
    # the end: late answers, our unbind, and every timer run out
    while client.held:
        client.step(1.0)
    client.session.unbind(client.now)
    client.now += 3600.0
    client.handle(client.session.tick(client.now), True)
    client.check_output()
    assert client.session.state is State.CLOSED and client.session.next_deadline() is None
