"""SMGP 3.0 Status codes (spec 6.2.6, smgp.md section 7) and the report stat/err values (smgp.md 11).

Ranges 3-9, 13-19 and 23-29 are reserved, 50-55 and 112-116 "other uses",
128-255 vendor defined: they have no member here and decode as plain ints.
"""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """Status of Login_Resp, Submit_Resp, Deliver_Resp ... (spec 6.2.6)."""

    OK = 0
    SYSTEM_BUSY = 1
    TOO_MANY_CONNECTIONS = 2
    MESSAGE_STRUCTURE = 10
    COMMAND_WORD = 11
    DUPLICATE_SEQUENCE = 12
    IP_ADDRESS = 20
    AUTHENTICATION = 21
    VERSION_TOO_HIGH = 22
    ILLEGAL_MSG_TYPE = 30
    ILLEGAL_PRIORITY = 31
    ILLEGAL_FEE_TYPE = 32
    ILLEGAL_FEE_CODE = 33
    ILLEGAL_MSG_FORMAT = 34
    ILLEGAL_TIME_FORMAT = 35
    ILLEGAL_MSG_LENGTH = 36
    EXPIRED = 37
    ILLEGAL_QUERY_TYPE = 38
    ROUTING_ERROR = 39
    ILLEGAL_FIXED_FEE = 40
    ILLEGAL_UPDATE_TYPE = 41
    ILLEGAL_ROUTE_ID = 42
    ILLEGAL_SERVICE_ID = 43
    ILLEGAL_VALID_TIME = 44
    ILLEGAL_AT_TIME = 45
    ILLEGAL_SRC_TERM_ID = 46
    ILLEGAL_DEST_TERM_ID = 47
    ILLEGAL_CHARGE_TERM_ID = 48
    ILLEGAL_SP_CODE = 49
    ILLEGAL_SRC_GATEWAY_ID = 56
    ILLEGAL_QUERY_TERM_ID = 57
    NO_MATCHING_ROUTE = 58
    ILLEGAL_SP_TYPE = 59
    ILLEGAL_LAST_ROUTE_ID = 60
    ILLEGAL_ROUTE_TYPE = 61
    ILLEGAL_DEST_GATEWAY_ID = 62
    ILLEGAL_DEST_GATEWAY_IP = 63
    ILLEGAL_DEST_GATEWAY_PORT = 64
    ILLEGAL_TERM_RANGE_ID = 65
    ILLEGAL_PROVINCE_CODE = 66
    ILLEGAL_USER_TYPE = 67
    ROUTE_UPDATE_UNSUPPORTED = 68
    ILLEGAL_SP_ID = 69
    ILLEGAL_SP_ACCESS_TYPE = 70
    ROUTE_UPDATE_FAILED = 71
    ILLEGAL_TIME = 72
    ILLEGAL_MSERVICE_ID = 73
    SP_FORBIDDEN_PERIOD = 74
    SP_DAILY_LIMIT = 75
    SP_ACCOUNT_EXPIRED = 76


