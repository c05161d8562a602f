"""User Data Header (GSM 03.40 9.2.3.24) and the concatenation information it carries.

A UDH is UDHL (one octet: length of what follows) and information elements,
each IEI, IEDL, data.  Concatenation (9.2.3.24.1 and .8) uses IEI 0x00 with an
8-bit reference, ``05 00 03 RR TT NN``, or IEI 0x08 with a 16-bit reference,
``06 08 04 RRRR TT NN`` (cmpp.md section 9; smpp-notes.md section 11).  SMPP can
carry the same facts in the sar_* TLVs instead of a UDH.

03.40 tells a handset to *ignore* a concatenation element whose total is 0 or
whose number is 0 or above the total; a gateway cannot reassemble or forward
such a part faithfully, so here it is an error the caller must decide about
(typically: deliver the part as it is).
"""

from __future__ import annotations

from typing import Mapping

import attrs

__all__ = [
    "Concat",
    "IEI_CONCAT_8",
    "IEI_CONCAT_16",
    "InformationElement",
    "SAR_MSG_REF_NUM",
    "SAR_SEGMENT_SEQNUM",
    "SAR_TOTAL_SEGMENTS",
    "UdhError",
    "UserDataHeader",
    "concat_udh",
    "concat_udh_length",
    "parse_concat",
    "parse_udh",
    "sar_from_tlvs",
    "sar_to_tlvs",
]

#: concatenated short messages, 8-bit reference (GSM 03.40 9.2.3.24.1)
IEI_CONCAT_8 = 0x00
#: concatenated short messages, 16-bit reference (GSM 03.40 9.2.3.24.8)
IEI_CONCAT_16 = 0x08

#: SMPP 3.4 TLV tags (smpp-notes.md section 12); values are 2, 1 and 1 octets
SAR_MSG_REF_NUM = 0x020C
SAR_TOTAL_SEGMENTS = 0x020E
SAR_SEGMENT_SEQNUM = 0x020F


class UdhError(ValueError):
    """A UDH or concatenation information that cannot be trusted; the sender is at fault."""


@attrs.frozen
class Concat:
    """Which part of which long message this is: reference, total parts, this part's number (from 1)."""

    reference: int
    total: int
    number: int
    ref_bits: int = 8

    def __attrs_post_init__(self) -> None:
        if self.ref_bits not in (8, 16):
            raise UdhError(f"reference is 8 or 16 bits, not {self.ref_bits}")
        if not 0 <= self.reference < 1 << self.ref_bits:
            raise UdhError(f"reference {self.reference} does not fit {self.ref_bits} bits")
        if not 1 <= self.total <= 255:
            raise UdhError(f"total parts must be 1-255, got {self.total}")
        if not 1 <= self.number <= self.total:
            raise UdhError(f"part number must be 1-{self.total}, got {self.number}")


@attrs.frozen
class InformationElement:
    """One IE of a UDH: identifier and data (at most 255 octets)."""

    iei: int
    data: bytes

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.iei <= 0xFF:
            raise UdhError(f"IEI is one octet, got {self.iei}")
        if len(self.data) > 0xFF:
            raise UdhError(f"IE 0x{self.iei:02X} data of {len(self.data)} octets does not fit IEDL")

    def to_bytes(self) -> bytes:
        return bytes([self.iei, len(self.data)]) + self.data


@attrs.frozen
class UserDataHeader:
    """A parsed UDH: its information elements in wire order."""

    elements: tuple[InformationElement, ...]

    @property
    def length(self) -> int:
        """Octets on the wire, UDHL included."""
        return 1 + sum(2 + len(ie.data) for ie in self.elements)

    @property
    def concat(self) -> Concat | None:
        """The concatenation information, if any.

        GSM 03.40 9.2.3.24: when an element is repeated, or elements contradict
        each other (8-bit and 16-bit concatenation), the last one counts.
        """
        found: Concat | None = None
        for ie in self.elements:
            if ie.iei == IEI_CONCAT_8:
                if len(ie.data) != 3:
                    raise UdhError(f"concatenation IE 0x00 must have 3 data octets, has {len(ie.data)}")
                found = Concat(ie.data[0], ie.data[1], ie.data[2], 8)
            elif ie.iei == IEI_CONCAT_16:
                if len(ie.data) != 4:
                    raise UdhError(f"concatenation IE 0x08 must have 4 data octets, has {len(ie.data)}")
                found = Concat(int.from_bytes(ie.data[:2], "big"), ie.data[2], ie.data[3], 16)
        return found

    def to_bytes(self) -> bytes:
        body = b"".join(ie.to_bytes() for ie in self.elements)
        if len(body) > 255:
            raise UdhError(f"UDH body of {len(body)} octets does not fit UDHL")
        return bytes([len(body)]) + body


