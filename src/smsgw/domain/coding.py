"""Message codings: text <-> bytes, the wire codes of each protocol, and which coding to send.

Wire codes (smpp-notes.md section 10; cmpp.md section 8; sgip.md section 7; smgp.md section 9):

========  ==================  ==========================================
Coding    SMPP data_coding    CMPP Msg_Fmt / SGIP MessageCoding / SMGP MsgFormat
========  ==================  ==========================================
GSM7      0 (see below)       none: convert first
ASCII     1 (IA5)             0
LATIN1    3                   none: convert first (to UCS2)
BINARY    4 (2 read as well)  4 (3 "SIM write" read as binary)
UCS2      8                   8
GBK       15 (non-standard)   15
========  ==================  ==========================================

SMPP data_coding 0 means "the SMSC default alphabet", which some clients take
for GSM 03.38 and others for ASCII or Latin-1; what it means is a per-client
setting passed in as ``dc0``.  Codes nobody defines decode as BINARY so the
bytes pass through untouched.
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import Mapping

from smsgw.domain import gsm7

__all__ = [
    "CARRIER_PROTOCOLS",
    "Coding",
    "CodingError",
    "PROTOCOLS",
    "can_encode",
    "char_units",
    "choose_coding",
    "decode",
    "encode",
    "from_msg_fmt",
    "from_smpp_data_coding",
    "to_msg_fmt",
    "to_smpp_data_coding",
    "unit_length",
]


class Coding(enum.Enum):
    """How the bytes of a message's content represent its text."""

    GSM7 = "gsm7"
    """GSM 03.38 default alphabet; bytes here are unpacked septets, one per byte."""
    ASCII = "ascii"
    """IA5 / US-ASCII, one octet per character."""
    LATIN1 = "latin1"
    """ISO-8859-1, one octet per character."""
    BINARY = "binary"
    """8-bit data, not text."""
    UCS2 = "ucs2"
    """UTF-16BE without BOM; characters beyond the BMP as surrogate pairs."""
    GBK = "gbk"
    """GBK (one or two octets per character); read as GB18030, its superset."""


#: protocol ids of the carrier side (DESIGN.md; STYLE.md convention 7)
CARRIER_PROTOCOLS = frozenset({"cmpp20", "cmpp30", "sgip12", "smgp30"})
#: every protocol id ``choose_coding`` knows
PROTOCOLS = CARRIER_PROTOCOLS | {"smpp34"}

# Python codec names for the text codings other than GSM7.
_ENCODE_CODEC: Mapping[Coding, str] = MappingProxyType(
    {Coding.ASCII: "ascii", Coding.LATIN1: "latin-1", Coding.UCS2: "utf-16-be", Coding.GBK: "gbk"}
)
# cmpp.md section 8 and smgp.md section 9: read GBK as GB18030, a superset that
# also covers the four-byte sequences some gateways send under Msg_Fmt 15.
_DECODE_CODEC: Mapping[Coding, str] = MappingProxyType({**_ENCODE_CODEC, Coding.GBK: "gb18030"})


class CodingError(ValueError):
    """Text that a coding cannot carry, or bytes that are not valid in a coding."""

    def __init__(
        self, reason: str, *, coding: Coding, char: str | None = None, position: int | None = None
    ) -> None:
        self.reason = reason
        self.coding = coding
        self.char = char
        self.position = position
        super().__init__(reason)


def _unencodable(coding: Coding, char: str, position: int) -> CodingError:
    return CodingError(
        f"character {char!r} (U+{ord(char):04X}) at position {position} cannot be encoded in {coding.name}",
        coding=coding,
        char=char,
        position=position,
    )


def _not_text(coding: Coding) -> CodingError:
    return CodingError(f"{coding.name} content is bytes, not text", coding=coding)


