"""User Data Header concatenation elements and SMPP sar_* TLVs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgw.domain.coding import Coding, decode
from smsgw.domain.udh import (
    SAR_MSG_REF_NUM,
    SAR_SEGMENT_SEQNUM,
    SAR_TOTAL_SEGMENTS,
    Concat,
    InformationElement,
    UdhError,
    UserDataHeader,
    concat_udh,
    concat_udh_length,
    parse_concat,
    parse_udh,
    sar_from_tlvs,
    sar_to_tlvs,
)

# vectors.md SMPP-03 (smpplib -> npm smpp): short_message of segment 1/2
SMPP_03_SHORT_MESSAGE = bytes.fromhex(
    "05000324020100480065006c006c006f00200053004d0050005000204f60597d00480065006c006c006f00200053"
    "004d0050005000204f60597d00480065006c006c006f00200053004d0050005000204f60597d00480065006c006c"
    "006f00200053004d0050005000204f60597d00480065006c006c006f00200053004d0050005000204f60597d0048"
    "0065"
)


def test_build_8_bit_reference() -> None:
    assert concat_udh(Concat(0x24, 2, 1)) == bytes.fromhex("050003240201")
    assert concat_udh(Concat(0x2E, 2, 2, 8)) == bytes.fromhex("0500032e0202")
    assert concat_udh_length(8) == 6


def test_build_16_bit_reference() -> None:
    assert concat_udh(Concat(0x1234, 3, 2, 16)) == bytes.fromhex("060804123403" "02")
    assert concat_udh_length(16) == 7
    with pytest.raises(UdhError):
        concat_udh_length(12)


def test_smpp_03_vector() -> None:
    concat, payload = parse_concat(SMPP_03_SHORT_MESSAGE)
    assert concat == Concat(reference=0x24, total=2, number=1, ref_bits=8)
    assert len(payload) == 134
    assert decode(payload, Coding.UCS2) == ("Hello SMPP 你好" * 6)[:67]


def test_parse_cmpp_24_header() -> None:
    # vectors.md CMPP-24: Msg_Content starts 05 00 03 2e 02 01
    concat, payload = parse_concat(bytes.fromhex("0500032e0201957f77ed"))
    assert concat == Concat(0x2E, 2, 1)
    assert decode(payload, Coding.UCS2) == "长短"


def test_parse_16_bit_reference() -> None:
    concat, payload = parse_concat(bytes.fromhex("060804beef0201") + b"hi")
    assert concat == Concat(0xBEEF, 2, 1, 16)
    assert payload == b"hi"


def test_unknown_elements_are_skipped_and_kept() -> None:
    # 05 04 (application port addressing, 16-bit: dest 0x0B84, orig 0x23F0) then 8-bit concatenation
    data = bytes.fromhex("0b05040b8423f00003570302") + b"\x01\x02"
    header, payload = parse_udh(data)
    assert header.elements == (
        InformationElement(0x05, bytes.fromhex("0b8423f0")),
        InformationElement(0x00, bytes.fromhex("570302")),
    )
    assert header.length == 12
    assert header.to_bytes() == data[:12]
    assert header.concat == Concat(0x57, 3, 2)
    assert payload == b"\x01\x02"


def test_udh_without_concatenation() -> None:
    concat, payload = parse_concat(bytes.fromhex("0605040b8423f0") + b"wap")
    assert concat is None
    assert payload == b"wap"
    assert parse_concat(b"\x00abc") == (None, b"abc")  # empty UDH


def test_repeated_element_last_one_counts() -> None:
    data = bytes.fromhex("0b" "00030a0201" "08040b0b0302")
    assert parse_udh(data)[0].concat == Concat(0x0B0B, 3, 2, 16)


@pytest.mark.parametrize(
    ("hexdata", "message"),
    [
        ("", "empty"),
        ("05000324", "UDHL 5 overruns"),
        ("0600032402010203", "truncated information element"),
        ("050004240201", "length 4 at UDH offset 1 overruns"),
        ("050003240001", "total parts must be 1-255, got 0"),
        ("050003240200", "part number must be 1-2, got 0"),
        ("050003240203", "part number must be 1-2, got 3"),
        ("0400022402", "must have 3 data octets"),
        ("050803000102", "must have 4 data octets"),
        ("060804000102030a", "part number must be 1-2, got 3"),
    ],
)
def test_malformed(hexdata: str, message: str) -> None:
    with pytest.raises(UdhError, match=message):
        parse_concat(bytes.fromhex(hexdata))


def test_concat_validation() -> None:
    with pytest.raises(UdhError, match="does not fit 8 bits"):
        Concat(256, 2, 1)
    with pytest.raises(UdhError):
        Concat(65536, 2, 1, 16)
    with pytest.raises(UdhError):
        Concat(1, 256, 1)
    with pytest.raises(UdhError):
        Concat(1, 2, 1, 7)
    with pytest.raises(UdhError):
        InformationElement(0x100, b"")
    with pytest.raises(UdhError):
        InformationElement(0x70, bytes(256))
    with pytest.raises(UdhError, match="does not fit UDHL"):
        UserDataHeader((InformationElement(0x70, bytes(200)), InformationElement(0x71, bytes(60)))).to_bytes()


def test_sar_tlvs() -> None:
    concat = Concat(0x1234, 3, 2, 16)
    tlvs = sar_to_tlvs(concat)
    assert tlvs == {0x020C: b"\x12\x34", 0x020E: b"\x03", 0x020F: b"\x02"}
    assert sar_from_tlvs(tlvs) == concat
    # an 8-bit UDH reference becomes a 16-bit sar_msg_ref_num of the same value
    assert sar_to_tlvs(Concat(0x24, 2, 1))[SAR_MSG_REF_NUM] == b"\x00\x24"
    assert sar_from_tlvs({0x0424: b"payload"}) is None
    assert sar_from_tlvs({}) is None


def test_sar_tlvs_malformed() -> None:
    with pytest.raises(UdhError, match="missing 0x020F"):
        sar_from_tlvs({SAR_MSG_REF_NUM: b"\x00\x01", SAR_TOTAL_SEGMENTS: b"\x02"})
    with pytest.raises(UdhError, match="0x020C must be 2"):
        sar_from_tlvs({SAR_MSG_REF_NUM: b"\x01", SAR_TOTAL_SEGMENTS: b"\x02", SAR_SEGMENT_SEQNUM: b"\x01"})
    with pytest.raises(UdhError, match="part number"):
        sar_from_tlvs({SAR_MSG_REF_NUM: b"\x00\x01", SAR_TOTAL_SEGMENTS: b"\x02", SAR_SEGMENT_SEQNUM: b"\x03"})


@st.composite
def concats(draw: st.DrawFn) -> Concat:
    ref_bits = draw(st.sampled_from([8, 16]))
    total = draw(st.integers(1, 255))
    return Concat(
        draw(st.integers(0, (1 << ref_bits) - 1)), total, draw(st.integers(1, total)), ref_bits
    )


@given(concats(), st.binary(max_size=140))
def test_build_parse_round_trip(concat: Concat, payload: bytes) -> None:
    udh = concat_udh(concat)
    assert len(udh) == concat_udh_length(concat.ref_bits)
    assert parse_concat(udh + payload) == (concat, payload)
    assert sar_from_tlvs(sar_to_tlvs(concat)) == Concat(concat.reference, concat.total, concat.number, 16)


@given(st.binary(max_size=40))
def test_parse_never_fails_unexpectedly(data: bytes) -> None:
    try:
        header, payload = parse_udh(data)
    except UdhError:
        return
    assert header.to_bytes() + payload == data
