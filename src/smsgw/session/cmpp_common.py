"""What the two CMPP 2.0/3.0 sessions share (cmpp.md sections 1, 5.3, 5.4 and 6).

``CmppSession`` is the sans-IO core of both roles: it frames and decodes with
the connection's codec, answers a malformed request with its own response
(CMPP has no generic_nack: the Result the codec names, cmpp.md 5.6/5.9),
numbers our requests, resends an unanswered request after T up to N sends
(spec 7.1: T = 60 s, N = 3), probes an idle link with ACTIVE_TEST (after C of
silence, then T and N as for any request), answers the peer's ACTIVE_TEST and
TERMINATE (5.3/5.4), and ends the session with ``LinkLost``.

A role (``cmpp_client``: we are the SP; ``cmpp_server``: the ISMG of our
simulator) adds two tables: ``_ALLOWED`` (the requests the peer may send in
each state; anything else is refused) and the dispatch tables ``_REQUESTS`` /
``_RESPONSES`` of its own handlers.  Nothing here touches sockets or clocks:
``now`` (seconds, any monotonic origin) is passed in, and ``next_deadline``
says when ``tick`` should be called.  The adapter writes ``data_to_send()``
before it closes the transport on ``LinkLost``.
"""

from __future__ import annotations

import enum
from typing import Any, Callable, ClassVar, Mapping

import attrs

from smsgw.codec import Codec, DecodeError, Pdu
from smsgw.protocols.cmpp20 import status
from smsgw.session.auth_cmpp import EMPTY_AUTHENTICATOR
from smsgw.session.codecs import codec_for

#: the CMPP protocol ids and the Version byte each one sends in CONNECT (cmpp.md 4)
VERSIONS: Mapping[str, int] = {"cmpp20": 0x20, "cmpp30": 0x30}


def _code(table: Mapping[int, status.Code], name: str) -> int:
    return next(c.value for c in table.values() if c.name == name)


# The answers the sessions choose themselves, by reason (cmpp.md 5.2, 5.6, 5.9, 5.11);
# the only place these numbers are picked.
OK = 0
CONNECT_STRUCTURE_ERROR = _code(status.CONNECT_STATUS, "structure_error")  # any undecodable CONNECT
ILLEGAL_SOURCE_ADDR = _code(status.CONNECT_STATUS, "illegal_source_addr")  # unknown SP_Id
AUTH_ERROR = _code(status.CONNECT_STATUS, "auth_error")  # AuthenticatorSource mismatch
VERSION_TOO_HIGH = _code(status.CONNECT_STATUS, "version_too_high")  # a version we do not speak
CONNECT_OTHER = _code(status.CONNECT_STATUS, "other")  # a CONNECT on a session that already has one
#: a request the peer may not send in the session's state: the spec has no "wrong state" code, and
#: "command word error" is the nearest (the command is wrong at that point)
NOT_NOW = status.COMMAND_ERROR
STRUCTURE_ERROR = status.STRUCTURE_ERROR
FLOW_CONTROL = _code(status.SUBMIT_RESULT, "flow_control")  # the ISMG's "too fast, back off" (cmpp.md 6)
CANCEL_FAILED = _code(status.CANCEL_SUCCESS, "failed")


class State(enum.Enum):
    OPEN = "open"                # connected; client: CONNECT not sent; server: waiting for CONNECT
    CONNECTING = "connecting"    # client: CONNECT sent; server: CONNECT handed to the application
    ACTIVE = "active"            # logged in
    TERMINATING = "terminating"  # we sent TERMINATE and wait for its response
    CLOSED = "closed"            # nothing more is read or written


class SessionStateError(RuntimeError):
    """The application asked for something the session's state does not allow (its bug)."""


@attrs.define
class Timers:
    """Session timers (spec 7.1 suggests C = 3 min, T = 60 s, N = 3; carriers' contracts vary)."""

    #: C: send ACTIVE_TEST after this long without hearing from the peer
    active_test_interval: float = 180.0
    #: T: resend a request that has no response after this long
    response_timeout: float = 60.0
    #: N: sends of one request (the first one included) before giving up on it
    max_sends: int = 3
    #: server: close a connection without an accepted CONNECT after this long
    login_timeout: float = 60.0


# ----------------------------------------------------------------------- events of both roles

@attrs.frozen
class LinkLost:
    """The session is over: write ``data_to_send()``, then close the transport.

    ``clean`` is true after a TERMINATE exchange (either side's);
    ``unanswered`` lists the sequences of our SUBMITs (client) or DELIVERs
    (server) that never got a response: the caller re-queues them.
    """

    reason: str
    clean: bool = False
    unanswered: tuple[int, ...] = ()


@attrs.frozen
class ProtocolErrorReceived:
    """The peer sent something we could not accept; already answered as the error says."""

    error: DecodeError


#: our requests of which at most one is outstanding (matched by command, not Sequence_Id)
_ONE_AT_A_TIME = frozenset({"connect", "active_test", "terminate"})

Event = Any  # an event class of this module, cmpp_client or cmpp_server

_Handler = Callable[[Any, Pdu, bytes, float], "list[Event]"]