MEANINGS: dict[Status, str] = {
    Status.OK: "success",
    Status.SYSTEM_BUSY: "system busy",
    Status.TOO_MANY_CONNECTIONS: "exceeds maximum number of connections",
    Status.MESSAGE_STRUCTURE: "message structure error",
    Status.COMMAND_WORD: "command word error",
    Status.DUPLICATE_SEQUENCE: "duplicate sequence number",
    Status.IP_ADDRESS: "IP address error",
    Status.AUTHENTICATION: "authentication error",
    Status.VERSION_TOO_HIGH: "version too high",
    Status.ILLEGAL_MSG_TYPE: "illegal MsgType",
    Status.ILLEGAL_PRIORITY: "illegal Priority",
    Status.ILLEGAL_FEE_TYPE: "illegal FeeType",
    Status.ILLEGAL_FEE_CODE: "illegal FeeCode",
    Status.ILLEGAL_MSG_FORMAT: "illegal MsgFormat",
    Status.ILLEGAL_TIME_FORMAT: "illegal time format",
    Status.ILLEGAL_MSG_LENGTH: "illegal MsgLength",
    Status.EXPIRED: "validity period expired",
    Status.ILLEGAL_QUERY_TYPE: "illegal QueryType",
    Status.ROUTING_ERROR: "routing error",
    Status.ILLEGAL_FIXED_FEE: "illegal FixedFee",
    Status.ILLEGAL_UPDATE_TYPE: "illegal UpdateType",
    Status.ILLEGAL_ROUTE_ID: "illegal RouteId",
    Status.ILLEGAL_SERVICE_ID: "illegal ServiceId",
    Status.ILLEGAL_VALID_TIME: "illegal ValidTime",
    Status.ILLEGAL_AT_TIME: "illegal AtTime",
    Status.ILLEGAL_SRC_TERM_ID: "illegal SrcTermId",
    Status.ILLEGAL_DEST_TERM_ID: "illegal DestTermId",
    Status.ILLEGAL_CHARGE_TERM_ID: "illegal ChargeTermId",
    Status.ILLEGAL_SP_CODE: "illegal SPCode",
    Status.ILLEGAL_SRC_GATEWAY_ID: "illegal SrcGatewayID",
    Status.ILLEGAL_QUERY_TERM_ID: "illegal QueryTermID",
    Status.NO_MATCHING_ROUTE: "no matching route",
    Status.ILLEGAL_SP_TYPE: "illegal SPType",
    Status.ILLEGAL_LAST_ROUTE_ID: "illegal LastRouteID",
    Status.ILLEGAL_ROUTE_TYPE: "illegal RouteType",
    Status.ILLEGAL_DEST_GATEWAY_ID: "illegal DestGatewayID",
    Status.ILLEGAL_DEST_GATEWAY_IP: "illegal DestGatewayIP",
    Status.ILLEGAL_DEST_GATEWAY_PORT: "illegal DestGatewayPort",
    Status.ILLEGAL_TERM_RANGE_ID: "illegal TermRangeID",
    Status.ILLEGAL_PROVINCE_CODE: "illegal ProvinceCode",
    Status.ILLEGAL_USER_TYPE: "illegal UserType",
    Status.ROUTE_UPDATE_UNSUPPORTED: "node does not support route update",
    Status.ILLEGAL_SP_ID: "illegal SPID",
    Status.ILLEGAL_SP_ACCESS_TYPE: "illegal SPAccessType",
    Status.ROUTE_UPDATE_FAILED: "route update failed",
    Status.ILLEGAL_TIME: "illegal Time",
    Status.ILLEGAL_MSERVICE_ID: "illegal MServiceID",
    Status.SP_FORBIDDEN_PERIOD: "SP sending forbidden in this time period",
    Status.SP_DAILY_LIMIT: "SP exceeded daily volume",
    Status.SP_ACCOUNT_EXPIRED: "SP account expired",
}

#: ``ProtocolSpec.status_names``
STATUS_NAMES: dict[int, str] = {int(s): s.name for s in Status}

#: SMGP defines no per-second throttle code; "system busy" is the only retry-later signal
#: (smgp.md 7: SMSGate admits it does not know the telecom over-speed code).
RETRY_LATER = frozenset({Status.SYSTEM_BUSY})
#: Refusals that hold for the rest of the period/day/account, not for one message (judgement, uncertain).
FINAL_FOR_PERIOD = frozenset({Status.SP_FORBIDDEN_PERIOD, Status.SP_DAILY_LIMIT, Status.SP_ACCOUNT_EXPIRED})


class LoginMode(IntEnum):
    """Login LoginMode (smgp.md 4.1)."""

    SEND = 0  # MT only
    RECEIVE = 1  # the SMGW sends Deliver (MO and reports) on this link
    TRANSMIT = 2  # both


#: ClientVersion / ServerVersion values (high nibble major, low nibble minor; smgp.md 4.1, 5)
VERSION_30 = 0x30
VERSION_20 = 0x20
VERSION_13 = 0x13  # Submit without FixedFee (SMSGate; vector SMGP-08)

#: Report ``stat:`` values (smgp.md 11)
REPORT_STATS: dict[str, str] = {
    "DELIVRD": "delivered",
    "EXPIRED": "expired",
    "DELETED": "deleted",
    "UNDELIV": "undeliverable",
    "ACCEPTD": "accepted (kept for SMPP compatibility)",
    "UNKNOWN": "unknown",
    "REJECTD": "rejected",
}

#: Report ``err:`` values -> (meaning, the stat it goes with) (smgp.md 11)
REPORT_ERRORS: dict[str, tuple[str, str]] = {
    "000": ("success", "DELIVRD"),
    "001": ("user cannot communicate", "EXPIRED"),
    "002": ("user busy", "EXPIRED"),
    "003": ("terminal lacks this component", "UNDELIV"),
    "004": ("illegal user", "UNDELIV"),
    "005": ("user blacklisted", "UNDELIV"),
    "006": ("system error", "UNDELIV"),
    "007": ("handset memory full", "EXPIRED"),
    "008": ("not a messaging terminal", "UNDELIV"),
    "009": ("data error", "UNDELIV"),
    "010": ("data lost", "UNDELIV"),
    "999": ("unknown", "UNKNOWN"),
}
