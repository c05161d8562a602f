"""CMPP status reports and Msg_Id values (cmpp.md sections 5.8 and 7).

A report travels as the ``msg_content`` of a DELIVER with
``registered_delivery`` 1.  Its layout is chosen by its LENGTH, not by the
negotiated version: 60 bytes is the 2.0 layout (21-byte Dest_terminal_Id),
71 bytes the 3.0 layout (32 bytes); gateways send the 60-byte form inside
CMPP 3.0 (vector CMPP-18).  The layouts are the ``REPORT`` structs of the
``cmpp20`` / ``cmpp30`` tables.

Msg_Id is a 64-bit integer with a bit layout (spec 8.4.3.2).  Its canonical
text form, used wherever a carrier id is stored or shown (database key, logs,
manhole), is **16 lowercase hex digits** (``b2b9da8000010000``): fixed width,
lossless, and the month/day/time/gateway fields can be read off it by eye;
see ``msg_id_text`` / ``parse_msg_id``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import attrs

from smsgw.codec import DecodeError, EncodeError, StructCodec
from smsgw.protocols import cmpp20, cmpp30
from smsgw.protocols.cmpp20 import status


@attrs.frozen
class CmppReport:
    """One decoded status report (cmpp.md 5.8)."""

    #: the Msg_Id the ISMG gave the original MT in its SUBMIT_RESP
    msg_id: int
    #: raw Stat: DELIVRD, UNDELIV, ... or a gateway code such as "MA:0001" (kept as sent)
    stat: str
    #: YYMMDDHHMM as sent (not parsed: real gateways send odd values such as 0001010000)
    submit_time: str
    done_time: str
    dest_terminal_id: str
    smsc_sequence: int

    @property
    def delivered(self) -> bool:
        """Only DELIVRD means success; every other Stat is a failure (cmpp.md 5.8)."""
        return self.stat == status.STAT_DELIVERED


class ReportError(ValueError):
    """A report content that cannot be read; ``result`` is the DELIVER_RESP Result to answer."""

    def __init__(self, reason: str, result: int):
        self.reason = reason
        self.result = result
        super().__init__(reason)


_LAYOUTS = {
    cmpp20.REPORT_SIZE: StructCodec(cmpp20.REPORT, "cmpp20", status.LENGTH_ERROR),
    cmpp30.REPORT_SIZE: StructCodec(cmpp30.REPORT, "cmpp30", status.LENGTH_ERROR),
}
#: the report size each version sends (what we emit as a simulated ISMG)
REPORT_SIZE = {"cmpp20": cmpp20.REPORT_SIZE, "cmpp30": cmpp30.REPORT_SIZE}


def decode_report(content: bytes) -> CmppReport:
    """Read a report from a DELIVER's ``msg_content``, choosing the layout by its length."""
    layout = _LAYOUTS.get(len(content))
    if layout is None:
        raise ReportError(
            f"a status report is {' or '.join(map(str, sorted(_LAYOUTS)))} bytes, not {len(content)}",
            status.LENGTH_ERROR,
        )
    try:
        fields = layout.decode(bytes(content))
    except DecodeError as x:  # cannot happen for fixed-width latin-1 fields, but say so if it does
        raise ReportError(x.reason, status.LENGTH_ERROR) from None
    return CmppReport(**fields)


def encode_report(report: CmppReport, size: int) -> bytes:
    """The report content in the layout of ``size`` bytes (60 for CMPP 2.0, 71 for 3.0).

    Raises ``ValueError`` when a field does not fit (e.g. a 32-digit number in
    the 60-byte layout).
    """
    layout = _LAYOUTS.get(size)
    if layout is None:
        raise ValueError(f"no report layout of {size} bytes")
    try:
        return layout.encode(attrs.asdict(report))
    except EncodeError as x:
        raise ValueError(f"report does not fit the {size}-byte layout: {x}") from None


def describe_stat(stat: str) -> str:
    """A human-readable meaning of a Stat value, for logs and the web centre."""
    if stat in status.REPORT_STAT:
        return status.REPORT_STAT[stat]
    prefix, colon, _ = stat.partition(":")
    if colon and prefix in status.REPORT_STAT_PREFIX:
        return f"{status.REPORT_STAT_PREFIX[prefix]} ({stat})"
    return f"unrecognised status {stat!r}"


# Msg_Id (cmpp.md 7)

@attrs.frozen
class MsgIdParts:
    """The fields of a Msg_Id (cmpp.md 7; bit 63 is the most significant)."""

    month: int  # bits 63..60, 1-12
    day: int  # bits 59..55, 1-31
    hour: int  # bits 54..50
    minute: int  # bits 49..44
    second: int  # bits 43..38
    gateway: int  # bits 37..16: ISMG code as an integer, e.g. "001001" -> 1001
    sequence: int  # bits 15..0, wraps


# (name, lowest bit, width), most significant first
_MSG_ID_LAYOUT = (
    ("month", 60, 4),
    ("day", 55, 5),
    ("hour", 50, 5),
    ("minute", 44, 6),
    ("second", 38, 6),
    ("gateway", 16, 22),
    ("sequence", 0, 16),
)


def unpack_msg_id(msg_id: int) -> MsgIdParts:
    """Split a Msg_Id into its fields (no range check: real gateways break the layout)."""
    if not 0 <= msg_id < 1 << 64:
        raise ValueError(f"Msg_Id {msg_id} is not a 64-bit unsigned integer")
    values: dict[str, Any] = {name: (msg_id >> low) & ((1 << width) - 1) for name, low, width in _MSG_ID_LAYOUT}
    return MsgIdParts(**values)


def pack_msg_id(parts: MsgIdParts) -> int:
    """Build a Msg_Id; raises ``ValueError`` when a field does not fit its bits."""
    out = 0
    for name, low, width in _MSG_ID_LAYOUT:
        value = getattr(parts, name)
        if not 0 <= value < 1 << width:
            raise ValueError(f"Msg_Id {name} {value} does not fit {width} bits")
        out |= value << low
    return out


def make_msg_id(when: datetime, gateway: int, sequence: int) -> int:
    """The Msg_Id an ISMG assigns at ``when`` (its local time) for its ``sequence`` number."""
    return pack_msg_id(MsgIdParts(
        when.month, when.day, when.hour, when.minute, when.second, gateway, sequence & 0xFFFF,
    ))


def msg_id_text(msg_id: int) -> str:
    """The canonical text form: 16 lowercase hex digits."""
    if not 0 <= msg_id < 1 << 64:
        raise ValueError(f"Msg_Id {msg_id} is not a 64-bit unsigned integer")
    return f"{msg_id:016x}"


_HEX16 = re.compile(r"[0-9a-f]{16}")


def parse_msg_id(text: str) -> int:
    """The inverse of ``msg_id_text``; only the canonical form is accepted."""
    if not _HEX16.fullmatch(text):
        raise ValueError(f"{text!r} is not a Msg_Id in canonical form (16 lowercase hex digits)")
    return int(text, 16)
