"""Sans-IO SMGP 3.0 server session: our SMGW simulator's side of an SP's connection.

The SP logs in (smgp.md 4): the Login comes out as ``LoginRequested`` and the
application checks the MD5 with the account's secret (``is_authentic``), then
``accept_login`` (answers AuthenticatorServer = MD5(status, AuthenticatorClient,
secret)) or ``refuse_login`` (zeros, then the connection closes, smgp.md 4.2).
A ClientVersion above ours is refused with 22 "version too high"; the accepted
version selects the Submit layout for the rest of the session (0x13: no FixedFee).

Submits come out as ``SubmitReceived``; the simulator answers each with
``respond_submit(sequence, status, msg_id)`` (a MsgID from
``report_smgp.make_msg_id``).  Submits beyond the window get Status 1 "system
busy" without reaching the application.  Deliver (MO and reports, smgp.md 6.3)
goes to links logged in with mode 1 or 2, with the same window, resend and
matching as the client's submits.  Active_Test and Exit as in ``smgp_peer``.
"""

from __future__ import annotations

from typing import Any

import attrs

from smsgw.codec import Pdu
from smsgw.protocols.smgp30.status import VERSION_30, LoginMode, Status
from smsgw.session.auth_smgp import authenticator_server, client_is_authentic
from smsgw.session.carrier_events import Event, RequestAnswered, RequestTimedOut, SubmitReceived
from smsgw.session.carrier_peer import NotReady, State
from smsgw.session.carrier_window import CarrierTimers, Pending
from smsgw.session.report_smgp import SmgpReport, build_report
from smsgw.session.smgp_peer import ALWAYS, MSG_ID_SIZE, SmgpPeer

_NO_AUTHENTICATOR = bytes(16)


@attrs.frozen
class LoginRequested:
    """An SP's Login, to accept (``accept_login``) or refuse (``refuse_login``)."""

    sequence: int
    client_id: str
    authenticator: bytes
    login_mode: int
    time_stamp: int
    version: int

    def is_authentic(self, secret: str | bytes) -> bool:
        """Whether AuthenticatorClient was made with ``secret`` (constant time)."""
        return client_is_authentic(self.client_id, secret, self.time_stamp, self.authenticator)


