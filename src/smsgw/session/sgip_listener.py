"""Sans-IO SGIP 1.2 sessions on a connection the PEER opens: the SP's listener for the SMG (Bind type 2).

The SMG connects to the SP to push MO messages (Deliver), status reports
(Report) and user state changes (UserRpt) (sgip.md section 1, 4.5-4.7); the SP
answers each with Result 0 quickly, or the SMG resends (sgip.md 8).
``SgipAcceptor`` is the accepting side of either direction: it checks the
Bind's LoginType, hands the credentials to the application (``BindRequested``,
then ``accept_bind``/``refuse_bind``; a refused peer is disconnected, spec
3.7.2), answers requests not allowed on this connection with an error Result,
answers Unbind, and drops duplicates (spec 3.7.2.4.3: same triple and same
content is not processed twice; same triple with other content is an error).
``SgipListenerSession`` is the SP's side; our SMG simulator's side of the
submit link is ``sgip_server.SgipServerSession``.

SGIP has no heartbeat: a bound connection silent for ``peer_idle_timeout`` is closed.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, ClassVar

import attrs

from smsgw.codec import DecodeError, Pdu
from smsgw.domain.model import MessageState
from smsgw.protocols.sgip12.status import LoginType, ReportState, Result
from smsgw.session.carrier_events import DeliverReceived, Event, ReportReceived
from smsgw.session.carrier_peer import CarrierPeer, State
from smsgw.session.carrier_window import CarrierTimers, Pending
from smsgw.session.codecs import codec_for
from smsgw.session.sgip_client import unknown_request
from smsgw.session.sgip_sequence import Triple, format_message_id

#: how many recent request triples are remembered per connection for duplicate detection
DUPLICATE_MEMORY = 256


@attrs.frozen
class BindRequested:
    """The peer's Bind, to accept (``accept_bind``) or refuse (``refuse_bind``); the password is clear text."""

    sequence: Triple
    login_type: int
    login_name: str
    password: str


@attrs.frozen
class UserReported:
    """A UserRpt (sgip.md 4.7): ``user_condition`` 0 cancelled, 1 suspended for arrears, 2 back to normal."""

    sp_number: str
    user_number: str
    user_condition: int


class SgipAcceptor(CarrierPeer):
    """The accepting side of an SGIP connection; see the module docstring."""

    STATUS_FIELD = "result"
    #: the only LoginType this side accepts
    LOGIN_TYPE: ClassVar[LoginType]

    def __init__(self, now: float, timers: CarrierTimers | None = None) -> None:
        super().__init__(codec_for("sgip12"), now, timers)
        self.login_name: str | None = None
        self._bind_sequence: Triple | None = None
        #: triple -> (fields, Result answered or None while the application decides)
        self._seen: OrderedDict[Triple, tuple[dict[str, Any], int | None]] = OrderedDict()
        self._request_handlers = {"bind": self._on_bind, "unbind": self._on_unbind}

    # ------------------------------------------------------------------ bind

    def _on_bind(self, pdu: Pdu, now: float) -> list[Event]:
        f = pdu.fields
        if f["login_type"] != self.LOGIN_TYPE:
            self._respond(pdu, Result.WRONG_LOGIN_TYPE)
            return [self._lose(f"bind with login type {f['login_type']}, expected {int(self.LOGIN_TYPE)}")]
        self.state = State.LOGGING_IN
        self._bind_sequence = pdu.sequence
        return [BindRequested(pdu.sequence, f["login_type"], f["login_name"], f["login_password"])]

    def accept_bind(self, sequence: Triple) -> None:
        """The application accepted the credentials of ``BindRequested``."""
        if self.state is not State.LOGGING_IN or sequence != self._bind_sequence:
            return
        self.state = State.ACTIVE
        self._respond(Pdu("bind", sequence), Result.OK)

    def refuse_bind(self, sequence: Triple, result: int = Result.ILLEGAL_LOGIN) -> None:
        """The application refused them: answer ``result`` and close (spec 3.7.2); check ``closed``."""
        if self.state is not State.LOGGING_IN or sequence != self._bind_sequence:
            return
        self._respond(Pdu("bind", sequence), result)
        self._lose("bind refused")

    def _on_unbind(self, pdu: Pdu, now: float) -> list[Event]:
        self._out.append(self._codec.encode(Pdu("unbind_resp", pdu.sequence)))
        return [self._lose("peer unbound", clean=True)]

    def _refusal(self, request: Pdu) -> int:
        if request.command == "bind":
            return int(Result.REPEATED_LOGIN)
        if self.state in (State.OPEN, State.LOGGING_IN):
            return int(Result.ILLEGAL_LOGIN)  # nothing but Bind before the Bind is accepted
        return int(Result.WRONG_LOGIN_TYPE)  # e.g. a Submit on the SMG->SP connection

    def _fatal(self, err: DecodeError) -> bool:
        return unknown_request(err)

    # ------------------------------------------------------------------ duplicates

    def _admit(self, pdu: Pdu) -> bool:
        """Whether a request is new; a repeated triple is answered (or left to its pending answer) here."""
        prior = self._seen.get(pdu.sequence)
        if prior is None:
            self._seen[pdu.sequence] = (pdu.fields, None)
            while len(self._seen) > DUPLICATE_MEMORY:
                self._seen.popitem(last=False)
            return True
        fields, result = prior
        if fields != pdu.fields:
            self._respond(pdu, Result.ILLEGAL_SEQUENCE)
        elif result is not None:
            self._respond(pdu, result)  # our answer was lost: repeat it, do not process twice
        return False

    def _answer(self, request: Pdu, result: int) -> None:
        self._respond(request, result)
        if request.sequence in self._seen:
            self._seen[request.sequence] = (self._seen[request.sequence][0], int(result))

    def _forget(self, sequence: Triple) -> None:
        self._seen.pop(sequence, None)

    # ------------------------------------------------------------------ timers

    def _busy(self) -> bool:
        """Whether requests received are still being processed (the connection is not idle)."""
        return False

    def _timer_deadline(self) -> float | None:
        if self.state in (State.OPEN, State.LOGGING_IN):
            return self._opened + self.timers.login_timeout
        if self.state is State.ACTIVE and not self._busy():
            return self._last_traffic + self.timers.peer_idle_timeout
        return None

    def _on_timers(self, now: float) -> list[Event]:
        deadline = self._timer_deadline()
        if deadline is None or now < deadline:
            return []
        if self.state is State.ACTIVE:
            return [self._lose("peer idle", clean=True)]
        return [self._lose("no bind in time")]

    # the accepting side sends no requests of its own (spec 3.7.2)
    def _answered(self, pending: Pending, response: Pdu, now: float) -> list[Event]:  # pragma: no cover
        return []

    def _gave_up(self, pending: Pending) -> Event:  # pragma: no cover
        raise AssertionError("an SGIP accepting side sends no requests")

    def _next_sequence(self) -> Triple:  # pragma: no cover
        raise AssertionError("an SGIP accepting side sends no requests")


