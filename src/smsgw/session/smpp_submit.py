"""Turn an SMPP submit_sm / data_sm into a ``Submission``: text, carrier segments, times.

What the client sent is decoded according to its data_coding (with what dc 0
means for that client passed in), and re-encoded the way the Chinese carriers
take it (ASCII or UCS2, binary passed through; ``domain.coding.choose_coding``),
so the segments stored are the segments billed and sent.  Long messages come
in three forms (smpp-notes.md section 11): the client's own UDH parts (esm_class
0x40: one submit_sm per part, the concatenation kept), sar_* TLVs (turned into
a UDH), or one message_payload (split here).  Every refusal names the SMPP
status to answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from smsgw.codec import Pdu
from smsgw.domain import coding as text_coding
from smsgw.domain.coding import Coding, CodingError
from smsgw.domain.segments import SegmentationError, split
from smsgw.domain.udh import Concat, UdhError, concat_udh, parse_concat
from smsgw.protocols.smpp34.status import CommandStatus as S
from smsgw.session.smpp_time import SmppTimeError, parse_time

ESM_UDHI = 0x40
#: the carriers' rules are the same for cmpp20/30, sgip12 and smgp30 (ASCII or UCS2)
_CARRIER_PROTOCOL = "cmpp30"


class SubmitRefused(Exception):
    """The submission cannot be accepted; ``status`` is the SMPP answer."""

    def __init__(self, status: int, reason: str):
        self.status = int(status)
        self.reason = reason
        super().__init__(reason)


@attrs.frozen
class Submission:
    """A client's message in our terms, ready for policies and the store."""

    source_addr: str
    dest_addr: str
    text: str | None               # None for binary content
    coding: Coding                 # the coding of ``segments`` (what carriers get)
    segments: tuple[bytes, ...]    # user data per segment, UDH included
    udhi: bool                     # segments start with a UDH
    registered_delivery: int
    priority: int
    validity_ms: int | None        # absolute expiry (ms since epoch) the client asked for
    schedule_ms: int | None        # not before (ms since epoch)
    client_concat: Concat | None   # set when the client sent one part of its own long message
    client_data_coding: int


def _ms(when: datetime | None) -> int | None:
    return None if when is None else int(when.timestamp() * 1000)


def read_submission(pdu: Pdu, now: datetime, *, dc0: Coding = Coding.GSM7, reference: int = 0) -> Submission:
    """Read a submit_sm or data_sm.  ``reference`` is the concatenation reference for messages we split."""
    f = pdu.fields
    tlvs: dict[Any, Any] = f.get("tlvs") or {}
    short_message: bytes = f.get("short_message", b"")
    payload = tlvs.get("message_payload")
    if payload is not None and short_message:
        raise SubmitRefused(S.ESME_RINVMSGLEN, "short_message and message_payload are both set")
    content: bytes = payload if payload is not None else short_message
    esm_class = f.get("esm_class", 0)
    if esm_class & 0x3C:
        raise SubmitRefused(S.ESME_RINVESMCLASS, f"esm_class 0x{esm_class:02x} is not a plain submission")
    data_coding = f.get("data_coding", 0)
    try:
        client_coding = text_coding.from_smpp_data_coding(data_coding, dc0=dc0)
    except (ValueError, CodingError) as x:
        raise SubmitRefused(S.ESME_RSUBMITFAIL, str(x)) from None

    concat: Concat | None = None
    body = content
    if esm_class & ESM_UDHI:
        try:
            concat, body = parse_concat(content)
        except UdhError as x:
            raise SubmitRefused(S.ESME_RINVESMCLASS, f"bad UDH: {x}") from None
    elif "sar_msg_ref_num" in tlvs or "sar_total_segments" in tlvs or "sar_segment_seqnum" in tlvs:
        try:
            ref = int(tlvs["sar_msg_ref_num"])
            concat = Concat(ref, int(tlvs["sar_total_segments"]), int(tlvs["sar_segment_seqnum"]),
                            8 if ref < 256 else 16)
        except (KeyError, UdhError) as x:
            raise SubmitRefused(S.ESME_RINVOPTPARAMVAL, f"incomplete or bad sar_* parameters: {x}") from None

    text: str | None
    if client_coding is Coding.BINARY:
        text = None
        target = Coding.BINARY
    else:
        try:
            text = text_coding.decode(body, client_coding)
        except (CodingError, UnicodeDecodeError, ValueError) as x:
            raise SubmitRefused(S.ESME_RINVMSGLEN, f"text does not decode as {client_coding.name}: {x}") from None
        target = text_coding.choose_coding(text, _CARRIER_PROTOCOL)

    if concat is not None:
        # one part of the client's own long message: keep its concatenation, re-encode the part
        part = body if text is None else text_coding.encode(text, target)
        segments: tuple[bytes, ...] = (concat_udh(concat) + part,)
        if len(segments[0]) > 140 and not (target is Coding.ASCII and len(segments[0]) < 160):
            raise SubmitRefused(S.ESME_RINVMSGLEN, f"part of {len(segments[0])} octets exceeds one segment")
        udhi = True
    else:
        try:
            parts = split(text if text is not None else body, target, reference & 0xFF)
        except SegmentationError as x:
            raise SubmitRefused(S.ESME_RINVMSGLEN, str(x)) from None
        segments = tuple(p.user_data for p in parts)
        udhi = len(parts) > 1
    try:
        validity = parse_time(f.get("validity_period", ""), now, "validity_period")
    except SmppTimeError as x:
        raise SubmitRefused(S.ESME_RINVEXPIRY, str(x)) from None
    try:
        schedule = parse_time(f.get("schedule_delivery_time", ""), now, "schedule_delivery_time")
    except SmppTimeError as x:
        raise SubmitRefused(S.ESME_RINVSCHED, str(x)) from None
    if validity is not None and validity <= now:
        raise SubmitRefused(S.ESME_RINVEXPIRY, "validity period already over")

    registered_delivery = f.get("registered_delivery", 0)
    if registered_delivery & 0x03 == 0x03:
        raise SubmitRefused(S.ESME_RINVREGDLVFLG, "registered_delivery receipt bits 11 are reserved")
    priority = f.get("priority_flag", 0)
    if priority > 3:
        raise SubmitRefused(S.ESME_RINVPRTFLG, f"priority_flag {priority} is not 0-3")

    return Submission(
        source_addr=f.get("source_addr", ""),
        dest_addr=f.get("destination_addr", ""),
        text=text,
        coding=target,
        segments=segments,
        udhi=udhi,
        registered_delivery=registered_delivery,
        priority=priority,
        validity_ms=_ms(validity),
        schedule_ms=_ms(schedule),
        client_concat=concat,
        client_data_coding=data_coding,
    )