class SmgpServerSession(SmgpPeer):
    """One SP connection to our SMGW simulator; see the module docstring.

    Events: ``LoginRequested``, ``SubmitReceived``, ``RequestAnswered``,
    ``RequestTimedOut``, ``ProtocolErrorReceived``, ``LinkLost``.
    """

    PEER_REQUESTS = {
        State.OPEN: ALWAYS | {"login"}, State.LOGGING_IN: ALWAYS,
        State.ACTIVE: ALWAYS | {"submit"}, State.CLOSING: ALWAYS,
    }

    def __init__(self, now: float, timers: CarrierTimers | None = None, server_version: int = VERSION_30) -> None:
        super().__init__(now, timers, VERSION_30)
        self.server_version = server_version
        self.client_id: str | None = None
        self.login_mode: LoginMode | None = None
        #: Submits handed to the application and not yet answered
        self.awaiting: set[int] = set()
        self._login: LoginRequested | None = None
        self._request_handlers.update(login=self._on_login, submit=self._on_submit)

    # ------------------------------------------------------------------ login

    def _on_login(self, pdu: Pdu, now: float) -> list[Event]:
        f = pdu.fields
        if f["client_version"] > self.server_version:
            self._login_resp(pdu.sequence, Status.VERSION_TOO_HIGH, _NO_AUTHENTICATOR)
            return [self._lose(f"client version 0x{f['client_version']:02x} too high")]
        if f["login_mode"] not in tuple(LoginMode):
            self._login_resp(pdu.sequence, Status.MESSAGE_STRUCTURE, _NO_AUTHENTICATOR)
            return [self._lose(f"login mode {f['login_mode']}")]
        self.state = State.LOGGING_IN
        self._login = LoginRequested(pdu.sequence, f["client_id"], f["authenticator_client"], f["login_mode"],
                                     f["time_stamp"], f["client_version"])
        return [self._login]

    def accept_login(self, sequence: int, secret: str | bytes) -> None:
        """Accept the Login of ``LoginRequested`` (after checking ``is_authentic``)."""
        login = self._login
        if self.state is not State.LOGGING_IN or login is None or login.sequence != sequence:
            return
        self._login_resp(sequence, Status.OK, authenticator_server(Status.OK, login.authenticator, secret))
        self.state = State.ACTIVE
        self.client_id = login.client_id
        self.login_mode = LoginMode(login.login_mode)
        self._use_version(login.version)

    def refuse_login(self, sequence: int, status: int = Status.AUTHENTICATION) -> None:
        """Refuse it: Login_Resp with ``status`` and a zero authenticator, then close (check ``closed``)."""
        if self.state is not State.LOGGING_IN or self._login is None or self._login.sequence != sequence:
            return
        self._login_resp(sequence, status, _NO_AUTHENTICATOR)
        self._lose("login refused")

    def _login_resp(self, sequence: int, status: int, authenticator: bytes) -> None:
        self._respond(Pdu("login", sequence), status,
                      {"authenticator_server": authenticator, "server_version": self.server_version})

    # ------------------------------------------------------------------ submits

    def _on_submit(self, pdu: Pdu, now: float) -> list[Event]:
        if self.login_mode is LoginMode.RECEIVE:
            self._respond(pdu, Status.COMMAND_WORD)  # a receive-only link may not submit
            return []
        if len(self.awaiting) >= self.timers.window or pdu.sequence in self.awaiting:
            self._respond(pdu, Status.SYSTEM_BUSY)
            return []
        self.awaiting.add(pdu.sequence)
        return [SubmitReceived(pdu.sequence, pdu.fields)]

    def respond_submit(self, sequence: int, status: int = Status.OK, msg_id: bytes = bytes(MSG_ID_SIZE)) -> None:
        """Answer a ``SubmitReceived`` once; ``msg_id`` (10 bytes) is the carrier id of the MT."""
        if sequence not in self.awaiting:
            return
        self.awaiting.discard(sequence)
        if self.state is State.CLOSED:
            return
        self._respond(Pdu("submit", sequence), status, {"msg_id": msg_id})

    # ------------------------------------------------------------------ delivers

    def can_deliver(self) -> bool:
        return (self.state is State.ACTIVE and self.login_mode is not LoginMode.SEND
                and not self._window.full)

    def deliver(self, fields: dict[str, Any], now: float) -> int | None:
        """Send a Deliver (MO, or a report with ``is_report`` 1); None when the window is full."""
        if self.state is not State.ACTIVE or self.login_mode is LoginMode.SEND:
            raise NotReady(f"deliver in state {self.state.value}, login mode {self.login_mode}")
        if self._window.full:
            return None
        return self._request("deliver", fields, now)

    def deliver_report(self, msg_id: bytes, report: SmgpReport, recipient: str, sp_number: str,
                       recv_time: str, now: float) -> int | None:
        """Send ``report`` as the standard 122-byte report text (SMGP-09) in a Deliver with its own ``msg_id``."""
        return self.deliver({
            "msg_id": msg_id, "is_report": 1, "msg_format": 0, "recv_time": recv_time,
            "src_term_id": recipient, "dest_term_id": sp_number, "msg_content": build_report(report),
        }, now)

    def _answered_request(self, pending: Pending, response: Pdu, now: float) -> list[Event]:
        return [RequestAnswered(pending.sequence, pending.command, response["status"])]

    def _gave_up(self, pending: Pending) -> Event:
        return RequestTimedOut(pending.sequence, pending.command, pending.fields)

    # ------------------------------------------------------------------ login timeout

    def _timer_deadline(self) -> float | None:
        if self.state in (State.OPEN, State.LOGGING_IN):
            return self._opened + self.timers.login_timeout
        return super()._timer_deadline()

    def _on_timers(self, now: float) -> list[Event]:
        if self.state in (State.OPEN, State.LOGGING_IN):
            if now >= self._opened + self.timers.login_timeout:
                return [self._lose("no login in time")]
            return []
        return super()._on_timers(now)
