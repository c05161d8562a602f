"""The codec engine on a small table of its own (protocol tables have their own tests)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgw.codec import Codec, DecodeError, EncodeError, FieldError, Pdu
from smsgw.codec.fields import (
    CMPP_HEADER, SGIP_HEADER, SMPP_HEADER, Array, Command, CString, Custom, Octets, ProtocolSpec,
    Struct, Text, Tlvs, TlvSpec, UInt,
)
from tests.codec.strategies import command_strategy


def _flag_decode(buf: bytes, pos: int, end: int) -> tuple[bool, int]:
    if pos >= end:
        raise FieldError("missing flag byte", 0x77)
    if buf[pos] not in (0, 1):
        raise FieldError(f"flag must be 0 or 1, not {buf[pos]}", 0x78)
    return bool(buf[pos]), pos + 1


def _flag_encode(value: bool) -> bytes:
    return b"\x01" if value else b"\x00"


ITEM = Struct("item", (UInt("ton"), CString("address", 21, status=0x0B), UInt("error", 4)))
REQUEST = Command("request", 0x00000004, (
    CString("name", 6, status=0x15),
    UInt("a"), UInt("b", 2), UInt("c", 4), UInt("d", 8),
    Text("code", 10, status=0x30),
    Octets("auth", size=4),
    UInt("count", 1, length_of="numbers"),
    Array("numbers", "count", Text("number", 21)),
    UInt("n_items", 1, length_of="items"),
    Array("items", "n_items", ITEM),
    CString("when", 17, exact_sizes=(17,), status=0x61),
    Custom("flag", _flag_decode, _flag_encode, default=False),
    UInt("length", 1, length_of="content"),
    Octets("content", length_field="length", status=0x01),
    Tlvs("tlvs", (TlvSpec(0x001E, "receipt_id", "cstring", 65), TlvSpec(0x0427, "state", "uint", 1),
                  TlvSpec(0x0010, "label", "text", 8), TlvSpec(0x0424, "payload", "octets")),
         status=0xC0, length_status=0xC2),
))
RESPONSE = Command("request_resp", 0x80000004, (CString("id", 65),), optional_from="id")
NACK = Command("generic_nack", 0x80000000)
SPEC = ProtocolSpec("test", SMPP_HEADER, (REQUEST, RESPONSE, NACK), max_length=4096,
                    status_unknown_command=3, status_bad_length=2, status_bad_body=1,
                    generic_nack="generic_nack", error_response_without_body=True)
CODEC = Codec(SPEC)

SAMPLE = {
    "name": "abc", "a": 1, "b": 513, "c": 70000, "d": 2**40, "code": "XY", "auth": b"\x01\x02\x03\x04",
    "numbers": ["13800138000", "8613900000000"], "items": [{"ton": 1, "address": "1065", "error": 8}],
    "when": "", "flag": True, "content": b"\x05\x00\x03hello", "tlvs": {"receipt_id": "ab1", "state": 2, 0x1400: b"zz"},
}


def test_round_trip_exact_bytes() -> None:
    data = CODEC.encode(Pdu("request", 7, SAMPLE))
    pdu = CODEC.decode(data)
    assert pdu == Pdu("request", 7, SAMPLE, 0)
    assert CODEC.encode(pdu) == data
    # header: length, id, status, sequence
    assert data[:16] == len(data).to_bytes(4, "big") + bytes.fromhex("00000004") + bytes(4) + (7).to_bytes(4, "big")
    # unknown TLVs are kept and re-encoded where they were
    assert data.endswith(bytes.fromhex("140000027a7a"))


def test_lengths_and_counts_are_computed_not_given() -> None:
    data = CODEC.encode(Pdu("request", 1, {"numbers": ["1"], "content": b"xyz"}))
    body = CODEC.decode(data).fields
    assert "count" not in body and "length" not in body
    assert body["numbers"] == ["1"] and body["content"] == b"xyz"


def test_missing_fields_take_defaults() -> None:
    pdu = CODEC.decode(CODEC.encode(Pdu("request", 1, {})))
    assert pdu["name"] == "" and pdu["a"] == 0 and pdu["auth"] == bytes(4) and pdu["numbers"] == []
    assert pdu["flag"] is False and pdu["tlvs"] == {}


@pytest.mark.parametrize("fields, field", [
    ({"name": "toolong"}, "name"),
    ({"name": "a\0b"}, "name"),
    ({"a": 256}, "a"),
    ({"b": -1}, "b"),
    ({"code": "x" * 11}, "code"),
    ({"auth": b"123"}, "auth"),
    ({"when": "2601011200000"}, "when"),
    ({"content": b"x" * 256}, "content"),
    ({"numbers": ["1" * 22]}, "numbers"),
    ({"tlvs": {"nope": 1}}, "tlvs"),
    ({"tlvs": {"state": 300}}, "tlvs"),
    ({"name": 5}, "name"),
])
def test_encode_errors_name_the_field(fields: dict, field: str) -> None:
    with pytest.raises(EncodeError) as info:
        CODEC.encode(Pdu("request", 1, fields))
    assert info.value.field == field


def _valid() -> bytes:
    return CODEC.encode(Pdu("request", 9, SAMPLE))


def _with_length(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data[4:]


@pytest.mark.parametrize("mutate, field, status", [
    (lambda d: _with_length(d[:16] + b"abcdefg"), "name", 0x15),            # C-string without NUL in reach
    (lambda d: _with_length(d[:20]), "a", None),                           # body ends inside a field
])
def test_decode_errors_name_the_field_and_answer(mutate, field, status) -> None:  # type: ignore[no-untyped-def]
    data = mutate(_valid())
    with pytest.raises(DecodeError) as info:
        CODEC.decode(data)
    err = info.value
    assert err.response == "request_resp" and err.sequence == 9 and not err.fatal
    assert err.field == field
    assert err.status == (status if status is not None else SPEC.status_bad_body)


def test_custom_field_error_carries_its_status() -> None:
    data = bytearray(_valid())
    # locate the flag: it follows the 17-byte "when" (empty => single NUL) -- find via a re-encode with a marker
    marked = CODEC.encode(Pdu("request", 9, {**SAMPLE, "flag": False}))
    diff = [i for i, (x, y) in enumerate(zip(data, marked)) if x != y]
    assert len(diff) == 1
    data[diff[0]] = 7
    with pytest.raises(DecodeError) as info:
        CODEC.decode(bytes(data))
    assert info.value.field == "flag" and info.value.status == 0x78


def test_tlv_overrunning_body() -> None:
    data = _valid()[:-2]  # cut the last TLV's value short
    with pytest.raises(DecodeError) as info:
        CODEC.decode(_with_length(data))
    assert info.value.field == "tlvs" and info.value.status == 0xC0


def test_tlv_bad_length_for_its_kind() -> None:
    data = CODEC.encode(Pdu("request", 1, {}))
    data = _with_length(data + bytes.fromhex("04270002") + b"\x00\x02")
    with pytest.raises(DecodeError) as info:
        CODEC.decode(data)
    assert info.value.status == 0xC2


def test_trailing_bytes_are_refused() -> None:
    data = CODEC.encode(Pdu("request_resp", 3, {"id": "x"})) + b"\x00"
    with pytest.raises(DecodeError) as info:
        CODEC.decode(_with_length(data))
    assert info.value.response is None  # a response is never answered


def test_unknown_command_gets_generic_nack() -> None:
    data = bytes.fromhex("00000010" "00000099" "00000000" "0000002a")
    with pytest.raises(DecodeError) as info:
        CODEC.decode(data)
    assert (info.value.response, info.value.status, info.value.sequence, info.value.fatal) == ("generic_nack", 3, 42, False)


def test_length_field_must_match_frame() -> None:
    data = _valid()
    with pytest.raises(DecodeError) as info:
        CODEC.decode(data + b"\0")
    assert info.value.fatal and info.value.status == 2


def test_error_response_has_no_body_and_optional_tail() -> None:
    data = CODEC.encode(Pdu("request_resp", 5, {"id": "abc"}, status=0x45))
    assert len(data) == 16
    assert CODEC.decode(data) == Pdu("request_resp", 5, {}, 0x45)
    # a successful response whose body is missing decodes to defaults (optional_from)
    assert CODEC.decode(bytes.fromhex("00000010800000040000000000000005")).fields == {"id": ""}


def test_framer_cuts_stream_at_any_split() -> None:
    frames = [CODEC.encode(Pdu("request", i, SAMPLE)) for i in range(3)]
    stream = b"".join(frames)
    for cut in range(1, len(stream)):
        framer = CODEC.framer()
        got = framer.feed(stream[:cut]) + framer.feed(stream[cut:])
        assert got == frames
        assert framer.pending == 0


def test_framer_refuses_impossible_lengths() -> None:
    for length in (0, 15, 4097):
        framer = CODEC.framer()
        with pytest.raises(DecodeError) as info:
            framer.feed(length.to_bytes(4, "big") + bytes.fromhex("00000004" "00000000" "00000011"))
        assert info.value.fatal and info.value.response == "generic_nack" and info.value.sequence == 17


def test_framer_resync_skips_a_few_stray_bytes() -> None:
    spec = ProtocolSpec("cmpp-like", CMPP_HEADER, (Command("active_test", 8), Command("active_test_resp", 0x80000008,
                        (UInt("reserved"),), optional_from="reserved")), 100, 2, 4, 1, resync_limit=3)
    codec = Codec(spec)
    good = codec.encode(Pdu("active_test", 1))
    framer = codec.framer()
    frames = framer.feed(bytes.fromhex("0000000d800000080000000030") + b"x00" + good)
    assert [codec.decode(f).command for f in frames] == ["active_test_resp", "active_test"]
    assert framer.skipped == 3
    with pytest.raises(DecodeError):
        codec.framer().feed(b"xxxx" + good)


def test_sgip_header_sequence_is_a_triple() -> None:
    spec = ProtocolSpec("sgip-like", SGIP_HEADER, (Command("unbind", 2),), 100, 1, 1, 1)
    codec = Codec(spec)
    data = codec.encode(Pdu("unbind", (3010012345, 1121205557, 1)))
    assert data == bytes.fromhex("00000014" "00000002" "b36924b9" "42d43d35" "00000001")
    assert codec.decode(data).sequence == (3010012345, 1121205557, 1)


@given(command_strategy(REQUEST, {"flag": st.booleans()}), st.integers(0, 2**31 - 1))
def test_property_encode_decode_identity(fields: dict, seq: int) -> None:
    pdu = Pdu("request", seq, fields)
    assert CODEC.decode(CODEC.encode(pdu)) == pdu


@given(st.binary(max_size=300))
def test_property_random_bytes_only_raise_decode_error(data: bytes) -> None:
    framer = CODEC.framer()
    try:
        for frame in framer.feed(data):
            CODEC.decode(frame)
    except DecodeError:
        pass
    try:
        CODEC.decode(data)
    except DecodeError:
        pass


@given(st.data())
def test_property_mutated_pdus_only_raise_decode_error(data: st.DataObject) -> None:
    raw = bytearray(_valid())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(16, len(raw)))
    candidate = _with_length(bytes(raw[:cut]))
    try:
        CODEC.decode(candidate)
    except DecodeError:
        pass


def _resync_codec() -> Codec:
    spec = ProtocolSpec("cmpp-like", CMPP_HEADER, (Command("active_test", 8),), 100, 2, 4, 1, resync_limit=3)
    return Codec(spec)


def test_framer_with_resync_still_passes_unknown_commands_to_the_decoder() -> None:
    codec = _resync_codec()
    frames = codec.framer().feed(bytes.fromhex("0000000c" "00000077" "00000001"))
    with pytest.raises(DecodeError) as info:
        codec.decode(frames[0])
    assert not info.value.fatal and info.value.status == 2


def test_framer_resync_limit_counts_across_feeds() -> None:
    framer = _resync_codec().framer()
    with pytest.raises(DecodeError) as info:
        for byte in b"\xff\xff\xff\xff\xff\xff\xff\xff":
            framer.feed(bytes([byte]))
    assert info.value.fatal
