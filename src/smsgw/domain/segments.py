"""Splitting a message into the segments carriers bill, each with its UDH.

Carriers bill per segment submitted, so ``count_segments`` is the charge and
must equal ``len(split(...))``; both use one chunking routine.  Lengths are in
*units*: septets for GSM7 (extension characters count 2), UTF-16 code units
for UCS2 (a character beyond the BMP counts 2), octets for every other coding.

Billing rules (units in one unsegmented message / per part after an 8-bit
reference UDH / per part after a 16-bit reference UDH):

=======  ======  =========  ==========  ============================================
Coding   single  part (6)   part (7)    why
=======  ======  =========  ==========  ============================================
GSM7     160     153        152         140 octets = 160 septets; a 6-octet UDH plus
                                        1 fill bit takes 7 septets, a 7-octet UDH 8
                                        (GSM 03.40 9.2.3.24); smpp-notes.md s. 10
UCS2     70      67         66          140 octets; 134 / 132 after the UDH
                                        (cmpp.md s. 9, vectors CMPP-24/25, SMPP-03)
ASCII    159     134        133         single: CMPP Msg_Fmt 0 requires
                                        Msg_Length < 160 (cmpp.md s. 8); parts: a
                                        long Msg_Fmt 0 message carries 140 octets
                                        minus the UDH per part (cmpp.md s. 9) - how
                                        an ISMG maps it to 7-bit on the air is
                                        gateway-specific, so we count what we submit
LATIN1,  140     134        133         140 octets of 8-bit user data
GBK,                                    (smpp-notes.md s. 10; cmpp.md s. 8: 140 GBK
BINARY                                  bytes = 70 Chinese characters)
=======  ======  =========  ==========  ============================================

A part never ends inside a character: a GSM escape pair, a UTF-16 surrogate
pair and a two-octet GBK character stay together, so a part may carry one unit
less than its capacity.  At most 255 parts (TT is one octet).  Other limits
(e.g. a contract that bills ASCII as 160/153) are passed in as ``limits``.

A signature such as 【签名】 is ordinary text: callers add it to the content
before counting, and it is billed like any other characters.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

import attrs

from smsgw.domain import gsm7
from smsgw.domain.coding import Coding, CodingError, char_units, encode, unit_length
from smsgw.domain.udh import Concat, concat_udh

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "MAX_PARTS",
    "Segment",
    "SegmentationError",
    "count_segments",
    "split",
]

#: TT and NN of the concatenation UDH are single octets (GSM 03.40 9.2.3.24.1)
MAX_PARTS = 255


@attrs.frozen
class Limits:
    """Units allowed in an unsegmented message, and per part after an 8-bit / 16-bit reference UDH."""

    single: int
    part: int
    part_16: int

    def __attrs_post_init__(self) -> None:
        # A part must hold the widest character (2 units) or splitting cannot progress.
        if self.single < 0 or self.part < 2 or self.part_16 < 2:
            raise ValueError(f"unusable limits {self!r}: parts must hold at least 2 units")

    def part_capacity(self, ref_bits: int) -> int:
        return self.part if ref_bits == 8 else self.part_16


#: the billing rules of the module docstring
DEFAULT_LIMITS: Mapping[Coding, Limits] = MappingProxyType(
    {
        Coding.GSM7: Limits(160, 153, 152),
        Coding.UCS2: Limits(70, 67, 66),
        Coding.ASCII: Limits(159, 134, 133),
        Coding.LATIN1: Limits(140, 134, 133),
        Coding.GBK: Limits(140, 134, 133),
        Coding.BINARY: Limits(140, 134, 133),
    }
)


class SegmentationError(ValueError):
    """The content cannot be split as asked (too many parts, wrong content type, bad reference)."""


@attrs.frozen
class Segment:
    """One submittable part: UDH (empty for an unsegmented message) and payload octets.

    ``payload`` is in ``coding``; for GSM7 it holds unpacked septets unless
    ``packed``, in which case it starts with the fill bits that follow the UDH
    (``udh + payload`` is the TP-UD).  ``units`` is the payload length in the
    coding's units (for packed GSM7, TP-UDL = UDH septets + ``units``).
    ``reference`` is not on the wire when ``total`` is 1.
    """

    coding: Coding
    number: int
    total: int
    reference: int
    udh: bytes
    payload: bytes
    units: int
    ref_bits: int = 8
    packed: bool = False

    @property
    def user_data(self) -> bytes:
        """UDH followed by the payload: what goes into short_message / Msg_Content."""
        return self.udh + self.payload

    @property
    def concat(self) -> Concat | None:
        """Concatenation information of a part of a long message; None when unsegmented."""
        if self.total == 1:
            return None
        return Concat(self.reference, self.total, self.number, self.ref_bits)


def _check_content(content: str | bytes, coding: Coding) -> None:
    if coding is Coding.BINARY:
        if not isinstance(content, (bytes, bytearray)):
            raise SegmentationError("BINARY content must be bytes")
    elif not isinstance(content, str):
        raise SegmentationError(f"{coding.name} content must be str, got {type(content).__name__}")


def _chunks(
    content: str | bytes, coding: Coding, ref_bits: int, limits: Mapping[Coding, Limits] | None
) -> list[tuple[int, int, int]]:
    """(start, end, units) of each part, as indexes into ``content``."""
    _check_content(content, coding)
    if ref_bits not in (8, 16):
        raise SegmentationError(f"reference is 8 or 16 bits, not {ref_bits}")
    limit = (DEFAULT_LIMITS if limits is None else limits)[coding]
    total_units = _fast_units(content, coding)
    if total_units is not None:
        if total_units <= limit.single:
            return [(0, len(content), total_units)]
        if total_units == len(content):  # every character one unit: cut at fixed places
            capacity = limit.part_capacity(ref_bits)
            return [(start, min(start + capacity, total_units), min(capacity, total_units - start))
                    for start in range(0, total_units, capacity)]
    if isinstance(content, str):
        costs = [char_units(char, coding, position) for position, char in enumerate(content)]
    else:
        costs = [1] * len(content)
    total_units = sum(costs)
    if total_units <= limit.single:
        return [(0, len(content), total_units)]
    capacity = limit.part_capacity(ref_bits)
    chunks: list[tuple[int, int, int]] = []
    start = 0
    used = 0
    for index, cost in enumerate(costs):
        if used + cost > capacity:
            chunks.append((start, index, used))
            start, used = index, 0
        used += cost
    chunks.append((start, len(costs), used))
    return chunks


def _fast_units(content: str | bytes, coding: Coding) -> int | None:
    """The content's length in units in one C-speed pass; None when it has a character the coding
    cannot carry (the per-character pass then names it)."""
    if not isinstance(content, str):
        return len(content)
    try:
        return unit_length(content, coding)
    except CodingError:
        return None


def count_segments(
    content: str | bytes,
    coding: Coding,
    *,
    ref_bits: int = 8,
    limits: Mapping[Coding, Limits] | None = None,
) -> int:
    """Segments ``content`` is billed as; equals ``len(split(...))`` with the same arguments.

    Unlike ``split`` it also answers above ``MAX_PARTS``, so a policy can say by
    how much a message is too long.  Raises ``CodingError`` for text the coding
    cannot carry.
    """
    return len(_chunks(content, coding, ref_bits, limits))


def split(
    content: str | bytes,
    coding: Coding,
    reference: int,
    *,
    ref_bits: int = 8,
    packed: bool = False,
    limits: Mapping[Coding, Limits] | None = None,
) -> list[Segment]:
    """Split text (bytes for BINARY) into segments; parts of a long message get a concatenation UDH.

    ``reference`` must fit ``ref_bits`` (8: 0-255, 16: 0-65535); use one per
    message and destination (cmpp.md section 9).  ``packed`` applies to GSM7 only.
    """
    if not 0 <= reference < 1 << (16 if ref_bits == 16 else 8):
        raise SegmentationError(f"reference {reference} does not fit {ref_bits} bits")
    chunks = _chunks(content, coding, ref_bits, limits)
    total = len(chunks)
    if total > MAX_PARTS:
        raise SegmentationError(f"content needs {total} parts; at most {MAX_PARTS} can be concatenated")
    pack = packed and coding is Coding.GSM7
    segments: list[Segment] = []
    for number, (start, end, units) in enumerate(chunks, start=1):
        piece = content[start:end]
        payload = bytes(piece) if isinstance(piece, (bytes, bytearray)) else encode(piece, coding)
        udh = concat_udh(Concat(reference, total, number, ref_bits)) if total > 1 else b""
        if pack:
            payload = gsm7.pack_septets(payload, gsm7.fill_bits_for_udh(len(udh)))
        segments.append(
            Segment(
                coding=coding,
                number=number,
                total=total,
                reference=reference,
                udh=udh,
                payload=payload,
                units=units,
                ref_bits=ref_bits,
                packed=pack,
            )
        )
    return segments

