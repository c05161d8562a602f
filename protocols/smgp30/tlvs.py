"""SMGP 3.0 optional parameters (spec 5.1.2 and 6.3, smgp.md section 8).

Tag uint16, Length uint16 (of the value only), Value; appended after Reserve in
any order.  Unknown tags are kept under their integer tag and skipped by Length
(SMGP-08 carries tag 0x0014).  Fixed-size text values are padded to their spec
size on encode; on decode the Length on the wire is trusted (SMGP-08 sends
MServiceID with length 4, not 21).
"""

from __future__ import annotations

from smsgw.codec.fields import Tlvs, TlvSpec

from smsgw.protocols.smgp30.status import Status

TABLE: tuple[TlvSpec, ...] = (
    TlvSpec(0x0001, "tp_pid", "uint", 1),  # GSM 03.40 9.2.3.9
    TlvSpec(0x0002, "tp_udhi", "uint", 1),  # 1 = msg_content starts with a UDH
    TlvSpec(0x0003, "link_id", "text", 20),  # on-demand transaction id, copied from MO to MT
    TlvSpec(0x0004, "charge_user_type", "uint", 1),  # 0 receiver, 1 sender, 2 SP, 3 see charge_term_id/pseudo
    TlvSpec(0x0005, "charge_term_type", "uint", 1),  # 0 real number, 1 pseudo
    TlvSpec(0x0006, "charge_term_pseudo", "octets"),  # variable length
    TlvSpec(0x0007, "dest_term_type", "uint", 1),  # 0 real, 1 pseudo
    TlvSpec(0x0008, "dest_term_pseudo", "octets"),  # all receivers' pseudo numbers, equal lengths, concatenated
    TlvSpec(0x0009, "pk_total", "uint", 1),  # go_smgp sends 0: do not reject (SMGP-03)
    TlvSpec(0x000A, "pk_number", "uint", 1),  # from 1
    TlvSpec(0x000B, "submit_msg_type", "uint", 1),  # 0 normal, 1-4 (un)subscribe notices, 5 monthly charge notice
    TlvSpec(0x000C, "sp_deal_result", "uint", 1),  # spelled "SPDealReslt" in the spec table
    TlvSpec(0x000D, "src_term_type", "uint", 1),  # 0 real, 1 pseudo
    TlvSpec(0x000E, "src_term_pseudo", "octets"),  # variable length
    TlvSpec(0x000F, "nodes_count", "uint", 1),  # gateways passed (Forward)
    TlvSpec(0x0010, "msg_src", "text", 8),  # SP service code (fixed) / enterprise code (mobile)
    TlvSpec(0x0011, "src_type", "uint", 1),  # 0 real, 1 pseudo source number given to the SP
    TlvSpec(0x0012, "m_service_id", "text", 21),  # mobile-network business code (product id)
)

#: TLVs the spec allows in a Submit / a Deliver (smgp.md 8); the codec accepts any tag anywhere.
SUBMIT_TAGS = frozenset({
    "tp_pid", "tp_udhi", "link_id", "msg_src", "charge_user_type", "charge_term_type", "charge_term_pseudo",
    "dest_term_type", "dest_term_pseudo", "pk_total", "pk_number", "submit_msg_type", "sp_deal_result",
    "m_service_id",
})
DELIVER_TAGS = frozenset({
    "tp_pid", "tp_udhi", "link_id", "src_term_type", "src_term_pseudo", "submit_msg_type", "sp_deal_result",
})

_STRUCTURE = int(Status.MESSAGE_STRUCTURE)


def tlvs() -> Tlvs:
    """The TLV field ending Submit and Deliver bodies."""
    return Tlvs("tlvs", TABLE, status=_STRUCTURE, length_status=_STRUCTURE)
