"""CMPP 3.0 PDU tables (CMPP 3.0.0 spec QB-GF-028-2003; cmpp.md sections 4 and 5).

Built from the field groups of ``smsgw.protocols.cmpp20.common``: only what
cmpp.md section 4 lists as changed is spelled out here (32-byte terminal ids
with a type byte, LinkID instead of Reserve, 4-byte result codes, the 71-byte
report).
"""

from __future__ import annotations

from smsgw.codec.fields import CMPP_HEADER, Array, Command, ProtocolSpec, Struct, Text, UInt
from smsgw.protocols.cmpp20 import common, ids, status

#: the Version byte of CONNECT (cmpp.md 5.1)
VERSION = 0x30

NUMBER_SIZE = 32  # terminal ids grew to 32 bytes for pseudo numbers (cmpp.md 4)

# unchanged from 2.0 (cmpp.md 4 and 5.1: CONNECT, TERMINATE, ACTIVE_TEST, QUERY, CANCEL)
CONNECT = common.CONNECT
TERMINATE, TERMINATE_RESP = common.TERMINATE, common.TERMINATE_RESP
ACTIVE_TEST, ACTIVE_TEST_RESP = common.ACTIVE_TEST, common.ACTIVE_TEST_RESP
QUERY, QUERY_RESP = common.QUERY, common.QUERY_RESP
CANCEL = common.CANCEL

CONNECT_RESP = Command("connect_resp", ids.CONNECT | ids.RESPONSE_BIT, (
    UInt("status", 4),  # 4 bytes in 3.0; status.CONNECT_STATUS
    *common.CONNECT_RESP_TAIL,
))

SUBMIT = Command("submit", ids.SUBMIT, (
    *common.SUBMIT_HEAD,
    Text("fee_terminal_id", NUMBER_SIZE),
    UInt("fee_terminal_type", 1),  # 0 real number, 1 pseudo number
    *common.SUBMIT_MIDDLE,
    Array("dest_terminal_id", "destusr_tl", Text("dest_terminal_id", NUMBER_SIZE)),
    UInt("dest_terminal_type", 1),  # one byte for the whole list: 0 real, 1 pseudo
    *common.CONTENT,
    Text("linkid", 20),  # copied from the MO for on-demand replies, else empty
), description="SP sends an MT message (cmpp.md 5.5)")
SUBMIT_RESP = Command("submit_resp", ids.SUBMIT | ids.RESPONSE_BIT, (
    UInt("msg_id", 8),
    UInt("result", 4),  # status.SUBMIT_RESULT
))

DELIVER = Command("deliver", ids.DELIVER, (
    *common.DELIVER_HEAD,
    Text("src_terminal_id", NUMBER_SIZE),
    UInt("src_terminal_type", 1),  # 0 real, 1 pseudo
    UInt("registered_delivery", 1),  # 0 MO, 1 status report in msg_content
    *common.CONTENT,
    Text("linkid", 20),
), description="ISMG sends an MO message or a status report (cmpp.md 5.7)")
DELIVER_RESP = Command("deliver_resp", ids.DELIVER | ids.RESPONSE_BIT, (
    UInt("msg_id", 8),
    UInt("result", 4),  # status.DELIVER_RESULT
))

CANCEL_RESP = Command("cancel_resp", ids.CANCEL | ids.RESPONSE_BIT, (
    UInt("success_id", 4),  # 0 ok, 1 failed
))

#: the 71-byte status report of CMPP 3.0 (cmpp.md 5.8); pick the layout by Msg_Length
REPORT = Struct("report", (
    *common.REPORT_HEAD,
    Text("dest_terminal_id", NUMBER_SIZE),
    UInt("smsc_sequence", 4),
))
REPORT_SIZE = 71

SPEC = ProtocolSpec(
    id="cmpp30",
    header=CMPP_HEADER,
    commands=(
        CONNECT, CONNECT_RESP, TERMINATE, TERMINATE_RESP, SUBMIT, SUBMIT_RESP, DELIVER, DELIVER_RESP,
        QUERY, QUERY_RESP, CANCEL, CANCEL_RESP, ACTIVE_TEST, ACTIVE_TEST_RESP,
    ),
    # The largest 3.0 PDU the tables allow: SUBMIT with 99 destinations and 255 content
    # bytes, 163 + 32 * 99 + 255 = 3586.  gocmpp's CMPP3_PACKET_MAX (3335) would refuse
    # a legal SUBMIT to 99 numbers with more than 4 content bytes.
    max_length=3586,
    status_unknown_command=status.COMMAND_ERROR,
    status_bad_length=status.LENGTH_ERROR,
    status_bad_body=status.STRUCTURE_ERROR,
    resync_limit=common.RESYNC_LIMIT,  # pycmpp's stray bytes (vector CMPP-27)
    status_names=status.STATUS_NAMES,
)
