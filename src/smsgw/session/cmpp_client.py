"""Sans-IO CMPP 2.0/3.0 client session: we are the SP, the carrier's ISMG is the server.

One instance per TCP connection, for ``cmpp20`` or ``cmpp30`` (the codec, the
CONNECT Version byte 0x20/0x30 and the result widths follow from the protocol
id).  The link above it calls ``connect`` (CONNECT with AuthenticatorSource,
cmpp.md 5.1), then ``submit`` within a sliding window (spec 7.1: W = 16 by
default) and feeds received bytes to ``receive_data``; events say what
happened.  Unanswered SUBMITs are resent unchanged after T, at most N sends in
all (spec 7.1), then given up with ``SubmitTimedOut``; Result 8 (flow control,
cmpp.md 6) comes back as ``SubmitAnswered`` with ``throttled`` set so the link
backs off and submits again.

The session answers every DELIVER itself (cmpp.md 5.9): Result 0 for an MO
(``DeliverReceived``) or a status report (``ReportReceived``, parsed with
``report_cmpp.decode_report``, layout chosen by length: vector CMPP-18), and
the codec's structure/length error for a malformed one.  It also answers the
ISMG's ACTIVE_TEST and TERMINATE and probes an idle link (``cmpp_common``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from smsgw.codec import DecodeError, Pdu
from smsgw.protocols.cmpp20 import status
from smsgw.session.auth_cmpp import (
    authenticator_ismg_matches, authenticator_source, connect_timestamp, protocol_for_version,
)
from smsgw.session.cmpp_common import (
    FLOW_CONTROL, OK, STRUCTURE_ERROR, VERSION_TOO_HIGH, VERSIONS, CmppSession, Event, LinkLost,
    ProtocolErrorReceived, SessionStateError, State, Timers, _Pending,
)
from smsgw.session.codecs import codec_for
from smsgw.session.report_cmpp import ReportError, decode_report, msg_id_text

__all__ = [
    "CmppClientSession", "DeliverReceived", "LinkLost", "LoggedIn", "LoginRefused", "ProtocolErrorReceived",
    "ReportReceived", "SessionStateError", "State", "SubmitAnswered", "SubmitTimedOut", "Timers",
]

#: TP_udhi values meaning "Msg_Content starts with a UDH": the spec's 1 and the GSM bit 0x40
#: that many gateways send (cmpp.md 9)
_UDHI_BITS = 0x41
#: DELIVER Registered_Delivery values (cmpp.md 5.7)
_MO, _REPORT = 0, 1


# ----------------------------------------------------------------------- events

@attrs.frozen
class LoggedIn:
    """CONNECT_RESP Status 0: the link may submit.

    ``authenticator_ok`` says whether AuthenticatorISMG matched (gocmpp or
    SMSGate form); no peer in the wild checks it, so a mismatch is only worth
    a log line (cmpp.md 5.2).
    """

    protocol: str
    version: int  # the Version byte of the ISMG's answer
    authenticator_ok: bool


@attrs.frozen
class LoginRefused:
    """CONNECT_RESP with a non-zero Status (cmpp.md 5.2); a ``LinkLost`` follows.

    Do not retry at once: 2 and 3 are wrong credentials, 4 a version the ISMG
    does not speak.
    """

    status: int
    reason: str


@attrs.frozen
class SubmitAnswered:
    """The ISMG answered a SUBMIT (cmpp.md 5.6).

    ``msg_id`` is the ISMG's Msg_Id in canonical text form (16 hex digits,
    ``report_cmpp.msg_id_text``): the key its status report will carry.
    ``throttled`` (Result 8): back off and submit the same fields again.
    Any other non-zero result is a final refusal.
    """

    sequence: int
    result: int
    msg_id: str
    throttled: bool = False

    @property
    def accepted(self) -> bool:
        return self.result == OK


@attrs.frozen(hash=False)
class SubmitTimedOut:
    """No SUBMIT_RESP after the last resend; the caller re-queues ``fields``."""

    sequence: int
    fields: dict[str, Any]


@attrs.frozen
class DeliverReceived:
    """An MO message (DELIVER with Registered_Delivery 0, cmpp.md 5.7); already answered.

    ``msg_id`` is the DELIVER's own Msg_Id (text form): an ISMG that missed our
    answer sends the same DELIVER again, so it is the key for dropping duplicates.
    """

    msg_id: str
    dest_id: str  # our service code plus extension: finds the account
    service_id: str
    src_terminal_id: str  # the handset
    msg_fmt: int  # 0 ASCII, 8 UCS2, 15 GBK, ... (cmpp.md 8)
    tp_pid: int
    tp_udhi: bool  # Msg_Content starts with a UDH (TP_udhi 1 or 0x40)
    content: bytes
    linkid: str = ""  # CMPP 3.0 only: copy into the SUBMIT of an on-demand reply
    src_terminal_type: int = 0  # CMPP 3.0 only: 0 real number, 1 pseudo


@attrs.frozen
class ReportReceived:
    """A status report (DELIVER with Registered_Delivery 1, cmpp.md 5.8); already answered.

    ``msg_id`` is the report's Msg_Id, i.e. the one ``SubmitAnswered`` gave
    for the MT, in the same text form; ``stat`` is kept raw (only DELIVRD is
    success).  ``deliver_msg_id`` is the carrying DELIVER's id, for dropping
    duplicates.
    """

    msg_id: str
    stat: str
    submit_time: str  # YYMMDDHHMM as sent
    done_time: str
    dest_terminal_id: str
    smsc_sequence: int
    deliver_msg_id: str

    @property
    def delivered(self) -> bool:
        return self.stat == status.STAT_DELIVERED


# ----------------------------------------------------------------------- session

class CmppClientSession(CmppSession):
    """One SP connection to an ISMG; see the module docstring."""

    _WINDOWED = "submit"

    def __init__(
        self,
        protocol: str,
        source_addr: str,
        secret: str,
        now: float,
        *,
        timers: Timers | None = None,
        window: int = 16,
        version: int | None = None,
    ) -> None:
        """``protocol`` is ``cmpp20`` or ``cmpp30``; ``source_addr`` the SP_Id (6 digits).

        ``version`` overrides the CONNECT Version byte (e.g. 0x21 for "2.1"); it
        must name the same protocol.
        """
        super().__init__(protocol, now, timers, window)
        self.source_addr = source_addr
        self.secret = secret
        self.version = VERSIONS[protocol] if version is None else version
        if protocol_for_version(self.version) != protocol:
            raise ValueError(f"Version byte 0x{self.version:02x} is not {protocol}")
        self._authenticator = b""
        #: the Version byte of the ISMG's CONNECT_RESP, once logged in
        self.peer_version: int | None = None

    def _version_byte(self) -> int:
        return self.version

    # ------------------------------------------------------------------ calls

    def connect(self, wall: datetime, now: float) -> int:
        """Send CONNECT; ``wall`` is the carrier's local time for the Timestamp (cmpp.md 5.1).

        The CONNECT is sent once: without an answer within T the session ends.
        """
        if self.state is not State.OPEN:
            raise SessionStateError(f"cannot connect in state {self.state.value}")
        timestamp = connect_timestamp(wall)
        self._authenticator = authenticator_source(self.source_addr, self.secret, timestamp)
        fields = {"source_addr": self.source_addr, "authenticatorsource": self._authenticator,
                  "version": self.version, "timestamp": timestamp}
        sequence = self._request("connect", fields, now, max_sends=1)
        self.state = State.CONNECTING
        return sequence

    def submit(self, fields: dict[str, Any], now: float) -> int | None:
        """Send a SUBMIT; returns its sequence, or ``None`` when the window is full.

        ``fields`` are the SUBMIT body fields of the table (cmpp.md 5.5); Msg_Id
        defaults to 0 and Msg_src to our SP_Id.  One destination per SUBMIT is
        what our links send; a list of several is passed through as given.
        Raises ``SessionStateError`` before login or after terminate, and
        ``EncodeError`` when a value does not fit its field (nothing is sent).
        """
        if self.state is not State.ACTIVE:
            raise SessionStateError(f"cannot submit in state {self.state.value}")
        if self.in_flight >= self.window:
            return None
        body = {"msg_id": 0, "msg_src": self.source_addr, **fields}
        return self._request("submit", body, now)

    # ------------------------------------------------------------------ responses

    def _on_connect_resp(self, pending: _Pending, pdu: Pdu, now: float) -> list[Event]:
        result = pdu["status"]
        if result != OK:
            reason = _describe_connect(result)
            return [LoginRefused(result, reason), *self._close(f"login refused: {reason}")]
        self.state = State.ACTIVE
        self.peer_version = pdu["version"]
        ok = authenticator_ismg_matches(pdu["authenticatorismg"], OK, self._authenticator, self.secret, self.protocol)
        return [LoggedIn(self.protocol, pdu["version"], ok)]

    def _on_submit_resp(self, pending: _Pending, pdu: Pdu, now: float) -> list[Event]:
        result = pdu["result"]
        return [SubmitAnswered(pdu.sequence, result, msg_id_text(pdu["msg_id"]), result == FLOW_CONTROL)]

    def _bad_frame(self, err: DecodeError, frame: bytes, now: float) -> list[Event]:
        # An ISMG that does not speak our version answers CONNECT in its own layout
        # (a 2.0-only ISMG's Status 4 is 1 byte wide): read it with the other table.
        if self.state is State.CONNECTING and err.command == "connect_resp":
            other = "cmpp20" if self.protocol == "cmpp30" else "cmpp30"
            try:
                pdu = codec_for(other).decode(frame)
            except DecodeError:
                pass
            else:
                result = pdu["status"] or VERSION_TOO_HIGH  # even an OK in the other layout cannot work
                reason = f"{_describe_connect(result)} (the ISMG answered in the {other} layout)"
                return [LoginRefused(result, reason), *self._close(f"login refused: {reason}")]
        return super()._bad_frame(err, frame, now)

    def _expired(self, sequence: int, pending: _Pending) -> list[Event]:
        return [SubmitTimedOut(sequence, pending.fields)]

    # ------------------------------------------------------------------ the ISMG's requests

    def _on_deliver(self, pdu: Pdu, frame: bytes, now: float) -> list[Event]:
        f = pdu.fields
        kind = f["registered_delivery"]
        if kind == _REPORT:
            try:
                report = decode_report(f["msg_content"])
            except ReportError as x:
                return self._refuse_deliver(pdu, x.result, x.reason)
            self._answer_deliver(pdu, OK)
            return [ReportReceived(
                msg_id_text(report.msg_id), report.stat, report.submit_time, report.done_time,
                report.dest_terminal_id, report.smsc_sequence, msg_id_text(f["msg_id"]),
            )]
        if kind != _MO:
            return self._refuse_deliver(pdu, STRUCTURE_ERROR, f"Registered_Delivery {kind} is neither 0 nor 1")
        self._answer_deliver(pdu, OK)
        return [DeliverReceived(
            msg_id_text(f["msg_id"]), f["dest_id"], f["service_id"], f["src_terminal_id"], f["msg_fmt"],
            f["tp_pid"], bool(f["tp_udhi"] & _UDHI_BITS), f["msg_content"],
            f.get("linkid", ""), f.get("src_terminal_type", 0),
        )]

    def _answer_deliver(self, pdu: Pdu, result: int) -> None:
        self._send(Pdu("deliver_resp", pdu.sequence, {"msg_id": pdu["msg_id"], "result": result}))

    def _refuse_deliver(self, pdu: Pdu, result: int, reason: str) -> list[Event]:
        self._answer_deliver(pdu, result)
        error = DecodeError(reason, protocol=self.protocol, status=result, command="deliver",
                            sequence=pdu.sequence, field="msg_content", response="deliver_resp")
        return [ProtocolErrorReceived(error)]

    # ------------------------------------------------------------------ tables

    #: requests the ISMG may send in each state (cmpp.md 3); others get Result 2
    _ALLOWED = {
        State.OPEN: frozenset({"active_test", "terminate"}),
        State.CONNECTING: frozenset({"active_test", "terminate"}),
        State.ACTIVE: frozenset({"deliver", "active_test", "terminate"}),
        State.TERMINATING: frozenset({"deliver", "active_test", "terminate"}),
        State.CLOSED: frozenset(),
    }
    _REQUESTS = {"deliver": _on_deliver}
    _RESPONSES = {"connect": _on_connect_resp, "submit": _on_submit_resp}


def _describe_connect(result: int) -> str:
    code = status.CONNECT_STATUS.get(result)
    return f"{code.meaning if code else 'other error'} (Status {result})"
