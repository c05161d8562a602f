"""What every sans-IO carrier session (SGIP 1.2, SMGP 3.0, either role) does alike.

Bytes in, events out (``receive_data``); calls in, bytes out (``data_to_send``);
``next_deadline``/``tick`` for timers, ``now`` in seconds passed in.  This base
owns the framing and decoding loop, answering a request the codec could not
decode with the response and status its ``DecodeError`` names, matching
responses to our requests by sequence (in any order), resending unanswered
requests (``carrier_window``), and ending the session with one ``LinkLost``.

A subclass declares, as tables, which requests the peer may send in each
``State`` (``PEER_REQUESTS``) and the handler of each (``_request_handlers``);
a request not allowed in the current state is answered with the status of
``_refusal`` and changes nothing.  Subclasses never check state elsewhere.

Adapter contract: feed bytes and call methods, then write ``data_to_send()``;
close the transport when ``closed`` is true (a ``LinkLost`` event says why when
the session ended by itself).  Tell the session a transport loss with
``connection_lost``.
"""

from __future__ import annotations

import enum
from typing import Any, Callable, ClassVar, Mapping

from smsgw.codec import Codec, DecodeError, Pdu
from smsgw.session.carrier_events import Event, LinkLost, ProtocolErrorReceived
from smsgw.session.carrier_window import CarrierTimers, Pending, RequestWindow, Sequence


class State(enum.Enum):
    OPEN = "open"              # connected, no login yet
    LOGGING_IN = "logging_in"  # connecting side: login sent; accepting side: login awaiting the application
    ACTIVE = "active"          # logged in (SMGP) / bound (SGIP)
    CLOSING = "closing"        # our Exit/Unbind sent, awaiting its response
    CLOSED = "closed"          # nothing more is read or written


class NotReady(RuntimeError):
    """A call the session cannot take in its current state (the caller's mistake: check first)."""


Handler = Callable[[Pdu, float], "list[Event]"]


