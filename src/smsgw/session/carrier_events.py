"""Events of the carrier sessions (SGIP 1.2, SMGP 3.0), named as past facts.

The same classes come out of every protocol so that a link (net layer) or a
simulator can drive any carrier the same way; protocol-specific detail stays in
plain fields (``extras``) or in the few protocol-only events defined next to
their session (SGIP ``BindRequested``/``UserReported``, SMGP ``LoginRequested``).

Carrier message ids are TEXT, the canonical form the store keeps:
SGIP the Submit's sequence triple as 30 digits (``sgip_sequence.format_message_id``),
SMGP the 10-byte MsgID as 20 hex digits (``report_smgp.msg_id_to_text``).
"""

from __future__ import annotations

from typing import Any, Mapping

import attrs

from smsgw.codec import DecodeError
from smsgw.domain.model import MessageState
from smsgw.session.carrier_window import Sequence

# ------------------------------------------------------------ connecting side (we are the SP)


@attrs.frozen
class LoggedIn:
    """Our Login/Bind was accepted; submits may flow."""

    #: SMGP: the ServerVersion byte; SGIP: None
    version: int | None = None
    #: SMGP: whether AuthenticatorServer matched our secret.  Informational only: real
    #: gateways and mocks send junk there (smgp.md 4.2), so a mismatch does not fail the login.
    authentic: bool | None = None


@attrs.frozen
class LoginRefused:
    """The carrier refused our Login/Bind (the connection is then closed: ``LinkLost`` follows)."""

    status: int
    reason: str


@attrs.frozen
class SubmitAnswered:
    """The carrier answered one of our submits.

    ``message_id`` is the carrier's id for the MT (present only when ``result`` is 0);
    ``throttled`` marks the carrier's "slow down" answer (SGIP 11, SMGP 1): the
    segment was NOT taken, back off and submit it again later.
    """

    sequence: Sequence
    result: int
    message_id: str | None
    throttled: bool = False

    @property
    def accepted(self) -> bool:
        return self.result == 0


@attrs.frozen(hash=False)
class SubmitTimedOut:
    """A submit got no answer after the last resend; the caller re-queues ``fields``."""

    sequence: Sequence
    fields: dict[str, Any]


@attrs.frozen(hash=False)
class DeliverReceived:
    """A mobile-originated message (already answered with success)."""

    #: the handset that sent it
    source: str
    #: the service number (with our extension digits) it was sent to
    destination: str
    #: the carrier's coding byte (0 ASCII, 8 UCS2, 15 GBK/GB18030, ...)
    coding: int
    content: bytes
    #: content starts with a UDH (long MO part)
    udhi: bool
    #: the carrier's id of this MO, as text
    carrier_message_id: str | None
    #: the carrier's receive time as sent (SMGP RecvTime YYYYMMDDHHMMSS), "" if none
    received: str = ""
    #: everything else the PDU carried (tp_pid, link_id, TLVs ...)
    extras: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class ReportReceived:
    """A final status report for one of our MTs (already answered with success).

    ``message_id`` equals the ``SubmitAnswered.message_id`` of that MT.  Reports that
    are not final (SGIP State 1, SMGP ACCEPTD/ENROUTE) are answered but produce no event.
    """

    message_id: str
    state: MessageState  # DELIVERED, UNDELIVERED or EXPIRED
    #: the carrier's own words: SMGP "DELIVRD"/"UNDELIV"...; SGIP the State as a digit
    stat: str
    #: SMGP "000".."999"; SGIP the ErrorCode in decimal
    err: str
    #: the handset the MT went to
    recipient: str
    submit_date: str = ""
    done_date: str = ""


# ------------------------------------------------------------ accepting side (our carrier simulators)


@attrs.frozen(hash=False)
class SubmitReceived:
    """A submit to answer with the session's ``respond_submit``."""

    sequence: Sequence
    fields: dict[str, Any]


@attrs.frozen
class RequestAnswered:
    """The peer answered one of our delivers/reports/user reports."""

    sequence: Sequence
    command: str
    result: int


@attrs.frozen(hash=False)
class RequestTimedOut:
    """One of our delivers/reports got no answer after the last resend; re-queue ``fields``."""

    sequence: Sequence
    command: str
    fields: dict[str, Any]


# ------------------------------------------------------------ both sides


@attrs.frozen
class ProtocolErrorReceived:
    """The peer sent something we could not accept; already answered as the error says."""

    error: DecodeError


@attrs.frozen(hash=False)
class LinkLost:
    """The session is over: close the transport (after writing ``data_to_send()``).

    ``clean`` is True for an orderly end (Exit/Unbind answered, idle unbind).
    ``unanswered`` lists the requests that never got a response, as
    ``(command, sequence, fields)``: a link re-queues its submits, a simulator
    its delivers/reports.  They may or may not have reached the peer.
    """

    reason: str
    clean: bool = False
    unanswered: tuple[tuple[str, Sequence, dict[str, Any]], ...] = ()


Event = Any  # one of the classes above (or a protocol-only event)
