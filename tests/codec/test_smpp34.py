"""SMPP 3.4 tables: golden vectors, bad vectors, limits, leniency choices, properties."""

from __future__ import annotations

import re
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from smsgw.codec import Codec, DecodeError, EncodeError, Pdu
from smsgw.codec.fields import CString, Custom, Octets, Tlvs, UInt
from smsgw.protocols import smpp34
from smsgw.protocols.smpp34 import FIELD_STATUS, MAX_LENGTH, MEANINGS, SPEC, STATUS_NAMES, CommandStatus as S
from smsgw.protocols.smpp34.tlvs import TLV_TABLE
from smsgw.protocols.vectors import Vector, load
from smsgw.session.codecs import codec_for
from tests.codec.strategies import command_strategy

CODEC: Codec = codec_for("smpp34")
VECTORS = load("smpp34")
SEQUENCES = st.integers(0, 0xFFFFFFFF)

_PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
_TIME = st.one_of(st.just(""), st.text(_PRINTABLE, min_size=16, max_size=16))
_ADDR = st.text(_PRINTABLE, max_size=20)
_DEST = st.one_of(
    st.fixed_dictionaries(
        {"dest_flag": st.just(1), "dest_addr_ton": st.integers(0, 255), "dest_addr_npi": st.integers(0, 255),
         "destination_addr": _ADDR}
    ),
    st.fixed_dictionaries({"dest_flag": st.just(2), "dl_name": _ADDR}),
)
#: strategies for the fields the generic strategies cannot draw well: times are "" or 16 characters,
#: submit_multi's destination list is a Custom field
CUSTOM: dict[str, st.SearchStrategy[Any]] = {
    "schedule_delivery_time": _TIME,
    "validity_period": _TIME,
    "final_date": _TIME,
    "dest_address": st.lists(_DEST, min_size=1, max_size=6),
}


def _params(kind: str) -> list[Any]:
    return [pytest.param(v, id=v.id) for v in VECTORS if v.kind == kind]


def _header(length: int, command_id: int, status: int, sequence: int) -> bytes:
    return struct.pack(">IIII", length, command_id, status, sequence)


# --------------------------------------------------------------------------- the spec itself


def test_spec_is_the_package_spec() -> None:
    assert CODEC.spec is SPEC is smpp34.SPEC
    assert SPEC.generic_nack == "generic_nack"
    assert SPEC.error_response_without_body
    assert (SPEC.status_unknown_command, SPEC.status_bad_length, SPEC.status_bad_body) == (3, 2, 1)
    assert SPEC.max_length == MAX_LENGTH == 73728


def test_command_ids_are_table_5_1() -> None:
    expected = {
        "generic_nack": 0x80000000, "bind_receiver": 0x1, "bind_transmitter": 0x2, "query_sm": 0x3, "submit_sm": 0x4,
        "deliver_sm": 0x5, "unbind": 0x6, "replace_sm": 0x7, "cancel_sm": 0x8, "bind_transceiver": 0x9, "outbind": 0xB,
        "enquire_link": 0x15, "submit_multi": 0x21, "alert_notification": 0x102, "data_sm": 0x103,
    }
    unanswered = ("outbind", "alert_notification")  # SMSC -> ESME, no response PDU
    for name, command_id in expected.items():
        assert CODEC.command_id(name) == command_id
        if name == "generic_nack":
            continue
        if name in unanswered:
            assert not CODEC.knows(command_id | 0x80000000)
            assert CODEC.response_name(name) is None
        else:
            assert CODEC.command_id(name + "_resp") == command_id | 0x80000000
            assert CODEC.response_name(name) == name + "_resp"
    assert len(SPEC.commands) == 27


def test_status_table_is_complete() -> None:
    # table 5-2 has 48 named values; 0x48/0x49 are followed by 0x50/0x51
    assert len(S) == 48
    assert set(MEANINGS) == set(S)
    assert all(MEANINGS[s] for s in S)
    assert STATUS_NAMES[0x58] == "ESME_RTHROTTLED"
    assert (S.ESME_RINVSRCTON, S.ESME_RINVSRCNPI, S.ESME_RINVDSTTON, S.ESME_RINVDSTNPI) == (0x48, 0x49, 0x50, 0x51)
    assert smpp34.status.status_name(0x400) == "SMSC vendor-specific (0x00000400)"
    assert smpp34.status.status_name(0x0B) == "ESME_RINVDSTADR"


