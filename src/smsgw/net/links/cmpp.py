"""CMPP 2.0/3.0 link driver: ``CmppClientSession`` behind the uniform driver interface.

Translation (cmpp_client events -> ``driver`` events):
``LoggedIn`` -> ``Ready``; ``LoginRefused`` -> ``LoginFailed``;
``SubmitAnswered`` -> ``Answered`` (the Msg_Id as 16 hex digits, only for
Result 0); ``SubmitTimedOut`` -> ``GaveUp``; ``ReportReceived`` -> ``ReportIn``
(the raw Stat, no err: CMPP reports carry none); ``DeliverReceived`` -> ``MoIn``
(LinkID and Service_Id kept in extras); ``LinkLost`` -> ``Closed``;
``ProtocolErrorReceived`` -> ``Problem``.  The session itself resends after T,
gives up after N and probes an idle link with ACTIVE_TEST (cmpp.md 1).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Mapping

from smsgw.codec import EncodeError
from smsgw.net.links.config import LinkConfig
from smsgw.net.links.driver import (
    SessionDriverBase,
    Answered, Closed, GaveUp, LoginFailed, MoIn, Problem, Ready, ReportIn, SubmitError, WireEvent,
)
from smsgw.protocols.cmpp20.status import SUBMIT_RESULT
from smsgw.session.cmpp_client import (
    CmppClientSession, DeliverReceived, LinkLost, LoggedIn, LoginRefused, ProtocolErrorReceived, ReportReceived,
    State, SubmitAnswered, SubmitTimedOut, Timers,
)


def describe(code: int) -> str:
    known = SUBMIT_RESULT.get(code)
    return f"{known.meaning} (Result {code})" if known else f"Result {code}"


def _logged_in(e: LoggedIn) -> WireEvent:
    note = "" if e.authenticator_ok else "; AuthenticatorISMG did not match (ignored, cmpp.md 5.2)"
    return Ready(f"{e.protocol} version 0x{e.version:02x}{note}")


def _answered(e: SubmitAnswered) -> WireEvent:
    return Answered(e.sequence, e.result, e.msg_id if e.result == 0 else None, describe(e.result))


def _report(e: ReportReceived) -> WireEvent:
    return ReportIn(e.msg_id, e.stat, "", e.dest_terminal_id, e.submit_time, e.done_time)


def _mo(e: DeliverReceived) -> WireEvent:
    return MoIn(e.src_terminal_id, e.dest_id, e.msg_fmt, e.content, e.tp_udhi, e.msg_id,
                {"service_id": e.service_id, "tp_pid": e.tp_pid, "linkid": e.linkid,
                 "src_terminal_type": e.src_terminal_type})


_TRANSLATE: Mapping[type, Callable[[Any], WireEvent]] = {
    LoggedIn: _logged_in,
    LoginRefused: lambda e: LoginFailed(e.status, e.reason),
    SubmitAnswered: _answered,
    SubmitTimedOut: lambda e: GaveUp(e.sequence),
    ReportReceived: _report,
    DeliverReceived: _mo,
    LinkLost: lambda e: Closed(e.reason, e.clean),
    ProtocolErrorReceived: lambda e: Problem(f"bad PDU from the ISMG: {e.error}"),
}


class CmppDriver(SessionDriverBase):
    TRANSLATE = _TRANSLATE

    """One SP connection to an ISMG (``LinkDriver``)."""

    def __init__(self, config: LinkConfig, now: float) -> None:
        timers = Timers(active_test_interval=config.active_test_interval, response_timeout=config.response_timeout,
                        max_sends=config.max_sends, login_timeout=config.response_timeout)
        self.session = CmppClientSession(config.protocol, config.login, config.secret, now, timers=timers,
                                         window=config.window, version=config.cmpp_version)

    @property
    def closed(self) -> bool:
        return self.session.closed

    def open(self, now: float, wall: datetime) -> list[WireEvent]:
        self.session.connect(wall, now)
        return []

    def can_submit(self) -> bool:
        return self.session.state is State.ACTIVE and self.session.window_free > 0

    def submit(self, fields: dict[str, Any], now: float) -> Any | None:
        try:
            return self.session.submit(fields, now)
        except EncodeError as x:
            raise SubmitError("local:encode", str(x)) from None

    def pending_id(self, key: Any) -> str | None:
        return None  # the Msg_Id comes with SUBMIT_RESP

    def close(self, now: float) -> list[WireEvent]:
        return self._translate(self.session.terminate(now))


