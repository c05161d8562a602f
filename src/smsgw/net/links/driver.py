"""One carrier connection seen the same way whatever the protocol: the driver interface and its events.

Each protocol module (``cmpp``, ``sgip``, ``smgp``) wraps its committed
sans-IO client session in a driver that speaks this interface and translates
the session's events into the uniform events below, so that the connection
adapter (``connection``) and the group (``group``) never look at a protocol.
The CMPP and the SGIP/SMGP sessions come from different hands and differ in
their event classes (``msg_id`` vs ``message_id``, sequences vs triples); the
drivers are the one place that knows.

Keys: a submit is known by the key its session gave it (CMPP/SMGP
Sequence_Id, SGIP triple), only meaningful to the connection that sent it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Protocol

import attrs


# ------------------------------------------------------------------ uniform events

@attrs.frozen
class Ready:
    """Login accepted: submits may flow."""

    detail: str = ""


@attrs.frozen
class LoginFailed:
    """The carrier refused our login (wrong credentials, version, too many links...)."""

    code: int
    reason: str


@attrs.frozen
class Answered:
    """The carrier answered a submit: ``code`` 0 with ``carrier_msg_id``, or its refusal/throttle code."""

    key: Any
    code: int
    carrier_msg_id: str | None
    reason: str


@attrs.frozen
class GaveUp:
    """No answer to a submit after N sends (spec 7.1): it may or may not have reached the carrier."""

    key: Any


@attrs.frozen
class ReportIn:
    """A status report, answered by the session (the answer goes out once the report is stored,
    see ``connection``); ``stat``/``err`` are the carrier's words, unmapped."""

    carrier_msg_id: str
    stat: str
    err: str
    recipient: str
    submit_time: str = ""
    done_time: str = ""


@attrs.frozen(hash=False)
class MoIn:
    """A mobile-originated message, answered by the session (sent once stored, as for ``ReportIn``)."""

    source: str
    destination: str
    coding: int  # Msg_Fmt / MessageCoding / MsgFormat
    content: bytes
    udhi: bool
    carrier_msg_id: str | None
    extras: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Closed:
    """The session ended (the transport is closed next); ``clean`` after a polite goodbye or idle unbind."""

    reason: str
    clean: bool


@attrs.frozen
class Problem:
    """Something worth a log line (a PDU we could not accept; already answered)."""

    text: str


WireEvent = Ready | LoginFailed | Answered | GaveUp | ReportIn | MoIn | Closed | Problem


class SubmitError(Exception):
    """The session could not encode the submit (our side's fault); nothing was sent."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"{code}: {reason}")


# ------------------------------------------------------------------ the driver

class LinkDriver(Protocol):
    """A sans-IO client session behind the uniform interface (``now`` in clock seconds)."""

    @property
    def closed(self) -> bool:
        """The session has ended: close the transport after writing ``data_to_send()``."""

    def open(self, now: float, wall: datetime) -> list[WireEvent]:
        """Send the login (``wall``: carrier local time, timezone-aware)."""

    def can_submit(self) -> bool:
        """Logged in and the connection's window has room."""

    def submit(self, fields: dict[str, Any], now: float) -> Any | None:
        """Send a submit; its key, or None when the window is full.  Raises ``SubmitError``."""

    def pending_id(self, key: Any) -> str | None:
        """The carrier id a submit will get, when known before the answer (SGIP: its triple)."""

    def close(self, now: float) -> list[WireEvent]:
        """End the session politely (TERMINATE / Unbind / Exit), or at once before login."""

    def receive(self, data: bytes, now: float) -> list[WireEvent]: ...

    def tick(self, now: float) -> list[WireEvent]: ...

    def next_deadline(self) -> float | None: ...

    def data_to_send(self) -> bytes: ...


class SessionDriverBase:
    """What every driver does the same way: feed the sans-IO session, translate its events
    through the driver's ``TRANSLATE`` table (session event type → wire event)."""

    session: Any
    TRANSLATE: Mapping[type, Any]

    def receive(self, data: bytes, now: float) -> list[Any]:
        return self._translate(self.session.receive_data(data, now))

    def tick(self, now: float) -> list[Any]:
        return self._translate(self.session.tick(now))

    def next_deadline(self) -> float | None:
        return self.session.next_deadline()  # type: ignore[no-any-return]

    def data_to_send(self) -> bytes:
        return self.session.data_to_send()  # type: ignore[no-any-return]

    def _translate(self, events: list[Any]) -> list[Any]:
        return [self.TRANSLATE[type(e)](e) for e in events]
