"""CMPP status reports (layout by length) and Msg_Id helpers, against the golden vectors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, strategies as st

from smsgw.protocols.vectors import Vector, load
from smsgw.session.codecs import codec_for
from smsgw.session.report_cmpp import (
    REPORT_SIZE,
    CmppReport,
    MsgIdParts,
    ReportError,
    decode_report,
    describe_stat,
    encode_report,
    make_msg_id,
    msg_id_text,
    pack_msg_id,
    parse_msg_id,
    unpack_msg_id,
)

ALL = load("cmpp20") + load("cmpp30")


def report_content(v: Vector) -> bytes:
    return v.data if v.kind == "report" else v.expect["fields"]["msg_content"]


def params(pred: Any) -> list[Any]:
    return [pytest.param(v, id=v.id) for v in ALL if pred(v)]


@pytest.mark.parametrize("v", params(lambda v: "report" in v.expect))
def test_report_vector(v: Vector) -> None:
    content = report_content(v)
    report = decode_report(content)
    assert report == CmppReport(**v.expect["report"])
    assert encode_report(report, len(content)) == content


@pytest.mark.parametrize("v", params(lambda v: v.kind == "pdu" and "report" in v.expect))
def test_report_vectors_are_report_delivers(v: Vector) -> None:
    pdu = codec_for(v.protocol).decode(v.data)
    assert pdu.command == "deliver" and pdu["registered_delivery"] == 1
    assert decode_report(pdu["msg_content"]) == CmppReport(**v.expect["report"])


def test_layout_follows_length_not_version() -> None:
    """CMPP-18: a CMPP 3.0 DELIVER with the 60-byte report of 2.0."""
    v = next(v for v in ALL if v.id == "CMPP-18")
    assert v.protocol == "cmpp30"
    content = codec_for("cmpp30").decode(v.data)["msg_content"]
    assert len(content) == REPORT_SIZE["cmpp20"] == 60
    report = decode_report(content)
    assert report.smsc_sequence == 255 and report.dest_terminal_id == "10086988"
    # re-sent in the layout of 3.0 it keeps every field
    as71 = encode_report(report, REPORT_SIZE["cmpp30"])
    assert len(as71) == 71 and decode_report(as71) == report


def test_cmpp16_and_cmpp20_carry_the_same_report() -> None:
    by_id = {v.id: v for v in ALL}
    assert report_content(by_id["CMPP-16"]) == report_content(by_id["CMPP-20"])


@pytest.mark.parametrize("size", [0, 59, 61, 70, 72, 140])
def test_other_lengths_are_length_errors(size: int) -> None:
    with pytest.raises(ReportError) as caught:
        decode_report(bytes(size))
    assert caught.value.result == 4  # DELIVER_RESP Result "message length error"


def test_a_32_digit_number_does_not_fit_the_60_byte_layout() -> None:
    report = CmppReport(1, "DELIVRD", "2401010000", "2401010001", "1" * 32, 0)
    assert len(encode_report(report, 71)) == 71
    with pytest.raises(ValueError):
        encode_report(report, 60)
    with pytest.raises(ValueError):
        encode_report(report, 64)


def test_stat_meanings() -> None:
    assert CmppReport(1, "DELIVRD", "", "", "", 0).delivered
    assert not CmppReport(1, "UNDELIV", "", "", "", 0).delivered
    assert "delivered" in describe_stat("DELIVRD")
    assert "SMSC" in describe_stat("MA:0001")
    assert "next ISMG" in describe_stat("IC:0015")
    assert describe_stat("AF:4") == "unrecognised status 'AF:4'"  # CMPP-17: kept raw, a failure


_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E))


@given(
    st.integers(0, 2**64 - 1), _TEXT.filter(lambda s: len(s) <= 7), _TEXT.filter(lambda s: len(s) <= 10),
    _TEXT.filter(lambda s: len(s) <= 10), _TEXT.filter(lambda s: len(s) <= 21), st.integers(0, 2**32 - 1),
    st.sampled_from([60, 71]),
)
def test_report_roundtrip(msg_id: int, stat: str, submit: str, done: str, dest: str, seq: int, size: int) -> None:
    report = CmppReport(msg_id, stat, submit, done, dest, seq)
    content = encode_report(report, size)
    assert len(content) == size
    assert decode_report(content) == report


# --------------------------------------------------------------------------- Msg_Id

@pytest.mark.parametrize("v", params(lambda v: "msg_id_fields" in v.expect))
def test_msg_id_fields_of_the_vectors(v: Vector) -> None:
    msg_id = v.expect["fields"]["msg_id"]
    parts = MsgIdParts(**v.expect["msg_id_fields"])
    assert unpack_msg_id(msg_id) == parts
    assert pack_msg_id(parts) == msg_id


def test_msg_id_example_of_the_notes() -> None:
    # cmpp.md 7: 0xB2B9DA8000010000 = 11-05 14:29:42, gateway 1, sequence 0
    msg_id = make_msg_id(datetime(2015, 11, 5, 14, 29, 42), gateway=1, sequence=0)
    assert msg_id == 0xB2B9DA8000010000
    assert msg_id_text(msg_id) == "b2b9da8000010000"
    assert make_msg_id(datetime(2015, 11, 5, 14, 29, 42), 1, 0x10001) == msg_id + 1  # sequence wraps


@given(st.integers(0, 2**64 - 1))
def test_msg_id_pack_unpack_text(msg_id: int) -> None:
    assert pack_msg_id(unpack_msg_id(msg_id)) == msg_id
    text = msg_id_text(msg_id)
    assert len(text) == 16
    assert parse_msg_id(text) == msg_id


@pytest.mark.parametrize("text", ["", "B2B9DA8000010000", "0xb2b9da80000100", "b2b9da800001000", "b2b9da80000100000",
                                  "12886713834768203776", " b2b9da800001000"])
def test_only_the_canonical_text_form_parses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_msg_id(text)


@pytest.mark.parametrize("bad", [-1, 2**64])
def test_msg_id_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError):
        unpack_msg_id(bad)
    with pytest.raises(ValueError):
        msg_id_text(bad)


def test_pack_refuses_fields_that_do_not_fit() -> None:
    with pytest.raises(ValueError):
        pack_msg_id(MsgIdParts(16, 1, 0, 0, 0, 0, 0))
    with pytest.raises(ValueError):
        pack_msg_id(MsgIdParts(1, 1, 0, 0, 0, 1 << 22, 0))
