"""Sans-IO SMGP 3.0 client session: we are the SP, connected to a China Telecom SMGW.

Login (smgp.md 4) with ``auth_smgp``'s MD5 and a LoginMode: 2 transmit by
default (submit, and receive MO and reports on the same link), 0 send (MT
only), 1 receive (the SMGW delivers; ``submit`` is refused).  The Login's
ClientVersion selects the Submit layout (0x13: no FixedFee, smgp.md 5).

* ``submit`` sends a Submit (smgp.md 6.1; TLVs such as tp_udhi, pk_total,
  pk_number, link_id go in ``fields["tlvs"]``, only those the spec allows in a
  Submit); MsgType defaults to 6 (MT).  Up to ``window`` are unanswered at a
  time; answers match by SequenceID in any order; unanswered ones are resent
  after T and given up after N sends (``SubmitTimedOut``).
* Submit_Resp's 10-byte MsgID is the carrier id, as 20 hex digits
  (``report_smgp.msg_id_to_text``); Status 1 "system busy" is the only
  retry-later answer SMGP has (smgp.md 7) and is flagged ``throttled``.
* Deliver with IsReport = 1 is a status report, read by ``report_smgp``
  (tolerant of the real-world variants) into ``ReportReceived``; otherwise it
  is an MO, ``DeliverReceived``.  Both are answered here with Status 0, or 10
  (message structure) for a report that cannot be read.
* Active_Test and Exit as in ``smgp_peer``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from smsgw.codec import DecodeError, Pdu
from smsgw.domain.model import MessageState
from smsgw.protocols.smgp30.status import RETRY_LATER, VERSION_30, LoginMode, Status
from smsgw.protocols.smgp30.tlvs import SUBMIT_TAGS
from smsgw.session.auth_smgp import authenticator_client, server_is_authentic, timestamp
from smsgw.session.carrier_events import (
    DeliverReceived, Event, LoggedIn, LoginRefused, ProtocolErrorReceived, ReportReceived, SubmitAnswered,
    SubmitTimedOut,
)
from smsgw.session.carrier_peer import NotReady, State
from smsgw.session.carrier_window import CarrierTimers, Pending
from smsgw.session.report_smgp import ReportFormatError, SmgpReport, msg_id_to_text, parse_report
from smsgw.session.smgp_peer import ALWAYS, SmgpPeer, status_meaning

#: MsgType of an SP's MT (smgp.md 6.1); the table's default, 0, would mean MO
MSG_TYPE_MT = 6
#: report stat -> final message state (smgp.md 11); any other stat is a failure, as in CMPP
REPORT_STATES = {
    "DELIVRD": MessageState.DELIVERED,
    "EXPIRED": MessageState.EXPIRED,
    "DELETED": MessageState.UNDELIVERED,
    "UNDELIV": MessageState.UNDELIVERED,
    "UNKNOWN": MessageState.UNDELIVERED,
    "REJECTD": MessageState.UNDELIVERED,
}
#: stats that are not final: answered, no event
NOT_FINAL = frozenset({"ACCEPTD", "ENROUTE"})


def report_event(report: SmgpReport, recipient: str) -> ReportReceived | None:
    """The event for a parsed report, None when it is not final."""
    stat = report.stat.upper()
    if stat in NOT_FINAL:
        return None
    return ReportReceived(
        message_id=msg_id_to_text(report.msg_id), state=REPORT_STATES.get(stat, MessageState.UNDELIVERED),
        stat=report.stat, err=report.err, recipient=recipient, submit_date=report.submit_date,
        done_date=report.done_date,
    )


class SmgpClientSession(SmgpPeer):
    """One SP connection to an SMGW; see the module docstring.

    Calls: ``login``, ``submit``/``can_submit``, ``exit``, plus the sans-IO
    ``receive_data``/``data_to_send``/``next_deadline``/``tick``/``connection_lost``.
    Events: ``LoggedIn``, ``LoginRefused``, ``SubmitAnswered``, ``SubmitTimedOut``,
    ``DeliverReceived``, ``ReportReceived``, ``ProtocolErrorReceived``, ``LinkLost``.
    """

    PEER_REQUESTS = {
        State.OPEN: ALWAYS, State.LOGGING_IN: ALWAYS,
        # a send-only (mode 0) link should get no Deliver; one that comes anyway is still taken
        State.ACTIVE: ALWAYS | {"deliver"}, State.CLOSING: ALWAYS | {"deliver"},
    }

    def __init__(self, client_id: str, secret: str, now: float, *, login_mode: int = LoginMode.TRANSMIT,
                 version: int = VERSION_30, timers: CarrierTimers | None = None,
                 throttle_statuses: Iterable[int] = RETRY_LATER, first_sequence: int = 1) -> None:
        super().__init__(now, timers, version, first_sequence)
        self.client_id = client_id
        self.secret = secret
        self.login_mode = LoginMode(login_mode)
        self.throttle_statuses = frozenset(int(s) for s in throttle_statuses)
        self.server_version: int | None = None
        self._authenticator = b""
        self._request_handlers["deliver"] = self._on_deliver

    # ------------------------------------------------------------------ calls

    def login(self, now: float, when: datetime) -> int:
        """Send Login; ``when`` is the carrier's local wall time for the TimeStamp (smgp.md 4.1)."""
        if self.state is not State.OPEN:
            raise NotReady(f"login in state {self.state.value}")
        stamp = timestamp(when)
        self._authenticator = authenticator_client(self.client_id, self.secret, stamp)
        self.state = State.LOGGING_IN
        fields = {"client_id": self.client_id, "authenticator_client": self._authenticator,
                  "login_mode": int(self.login_mode), "time_stamp": stamp, "client_version": self.version}
        return self._request("login", fields, now, control=True, max_sends=1)

    def can_submit(self) -> bool:
        return (self.state is State.ACTIVE and self.login_mode is not LoginMode.RECEIVE
                and not self._window.full)

    def submit(self, fields: dict[str, Any], now: float) -> int | None:
        """Send a Submit; returns its SequenceID, or None when the window is full.

        Raises ``NotReady`` when not logged in or on a receive-only link, ``ValueError``
        for a TLV the spec does not allow in a Submit, ``EncodeError`` for a field that
        does not fit.
        """
        if self.state is not State.ACTIVE or self.login_mode is LoginMode.RECEIVE:
            raise NotReady(f"submit in state {self.state.value}, login mode {self.login_mode.name}")
        foreign = {k for k in (fields.get("tlvs") or {}) if k not in SUBMIT_TAGS}
        if foreign:
            raise ValueError(f"TLVs not allowed in a Submit: {sorted(map(str, foreign))}")
        if self._window.full:
            return None
        return self._request("submit", {"msg_type": MSG_TYPE_MT, **fields}, now)

    # ------------------------------------------------------------------ answers

    def _answered_request(self, pending: Pending, response: Pdu, now: float) -> list[Event]:
        status = response["status"]
        if pending.command == "login":
            if status != Status.OK:
                return [LoginRefused(status, status_meaning(status)), self._lose("login refused")]
            self.state = State.ACTIVE
            self.server_version = response["server_version"]
            authentic = server_is_authentic(status, self._authenticator, self.secret,
                                            response["authenticator_server"])
            return [LoggedIn(self.server_version, authentic)]
        message_id = msg_id_to_text(response["msg_id"]) if status == Status.OK else None
        return [SubmitAnswered(pending.sequence, status, message_id, status in self.throttle_statuses)]

    def _gave_up(self, pending: Pending) -> Event:
        return SubmitTimedOut(pending.sequence, pending.fields)

    # ------------------------------------------------------------------ Deliver: MO or report

    def _on_deliver(self, pdu: Pdu, now: float) -> list[Event]:
        f = pdu.fields
        answer = {"msg_id": f["msg_id"]}
        if f["is_report"]:
            try:
                report = parse_report(f["msg_content"])
            except ReportFormatError as x:
                self._respond(pdu, Status.MESSAGE_STRUCTURE, answer)
                return [ProtocolErrorReceived(DecodeError(
                    str(x), protocol="smgp30", status=int(Status.MESSAGE_STRUCTURE), command="deliver",
                    sequence=pdu.sequence, field="msg_content", response="deliver_resp"))]
            self._respond(pdu, Status.OK, answer)
            event = report_event(report, f["src_term_id"])
            return [event] if event is not None else []
        self._respond(pdu, Status.OK, answer)
        tlvs = f.get("tlvs") or {}
        return [DeliverReceived(
            source=f["src_term_id"], destination=f["dest_term_id"], coding=f["msg_format"],
            content=f["msg_content"], udhi=bool(tlvs.get("tp_udhi")),
            carrier_message_id=msg_id_to_text(f["msg_id"]), received=f["recv_time"], extras=dict(tlvs),
        )]