#: smpp-notes.md section 12, "Full 3.4 tag list", transcribed
NOTES_TAGS = {
    0x0005, 0x0006, 0x0007, 0x0008, 0x000D, 0x000E, 0x000F, 0x0010, 0x0017, 0x0019, 0x001D, 0x001E, 0x0030, 0x0201,
    0x0202, 0x0203, 0x0204, 0x0205, 0x020A, 0x020B, 0x020C, 0x020D, 0x020E, 0x020F, 0x0210, 0x0302, 0x0303, 0x0304,
    0x0381, 0x0420, 0x0421, 0x0422, 0x0423, 0x0424, 0x0425, 0x0426, 0x0427, 0x0501, 0x1201, 0x1203, 0x1204, 0x130C,
    0x1380, 0x1383,
}


def test_tlv_table_is_the_full_3_4_list() -> None:
    assert {t.tag for t in TLV_TABLE} == NOTES_TAGS
    assert len({t.name for t in TLV_TABLE}) == len(TLV_TABLE) == len(NOTES_TAGS)
    by_name = {t.name: t for t in TLV_TABLE}
    # the ones the gateway relies on (smpp-notes.md section 12, first table)
    assert (by_name["receipted_message_id"].kind, by_name["receipted_message_id"].size) == ("cstring", 65)
    assert (by_name["message_state"].kind, by_name["message_state"].size) == ("uint", 1)
    assert (by_name["sar_msg_ref_num"].kind, by_name["sar_msg_ref_num"].size) == ("uint", 2)
    assert (by_name["sar_total_segments"].size, by_name["sar_segment_seqnum"].size) == (1, 1)
    assert by_name["message_payload"].kind == "octets"
    assert (by_name["sc_interface_version"].tag, by_name["sc_interface_version"].size) == (0x0210, 1)


def test_every_request_field_answers_with_its_own_status() -> None:
    """A field with an entry in FIELD_STATUS carries that status in every request table."""
    for command in SPEC.commands:
        if command.is_response:
            continue
        for f in command.fields:
            if isinstance(f, (UInt, CString, Octets, Custom)) and f.name in FIELD_STATUS:
                assert f.status == FIELD_STATUS[f.name], (command.name, f.name)
                assert type(f.status) is int  # the engine writes statuses into generated source
            if isinstance(f, Tlvs):
                assert (f.status, f.length_status) == (S.ESME_RINVOPTPARSTREAM, S.ESME_RINVPARLEN)


def test_time_fields_are_1_or_17_bytes() -> None:
    times = [
        f for c in SPEC.commands for f in c.fields
        if isinstance(f, CString) and f.name.endswith(("_time", "_period", "_date"))
    ]
    assert len(times) == 9  # two each in submit_sm, deliver_sm, submit_multi, replace_sm; final_date
    assert all(f.max_size == 17 and f.exact_sizes == (17,) for f in times)


# --------------------------------------------------------------------------- vectors


def test_vector_files() -> None:
    ids = {v.id for v in VECTORS}
    assert {f"SMPP-{n:02d}" for n in range(1, 13)} <= ids
    for v in VECTORS:
        assert v.protocol == "smpp34"
        assert v.provenance in ("test suite", "captured", "constructed", "ours")
        if v.kind == "bad":
            assert v.error is not None and not v.roundtrip and v.provenance == "ours"
        else:
            assert v.kind == "pdu" and v.roundtrip
        assert re.fullmatch(r"SMPP-(\d\d|B\d\d|N\d\d|E\d\d)", v.id)  # E: ours, error responses with a body


@pytest.mark.parametrize("v", _params("pdu"))
def test_pdu_vector(v: Vector) -> None:
    framer = CODEC.framer()
    frames = framer.feed(v.data)
    assert frames == [v.data] and framer.pending == 0
    pdu = CODEC.decode(v.data)
    expect = v.expect
    assert (pdu.command, pdu.sequence, pdu.status) == (expect["command"], expect["sequence"], expect["status"])
    assert pdu.fields == expect["fields"]
    # re-encoding from the documented fields (not from our own decode) gives the same bytes
    assert CODEC.encode(Pdu(expect["command"], expect["sequence"], expect["fields"], expect["status"])) == v.data
    assert CODEC.encode(pdu) == v.data


