"""SMPP 3.4 field values: message_state, esm_class, registered_delivery, data_coding, TON/NPI.

Spec sections 5.2.5 (addr_ton), 5.2.6 (addr_npi), 5.2.12 (esm_class), 5.2.17
(registered_delivery), 5.2.19 (data_coding), 5.2.25 (dest_flag), 5.2.28
(message_state, table 5-6); smpp-notes.md sections 8-12.  Data only.
"""

from __future__ import annotations

from enum import IntEnum

#: interface_version in bind_* and sc_interface_version in bind_*_resp (5.2.4);
#: 0x33 or lower means an SMPP 3.3 ESME, which must not be sent TLVs
INTERFACE_VERSION_33 = 0x33
INTERFACE_VERSION_34 = 0x34


class MessageState(IntEnum):
    """message_state of query_sm_resp and the message_state TLV (5.2.28, table 5-6)."""

    ENROUTE = 1
    DELIVERED = 2
    EXPIRED = 3
    DELETED = 4
    UNDELIVERABLE = 5
    ACCEPTED = 6
    UNKNOWN = 7
    REJECTED = 8


class Ton(IntEnum):
    """Type of number (5.2.5)."""

    UNKNOWN = 0
    INTERNATIONAL = 1
    NATIONAL = 2
    NETWORK_SPECIFIC = 3
    SUBSCRIBER_NUMBER = 4
    ALPHANUMERIC = 5
    ABBREVIATED = 6


class Npi(IntEnum):
    """Numbering plan indicator (5.2.6)."""

    UNKNOWN = 0
    ISDN = 1  # E.163/E.164
    DATA = 3  # X.121
    TELEX = 4  # F.69
    LAND_MOBILE = 6  # E.212
    NATIONAL = 8
    PRIVATE = 9
    ERMES = 10
    INTERNET = 14  # IP
    WAP_CLIENT_ID = 18


class DataCoding(IntEnum):
    """data_coding (5.2.19); the bits 0xC0-0xFF (GSM MWI and message class) are not listed."""

    DEFAULT = 0x00  # SMSC default alphabet: ambiguous (GSM 03.38 or ASCII), configurable per client
    IA5 = 0x01  # IA5 (CCITT T.50) / ASCII
    OCTET_UNSPECIFIED_2 = 0x02  # 8-bit binary
    LATIN1 = 0x03  # ISO-8859-1
    OCTET_UNSPECIFIED = 0x04  # 8-bit binary
    JIS = 0x05  # JIS X 0208-1990
    CYRILLIC = 0x06  # ISO-8859-5
    LATIN_HEBREW = 0x07  # ISO-8859-8
    UCS2 = 0x08  # ISO/IEC-10646, big-endian
    PICTOGRAM = 0x09
    MUSIC_CODES = 0x0A  # ISO-2022-JP
    EXTENDED_KANJI = 0x0D  # JIS X 0212-1990
    KS_C_5601 = 0x0E
    # reserved in SMPP 3.4, but Chinese SP clients send 15 = GBK as in CMPP Msg_Fmt (non-standard)
    GBK = 0x0F


# --- esm_class (5.2.12): three independent bit groups; test them with the masks.
ESM_MODE_MASK = 0x03  # bits 1-0: messaging mode
ESM_MODE_DEFAULT = 0x00  # default SMSC mode (store and forward for submit_sm)
ESM_MODE_DATAGRAM = 0x01
ESM_MODE_FORWARD = 0x02  # transaction mode
ESM_MODE_STORE_AND_FORWARD = 0x03

ESM_TYPE_MASK = 0x3C  # bits 5-2: message type
ESM_TYPE_DEFAULT = 0x00
ESM_TYPE_DELIVERY_RECEIPT = 0x04  # SMSC delivery receipt (deliver_sm)
ESM_TYPE_DELIVERY_ACK = 0x08  # SME delivery acknowledgement
ESM_TYPE_MANUAL_ACK = 0x10  # SME manual/user acknowledgement
ESM_TYPE_CONVERSATION_ABORT = 0x18  # Korean CDMA
ESM_TYPE_INTERMEDIATE_NOTIFICATION = 0x20

ESM_GSM_MASK = 0xC0  # bits 7-6: GSM network specific features
ESM_GSM_UDHI = 0x40  # short_message starts with a User Data Header
ESM_GSM_REPLY_PATH = 0x80

# --- registered_delivery (5.2.17)
RD_RECEIPT_MASK = 0x03  # bits 1-0: SMSC delivery receipt
RD_RECEIPT_NONE = 0x00
RD_RECEIPT_FINAL = 0x01  # on final outcome, success or failure
RD_RECEIPT_FAILURE = 0x02  # on failure only (no carrier equivalent: we filter successes ourselves)
RD_SME_ACK_MASK = 0x0C  # bits 3-2: SME originated acknowledgement
RD_SME_ACK_DELIVERY = 0x04
RD_SME_ACK_MANUAL = 0x08
RD_INTERMEDIATE = 0x10  # bit 4: intermediate notification

# --- priority_flag (5.2.14): 0 lowest .. 3 highest; larger values are invalid (ESME_RINVPRTFLG)
PRIORITY_MAX = 3

# --- replace_if_present_flag (5.2.18): 0 do not replace, 1 replace; others ESME_RINVREPFLAG
REPLACE_IF_PRESENT_MAX = 1

# --- dest_flag in submit_multi's dest_address (5.2.25)
DEST_FLAG_SME_ADDRESS = 1
DEST_FLAG_DISTRIBUTION_LIST = 2
#: number_of_dests in submit_multi (4.5.1): "a maximum of 254 destination addresses"
MAX_NUMBER_OF_DESTS = 254

#: short_message is 0..254 octets (5.2.22); longer text goes in message_payload
SHORT_MESSAGE_MAX = 254
#: message_payload TLV: its 2-byte length allows up to 64K - 1 octets (5.3.2.32)
MESSAGE_PAYLOAD_MAX = 0xFFFF

# --- network_error_code TLV first octet: network type (5.3.2.31)
NETWORK_TYPE_ANSI_136 = 1
NETWORK_TYPE_IS_95 = 2
NETWORK_TYPE_GSM = 3
