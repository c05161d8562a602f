"""SMPP 3.4 PDU tables (spec section 4; command ids from 5.1.2.1, table 5-1).

Every PDU of SMPP 3.4 is here, as we (the SMSC) receive and send them; the
notes we rely on are in smpp-notes.md.  Per-field ``status`` is the
command_status to answer when that field cannot be decoded (the mozes
smpp.pdu idea); ``FIELD_STATUS`` repeats the same mapping for the session,
which checks field *values* (a TON of 9, a bad time string) with the same codes.

Choices worth knowing:

* C-Octet String sizes include the NUL (smpp-notes.md section 4).  We are strict:
  a 16-character system_id or a 9-character password is refused with
  ESME_RINVSYSID / ESME_RINVPASWD instead of being accepted and then failing
  the login - an account's system_id cannot be longer than 15 characters anyway.
* Time fields are empty or exactly 16 characters (5.2.15, 5.2.16, 7.1.1).
* A response with a non-zero command_status carries no body (notes of 4.1.2,
  4.1.4, 4.4.2).  The engine applies that to every response, data_sm_resp and
  query_sm_resp included (npm smpp does the same), and decodes both forms -
  except submit_multi_resp, whose body is the answer to a failure: 4.5.2 has no
  such note, and when every destination failed the unsuccess_sme list (with an
  empty message_id) is what tells the client why (``body_on_error``, vector
  SMPP-E01).
* deliver_sm_resp and data_sm_resp may arrive with an empty body: clients do send
  that instead of the single NUL (optional_from).
* ``MAX_LENGTH``: the largest legal PDU is a submit_multi with 254 destinations
  (254 x 24 bytes), every mandatory field at its maximum and a 65535-byte
  message_payload: 71,977 bytes.  We allow 73,728 (72 KiB), which leaves
  1.7 KB for further TLVs; anything longer is a framing error (generic_nack
  ESME_RINVCMDLEN, then close).
"""

from __future__ import annotations

from typing import Mapping

from smsgw.codec.fields import (
    SMPP_HEADER,
    Array,
    Command,
    CString,
    Custom,
    Field,
    Octets,
    ProtocolSpec,
    Struct,
    Tlvs,
    UInt,
)

from smsgw.protocols.smpp34.multi import decode_dest_addresses, encode_dest_addresses
from smsgw.protocols.smpp34.status import STATUS_NAMES
from smsgw.protocols.smpp34.status import CommandStatus as S
from smsgw.protocols.smpp34.tlvs import TLV_TABLE

MAX_LENGTH = 72 * 1024

#: the status answering a malformed value of each mandatory field (smpp-notes.md section 6)
FIELD_STATUS: Mapping[str, S] = {
    "system_id": S.ESME_RINVSYSID,
    "password": S.ESME_RINVPASWD,
    "system_type": S.ESME_RINVSYSTYP,
    # bind fields without an error of their own: the bind as a whole failed
    "interface_version": S.ESME_RBINDFAIL,
    "addr_ton": S.ESME_RBINDFAIL,
    "addr_npi": S.ESME_RBINDFAIL,
    "address_range": S.ESME_RBINDFAIL,
    "service_type": S.ESME_RINVSERTYP,
    "source_addr_ton": S.ESME_RINVSRCTON,
    "source_addr_npi": S.ESME_RINVSRCNPI,
    "source_addr": S.ESME_RINVSRCADR,
    "dest_addr_ton": S.ESME_RINVDSTTON,
    "dest_addr_npi": S.ESME_RINVDSTNPI,
    "destination_addr": S.ESME_RINVDSTADR,
    # alert_notification names the ESME's own address esme_addr*
    "esme_addr_ton": S.ESME_RINVDSTTON,
    "esme_addr_npi": S.ESME_RINVDSTNPI,
    "esme_addr": S.ESME_RINVDSTADR,
    "dest_address": S.ESME_RINVNUMDESTS,
    "dl_name": S.ESME_RINVDLNAME,
    "esm_class": S.ESME_RINVESMCLASS,
    "priority_flag": S.ESME_RINVPRTFLG,
    "schedule_delivery_time": S.ESME_RINVSCHED,
    "validity_period": S.ESME_RINVEXPIRY,
    "registered_delivery": S.ESME_RINVREGDLVFLG,
    "replace_if_present_flag": S.ESME_RINVREPFLAG,
    "sm_default_msg_id": S.ESME_RINVDFTMSGID,
    "sm_length": S.ESME_RINVMSGLEN,
    "short_message": S.ESME_RINVMSGLEN,
    "message_id": S.ESME_RINVMSGID,
    "tlvs": S.ESME_RINVOPTPARSTREAM,
}

def _status(name: str) -> int | None:
    # plain ints: the engine writes statuses into the generated decoder source as literals
    status = FIELD_STATUS.get(name)
    return None if status is None else int(status)


def _u8(name: str) -> UInt:
    return UInt(name, 1, status=_status(name))


def _cs(name: str, size: int) -> CString:
    """A C-Octet String of at most ``size`` bytes including the NUL."""
    return CString(name, size, status=_status(name))