def concat_udh_length(ref_bits: int = 8) -> int:
    """Octets of a concatenation-only UDH: 6 for an 8-bit reference, 7 for a 16-bit one."""
    if ref_bits not in (8, 16):
        raise UdhError(f"reference is 8 or 16 bits, not {ref_bits}")
    return 6 if ref_bits == 8 else 7


def concat_udh(concat: Concat) -> bytes:
    """``05 00 03 RR TT NN`` (8-bit reference) or ``06 08 04 RRRR TT NN`` (16-bit)."""
    if concat.ref_bits == 8:
        return bytes([5, IEI_CONCAT_8, 3, concat.reference, concat.total, concat.number])
    return bytes([6, IEI_CONCAT_16, 4]) + concat.reference.to_bytes(2, "big") + bytes([concat.total, concat.number])


def parse_udh(user_data: bytes) -> tuple[UserDataHeader, bytes]:
    """Split user data that starts with a UDH into the header and the octets after it.

    Every element is kept, unknown ones included (e.g. 0x05 application port
    addressing); the payload is returned raw (for packed 7-bit text it starts
    with the fill bits, see ``gsm7.fill_bits_for_udh``).  Raises ``UdhError`` when
    a length overruns the data or an element overruns the header.
    """
    if not user_data:
        raise UdhError("UDH indicated but the user data is empty (no UDHL octet)")
    udhl = user_data[0]
    end = 1 + udhl
    if end > len(user_data):
        raise UdhError(f"UDHL {udhl} overruns the user data ({len(user_data) - 1} octets follow it)")
    elements: list[InformationElement] = []
    pos = 1
    while pos < end:
        if pos + 2 > end:
            raise UdhError(f"truncated information element at UDH offset {pos} (UDHL {udhl})")
        iei, iedl = user_data[pos], user_data[pos + 1]
        data_end = pos + 2 + iedl
        if data_end > end:
            raise UdhError(f"IE 0x{iei:02X} length {iedl} at UDH offset {pos} overruns the UDH (UDHL {udhl})")
        elements.append(InformationElement(iei, bytes(user_data[pos + 2 : data_end])))
        pos = data_end
    return UserDataHeader(tuple(elements)), bytes(user_data[end:])


def parse_concat(user_data: bytes) -> tuple[Concat | None, bytes]:
    """Concatenation information of user data that starts with a UDH (None if it has none), and the payload."""
    header, payload = parse_udh(user_data)
    return header.concat, payload


def sar_to_tlvs(concat: Concat) -> dict[int, bytes]:
    """SMPP sar_* TLV values (tag -> value octets) for the same concatenation information."""
    return {
        SAR_MSG_REF_NUM: concat.reference.to_bytes(2, "big"),
        SAR_TOTAL_SEGMENTS: bytes([concat.total]),
        SAR_SEGMENT_SEQNUM: bytes([concat.number]),
    }


def sar_from_tlvs(tlvs: Mapping[int, bytes]) -> Concat | None:
    """Concatenation information from SMPP sar_* TLV values (tag -> value octets).

    None when none of the three is present; ``UdhError`` when only some are, or a
    value has the wrong size.  sar_msg_ref_num is 16 bits, so the result has
    ``ref_bits=16``.
    """
    present = [tag for tag in (SAR_MSG_REF_NUM, SAR_TOTAL_SEGMENTS, SAR_SEGMENT_SEQNUM) if tag in tlvs]
    if not present:
        return None
    if len(present) != 3:
        missing = sorted({SAR_MSG_REF_NUM, SAR_TOTAL_SEGMENTS, SAR_SEGMENT_SEQNUM} - set(present))
        raise UdhError("incomplete sar_* TLVs: missing " + ", ".join(f"0x{tag:04X}" for tag in missing))
    for tag, size in ((SAR_MSG_REF_NUM, 2), (SAR_TOTAL_SEGMENTS, 1), (SAR_SEGMENT_SEQNUM, 1)):
        if len(tlvs[tag]) != size:
            raise UdhError(f"TLV 0x{tag:04X} must be {size} octet(s), is {len(tlvs[tag])}")
    return Concat(
        int.from_bytes(tlvs[SAR_MSG_REF_NUM], "big"),
        tlvs[SAR_TOTAL_SEGMENTS][0],
        tlvs[SAR_SEGMENT_SEQNUM][0],
        16,
    )
