"""CMPP 2.0 tables: golden vectors, bad vectors, resync after pycmpp's quirk, properties.

The checks are written once here, as functions of a protocol id, and reused
by ``test_cmpp30`` (as the cmpp30 tables reuse the cmpp20 field groups).
"""

from __future__ import annotations

from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from smsgw.codec import Codec, DecodeError, Pdu
from smsgw.protocols import cmpp20
from smsgw.protocols.vectors import Vector, load
from smsgw.session.codecs import codec_for
from tests.codec.strategies import command_strategy

PROTOCOL = "cmpp20"

#: strategies for the Custom fields of each CMPP table
CUSTOM: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "cmpp20": {"success_id": st.integers(0, 0xFF)},
    "cmpp30": {},
}

SEQUENCES = st.integers(0, 0xFFFFFFFF)


# --------------------------------------------------------------------------- helpers shared with cmpp30

def vectors(protocol: str, kind: str, ids: tuple[str, ...] | None = None, source: str | None = None) -> list[Any]:
    """pytest params of the vectors of ``kind`` filed under ``source`` (default: ``protocol``)."""
    return [
        pytest.param(v, id=v.id)
        for v in load(source or protocol)
        if v.kind == kind and (ids is None or v.id in ids)
    ]


def check_pdu_vector(codec: Codec, v: Vector) -> None:
    """The vector's bytes go through the framer and decode to the documented PDU."""
    framer = codec.framer()
    frames = framer.feed(v.data)
    assert len(frames) == 1
    # only CMPP-27 leaves bytes behind: pycmpp's 3 stray bytes after the declared 13
    assert framer.pending == len(v.data) - len(frames[0])
    pdu = codec.decode(frames[0])
    expect = v.expect
    assert pdu.command == expect["command"]
    assert pdu.sequence == expect["sequence"]
    assert pdu.status == expect["status"]
    assert pdu.fields == expect["fields"]
    if v.roundtrip:
        assert frames[0] == v.data
        assert codec.encode(Pdu(expect["command"], expect["sequence"], expect["fields"])) == v.data


def check_bad_vector(codec: Codec, v: Vector) -> None:
    assert v.error is not None
    with pytest.raises(DecodeError) as caught:
        codec.decode(v.data)
    err = caught.value
    assert err.protocol == codec.protocol
    assert err.field == v.error["field"]
    assert err.status == v.error["status"]
    assert err.response == v.error["response"]
    assert err.fatal == v.error["fatal"]


def roundtrip_test(protocol: str) -> Callable[..., None]:
    """Property: every command decodes back to the fields it was encoded from."""
    codec = codec_for(protocol)
    commands = [c.name for c in codec.spec.commands]

    # every command in each example: pytest-twisted 1.14 breaks @given under @parametrize
    @settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_roundtrip(data: st.DataObject) -> None:
        for command in commands:
            fields = data.draw(command_strategy(codec.spec.command(command), CUSTOM[protocol]), label=command)
            sequence = data.draw(SEQUENCES, label="sequence")
            wire = codec.encode(Pdu(command, sequence, fields))
            assert int.from_bytes(wire[:4], "big") == len(wire)
            pdu = codec.decode(wire)
            assert (pdu.command, pdu.sequence, pdu.fields) == (command, sequence, fields)
            assert codec.encode(pdu) == wire

    return test_roundtrip


def decode_everything(codec: Codec, data: bytes) -> None:
    """Run ``data`` through ``decode`` and through a framer: only DecodeError may come out."""
    try:
        codec.decode(data)
    except DecodeError:
        pass
    framer = codec.framer()
    try:
        frames = framer.feed(data)
    except DecodeError as e:
        assert e.fatal
        return
    for frame in frames:
        try:
            codec.decode(frame)
        except DecodeError:
            pass


def random_bytes_test(protocol: str) -> tuple[Callable[..., None], Callable[..., None]]:
    codec = codec_for(protocol)

    @settings(max_examples=300)
    @given(st.binary(max_size=400))
    def test_random_bytes(data: bytes) -> None:
        decode_everything(codec, data)

    @settings(max_examples=300)
    @given(st.binary(min_size=12, max_size=400))
    def test_random_bytes_behind_a_plausible_header(data: bytes) -> None:
        # a right length field gets the bytes past the framer into the body decoders
        decode_everything(codec, len(data).to_bytes(4, "big") + data[4:])

    return test_random_bytes, test_random_bytes_behind_a_plausible_header


def mutation_test(protocol: str) -> Callable[..., None]:
    """Property: truncations, bit flips and length edits of valid PDUs fail only with DecodeError."""
    codec = codec_for(protocol)
    commands = [c.name for c in codec.spec.commands]

    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data(), command=st.sampled_from(commands), sequence=SEQUENCES)
    def test_mutations(data: st.DataObject, command: str, sequence: int) -> None:
        fields = data.draw(command_strategy(codec.spec.command(command), CUSTOM[protocol]))
        wire = bytearray(codec.encode(Pdu(command, sequence, fields)))
        how = data.draw(st.sampled_from(["truncate", "flip", "length", "length_byte", "splice"]))
        if how == "truncate":
            wire = wire[:data.draw(st.integers(0, len(wire) - 1))]
        elif how == "flip":
            for _ in range(data.draw(st.integers(1, 4))):
                i = data.draw(st.integers(0, len(wire) - 1))
                wire[i] ^= 1 << data.draw(st.integers(0, 7))
        elif how == "length":
            wire[:4] = data.draw(st.integers(0, 0xFFFFFFFF)).to_bytes(4, "big")
        elif how == "length_byte":
            # a length/count byte inside the body (Msg_Length, DestUsr_tl) set to anything
            i = data.draw(st.integers(12, max(12, len(wire) - 1))) if len(wire) > 12 else 0
            if i:
                wire[i] = data.draw(st.integers(0, 0xFF))
        else:
            i = data.draw(st.integers(0, len(wire)))
            wire[i:i] = data.draw(st.binary(min_size=1, max_size=8))
        decode_everything(codec, bytes(wire))

    return test_mutations