@pytest.mark.parametrize("v", _params("bad"))
def test_bad_vector(v: Vector) -> None:
    assert v.error is not None
    with pytest.raises(DecodeError) as caught:
        CODEC.decode(v.data)
    err = caught.value
    assert err.protocol == "smpp34"
    got = {"field": err.field, "status": err.status, "response": err.response, "fatal": err.fatal}
    assert got == v.error
    if len(v.data) >= 16:
        # the sequence number is kept, so the answer can echo it
        assert err.sequence == int.from_bytes(v.data[12:16], "big")


def test_receipt_vectors_hold_the_documented_text() -> None:
    texts = {
        v.id: v.expect["fields"]["short_message"].decode("latin-1")
        for v in VECTORS if v.id in ("SMPP-05", "SMPP-11", "SMPP-12")
    }
    assert texts["SMPP-05"] == (
        "id:abc1 sub:001 dlvrd:001 submit date:2611212100 done date:2611212100 stat:DELIVRD err:000 text:hello"
    )
    assert texts["SMPP-11"].endswith("stat:ACCEPTD err:107 text: 26F102")
    assert texts["SMPP-12"].endswith("err:000 Text:Hello" + " " * 15)


# --------------------------------------------------------------------------- framing


@pytest.mark.parametrize("length", [0, 12, 15, MAX_LENGTH + 1, 0xFFFFFFFF])
def test_framer_refuses_impossible_lengths(length: int) -> None:
    framer = CODEC.framer()
    with pytest.raises(DecodeError) as caught:
        framer.feed(_header(length, 0x15, 0, 77))
    err = caught.value
    assert (err.status, err.response, err.fatal, err.sequence) == (S.ESME_RINVCMDLEN, "generic_nack", True, 77)


def test_framer_cuts_a_stream_fed_byte_by_byte() -> None:
    stream = b"".join(v.data for v in VECTORS if v.kind == "pdu")
    framer = CODEC.framer()
    frames: list[bytes] = []
    for i in range(len(stream)):
        frames += framer.feed(stream[i:i + 1])
    assert frames == [v.data for v in VECTORS if v.kind == "pdu"]
    assert framer.pending == 0


def test_unknown_response_id_gets_generic_nack() -> None:
    # smpp-notes.md section 6: unknown command ids, responses included, get generic_nack ESME_RINVCMDID
    with pytest.raises(DecodeError) as caught:
        CODEC.decode(_header(16, 0x80000099, 0, 5))
    assert (caught.value.status, caught.value.response, caught.value.fatal) == (3, "generic_nack", False)


# --------------------------------------------------------------------------- limits and leniency


def _submit_sm(**fields: Any) -> Pdu:
    base = {"source_addr": "1065", "destination_addr": "8613800138000", "short_message": b""}
    base.update(fields)
    return Pdu("submit_sm", 9, base)


def test_a_64k_message_payload_fits() -> None:
    payload = bytes(range(256)) * 255 + bytes(255)  # 65535 bytes, the most a TLV can carry
    wire = CODEC.encode(_submit_sm(tlvs={"message_payload": payload, "sar_msg_ref_num": 7}))
    assert CODEC.framer().feed(wire) == [wire]
    assert CODEC.decode(wire).fields["tlvs"] == {"message_payload": payload, "sar_msg_ref_num": 7}


