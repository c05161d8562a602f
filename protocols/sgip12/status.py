"""SGIP 1.2 result/error codes (spec 5.2) and the charge classes (FeeType, spec 5.3).

Codes 1-20 are mostly answered in ``*_resp`` Result fields, 21-33 are sent in
a Report's ErrorCode when State = 2 (sgip.md section 5).
"""

from __future__ import annotations

from enum import IntEnum


class Result(IntEnum):
    """Result of a ``*_resp`` and ErrorCode of a Report (spec 5.2)."""

    OK = 0
    ILLEGAL_LOGIN = 1
    REPEATED_LOGIN = 2
    TOO_MANY_CONNECTIONS = 3
    WRONG_LOGIN_TYPE = 4
    PARAMETER_FORMAT = 5
    ILLEGAL_MOBILE_NUMBER = 6
    MESSAGE_ID = 7
    MESSAGE_LENGTH = 8
    ILLEGAL_SEQUENCE = 9
    ILLEGAL_GNS_OPERATION = 10
    NODE_BUSY = 11
    DESTINATION_UNREACHABLE = 21  # go_sgip's enum wrongly yields 33 for this one (sgip.md section 5)
    ROUTING_ERROR = 22
    NO_ROUTE = 23
    INVALID_CHARGE_NUMBER = 24
    USER_UNREACHABLE = 25
    HANDSET_MEMORY_FULL = 26
    HANDSET_NO_SMS = 27
    HANDSET_RECEIVE_ERROR = 28
    UNKNOWN_USER = 29
    FUNCTION_NOT_PROVIDED = 30
    ILLEGAL_DEVICE = 31
    SYSTEM_FAILURE = 32
    SMSC_QUEUE_FULL = 33


MEANINGS: dict[Result, str] = {
    Result.OK: "no error",
    Result.ILLEGAL_LOGIN: "illegal login (name/password wrong or mismatched)",
    Result.REPEATED_LOGIN: "repeated login on the same connection",
    Result.TOO_MANY_CONNECTIONS: "too many connections from one node",
    Result.WRONG_LOGIN_TYPE: "wrong login type",
    Result.PARAMETER_FORMAT: "parameter format error",
    Result.ILLEGAL_MOBILE_NUMBER: "illegal mobile number (missing 86 or not a valid number)",
    Result.MESSAGE_ID: "message id error",
    Result.MESSAGE_LENGTH: "message length error",
    Result.ILLEGAL_SEQUENCE: "illegal sequence number (duplicate or badly formed)",
    Result.ILLEGAL_GNS_OPERATION: "illegal GNS operation",
    Result.NODE_BUSY: "node busy (queue full etc.)",
    Result.DESTINATION_UNREACHABLE: "destination unreachable",
    Result.ROUTING_ERROR: "routing error",
    Result.NO_ROUTE: "route does not exist",
    Result.INVALID_CHARGE_NUMBER: "charge number invalid (authentication failed)",
    Result.USER_UNREACHABLE: "user cannot be reached (out of coverage, switched off)",
    Result.HANDSET_MEMORY_FULL: "handset memory full",
    Result.HANDSET_NO_SMS: "handset does not support SMS",
    Result.HANDSET_RECEIVE_ERROR: "handset error receiving SMS",
    Result.UNKNOWN_USER: "unknown user",
    Result.FUNCTION_NOT_PROVIDED: "function not provided",
    Result.ILLEGAL_DEVICE: "illegal device",
    Result.SYSTEM_FAILURE: "system failure",
    Result.SMSC_QUEUE_FULL: "SMSC queue full",
}

#: ``ProtocolSpec.status_names``
STATUS_NAMES: dict[int, str] = {int(r): r.name for r in Result}

#: The "slow down" signal of SGIP (DESIGN.md section 3.5: back off, keep the segment).
THROTTLE = Result.NODE_BUSY
#: SMSGate also treats 88 (0x58, SMPP's ESME_RTHROTTLED) as "resend later" for SGIP.  It is not
#: in the spec and was seen in no capture (uncertain, carrier-specific): links may opt in.
UNOFFICIAL_THROTTLE = 88


class FeeType(IntEnum):
    """Submit FeeType, the charge class (spec 5.3)."""

    SEND_ONLY = 0  # no information fee; only deducts the SP's symmetric channel fee
    FREE = 1
    PER_MESSAGE = 2
    MONTHLY = 3  # FeeValue is the monthly fee
    SP_COLLECTED = 4


FEE_TYPE_MEANINGS: dict[FeeType, str] = {
    FeeType.SEND_ONLY: "'send' type: no information fee, only for deducting the SP's symmetric channel fee",
    FeeType.FREE: "free for the charged number",
    FeeType.PER_MESSAGE: "charged per message",
    FeeType.MONTHLY: "monthly fee",
    FeeType.SP_COLLECTED: "fee collected by the SP",
}


class LoginType(IntEnum):
    """Bind LoginType (sgip.md 4.1 and section 1)."""

    SP_TO_SMG = 1
    SMG_TO_SP = 2
    SMG_TO_SMG = 3
    SMG_TO_GNS = 4
    GNS_TO_SMG = 5
    GNS_TO_GNS = 6
    TEST = 11  # test connection carrying Trace


class ReportState(IntEnum):
    """Report State (sgip.md 4.6)."""

    DELIVERED = 0
    WAITING = 1
    FAILED = 2  # ErrorCode then carries a Result, usually 21-33


class ReportFlag(IntEnum):
    """Submit ReportFlag (sgip.md 4.4)."""

    ON_FAILURE = 0  # default: a report only when the message finally fails
    ALWAYS = 1
    NEVER = 2
    MONTHLY_BILLING = 3  # monthly-billing-only message: not delivered, report required
