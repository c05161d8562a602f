"""SMPP delivery receipt text (spec appendix B; smpp-notes.md section 13).

We build exactly the de-facto format, lowercase labels::

    id:IIIIIIIIII sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:...

and parse what real SMSCs send, which varies: ids longer than 10 characters
and not decimal (SMPP-11, SMPP-12), "Text:" for "text:", 12-digit dates with
seconds, underscores in the date labels, fields missing.  Parsing is by labels:
a value runs to the next label, and everything after "text:" is the text.

The dates carry no zone: they are the SMSC's local wall-clock time and are
returned as naive datetimes (years 2000-2099); a date that cannot be read becomes ``None`` rather
than losing the receipt (what matters for matching is the id and the stat).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Mapping

import attrs

from smsgw.protocols.smpp34.constants import MessageState

__all__ = [
    "STATE_TO_STAT",
    "STAT_TO_STATE",
    "ReceiptError",
    "SmppReceipt",
    "format_receipt",
    "parse_receipt",
    "receipt_tlvs",
]

#: appendix B table B-2, plus ENROUTE which some SMSCs send for intermediate notifications
STAT_TO_STATE: Mapping[str, MessageState] = {
    "ENROUTE": MessageState.ENROUTE,
    "DELIVRD": MessageState.DELIVERED,
    "EXPIRED": MessageState.EXPIRED,
    "DELETED": MessageState.DELETED,
    "UNDELIV": MessageState.UNDELIVERABLE,
    "ACCEPTD": MessageState.ACCEPTED,
    "UNKNOWN": MessageState.UNKNOWN,
    "REJECTD": MessageState.REJECTED,
}
STATE_TO_STAT: Mapping[MessageState, str] = {state: stat for stat, state in STAT_TO_STATE.items()}

#: appendix B: "text" holds the first 20 characters of the original message
TEXT_LENGTH = 20


class ReceiptError(ValueError):
    """The text is not a delivery receipt (no id or no stat)."""


@attrs.frozen
class SmppReceipt:
    """The fields of a receipt text; ``err`` stays a string (often "000", sometimes a carrier code)."""

    id: str
    stat: str
    sub: int = 1
    dlvrd: int = 0
    submit_date: datetime | None = None
    done_date: datetime | None = None
    err: str = "000"
    text: str = ""

    @property
    def message_state(self) -> MessageState:
        """The message_state a stat word stands for (UNKNOWN for words outside table B-2)."""
        return STAT_TO_STATE.get(self.stat.upper(), MessageState.UNKNOWN)


# --------------------------------------------------------------------------- format


def _date(value: datetime | None) -> str:
    return "0000000000" if value is None else value.strftime("%y%m%d%H%M")


def format_receipt(receipt: SmppReceipt) -> str:
    """The receipt as we send it in deliver_sm's short_message (data_coding 0 or 1: ASCII)."""
    err = receipt.err.zfill(3) if receipt.err.isdigit() else receipt.err
    return (
        f"id:{receipt.id} sub:{receipt.sub:03d} dlvrd:{receipt.dlvrd:03d}"
        f" submit date:{_date(receipt.submit_date)} done date:{_date(receipt.done_date)}"
        f" stat:{receipt.stat} err:{err} text:{receipt.text[:TEXT_LENGTH]}"
    )


def receipt_tlvs(receipt: SmppReceipt, network_error_code: bytes | None = None) -> dict[str, Any]:
    """The TLVs that go with a receipt: receipted_message_id and message_state (5.3.2.12, 5.3.2.35)."""
    tlvs: dict[str, Any] = {"receipted_message_id": receipt.id, "message_state": int(receipt.message_state)}
    if network_error_code is not None:
        tlvs["network_error_code"] = network_error_code
    return tlvs


# --------------------------------------------------------------------------- parse

#: labels in any case, date labels with a space or an underscore, "txt" as SMGP-style gateways write it
_LABEL = re.compile(r"(?i)(?<![a-z_])(id|sub|dlvrd|submit[ _]date|done[ _]date|stat|err|text|txt):")
_NAMES = {"submit date": "submit_date", "done date": "done_date", "txt": "text"}


def _read_date(value: str) -> datetime | None:
    # YYMMDDhhmm, or YYMMDDhhmmss from SMSCs that add seconds; a receipt is about a message
    # sent this century, so YY is 20YY (strptime's %y would turn 69-99 into the 1900s)
    if len(value) not in (10, 12) or not value.isascii() or not value.isdigit():
        return None
    yy, month, day, hour, minute = (int(value[i:i + 2]) for i in range(0, 10, 2))
    second = int(value[10:12]) if len(value) == 12 else 0
    try:
        return datetime(2000 + yy, month, day, hour, minute, second)
    except ValueError:
        return None


def _read_count(value: str, default: int) -> int:
    return int(value) if value.isascii() and value.isdigit() else default


def parse_receipt(data: str | bytes, encoding: str = "latin-1") -> SmppReceipt:
    """Read a receipt text; raises ``ReceiptError`` when it has no id or no stat."""
    text = data.decode(encoding, errors="replace") if isinstance(data, (bytes, bytearray)) else data
    values: dict[str, str] = {}
    matches = list(_LABEL.finditer(text))
    for i, m in enumerate(matches):
        name = m.group(1).lower().replace("_", " ")
        name = _NAMES.get(name, name)
        if name in values:
            continue  # a later "id:" inside a value or the text does not override the first
        if name == "text":
            values["text"] = text[m.end():]
            break
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        values[name] = text[m.end():end].strip()
    if not values.get("id") or not values.get("stat"):
        raise ReceiptError(f"not a delivery receipt (needs id: and stat:): {text[:80]!r}")
    return SmppReceipt(
        id=values["id"],
        stat=values["stat"].upper(),
        sub=_read_count(values.get("sub", ""), 1),
        dlvrd=_read_count(values.get("dlvrd", ""), 0),
        submit_date=_read_date(values.get("submit_date", "")),
        done_date=_read_date(values.get("done_date", "")),
        err=values.get("err", "000"),
        text=values.get("text", ""),
    )
