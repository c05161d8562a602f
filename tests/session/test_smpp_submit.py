"""Reading a client's submit_sm into a Submission."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from smsgw.codec import Pdu
from smsgw.domain.coding import Coding
from smsgw.protocols.smpp34.status import CommandStatus as S
from smsgw.session.codecs import codec_for
from smsgw.session.smpp_submit import SubmitRefused, read_submission

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=timezone(timedelta(hours=8)))


def submit(**fields: object) -> Pdu:
    base: dict[str, object] = {"source_addr": "1065", "destination_addr": "13800138000"}
    base.update(fields)
    return Pdu("submit_sm", 1, base)


def test_smpplib_udh_part_is_kept_as_one_segment() -> None:
    # SMPP-03: smpplib's first part of a long UCS2 message, UDH 05 00 03 24 02 01
    raw = bytes.fromhex("000000be00000004000000000000000300000031303635000100383631333830303133383030300040000000"
                        "000100080" "08c05000324020100480065006c006c006f00200053004d0050005000204f60597d0048006500"
                        "6c006c006f00200053004d0050005000204f60597d00480065006c006c006f00200053004d005000500020"
                        "4f60597d00480065006c006c006f00200053004d0050005000204f60597d00480065006c006c006f002000"
                        "53004d0050005000204f60597d00480065")
    sub = read_submission(codec_for("smpp34").decode(raw), NOW)
    assert sub.client_concat is not None and (sub.client_concat.total, sub.client_concat.number) == (2, 1)
    assert sub.coding is Coding.UCS2 and sub.udhi
    assert sub.segments == (raw[-140:],)  # UCS2 in, UCS2 out: the part goes to the carrier unchanged
    assert sub.registered_delivery == 1 and sub.dest_addr == "8613800138000"


def test_gsm_text_goes_to_carriers_as_ascii() -> None:
    sub = read_submission(submit(short_message=b"Hello world", data_coding=0), NOW)
    assert sub.text == "Hello world" and sub.coding is Coding.ASCII and sub.segments == (b"Hello world",)


def test_message_payload_is_split_here() -> None:
    text = "验证码测试" * 30  # 150 UCS2 characters -> 3 parts of 67
    sub = read_submission(submit(data_coding=8, tlvs={"message_payload": text.encode("utf-16-be")}), NOW, reference=7)
    assert len(sub.segments) == 3 and sub.udhi
    assert sub.segments[0][:6] == bytes.fromhex("050003070301")
    assert b"".join(s[6:] for s in sub.segments).decode("utf-16-be") == text


def test_sar_tlvs_become_a_udh() -> None:
    sub = read_submission(submit(short_message="第二段".encode("utf-16-be"), data_coding=8,
                                 tlvs={"sar_msg_ref_num": 300, "sar_total_segments": 2, "sar_segment_seqnum": 2}), NOW)
    assert sub.segments[0][:7] == bytes.fromhex("060804012c0202")


@pytest.mark.parametrize("fields, status", [
    ({"short_message": b"x", "tlvs": {"message_payload": b"y"}}, S.ESME_RINVMSGLEN),
    ({"esm_class": 0x04}, S.ESME_RINVESMCLASS),
    ({"esm_class": 0x40, "short_message": b"\x05\x00\x03\x01\x00\x01xx"}, S.ESME_RINVESMCLASS),
    ({"validity_period": "000000000000000R"[:-1] + "X"}, S.ESME_RINVEXPIRY),
    ({"validity_period": "251121100000000+"}, S.ESME_RINVEXPIRY),
    ({"schedule_delivery_time": "2611211000000999"}, S.ESME_RINVSCHED),
    ({"registered_delivery": 3}, S.ESME_RINVREGDLVFLG),
    ({"priority_flag": 4}, S.ESME_RINVPRTFLG),
    ({"tlvs": {"sar_msg_ref_num": 1, "sar_total_segments": 2}}, S.ESME_RINVOPTPARAMVAL),
    ({"data_coding": 8, "short_message": b"\xd8\x00"}, S.ESME_RINVMSGLEN),
])
def test_refusals_carry_the_status(fields: dict, status: int) -> None:
    with pytest.raises(SubmitRefused) as info:
        read_submission(submit(**fields), NOW)
    assert info.value.status == status


def test_relative_validity_and_schedule() -> None:
    sub = read_submission(submit(validity_period="000001000000000R", schedule_delivery_time="000000001000000R"), NOW)
    assert sub.validity_ms == int((NOW + timedelta(days=1)).timestamp() * 1000)
    assert sub.schedule_ms == int((NOW + timedelta(minutes=10)).timestamp() * 1000)


def test_binary_passes_through() -> None:
    sub = read_submission(submit(data_coding=4, short_message=b"\x00\x01\xff"), NOW)
    assert sub.text is None and sub.coding is Coding.BINARY and sub.segments == (b"\x00\x01\xff",)
