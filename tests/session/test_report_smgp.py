"""SMGP status report text and MsgIDs (smgp.md 10, 11): SMGP-09 (standard), SMGP-10 (real gateway), variants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgw.protocols.vectors import load
from smsgw.session.codecs import codec_for
from smsgw.session.report_smgp import (
    REPORT_LENGTH, MsgIdParts, ReportFormatError, SmgpReport, build_report, make_msg_id, msg_id_from_text,
    msg_id_parts, msg_id_to_text, parse_report, report_text,
)

CODEC = codec_for("smgp30")
VECTORS = {v.id: v for v in load("smgp30")}
BCD_ID = bytes.fromhex("01006101161700012345")
STANDARD = SmgpReport(msg_id=BCD_ID, sub="001", dlvrd="001", submit_date="0301161700", done_date="0301161701",
                      stat="DELIVRD", err="000", text=bytes(20))


def test_smgp09_deliver_carries_the_standard_122_byte_report() -> None:
    deliver = CODEC.decode(VECTORS["SMGP-09"].data)
    assert deliver["is_report"] == 1
    content = deliver["msg_content"]
    assert len(content) == REPORT_LENGTH
    assert parse_report(content) == STANDARD
    assert build_report(STANDARD) == content


def test_smgp10_real_gateway_variant() -> None:
    vector = VECTORS["SMGP-10"]
    assert vector.kind == "report" and len(vector.data) == 110
    report = parse_report(vector.data)
    assert attrs.asdict(report) == vector.expect["fields"]
    assert msg_id_to_text(report.msg_id) == "6495c36ac4ea6b00000b"
    assert msg_id_parts(report.msg_id) is None  # not BCD


def _standard_with(old: bytes, new: bytes) -> bytes:
    content = build_report(STANDARD)
    assert old in content
    return content.replace(old, new)


@pytest.mark.parametrize("old, new", [
    (b" submit date:", b" Submit date:"),  # go_smgp
    (b" text:", b" Text:"),  # go_smgp
    (b" submit date:", b" Submit_Date:"),
    (b" done date:", b" done_date:"),
    (b" submit date:", b"submitdate:"),
    (b" sub:", b"sub:"),  # SMGP-10: no space after the id
    (b" stat:", b"stat:"),
    (b" text:", b" txt:"),
    (b" sub:001 dlvrd:001", b" SUB:001 DLVRD:001"),
])
def test_label_variants(old: bytes, new: bytes) -> None:
    assert parse_report(_standard_with(old, new)) == STANDARD


def test_values_glued_to_the_next_label() -> None:
    content = b"id:" + BCD_ID + b"sub:1dlvrd:1submit date:0301161700done date:0301161701stat:UNDELIVerr:6text:"
    report = parse_report(content)
    assert (report.sub, report.dlvrd, report.stat, report.err, report.text) == ("1", "1", "UNDELIV", "6", b"")
    assert (report.submit_date, report.done_date) == ("0301161700", "0301161701")


def test_missing_optional_labels_read_as_empty() -> None:
    report = parse_report(b"id:" + BCD_ID + b" stat:EXPIRED err:001")
    assert (report.stat, report.err, report.sub, report.submit_date, report.text) == ("EXPIRED", "001", "", "", b"")


def test_labels_are_looked_for_neither_in_the_id_nor_in_the_text() -> None:
    msg_id = b"stat:UNDEL"  # a binary id may hold any 10 bytes
    content = b"id:" + msg_id + b" sub:001 dlvrd:001 stat:DELIVRD err:000 text:stat:REJECTD err:999"
    report = parse_report(content)
    assert (report.msg_id, report.stat, report.err) == (msg_id, "DELIVRD", "000")
    assert report.text == b"stat:REJECTD err:999"


@pytest.mark.parametrize("content", [
    b"", b"id:", b"id:123456789", b"ix:" + BCD_ID + b" stat:DELIVRD",  # no id: + 10 bytes
    b"id:" + BCD_ID + b" sub:001 dlvrd:001 err:000 text:stat:DELIVRD",  # stat only inside the text
])
def test_unreadable_reports(content: bytes) -> None:
    with pytest.raises(ReportFormatError):
        parse_report(content)


@pytest.mark.parametrize("change", [
    {"msg_id": b"123"}, {"sub": "1"}, {"dlvrd": "0011"}, {"submit_date": "03011617"}, {"done_date": ""},
    {"stat": "DELIVERED"}, {"err": "0"}, {"text": bytes(21)}, {"stat": "DÉLIVRD"},
])
def test_build_refuses_values_that_do_not_fit(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        build_report(attrs.evolve(STANDARD, **change))


def test_report_text_of_the_original_message() -> None:
    assert report_text(b"hello") == b"005hello" + bytes(12)
    long = bytes(range(65, 65 + 40))
    assert report_text(long) == b"040" + long[:17]
    assert len(report_text(b"x" * 2000)) == 20 and report_text(b"x" * 2000).startswith(b"999")




def _fixed(n: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=n, max_size=n)


@given(st.binary(min_size=10, max_size=10), _fixed(3), _fixed(3), _fixed(10), _fixed(10),
       st.sampled_from(["DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"]), _fixed(3),
       st.binary(max_size=20))
def test_property_build_then_parse(msg_id: bytes, sub: str, dlvrd: str, submit: str, done: str, stat: str, err: str,
                                   text: bytes) -> None:
    report = SmgpReport(msg_id, sub, dlvrd, submit, done, stat, err, text.ljust(20, b"\0"))
    content = build_report(report)
    assert len(content) == REPORT_LENGTH and parse_report(content) == report


@given(st.binary(max_size=200))
def test_property_random_content_only_raises_report_format_error(content: bytes) -> None:
    for candidate in (content, b"id:" + content):
        try:
            report = parse_report(candidate)
        except ReportFormatError:
            continue
        assert len(report.msg_id) == 10 and report.stat


# ------------------------------------------------------------------ MsgID

def test_bcd_msg_id_of_the_spec_example() -> None:
    assert make_msg_id("010061", datetime(2003, 1, 16, 17, 0), 12345) == BCD_ID
    assert msg_id_to_text(BCD_ID) == "01006101161700012345"
    assert msg_id_parts(BCD_ID) == MsgIdParts(gateway="010061", month=1, day=16, hour=17, minute=0, sequence=12345)


def test_msg_ids_of_the_vectors() -> None:
    resp = CODEC.decode(VECTORS["SMGP-04"].data)
    assert msg_id_to_text(resp["msg_id"]) == "00010203040506070809"
    deliver = CODEC.decode(VECTORS["SMGP-09"].data)
    assert msg_id_to_text(deliver["msg_id"]) == "01006101161800000001"  # the Deliver's own id
    assert parse_report(deliver["msg_content"]).msg_id == BCD_ID  # the reported Submit's id


@pytest.mark.parametrize("text", ["", "0" * 19, "0" * 21, "g" * 20, "0x" + "0" * 18, "٠" * 20])
def test_msg_id_from_text_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        msg_id_from_text(text)


def test_make_msg_id_refuses() -> None:
    with pytest.raises(ValueError):
        make_msg_id("01006", datetime(2003, 1, 16), 1)
    with pytest.raises(ValueError):
        make_msg_id("010061", datetime(2003, 1, 16), 10**6)
    with pytest.raises(ValueError):
        msg_id_to_text(b"123")


@given(st.binary(min_size=10, max_size=10))
def test_property_msg_id_text_round_trips(msg_id: bytes) -> None:
    text = msg_id_to_text(msg_id)
    assert len(text) == 20 and msg_id_from_text(text) == msg_id == msg_id_from_text(text.upper())
    parts = msg_id_parts(msg_id)
    assert (parts is None) == (not text.isdigit())