class CarrierPeer:
    """Base of the carrier sessions; see the module docstring."""

    #: the response field carrying the result: "result" (SGIP) or "status" (SMGP)
    STATUS_FIELD: ClassVar[str]
    #: requests the peer may send in each state (a missing state allows none)
    PEER_REQUESTS: ClassVar[Mapping[State, frozenset[str]]]

    def __init__(self, codec: Codec, now: float, timers: CarrierTimers | None = None) -> None:
        self.timers = timers or CarrierTimers()
        self.state = State.OPEN
        self._codec = codec
        self._framer = codec.framer()
        self._out: list[bytes] = []
        t = self.timers
        #: payload requests (submits; a simulator's delivers and reports)
        self._window = RequestWindow(t.window, t.response_timeout, t.max_sends)
        #: control requests (login, Active_Test, Exit, Unbind): never refused for a full window
        self._control = RequestWindow(None, t.response_timeout, t.max_sends)
        self._opened = now
        #: last time anything arrived (keep-alive)
        self._last_heard = now
        #: last time a request went out or a PDU came in (SGIP idle unbind)
        self._last_traffic = now
        self._request_handlers: dict[str, Handler] = {}

    # ------------------------------------------------------------------ queries

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    @property
    def in_flight(self) -> int:
        """Payload requests sent and not yet answered."""
        return len(self._window)

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
            self._last_traffic = now
            try:
                pdu = self._codec.decode(frame)
            except DecodeError as err:
                self._answer_error(err, frame)
                events.append(ProtocolErrorReceived(err))
                if err.fatal or self._fatal(err):
                    events.append(self._lose(f"unusable PDU from the peer: {err.reason}"))
                    break
                continue
            if pdu.command.endswith("_resp"):  # SGIP and SMGP name every response so
                events.extend(self._on_response(pdu, now))
            else:
                events.extend(self._on_request(pdu, now))
            if self.state is State.CLOSED:
                break
        if framing_error is not None and self.state is not State.CLOSED:
            self._answer_error(framing_error, b"")
            events += [ProtocolErrorReceived(framing_error), self._lose(f"framing error: {framing_error.reason}")]
        return events

    def connection_lost(self, reason: str) -> list[Event]:
        """The transport closed under us; returns ``LinkLost`` unless the session had already ended."""
        if self.state is State.CLOSED:
            return []
        return [self._lose(reason)]

    def _on_request(self, pdu: Pdu, now: float) -> list[Event]:
        if pdu.command not in self.PEER_REQUESTS.get(self.state, frozenset()):
            self._respond(pdu, self._refusal(pdu), self._echo(pdu))
            return []
        return self._request_handlers[pdu.command](pdu, now)

    def _on_response(self, pdu: Pdu, now: float) -> list[Event]:
        for window in (self._control, self._window):
            pending = window.get(pdu.sequence)
            if pending is not None and self._codec.response_name(pending.command) == pdu.command:
                window.pop(pdu.sequence)
                return self._answered(pending, pdu, now)
        return []  # late (already given up) or unsolicited: a response is never answered

    # ------------------------------------------------------------------ hooks

    def _answered(self, pending: Pending, response: Pdu, now: float) -> list[Event]:
        """The response to one of our requests arrived."""
        raise NotImplementedError

    def _gave_up(self, pending: Pending) -> Event:
        """A payload request got no response after its last send."""
        raise NotImplementedError

    def _refusal(self, request: Pdu) -> int:
        """Status to answer a request the peer may not send in the current state."""
        raise NotImplementedError

    def _echo(self, request: Pdu) -> dict[str, Any]:
        """Fields of a request its response repeats whatever the status (SMGP Deliver_Resp: the MsgID)."""
        return {}

    def _fatal(self, err: DecodeError) -> bool:
        """Whether a non-fatal decode error still ends the session (SGIP: an unknown request)."""
        return False

    def _error_fields(self, err: DecodeError, frame: bytes) -> dict[str, Any]:
        """Body of the response to an undecodable request."""
        return {self.STATUS_FIELD: err.status}

    def _timer_deadline(self) -> float | None:
        """The subclass's own next timer (idle unbind, keep-alive, login timeout)."""
        return None

    def _on_timers(self, now: float) -> list[Event]:
        """Act on the subclass's own timers."""
        return []

    def _next_sequence(self) -> Sequence:
        raise NotImplementedError

    # ------------------------------------------------------------------ time

    def next_deadline(self) -> float | None:
        """When ``tick`` next has something to do (None: nothing scheduled)."""
        if self.state is State.CLOSED:
            return None
        candidates = [d for d in (self._control.next_deadline(), self._window.next_deadline(),
                                  self._timer_deadline()) if d is not None]
        return min(candidates, default=None)

    def tick(self, now: float) -> list[Event]:
        """Resend or give up unanswered requests and run the timers whose time has come."""
        if self.state is State.CLOSED:
            return []
        resend, given_up = self._control.due(now)
        self._out.extend(p.data for p in resend)
        if given_up:
            return [self._lose(f"no answer to {given_up[0].command}")]
        events: list[Event] = []
        resend, given_up_payload = self._window.due(now)
        if resend:
            self._out.extend(p.data for p in resend)
            self._last_traffic = now
        events.extend(self._gave_up(p) for p in given_up_payload)
        events.extend(self._on_timers(now))
        return events

    # ------------------------------------------------------------------ output

    def data_to_send(self) -> bytes:
        """Bytes to write to the socket (drained)."""
        data = b"".join(self._out)
        self._out.clear()
        return data

    def _request(self, command: str, fields: dict[str, Any], now: float, *, control: bool = False,
                 max_sends: int | None = None, sequence: Sequence = None) -> Sequence:
        """Send a request and wait for its response.  ``EncodeError`` means the caller's fields do not fit."""
        if sequence is None:
            sequence = self._next_sequence()
        data = self._codec.encode(Pdu(command, sequence, fields))
        (self._control if control else self._window).add(command, sequence, fields, data, now, max_sends)
        self._out.append(data)
        self._last_traffic = now
        return sequence

    def _respond(self, request: Pdu, status: int, fields: dict[str, Any] | None = None) -> None:
        response = self._codec.response_name(request.command)
        if response is None:
            return
        body = {self.STATUS_FIELD: int(status)}
        if fields:
            body.update(fields)
        self._out.append(self._codec.encode(Pdu(response, request.sequence, body)))

    def _answer_error(self, err: DecodeError, frame: bytes) -> None:
        if err.response is None or err.sequence is None:
            return
        self._out.append(self._codec.encode(Pdu(err.response, err.sequence, self._error_fields(err, frame))))

    def _lose(self, reason: str, clean: bool = False) -> LinkLost:
        """End the session: nothing more is read or written; unanswered payload requests are handed back."""
        self.state = State.CLOSED
        self._control.drain()
        unanswered = tuple((p.command, p.sequence, p.fields) for p in self._window.drain())
        return LinkLost(reason, clean, unanswered)
