"""SMGP 3.0 PDU bodies (smgp.md sections 4 and 6; spec 6.2).

Only the SP-relevant commands are listed (Login, Submit, Deliver, Active_Test,
Exit, Query and their responses); Forward, the route and prepaid commands
(0x05, 0x08-0x12) decode as unknown commands.  "OS n" fields are fixed n
bytes, NUL-padded (spec 5.1.1): ``Text`` for printable ones, ``Octets`` for
binary ones (MsgID, authenticators, Reserve).
"""

from __future__ import annotations

from smsgw.codec.fields import Array, Command, Octets, Text, UInt

from smsgw.protocols.smgp30.status import Status
from smsgw.protocols.smgp30.tlvs import tlvs

# statuses are plain ints: the compiler writes them into generated source with repr()
_BAD_MSG_LENGTH = int(Status.ILLEGAL_MSG_LENGTH)

LOGIN = Command("login", 0x00000001, (
    Text("client_id", 8),  # account; for an SP usually its service code
    Octets("authenticator_client", size=16),  # MD5, see smsgw.session.auth_smgp
    UInt("login_mode"),  # status.LoginMode: 0 send, 1 receive, 2 transmit
    UInt("time_stamp", 4),  # MMDDHHMMSS as a decimal integer
    UInt("client_version"),  # 0x30; 0x13 selects the Submit layout without FixedFee (v13.py)
))
LOGIN_RESP = Command("login_resp", 0x80000001, (
    UInt("status", 4),
    Octets("authenticator_server", size=16),  # MD5(status + authenticator_client + secret); zeros on failure
    UInt("server_version"),
))

SUBMIT = Command("submit", 0x00000002, (
    UInt("msg_type"),  # 0 MO, 6 MT (what an SP sends), 7 P2P
    UInt("need_report"),  # 0 no, 1 yes
    UInt("priority"),  # 0 low .. 3 high
    Text("service_id", 10),
    Text("fee_type", 2),  # "00" free, "01" per message, "02" monthly, "03" capped
    Text("fee_code", 6),  # fen per message; go_smgp sends "0" unpadded (SMGP-03)
    Text("fixed_fee", 6),  # monthly fee or cap in fen; absent for ClientVersion 0x13 (smgp.md 5)
    UInt("msg_format"),  # 0 ASCII, 3 SIM write, 4 binary, 8 UCS2, 15 GB18030, 246 (U)SIM
    Text("valid_time", 17),  # SMPP time string, empty = default
    Text("at_time", 17),  # scheduled time, empty = now
    Text("src_term_id", 21),
    Text("charge_term_id", 21),  # empty = charge the receiver
    UInt("dest_term_id_count", length_of="dest_term_id"),  # <= 100
    Array("dest_term_id", "dest_term_id_count", Text("dest_term_id", 21), status=int(Status.ILLEGAL_DEST_TERM_ID)),
    UInt("msg_length", length_of="msg_content"),  # <= 140 for MT
    Octets("msg_content", length_field="msg_length", status=_BAD_MSG_LENGTH),
    Octets("reserve", size=8),
    tlvs(),  # whatever follows Reserve
))
SUBMIT_RESP = Command("submit_resp", 0x80000002, (
    Octets("msg_id", size=10),  # BCD or opaque binary (smgp.md 10); see smsgw.session.report_smgp
    UInt("status", 4),
))

DELIVER = Command("deliver", 0x00000003, (
    Octets("msg_id", size=10),  # id of this Deliver
    UInt("is_report"),  # 1 = msg_content is a status report (smgp.md 11)
    UInt("msg_format"),  # reports: 0
    Text("recv_time", 14),  # YYYYMMDDHHMMSS (empty in go_smgp's mock, SMGP-06)
    Text("src_term_id", 21),  # MO: the sender; report: the MT's receiver
    Text("dest_term_id", 21),  # MO: "118" + service code (+ extension) / SP number
    UInt("msg_length", length_of="msg_content"),
    Octets("msg_content", length_field="msg_length", status=_BAD_MSG_LENGTH),
    Octets("reserve", size=8),
    tlvs(),
))
DELIVER_RESP = Command("deliver_resp", 0x80000003, (
    Octets("msg_id", size=10),  # copied from the Deliver
    UInt("status", 4),
))

# No body either way; unlike CMPP, Active_Test_Resp has no reserved byte (smgp.md 6.5).
ACTIVE_TEST = Command("active_test", 0x00000004)
ACTIVE_TEST_RESP = Command("active_test_resp", 0x80000004)
EXIT = Command("exit", 0x00000006)
EXIT_RESP = Command("exit_resp", 0x80000006)

QUERY = Command("query", 0x00000007, (
    Text("query_time", 8),  # YYYYMMDD
    UInt("query_type"),  # 0 totals, 1 by service code
    Text("query_code", 10),  # the service code when query_type = 1
))
QUERY_RESP = Command("query_resp", 0x80000007, (
    Text("query_time", 8),
    UInt("query_type"),
    Text("query_code", 10),
    UInt("mt_tl_msg", 4),  # MT messages received from the SP
    UInt("mt_tl_usr", 4),  # MT users
    UInt("mt_scs", 4),  # MT forwarded successfully
    UInt("mt_wt", 4),  # MT waiting
    UInt("mt_fl", 4),  # MT failed
    UInt("mo_scs", 4),
    UInt("mo_wt", 4),
    UInt("mo_fl", 4),
    Octets("reserve", size=8),
))

COMMANDS: tuple[Command, ...] = (
    LOGIN, LOGIN_RESP, SUBMIT, SUBMIT_RESP, DELIVER, DELIVER_RESP, ACTIVE_TEST, ACTIVE_TEST_RESP,
    EXIT, EXIT_RESP, QUERY, QUERY_RESP,
)
