"""CMPP PDU tables common to 2.0 and 3.0 (cmpp.md sections 4 and 5).

Whole commands that did not change (CONNECT, TERMINATE, ACTIVE_TEST, QUERY,
CANCEL), and the field groups from which ``pdus`` (2.0) and
``smsgw.protocols.cmpp30.pdus`` (3.0) build the commands that did: only the
fields listed in cmpp.md section 4 are spelled out per version.  Integers are
unsigned big-endian; "OS n" fields are ``Text`` (NUL-padded, decoded up to the
first NUL).
"""

from __future__ import annotations

from smsgw.codec.fields import Command, Octets, Text, UInt
from smsgw.protocols.cmpp20 import ids, status

#: CONNECT body, both versions (cmpp.md 5.1).  A short body answers Status 1 (structure
#: error); bytes after Timestamp get the engine's bad-length status 4, which CONNECT_RESP
#: reads as "version too high": a session should answer any undecodable CONNECT with 1.
CONNECT = Command("connect", ids.CONNECT, (
    Text("source_addr", 6),  # SP_Id, 6 digits
    Octets("authenticatorsource", size=16),  # MD5, see smsgw.session.auth_cmpp
    UInt("version", 1),  # 0x20 / 0x21 / 0x30: high nibble major, low nibble minor
    UInt("timestamp", 4),  # the decimal number MMDDHHMMSS
), description="SP login (cmpp.md 5.1)")

#: CONNECT_RESP after its Status, whose width is the version's (cmpp.md 5.2)
CONNECT_RESP_TAIL = (
    Octets("authenticatorismg", size=16),  # MD5 (smsgw.session.auth_cmpp); 16 x 00 after a failed login
    UInt("version", 1),  # highest version the ISMG supports
)

#: PyPI pycmpp 2.0.2 writes 3 stray bytes after its 13-byte ACTIVE_TEST_RESP (vector
#: CMPP-27); the framer may skip that many to find the next header (ProtocolSpec.resync_limit).
RESYNC_LIMIT = 3

TERMINATE = Command("terminate", ids.TERMINATE, description="either side ends the session (cmpp.md 5.3)")
TERMINATE_RESP = Command("terminate_resp", ids.TERMINATE | ids.RESPONSE_BIT)
ACTIVE_TEST = Command("active_test", ids.ACTIVE_TEST, description="link test, either side (cmpp.md 5.4)")
#: 13 bytes with the Reserved byte; a 12-byte response is accepted too (cmpp.md 5.4)
ACTIVE_TEST_RESP = Command(
    "active_test_resp", ids.ACTIVE_TEST | ids.RESPONSE_BIT, (UInt("reserved", 1),), optional_from="reserved"
)

QUERY = Command("query", ids.QUERY, (
    Text("time", 8),  # YYYYMMDD
    UInt("query_type", 1),  # 0 totals, 1 by Service_Id
    Text("query_code", 10),  # the Service_Id when query_type is 1
    Text("reserve", 8),
), description="SP asks for its traffic statistics (cmpp.md 5.10)")
QUERY_RESP = Command("query_resp", ids.QUERY | ids.RESPONSE_BIT, (
    Text("time", 8),
    UInt("query_type", 1),
    Text("query_code", 10),
    UInt("mt_tlmsg", 4),  # MT messages received from the SP
    UInt("mt_tlusr", 4),  # MT users
    UInt("mt_scs", 4),  # MT forwarded successfully
    UInt("mt_wt", 4),  # MT waiting
    UInt("mt_fl", 4),  # MT failed
    UInt("mo_scs", 4),
    UInt("mo_wt", 4),
    UInt("mo_fl", 4),
))

CANCEL = Command("cancel", ids.CANCEL, (UInt("msg_id", 8),), description="cancel a submitted MT (cmpp.md 5.11)")

#: Msg_Length + Msg_Content (SUBMIT and DELIVER).  A Msg_Length that overruns the
#: body is a length error (Result 4), not a structure error.
CONTENT = (
    UInt("msg_length", 1, length_of="msg_content"),
    Octets("msg_content", length_field="msg_length", status=status.LENGTH_ERROR),
)

#: SUBMIT up to Fee_UserType (cmpp.md 5.5, fields 1-7)
SUBMIT_HEAD = (
    UInt("msg_id", 8),  # SP sends 0; the ISMG's id comes back in SUBMIT_RESP
    UInt("pk_total", 1),
    UInt("pk_number", 1),
    UInt("registered_delivery", 1),  # 0 no report, 1 report (2.0 also 2: SMC bill)
    UInt("msg_level", 1),
    Text("service_id", 10),
    UInt("fee_usertype", 1),  # 0 destination pays, 1 source, 2 SP, 3 fee_terminal_id
)

#: SUBMIT from TP_pId to DestUsr_tl (cmpp.md 5.5, fields 10-19)
SUBMIT_MIDDLE = (
    UInt("tp_pid", 1),  # GSM 03.40 9.2.3.9
    UInt("tp_udhi", 1),  # raw: the spec says 1, many gateways send 0x40 (cmpp.md 9); judged above the codec
    UInt("msg_fmt", 1),  # 0 ASCII, 3 SIM write, 4 binary, 8 UCS2, 15 GBK (cmpp.md 8)
    Text("msg_src", 6),  # SP_Id
    Text("feetype", 2),  # "01".."05" in 2.0, "01".."03" in 3.0
    Text("feecode", 6),  # fee in fen as decimal text; padding varies between peers (cmpp.md 5.5)
    Text("valid_time", 17),  # SMPP 3.3 time "YYMMDDhhmmsstnnp", all NUL = default
    Text("at_time", 17),  # same format, all NUL = now
    Text("src_id", 21),  # service code (+ extension) shown on the handset
    UInt("destusr_tl", 1, length_of="dest_terminal_id"),  # < 100 per spec; checked above the codec
)

#: DELIVER up to Msg_Fmt (cmpp.md 5.7, fields 1-6)
DELIVER_HEAD = (
    UInt("msg_id", 8),  # id of this DELIVER; a report carries the MT's id inside msg_content
    Text("dest_id", 21),  # the number the user texted: service code + extension
    Text("service_id", 10),
    UInt("tp_pid", 1),
    UInt("tp_udhi", 1),  # raw, as in SUBMIT
    UInt("msg_fmt", 1),
)

#: status report inside DELIVER msg_content up to Done_time (cmpp.md 5.8)
REPORT_HEAD = (
    UInt("msg_id", 8),  # the Msg_Id of the original MT's SUBMIT_RESP
    Text("stat", 7),  # DELIVRD, UNDELIV, ... or "XX:nnnn" (status.REPORT_STAT*)
    Text("submit_time", 10),  # YYMMDDHHMM
    Text("done_time", 10),  # YYMMDDHHMM
)
