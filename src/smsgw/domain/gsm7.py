"""GSM 03.38 default alphabet: text <-> septets, and septets <-> packed octets.

Two steps are kept apart on purpose:

* ``encode``/``decode`` map text to *unpacked* septets (one septet value
  0x00-0x7F per byte), the form SMPP clients put in ``short_message`` for
  data_coding 0 and the form we count segments in;
* ``pack_septets``/``unpack_septets`` squeeze septets into octets as on the air
  interface (GSM 03.38 section 6.1.2.1.1: septet n starts at bit 7n, least
  significant bit first), optionally after ``fill_bits`` zero bits so that the
  text starts on a septet boundary after a User Data Header (GSM 03.40
  9.2.3.24).

Characters of the extension table (GSM 03.38 6.2.1.1) are sent as the escape
septet 0x1B followed by their code, so they count as two septets.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

__all__ = [
    "ESCAPE",
    "Gsm7Error",
    "char_septets",
    "decode",
    "encode",
    "fill_bits_for_udh",
    "is_gsm7",
    "pack_septets",
    "packed_length",
    "septet_length",
    "unpack_septets",
]

#: The escape to the extension table (GSM 03.38 6.2.1, code 0x1B).
ESCAPE = 0x1B

# GSM 03.38 6.2.1, indexed by septet value; 0x1B (escape) is a placeholder and
# is never produced from or mapped to text.  0x09 is the capital C with cedilla
# as in the ETSI/Unicode mapping; 0x10-0x1A are Greek capitals, not look-alikes.
_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(_BASIC) == 128

# GSM 03.38 6.2.1.1: code after the escape -> character.  0x0A is the page
# break (form feed); 0x1B (a second escape) is reserved for a further table.
_EXTENSION: Mapping[int, str] = MappingProxyType(
    {
        0x0A: "\f",
        0x14: "^",
        0x28: "{",
        0x29: "}",
        0x2F: "\\",
        0x3C: "[",
        0x3D: "~",
        0x3E: "]",
        0x40: "|",
        0x65: "€",
    }
)

_TO_SEPTETS: Mapping[str, bytes] = MappingProxyType(
    {
        **{ch: bytes([code]) for code, ch in enumerate(_BASIC) if code != ESCAPE},
        **{ch: bytes([ESCAPE, code]) for code, ch in _EXTENSION.items()},
    }
)


class Gsm7Error(ValueError):
    """Text that the GSM 7-bit alphabet cannot carry, or bytes that are not septets."""

    def __init__(self, reason: str, *, char: str | None = None, position: int | None = None) -> None:
        self.reason = reason
        self.char = char
        self.position = position
        super().__init__(reason)


def _unencodable(char: str, position: int) -> Gsm7Error:
    return Gsm7Error(
        f"character {char!r} (U+{ord(char):04X}) at position {position} is not in the GSM 03.38 "
        "default alphabet or its extension table",
        char=char,
        position=position,
    )


def char_septets(char: str) -> int:
    """Septets one character takes: 1 in the basic table, 2 in the extension table.

    Raises ``Gsm7Error`` for a character outside both tables.
    """
    code = _TO_SEPTETS.get(char)
    if code is None:
        raise _unencodable(char, 0)
    return len(code)


def encode(text: str) -> bytes:
    """Text -> unpacked septets (one per byte); extension characters become 0x1B + code."""
    out = bytearray()
    for position, char in enumerate(text):
        code = _TO_SEPTETS.get(char)
        if code is None:
            raise _unencodable(char, position)
        out += code
    return bytes(out)


def decode(septets: bytes) -> str:
    """Unpacked septets -> text.

    Lenient where GSM 03.38 6.2.1.1 tells a receiver what to show: an escape
    followed by a code the extension table does not define shows the basic
    character for that code; an escape followed by another escape (reserved for a
    further extension table) or a lone escape at the end shows a space.  A value
    above 0x7F is not a septet and raises ``Gsm7Error``.
    """
    out: list[str] = []
    i = 0
    n = len(septets)
    while i < n:
        code = septets[i]
        if code > 0x7F:
            raise Gsm7Error(f"byte 0x{code:02X} at position {i} is not a septet (above 0x7F)", position=i)
        if code != ESCAPE:
            out.append(_BASIC[code])
            i += 1
            continue
        if i + 1 >= n:
            out.append(" ")
            i += 1
            continue
        nxt = septets[i + 1]
        if nxt > 0x7F:
            raise Gsm7Error(f"byte 0x{nxt:02X} at position {i + 1} is not a septet (above 0x7F)", position=i + 1)
        if nxt == ESCAPE:
            out.append(" ")
        else:
            out.append(_EXTENSION.get(nxt, _BASIC[nxt]))
        i += 2
    return "".join(out)


def is_gsm7(text: str) -> bool:
    """True when every character is in the default alphabet or its extension table."""
    return all(char in _TO_SEPTETS for char in text)


def septet_length(text: str) -> int:
    """Septets the text takes when encoded; extension characters count 2."""
    total = 0
    for position, char in enumerate(text):
        code = _TO_SEPTETS.get(char)
        if code is None:
            raise _unencodable(char, position)
        total += len(code)
    return total


def fill_bits_for_udh(udh_length: int) -> int:
    """Fill bits after a UDH of ``udh_length`` octets (UDHL included) so text starts on a septet boundary.

    GSM 03.40 9.2.3.24: 6 octets (8-bit reference concatenation) -> 1 fill bit,
    7 octets (16-bit reference) -> 0.
    """
    if udh_length < 0:
        raise ValueError(f"UDH length must not be negative, got {udh_length}")
    return (7 - (udh_length * 8) % 7) % 7


def packed_length(septet_count: int, fill_bits: int = 0) -> int:
    """Octets needed for ``septet_count`` septets after ``fill_bits`` fill bits."""
    return (fill_bits + 7 * septet_count + 7) // 8


def pack_septets(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septets into octets, LSB first (GSM 03.38 6.1.2.1.1).

    ``fill_bits`` (0-6) zero bits come first, as after a UDH (GSM 03.40 9.2.3.24);
    the result then starts with the octet that holds those fill bits, so
    ``udh + pack_septets(s, fill_bits_for_udh(len(udh)))`` is the whole user data.
    Unused high bits of the last octet are zero; the length is always
    ``packed_length(len(septets), fill_bits)``.
    """
    if not 0 <= fill_bits <= 6:
        raise ValueError(f"fill_bits must be 0-6, got {fill_bits}")
    acc = 0
    nbits = fill_bits
    out = bytearray()
    for position, septet in enumerate(septets):
        if septet > 0x7F:
            raise Gsm7Error(
                f"byte 0x{septet:02X} at position {position} is not a septet (above 0x7F)", position=position
            )
        acc |= septet << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits > 0:
        out.append(acc & 0xFF)
    return bytes(out)


def unpack_septets(data: bytes, count: int | None = None, fill_bits: int = 0) -> bytes:
    """Unpack octets into septets, skipping ``fill_bits`` leading bits.

    ``count`` is the number of septets (TP-UDL minus the UDH septets for SMS).
    Pass it when known: when 7 spare bits end the data, e.g. 7 septets in 7
    octets, there is no way to tell them from a trailing '@' (0x00) without it
    (GSM 03.38 6.1.2.3.1).  Without ``count`` every whole septet is returned.
    """
    if not 0 <= fill_bits <= 6:
        raise ValueError(f"fill_bits must be 0-6, got {fill_bits}")
    available = (len(data) * 8 - fill_bits) // 7 if data else 0
    if count is None:
        count = available
    elif count < 0 or count > available:
        raise Gsm7Error(f"{len(data)} octets after {fill_bits} fill bits hold {available} septets, not {count}")
    value = int.from_bytes(data, "little") >> fill_bits
    return bytes((value >> (7 * i)) & 0x7F for i in range(count))
