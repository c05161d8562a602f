"""Codings: text <-> bytes, wire codes, and the choice of coding per protocol."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgw.domain.coding import (
    CARRIER_PROTOCOLS,
    Coding,
    CodingError,
    can_encode,
    char_units,
    choose_coding,
    decode,
    encode,
    from_msg_fmt,
    from_smpp_data_coding,
    to_msg_fmt,
    to_smpp_data_coding,
    unit_length,
)


def test_ucs2_chinese_from_cmpp_04() -> None:
    # vectors.md CMPP-04 (gocmpp submit_test.go): Msg_Fmt 8, "测试gocmpp submit"
    content = bytes.fromhex("6d4b8bd50067006f0063006d007000700020007300750062006d00690074")
    assert encode("测试gocmpp submit", Coding.UCS2) == content
    assert decode(content, Coding.UCS2) == "测试gocmpp submit"
    assert unit_length("测试gocmpp submit", Coding.UCS2) == 15  # Msg_Length 30


def test_ucs2_from_sgip_11() -> None:
    # vectors.md SGIP-11 (kaven276/sms -> go_sgip), MessageCoding 8
    content = bytes.fromhex("00680065006c006c006f00208054901a00200053004700490050")
    assert decode(content, Coding.UCS2) == "hello 联通 SGIP"
    assert encode("hello 联通 SGIP", Coding.UCS2) == content


def test_ucs2_emoji_are_surrogate_pairs() -> None:
    # HeboTech.ATLib SmsSubmitEncoderTests: "😀😹📱📶📞" as UCS2 user data (UDL 0x14)
    text = "😀😹📱📶📞"
    content = bytes.fromhex("d83dde00d83dde39d83ddcf1d83ddcf6d83ddcde")
    assert encode(text, Coding.UCS2) == content
    assert decode(content, Coding.UCS2) == text
    assert unit_length(text, Coding.UCS2) == 10
    assert [char_units(c, Coding.UCS2) for c in "a中😀"] == [1, 1, 2]
    mixed = "A😀B😹C📱D📶E📞F"
    assert encode(mixed, Coding.UCS2).hex().upper() == (
        "0041D83DDE000042D83DDE390043D83DDCF10044D83DDCF60045D83DDCDE0046"
    )


def test_ucs2_rejects_lone_surrogates() -> None:
    with pytest.raises(CodingError) as info:
        encode("a\ud83d", Coding.UCS2)
    assert info.value.char == "\ud83d" and info.value.position == 1
    with pytest.raises(CodingError):
        char_units("\ude00", Coding.UCS2)
    with pytest.raises(CodingError, match="offset 0"):
        decode(bytes.fromhex("d83d0041"), Coding.UCS2)  # high surrogate without its low half
    with pytest.raises(CodingError):
        decode(b"\x00\x41\x00", Coding.UCS2)  # odd length


def test_gbk() -> None:
    assert encode("中文abc", Coding.GBK) == bytes.fromhex("d6d0cec4616263")
    assert decode(bytes.fromhex("d6d0cec4616263"), Coding.GBK) == "中文abc"
    assert decode(bytes.fromhex("68656c6c6f20434d5050"), Coding.GBK) == "hello CMPP"  # CMPP-23
    assert [char_units(c, Coding.GBK) for c in "a中"] == [1, 2]


def test_gbk_is_read_as_gb18030() -> None:
    # four-byte GB18030 sequences (outside GBK) decode; we never produce them
    assert decode("😀".encode("gb18030"), Coding.GBK) == "😀"
    with pytest.raises(CodingError) as info:
        encode("中😀", Coding.GBK)
    assert info.value.char == "😀" and info.value.position == 1
    with pytest.raises(CodingError):
        decode(b"\xd6", Coding.GBK)  # truncated double-byte character


def test_ascii_and_latin1() -> None:
    assert encode("hello", Coding.ASCII) == b"hello"
    assert decode(b"hello", Coding.ASCII) == "hello"
    with pytest.raises(CodingError) as info:
        encode("caf\u00e9", Coding.ASCII)
    assert info.value.char == "\u00e9" and info.value.position == 3 and "U+00E9" in str(info.value)
    with pytest.raises(CodingError, match="offset 1"):
        decode(b"a\xe9", Coding.ASCII)
    assert encode("caf\u00e9", Coding.LATIN1) == b"caf\xe9"
    assert decode(b"caf\xe9", Coding.LATIN1) == "caf\u00e9"
    assert not can_encode("€", Coding.LATIN1)


def test_gsm7_coding_uses_unpacked_septets() -> None:
    assert encode("@€", Coding.GSM7) == b"\x00\x1b\x65"
    assert decode(b"\x00\x1b\x65", Coding.GSM7) == "@€"
    assert unit_length("@€", Coding.GSM7) == 3
    with pytest.raises(CodingError) as info:
        encode("ok中", Coding.GSM7)
    assert info.value.char == "中" and info.value.position == 2 and info.value.coding is Coding.GSM7
    with pytest.raises(CodingError):
        decode(b"\x80", Coding.GSM7)


def test_binary_is_not_text() -> None:
    with pytest.raises(CodingError):
        encode("x", Coding.BINARY)
    with pytest.raises(CodingError):
        decode(b"x", Coding.BINARY)
    assert not can_encode("x", Coding.BINARY)


@pytest.mark.parametrize(
    ("data_coding", "coding"),
    [
        (0x01, Coding.ASCII),
        (0x02, Coding.BINARY),
        (0x03, Coding.LATIN1),
        (0x04, Coding.BINARY),
        (0x08, Coding.UCS2),
        (0x0F, Coding.GBK),
        # GSM 03.38 section 4 groups: class-marked, uncompressed
        (0x10, Coding.GSM7),
        (0x14, Coding.BINARY),
        (0x18, Coding.UCS2),
        (0x1C, Coding.BINARY),  # reserved alphabet
        (0xF0, Coding.GSM7),
        (0xF3, Coding.GSM7),
        (0xF4, Coding.BINARY),
        (0xF6, Coding.BINARY),
        # not defined for us: pass through as binary
        (0x05, Coding.BINARY),
        (0x06, Coding.BINARY),
        (0x09, Coding.BINARY),
        (0x0E, Coding.BINARY),
        (0x20, Coding.BINARY),
        (0xC0, Coding.BINARY),
    ],
)
def test_from_smpp_data_coding(data_coding: int, coding: Coding) -> None:
    assert from_smpp_data_coding(data_coding) is coding


def test_smpp_data_coding_zero_is_configurable() -> None:
    assert from_smpp_data_coding(0) is Coding.GSM7
    assert from_smpp_data_coding(0, dc0=Coding.ASCII) is Coding.ASCII
    assert from_smpp_data_coding(0, dc0=Coding.LATIN1) is Coding.LATIN1
    with pytest.raises(ValueError):
        from_smpp_data_coding(0, dc0=Coding.UCS2)
    with pytest.raises(ValueError):
        from_smpp_data_coding(256)


def test_to_smpp_data_coding() -> None:
    assert {c: to_smpp_data_coding(c) for c in Coding} == {
        Coding.GSM7: 0,
        Coding.ASCII: 1,
        Coding.LATIN1: 3,
        Coding.BINARY: 4,
        Coding.UCS2: 8,
        Coding.GBK: 15,
    }
    assert to_smpp_data_coding(Coding.ASCII, dc0=Coding.ASCII) == 0
    assert to_smpp_data_coding(Coding.LATIN1, dc0=Coding.LATIN1) == 0
    for coding in Coding:
        assert from_smpp_data_coding(to_smpp_data_coding(coding)) is coding


@pytest.mark.parametrize(
    ("msg_fmt", "coding"),
    [(0, Coding.ASCII), (3, Coding.BINARY), (4, Coding.BINARY), (8, Coding.UCS2), (15, Coding.GBK),
     (1, Coding.BINARY), (2, Coding.BINARY), (0xF5, Coding.BINARY), (0xF6, Coding.BINARY)],
)
def test_from_msg_fmt(msg_fmt: int, coding: Coding) -> None:
    assert from_msg_fmt(msg_fmt) is coding


def test_to_msg_fmt() -> None:
    assert to_msg_fmt(Coding.ASCII) == 0
    assert to_msg_fmt(Coding.BINARY) == 4
    assert to_msg_fmt(Coding.UCS2) == 8
    assert to_msg_fmt(Coding.GBK) == 15
    for coding in (Coding.GSM7, Coding.LATIN1):
        with pytest.raises(CodingError, match="re-encode"):
            to_msg_fmt(coding)
    with pytest.raises(ValueError):
        from_msg_fmt(-1)


@pytest.mark.parametrize("protocol_id", sorted(CARRIER_PROTOCOLS))
def test_choose_coding_towards_carriers(protocol_id: str) -> None:
    assert choose_coding("Your code is 1234", protocol_id) is Coding.ASCII
    assert choose_coding("", protocol_id) is Coding.ASCII
    assert choose_coding("{[~]}", protocol_id) is Coding.ASCII
    assert choose_coding("验证码1234【签名】", protocol_id) is Coding.UCS2
    assert choose_coding("café", protocol_id) is Coding.UCS2  # not ASCII, and carriers have no Latin-1
    assert choose_coding("€", protocol_id) is Coding.UCS2


def test_choose_coding_towards_smpp_clients() -> None:
    assert choose_coding("Hello", "smpp34") is Coding.GSM7
    assert choose_coding("Price: 5€ {ok}", "smpp34") is Coding.GSM7
    assert choose_coding("Ελλάδα", "smpp34") is Coding.UCS2  # lowercase Greek is not in 03.38
    assert choose_coding("你好", "smpp34") is Coding.UCS2
    assert choose_coding("ç", "smpp34") is Coding.UCS2
    # a client whose data_coding 0 means ASCII or Latin-1
    assert choose_coding("Hello", "smpp34", smpp_alphabet=Coding.ASCII) is Coding.ASCII
    assert choose_coding("café", "smpp34", smpp_alphabet=Coding.ASCII) is Coding.UCS2
    assert choose_coding("café", "smpp34", smpp_alphabet=Coding.LATIN1) is Coding.LATIN1
    assert choose_coding("5€", "smpp34", smpp_alphabet=Coding.LATIN1) is Coding.UCS2
    with pytest.raises(ValueError):
        choose_coding("x", "smpp34", smpp_alphabet=Coding.GBK)


def test_choose_coding_unknown_protocol() -> None:
    with pytest.raises(ValueError, match="unknown protocol id 'cmpp21'"):
        choose_coding("x", "cmpp21")


@given(st.text())
def test_chosen_coding_can_carry_the_text(text: str) -> None:
    for protocol_id in (*CARRIER_PROTOCOLS, "smpp34"):
        coding = choose_coding(text, protocol_id)
        try:
            encoded = encode(text, coding)
        except CodingError as exc:
            # only text Python strings can hold but UTF-16 cannot (lone surrogates)
            assert coding is Coding.UCS2 and exc.char is not None and 0xD800 <= ord(exc.char) <= 0xDFFF
            continue
        assert decode(encoded, coding) == text


TEXT_CODINGS = [Coding.GSM7, Coding.ASCII, Coding.LATIN1, Coding.UCS2, Coding.GBK]


@given(st.text(), st.sampled_from(TEXT_CODINGS))
def test_round_trip_and_units(text: str, coding: Coding) -> None:
    if not can_encode(text, coding):
        with pytest.raises(CodingError):
            encode(text, coding)
        return
    encoded = encode(text, coding)
    assert decode(encoded, coding) == text
    assert unit_length(text, coding) == sum(char_units(c, coding) for c in text)
    expected = len(encoded) // 2 if coding is Coding.UCS2 else len(encoded)
    assert unit_length(text, coding) == expected
