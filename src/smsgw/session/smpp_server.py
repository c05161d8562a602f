"""Sans-IO SMPP 3.4 server session: one client connection, we are the SMSC.

Bytes in, events out; calls in, bytes out (``data_to_send``).  No sockets,
clocks or threads: time is passed to ``receive_data`` and ``tick`` as ``now``
(seconds), and deadlines are reported by ``next_deadline`` for the adapter to
schedule.  What the session can answer alone it answers (enquire_link,
generic_nack, a request in the wrong bind state, unbind); everything that needs
the application (bind credentials, submissions, queries) comes out as an event
and is answered through ``accept_bind``/``reject_bind``/``respond``.

Transitions and the commands allowed in each state are the tables
``_ALLOWED`` and ``_BIND_STATES`` below (SMPP 3.4 section 2.3); anything not in
them gets ESME_RINVBNDSTS.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from smsgw.codec import Codec, DecodeError, EncodeError, Pdu
from smsgw.protocols.smpp34.status import CommandStatus as S


class State(enum.Enum):
    OPEN = "open"                  # connected, not bound
    BINDING = "binding"            # bind received, waiting for the application's verdict
    BOUND_TX = "bound_tx"
    BOUND_RX = "bound_rx"
    BOUND_TRX = "bound_trx"
    UNBINDING = "unbinding"        # we sent unbind, waiting for unbind_resp
    CLOSED = "closed"              # nothing more is read or written


BIND_MODES = {"bind_transmitter": "transmitter", "bind_receiver": "receiver", "bind_transceiver": "transceiver"}
_BIND_STATES = {"transmitter": State.BOUND_TX, "receiver": State.BOUND_RX, "transceiver": State.BOUND_TRX}

_SUBMITS = frozenset({"submit_sm", "submit_multi", "data_sm", "query_sm", "cancel_sm", "replace_sm"})
_ALWAYS = frozenset({"enquire_link", "enquire_link_resp", "generic_nack"})
#: requests a client may send in each state (responses are matched separately)
_ALLOWED: dict[State, frozenset[str]] = {
    State.OPEN: frozenset(BIND_MODES) | _ALWAYS,
    State.BINDING: _ALWAYS,
    State.BOUND_TX: _SUBMITS | _ALWAYS | {"unbind"},
    State.BOUND_RX: _ALWAYS | {"unbind"},
    State.BOUND_TRX: _SUBMITS | _ALWAYS | {"unbind"},
    State.UNBINDING: _ALWAYS | {"unbind"},
    State.CLOSED: frozenset(),
}
#: states in which we may send deliver_sm / data_sm to the client
_CAN_DELIVER = frozenset({State.BOUND_RX, State.BOUND_TRX})


# ----------------------------------------------------------------------- events

@attrs.frozen
class BindRequested:
    sequence: int
    mode: str                       # transmitter | receiver | transceiver
    system_id: str
    password: str
    system_type: str
    interface_version: int
    address_range: str


@attrs.frozen
class RequestReceived:
    """A submit_sm, submit_multi, data_sm, query_sm, cancel_sm or replace_sm to answer with ``respond``."""

    pdu: Pdu


@attrs.frozen
class DeliveryAnswered:
    """The client answered one of our deliver_sm/data_sm (status 0 = accepted)."""

    sequence: int
    status: int


@attrs.frozen
class DeliveryTimedOut:
    """One of our deliver_sm/data_sm got no answer in time; the application re-queues it."""

    sequence: int


@attrs.frozen
class Unbound:
    """The session is over (client's unbind answered, ours acknowledged, or timed out)."""

    reason: str


@attrs.frozen
class ProtocolErrorReceived:
    """The client sent something we could not accept; already answered as the error says."""

    error: DecodeError


@attrs.frozen
class CloseConnection:
    """The stream is unusable or the peer is gone; close the transport."""

    reason: str


Event = Any  # one of the classes above


class BindRefused(Exception):
    """Raised by the application when it refuses a bind, with the status to answer."""

    def __init__(self, status: int, reason: str):
        self.status = int(status)
        self.reason = reason
        super().__init__(reason)


@attrs.define
class Timers:
    """Session timers in seconds (SMPP 3.4 leaves the values to the implementation)."""

    #: send enquire_link after this long without anything from the client
    enquire_link_interval: float = 30.0
    #: give up on a request we sent (enquire_link, deliver_sm, unbind) after this long
    response_timeout: float = 30.0
    #: close a connection that has not bound after this long; a bind request restarts the count,
    #: so the time spent checking its password (argon2, slow on purpose) never runs it out
    bind_timeout: float = 60.0


@attrs.define
class _Outstanding:
    command: str
    deadline: float


class SmppServerSession:
    """State of one client connection; see the module docstring."""

    def __init__(self, codec: Codec, now: float, timers: Timers | None = None, window: int = 64) -> None:
        self.codec = codec
        self.timers = timers or Timers()
        self.state = State.OPEN
        self.mode: str | None = None
        self.system_id: str | None = None
        #: the client's requests handed to the application and not yet answered
        self.in_flight: set[int] = set()
        #: how many of the client's requests may be in flight before ESME_RTHROTTLED
        self.window = window
        self._framer = codec.framer()
        self._out: list[bytes] = []
        self._outstanding: dict[int, _Outstanding] = {}
        self._next_sequence = 1
        self._last_heard = now
        #: when the bind timeout started counting: the connection, then the latest bind request
        self._bind_clock = now
        self._enquiring = False

    # ------------------------------------------------------------------ input

    def receive_data(self, data: bytes, now: float) -> list[Event]:
        """Feed bytes read from the socket; returns what happened."""
        if self.state is State.CLOSED:
            return []
        self._last_heard = now
        events: list[Event] = []
        try:
            # ``feed``, not ``cut``: requests in the same read as an impossible length are dropped with the
            # connection, unanswered, rather than taken and then left without their response
            frames = self._framer.feed(data)
        except DecodeError as err:
            self._send_error(err)
            self.state = State.CLOSED
            return [ProtocolErrorReceived(err), CloseConnection(err.reason)]
        for frame in frames:
            try:
                pdu = self.codec.decode(frame)
            except DecodeError as err:
                self._send_error(err)
                events.append(ProtocolErrorReceived(err))
                if err.fatal:
                    self.state = State.CLOSED
                    events.append(CloseConnection(err.reason))
                    break
                continue
            events.extend(self._handle(pdu, now))
            if self.state is State.CLOSED:
                break
        return events

    def _handle(self, pdu: Pdu, now: float) -> list[Event]:
        name = pdu.command
        if name.endswith("_resp") or name == "generic_nack":
            return self._handle_response(pdu)
        if name not in _ALLOWED[self.state]:
            if name in BIND_MODES and self.state in _CAN_DELIVER | {State.BOUND_TX}:
                self._respond(pdu, S.ESME_RALYBND)
            else:
                self._respond(pdu, S.ESME_RINVBNDSTS)
            return []
        if name == "enquire_link":
            self._respond(pdu, S.ESME_ROK)
            return []
        if name == "unbind":
            self._respond(pdu, S.ESME_ROK)
            self.state = State.CLOSED
            return [Unbound("client unbound"), CloseConnection("client unbound")]
        if name in BIND_MODES:
            self.state = State.BINDING
            self._bind_clock = now
            f = pdu.fields
            return [BindRequested(pdu.sequence, BIND_MODES[name], f["system_id"], f["password"], f["system_type"],
                                  f["interface_version"], f["address_range"])]
        # a submission of some kind
        if len(self.in_flight) >= self.window or pdu.sequence in self.in_flight:
            self._respond(pdu, S.ESME_RTHROTTLED)
            return []
        self.in_flight.add(pdu.sequence)
        return [RequestReceived(pdu)]

    def _handle_response(self, pdu: Pdu) -> list[Event]:
        pending = self._outstanding.pop(pdu.sequence, None)
        if pending is None:
            return []  # late or unsolicited: log-and-drop (never answer a response)
        if pending.command == "enquire_link":
            self._enquiring = False
            return []
        if pending.command == "unbind":
            self.state = State.CLOSED
            return [Unbound("unbind acknowledged"), CloseConnection("unbind acknowledged")]
        return [DeliveryAnswered(pdu.sequence, pdu.status)]

    # ------------------------------------------------------------------ answers

    def accept_bind(self, sequence: int, mode: str, system_id: str, our_system_id: str = "smsgw",
                    interface_version: int = 0x34) -> None:
        """The application accepted the bind."""
        if self.state is not State.BINDING:
            return
        self.state = _BIND_STATES[mode]
        self.mode = mode
        self.system_id = system_id
        fields: dict[str, Any] = {"system_id": our_system_id}
        if interface_version >= 0x34:
            fields["tlvs"] = {"sc_interface_version": 0x34}
        self._send(Pdu(f"bind_{mode}_resp", sequence, fields))

    def reject_bind(self, sequence: int, mode: str, status: int) -> None:
        """The application refused the bind; the client may try again on this connection."""
        if self.state is not State.BINDING:
            return
        self.state = State.OPEN
        self._send(Pdu(f"bind_{mode}_resp", sequence, {}, status))

    def respond(self, request: Pdu, status: int, fields: dict[str, Any] | None = None) -> None:
        """Answer a ``RequestReceived`` (once)."""
        if request.sequence not in self.in_flight:
            return
        self.in_flight.discard(request.sequence)
        if self.state is State.CLOSED:
            return
        self._respond(request, status, fields)

    # ------------------------------------------------------------------ our requests

    def can_deliver(self) -> bool:
        return self.state in _CAN_DELIVER

    def deliver(self, fields: dict[str, Any], now: float, command: str = "deliver_sm") -> int:
        """Send a deliver_sm (receipt or MO); returns its sequence for matching ``DeliveryAnswered``."""
        if self.state not in _CAN_DELIVER:
            raise RuntimeError(f"cannot deliver in state {self.state.value}")
        return self._request(command, fields, now)

    def unbind(self, now: float) -> None:
        """Start closing the session politely."""
        if self.state in (State.CLOSED, State.UNBINDING):
            return
        if self.state in (State.OPEN, State.BINDING):
            self.state = State.CLOSED
            return
        self.state = State.UNBINDING
        self._request("unbind", {}, now)

    @property
    def outstanding(self) -> int:
        """Our requests (deliver_sm, enquire_link, unbind) awaiting the client's answer."""
        return len(self._outstanding)

    # ------------------------------------------------------------------ time

    def next_deadline(self) -> float | None:
        if self.state is State.CLOSED:
            return None
        candidates = [o.deadline for o in self._outstanding.values()]
        if self.state in (State.OPEN, State.BINDING):
            candidates.append(self._bind_clock + self.timers.bind_timeout)
        elif not self._enquiring:
            candidates.append(self._last_heard + self.timers.enquire_link_interval)
        return min(candidates) if candidates else None

    def tick(self, now: float) -> list[Event]:
        """Act on every deadline that has passed."""
        if self.state is State.CLOSED:
            return []
        events: list[Event] = []
        if self.state in (State.OPEN, State.BINDING) and now >= self._bind_clock + self.timers.bind_timeout:
            self.state = State.CLOSED
            return [CloseConnection("no bind in time")]
        for sequence, o in sorted(self._outstanding.items()):
            if now < o.deadline:
                continue
            del self._outstanding[sequence]
            if o.command in ("enquire_link", "unbind"):
                self.state = State.CLOSED
                events.append(Unbound(f"no answer to {o.command}"))
                events.append(CloseConnection(f"no answer to {o.command}"))
                return events
            events.append(DeliveryTimedOut(sequence))
        if (self.state in (State.BOUND_TX, State.BOUND_RX, State.BOUND_TRX) and not self._enquiring
                and now >= self._last_heard + self.timers.enquire_link_interval):
            self._enquiring = True
            self._request("enquire_link", {}, now)
        return events

    # ------------------------------------------------------------------ output

    def data_to_send(self) -> bytes:
        """Bytes to write to the socket (drained)."""
        if not self._out:
            return b""
        data = b"".join(self._out)
        self._out.clear()
        return data

    def _request(self, command: str, fields: dict[str, Any], now: float) -> int:
        sequence = self._next_sequence
        self._next_sequence = sequence + 1 if sequence < 0x7FFFFFFF else 1
        self._send(Pdu(command, sequence, fields))
        self._outstanding[sequence] = _Outstanding(command, now + self.timers.response_timeout)
        return sequence

    def _respond(self, request: Pdu, status: int, fields: dict[str, Any] | None = None) -> None:
        response = self.codec.response_name(request.command)
        if response is None:
            return  # outbind, alert_notification: nothing to answer
        self._send(Pdu(response, request.sequence, fields or {}, int(status)))

    def _send_error(self, err: DecodeError) -> None:
        if err.response is None:
            return
        sequence = err.sequence if isinstance(err.sequence, int) else 0
        self._send(Pdu(err.response, sequence, {}, err.status))

    def _send(self, pdu: Pdu) -> None:
        try:
            self._out.append(self.codec.encode(pdu))
        except EncodeError:
            if not pdu.command.endswith("_resp"):
                raise  # the application gave fields that do not fit: its bug, not the client's
            # a response must still go out: answer with a system error rather than nothing
            self._out.append(self.codec.encode(Pdu(pdu.command, pdu.sequence, {}, int(S.ESME_RSYSERR))))
