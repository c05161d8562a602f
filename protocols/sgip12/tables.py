"""SGIP 1.2 PDU bodies (sgip.md section 4; spec chapter 4 and 5.1).

Only the commands an SP or our SMG simulator exchanges are listed (Bind, Unbind,
Submit, Deliver, Report, UserRpt, Trace and their responses); AddSP..CheckUser
(0x06-0x10) are SMG/GNS/billing messages and decode as unknown commands.
"Text n" fields are fixed n bytes, left-aligned, NUL-padded (spec 4.2.1).
"""

from __future__ import annotations

import struct
from typing import Any

from smsgw.codec import FieldError
from smsgw.codec.fields import Array, Command, Custom, Field, Octets, Struct, Text, UInt

from smsgw.protocols.sgip12.status import Result

_TRIPLE = struct.Struct(">III")
# statuses are plain ints: the compiler writes them into generated source with repr()
_BAD_LENGTH = int(Result.MESSAGE_LENGTH)


def _decode_triple(buf: bytes, pos: int, end: int) -> tuple[tuple[int, int, int], int]:
    if pos + 12 > end:
        raise FieldError("body ends inside the 12-byte sequence number")
    return _TRIPLE.unpack_from(buf, pos), pos + 12


def _encode_triple(value: Any) -> bytes:
    try:
        node, stamp, counter = value
        return _TRIPLE.pack(node, stamp, counter)
    except (struct.error, TypeError, ValueError) as x:
        raise FieldError(f"need (node id, MMDDHHMMSS, counter) as three uint32: {x}") from None


def submit_sequence_number() -> Custom:
    """The 12-byte header triple of an earlier Submit/Deliver, quoted in Report and Trace.

    Decodes to ``(node id, MMDDHHMMSS, counter)`` like ``Pdu.sequence`` (sgip.md 2, 4.6).
    """
    return Custom("submit_sequence_number", _decode_triple, _encode_triple, default=(0, 0, 0))


#: Result + Reserve: the body of every SP-relevant response except Unbind_Resp and Trace_Resp (sgip.md 4.2)
RESPONSE_BODY: tuple[Field, ...] = (
    UInt("result"),
    Text("reserve", 8),
)

BIND = Command("bind", 0x00000001, (
    UInt("login_type"),  # status.LoginType: 1 SP->SMG, 2 SMG->SP
    Text("login_name", 16),
    Text("login_password", 16),  # clear text: SGIP has no MD5
    Text("reserve", 8),
))
BIND_RESP = Command("bind_resp", 0x80000001, RESPONSE_BODY)

UNBIND = Command("unbind", 0x00000002)
# No body (spec); go_sgip's mock SMG sends Result + Reserve anyway (SGIP-07): tolerated and dropped.
UNBIND_RESP = Command("unbind_resp", 0x80000002, trailing_ok=True)

SUBMIT = Command("submit", 0x00000003, (
    Text("sp_number", 21),  # SP access number shown as the sender (with extension digits)
    Text("charge_number", 21),  # "86"+MSISDN; empty = each receiver pays; 21 x "0" = the SP pays
    UInt("user_count", length_of="user_number"),  # 1..100
    Array("user_number", "user_count", Text("user_number", 21), status=_BAD_LENGTH),
    Text("corp_id", 5),
    Text("service_type", 10),
    UInt("fee_type"),  # status.FeeType
    Text("fee_value", 6),  # fen, decimal text; the monthly fee when fee_type is 3
    Text("given_value", 6),
    UInt("agent_flag"),  # 0 should-collect, 1 actually collected
    UInt("morelateto_mt_flag"),  # 0 first MT for an MO, 1 later MT for an MO, 2 not MO-caused, 3 system feedback
    UInt("priority"),  # 0-9
    Text("expire_time", 16),  # "yymmddhhmmsstnnp", exactly 16, no NUL; empty = SMSC default
    Text("schedule_time", 16),
    UInt("report_flag"),  # status.ReportFlag
    UInt("tp_pid"),
    UInt("tp_udhi"),  # 1 = message_content starts with a UDH (GSM 03.40 9.2.3.23)
    UInt("message_coding"),  # 0 ASCII, 3 SIM write, 4 binary, 8 UCS2, 15 GBK
    UInt("message_type"),  # 0 = SMS
    UInt("message_length", 4, length_of="message_content"),  # 4 bytes, unlike CMPP/SMGP
    Octets("message_content", length_field="message_length", status=_BAD_LENGTH),
    Text("reserve", 8),
))
SUBMIT_RESP = Command("submit_resp", 0x80000003, RESPONSE_BODY,
                      description="no message id: the Submit's header triple is the MT's id")

DELIVER = Command("deliver", 0x00000004, (
    Text("user_number", 21),  # sender handset, "86" prefix
    Text("sp_number", 21),  # the SP number (with extension) the user sent to
    UInt("tp_pid"),
    UInt("tp_udhi"),
    UInt("message_coding"),
    UInt("message_length", 4, length_of="message_content"),
    Octets("message_content", length_field="message_length", status=_BAD_LENGTH),
    Text("reserve", 8),
))
DELIVER_RESP = Command("deliver_resp", 0x80000004, RESPONSE_BODY)

REPORT = Command("report", 0x00000005, (
    submit_sequence_number(),
    UInt("report_type"),  # 0 about an earlier Submit, 1 about an earlier forwarded Deliver
    Text("user_number", 21),  # one Report per receiver of a group Submit
    UInt("state"),  # status.ReportState
    UInt("error_code"),  # a Result (usually 21-33) when state = 2, else 0
    Text("reserve", 8),
))
REPORT_RESP = Command("report_resp", 0x80000005, RESPONSE_BODY)

USERRPT = Command("userrpt", 0x00000011, (
    Text("sp_number", 21),
    Text("user_number", 21),
    UInt("user_condition"),  # 0 cancelled, 1 suspended for arrears, 2 back to normal
    Text("reserve", 8),
))
USERRPT_RESP = Command("userrpt_resp", 0x80000011, RESPONSE_BODY)

TRACE = Command("trace", 0x00001000, (
    submit_sequence_number(),
    Text("user_number", 21),
    Text("reserve", 8),
))
# The spec says "the following fields may repeat" without saying whether Reserve is inside the group.
# We repeat all five (47 bytes per node) as SMSGate's codec does (sgip.md 4.8, uncertain); no capture exists.
TRACE_NODE = Struct("node", (
    UInt("result"),  # 0 received, 1 waiting, other: error
    Text("node_id", 6),
    Text("receive_time", 16),  # "yymmddhhmmss", NUL-padded
    Text("send_time", 16),
    Text("reserve", 8),
))
TRACE_RESP = Command("trace_resp", 0x80001000, (
    UInt("count", length_of="nodes"),
    Array("nodes", "count", TRACE_NODE),
))

COMMANDS: tuple[Command, ...] = (
    BIND, BIND_RESP, UNBIND, UNBIND_RESP, SUBMIT, SUBMIT_RESP, DELIVER, DELIVER_RESP,
    REPORT, REPORT_RESP, USERRPT, USERRPT_RESP, TRACE, TRACE_RESP,
)
