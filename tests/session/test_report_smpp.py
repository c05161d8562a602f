"""SMPP delivery receipt text: our output, real SMSCs' variants (SMPP-05, -11, -12), stat mapping."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, strategies as st

from smsgw.protocols.smpp34.constants import MessageState
from smsgw.protocols.vectors import load
from smsgw.session.report_smpp import (
    STAT_TO_STATE,
    STATE_TO_STAT,
    ReceiptError,
    SmppReceipt,
    format_receipt,
    parse_receipt,
    receipt_tlvs,
)

VECTORS = {v.id: v for v in load("smpp34")}


def short_message(vector_id: str) -> bytes:
    data: bytes = VECTORS[vector_id].expect["fields"]["short_message"]
    return data


def test_we_write_the_smpp_05_text() -> None:
    at = datetime(2026, 11, 21, 21, 0)
    receipt = SmppReceipt(id="abc1", stat="DELIVRD", sub=1, dlvrd=1, submit_date=at, done_date=at, err="000", text="hello")
    assert format_receipt(receipt).encode("ascii") == short_message("SMPP-05")
    assert receipt_tlvs(receipt) == VECTORS["SMPP-05"].expect["fields"]["tlvs"]


def test_smpp_05_parses() -> None:
    r = parse_receipt(short_message("SMPP-05"))
    at = datetime(2026, 11, 21, 21, 0)
    assert r == SmppReceipt(id="abc1", stat="DELIVRD", sub=1, dlvrd=1, submit_date=at, done_date=at, err="000", text="hello")
    assert r.message_state is MessageState.DELIVERED


def test_smpp_11_long_decimal_id_and_accepted_state() -> None:
    r = parse_receipt(short_message("SMPP-11"))
    assert r.id == "94251430923"  # 11 digits where the spec says 10
    assert (r.stat, r.err, r.sub, r.dlvrd) == ("ACCEPTD", "107", 1, 1)
    assert r.submit_date == r.done_date == datetime(2009, 11, 4, 1, 24)
    assert r.text == " 26F102"  # kept as sent, leading space included
    assert r.message_state is MessageState.ACCEPTED


def test_smpp_12_hex_id_and_capital_text_label() -> None:
    r = parse_receipt(short_message("SMPP-12"))
    # the id in the text equals the receipted_message_id TLV byte for byte
    assert r.id == "126e85a6edeac1a02020099312479564" == VECTORS["SMPP-12"].expect["fields"]["tlvs"]["receipted_message_id"]
    assert r.text == "Hello" + " " * 15
    assert r.done_date == datetime(2010, 2, 19, 16, 30)
    assert r.message_state is MessageState.DELIVERED == VECTORS["SMPP-12"].expect["fields"]["tlvs"]["message_state"]


def test_twelve_digit_dates_underscores_and_missing_counts() -> None:
    r = parse_receipt("id:X-1 submit_date:260102030405 done_date:260102030506 stat:undeliv err:MA:0001 Text:")
    assert (r.id, r.stat, r.err, r.text) == ("X-1", "UNDELIV", "MA:0001", "")
    assert r.submit_date == datetime(2026, 1, 2, 3, 4, 5)
    assert r.done_date == datetime(2026, 1, 2, 3, 5, 6)
    assert (r.sub, r.dlvrd) == (1, 0)
    assert r.message_state is MessageState.UNDELIVERABLE


def test_text_may_contain_labels() -> None:
    r = parse_receipt(
        "id:7 sub:001 dlvrd:000 submit date:2601010000 done date:2601010000 stat:EXPIRED err:000 text:id:8 stat:DELIVRD"
    )
    assert (r.id, r.stat, r.text) == ("7", "EXPIRED", "id:8 stat:DELIVRD")


def test_unreadable_dates_become_none() -> None:
    r = parse_receipt("id:1 submit date:2613991200 done date:yesterday stat:DELIVRD")
    assert r.submit_date is None and r.done_date is None


@pytest.mark.parametrize("text", ["", "hello world", "id:123 err:000", "stat:DELIVRD err:000", "id: stat:DELIVRD"])
def test_not_a_receipt(text: str) -> None:
    with pytest.raises(ReceiptError):
        parse_receipt(text)


def test_stat_words_and_message_states() -> None:
    assert set(STATE_TO_STAT) == set(MessageState)
    assert {STATE_TO_STAT[s] for s in MessageState} == set(STAT_TO_STATE)
    assert all(len(word) == 7 for word in STAT_TO_STATE)
    assert STAT_TO_STATE["REJECTD"] is MessageState.REJECTED
    assert SmppReceipt(id="1", stat="NOSUCH").message_state is MessageState.UNKNOWN


def test_format_pads_and_cuts() -> None:
    out = format_receipt(SmppReceipt(id="9", stat="UNDELIV", err="5", text="abcdefghijklmnopqrstuvwxyz"))
    assert out == (
        "id:9 sub:001 dlvrd:000 submit date:0000000000 done date:0000000000 stat:UNDELIV err:005 text:abcdefghijklmnopqrst"
    )


_WORD = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E).filter(lambda c: c != ":"), min_size=1, max_size=64)
_MINUTES = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(lambda d: d.replace(second=0, microsecond=0))
_DATE = st.one_of(st.none(), _MINUTES)
_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)


@given(
    id=_WORD, stat=st.sampled_from(sorted(STAT_TO_STATE)), sub=st.integers(0, 999), dlvrd=st.integers(0, 999),
    submit=_DATE, done=_DATE, err=st.from_regex(r"\A[0-9]{3}\Z"), text=_TEXT,
)
def test_format_then_parse(
    id: str, stat: str, sub: int, dlvrd: int, submit: datetime | None, done: datetime | None, err: str, text: str
) -> None:
    receipt = SmppReceipt(id=id, stat=stat, sub=sub, dlvrd=dlvrd, submit_date=submit, done_date=done, err=err, text=text)
    assert parse_receipt(format_receipt(receipt)) == receipt