def _time(name: str) -> CString:
    # 5.2.15 / 5.2.16 / 7.1.1: NULL (1 byte) or "YYMMDDhhmmsstnnp" + NUL (17 bytes), nothing between
    return CString(name, 17, status=_status(name), exact_sizes=(17,))


#: every TLV we know; unknown tags are kept (3.3/3.4 guidelines: ignore, do not fail)
_TLVS = Tlvs("tlvs", TLV_TABLE, status=int(S.ESME_RINVOPTPARSTREAM), length_status=int(S.ESME_RINVPARLEN))

# --- bind_transmitter / bind_receiver / bind_transceiver (4.1.1, 4.1.3, 4.1.5)
_BIND: tuple[Field, ...] = (
    _cs("system_id", 16),
    _cs("password", 9),
    _cs("system_type", 13),
    _u8("interface_version"),  # 0x34 for 3.4; <= 0x33 means a 3.3 ESME (send it no TLVs)
    _u8("addr_ton"),
    _u8("addr_npi"),
    _cs("address_range", 41),  # a regular expression of the addresses served (receiver binds)
)
# --- bind_*_resp (4.1.2, 4.1.4, 4.1.6): sc_interface_version TLV only if the ESME sent >= 0x34
_BIND_RESP: tuple[Field, ...] = (_cs("system_id", 16), _TLVS)

# --- outbind (4.1.7.1): the SMSC asks the ESME to bind; we never need it, but know it
_OUTBIND: tuple[Field, ...] = (_cs("system_id", 16), _cs("password", 9))

# --- submit_sm (4.4.1); deliver_sm (4.6.1) has the same layout with some fields unused
_SM: tuple[Field, ...] = (
    _cs("service_type", 6),
    _u8("source_addr_ton"),
    _u8("source_addr_npi"),
    _cs("source_addr", 21),
    _u8("dest_addr_ton"),
    _u8("dest_addr_npi"),
    _cs("destination_addr", 21),
    _u8("esm_class"),  # mode, type and GSM bits: test each group with its mask (5.2.12)
    UInt("protocol_id", 1),  # GSM TP-PID, passed through (5.2.13)
    _u8("priority_flag"),
    _time("schedule_delivery_time"),  # deliver_sm: always NULL
    _time("validity_period"),  # deliver_sm: always NULL
    _u8("registered_delivery"),
    _u8("replace_if_present_flag"),  # deliver_sm: always 0
    UInt("data_coding", 1),  # 5.2.19; 15 = GBK is a Chinese non-standard use
    _u8("sm_default_msg_id"),  # canned message; deliver_sm: always 0
    # 5.2.21: 0..254; a uint8 admits 255 and we accept it rather than refuse a whole PDU
    UInt("sm_length", 1, status=_status("sm_length"), length_of="short_message"),
    # 5.2.22: octets, NOT NUL-terminated; empty when message_payload carries the text
    Octets("short_message", length_field="sm_length", status=_status("short_message")),
    _TLVS,
)

# --- submit_multi (4.5.1)
_SUBMIT_MULTI: tuple[Field, ...] = (
    _cs("service_type", 6),
    _u8("source_addr_ton"),
    _u8("source_addr_npi"),
    _cs("source_addr", 21),
    # number_of_dests + dest_address entries of two layouts (multi.py)
    Custom("dest_address", decode_dest_addresses, encode_dest_addresses, status=_status("dest_address"), default=()),
    _u8("esm_class"),
    UInt("protocol_id", 1),
    _u8("priority_flag"),
    _time("schedule_delivery_time"),
    _time("validity_period"),
    _u8("registered_delivery"),
    _u8("replace_if_present_flag"),  # "reserved, must be NULL" for submit_multi
    UInt("data_coding", 1),
    _u8("sm_default_msg_id"),
    UInt("sm_length", 1, status=_status("sm_length"), length_of="short_message"),
    Octets("short_message", length_field="sm_length", status=_status("short_message")),
    _TLVS,
)
# --- submit_multi_resp (4.5.2): the destinations that failed, each with its own error (4.5.2.1)
_SUBMIT_MULTI_RESP: tuple[Field, ...] = (
    _cs("message_id", 65),
    UInt("no_unsuccess", 1, length_of="unsuccess_sme"),
    Array(
        "unsuccess_sme",
        "no_unsuccess",
        Struct(
            "unsuccess_sme",
            (
                UInt("dest_addr_ton", 1),
                UInt("dest_addr_npi", 1),
                CString("destination_addr", 21),
                UInt("error_status_code", 4),  # a command_status value (5.1.3)
            ),
        ),
    ),
)

# --- data_sm (4.7.1): addresses up to 65 bytes, no short_message: the text is in message_payload
_DATA_SM: tuple[Field, ...] = (
    _cs("service_type", 6),
    _u8("source_addr_ton"),
    _u8("source_addr_npi"),
    _cs("source_addr", 65),
    _u8("dest_addr_ton"),
    _u8("dest_addr_npi"),
    _cs("destination_addr", 65),
    _u8("esm_class"),
    _u8("registered_delivery"),
    UInt("data_coding", 1),
    _TLVS,
)