def encode(text: str, coding: Coding) -> bytes:
    """Text -> content bytes (GSM7: unpacked septets).  Raises ``CodingError`` naming the character."""
    if coding is Coding.GSM7:
        try:
            return gsm7.encode(text)
        except gsm7.Gsm7Error as exc:
            assert exc.char is not None and exc.position is not None
            raise _unencodable(coding, exc.char, exc.position) from exc
    if coding is Coding.BINARY:
        raise _not_text(coding)
    try:
        return text.encode(_ENCODE_CODEC[coding])
    except UnicodeEncodeError as exc:
        raise _unencodable(coding, text[exc.start], exc.start) from exc


def decode(data: bytes, coding: Coding) -> str:
    """Content bytes -> text (GSM7: unpacked septets).  Raises ``CodingError`` on invalid bytes."""
    if coding is Coding.GSM7:
        try:
            return gsm7.decode(data)
        except gsm7.Gsm7Error as exc:
            raise CodingError(str(exc), coding=coding, position=exc.position) from exc
    if coding is Coding.BINARY:
        raise _not_text(coding)
    try:
        return data.decode(_DECODE_CODEC[coding])
    except UnicodeDecodeError as exc:
        raise CodingError(
            f"bytes {data[exc.start:exc.end].hex()} at offset {exc.start} are not valid {coding.name}: {exc.reason}",
            coding=coding,
            position=exc.start,
        ) from exc


def can_encode(text: str, coding: Coding) -> bool:
    """True when ``encode(text, coding)`` would succeed."""
    if coding is Coding.GSM7:
        return gsm7.is_gsm7(text)
    if coding is Coding.BINARY:
        return False
    try:
        text.encode(_ENCODE_CODEC[coding])
    except UnicodeEncodeError:
        return False
    return True


def char_units(char: str, coding: Coding, position: int = 0) -> int:
    """Length units one character takes: septets (GSM7), UTF-16 code units (UCS2), octets otherwise.

    ``position`` only goes into the error raised for a character the coding cannot carry.
    """
    if coding is Coding.GSM7:
        try:
            return gsm7.char_septets(char)
        except gsm7.Gsm7Error as exc:
            raise _unencodable(coding, char, position) from exc
    if coding is Coding.UCS2:
        # A lone surrogate cannot be sent; UTF-16 would refuse it anyway.
        if 0xD800 <= ord(char) <= 0xDFFF:
            raise _unencodable(coding, char, position)
        return 2 if ord(char) > 0xFFFF else 1
    if coding is Coding.BINARY:
        raise _not_text(coding)
    try:
        return len(char.encode(_ENCODE_CODEC[coding]))
    except UnicodeEncodeError as exc:
        raise _unencodable(coding, char, position) from exc


def unit_length(text: str, coding: Coding) -> int:
    """Length of the text in the units segments are counted in (see ``char_units``)."""
    if coding is Coding.GSM7:
        try:
            return gsm7.septet_length(text)
        except gsm7.Gsm7Error as exc:
            assert exc.char is not None and exc.position is not None
            raise _unencodable(coding, exc.char, exc.position) from exc
    if coding is Coding.UCS2:
        return len(encode(text, coding)) // 2
    return len(encode(text, coding))


# SMPP data_coding (smpp-notes.md section 10).

_FROM_SMPP: Mapping[int, Coding] = MappingProxyType(
    {
        0x01: Coding.ASCII,
        0x02: Coding.BINARY,
        0x03: Coding.LATIN1,
        0x04: Coding.BINARY,
        0x08: Coding.UCS2,
        0x0F: Coding.GBK,
    }
)
_TO_SMPP: Mapping[Coding, int] = MappingProxyType(
    {
        Coding.GSM7: 0x00,
        Coding.ASCII: 0x01,
        Coding.LATIN1: 0x03,
        Coding.BINARY: 0x04,
        Coding.UCS2: 0x08,
        Coding.GBK: 0x0F,
    }
)
_DC0_CHOICES = frozenset({Coding.GSM7, Coding.ASCII, Coding.LATIN1})


def _check_dc0(dc0: Coding) -> None:
    if dc0 not in _DC0_CHOICES:
        raise ValueError(f"data_coding 0 can mean GSM7, ASCII or LATIN1, not {dc0.name}")


