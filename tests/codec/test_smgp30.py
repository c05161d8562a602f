"""SMGP 3.0 tables (protocols/smgp30) against the golden vectors, hand-made bad PDUs and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgw.codec import Codec, DecodeError, Pdu
from smsgw.protocols.smgp30 import SPEC, SPEC_V13, spec_for_version
from smsgw.protocols.smgp30.status import MEANINGS, REPORT_ERRORS, REPORT_STATS, STATUS_NAMES, Status
from smsgw.protocols.smgp30.tlvs import DELIVER_TAGS, SUBMIT_TAGS, TABLE
from smsgw.protocols.vectors import Vector, load
from smsgw.session.codecs import codec_for
from tests.codec.strategies import command_strategy

CODEC = codec_for("smgp30")
CODEC_V13 = Codec(SPEC_V13)
VECTORS = load("smgp30")
PDUS = [v for v in VECTORS if v.kind == "pdu"]
BAD = [v for v in VECTORS if v.kind == "bad"]
BY_ID = {v.id: v for v in VECTORS}
#: vectors captured from a ClientVersion 0x13 session (the Login version drives the Submit layout)
V13_VECTORS = {"SMGP-08"}


def codec_of(vector: Vector) -> Codec:
    return CODEC_V13 if vector.id in V13_VECTORS else CODEC


def test_every_documented_vector_is_shipped() -> None:
    assert {f"SMGP-{i:02d}" for i in range(1, 11)} <= set(BY_ID)
    assert BY_ID["SMGP-10"].kind == "report"
    assert all(v.protocol == "smgp30" and v.source for v in VECTORS)
    assert len(BAD) >= 8


@pytest.mark.parametrize("vector", PDUS, ids=lambda v: v.id)
def test_vector_decodes_to_its_documented_fields(vector: Vector) -> None:
    pdu = codec_of(vector).decode(vector.data)
    expect = vector.expect
    assert (pdu.command, pdu.sequence, pdu.status) == (expect["command"], expect["sequence"], expect["status"])
    assert pdu.fields == expect["fields"]


@pytest.mark.parametrize("vector", [v for v in PDUS if v.roundtrip], ids=lambda v: v.id)
def test_vector_reencodes_to_the_same_bytes(vector: Vector) -> None:
    codec = codec_of(vector)
    assert codec.encode(codec.decode(vector.data)) == vector.data


def test_only_smgp08_is_not_a_round_trip() -> None:
    # SMGP-02/03 are quirk vectors but the codec carries their quirks through unchanged
    assert {v.id for v in PDUS if not v.roundtrip} == {"SMGP-08"}


@pytest.mark.parametrize("vector", BAD, ids=lambda v: v.id)
def test_bad_vector_fails_with_the_documented_error(vector: Vector) -> None:
    with pytest.raises(DecodeError) as info:
        CODEC.decode(vector.data)
    err = info.value
    assert {"field": err.field, "status": err.status, "response": err.response, "fatal": err.fatal} == vector.error
    assert err.protocol == "smgp30"


# ------------------------------------------------------------------ version 0x13

def test_smgp08_is_garbage_for_the_30_layout() -> None:
    with pytest.raises(DecodeError) as info:
        CODEC.decode(BY_ID["SMGP-08"].data)
    assert info.value.field == "dest_term_id" and info.value.response == "submit_resp"


def test_v13_spec_only_drops_fixed_fee_from_submit() -> None:
    assert SPEC_V13.id == SPEC.id == "smgp30"
    for old, new in zip(SPEC.commands, SPEC_V13.commands, strict=True):
        if old.name == "submit":
            assert [f.name for f in old.fields if f.name != "fixed_fee"] == [f.name for f in new.fields]
            assert "fixed_fee" in [f.name for f in old.fields]
        else:
            assert old is new
    assert spec_for_version(0x13) is SPEC_V13
    assert spec_for_version(0x30) is SPEC and spec_for_version(0x20) is SPEC


def test_v13_submit_is_six_bytes_shorter() -> None:
    fields = {"dest_term_id": ["13800138000"], "msg_content": b"hi", "fixed_fee": ""}
    v30 = CODEC.encode(Pdu("submit", 1, fields))
    v13 = CODEC_V13.encode(Pdu("submit", 1, {k: v for k, v in fields.items() if k != "fixed_fee"}))
    assert len(v30) - len(v13) == 6 and len(v30) == 126 + 21 + 2


def test_unknown_tlv_is_kept_in_place_when_reencoding() -> None:
    pdu = CODEC_V13.decode(BY_ID["SMGP-08"].data)
    assert pdu["tlvs"][0x0014] == b"\x01"
    data = CODEC_V13.encode(pdu)
    tail = data[data.index(bytes.fromhex("00050001")):]
    assert tail.startswith(bytes.fromhex("00050001" "00" "00140001" "01" "00070001" "00"))
    # MServiceID arrived with length 4; we send its spec size (21)
    assert data.endswith(bytes.fromhex("00120015") + b"ABC" + bytes(18))


def test_submit_length_formula() -> None:
    # smgp.md 6.1: 126 + 21 N + L + TLVs
    tlvs = {"tp_udhi": 1, "pk_total": 2, "pk_number": 1}
    data = CODEC.encode(Pdu("submit", 5, {"dest_term_id": ["1"] * 3, "msg_content": b"x" * 67, "tlvs": tlvs}))
    assert len(data) == 126 + 21 * 3 + 67 + 3 * 5


# ------------------------------------------------------------------ tables

def test_command_set_and_ids() -> None:
    assert {c.name: c.id for c in SPEC.commands} == {
        "login": 0x1, "login_resp": 0x80000001, "submit": 0x2, "submit_resp": 0x80000002,
        "deliver": 0x3, "deliver_resp": 0x80000003, "active_test": 0x4, "active_test_resp": 0x80000004,
        "exit": 0x6, "exit_resp": 0x80000006, "query": 0x7, "query_resp": 0x80000007,
    }
    assert SPEC.generic_nack is None
    sizes = {"login": 42, "login_resp": 33, "submit_resp": 26, "deliver_resp": 26, "active_test": 12,
             "active_test_resp": 12, "exit": 12, "exit_resp": 12, "query": 31, "query_resp": 71}
    for name, size in sizes.items():
        assert len(CODEC.encode(Pdu(name, 1, {}))) == size, name
    assert len(CODEC.encode(Pdu("deliver", 1, {"msg_content": b"x" * 14}))) == 89 + 14  # smgp.md 6.3


def test_tlv_table_matches_smgp_md_section_8() -> None:
    rows = {(t.tag, t.name, t.kind, t.size) for t in TABLE}
    assert len(TABLE) == 18 and [t.tag for t in TABLE] == list(range(1, 0x13))
    assert (0x0003, "link_id", "text", 20) in rows and (0x0010, "msg_src", "text", 8) in rows
    assert (0x0012, "m_service_id", "text", 21) in rows and (0x0006, "charge_term_pseudo", "octets", None) in rows
    one_byte = {t.tag for t in TABLE if t.kind == "uint"}
    assert one_byte == {0x1, 0x2, 0x4, 0x5, 0x7, 0x9, 0xA, 0xB, 0xC, 0xD, 0xF, 0x11}
    assert all(t.size == 1 for t in TABLE if t.kind == "uint")
    names = {t.name for t in TABLE}
    assert SUBMIT_TAGS <= names and DELIVER_TAGS <= names


def test_status_and_report_tables() -> None:
    assert set(MEANINGS) == set(Status) and all(MEANINGS.values())
    assert STATUS_NAMES[21] == "AUTHENTICATION" and STATUS_NAMES[11] == "COMMAND_WORD"
    assert dict(SPEC.status_names) == STATUS_NAMES
    assert not set(range(3, 10)) & set(STATUS_NAMES)  # reserved
    assert set(REPORT_STATS) == {"DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"}
    assert all(stat in REPORT_STATS for _, stat in REPORT_ERRORS.values())


def test_framer_cuts_a_stream_of_all_vectors_at_any_split() -> None:
    frames = [v.data for v in PDUS if v.id not in V13_VECTORS]
    stream = b"".join(frames)
    for cut in range(0, len(stream), 5):
        framer = CODEC.framer()
        assert framer.feed(stream[:cut]) + framer.feed(stream[cut:]) == frames
        assert framer.pending == 0


@pytest.mark.parametrize("length", [0, 11, SPEC.max_length + 1])
def test_framer_refuses_impossible_lengths(length: int) -> None:
    with pytest.raises(DecodeError) as info:
        CODEC.framer().feed(length.to_bytes(4, "big") + bytes.fromhex("00000002" "0000002a"))
    assert info.value.fatal and info.value.response is None and info.value.sequence == 42


# ------------------------------------------------------------------ properties

# One example covers every command of both layouts (pytest-twisted breaks @given under parametrize).
@given(data=st.data())
def test_property_every_command_round_trips(data: st.DataObject) -> None:
    for codec in (CODEC, CODEC_V13):
        for command in codec.spec.commands:
            fields = data.draw(command_strategy(command), label=command.name)
            pdu = Pdu(command.name, data.draw(st.integers(0, 2**32 - 1)), fields)
            assert codec.decode(codec.encode(pdu)) == pdu


def _swallow(data: bytes) -> None:
    for codec in (CODEC, CODEC_V13):
        try:
            codec.decode(data)
        except DecodeError:
            pass
        framer = codec.framer()
        try:
            for frame in framer.feed(data):
                try:
                    codec.decode(frame)
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
        _swallow((12 + len(body)).to_bytes(4, "big") + command.id.to_bytes(4, "big") + bytes(4) + body)


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