# --- query_sm (4.8.1) / query_sm_resp (4.8.2)
_QUERY_SM: tuple[Field, ...] = (
    _cs("message_id", 65),
    _u8("source_addr_ton"),
    _u8("source_addr_npi"),
    _cs("source_addr", 21),  # must match the submit's, for verification
)
_QUERY_SM_RESP: tuple[Field, ...] = (
    _cs("message_id", 65),
    _time("final_date"),  # NULL while the message is not in a final state
    UInt("message_state", 1),  # constants.MessageState
    UInt("error_code", 1),  # network error code, where appropriate (5.2.31)
)

# --- cancel_sm (4.9.1): message_id NULL = cancel all matching service_type/addresses
_CANCEL_SM: tuple[Field, ...] = (
    _cs("service_type", 6),
    _cs("message_id", 65),
    _u8("source_addr_ton"),
    _u8("source_addr_npi"),
    _cs("source_addr", 21),
    _u8("dest_addr_ton"),
    _u8("dest_addr_npi"),
    _cs("destination_addr", 21),
)

# --- replace_sm (4.10.1): no TLVs in 3.4
_REPLACE_SM: tuple[Field, ...] = (
    _cs("message_id", 65),
    _u8("source_addr_ton"),
    _u8("source_addr_npi"),
    _cs("source_addr", 21),
    _time("schedule_delivery_time"),
    _time("validity_period"),
    _u8("registered_delivery"),
    _u8("sm_default_msg_id"),
    UInt("sm_length", 1, status=_status("sm_length"), length_of="short_message"),
    Octets("short_message", length_field="sm_length", status=_status("short_message")),
)

# --- alert_notification (4.12.1): SMSC -> ESME only, no response; addresses up to 65 bytes
_ALERT_NOTIFICATION: tuple[Field, ...] = (
    _u8("source_addr_ton"),
    _u8("source_addr_npi"),
    _cs("source_addr", 65),
    _u8("esme_addr_ton"),
    _u8("esme_addr_npi"),
    _cs("esme_addr", 65),
    _TLVS,  # ms_availability_status
)

COMMANDS: tuple[Command, ...] = (
    Command("generic_nack", 0x80000000, description="4.3: answer to a PDU that cannot be answered by its own response"),
    Command("bind_receiver", 0x00000001, _BIND),
    Command("bind_receiver_resp", 0x80000001, _BIND_RESP),
    Command("bind_transmitter", 0x00000002, _BIND),
    Command("bind_transmitter_resp", 0x80000002, _BIND_RESP),
    Command("query_sm", 0x00000003, _QUERY_SM),
    Command("query_sm_resp", 0x80000003, _QUERY_SM_RESP),
    Command("submit_sm", 0x00000004, _SM),
    # 4.4.2: only message_id; no body at all when command_status != 0
    Command("submit_sm_resp", 0x80000004, (_cs("message_id", 65),)),
    Command("deliver_sm", 0x00000005, _SM),
    # 4.6.2: message_id "unused, set to NULL" = the single byte 0x00 (SMPP-06); an empty body is tolerated
    Command("deliver_sm_resp", 0x80000005, (_cs("message_id", 65),), optional_from="message_id"),
    Command("unbind", 0x00000006),
    Command("unbind_resp", 0x80000006),
    Command("replace_sm", 0x00000007, _REPLACE_SM),
    Command("replace_sm_resp", 0x80000007),
    Command("cancel_sm", 0x00000008, _CANCEL_SM),
    Command("cancel_sm_resp", 0x80000008),
    Command("bind_transceiver", 0x00000009, _BIND),
    Command("bind_transceiver_resp", 0x80000009, _BIND_RESP),
    Command("outbind", 0x0000000B, _OUTBIND),
    Command("enquire_link", 0x00000015),
    Command("enquire_link_resp", 0x80000015),
    Command("submit_multi", 0x00000021, _SUBMIT_MULTI),
    Command("submit_multi_resp", 0x80000021, _SUBMIT_MULTI_RESP, body_on_error=True),
    Command("alert_notification", 0x00000102, _ALERT_NOTIFICATION),
    Command("data_sm", 0x00000103, _DATA_SM),
    # 4.7.2: message_id + TLVs (delivery_failure_reason, network_error_code, ...); empty body tolerated
    Command("data_sm_resp", 0x80000103, (_cs("message_id", 65), _TLVS), optional_from="message_id"),
)

SPEC = ProtocolSpec(
    id="smpp34",
    header=SMPP_HEADER,
    commands=COMMANDS,
    max_length=MAX_LENGTH,
    status_unknown_command=int(S.ESME_RINVCMDID),
    status_bad_length=int(S.ESME_RINVCMDLEN),
    # a malformed field that names no status of its own (e.g. protocol_id, data_coding)
    status_bad_body=int(S.ESME_RINVMSGLEN),
    generic_nack="generic_nack",
    error_response_without_body=True,
    status_names=STATUS_NAMES,
)