# --------------------------------------------------------------------------- cmpp20

CODEC = codec_for(PROTOCOL)


def test_spec_is_the_package_spec() -> None:
    assert CODEC.spec is cmpp20.SPEC
    assert cmpp20.SPEC.generic_nack is None
    names = cmpp20.SPEC.status_names
    assert names[cmpp20.SPEC.status_bad_body] == "structure_error"
    assert names[cmpp20.SPEC.status_unknown_command] == "command_error"
    assert names[cmpp20.SPEC.status_bad_length] == "length_error"


def test_every_request_has_its_response() -> None:
    for c in CODEC.spec.commands:
        if not c.is_response:
            assert CODEC.response_name(c.name) == c.name + "_resp"


@pytest.mark.parametrize("v", vectors(PROTOCOL, "pdu"))
def test_pdu_vector(v: Vector) -> None:
    check_pdu_vector(CODEC, v)


@pytest.mark.parametrize("v", vectors(PROTOCOL, "bad"))
def test_bad_vector(v: Vector) -> None:
    check_bad_vector(CODEC, v)


def test_vector_files_are_filed_under_their_protocol() -> None:
    for v in load(PROTOCOL):
        assert v.protocol == PROTOCOL
        assert v.provenance in ("test suite", "captured", "constructed", "ours")
        if v.kind == "bad":
            assert v.error is not None and not v.roundtrip


# --- framing: pycmpp's malformed ACTIVE_TEST_RESP (CMPP-27) and the resync limit

def _vector(vid: str) -> Vector:
    return next(v for v in load(PROTOCOL) if v.id == vid)


PYCMPP_RESP = _vector("CMPP-27").data  # 13-byte PDU + b"x00"
NEXT_PDU = _vector("CMPP-08").data  # any valid PDU


def test_pycmpp_stray_bytes_are_skipped() -> None:
    framer = CODEC.framer()
    frames = framer.feed(PYCMPP_RESP + NEXT_PDU)
    assert frames == [PYCMPP_RESP[:13], NEXT_PDU]
    assert CODEC.decode(frames[0]) == Pdu("active_test_resp", 0, {"reserved": 0x30})
    assert CODEC.decode(frames[1]).command == "deliver"
    assert framer.skipped == 3
    assert framer.pending == 0


def test_pycmpp_stray_bytes_are_skipped_when_fed_byte_by_byte() -> None:
    framer = CODEC.framer()
    frames = [f for b in PYCMPP_RESP + NEXT_PDU for f in framer.feed(bytes((b,)))]
    assert frames == [PYCMPP_RESP[:13], NEXT_PDU]


def test_garbage_beyond_the_resync_limit_is_fatal() -> None:
    framer = CODEC.framer()
    with pytest.raises(DecodeError) as caught:
        framer.feed(PYCMPP_RESP + b"0" + NEXT_PDU)  # 4 stray bytes, one more than the limit
    assert caught.value.fatal
    assert caught.value.status == cmpp20.status.LENGTH_ERROR
    assert caught.value.response is None


def test_garbage_at_the_start_of_a_stream_is_fatal() -> None:
    with pytest.raises(DecodeError) as caught:
        CODEC.framer().feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert caught.value.fatal and caught.value.status == 4


@pytest.mark.parametrize("length", [0, 11, cmpp20.SPEC.max_length + 1, 0xFFFFFFFF])
def test_impossible_lengths_are_fatal_in_the_framer(length: int) -> None:
    with pytest.raises(DecodeError) as caught:
        CODEC.framer().feed(length.to_bytes(4, "big") + bytes.fromhex("0000000400000001"))
    assert caught.value.fatal and caught.value.status == 4


def test_largest_legal_submit_fits_max_length() -> None:
    fields = {"dest_terminal_id": ["1" * 21] * 99, "msg_content": bytes(255)}
    wire = CODEC.encode(Pdu("submit", 1, fields))
    assert len(wire) == 138 + 21 * 99 + 255 <= cmpp20.SPEC.max_length
    assert CODEC.framer().feed(wire) == [wire]
    assert CODEC.decode(wire).fields["dest_terminal_id"] == fields["dest_terminal_id"]


def test_every_vector_in_one_stream() -> None:
    """All PDU vectors back to back (CMPP-27's stray bytes included) come out in order."""
    pdus = [v for v in load(PROTOCOL) if v.kind == "pdu"]
    stream = b"".join(v.data for v in pdus)
    frames = CODEC.framer().feed(stream)
    assert [CODEC.decode(f).command for f in frames] == [v.expect["command"] for v in pdus]


test_roundtrip = roundtrip_test(PROTOCOL)
test_random_bytes, test_random_bytes_behind_a_plausible_header = random_bytes_test(PROTOCOL)
test_mutations = mutation_test(PROTOCOL)
