"""Segment counting (billing) and splitting with concatenation UDHs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.domain import gsm7
from smsgw.domain.coding import Coding, CodingError, decode, encode
from smsgw.domain.segments import (
    DEFAULT_LIMITS,
    MAX_PARTS,
    Limits,
    Segment,
    SegmentationError,
    count_segments,
    split,
)
from smsgw.domain.udh import Concat, parse_concat

from .test_gsm7 import ALPHABET as GSM_ALPHABET
from .test_udh import SMPP_03_SHORT_MESSAGE

# vectors.md CMPP-24 / CMPP-25: Msg_Content of the two parts (node-cmpp-2 -> gocmpp)
CMPP_24 = bytes.fromhex(
    "0500032e0201957f77ed4fe16d4b8bd5957f77ed4fe16d4b8bd5957f77ed4fe16d4b8bd5957f77ed4fe16d4b8bd5"
    "957f77ed4fe16d4b8bd5957f77ed4fe16d4b8bd5957f77ed4fe16d4b8bd5957f77ed4fe16d4b8bd5957f77ed4fe1"
    "6d4b8bd5957f77ed4fe16d4b8bd5957f77ed4fe16d4b8bd5957f77ed4fe16d4b8bd5957f77ed4fe16d4b8bd5957f"
    "77ed"
)
CMPP_25 = bytes.fromhex(
    "0500032e02024fe16d4b8bd5957f77ed4fe16d4b8bd5957f77ed4fe16d4b8bd5957f77ed4fe16d4b8bd5957f77ed"
    "4fe16d4b8bd5957f77ed4fe16d4b8bd5957f77ed4fe16d4b8bd5"
)


def test_cmpp_24_25_long_ucs2() -> None:
    # The two parts carry 67 + 33 characters of "长短信测试" repeated: 100 characters.
    text = "长短信测试" * 20
    parts = split(text, Coding.UCS2, 0x2E)
    assert [p.user_data for p in parts] == [CMPP_24, CMPP_25]
    assert [len(p.user_data) for p in parts] == [140, 72]  # Msg_Length in the vectors
    assert [(p.number, p.total, p.units) for p in parts] == [(1, 2, 67), (2, 2, 33)]
    assert count_segments(text, Coding.UCS2) == 2


def test_smpp_03_long_ucs2() -> None:
    # SMPP-03 is part 1/2 of "Hello SMPP 你好" repeated (13 characters each); any
    # repetition count from 6 to 10 gives two parts with this first part.
    for times in range(6, 11):
        parts = split("Hello SMPP 你好" * times, Coding.UCS2, 0x24)
        assert len(parts) == 2
        assert parts[0].user_data == SMPP_03_SHORT_MESSAGE
        assert parts[0].concat == Concat(0x24, 2, 1)


# HeboTech.ATLib SmsSubmitEncoderTests: three-part GSM 7-bit message, reference
# 12; TP-UD of each part (after TP-UDL A0, A0, 90) from their expected PDUs.
LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua.Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris "
    "nisi ut aliquip ex ea commodo consequat.Duis aute irure dolor in reprehenderit in voluptate velit "
    "esse cillum dolore eu fugiat nulla pariatur.Excepteur sint occaecat cupidatat non proident, sunt "
    "in culpa qui officia deserunt mollit anim id est laborum."
)
LOREM_UD = [
    (0xA0, "0500030C0301986F79B90D4AC3E7F53688FC66BFE5A0799A0E0AB7CB741668FC76CFCB637A995E9783C2E4343C3D4"
           "F8FD3EE33A8CC4ED359A079990C22BF41E5747DDE7E9341F4721BFE9683D2EE719A9C26D7DD74509D0E6287C56F79"
           "1954A683C86FF65B5E06B5C36777181466A7E3F5B0AB4A0795DDE936284C06B5D3EE741B642FBBD3E1360B14AFA7E7"),
    (0xA0, "0500030C030240EEF79C2EAF9341657C593E4ED3C3F4F4DB0DAAB3D9E1F6F80D6287C56F797A0E72A7E769509D0E0"
           "AB3D3F17A1A0E2AE341E53068FC6EB7DFE43768FC76CFCBF17A98EE22D6D37350B84E2F83D2F2BABC0C22BFD96F39"
           "28ED06C9CB7079195D7693CBF2341D947683EC6F761D4E0FD3CB207B999DA683CAF37919344EB3D9F53688FC66BFE5"),
    (0x90, "0500030C0303CAA0721D64AE9FD3613AC85D67B3C32078589E0ED3EB7257113F2EC3E9E5BA1C344FBBE9A0F7781C2"
           "E8FC374D0B80E4F93C3F4301DE47EBB4170F93B4D2EBBE92CD0BCEEA683D26ED0B8CE868741F17A1AF4369BD3E374"
           "18442ECFCBF2BA9B0E6ABFD9EC341D1476A7DBA03419549ED341ECB0F82DAFB75D"),
]


def test_gsm7_packed_three_parts_match_independent_encoder() -> None:
    parts = split(LOREM, Coding.GSM7, 12, packed=True)
    assert len(parts) == 3
    for part, (udl, ud) in zip(parts, LOREM_UD):
        assert part.packed
        assert part.user_data == bytes.fromhex(ud)
        assert 7 + part.units == udl  # TP-UDL: UDH septets (6 octets + 1 fill bit) + text septets


def test_gsm7_unpacked_by_default() -> None:
    parts = split(LOREM, Coding.GSM7, 12)
    assert [p.units for p in parts] == [153, 153, 137]
    assert all(not p.packed and len(p.payload) == p.units for p in parts)
    assert b"".join(p.payload for p in parts) == encode(LOREM, Coding.GSM7)
    assert parts[0].udh == bytes.fromhex("0500030c0301")


def _text(coding: Coding, units: int) -> str:
    return ("中" if coding is Coding.UCS2 else "a") * units


@pytest.mark.parametrize(
    ("coding", "units", "expected"),
    [
        (Coding.UCS2, 0, 1),
        (Coding.UCS2, 70, 1),
        (Coding.UCS2, 71, 2),
        (Coding.UCS2, 67 * 2, 2),
        (Coding.UCS2, 67 * 2 + 1, 3),
        (Coding.UCS2, 67 * 3, 3),
        (Coding.UCS2, 67 * 3 + 1, 4),
        (Coding.GSM7, 160, 1),
        (Coding.GSM7, 161, 2),
        (Coding.GSM7, 153 * 2, 2),
        (Coding.GSM7, 153 * 2 + 1, 3),
        (Coding.ASCII, 159, 1),
        (Coding.ASCII, 160, 2),
        (Coding.ASCII, 134 * 2, 2),
        (Coding.ASCII, 134 * 2 + 1, 3),
        (Coding.LATIN1, 140, 1),
        (Coding.LATIN1, 141, 2),
        (Coding.LATIN1, 134 * 2, 2),
        (Coding.LATIN1, 134 * 2 + 1, 3),
    ],
)
def test_billing_boundaries(coding: Coding, units: int, expected: int) -> None:
    text = _text(coding, units)
    assert count_segments(text, coding) == expected
    parts = split(text, coding, 7)
    assert len(parts) == expected
    assert sum(p.units for p in parts) == units


@pytest.mark.parametrize(
    ("octets", "expected"), [(140, 1), (141, 2), (134 * 2, 2), (134 * 2 + 1, 3)]
)
def test_binary_boundaries(octets: int, expected: int) -> None:
    data = bytes(range(256)) * 2
    assert count_segments(data[:octets], Coding.BINARY) == expected
    parts = split(data[:octets], Coding.BINARY, 1)
    assert b"".join(p.payload for p in parts) == data[:octets]
    assert all(len(p.user_data) <= 140 for p in parts)


def test_gbk_boundaries_and_double_byte_characters() -> None:
    assert count_segments("中" * 70, Coding.GBK) == 1  # 140 octets
    assert count_segments("中" * 71, Coding.GBK) == 2
    # 1 + 2 x 66 = 133 octets; the next character would need octets 134-135
    parts = split("a" + "中" * 70, Coding.GBK, 5)
    assert [p.units for p in parts] == [133, 8]
    assert [decode(p.payload, Coding.GBK) for p in parts] == ["a" + "中" * 66, "中" * 4]


def test_gsm7_escape_pair_never_split() -> None:
    assert count_segments("€" * 80, Coding.GSM7) == 1  # 160 septets
    parts = split("€" * 81, Coding.GSM7, 1)
    assert [p.units for p in parts] == [152, 10]  # 76 pairs fit in 153; the 77th would not
    text = "a" * 152 + "€" + "b" * 10
    parts = split(text, Coding.GSM7, 1)
    assert [p.units for p in parts] == [152, 12]
    assert parts[1].payload.startswith(b"\x1b\x65")
    assert [decode(p.payload, Coding.GSM7) for p in parts] == ["a" * 152, "€" + "b" * 10]


def test_ucs2_surrogate_pair_never_split() -> None:
    assert count_segments("😀" * 35, Coding.UCS2) == 1  # 70 units
    assert count_segments("😀" * 36, Coding.UCS2) == 2
    text = "中" * 66 + "😀" + "中" * 10
    parts = split(text, Coding.UCS2, 1)
    assert [p.units for p in parts] == [66, 12]
    assert [decode(p.payload, Coding.UCS2) for p in parts] == ["中" * 66, "😀" + "中" * 10]


def test_signature_is_billed_as_text() -> None:
    base = "您的验证码是123456，五分钟内有效。"
    assert len(base) == 20
    body = base + "中" * 47  # 67 characters: one segment on its own
    assert count_segments(body, Coding.UCS2) == 1
    # the 4 signature characters make 71 > 70: two segments of 67 + 4
    signed = "【签名】" + body
    assert count_segments(signed, Coding.UCS2) == 2
    assert [p.units for p in split(signed, Coding.UCS2, 3)] == [67, 4]
    assert count_segments("【签名】" + body[:-1], Coding.UCS2) == 1  # exactly 70
    # towards carriers an otherwise-ASCII text with a signature is UCS2 (choose_coding)
    assert count_segments("Code 1234", Coding.ASCII) == 1
    assert count_segments("【Acme】Code 1234" + "x" * 60, Coding.UCS2) == 2


def test_sixteen_bit_reference() -> None:
    parts = split("中" * 140, Coding.UCS2, 0xBEEF, ref_bits=16)
    assert [p.units for p in parts] == [66, 66, 8]
    assert parts[0].udh == bytes.fromhex("060804beef0301")
    assert count_segments("中" * 140, Coding.UCS2, ref_bits=16) == 3
    assert count_segments("中" * 140, Coding.UCS2) == 3
    gsm = split("a" * 400, Coding.GSM7, 0x0102, ref_bits=16, packed=True)
    assert [p.units for p in gsm] == [152, 152, 96]
    # 7-octet UDH = 8 septets exactly: no fill bit, 'a' starts at bit 0
    assert gsm[0].payload[0] == 0x61 | (0x61 << 7) & 0xFF
    assert all(len(p.user_data) <= 140 for p in gsm)


def test_unsegmented_message_has_no_udh() -> None:
    (part,) = split("hello", Coding.GSM7, 9, packed=True)
    assert part.udh == b"" and part.concat is None
    assert (part.number, part.total, part.reference) == (1, 1, 9)
    assert part.payload.hex() == "e8329bfd06"


def test_max_parts() -> None:
    text = "中" * (67 * MAX_PARTS)
    assert count_segments(text, Coding.UCS2) == 255
    assert len(split(text, Coding.UCS2, 1)) == 255
    longer = text + "中"
    assert count_segments(longer, Coding.UCS2) == 256
    with pytest.raises(SegmentationError, match="256 parts"):
        split(longer, Coding.UCS2, 1)


def test_limits_override() -> None:
    # a contract that bills ASCII like GSM 7-bit
    limits = {**DEFAULT_LIMITS, Coding.ASCII: Limits(160, 153, 152)}
    assert count_segments("a" * 160, Coding.ASCII, limits=limits) == 1
    assert count_segments("a" * 306, Coding.ASCII, limits=limits) == 2
    assert count_segments("a" * 160, Coding.ASCII) == 2
    with pytest.raises(ValueError):
        Limits(70, 1, 1)


def test_bad_arguments() -> None:
    with pytest.raises(SegmentationError, match="must be bytes"):
        split("text", Coding.BINARY, 1)
    with pytest.raises(SegmentationError, match="must be str"):
        count_segments(b"text", Coding.UCS2)
    with pytest.raises(SegmentationError, match="does not fit 8 bits"):
        split("x", Coding.GSM7, 256)
    with pytest.raises(SegmentationError):
        split("x", Coding.GSM7, 1, ref_bits=12)
    with pytest.raises(CodingError) as info:
        count_segments("hello 中", Coding.GSM7)
    assert info.value.char == "中" and info.value.position == 6
    with pytest.raises(CodingError, match="position 3"):
        split("abc😀", Coding.GBK, 1)


def test_against_smpplib() -> None:
    """smpplib (which we did not write) cuts encoded text into 153-septet / 67-character parts.

    Its GSM table lacks '§' and splits escape pairs and surrogate pairs, so
    compare on texts where it is right.
    """
    from smpplib import consts
    from smpplib.gsm import make_parts

    for text, dc, coding in [
        ("The quick brown fox jumps over the lazy dog 0123456789. " * 7, consts.SMPP_ENCODING_DEFAULT, Coding.GSM7),
        ("短信网关测试，Hello SMPP！" * 9, consts.SMPP_ENCODING_ISO10646, Coding.UCS2),
        ("Hello", consts.SMPP_ENCODING_DEFAULT, Coding.GSM7),
    ]:
        theirs, their_dc, _esm = make_parts(text, dc)
        assert their_dc == dc
        concat = parse_concat(theirs[0])[0] if len(theirs) > 1 else None
        ours = split(text, coding, concat.reference if concat else 0)  # theirs is random
        assert [p.user_data for p in ours] == theirs
        assert len(ours) == {392: 3, 162: 3, 5: 1}[len(text)]


TEXT_CODINGS = [Coding.GSM7, Coding.ASCII, Coding.LATIN1, Coding.UCS2, Coding.GBK]


def _texts(coding: Coding) -> st.SearchStrategy[str]:
    """Texts the coding can carry, long enough to need several parts."""
    alphabets = {
        Coding.GSM7: st.sampled_from(GSM_ALPHABET),
        Coding.ASCII: st.characters(max_codepoint=0x7F),
        Coding.LATIN1: st.characters(max_codepoint=0xFF),
        Coding.UCS2: st.characters(codec="utf-8"),
        Coding.GBK: st.characters(max_codepoint=0xFFFF).filter(lambda c: _gbk_ok(c)),
    }
    return st.one_of(
        st.text(alphabets[coding], max_size=400),
        st.text(alphabets[coding], min_size=1, max_size=8).flatmap(
            lambda unit: st.integers(1, 60).map(lambda n: unit * n)
        ),
    )


def _gbk_ok(char: str) -> bool:
    try:
        char.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def _check_parts(parts: list[Segment], coding: Coding, reference: int, ref_bits: int) -> None:
    total = len(parts)
    limit = DEFAULT_LIMITS[coding]
    for number, part in enumerate(parts, start=1):
        assert (part.number, part.total, part.reference, part.coding) == (number, total, reference, coding)
        if total == 1:
            assert part.udh == b""
            assert part.units <= limit.single
        else:
            assert parse_concat(part.user_data) == (Concat(reference, total, number, ref_bits), part.payload)
            assert part.units <= limit.part_capacity(ref_bits)
            if coding is not Coding.GSM7:
                assert len(part.user_data) <= 140


@settings(max_examples=60)
@given(st.data(), st.sampled_from(TEXT_CODINGS), st.sampled_from([8, 16]), st.booleans())
def test_split_then_join_gives_the_text_back(data: st.DataObject, coding: Coding, ref_bits: int, packed: bool) -> None:
    text = data.draw(_texts(coding))
    reference = data.draw(st.integers(0, (1 << ref_bits) - 1))
    parts = split(text, coding, reference, ref_bits=ref_bits, packed=packed)
    assert count_segments(text, coding, ref_bits=ref_bits) == len(parts)
    _check_parts(parts, coding, reference, ref_bits)
    if coding is Coding.GSM7 and packed:
        septets = b"".join(gsm7.unpack_septets(p.payload, p.units, gsm7.fill_bits_for_udh(len(p.udh))) for p in parts)
        assert all(len(p.user_data) <= 140 for p in parts)
    else:
        septets = b"".join(p.payload for p in parts)
    assert decode(septets, coding) == text
    # each part decodes on its own too: no character is cut in two
    if not packed or coding is not Coding.GSM7:
        assert "".join(decode(p.payload, coding) for p in parts) == text


@given(st.binary(max_size=1000), st.integers(0, 255))
def test_binary_split_then_join(data: bytes, reference: int) -> None:
    parts = split(data, Coding.BINARY, reference)
    assert count_segments(data, Coding.BINARY) == len(parts)
    _check_parts(parts, Coding.BINARY, reference, 8)
    assert b"".join(p.payload for p in parts) == data


@given(st.sampled_from(TEXT_CODINGS), st.data())
def test_count_is_consistent_with_unit_budget(coding: Coding, data: st.DataObject) -> None:
    text = data.draw(_texts(coding))
    count = count_segments(text, coding)
    assert count == len(split(text, coding, 0))
    limit = DEFAULT_LIMITS[coding]
    units = sum(p.units for p in split(text, coding, 0))
    if count == 1:
        assert units <= limit.single
    else:
        # greedy parts are full to within one character (at most 2 units short)
        assert units > limit.single
        assert (count - 1) * (limit.part - 1) < units <= count * limit.part
