"""Sans-IO SGIP 1.2 sessions on a connection WE open: the SP's submit link (Bind type 1).

SGIP runs two TCP directions (sgip.md section 1): the SP connects to the SMG
with LoginType 1 to Submit; the SMG connects to the SP with LoginType 2 to
Deliver MO and Report (``sgip_listener``).  On each connection only the side
that connected sends requests (spec 3.7.2).  ``SgipInitiator`` is that side,
whoever it is: Bind, a window of requests matched by their sequence triple,
resend, Unbind; ``SgipClientSession`` adds Submit, and our SMG simulator's
``sgip_callback.SgipCallbackSession`` adds Deliver/Report.

Specifics:

* the sequence is the triple (node id, MMDDHHMMSS, counter) (sgip.md 2); the
  ``SequenceGenerator`` is passed in and outlives the connection, so triples
  stay unique across the short SGIP connections of one link;
* Submit_Resp carries no message id: the Submit's own triple IS the carrier's
  id, and the Report quotes it back (sgip.md 4.4, 4.6) - ``SubmitAnswered``
  gives it as ``format_message_id(triple)``;
* Result 11 "node busy" is the carrier's slow-down signal (sgip.md 5);
* there is no heartbeat: the session unbinds after ``idle_timeout`` without
  traffic and the link opens a new connection when it next has something to send;
* so a silent SMG (or a half-open connection) shows only in the submits: when
  one is given up after its N sends and nothing at all has arrived on the
  connection since it was first sent, ``SgipClientSession`` ends the session
  (``LinkLost``, not clean) instead of sending more into the void.  The link
  requeues what was in flight and moves to a fresh connection, as CMPP and
  SMGP do when their Active_Test goes unanswered.
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterable

from smsgw.codec import Codec, DecodeError, Pdu
from smsgw.protocols.sgip12.status import MEANINGS, THROTTLE, LoginType, Result
from smsgw.session.carrier_events import Event, LoggedIn, LoginRefused, SubmitAnswered, SubmitTimedOut
from smsgw.session.carrier_peer import CarrierPeer, NotReady, State
from smsgw.session.carrier_window import CarrierTimers, Pending
from smsgw.session.codecs import codec_for
from smsgw.session.sgip_sequence import SequenceGenerator, Triple, format_message_id

_UNBIND_ONLY = frozenset({"unbind"})


def unknown_request(err: DecodeError) -> bool:
    """A request we cannot even name (e.g. AddSP): it cannot be answered, so the connection is dropped
    (spec 3.7.2); an unknown response is only ignored."""
    return err.command is None and err.command_id is not None and not err.command_id & 0x80000000


def result_meaning(result: int) -> str:
    try:
        return MEANINGS[Result(result)]
    except ValueError:
        return f"result {result}"


class SgipInitiator(CarrierPeer):
    """The connecting side of an SGIP connection (either direction); see the module docstring."""

    STATUS_FIELD = "result"
    #: the Bind LoginType this side sends
    LOGIN_TYPE: ClassVar[LoginType]
    #: the peer only answers; an Unbind from it is tolerated (answered, then the session ends)
    PEER_REQUESTS = {State.LOGGING_IN: _UNBIND_ONLY, State.ACTIVE: _UNBIND_ONLY, State.CLOSING: _UNBIND_ONLY}

    def __init__(self, login_name: str, password: str, sequence: SequenceGenerator, now: float,
                 timers: CarrierTimers | None = None, codec: Codec | None = None) -> None:
        super().__init__(codec or codec_for("sgip12"), now, timers)
        self.login_name = login_name
        self.password = password
        self.sequence = sequence
        self._end_reason = "unbind acknowledged"
        self._request_handlers = {"unbind": self._on_unbind}

    def _next_sequence(self) -> Triple:
        return self.sequence.next()

    # ------------------------------------------------------------------ calls

    def bind(self, now: float) -> Triple:
        """Send Bind (sgip.md 4.1); ``LoggedIn`` or ``LoginRefused`` follows."""
        if self.state is not State.OPEN:
            raise NotReady(f"bind in state {self.state.value}")
        self.state = State.LOGGING_IN
        fields = {"login_type": int(self.LOGIN_TYPE), "login_name": self.login_name,
                  "login_password": self.password}
        return self._request("bind", fields, now, control=True, max_sends=1)

    def unbind(self, now: float, reason: str = "unbind acknowledged") -> None:
        """End the session politely; ``LinkLost(clean=True)`` follows the Unbind_Resp."""
        if self.state in (State.OPEN, State.LOGGING_IN):
            self._lose("closed before bind", clean=True)
        elif self.state is State.ACTIVE:
            self.state = State.CLOSING
            self._end_reason = reason
            self._request("unbind", {}, now, control=True, max_sends=1)

    def can_send(self) -> bool:
        """Bound and the window has room."""
        return self.state is State.ACTIVE and not self._window.full

    def _send_payload(self, command: str, fields: dict[str, Any], now: float) -> Triple | None:
        if self.state is not State.ACTIVE:
            raise NotReady(f"{command} in state {self.state.value}")
        if self._window.full:
            return None
        return self._request(command, fields, now)

    # ------------------------------------------------------------------ input

    def _on_unbind(self, pdu: Pdu, now: float) -> list[Event]:
        self._out.append(self._codec.encode(Pdu("unbind_resp", pdu.sequence)))
        return [self._lose("peer unbound", clean=True)]

    def _answered(self, pending: Pending, response: Pdu, now: float) -> list[Event]:
        result = response.get("result", 0)  # Unbind_Resp has no body (SGIP-10), or a stray one (SGIP-07)
        if pending.command == "bind":
            if result == 0:
                self.state = State.ACTIVE
                return [LoggedIn()]
            return [LoginRefused(result, result_meaning(result)), self._lose("bind refused")]
        if pending.command == "unbind":
            return [self._lose(self._end_reason, clean=True)]
        return [self._payload_answered(pending, result)]

    def _payload_answered(self, pending: Pending, result: int) -> Event:
        raise NotImplementedError

    def _refusal(self, request: Pdu) -> int:
        # spec 3.7.2: only the connecting side sends requests; the other answers with an error Result
        return int(Result.WRONG_LOGIN_TYPE)

    def _fatal(self, err: DecodeError) -> bool:
        return unknown_request(err)

    # ------------------------------------------------------------------ idle unbind

    def _timer_deadline(self) -> float | None:
        if self.state is State.ACTIVE and not self._window:
            return self._last_traffic + self.timers.idle_timeout
        return None

    def _on_timers(self, now: float) -> list[Event]:
        deadline = self._timer_deadline()
        if deadline is not None and now >= deadline:
            self.unbind(now, reason="idle")
        return []


class SgipClientSession(SgipInitiator):
    """SP -> SMG: Bind type 1, Submit, Unbind (sgip.md 1, 4.4).

    ``throttle_results`` are the Results that mean "slow down" (11; some links
    add 88, SMSGate's reading - not in the spec, sgip.md 5).
    """

    LOGIN_TYPE = LoginType.SP_TO_SMG

    def __init__(self, login_name: str, password: str, sequence: SequenceGenerator, now: float,
                 timers: CarrierTimers | None = None, throttle_results: Iterable[int] = (int(THROTTLE),),
                 codec: Codec | None = None) -> None:
        super().__init__(login_name, password, sequence, now, timers, codec)
        self.throttle_results = frozenset(throttle_results)
        #: chunks of data received so far: "heard since" is a count, exact even when times are equal
        self._heard = 0
        #: each unanswered Submit's triple -> ``_heard`` when it was first sent
        self._heard_before: dict[Triple, int] = {}
        #: a Submit given up with nothing heard since it was sent (the session ends at this tick)
        self._unheard: Triple | None = None

    def can_submit(self) -> bool:
        return self.can_send()

    def submit(self, fields: dict[str, Any], now: float) -> Triple | None:
        """Send a Submit (fields as in ``protocols/sgip12`` SUBMIT); returns its triple, None if the window is full.

        Raises ``NotReady`` when not bound (check ``can_submit``) and ``EncodeError``
        when a field does not fit.
        """
        triple = self._send_payload("submit", fields, now)
        if triple is not None:
            self._heard_before[triple] = self._heard
        return triple

    def receive_data(self, data: bytes, now: float) -> list[Event]:
        if data:
            self._heard += 1
        return super().receive_data(data, now)

    def _payload_answered(self, pending: Pending, result: int) -> Event:
        self._heard_before.pop(pending.sequence, None)
        message_id = format_message_id(pending.sequence) if result == 0 else None
        return SubmitAnswered(pending.sequence, result, message_id, result in self.throttle_results)

    def _gave_up(self, pending: Pending) -> Event:
        if self._heard_before.pop(pending.sequence, -1) == self._heard and self._unheard is None:
            self._unheard = pending.sequence
        return SubmitTimedOut(pending.sequence, pending.fields)

    def _on_timers(self, now: float) -> list[Event]:
        triple, self._unheard = self._unheard, None
        if triple is None:
            return super()._on_timers(now)
        self._heard_before.clear()
        return [self._lose(f"the SMG is silent: Submit {format_message_id(triple)} got no answer after "
                           f"{self.timers.max_sends} send(s), and nothing was heard since it was sent")]
