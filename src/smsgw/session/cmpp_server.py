"""Sans-IO CMPP 2.0/3.0 server session: the ISMG role, for our carrier simulator.

One instance per accepted TCP connection.  The version is decided by the
CONNECT's Version byte (``auth_cmpp.protocol_for_version``: 0x30 is 3.0; 0x20,
0x21, 0x00, 0x01 are 2.0) and kept for the life of the connection (cmpp.md 4);
a version outside ``protocols`` is answered with Status 4 ("version too high")
in the layout of our highest version, and the connection ends.

What needs the application comes out as an event and is answered by a call:
``LoginRequested`` → ``answer_login(secret)`` (the session checks
AuthenticatorSource itself, cmpp.md 5.1) or ``refuse_login(status)``;
``SubmitReceived`` → ``answer_submit(sequence, result, msg_id)`` (the simulator
makes the Msg_Id, ``report_cmpp.make_msg_id``).  The ISMG's own requests are
``deliver`` (MO) and ``deliver_report`` (status report in the version's
layout), windowed and resent like the client's SUBMITs, answered by
``DeliverAnswered`` or given up with ``DeliverTimedOut``.  ACTIVE_TEST,
TERMINATE, QUERY and CANCEL are answered by the session (a simulator keeps no
statistics and cancels nothing: QUERY gets zero counts, CANCEL Success_Id 1).
"""

from __future__ import annotations

from typing import Any, Iterable

import attrs

from smsgw.codec import DecodeError, Pdu
from smsgw.session.auth_cmpp import (
    EMPTY_AUTHENTICATOR, authenticator_ismg, protocol_for_version, verify_authenticator_source,
)
from smsgw.session.cmpp_common import (
    AUTH_ERROR, CANCEL_FAILED, FLOW_CONTROL, ILLEGAL_SOURCE_ADDR, OK, VERSION_TOO_HIGH, VERSIONS, CmppSession,
    Event, LinkLost, ProtocolErrorReceived, SessionStateError, State, Timers, _Pending,
)
from smsgw.session.report_cmpp import REPORT_SIZE, CmppReport, encode_report

__all__ = [
    "CmppServerSession", "DeliverAnswered", "DeliverTimedOut", "LinkLost", "LoginAnswered", "LoginRequested",
    "ProtocolErrorReceived", "SessionStateError", "State", "SubmitReceived", "Timers",
]

_QUERY_COUNTS = ("mt_tlmsg", "mt_tlusr", "mt_scs", "mt_wt", "mt_fl", "mo_scs", "mo_wt", "mo_fl")


# ----------------------------------------------------------------------- events

@attrs.frozen
class LoginRequested:
    """A CONNECT in a version we speak; answer with ``answer_login`` or ``refuse_login``."""

    sequence: int
    source_addr: str  # SP_Id: look up its shared secret
    authenticator_source: bytes
    version: int  # the Version byte as sent
    timestamp: int  # MMDDHHMMSS as a number
    protocol: str  # cmpp20 or cmpp30, now fixed for this connection


@attrs.frozen
class LoginAnswered:
    """What ``answer_login``/``refuse_login`` sent: Status 0, or a refusal (then ``LinkLost``)."""

    source_addr: str
    status: int


@attrs.frozen(hash=False)
class SubmitReceived:
    """A SUBMIT to answer once with ``answer_submit`` (cmpp.md 5.5/5.6)."""

    sequence: int
    protocol: str
    fields: dict[str, Any]


@attrs.frozen
class DeliverAnswered:
    """The SP answered one of our DELIVERs (Result 0 = accepted, cmpp.md 5.9)."""

    sequence: int
    result: int


@attrs.frozen(hash=False)
class DeliverTimedOut:
    """One of our DELIVERs got no answer after its last send; ``fields`` can be sent again later."""

    sequence: int
    fields: dict[str, Any]


# ----------------------------------------------------------------------- session

