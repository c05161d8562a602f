"""CMPP 2.0 PDU tables (cmpp.md sections 2, 4 and 5; the 2.0 layouts per the CMPP 3.0.0 spec revision history).

The commands that differ from CMPP 3.0; the rest, and the field groups both
versions share, are in ``common``.
"""

from __future__ import annotations

from smsgw.codec.errors import FieldError
from smsgw.codec.fields import CMPP_HEADER, Array, Command, Custom, ProtocolSpec, Struct, Text, UInt
from smsgw.protocols.cmpp20 import ids, status
from smsgw.protocols.cmpp20.common import (
    ACTIVE_TEST,
    ACTIVE_TEST_RESP,
    CANCEL,
    CONNECT,
    CONNECT_RESP_TAIL,
    CONTENT,
    DELIVER_HEAD,
    QUERY,
    QUERY_RESP,
    REPORT_HEAD,
    SUBMIT_HEAD,
    RESYNC_LIMIT,
    SUBMIT_MIDDLE,
    TERMINATE,
    TERMINATE_RESP,
)

#: the Version byte of CONNECT (cmpp.md 5.1); 0x21 ("2.1") uses the same layout
VERSION = 0x20

NUMBER_SIZE = 21  # terminal ids are 21 bytes in 2.0 (cmpp.md 4)

CONNECT_RESP = Command("connect_resp", ids.CONNECT | ids.RESPONSE_BIT, (
    UInt("status", 1),  # status.CONNECT_STATUS
    *CONNECT_RESP_TAIL,
))

SUBMIT = Command("submit", ids.SUBMIT, (
    *SUBMIT_HEAD,
    Text("fee_terminal_id", NUMBER_SIZE),  # the 2.0 text says Unsigned Integer; every peer sends text
    *SUBMIT_MIDDLE,
    Array("dest_terminal_id", "destusr_tl", Text("dest_terminal_id", NUMBER_SIZE)),
    *CONTENT,
    Text("reserve", 8),
), description="SP sends an MT message (cmpp.md 5.5)")
SUBMIT_RESP = Command("submit_resp", ids.SUBMIT | ids.RESPONSE_BIT, (
    UInt("msg_id", 8),  # assigned by the ISMG (cmpp.md 7)
    UInt("result", 1),  # status.SUBMIT_RESULT
))

DELIVER = Command("deliver", ids.DELIVER, (
    *DELIVER_HEAD,
    Text("src_terminal_id", NUMBER_SIZE),  # MO sender; for a report, the MT's destination
    UInt("registered_delivery", 1),  # 0 MO, 1 status report in msg_content
    *CONTENT,
    Text("reserve", 8),
), description="ISMG sends an MO message or a status report (cmpp.md 5.7)")
DELIVER_RESP = Command("deliver_resp", ids.DELIVER | ids.RESPONSE_BIT, (
    UInt("msg_id", 8),  # the DELIVER's Msg_Id
    UInt("result", 1),  # status.DELIVER_RESULT
))


def _decode_success_id(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    # The 3.0 revision history says Success_Id was 1 byte in 2.0; SMSGate sends
    # its 4-byte 3.0 form for 2.0 too (cmpp.md 4).  Accept both, send 1 byte.
    left = end - pos
    if left not in (1, 4):
        raise FieldError(f"Success_Id must be 1 or 4 bytes, {left} left", status.LENGTH_ERROR)
    return int.from_bytes(buf[pos:end], "big"), end


def _encode_success_id(value: int) -> bytes:
    if not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise FieldError(f"Success_Id {value!r} does not fit one byte")
    return bytes((value,))


CANCEL_RESP = Command("cancel_resp", ids.CANCEL | ids.RESPONSE_BIT, (
    Custom("success_id", _decode_success_id, _encode_success_id, default=0),  # 0 ok, 1 failed
))

#: the 60-byte status report of CMPP 2.0 (cmpp.md 5.8); also seen inside 3.0 (vector CMPP-18)
REPORT = Struct("report", (
    *REPORT_HEAD,
    Text("dest_terminal_id", NUMBER_SIZE),  # the MT's destination
    UInt("smsc_sequence", 4),
))
REPORT_SIZE = 60

SPEC = ProtocolSpec(
    id="cmpp20",
    header=CMPP_HEADER,
    commands=(
        CONNECT, CONNECT_RESP, TERMINATE, TERMINATE_RESP, SUBMIT, SUBMIT_RESP, DELIVER, DELIVER_RESP,
        QUERY, QUERY_RESP, CANCEL, CANCEL_RESP, ACTIVE_TEST, ACTIVE_TEST_RESP,
    ),
    # gocmpp's CMPP2_PACKET_MAX; the largest 2.0 PDU the tables allow (SUBMIT with 99
    # destinations and 255 content bytes: 138 + 21 * 99 + 255 = 2472) fits under it.
    max_length=2477,
    status_unknown_command=status.COMMAND_ERROR,
    status_bad_length=status.LENGTH_ERROR,
    status_bad_body=status.STRUCTURE_ERROR,
    # no generic_nack: an unknown command gets no response at all
    resync_limit=RESYNC_LIMIT,  # pycmpp's stray bytes (vector CMPP-27)
    status_names=status.STATUS_NAMES,
)