def test_the_largest_submit_multi_fits() -> None:
    dests = [{"dest_flag": 1, "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "8" * 20}] * 254
    fields = {
        "service_type": "CMTXX", "source_addr": "1" * 20, "dest_address": dests,
        "schedule_delivery_time": "260101120000000+", "validity_period": "260101120000000+", "short_message": b"x" * 254, "tlvs": {"message_payload": bytes(65535)},
    }
    wire = CODEC.encode(Pdu("submit_multi", 1, fields))
    assert len(wire) == 71977 <= MAX_LENGTH
    assert CODEC.framer().feed(wire) == [wire]
    assert CODEC.decode(wire).fields["dest_address"] == dests
    with pytest.raises(EncodeError):
        CODEC.encode(Pdu("submit_multi", 1, dict(fields, dest_address=dests + dests[:1])))


def test_encode_refuses_what_the_decoder_would_refuse() -> None:
    with pytest.raises(EncodeError) as caught:
        CODEC.encode(Pdu("bind_transceiver", 1, {"system_id": "a" * 16, "password": "x"}))
    assert caught.value.field == "system_id"
    with pytest.raises(EncodeError) as caught:
        CODEC.encode(_submit_sm(validity_period="2601011200"))
    assert caught.value.field == "validity_period"
    with pytest.raises(EncodeError):
        CODEC.encode(_submit_sm(short_message=bytes(256)))
    with pytest.raises(EncodeError):
        CODEC.encode(Pdu("submit_multi", 1, {"dest_address": []}))
    with pytest.raises(EncodeError):
        CODEC.encode(Pdu("submit_multi", 1, {"dest_address": [{"dest_flag": 3}]}))
    with pytest.raises(EncodeError):
        CODEC.encode(Pdu("submit_multi", 1, {"dest_address": [{"dest_flag": 2, "dl_name": "n" * 21}]}))


def test_fifteen_character_system_id_fits() -> None:
    body = b"abcdefghijklmno\0" + b"12345678\0" + b"\0" + b"\x34\x00\x00\0"
    wire = _header(16 + len(body), 9, 0, 3) + body
    assert CODEC.decode(wire).fields["system_id"] == "abcdefghijklmno"
    assert CODEC.decode(wire).fields["password"] == "12345678"


def test_deliver_sm_resp_with_empty_body_is_accepted() -> None:
    pdu = CODEC.decode(_header(16, 0x80000005, 0, 1))
    assert (pdu.command, pdu.fields) == ("deliver_sm_resp", {"message_id": ""})
    # and we send the single NUL (SMPP-06)
    assert CODEC.encode(pdu) == _header(17, 0x80000005, 0, 1) + b"\0"


@pytest.mark.parametrize("command", ["bind_transceiver_resp", "submit_sm_resp", "data_sm_resp", "query_sm_resp"])
def test_error_responses_carry_no_body(command: str) -> None:
    wire = CODEC.encode(Pdu(command, 4, {"system_id": "SMSC", "message_id": "abc"}, S.ESME_RSYSERR))
    assert wire == _header(16, CODEC.command_id(command), S.ESME_RSYSERR, 4)
    pdu = CODEC.decode(wire)
    assert (pdu.command, pdu.fields, pdu.status) == (command, {}, S.ESME_RSYSERR)


def test_submit_multi_resp_keeps_its_body_on_errors() -> None:
    # the unsuccess_sme list is the detail of the failure (vector SMPP-E01); with nothing to say the
    # body is an empty message_id and no_unsuccess 0, and a header-only answer from a peer still decodes
    failed = [{"dest_addr_ton": 0, "dest_addr_npi": 0, "destination_addr": "friends", "error_status_code": 0x44}]
    wire = CODEC.encode(Pdu("submit_multi_resp", 4, {"message_id": "", "unsuccess_sme": failed}, S.ESME_RSUBMITFAIL))
    pdu = CODEC.decode(wire)
    assert (pdu.status, pdu.fields) == (S.ESME_RSUBMITFAIL, {"message_id": "", "unsuccess_sme": failed})
    empty = CODEC.encode(Pdu("submit_multi_resp", 5, {}, S.ESME_RINVBNDSTS))
    assert empty == _header(18, 0x80000021, S.ESME_RINVBNDSTS, 5) + b"\0\0"
    assert CODEC.decode(_header(16, 0x80000021, S.ESME_RSYSERR, 6)).fields == {}


def test_error_response_with_a_body_is_decoded_too() -> None:
    # some SMSCs send system_id even when the bind failed (smpp-notes.md section 14)
    wire = _header(21, 0x80000009, S.ESME_RINVPASWD, 2) + b"SMSC\0"
    pdu = CODEC.decode(wire)
    assert (pdu.fields["system_id"], pdu.status) == ("SMSC", S.ESME_RINVPASWD)


def test_unknown_tlvs_are_kept_and_reencoded() -> None:
    wire = CODEC.encode(_submit_sm(short_message=b"hi", tlvs={0x1400: b"vendor", "user_message_reference": 0x0102}))
    pdu = CODEC.decode(wire)
    assert pdu.fields["tlvs"] == {0x1400: b"vendor", "user_message_reference": 0x0102}
    assert CODEC.encode(pdu) == wire


def test_error_status_follows_the_field() -> None:
    """Truncating a submit_sm inside each field names that field and its status."""
    wire = CODEC.encode(_submit_sm(service_type="CMT", short_message=b"hello"))
    expected = [
        ("service_type", S.ESME_RINVSERTYP),
        ("source_addr_ton", S.ESME_RINVSRCTON),
        ("source_addr", S.ESME_RINVSRCADR),
        ("dest_addr_ton", S.ESME_RINVDSTTON),
        ("destination_addr", S.ESME_RINVDSTADR),
        ("esm_class", S.ESME_RINVESMCLASS),
        ("schedule_delivery_time", S.ESME_RINVSCHED),
        ("validity_period", S.ESME_RINVEXPIRY),
        ("registered_delivery", S.ESME_RINVREGDLVFLG),
        ("short_message", S.ESME_RINVMSGLEN),
    ]
    seen: list[tuple[str | None, int]] = []
    for cut in range(17, len(wire)):
        frame = wire[:cut]
        frame = len(frame).to_bytes(4, "big") + frame[4:]
        with pytest.raises(DecodeError) as caught:
            CODEC.decode(frame)
        err = caught.value
        assert err.response == "submit_sm_resp" and err.sequence == 9 and not err.fatal
        assert err.status == FIELD_STATUS.get(err.field or "", SPEC.status_bad_body)
        if not seen or seen[-1][0] != err.field:
            seen.append((err.field, err.status))
    assert seen == expected


# --------------------------------------------------------------------------- properties

COMMAND_NAMES = [c.name for c in SPEC.commands]


# every command in each example: @given under @parametrize breaks with pytest-twisted 1.14
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_roundtrip_every_command(data: st.DataObject) -> None:
    for command in COMMAND_NAMES:
        fields = data.draw(command_strategy(SPEC.command(command), CUSTOM), label=command)
        sequence = data.draw(SEQUENCES, label="sequence")
        wire = CODEC.encode(Pdu(command, sequence, fields))
        assert int.from_bytes(wire[:4], "big") == len(wire)
        assert CODEC.framer().feed(wire) == [wire]
        pdu = CODEC.decode(wire)
        assert (pdu.command, pdu.sequence, pdu.status, pdu.fields) == (command, sequence, 0, fields)
        assert CODEC.encode(pdu) == wire


def _decode_everything(data: bytes) -> None:
    """Only DecodeError may come out of decode() and of a framer fed the bytes whole or split."""
    try:
        CODEC.decode(data)
    except DecodeError:
        pass
    for step in (len(data) or 1, 7):
        framer = CODEC.framer()
        try:
            frames = [f for i in range(0, len(data), step) for f in framer.feed(data[i:i + step])]
        except DecodeError as e:
            assert e.fatal and e.status == S.ESME_RINVCMDLEN
            continue
        for frame in frames:
            try:
                CODEC.decode(frame)
            except DecodeError as e:
                assert e.response in (None, "generic_nack") or e.response == CODEC.response_name(str(e.command))


@settings(max_examples=400)
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    _decode_everything(data)


@settings(max_examples=400)
@given(command_id=st.sampled_from([c.id for c in SPEC.commands]), body=st.binary(max_size=300))
def test_random_bodies_behind_a_right_header(command_id: int, body: bytes) -> None:
    _decode_everything(_header(16 + len(body), command_id, 0, 1) + body)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), command=st.sampled_from(COMMAND_NAMES), sequence=SEQUENCES)
