"""CMPP status and result codes with their meanings (cmpp.md sections 5.2, 5.6, 5.8, 5.9, 5.11).

Shared by CMPP 2.0 and 3.0: the codes are the same, only their width on the
wire differs (1 byte in 2.0 responses, 4 bytes in 3.0).  Codes marked
``vendor`` are not in the spec; they come from 743v45/node-cmpp-2's error
tables (lib/commandsConfig.js) and are unverified against a real ISMG.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

import attrs


@attrs.frozen
class Code:
    """One status/result code: its value, a short name and what it means."""

    value: int
    name: str
    meaning: str
    #: outside the spec (vendor specific, unverified)
    vendor: bool = False


def _table(*codes: Code) -> Mapping[int, Code]:
    return MappingProxyType({c.value: c for c in codes})


def _vendor(value: int, name: str, meaning: str) -> Code:
    return Code(value, name, meaning + " (vendor, unverified)", vendor=True)


# CONNECT_RESP Status (cmpp.md 5.2); the ISMG closes the connection after any non-zero status.
CONNECT_STATUS = _table(
    Code(0, "ok", "success"),
    Code(1, "structure_error", "message structure error"),
    Code(2, "illegal_source_addr", "illegal source address (unknown SP_Id)"),
    Code(3, "auth_error", "authentication error (AuthenticatorSource mismatch)"),
    Code(4, "version_too_high", "version too high (server does not speak the requested version)"),
    Code(5, "other", "other error (5 and above)"),
    _vendor(55, "too_many_system_links", "too many interfaces on the system"),
    _vendor(56, "too_many_account_links", "too many interfaces for this account"),
    _vendor(57, "bad_login_ip", "SP login from an IP address not allowed"),
    _vendor(58, "soap_thread_failed", "could not create the SOAP handler thread"),
    _vendor(60, "wrong_proxy", "account does not belong to this proxy"),
)

# SUBMIT_RESP Result (cmpp.md 5.6; spec 8.7.2: 0-99 reserved by CMPP, 100-199 vendor specific).
# 8 is the only code to retry (flow control); treat the others, known or not, as final.
SUBMIT_RESULT = _table(
    Code(0, "ok", "success"),
    Code(1, "structure_error", "message structure error"),
    Code(2, "command_error", "command word error (unknown Command_Id)"),
    Code(3, "duplicate_sequence", "duplicate sequence number"),
    Code(4, "length_error", "message length error"),
    Code(5, "fee_code_error", "fee code error"),
    Code(6, "too_long", "exceeds the maximum message length"),
    Code(7, "service_id_error", "service code (Service_Id) error"),
    Code(8, "flow_control", "flow control error: sending too fast, back off and resend"),
    Code(9, "fee_number_not_served", "this gateway does not serve the charged number"),
    Code(10, "src_id_error", "Src_Id error"),
    Code(11, "msg_src_error", "Msg_src error"),
    Code(12, "fee_terminal_id_error", "Fee_terminal_Id error"),
    Code(13, "dest_terminal_id_error", "Dest_terminal_Id error"),
    # node-cmpp-2's 51-55 are its own client-side pseudo errors, never on the wire: left out
    _vendor(61, "validity_expired", "validity period already expired"),
    _vendor(62, "schedule_expired", "scheduled delivery time already passed"),
    _vendor(63, "unknown_fee_type", "FeeType not recognised"),
    _vendor(64, "mt_source_auth_failed", "sending service: source address authentication failed"),
    _vendor(65, "mt_dest_auth_failed", "sending service: destination address authentication failed"),
    _vendor(66, "mo_source_auth_failed", "receiving service: source address authentication failed"),
    _vendor(67, "mo_dest_auth_failed", "receiving service: destination address authentication failed"),
    _vendor(68, "user_auth_failed", "user authentication failed"),
    _vendor(69, "blacklisted", "the user is blacklisted"),
    _vendor(70, "link_down", "network disconnected or the destination closed its interface"),
    _vendor(71, "too_many_nodes", "exceeds the maximum number of nodes"),
    _vendor(72, "no_route", "no route found"),
    _vendor(73, "response_timeout", "timed out waiting for a response"),
    _vendor(74, "scp_failed", "sending to the SCP failed"),
    _vendor(75, "scp_auth_timeout", "timed out waiting for the SCP authentication response"),
    _vendor(76, "security_auth_failed", "information security authentication failed"),
    _vendor(77, "submit_limit", "exceeds the maximum number of submits"),
    _vendor(78, "empty_sp_id", "SP_Id is empty"),
    _vendor(79, "empty_service_type", "service type is empty"),
    _vendor(80, "cp_code_error", "CP code error"),
    _vendor(81, "duplicate_interface", "send/receive interface duplicated"),
    _vendor(82, "routing_loop", "routing loop"),
    _vendor(83, "mtu_exceeded", "exceeds the receiving side's short message MTU"),
    _vendor(84, "dsmp_resend_failed", "resend to the DSMP failed"),
    _vendor(85, "dsmp_busy", "DSMP busy, resend"),
    _vendor(86, "dsmp_busy_cache_full", "DSMP busy and cache full, resend"),
    _vendor(87, "dsmp_flow_control", "DSMP flow control, resend"),
    _vendor(88, "dsmp_timeout", "timed out waiting for the DSMP, resend"),
    _vendor(202, "not_prepaid", "not a Shenzhouxing prepaid user"),
    _vendor(203, "database_error", "database operation failed"),
    _vendor(206, "account_data_error", "mobile user account data abnormal"),
    _vendor(208, "insufficient_balance", "user balance insufficient"),
    _vendor(210, "arrears_limit", "exceeds the maximum arrears"),
    _vendor(215, "duplicate_charge", "duplicate charging request with the same Msg_Id"),
    _vendor(218, "scp_interconnect_failed", "SCP interconnection failed"),
    _vendor(222, "unregistered_sp", "SP not registered"),
    _vendor(232, "monthly_limit", "monthly spending limit exceeded"),
    _vendor(241, "undefined", "undefined"),
    _vendor(250, "queue_full", "message queue full"),
)

# DELIVER_RESP Result (cmpp.md 5.9): the first codes of the submit table, 9 and above "other".
DELIVER_RESULT = _table(
    *(SUBMIT_RESULT[v] for v in range(9)),
    Code(9, "other", "other error"),
)

# CANCEL_RESP Success_Id (cmpp.md 5.11)
CANCEL_SUCCESS = _table(
    Code(0, "ok", "cancelled"),
    Code(1, "failed", "cancel failed"),
)

#: status report Stat values (spec table 1; cmpp.md 5.8).  Only DELIVRD is success.
REPORT_STAT: Mapping[str, str] = MappingProxyType({
    "DELIVRD": "delivered to the handset",
    "EXPIRED": "validity period expired before delivery",
    "DELETED": "deleted",
    "UNDELIV": "undeliverable",
    "ACCEPTD": "accepted (intermediate state; the gateway should not forward it)",
    "UNKNOWN": "unknown state",
    "REJECTD": "rejected",
})

#: gateway-generated Stat values "XX:nnnn": the two letters say which hop failed
REPORT_STAT_PREFIX: Mapping[str, str] = MappingProxyType({
    "MA": "SMSC gave no response",
    "MB": "SMSC returned an error",
    "MC": "no status report from the SMSC",
    "CA": "SCP gave no response",
    "CB": "SCP returned an error",
    "DA": "DSMP gave no response",
    "DB": "DSMP returned an error",
    "SA": "SP gave no response",
    "SB": "SP returned an error",
    "IA": "next ISMG gave no response",
    "IB": "next ISMG returned an error",
    "IC": "no status report from the next ISMG",
})

#: the Stat of a successful delivery; any other value is a failure (keep the raw string)
STAT_DELIVERED = "DELIVRD"

# The codes the codec engine answers with (ProtocolSpec); their meanings are
# those of SUBMIT_RESULT/DELIVER_RESULT.  CONNECT_RESP agrees on 1 only.
STRUCTURE_ERROR = 1
COMMAND_ERROR = 2
LENGTH_ERROR = 4

#: names for ``ProtocolSpec.status_names`` (the submit/deliver result table, spec codes only)
STATUS_NAMES: Mapping[int, str] = MappingProxyType(
    {c.value: c.name for c in SUBMIT_RESULT.values() if not c.vendor}
)