@attrs.define
class _Pending:
    """One request of ours awaiting its response."""

    command: str
    fields: dict[str, Any]
    frame: bytes  # resent as is, same Sequence_Id (spec 7.1), so a late answer still matches
    sends: int
    max_sends: int
    deadline: float


class CmppSession:
    """The machinery common to ``CmppClientSession`` and ``CmppServerSession``."""

    #: requests the peer may send in each state (per role); the rest are refused
    _ALLOWED: ClassVar[Mapping[State, frozenset[str]]]
    #: handlers of the peer's requests other than ACTIVE_TEST and TERMINATE
    _REQUESTS: ClassVar[Mapping[str, _Handler]]
    #: handlers of responses to our requests other than ACTIVE_TEST and TERMINATE
    _RESPONSES: ClassVar[Mapping[str, Callable[[Any, _Pending, Pdu, float], "list[Event]"]]]
    #: our request that the window counts (SUBMIT for the SP, DELIVER for the ISMG)
    _WINDOWED: ClassVar[str]

    def __init__(self, protocol: str, now: float, timers: Timers | None, window: int) -> None:
        if protocol not in VERSIONS:
            raise ValueError(f"not a CMPP protocol id: {protocol!r}")
        if window < 1:
            raise ValueError("the window must be at least 1")
        self.timers = timers or Timers()
        #: how many of our windowed requests may await a response (spec 7.1: W = 16)
        self.window = window
        self.state = State.OPEN
        self.protocol = protocol
        self.codec: Codec = codec_for(protocol)
        self._framer = self.codec.framer()
        self._out: list[bytes] = []
        self._pending: dict[int, _Pending] = {}
        self._next_sequence = 1
        self._last_heard = now

    def _use_protocol(self, protocol: str) -> None:
        """Switch this connection to ``protocol`` (the server, once CONNECT names the version)."""
        self.protocol = protocol
        self.codec = codec_for(protocol)
        self._framer.max_length = self.codec.spec.max_length

    @property
    def closed(self) -> bool:
        """True once the session has ended (after ``LinkLost``)."""
        return self.state is State.CLOSED

    # ------------------------------------------------------------------ input

    def receive_data(self, data: bytes, now: float) -> list[Event]:
        """Feed bytes read from the socket; returns what happened."""
        if self.state is State.CLOSED:
            return []
        self._last_heard = now
        # the PDUs before an impossible length are handled first; then the stream cannot be trusted any more
        frames, framing_error = self._framer.cut(data)
        events: list[Event] = []
        for frame in frames:
            events.extend(self._receive_frame(frame, now))
            if self.closed:
                break
        if framing_error is not None and not self.closed:
            events += [ProtocolErrorReceived(framing_error), *self._close(f"framing error: {framing_error.reason}")]
        return events

    def _receive_frame(self, frame: bytes, now: float) -> list[Event]:
        try:
            pdu = self.codec.decode(frame)
        except DecodeError as err:
            return self._bad_frame(err, frame, now)
        name = pdu.command
        if name.endswith("_resp"):
            return self._receive_response(pdu, now)
        if name not in self._ALLOWED[self.state]:
            self._answer_error(self.codec.response_name(name), pdu.sequence,
                               CONNECT_OTHER if name == "connect" else NOT_NOW, frame)
            return []
        if name == "active_test":
            self._send(Pdu("active_test_resp", pdu.sequence, {"reserved": 0}))
            return []
        if name == "terminate":
            self._send(Pdu("terminate_resp", pdu.sequence))
            return self._close("the peer terminated", clean=True)
        return self._REQUESTS[name](self, pdu, frame, now)

    def _receive_response(self, pdu: Pdu, now: float) -> list[Event]:
        request = pdu.command[: -len("_resp")]
        if request in _ONE_AT_A_TIME:
            # At most one of these is outstanding, so its response matches whatever its
            # Sequence_Id: some peers answer with one of their own (pycmpp's ACTIVE_TEST_RESP
            # in vector CMPP-27 carries 0).
            sequence = next((s for s, p in self._pending.items() if p.command == request), None)
        else:
            sequence = pdu.sequence
        pending = self._pending.get(sequence) if sequence is not None else None
        if sequence is None or pending is None or pending.command != request:
            return []  # a second answer to a resent request, or unsolicited: dropped (never answered)
        del self._pending[sequence]
        if request == "active_test":
            return []
        if request == "terminate":
            return self._close("terminated", clean=True)
        return self._RESPONSES[request](self, pending, pdu, now)

    def _bad_frame(self, err: DecodeError, frame: bytes, now: float) -> list[Event]:
        """Answer an undecodable PDU as the codec says; close after a framing error."""
        events: list[Event] = [ProtocolErrorReceived(err)]
        if err.response is not None:
            # the engine's bad-length status 4 reads "version too high" in CONNECT_RESP: answer 1
            result = CONNECT_STRUCTURE_ERROR if err.response == "connect_resp" else err.status
            self._answer_error(err.response, err.sequence if isinstance(err.sequence, int) else 0, result, frame)
        if err.fatal:
            events.extend(self._close(f"framing error: {err.reason}"))
        return events

    def _answer_error(self, response: str | None, sequence: int, result: int, frame: bytes) -> None:
        """Answer a request we refuse with its own response carrying ``result``."""
        if response is None:
            return
        fields: dict[str, Any]
        if response == "connect_resp":
            fields = {"status": result, "authenticatorismg": EMPTY_AUTHENTICATOR, "version": self._version_byte()}
        elif response == "deliver_resp":
            # echo the DELIVER's Msg_Id (the first 8 body bytes) when it arrived at all
            msg_id = int.from_bytes(frame[12:20], "big") if len(frame) >= 20 else 0
            fields = {"msg_id": msg_id, "result": result}
        elif response == "submit_resp":
            fields = {"msg_id": 0, "result": result}
        elif response == "cancel_resp":
            fields = {"success_id": CANCEL_FAILED}
        else:  # active_test_resp, terminate_resp, query_resp: no result field to carry it
            fields = {}
        self._send(Pdu(response, sequence, fields))

    def _version_byte(self) -> int:
        return VERSIONS[self.protocol]

    # ------------------------------------------------------------------ our requests

    @property
    def in_flight(self) -> int:
        """Our windowed requests (SUBMIT or DELIVER) awaiting a response."""
        return sum(1 for p in self._pending.values() if p.command == self._WINDOWED)

    @property
    def window_free(self) -> int:
        """How many more windowed requests may be sent now."""
        return max(0, self.window - self.in_flight)

    def terminate(self, now: float) -> list[Event]:
        """End the session politely (TERMINATE, cmpp.md 5.3); wait for its response.

        Before login there is nothing to terminate: the session ends at once.
        """
        if self.state in (State.CLOSED, State.TERMINATING):
            return []
        if self.state is not State.ACTIVE:
            return self._close("closed before login", clean=True)
        self.state = State.TERMINATING
        self._request("terminate", {}, now, max_sends=1)
        return []

    def _request(self, command: str, fields: dict[str, Any], now: float, max_sends: int | None = None) -> int:
        sequence = self._allocate_sequence()
        frame = self.codec.encode(Pdu(command, sequence, fields))  # EncodeError: the caller's fields
        self._out.append(frame)
        self._pending[sequence] = _Pending(
            command, fields, frame, 1, max_sends or self.timers.max_sends, now + self.timers.response_timeout
        )
        return sequence

    def _allocate_sequence(self) -> int:
        while True:  # the window is far smaller than 2**32: this ends at once
            sequence = self._next_sequence
            self._next_sequence = sequence + 1 if sequence < 0xFFFFFFFF else 1
            if sequence not in self._pending:
                return sequence

    # ------------------------------------------------------------------ time

    def next_deadline(self) -> float | None:
        """When ``tick`` should be called next (``None``: nothing is timed)."""
        if self.state is State.CLOSED:
            return None
        candidates = [p.deadline for p in self._pending.values()]
        login = self._login_deadline()
        if login is not None:
            candidates.append(login)
        if self._probe_due_at() is not None:
            candidates.append(self._last_heard + self.timers.active_test_interval)
        return min(candidates) if candidates else None

    def tick(self, now: float) -> list[Event]:
        """Act on every deadline that has passed: resends, give-ups, the keep-alive probe."""
        if self.state is State.CLOSED:
            return []
        login = self._login_deadline()
        if login is not None and now >= login:
            return self._close("no login in time")
        events: list[Event] = []
        for sequence, pending in list(self._pending.items()):
            if now < pending.deadline:
                continue
            if pending.sends < pending.max_sends:
                pending.sends += 1
                pending.deadline = now + self.timers.response_timeout
                self._out.append(pending.frame)
                continue
            del self._pending[sequence]
            if pending.command in ("active_test", "terminate", "connect"):
                events.extend(self._close(f"no answer to {pending.command} after {pending.sends} send(s)"))
                return events
            events.extend(self._expired(sequence, pending))
        due = self._probe_due_at()
        if due is not None and now >= due:
            self._request("active_test", {}, now)
        return events

    def _probe_due_at(self) -> float | None:
        if self.state is not State.ACTIVE or any(p.command == "active_test" for p in self._pending.values()):
            return None
        return self._last_heard + self.timers.active_test_interval

    def _login_deadline(self) -> float | None:
        """Role hook: when an unfinished login gives up (``None``: not waiting for one)."""
        return None

    def _expired(self, sequence: int, pending: _Pending) -> list[Event]:
        """Role hook: our windowed request got no answer after its last send."""
        raise NotImplementedError

    # ------------------------------------------------------------------ output

    def data_to_send(self) -> bytes:
        """Bytes to write to the socket (drained)."""
        if not self._out:
            return b""
        data = b"".join(self._out)
        self._out.clear()
        return data

    def _send(self, pdu: Pdu) -> None:
        self._out.append(self.codec.encode(pdu))

    def _close(self, reason: str, clean: bool = False) -> list[Event]:
        unanswered = tuple(s for s, p in self._pending.items() if p.command == self._WINDOWED)
        self._pending.clear()
        self.state = State.CLOSED
        return [LinkLost(reason, clean, unanswered)]
