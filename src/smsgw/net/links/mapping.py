"""A claimed segment in the carrier's terms: the submit fields of CMPP 2.0/3.0, SGIP 1.2 and SMGP 3.0.

Pure: the segment, the link's configuration, the account's extension (子号)
and the current time (carrier local, timezone-aware) go in; a dict of the
protocol table's SUBMIT fields comes out (cmpp.md 5.5, sgip.md 4.4, smgp.md
6.1).  What a refusal is our fault raises ``MappingError`` with a ``local:``
code, which the group turns into a final ``Refused``.

* Source number: the link's SP number + the account's extension, optionally
  followed by the client's own digits (``append_client_source``); at most 21
  digits, the width of every carrier's source field.
* Destination: one MSISDN per submit, "86"/"+86" stripped and the link's
  prefix put back (SGIP wants "86", sgip.md 7).
* Coding: the stored segment's data_coding (SMPP codes; the segments are
  already in a carrier coding: ASCII, UCS2, binary or GBK) becomes
  Msg_Fmt/MessageCoding/MsgFormat, with per-link overrides.
* Long messages: when esm_class has UDHI (0x40) the payload starts with a UDH;
  its concatenation element gives Pk_total/Pk_number (CMPP) or the
  PkTotal/PkNumber TLVs (SMGP); TP_udhi is set (cmpp.md 9, smgp.md 9).
* Report flag, validity (SMPP absolute time in carrier local time), priority,
  fees, service id, LinkID and the CMPP 3.0 terminal types come from the link.

The inbound helpers at the end read MO fields back into our terms.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from smsgw.domain.coding import Coding, CodingError, from_msg_fmt, from_smpp_data_coding, to_msg_fmt
from smsgw.domain.coding import to_smpp_data_coding
from smsgw.domain.model import ClaimedSegment
from smsgw.domain.udh import UdhError, parse_concat
from smsgw.net.links.config import CARRIER_TZ, LinkConfig
from smsgw.protocols.smgp30.status import VERSION_13
from smsgw.session.smpp_time import format_absolute

ESM_UDHI = 0x40
#: the widest source number any carrier field takes (CMPP Src_Id, SGIP SPNumber, SMGP SrcTermID)
SOURCE_WIDTH = 21
DEST_WIDTH = {"cmpp20": 21, "cmpp30": 32, "sgip12": 21, "smgp30": 21}
#: the highest priority each protocol has (CMPP Msg_level and SGIP Priority 0-9, SMGP 0-3)
PRIORITY_TOP = {"cmpp20": 9, "cmpp30": 9, "sgip12": 9, "smgp30": 3}

#: stored data_coding -> carrier coding code.  0 is read as ASCII: the stored segments are
#: already in a carrier coding, which has no GSM 7-bit (smpp_submit re-encodes).
_DEFAULT_MSG_FMT: Mapping[int, int] = {0: 0, 1: 0, 2: 4, 4: 4, 8: 8, 15: 15}


class MappingError(ValueError):
    """The segment cannot be put in a submit for this link (a final refusal, our side's)."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"{code}: {reason}")


# ---------------------------------------------------------------------------- the pieces

def source_number(config: LinkConfig, extension: str | None, client_source: str = "") -> str:
    """SP number + the account's extension (+ the client's digits when the link allows it)."""
    base = config.sp_number + (extension or "")
    number = base
    if config.append_client_source and client_source.isdigit():
        # a client that sends the full number (ours plus its own digits) is taken as it is
        number = client_source if client_source.startswith(base) else base + client_source
    if not number.isdigit():
        raise MappingError("local:source", f"source number {number!r} is not all digits")
    if len(number) > SOURCE_WIDTH:
        raise MappingError("local:source", f"source number {number} is longer than {SOURCE_WIDTH} digits")
    return number


def national_number(number: str) -> str:
    """A handset number without "+86"/"86" (11-digit mobile numbers only; others unchanged)."""
    digits = number.strip().lstrip("+")
    if len(digits) == 13 and digits.startswith("861"):
        return digits[2:]
    return digits


def destination(config: LinkConfig, dest_addr: str) -> str:
    number = national_number(dest_addr)
    if not number.isdigit():
        raise MappingError("local:destination", f"destination {dest_addr!r} is not a number")
    out = config.dest_prefix_text + number
    if len(out) > DEST_WIDTH[config.protocol]:
        raise MappingError("local:destination", f"destination {out} does not fit the field")
    return out


def msg_fmt(config: LinkConfig, data_coding: int) -> int:
    """The carrier coding code of a stored segment (cmpp.md 8, sgip.md 7, smgp.md 9)."""
    if data_coding in config.msg_fmt:
        return config.msg_fmt[data_coding]
    if data_coding in _DEFAULT_MSG_FMT:
        return _DEFAULT_MSG_FMT[data_coding]
    try:
        return to_msg_fmt(from_smpp_data_coding(data_coding, dc0=Coding.ASCII))
    except (CodingError, ValueError) as x:
        raise MappingError("local:coding", f"data_coding {data_coding}: {x}") from None


def concatenation(segment: ClaimedSegment) -> tuple[bool, int, int]:
    """(UDH present, Pk_total, Pk_number).  Without a concatenation element: the segment's own numbers."""
    if not segment.esm_class & ESM_UDHI:
        return False, 1, 1
    try:
        concat, _ = parse_concat(segment.payload)
    except UdhError as x:
        raise MappingError("local:udh", f"segment {segment.seq} of message {segment.message_id}: {x}") from None
    if concat is None:
        return True, max(1, segment.parts), max(1, segment.seq)
    return True, concat.total, concat.number


def wants_report(config: LinkConfig, registered_delivery: int) -> bool:
    """Ask the carrier for a report?  "always" by default: our own final states need it."""
    if config.registered_delivery == "always":
        return True
    if config.registered_delivery == "never":
        return False
    return registered_delivery & 0x03 in (1, 2)


def sgip_report_flag(config: LinkConfig, registered_delivery: int) -> int:
    """SGIP ReportFlag (sgip.md 4.4): 1 always, 0 only on failure, 2 never."""
    if config.registered_delivery == "always":
        return 1
    if config.registered_delivery == "never":
        return 2
    return {1: 1, 2: 0}.get(registered_delivery & 0x03, 2)


def validity(config: LinkConfig, expires_at: int, now: datetime) -> str:
    """ValId_Time as an SMPP absolute time in carrier local time ("" when the link sends none)."""
    if not config.validity:
        return ""
    until = datetime.fromtimestamp(expires_at / 1000, CARRIER_TZ)
    if until <= now:
        raise MappingError("local:expired", f"the message expired at {until:%Y-%m-%d %H:%M:%S}")
    if config.max_validity_s is not None:
        until = min(until, now + timedelta(seconds=config.max_validity_s))
    return format_absolute(until.replace(microsecond=0))


def priority(config: LinkConfig, segment_priority: int) -> int:
    top = PRIORITY_TOP[config.protocol]
    value = segment_priority if config.priority is None else config.priority
    return max(0, min(top, value))


# ---------------------------------------------------------------------------- per protocol

def cmpp_submit(config: LinkConfig, segment: ClaimedSegment, extension: str | None, now: datetime) -> dict[str, Any]:
    """CMPP_SUBMIT body (cmpp.md 5.5); 3.0 adds the terminal types and LinkID."""
    udhi, total, number = concatenation(segment)
    fields: dict[str, Any] = {
        "pk_total": total,
        "pk_number": number,
        "registered_delivery": 1 if wants_report(config, segment.registered_delivery) else 0,
        "msg_level": priority(config, segment.priority),
        "service_id": config.service_id,
        "fee_usertype": config.fee_user_type,
        "fee_terminal_id": config.fee_terminal_id,
        "tp_pid": config.tp_pid,
        "tp_udhi": config.udhi_flag if udhi else 0,
        "msg_fmt": msg_fmt(config, segment.data_coding),
        "msg_src": config.sp_id or config.login,
        "feetype": config.fee_type_text,
        "feecode": config.fee_code,
        "valid_time": validity(config, segment.expires_at, now),
        "at_time": "",
        "src_id": source_number(config, extension, segment.source_addr),
        "dest_terminal_id": [destination(config, segment.dest_addr)],
        "msg_content": segment.payload,
    }
    if config.protocol == "cmpp30":
        fields.update(fee_terminal_type=config.fee_terminal_type, dest_terminal_type=config.dest_terminal_type,
                      linkid=config.link_id)
    fields.update(config.extra_fields)
    return fields


def sgip_submit(config: LinkConfig, segment: ClaimedSegment, extension: str | None, now: datetime) -> dict[str, Any]:
    """SGIP Submit body (sgip.md 4.4).  No Pk fields in SGIP: the UDH alone says which part it is."""
    udhi, _, _ = concatenation(segment)
    try:
        fee_type = int(config.fee_type_text)
    except ValueError:
        raise MappingError("local:config", f"SGIP FeeType must be a number, not {config.fee_type_text!r}") from None
    fields: dict[str, Any] = {
        "sp_number": source_number(config, extension, segment.source_addr),
        "charge_number": config.charge_number,
        "user_number": [destination(config, segment.dest_addr)],
        "corp_id": config.corp_id,
        "service_type": config.service_id,
        "fee_type": fee_type,
        "fee_value": config.fee_code,
        "given_value": config.given_value,
        "agent_flag": config.agent_flag,
        "morelateto_mt_flag": config.morelateto_mt_flag,
        "priority": priority(config, segment.priority),
        "expire_time": validity(config, segment.expires_at, now),
        "schedule_time": "",
        "report_flag": sgip_report_flag(config, segment.registered_delivery),
        "tp_pid": config.tp_pid,
        "tp_udhi": config.udhi_flag if udhi else 0,
        "message_coding": msg_fmt(config, segment.data_coding),
        "message_type": 0,
        "message_content": segment.payload,
    }
    fields.update(config.extra_fields)
    return fields


def smgp_submit(config: LinkConfig, segment: ClaimedSegment, extension: str | None, now: datetime) -> dict[str, Any]:
    """SMGP Submit body with its TLVs (smgp.md 6.1, 8); only TLVs that carry something are sent."""
    udhi, total, number = concatenation(segment)
    tlvs: dict[str, Any] = {}
    if udhi:
        tlvs.update(tp_udhi=1, pk_total=total, pk_number=number)
    if config.tp_pid:
        tlvs["tp_pid"] = config.tp_pid
    if config.link_id:
        tlvs["link_id"] = config.link_id
    tlvs.update(config.extra_tlvs)
    fields: dict[str, Any] = {
        "need_report": 1 if wants_report(config, segment.registered_delivery) else 0,
        "priority": priority(config, segment.priority),
        "service_id": config.service_id,
        "fee_type": config.fee_type_text,
        "fee_code": config.fee_code,
        "msg_format": msg_fmt(config, segment.data_coding),
        "valid_time": validity(config, segment.expires_at, now),
        "at_time": "",
        "src_term_id": source_number(config, extension, segment.source_addr),
        "charge_term_id": config.fee_terminal_id,
        "dest_term_id": [destination(config, segment.dest_addr)],
        "msg_content": segment.payload,
        "tlvs": tlvs,
    }
    if config.smgp_version != VERSION_13:  # 0x13 has no FixedFee (smgp.md 5)
        fields["fixed_fee"] = config.fixed_fee
    fields.update(config.extra_fields)
    return fields


_BUILDERS: Mapping[str, Callable[[LinkConfig, ClaimedSegment, str | None, datetime], dict[str, Any]]] = {
    "cmpp20": cmpp_submit, "cmpp30": cmpp_submit, "sgip12": sgip_submit, "smgp30": smgp_submit,
}


def submit_fields(config: LinkConfig, segment: ClaimedSegment, extension: str | None, now: datetime) -> dict[str, Any]:
    """The SUBMIT fields of ``segment`` for ``config``'s protocol; ``now`` is timezone-aware."""
    return _BUILDERS[config.protocol](config, segment, extension, now)


# ---------------------------------------------------------------------------- inbound (MO)

def mo_data_coding(carrier_coding: int) -> int:
    """The SMPP data_coding our clients get for an MO's Msg_Fmt (0 ASCII -> 1 IA5, 8, 15, else 4 binary)."""
    return to_smpp_data_coding(from_msg_fmt(carrier_coding))