def from_smpp_data_coding(data_coding: int, *, dc0: Coding = Coding.GSM7) -> Coding:
    """SMPP data_coding -> Coding; ``dc0`` is what this client means by 0.

    Besides the SMPP 3.4 codes, the GSM 03.38 section 4 data coding groups that
    clients use for class-0 ("flash") and class-marked messages are honoured:
    0x10-0x1F (uncompressed, with class; alphabet in bits 3-2) and 0xF0-0xFF
    (bit 2: 0 default alphabet, 1 8-bit data).  Anything else -> BINARY.
    """
    if not 0 <= data_coding <= 0xFF:
        raise ValueError(f"data_coding is one octet, got {data_coding}")
    _check_dc0(dc0)
    if data_coding == 0x00:
        return dc0
    known = _FROM_SMPP.get(data_coding)
    if known is not None:
        return known
    if 0x10 <= data_coding <= 0x1F:
        alphabet = (data_coding >> 2) & 0x03
        return {0: Coding.GSM7, 1: Coding.BINARY, 2: Coding.UCS2}.get(alphabet, Coding.BINARY)
    if data_coding >= 0xF0:
        return Coding.BINARY if data_coding & 0x04 else Coding.GSM7
    return Coding.BINARY


def to_smpp_data_coding(coding: Coding, *, dc0: Coding = Coding.GSM7) -> int:
    """Coding -> SMPP data_coding.  The client's ``dc0`` coding is sent as 0 (GSM7 always is)."""
    _check_dc0(dc0)
    if coding is dc0:
        return 0x00
    return _TO_SMPP[coding]


# CMPP Msg_Fmt, SGIP MessageCoding, SMGP MsgFormat (the same codes).

_FROM_MSG_FMT: Mapping[int, Coding] = MappingProxyType(
    {0: Coding.ASCII, 3: Coding.BINARY, 4: Coding.BINARY, 8: Coding.UCS2, 15: Coding.GBK}
)
_TO_MSG_FMT: Mapping[Coding, int] = MappingProxyType(
    {Coding.ASCII: 0, Coding.BINARY: 4, Coding.UCS2: 8, Coding.GBK: 15}
)


def from_msg_fmt(msg_fmt: int) -> Coding:
    """Carrier coding code -> Coding: 0 ASCII, 3 (SIM write) and 4 BINARY, 8 UCS2, 15 GBK; others BINARY.

    cmpp.md section 8: other values (0xF5, 0xF6, GSM classes) are seen in the
    wild and are passed through as binary.
    """
    if not 0 <= msg_fmt <= 0xFF:
        raise ValueError(f"Msg_Fmt is one octet, got {msg_fmt}")
    return _FROM_MSG_FMT.get(msg_fmt, Coding.BINARY)


def to_msg_fmt(coding: Coding) -> int:
    """Coding -> carrier coding code.  GSM7 and LATIN1 have none: re-encode (``choose_coding``) first."""
    code = _TO_MSG_FMT.get(coding)
    if code is None:
        raise CodingError(
            f"{coding.name} has no CMPP/SGIP/SMGP code; re-encode the text as ASCII or UCS2", coding=coding
        )
    return code


def choose_coding(text: str, protocol_id: str, *, smpp_alphabet: Coding = Coding.GSM7) -> Coding:
    """The coding to send ``text`` in over ``protocol_id``.

    Towards carriers (cmpp20, cmpp30, sgip12, smgp30): ASCII when every character
    is ASCII, else UCS2 (cmpp.md sections 8-9: UCS2 is what every ISMG/SMG
    accepts for Chinese and for long messages).  Towards SMPP clients
    (smpp34): ``smpp_alphabet`` - the client's configured meaning of
    data_coding 0, GSM7 by default - when the text fits it, else UCS2.
    """
    if protocol_id in CARRIER_PROTOCOLS:
        return Coding.ASCII if text.isascii() else Coding.UCS2
    if protocol_id == "smpp34":
        _check_dc0(smpp_alphabet)
        return smpp_alphabet if can_encode(text, smpp_alphabet) else Coding.UCS2
    raise ValueError(f"unknown protocol id {protocol_id!r}; expected one of {sorted(PROTOCOLS)}")