def test_mutations(data: st.DataObject, command: str, sequence: int) -> None:
    fields = data.draw(command_strategy(SPEC.command(command), CUSTOM))
    wire = bytearray(CODEC.encode(Pdu(command, sequence, fields)))
    how = data.draw(st.sampled_from(["truncate", "truncate_fixed", "flip", "length", "body_byte", "splice"]))
    if how in ("truncate", "truncate_fixed"):
        wire = wire[:data.draw(st.integers(0, len(wire) - 1))]
        if how == "truncate_fixed" and len(wire) >= 4:
            wire[:4] = len(wire).to_bytes(4, "big")
    elif how == "flip":
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(wire) - 1))
            wire[i] ^= 1 << data.draw(st.integers(0, 7))
    elif how == "length":
        wire[:4] = data.draw(st.integers(0, 0xFFFFFFFF)).to_bytes(4, "big")
    elif how == "body_byte" and len(wire) > 16:
        # a length, count or flag inside the body (sm_length, number_of_dests, dest_flag, TLV length)
        wire[data.draw(st.integers(16, len(wire) - 1))] = data.draw(st.integers(0, 0xFF))
    else:
        i = data.draw(st.integers(0, len(wire)))
        wire[i:i] = data.draw(st.binary(min_size=1, max_size=8))
        wire[:4] = len(wire).to_bytes(4, "big")
    _decode_everything(bytes(wire))
