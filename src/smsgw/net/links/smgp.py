"""SMGP 3.0 link driver: ``SmgpClientSession`` behind the uniform driver interface.

The SP logs in with the link's LoginMode (2, transmit, by default: MT, MO and
reports on one connection; smgp.md 1) and ClientVersion (0x13 drops FixedFee
from the Submit, smgp.md 5).  Translation (carrier_events -> ``driver``
events): ``LoggedIn`` -> ``Ready``, ``LoginRefused`` -> ``LoginFailed``,
``SubmitAnswered`` -> ``Answered`` (MsgID as 20 hex digits),
``SubmitTimedOut`` -> ``GaveUp``, ``ReportReceived`` -> ``ReportIn`` (raw stat
and err; the session has already dropped ACCEPTD/ENROUTE), ``DeliverReceived``
-> ``MoIn``, ``LinkLost`` -> ``Closed``.  Active_Test keep-alive is the session's.
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
from smsgw.session.carrier_events import (
    DeliverReceived, LinkLost, LoggedIn, LoginRefused, ProtocolErrorReceived, ReportReceived, SubmitAnswered,
    SubmitTimedOut,
)
from smsgw.session.carrier_peer import NotReady
from smsgw.session.carrier_window import CarrierTimers
from smsgw.session.smgp_client import SmgpClientSession
from smsgw.session.smgp_peer import status_meaning


def describe(code: int) -> str:
    return f"{status_meaning(code)} (Status {code})"


def carrier_timers(config: LinkConfig) -> CarrierTimers:
    return CarrierTimers(window=config.window, response_timeout=config.response_timeout, max_sends=config.max_sends,
                         active_test_interval=config.active_test_interval, idle_timeout=config.idle_timeout,
                         login_timeout=config.response_timeout)


def _ready(e: LoggedIn) -> WireEvent:
    note = "" if e.authentic in (None, True) else "; AuthenticatorServer did not match (ignored, smgp.md 4.2)"
    return Ready(f"server version 0x{e.version or 0:02x}{note}")


def _mo(e: DeliverReceived) -> WireEvent:
    return MoIn(e.source, e.destination, e.coding, e.content, e.udhi, e.carrier_message_id,
                {"received": e.received, **dict(e.extras)})


_TRANSLATE: Mapping[type, Callable[[Any], WireEvent]] = {
    LoggedIn: _ready,
    LoginRefused: lambda e: LoginFailed(e.status, e.reason),
    SubmitAnswered: lambda e: Answered(e.sequence, e.result, e.message_id, describe(e.result)),
    SubmitTimedOut: lambda e: GaveUp(e.sequence),
    ReportReceived: lambda e: ReportIn(e.message_id, e.stat, e.err, e.recipient, e.submit_date, e.done_date),
    DeliverReceived: _mo,
    LinkLost: lambda e: Closed(e.reason, e.clean),
    ProtocolErrorReceived: lambda e: Problem(f"bad PDU from the SMGW: {e.error}"),
}


class SmgpDriver(SessionDriverBase):
    TRANSLATE = _TRANSLATE

    """One SP connection to an SMGW (``LinkDriver``)."""

    def __init__(self, config: LinkConfig, now: float) -> None:
        self.session = SmgpClientSession(config.login, config.secret, now, login_mode=config.smgp_login_mode,
                                         version=config.smgp_version, timers=carrier_timers(config),
                                         throttle_statuses=config.throttles)

    @property
    def closed(self) -> bool:
        return self.session.closed

    def open(self, now: float, wall: datetime) -> list[WireEvent]:
        self.session.login(now, wall)
        return []

    def can_submit(self) -> bool:
        return self.session.can_submit()

    def submit(self, fields: dict[str, Any], now: float) -> Any | None:
        try:
            return self.session.submit(fields, now)
        except (EncodeError, ValueError, NotReady) as x:
            raise SubmitError("local:encode", str(x)) from None

    def pending_id(self, key: Any) -> str | None:
        return None  # the MsgID comes with Submit_Resp

    def close(self, now: float) -> list[WireEvent]:
        self.session.exit(now)
        return []


