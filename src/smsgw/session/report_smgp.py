"""SMGP 3.0 status reports and MsgIDs (smgp.md sections 10 and 11; spec 6.2.63 and 6.2.26).

A report is a Deliver with IsReport = 1 whose MsgContent is SMPP-appendix-B
text with a BINARY id: ``id:`` + the 10 raw MsgID bytes of the Submit_Resp,
then ``sub: dlvrd: submit date: done date: stat: err: text:``.  We emit the
standard 122-byte form (SMGP-09); real gateways vary (SMGP-10: no space before
``sub:``, ``submit_date``, ``txt:``, 110 bytes), so parsing takes the 10 bytes
after ``id:`` and then finds each label case-insensitively, accepting space,
underscore or nothing inside the date labels, and reads at most the standard
width after each colon.

MsgIDs are 10 bytes, BCD in the spec (gateway code 6 digits, MMDDHHMM, sequence
6 digits) but opaque binary in the wild, so they are rendered as 20 hex digits
(the BCD digits themselves when the id is BCD).
"""

from __future__ import annotations

import re
from datetime import datetime

import attrs

#: length of the report text when emitted exactly as the spec lays it out
REPORT_LENGTH = 122
MSG_ID_SIZE = 10
TEXT_SIZE = 20


class ReportFormatError(ValueError):
    """The content is not a status report we can read (no ``id:`` + 10 bytes, or no ``stat:``)."""


@attrs.frozen
class SmgpReport:
    """One SMGP status report.  Text values are as on the wire (``stat`` "DELIVRD", ``err`` "000")."""

    msg_id: bytes  # raw 10 bytes: the MsgID of the Submit_Resp
    sub: str
    dlvrd: str
    submit_date: str  # YYMMDDhhmm
    done_date: str  # YYMMDDhhmm
    stat: str
    err: str
    text: bytes  # raw: 3 ASCII digits of the original length + its first 17 bytes, NUL-padded


# label -> (regex, width of its value in the standard form)
_LABELS: dict[str, tuple[re.Pattern[bytes], int]] = {
    "sub": (re.compile(rb"sub:", re.I), 3),
    "dlvrd": (re.compile(rb"dlvrd:", re.I), 3),
    "submit_date": (re.compile(rb"submit[ _]?date:", re.I), 10),
    "done_date": (re.compile(rb"done[ _]?date:", re.I), 10),
    "stat": (re.compile(rb"stat:", re.I), 7),
    "err": (re.compile(rb"err:", re.I), 3),
}
_TEXT_LABEL = re.compile(rb"te?xt:", re.I)
_VALUE_END = re.compile(rb"[\s\x00]")


def parse_report(content: bytes) -> SmgpReport:
    """Read a report's MsgContent, standard or one of the real-world variants."""
    content = bytes(content)
    if len(content) < 3 + MSG_ID_SIZE or content[:3].lower() != b"id:":
        raise ReportFormatError("a report starts with 'id:' and 10 MsgID bytes")
    msg_id = content[3:3 + MSG_ID_SIZE]
    rest = content[3 + MSG_ID_SIZE:]
    # the text comes last and may contain anything: labels are only looked for before it
    text_label = _TEXT_LABEL.search(rest)
    head, text = (rest[:text_label.start()], rest[text_label.end():]) if text_label else (rest, b"")
    found = {name: m for name, (rx, _) in _LABELS.items() if (m := rx.search(head))}
    if "stat" not in found:
        raise ReportFormatError("no 'stat:' in the report")
    starts = sorted(m.start() for m in found.values())
    values: dict[str, str] = {}
    for name, (_, width) in _LABELS.items():
        m = found.get(name)
        if m is None:
            values[name] = ""
            continue
        # a value ends at its standard width, the next label, or the first space/NUL
        end = min([m.end() + width, *(s for s in starts if s >= m.end())])
        raw = head[m.end():end]
        cut = _VALUE_END.search(raw)
        values[name] = (raw[:cut.start()] if cut else raw).decode("latin-1")
    return SmgpReport(msg_id=msg_id, sub=values["sub"], dlvrd=values["dlvrd"], submit_date=values["submit_date"],
                      done_date=values["done_date"], stat=values["stat"], err=values["err"], text=text)


def _exact(name: str, value: str, width: int) -> bytes:
    raw = value.encode("ascii")
    if len(raw) != width:
        raise ValueError(f"report {name} must be {width} characters, not {value!r}")
    return raw


def build_report(report: SmgpReport) -> bytes:
    """The standard 122-byte report text (for our SMGW simulator), as SMGP-09 carries it."""
    if len(report.msg_id) != MSG_ID_SIZE:
        raise ValueError("MsgID is 10 bytes")
    if len(report.text) > TEXT_SIZE:
        raise ValueError(f"report text is at most {TEXT_SIZE} bytes")
    return b"".join((
        b"id:", bytes(report.msg_id),
        b" sub:", _exact("sub", report.sub, 3),
        b" dlvrd:", _exact("dlvrd", report.dlvrd, 3),
        b" submit date:", _exact("submit_date", report.submit_date, 10),
        b" done date:", _exact("done_date", report.done_date, 10),
        b" stat:", _exact("stat", report.stat, 7),
        b" err:", _exact("err", report.err, 3),
        b" text:", bytes(report.text).ljust(TEXT_SIZE, b"\0"),
    ))


def report_text(original: bytes) -> bytes:
    """The 20-byte ``text:`` value: the original length as 3 ASCII digits, then its first 17 bytes."""
    return (b"%03d" % min(len(original), 999) + bytes(original[:17])).ljust(TEXT_SIZE, b"\0")


# ---------------------------------------------------------------- MsgID (smgp.md 10)

@attrs.frozen
class MsgIdParts:
    """The fields of a BCD MsgID: gateway code (area code + "06" + sequence digit), MMDDHHMM, sequence."""

    gateway: str
    month: int
    day: int
    hour: int
    minute: int
    sequence: int


def msg_id_to_text(msg_id: bytes) -> str:
    """20 lowercase hex digits: the decimal digits for a BCD id, still unique for a binary one."""
    if len(msg_id) != MSG_ID_SIZE:
        raise ValueError("MsgID is 10 bytes")
    return bytes(msg_id).hex()


def msg_id_from_text(text: str) -> bytes:
    """The inverse of ``msg_id_to_text`` (either case)."""
    if not re.fullmatch(r"[0-9a-fA-F]{20}", text):
        raise ValueError(f"an SMGP MsgID is 20 hex digits, not {text!r}")
    return bytes.fromhex(text)


def make_msg_id(gateway: str, when: datetime, sequence: int) -> bytes:
    """A BCD MsgID as an SMGW issues it (for our simulator): 010061, Jan 16 17:00, 12345 -> 01006101161700012345."""
    if not re.fullmatch(r"[0-9]{6}", gateway):
        raise ValueError(f"gateway code is 6 digits, not {gateway!r}")
    if not 0 <= sequence <= 999999:
        raise ValueError(f"sequence is 0-999999, not {sequence}")
    return bytes.fromhex(f"{gateway}{when:%m%d%H%M}{sequence:06d}")


def msg_id_parts(msg_id: bytes) -> MsgIdParts | None:
    """The BCD fields of a MsgID, or ``None`` when it is not BCD (binary ids exist, SMGP-10)."""
    digits = msg_id_to_text(msg_id)
    if not digits.isdigit():
        return None
    return MsgIdParts(gateway=digits[:6], month=int(digits[6:8]), day=int(digits[8:10]), hour=int(digits[10:12]),
                      minute=int(digits[12:14]), sequence=int(digits[14:]))
