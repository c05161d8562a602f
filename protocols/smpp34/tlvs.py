"""SMPP 3.4 optional parameters (TLVs): the complete tag table (spec 5.3.2, table 5-7).

Kinds: ``uint`` values must have exactly ``size`` bytes (else ESME_RINVPARLEN);
``cstring`` values are NUL-terminated and at most ``size`` bytes with the NUL;
``octets`` are kept as raw bytes (``size`` there documents the spec's size, the
engine does not check it).  Unknown tags are kept under their integer tag so a
PDU re-encodes to the same bytes (smpp-notes.md section 6: ignore, don't fail).
"""

from __future__ import annotations

from smsgw.codec.fields import TlvSpec

# tag constants for the ones the gateway reads or writes itself
DEST_ADDR_SUBUNIT = 0x0005
SOURCE_TELEMATICS_ID = 0x0010
ADDITIONAL_STATUS_INFO_TEXT = 0x001D
RECEIPTED_MESSAGE_ID = 0x001E
USER_MESSAGE_REFERENCE = 0x0204
SOURCE_PORT = 0x020A
DESTINATION_PORT = 0x020B
SAR_MSG_REF_NUM = 0x020C
SAR_TOTAL_SEGMENTS = 0x020E
SAR_SEGMENT_SEQNUM = 0x020F
SC_INTERFACE_VERSION = 0x0210
NETWORK_ERROR_CODE = 0x0423
MESSAGE_PAYLOAD = 0x0424
DELIVERY_FAILURE_REASON = 0x0425
MORE_MESSAGES_TO_SEND = 0x0426
MESSAGE_STATE = 0x0427

TLV_TABLE: tuple[TlvSpec, ...] = (
    TlvSpec(0x0005, "dest_addr_subunit", "uint", 1),  # 5.3.2.1
    TlvSpec(0x0006, "dest_network_type", "uint", 1),  # 5.3.2.3
    TlvSpec(0x0007, "dest_bearer_type", "uint", 1),  # 5.3.2.5
    TlvSpec(0x0008, "dest_telematics_id", "uint", 2),  # 5.3.2.7
    TlvSpec(0x000D, "source_addr_subunit", "uint", 1),  # 5.3.2.2
    TlvSpec(0x000E, "source_network_type", "uint", 1),  # 5.3.2.4
    TlvSpec(0x000F, "source_bearer_type", "uint", 1),  # 5.3.2.6
    # 5.3.2.8 says a 1-octet value but refers to 5.3.2.7's 2-octet one; smpplib sends 2: keep raw bytes
    TlvSpec(0x0010, "source_telematics_id", "octets"),
    TlvSpec(0x0017, "qos_time_to_live", "uint", 4),  # 5.3.2.9, seconds
    TlvSpec(0x0019, "payload_type", "uint", 1),  # 5.3.2.10: 0 default, 1 WCMP
    TlvSpec(0x001D, "additional_status_info_text", "cstring", 256),  # 5.3.2.11
    TlvSpec(0x001E, "receipted_message_id", "cstring", 65),  # 5.3.2.12: the id of a DLR's message
    TlvSpec(0x0030, "ms_msg_wait_facilities", "uint", 1),  # 5.3.2.13
    TlvSpec(0x0201, "privacy_indicator", "uint", 1),  # 5.3.2.14
    TlvSpec(0x0202, "source_subaddress", "octets", 23),  # 5.3.2.15: 2..23 octets
    TlvSpec(0x0203, "dest_subaddress", "octets", 23),  # 5.3.2.16: 2..23 octets
    TlvSpec(0x0204, "user_message_reference", "uint", 2),  # 5.3.2.17: the ESME's own reference
    TlvSpec(0x0205, "user_response_code", "uint", 1),  # 5.3.2.18
    TlvSpec(0x020A, "source_port", "uint", 2),  # 5.3.2.20
    TlvSpec(0x020B, "destination_port", "uint", 2),  # 5.3.2.21
    TlvSpec(0x020C, "sar_msg_ref_num", "uint", 2),  # 5.3.2.22: concatenation reference
    TlvSpec(0x020D, "language_indicator", "uint", 1),  # 5.3.2.19
    TlvSpec(0x020E, "sar_total_segments", "uint", 1),  # 5.3.2.23
    TlvSpec(0x020F, "sar_segment_seqnum", "uint", 1),  # 5.3.2.24: from 1
    TlvSpec(0x0210, "sc_interface_version", "uint", 1),  # 5.3.2.25: in bind_*_resp
    TlvSpec(0x0302, "callback_num_pres_ind", "uint", 1),  # 5.3.2.37
    TlvSpec(0x0303, "callback_num_atag", "octets", 65),  # 5.3.2.38: data coding octet + display text
    TlvSpec(0x0304, "number_of_messages", "uint", 1),  # 5.3.2.39
    TlvSpec(0x0381, "callback_num", "octets", 19),  # 5.3.2.36: 4..19 octets
    TlvSpec(0x0420, "dpf_result", "uint", 1),  # 5.3.2.28
    TlvSpec(0x0421, "set_dpf", "uint", 1),  # 5.3.2.29
    TlvSpec(0x0422, "ms_availability_status", "uint", 1),  # 5.3.2.30: alert_notification
    # 5.3.2.31: 3 octets = network type (1) + error code (2); no 3-byte uint kind, so raw bytes
    TlvSpec(0x0423, "network_error_code", "octets", 3),
    TlvSpec(0x0424, "message_payload", "octets"),  # 5.3.2.32: up to 64K-1; then sm_length must be 0
    TlvSpec(0x0425, "delivery_failure_reason", "uint", 1),  # 5.3.2.33: data_sm_resp
    TlvSpec(0x0426, "more_messages_to_send", "uint", 1),  # 5.3.2.34
    TlvSpec(0x0427, "message_state", "uint", 1),  # 5.3.2.35: constants.MessageState
    # 5.3.2.44: typed as a 1-octet string in the spec, but it carries a numeric operation code
    TlvSpec(0x0501, "ussd_service_op", "uint", 1),
    TlvSpec(0x1201, "display_time", "uint", 1),  # 5.3.2.26
    TlvSpec(0x1203, "sms_signal", "uint", 2),  # 5.3.2.40
    TlvSpec(0x1204, "ms_validity", "uint", 1),  # 5.3.2.27
    # 5.3.2.41: length 0, its presence is the value; decoded as b""
    TlvSpec(0x130C, "alert_on_message_delivery", "octets", 0),
    TlvSpec(0x1380, "its_reply_type", "uint", 1),  # 5.3.2.42: CDMA
    # 5.3.2.43: 2 octets, session number and sequence number/end flag (CDMA)
    TlvSpec(0x1383, "its_session_info", "uint", 2),
)

TLV_BY_NAME = {t.name: t for t in TLV_TABLE}
TLV_BY_TAG = {t.tag: t for t in TLV_TABLE}
