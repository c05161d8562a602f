"""SGIP 1.2 tables (protocols/sgip12) against the golden vectors, hand-made bad PDUs and properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgw.codec import DecodeError, Pdu
from smsgw.protocols.sgip12 import SPEC
from smsgw.protocols.sgip12.status import FEE_TYPE_MEANINGS, MEANINGS, STATUS_NAMES, FeeType, Result
from smsgw.protocols.vectors import Vector, load
from smsgw.session.codecs import codec_for
from tests.codec.strategies import command_strategy

CODEC = codec_for("sgip12")
VECTORS = load("sgip12")
PDUS = [v for v in VECTORS if v.kind == "pdu"]
BAD = [v for v in VECTORS if v.kind == "bad"]
BY_ID = {v.id: v for v in VECTORS}

UINT32 = st.integers(0, 2**32 - 1)
TRIPLES = st.tuples(UINT32, UINT32, UINT32)
CUSTOM = {"submit_sequence_number": TRIPLES}


def plain(value: Any) -> Any:
    """Tuples (the SGIP triple) as lists, the way the JSON vectors spell them."""
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def test_every_documented_vector_is_shipped() -> None:
    assert {f"SGIP-{i:02d}" for i in range(1, 14)} <= set(BY_ID)
    assert all(v.protocol == "sgip12" and v.source for v in VECTORS)
    assert len(BAD) >= 8


@pytest.mark.parametrize("vector", PDUS, ids=lambda v: v.id)
def test_vector_decodes_to_its_documented_fields(vector: Vector) -> None:
    pdu = CODEC.decode(vector.data)
    expect = vector.expect
    assert pdu.command == expect["command"]
    assert plain(pdu.sequence) == expect["sequence"]
    assert pdu.status == expect["status"]
    assert plain(pdu.fields) == expect["fields"]


@pytest.mark.parametrize("vector", [v for v in PDUS if v.roundtrip], ids=lambda v: v.id)
def test_vector_reencodes_to_the_same_bytes(vector: Vector) -> None:
    assert CODEC.encode(CODEC.decode(vector.data)) == vector.data


def test_only_the_documented_quirk_is_not_a_round_trip() -> None:
    assert {v.id for v in PDUS if not v.roundtrip} == {"SGIP-07"}


@pytest.mark.parametrize("vector", BAD, ids=lambda v: v.id)
def test_bad_vector_fails_with_the_documented_error(vector: Vector) -> None:
    with pytest.raises(DecodeError) as info:
        CODEC.decode(vector.data)
    err = info.value
    assert {"field": err.field, "status": err.status, "response": err.response, "fatal": err.fatal} == vector.error
    assert err.protocol == "sgip12"


def test_unbind_resp_with_go_sgip_body_is_tolerated_and_reencoded_without_it() -> None:
    quirk, spec_form = BY_ID["SGIP-07"].data, BY_ID["SGIP-10"].data
    pdu = CODEC.decode(quirk)
    assert pdu == Pdu("unbind_resp", (3010012345, 1121205557, 3), {})
    encoded = CODEC.encode(pdu)
    assert len(encoded) == 20 and encoded[4:8] == spec_form[4:8]


def test_submit_has_no_message_id_the_header_triple_is_it() -> None:
    submit, resp = CODEC.decode(BY_ID["SGIP-04"].data), CODEC.decode(BY_ID["SGIP-05"].data)
    assert resp.sequence == submit.sequence == (3010012345, 1121205557, 2)
    report = CODEC.decode(BY_ID["SGIP-12"].data)
    assert report["submit_sequence_number"] == submit.sequence  # SGIP-12 reports on SGIP-04


def test_submit_length_formula() -> None:
    # sgip.md 4.4: 143 + 21 x UserCount + MessageLength
    pdu = Pdu("submit", (1, 2, 3), {"user_number": ["8613800138000"] * 3, "message_content": b"x" * 70})
    assert len(CODEC.encode(pdu)) == 143 + 21 * 3 + 70


def test_trace_resp_repeats_47_byte_node_groups() -> None:
    nodes = [{"result": 0, "node_id": "101001", "receive_time": "211121205557", "send_time": "211121205558",
              "reserve": ""}, {"result": 1, "node_id": "201002", "receive_time": "", "send_time": "", "reserve": ""}]
    data = CODEC.encode(Pdu("trace_resp", (3010012345, 1121205557, 9), {"nodes": nodes}))
    assert len(data) == 20 + 1 + 2 * 47 and data[20] == 2
    assert CODEC.decode(data).fields == {"nodes": nodes}


def test_command_set_and_ids() -> None:
    ids = {c.name: c.id for c in SPEC.commands}
    assert ids == {
        "bind": 0x1, "bind_resp": 0x80000001, "unbind": 0x2, "unbind_resp": 0x80000002,
        "submit": 0x3, "submit_resp": 0x80000003, "deliver": 0x4, "deliver_resp": 0x80000004,
        "report": 0x5, "report_resp": 0x80000005, "userrpt": 0x11, "userrpt_resp": 0x80000011,
        "trace": 0x1000, "trace_resp": 0x80001000,
    }
    assert SPEC.generic_nack is None  # SGIP has none
    for request in ("bind", "unbind", "submit", "deliver", "report", "userrpt", "trace"):
        assert CODEC.response_name(request) == request + "_resp"


def test_result_and_fee_tables() -> None:
    assert set(MEANINGS) == set(Result) and all(MEANINGS.values())
    assert STATUS_NAMES[11] == "NODE_BUSY" and "busy" in MEANINGS[Result.NODE_BUSY]
    assert int(Result.DESTINATION_UNREACHABLE) == 21  # go_sgip's enum gets this one wrong
    assert 88 not in STATUS_NAMES  # SMSGate's throttle code is not SGIP's
    assert set(FEE_TYPE_MEANINGS) == set(FeeType) and [int(f) for f in FeeType] == [0, 1, 2, 3, 4]
    assert dict(SPEC.status_names) == STATUS_NAMES


def test_framer_cuts_a_stream_of_all_vectors_at_any_split() -> None:
    frames = [v.data for v in PDUS]
    stream = b"".join(frames)
    for cut in range(0, len(stream), 7):
        framer = CODEC.framer()
        assert framer.feed(stream[:cut]) + framer.feed(stream[cut:]) == frames
        assert framer.pending == 0


@pytest.mark.parametrize("length", [0, 19, SPEC.max_length + 1])
def test_framer_refuses_impossible_lengths(length: int) -> None:
    with pytest.raises(DecodeError) as info:
        CODEC.framer().feed(length.to_bytes(4, "big") + bytes.fromhex("00000001") + bytes(12))
    assert info.value.fatal and info.value.response is None


# ------------------------------------------------------------------ properties

# One example covers every command (pytest-twisted breaks @given under @pytest.mark.parametrize).
@given(data=st.data())
def test_property_every_command_round_trips(data: st.DataObject) -> None:
    for command in SPEC.commands:
        fields = data.draw(command_strategy(command, CUSTOM), label=command.name)
        pdu = Pdu(command.name, data.draw(TRIPLES), fields)
        assert CODEC.decode(CODEC.encode(pdu)) == pdu


def _swallow(data: bytes) -> None:
    try:
        CODEC.decode(data)
    except DecodeError:
        pass
    framer = CODEC.framer()
    try:
        for frame in framer.feed(data):
            try:
                CODEC.decode(frame)
            except DecodeError:
                pass
    except DecodeError:
        pass


@given(st.binary(max_size=400))
def test_property_random_bytes_only_raise_decode_error(data: bytes) -> None:
    _swallow(data)


@given(st.binary(max_size=200))
def test_property_random_bodies_behind_a_valid_header_only_raise_decode_error(body: bytes) -> None:
    for command in SPEC.commands:
        _swallow((20 + len(body)).to_bytes(4, "big") + command.id.to_bytes(4, "big") + bytes(12) + body)


@given(st.sampled_from(PDUS + BAD), st.data())
def test_property_mutated_pdus_only_raise_decode_error(vector: Vector, data: st.DataObject) -> None:
    raw = bytearray(vector.data)
    for _ in range(data.draw(st.integers(0, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= 1 << data.draw(st.integers(0, 7))
    raw = raw[:data.draw(st.integers(0, len(raw)))]
    how = data.draw(st.sampled_from(["keep", "fix", "random"]))
    if how == "fix" and len(raw) >= 4:
        raw[0:4] = len(raw).to_bytes(4, "big")
    elif how == "random" and len(raw) >= 4:
        raw[0:4] = data.draw(st.integers(0, 2**32 - 1)).to_bytes(4, "big")
    _swallow(bytes(raw))