class CmppServerSession(CmppSession):
    """One SP connection to our simulated ISMG; see the module docstring."""

    _WINDOWED = "deliver"

    def __init__(
        self,
        now: float,
        *,
        protocols: Iterable[str] = ("cmpp20", "cmpp30"),
        timers: Timers | None = None,
        window: int = 16,
        submit_window: int | None = None,
    ) -> None:
        """``protocols``: the versions this ISMG speaks; ``window``: our DELIVERs in flight.

        ``submit_window``: SUBMITs the SP may have unanswered before we answer
        Result 8 (flow control) ourselves; ``None`` leaves that to the simulator.
        """
        self.protocols = tuple(protocols)
        if not self.protocols or any(p not in VERSIONS for p in self.protocols):
            raise ValueError(f"protocols must be CMPP protocol ids, not {self.protocols!r}")
        self._highest = max(self.protocols, key=VERSIONS.__getitem__)
        # CONNECT is the same in both versions: read it with the highest one's table
        super().__init__(self._highest, now, timers, window)
        self.submit_window = submit_window
        self._opened = now
        self._login: LoginRequested | None = None
        #: SP_Id of the logged-in SP
        self.source_addr: str | None = None
        #: the SP's SUBMITs handed to the application and not answered yet
        self._submits: set[int] = set()

    def _version_byte(self) -> int:
        return VERSIONS[self._highest]

    # ------------------------------------------------------------------ login

    def _on_connect(self, pdu: Pdu, frame: bytes, now: float) -> list[Event]:
        f = pdu.fields
        protocol = protocol_for_version(f["version"])
        if protocol is None or protocol not in self.protocols:
            self._send_connect_resp(pdu.sequence, VERSION_TOO_HIGH)
            return self._close(f"CONNECT Version 0x{f['version']:02x} not spoken here: Status {VERSION_TOO_HIGH}")
        self._use_protocol(protocol)
        self.state = State.CONNECTING
        self._login = LoginRequested(pdu.sequence, f["source_addr"], f["authenticatorsource"], f["version"],
                                     f["timestamp"], protocol)
        return [self._login]

    def answer_login(self, secret: str | None) -> list[Event]:
        """Check the pending CONNECT against the SP's ``secret`` and answer it (cmpp.md 5.2).

        ``None`` means the SP_Id is unknown (Status 2); a wrong
        AuthenticatorSource is Status 3.  Returns ``LoginAnswered`` and, after
        a refusal, ``LinkLost``: the ISMG closes the connection.
        """
        login = self._pending_login()
        if secret is None:
            result = ILLEGAL_SOURCE_ADDR
        elif not verify_authenticator_source(login.authenticator_source, login.source_addr, secret, login.timestamp):
            result = AUTH_ERROR
        else:
            result = OK
        return self._finish_login(login, result, secret)

    def refuse_login(self, status: int) -> list[Event]:
        """Refuse the pending CONNECT for a reason of the application's (e.g. 56: too many links)."""
        if status == OK:
            raise ValueError("refuse_login needs a non-zero status; use answer_login to accept")
        return self._finish_login(self._pending_login(), status, None)

    def _pending_login(self) -> LoginRequested:
        if self.state is not State.CONNECTING or self._login is None:
            raise SessionStateError(f"no CONNECT to answer in state {self.state.value}")
        return self._login

    def _finish_login(self, login: LoginRequested, result: int, secret: str | None) -> list[Event]:
        self._login = None
        if result != OK or secret is None:
            self._send_connect_resp(login.sequence, result)
            return [LoginAnswered(login.source_addr, result), *self._close(f"login refused: Status {result}")]
        self._send(Pdu("connect_resp", login.sequence, {
            "status": OK,
            "authenticatorismg": authenticator_ismg(OK, login.authenticator_source, secret, self.protocol),
            "version": login.version,  # echoed, as gocmpp does (vectors CMPP-02/26)
        }))
        self.state = State.ACTIVE
        self.source_addr = login.source_addr
        return [LoginAnswered(login.source_addr, OK)]

    def _send_connect_resp(self, sequence: int, result: int) -> None:
        self._send(Pdu("connect_resp", sequence, {
            "status": result, "authenticatorismg": EMPTY_AUTHENTICATOR, "version": self._version_byte(),
        }))

    def _bad_frame(self, err: DecodeError, frame: bytes, now: float) -> list[Event]:
        login_pending = self.state is State.OPEN
        events = super()._bad_frame(err, frame, now)
        if err.response == "connect_resp" and login_pending and not self.closed:
            # answered with Status 1; after any non-zero Status the ISMG closes (cmpp.md 5.2)
            events.extend(self._close(f"undecodable CONNECT: {err.reason}"))
        return events

    def _login_deadline(self) -> float | None:
        if self.state in (State.OPEN, State.CONNECTING):
            return self._opened + self.timers.login_timeout
        return None

    # ------------------------------------------------------------------ the SP's requests

    def _on_submit(self, pdu: Pdu, frame: bytes, now: float) -> list[Event]:
        if pdu.sequence in self._submits:
            return []  # the SP resent a SUBMIT still being decided: the one answer will do for both
        if self.submit_window is not None and len(self._submits) >= self.submit_window:
            self._send(Pdu("submit_resp", pdu.sequence, {"msg_id": 0, "result": FLOW_CONTROL}))
            return []
        self._submits.add(pdu.sequence)
        return [SubmitReceived(pdu.sequence, self.protocol, pdu.fields)]

    def answer_submit(self, sequence: int, result: int, msg_id: int = 0) -> None:
        """Answer a ``SubmitReceived`` once: Result and the Msg_Id we gave it (cmpp.md 5.6, 7).

        Raises ``EncodeError`` for a value that does not fit (the SUBMIT stays unanswered).
        """
        if sequence not in self._submits or self.state is State.CLOSED:
            return
        frame = self.codec.encode(Pdu("submit_resp", sequence, {"msg_id": msg_id, "result": result}))
        self._submits.discard(sequence)
        self._out.append(frame)

    @property
    def submits_unanswered(self) -> int:
        return len(self._submits)

    def _on_query(self, pdu: Pdu, frame: bytes, now: float) -> list[Event]:
        f = pdu.fields
        answer = {"time": f["time"], "query_type": f["query_type"], "query_code": f["query_code"]}
        self._send(Pdu("query_resp", pdu.sequence, {**answer, **{name: 0 for name in _QUERY_COUNTS}}))
        return []

    def _on_cancel(self, pdu: Pdu, frame: bytes, now: float) -> list[Event]:
        self._send(Pdu("cancel_resp", pdu.sequence, {"success_id": CANCEL_FAILED}))
        return []

    # ------------------------------------------------------------------ our DELIVERs

    def deliver(self, fields: dict[str, Any], now: float) -> int | None:
        """Send a DELIVER (cmpp.md 5.7); returns its sequence, or ``None`` when the window is full.

        Raises ``SessionStateError`` unless logged in, ``EncodeError`` for fields that do not fit.
        """
        if self.state is not State.ACTIVE:
            raise SessionStateError(f"cannot deliver in state {self.state.value}")
        if self.in_flight >= self.window:
            return None
        return self._request("deliver", dict(fields), now)

    def deliver_report(self, report: CmppReport, now: float, fields: dict[str, Any] | None = None) -> int | None:
        """Send a status report in this connection's layout (60 bytes in 2.0, 71 in 3.0; cmpp.md 5.8).

        ``fields`` may give the DELIVER's own Msg_Id, Dest_Id, Service_Id;
        Src_terminal_Id defaults to the report's destination.
        """
        body = {"src_terminal_id": report.dest_terminal_id, **(fields or {})}
        body["registered_delivery"] = 1
        body["msg_content"] = encode_report(report, REPORT_SIZE[self.protocol])
        return self.deliver(body, now)

    def _on_deliver_resp(self, pending: _Pending, pdu: Pdu, now: float) -> list[Event]:
        return [DeliverAnswered(pdu.sequence, pdu["result"])]

    def _expired(self, sequence: int, pending: _Pending) -> list[Event]:
        return [DeliverTimedOut(sequence, pending.fields)]

    # ------------------------------------------------------------------ tables

    #: requests the SP may send in each state (cmpp.md 3); others get Result 2 (CONNECT: Status 5)
    _ALLOWED = {
        State.OPEN: frozenset({"connect", "active_test", "terminate"}),
        State.CONNECTING: frozenset({"active_test", "terminate"}),
        State.ACTIVE: frozenset({"submit", "query", "cancel", "active_test", "terminate"}),
        State.TERMINATING: frozenset({"active_test", "terminate"}),
        State.CLOSED: frozenset(),
    }
    _REQUESTS = {"connect": _on_connect, "submit": _on_submit, "query": _on_query, "cancel": _on_cancel}
    _RESPONSES = {"deliver": _on_deliver_resp}
