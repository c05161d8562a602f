"""SMPP 3.4 command_status values (spec section 5.1.3, table 5-2; smpp-notes.md section 3).

``CommandStatus`` is the complete 3.4 list; ``MEANINGS`` says what each means in
our words; ``STATUS_NAMES`` feeds ``ProtocolSpec.status_names``.  Values that
are not listed are reserved (0x100-0x3FF for SMPP extensions, 0x400-0x4FF for
SMSC vendors); peers may still send them, so code that prints a status must
not assume it is a member of the enum (use ``status_name``).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Mapping


class CommandStatus(IntEnum):
    """command_status of the SMPP header (the header's third uint32)."""

    ESME_ROK = 0x00000000
    ESME_RINVMSGLEN = 0x00000001
    ESME_RINVCMDLEN = 0x00000002
    ESME_RINVCMDID = 0x00000003
    ESME_RINVBNDSTS = 0x00000004
    ESME_RALYBND = 0x00000005
    ESME_RINVPRTFLG = 0x00000006
    ESME_RINVREGDLVFLG = 0x00000007
    ESME_RSYSERR = 0x00000008
    ESME_RINVSRCADR = 0x0000000A
    ESME_RINVDSTADR = 0x0000000B
    ESME_RINVMSGID = 0x0000000C
    ESME_RBINDFAIL = 0x0000000D
    ESME_RINVPASWD = 0x0000000E
    ESME_RINVSYSID = 0x0000000F
    ESME_RCANCELFAIL = 0x00000011
    ESME_RREPLACEFAIL = 0x00000013
    ESME_RMSGQFUL = 0x00000014
    ESME_RINVSERTYP = 0x00000015
    ESME_RINVNUMDESTS = 0x00000033
    ESME_RINVDLNAME = 0x00000034
    ESME_RINVDESTFLAG = 0x00000040
    ESME_RINVSUBREP = 0x00000042
    ESME_RINVESMCLASS = 0x00000043
    ESME_RCNTSUBDL = 0x00000044
    ESME_RSUBMITFAIL = 0x00000045
    # 0x48/0x49 and then 0x50/0x51: the spec skips 0x4A-0x4F (smpp-notes.md section 3)
    ESME_RINVSRCTON = 0x00000048
    ESME_RINVSRCNPI = 0x00000049
    ESME_RINVDSTTON = 0x00000050
    ESME_RINVDSTNPI = 0x00000051
    ESME_RINVSYSTYP = 0x00000053
    ESME_RINVREPFLAG = 0x00000054
    ESME_RINVNUMMSGS = 0x00000055
    ESME_RTHROTTLED = 0x00000058
    ESME_RINVSCHED = 0x00000061
    ESME_RINVEXPIRY = 0x00000062
    ESME_RINVDFTMSGID = 0x00000063
    ESME_RX_T_APPN = 0x00000064
    ESME_RX_P_APPN = 0x00000065
    ESME_RX_R_APPN = 0x00000066
    ESME_RQUERYFAIL = 0x00000067
    ESME_RINVOPTPARSTREAM = 0x000000C0
    ESME_ROPTPARNOTALLWD = 0x000000C1
    ESME_RINVPARLEN = 0x000000C2
    ESME_RMISSINGOPTPARAM = 0x000000C3
    ESME_RINVOPTPARAMVAL = 0x000000C4
    ESME_RDELIVERYFAILURE = 0x000000FE
    ESME_RUNKNOWNERR = 0x000000FF


S = CommandStatus

#: what each status means (our wording of table 5-2)
MEANINGS: Mapping[CommandStatus, str] = {
    S.ESME_ROK: "no error",
    S.ESME_RINVMSGLEN: "message length is invalid",
    S.ESME_RINVCMDLEN: "command length is invalid",
    S.ESME_RINVCMDID: "invalid command id",
    S.ESME_RINVBNDSTS: "incorrect bind status for the given command",
    S.ESME_RALYBND: "ESME already in bound state",
    S.ESME_RINVPRTFLG: "invalid priority flag",
    S.ESME_RINVREGDLVFLG: "invalid registered delivery flag",
    S.ESME_RSYSERR: "system error",
    S.ESME_RINVSRCADR: "invalid source address",
    S.ESME_RINVDSTADR: "invalid destination address",
    S.ESME_RINVMSGID: "message id is invalid",
    S.ESME_RBINDFAIL: "bind failed",
    S.ESME_RINVPASWD: "invalid password",
    S.ESME_RINVSYSID: "invalid system id",
    S.ESME_RCANCELFAIL: "cancel_sm failed",
    S.ESME_RREPLACEFAIL: "replace_sm failed",
    S.ESME_RMSGQFUL: "message queue full",
    S.ESME_RINVSERTYP: "invalid service type",
    S.ESME_RINVNUMDESTS: "invalid number of destinations",
    S.ESME_RINVDLNAME: "invalid distribution list name",
    S.ESME_RINVDESTFLAG: "destination flag is invalid (submit_multi)",
    S.ESME_RINVSUBREP: "invalid submit-with-replace request (replace_if_present_flag set)",
    S.ESME_RINVESMCLASS: "invalid esm_class field data",
    S.ESME_RCNTSUBDL: "cannot submit to distribution list",
    S.ESME_RSUBMITFAIL: "submit_sm or submit_multi failed",
    S.ESME_RINVSRCTON: "invalid source address TON",
    S.ESME_RINVSRCNPI: "invalid source address NPI",
    S.ESME_RINVDSTTON: "invalid destination address TON",
    S.ESME_RINVDSTNPI: "invalid destination address NPI",
    S.ESME_RINVSYSTYP: "invalid system_type field",
    S.ESME_RINVREPFLAG: "invalid replace_if_present flag",
    S.ESME_RINVNUMMSGS: "invalid number of messages",
    S.ESME_RTHROTTLED: "throttling error: the ESME has exceeded its allowed message rate",
    S.ESME_RINVSCHED: "invalid scheduled delivery time",
    S.ESME_RINVEXPIRY: "invalid message validity period (expiry time)",
    S.ESME_RINVDFTMSGID: "predefined message invalid or not found",
    S.ESME_RX_T_APPN: "ESME receiver temporary application error",
    S.ESME_RX_P_APPN: "ESME receiver permanent application error",
    S.ESME_RX_R_APPN: "ESME receiver reject message error",
    S.ESME_RQUERYFAIL: "query_sm request failed",
    S.ESME_RINVOPTPARSTREAM: "error in the optional part of the PDU body",
    S.ESME_ROPTPARNOTALLWD: "optional parameter not allowed",
    S.ESME_RINVPARLEN: "invalid parameter length",
    S.ESME_RMISSINGOPTPARAM: "expected optional parameter missing",
    S.ESME_RINVOPTPARAMVAL: "invalid optional parameter value",
    S.ESME_RDELIVERYFAILURE: "delivery failure (used in data_sm_resp)",
    S.ESME_RUNKNOWNERR: "unknown error",
}

#: ``ProtocolSpec.status_names``: code -> name
STATUS_NAMES: Mapping[int, str] = {int(s): s.name for s in CommandStatus}

#: reserved ranges that peers may still use (table 5-2)
EXTENSION_RANGE = range(0x100, 0x400)
VENDOR_RANGE = range(0x400, 0x500)


def status_name(code: int) -> str:
    """``ESME_R...`` for a known code, else a description of the range it falls in."""
    name = STATUS_NAMES.get(code)
    if name is not None:
        return name
    if code in EXTENSION_RANGE:
        return f"reserved for SMPP extension (0x{code:08x})"
    if code in VENDOR_RANGE:
        return f"SMSC vendor-specific (0x{code:08x})"
    return f"reserved (0x{code:08x})"