_LISTENER_BOUND = frozenset({"deliver", "report", "userrpt", "unbind"})
#: Report State -> final message state; State 1 (waiting) is not final and produces no event (sgip.md 4.6)
REPORT_STATES = {ReportState.DELIVERED: MessageState.DELIVERED, ReportState.FAILED: MessageState.UNDELIVERED}


class SgipListenerSession(SgipAcceptor):
    """SMG -> SP: accepts Bind type 2, answers Deliver/Report/UserRpt with Result 0 and reports them as events.

    Events: ``BindRequested``, ``DeliverReceived`` (MO), ``ReportReceived`` (its
    ``message_id`` is the Submit's triple as ``format_message_id`` renders it, the
    same text ``SubmitAnswered`` gave), ``UserReported``, ``ProtocolErrorReceived``,
    ``LinkLost``.
    """

    LOGIN_TYPE = LoginType.SMG_TO_SP
    PEER_REQUESTS = {State.OPEN: frozenset({"bind"}), State.ACTIVE: _LISTENER_BOUND}

    def __init__(self, now: float, timers: CarrierTimers | None = None) -> None:
        super().__init__(now, timers)
        self._request_handlers.update(deliver=self._on_deliver, report=self._on_report, userrpt=self._on_userrpt)

    def _on_deliver(self, pdu: Pdu, now: float) -> list[Event]:
        if not self._admit(pdu):
            return []
        self._answer(pdu, Result.OK)
        f = pdu.fields
        return [DeliverReceived(
            source=f["user_number"], destination=f["sp_number"], coding=f["message_coding"],
            content=f["message_content"],
            udhi=f["tp_udhi"] != 0,  # spec value 1; some gateways send 0x40 (the GSM bit) instead
            carrier_message_id=format_message_id(pdu.sequence), extras={"tp_pid": f["tp_pid"]},
        )]

    def _on_report(self, pdu: Pdu, now: float) -> list[Event]:
        if not self._admit(pdu):
            return []
        self._answer(pdu, Result.OK)
        f = pdu.fields
        if f["state"] == ReportState.WAITING:
            return []
        # a State outside 0-2 is not in the spec: read it as a failure rather than lose the report
        state = REPORT_STATES.get(f["state"], MessageState.UNDELIVERED)
        return [ReportReceived(
            message_id=format_message_id(f["submit_sequence_number"]), state=state, stat=str(f["state"]),
            err=str(f["error_code"]), recipient=f["user_number"],
        )]

    def _on_userrpt(self, pdu: Pdu, now: float) -> list[Event]:
        if not self._admit(pdu):
            return []
        self._answer(pdu, Result.OK)
        f = pdu.fields
        return [UserReported(f["sp_number"], f["user_number"], f["user_condition"])]
