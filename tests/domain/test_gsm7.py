"""GSM 03.38 alphabet and septet packing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgw.domain import gsm7

# GSM 03.38 6.2.1 default alphabet as (septet, Unicode code point), written out
# from the spec table (and the ETSI/Unicode GSM0338 mapping), not from the module.
BASIC = [
    (0x00, 0x0040), (0x01, 0x00A3), (0x02, 0x0024), (0x03, 0x00A5), (0x04, 0x00E8), (0x05, 0x00E9),
    (0x06, 0x00F9), (0x07, 0x00EC), (0x08, 0x00F2), (0x09, 0x00C7), (0x0A, 0x000A), (0x0B, 0x00D8),
    (0x0C, 0x00F8), (0x0D, 0x000D), (0x0E, 0x00C5), (0x0F, 0x00E5), (0x10, 0x0394), (0x11, 0x005F),
    (0x12, 0x03A6), (0x13, 0x0393), (0x14, 0x039B), (0x15, 0x03A9), (0x16, 0x03A0), (0x17, 0x03A8),
    (0x18, 0x03A3), (0x19, 0x0398), (0x1A, 0x039E), (0x1C, 0x00C6), (0x1D, 0x00E6), (0x1E, 0x00DF),
    (0x1F, 0x00C9), (0x24, 0x00A4), (0x40, 0x00A1), (0x5B, 0x00C4), (0x5C, 0x00D6), (0x5D, 0x00D1),
    (0x5E, 0x00DC), (0x5F, 0x00A7), (0x60, 0x00BF), (0x7B, 0x00E4), (0x7C, 0x00F6), (0x7D, 0x00F1),
    (0x7E, 0x00FC), (0x7F, 0x00E0),
]
# 0x20-0x23, 0x25-0x3F, 0x41-0x5A, 0x61-0x7A are the ASCII characters of the same code.
BASIC += [(c, c) for c in [*range(0x20, 0x24), *range(0x25, 0x40), *range(0x41, 0x5B), *range(0x61, 0x7B)]]

# GSM 03.38 6.2.1.1 extension table: code after 0x1B -> character.
EXTENSION = [
    (0x0A, "\f"), (0x14, "^"), (0x28, "{"), (0x29, "}"), (0x2F, "\\"),
    (0x3C, "["), (0x3D, "~"), (0x3E, "]"), (0x40, "|"), (0x65, "€"),
]

ALPHABET = "".join(chr(cp) for _, cp in BASIC) + "".join(ch for _, ch in EXTENSION)


def test_basic_table_is_complete() -> None:
    assert sorted(code for code, _ in BASIC) == [c for c in range(128) if c != 0x1B]


@pytest.mark.parametrize(("code", "codepoint"), BASIC)
def test_basic_table_round_trip(code: int, codepoint: int) -> None:
    char = chr(codepoint)
    assert gsm7.encode(char) == bytes([code])
    assert gsm7.decode(bytes([code])) == char
    assert gsm7.septet_length(char) == 1
    assert gsm7.char_septets(char) == 1


@pytest.mark.parametrize(("code", "char"), EXTENSION)
def test_extension_table_round_trip(code: int, char: str) -> None:
    assert gsm7.encode(char) == bytes([0x1B, code])
    assert gsm7.decode(bytes([0x1B, code])) == char
    assert gsm7.septet_length(char) == 2
    assert gsm7.char_septets(char) == 2


def test_whole_alphabet_round_trips_in_one_string() -> None:
    septets = gsm7.encode(ALPHABET)
    assert len(septets) == 127 + 2 * 10
    assert gsm7.septet_length(ALPHABET) == 147
    assert gsm7.decode(septets) == ALPHABET
    assert gsm7.is_gsm7(ALPHABET)


@pytest.mark.parametrize("text", ["中", "ç", "`", "\t", "\x1b", "é€ç", "😀", "\u2126"])
def test_outside_alphabet(text: str) -> None:
    assert not gsm7.is_gsm7(text)
    with pytest.raises(gsm7.Gsm7Error):
        gsm7.encode(text)


def test_encode_error_names_character_and_position() -> None:
    with pytest.raises(gsm7.Gsm7Error) as info:
        gsm7.encode("ab中c")
    assert info.value.char == "中"
    assert info.value.position == 2
    assert "'中'" in str(info.value) and "U+4E2D" in str(info.value) and "position 2" in str(info.value)
    with pytest.raises(gsm7.Gsm7Error, match=r"U\+4E2D"):
        gsm7.septet_length("ab中c")


def test_septet_length_counts_extension_characters_twice() -> None:
    assert gsm7.septet_length("") == 0
    assert gsm7.septet_length("abc") == 3
    assert gsm7.septet_length("a{b}€") == 1 + 2 + 1 + 2 + 2


def test_decode_is_lenient_where_03_38_says_what_to_show() -> None:
    # escape + undefined extension code: show the basic character of that code
    assert gsm7.decode(b"\x1b\x41") == "A"
    # escape + escape (reserved for another table) and a lone trailing escape: a space
    assert gsm7.decode(b"a\x1b\x1bb") == "a b"
    assert gsm7.decode(b"ab\x1b") == "ab "


def test_decode_rejects_bytes_that_are_not_septets() -> None:
    with pytest.raises(gsm7.Gsm7Error, match="0x80 at position 1"):
        gsm7.decode(b"a\x80")
    with pytest.raises(gsm7.Gsm7Error, match="0xFF at position 1"):
        gsm7.decode(b"\x1b\xff")


# Packing golden values, all from other projects' tests.  "hellohello" and
# "How are you?" are the classic PDU-mode examples (the SMS-DELIVER ending in
# ...0CC8F71D14969741F977FD07 appears in many decoders' test suites; hellohello
# in the python "sms" module's tests); "hello world" and 160 x "x" are from the
# ATTestCF PduEncoder tests; "hello", "12345678" and "[10€]" from Qotto
# smspdu's GSM codec tests.
PACKED = [
    ("hellohello", "e8329bfd4697d9ec37"),
    ("How are you?", "c8f71d14969741f977fd07"),
    ("hello", "e8329bfd06"),
    ("hello world", "e8329bfd06dddf723619"),
    ("12345678", "31d98c56b3dd70"),
    ("[10€]", "1b5e0cb6296f7c"),
    ("x" * 160, "783c1e8fc7e3f1" * 20),
    ("", ""),
]


@pytest.mark.parametrize(("text", "packed"), PACKED)
def test_pack_golden(text: str, packed: str) -> None:
    septets = gsm7.encode(text)
    assert gsm7.pack_septets(septets).hex() == packed
    assert gsm7.unpack_septets(bytes.fromhex(packed), len(septets)) == septets
    assert gsm7.decode(gsm7.unpack_septets(bytes.fromhex(packed), len(septets))) == text


def test_160_septets_fill_140_octets() -> None:
    assert len(gsm7.pack_septets(bytes(160))) == 140
    assert gsm7.packed_length(160) == 140
    assert gsm7.packed_length(153, fill_bits=1) == 134


def test_unpack_needs_the_count_when_seven_bits_are_spare() -> None:
    # 7 septets in 7 octets leave 7 spare bits that read as '@' (03.38 6.1.2.3.1)
    packed = gsm7.pack_septets(gsm7.encode("1234567"))
    assert packed.hex() == "31d98c56b3dd00"
    assert gsm7.decode(gsm7.unpack_septets(packed)) == "1234567@"
    assert gsm7.decode(gsm7.unpack_septets(packed, 7)) == "1234567"
    with pytest.raises(gsm7.Gsm7Error):
        gsm7.unpack_septets(packed, 9)


def test_fill_bits_after_udh() -> None:
    assert gsm7.fill_bits_for_udh(0) == 0
    assert gsm7.fill_bits_for_udh(6) == 1  # 05 00 03 RR TT NN: 48 bits + 1 = 7 septets
    assert gsm7.fill_bits_for_udh(7) == 0  # 06 08 04 RRRR TT NN: 56 bits = 8 septets
    assert gsm7.fill_bits_for_udh(12) == 2  # 96 bits + 2 = 14 septets
    with pytest.raises(ValueError):
        gsm7.fill_bits_for_udh(-1)


def test_pack_with_fill_bit() -> None:
    # After one fill bit, "0" takes bits 1-7 of the first octet and "12345678"
    # then lines up as in the unshifted golden value 31d98c56b3dd70.
    packed = gsm7.pack_septets(gsm7.encode("012345678"), fill_bits=1)
    assert packed.hex() == "6031d98c56b3dd70"
    assert gsm7.decode(gsm7.unpack_septets(packed, 9, fill_bits=1)) == "012345678"


def test_pack_rejects_non_septets_and_bad_fill() -> None:
    with pytest.raises(gsm7.Gsm7Error):
        gsm7.pack_septets(b"\x80")
    with pytest.raises(ValueError):
        gsm7.pack_septets(b"a", fill_bits=7)
    with pytest.raises(ValueError):
        gsm7.unpack_septets(b"a", fill_bits=-1)


@given(st.binary().map(lambda b: bytes(x & 0x7F for x in b)), st.integers(0, 6))
def test_pack_unpack_round_trip(septets: bytes, fill: int) -> None:
    packed = gsm7.pack_septets(septets, fill)
    assert len(packed) == gsm7.packed_length(len(septets), fill)
    assert gsm7.unpack_septets(packed, len(septets), fill) == septets
    if fill:
        assert packed[0] & ((1 << fill) - 1) == 0  # fill bits are zero


@given(st.text(alphabet=ALPHABET))
def test_text_round_trip(text: str) -> None:
    septets = gsm7.encode(text)
    assert len(septets) == gsm7.septet_length(text)
    assert all(s <= 0x7F for s in septets)
    assert gsm7.decode(septets) == text
    assert gsm7.is_gsm7(text)
