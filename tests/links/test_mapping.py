"""ClaimedSegment -> submit fields, per protocol (pure; the fields are also run through the real codecs)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smsgw.codec import Pdu
from smsgw.domain.udh import Concat
from smsgw.net.links import mapping
from smsgw.net.links.mapping import MappingError, submit_fields
from smsgw.protocols.smgp30.status import VERSION_13
from smsgw.session.codecs import codec_for
from smsgw.session.smgp_peer import smgp_codec
from tests.links.fixtures import HOUR_MS, WALL, WALL_S, config, segment


def roundtrip(protocol: str, fields: dict, smgp_version: int | None = None) -> dict:
    codec = smgp_codec(smgp_version) if smgp_version else codec_for(protocol)
    sequence = (3010012345, 1121205557, 1) if protocol == "sgip12" else 1
    body = {"msg_type": 6, **fields} if protocol == "smgp30" else fields
    return codec.decode(codec.encode(Pdu("submit", sequence, body))).fields


def test_cmpp20_submit_fields() -> None:
    fields = submit_fields(config("cmpp20"), segment(), "01", WALL)
    assert fields == {
        "pk_total": 1, "pk_number": 1, "registered_delivery": 1, "msg_level": 0, "service_id": "MXX0011",
        "fee_usertype": 0, "fee_terminal_id": "", "tp_pid": 0, "tp_udhi": 0, "msg_fmt": 8, "msg_src": "901234",
        "feetype": "01", "feecode": "0", "valid_time": "240310093000032+", "at_time": "",
        "src_id": "106590001201", "dest_terminal_id": ["13800138000"], "msg_content": "验证码0001".encode("utf-16-be"),
    }
    decoded = roundtrip("cmpp20", fields)
    assert decoded["src_id"] == "106590001201" and decoded["valid_time"] == "240310093000032+"


def test_cmpp30_adds_terminal_types_and_linkid() -> None:
    cfg = config("cmpp30", link_id="LINK0001", dest_terminal_type=1, fee_terminal_type=1, sp_id="900001")
    fields = submit_fields(cfg, segment(), None, WALL)
    assert (fields["linkid"], fields["dest_terminal_type"], fields["fee_terminal_type"]) == ("LINK0001", 1, 1)
    assert fields["msg_src"] == "900001" and fields["src_id"] == "1065900012"
    assert roundtrip("cmpp30", fields)["linkid"] == "LINK0001"


@pytest.mark.parametrize("udhi_flag", [1, 0x40])
def test_long_message_pk_fields_from_the_udh(udhi_flag: int) -> None:
    seg = segment(udh=Concat(0x5A, 3, 2), parts=3, seq=2)
    fields = submit_fields(config("cmpp30", udhi_flag=udhi_flag), seg, "9", WALL)
    assert (fields["pk_total"], fields["pk_number"], fields["tp_udhi"]) == (3, 2, udhi_flag)
    assert fields["msg_content"][:6] == bytes.fromhex("0500035a0302")


def test_udh_without_concatenation_uses_the_segment_numbers() -> None:
    seg = segment(parts=2, seq=2, esm_class=0x40, payload=bytes.fromhex("0605040b8423f0") + b"wap")
    fields = submit_fields(config("cmpp20"), seg, None, WALL)
    assert (fields["pk_total"], fields["pk_number"], fields["tp_udhi"]) == (2, 2, 1)


def test_broken_udh_is_a_local_refusal() -> None:
    seg = segment(esm_class=0x40, payload=bytes.fromhex("0f0003"))
    with pytest.raises(MappingError) as info:
        submit_fields(config("cmpp20"), seg, None, WALL)
    assert info.value.code == "local:udh"


def test_sgip_submit_fields() -> None:
    fields = submit_fields(config("sgip12", registered_delivery="client"), segment(registered_delivery=2), "88", WALL)
    assert fields["sp_number"] == "1065591288"
    assert fields["user_number"] == ["8613800138000"]
    assert (fields["fee_type"], fields["charge_number"], fields["corp_id"]) == (1, "0" * 21, "12345")
    assert (fields["report_flag"], fields["morelateto_mt_flag"], fields["message_coding"]) == (0, 2, 8)
    assert fields["expire_time"] == "240310093000032+" and len(fields["expire_time"]) == 16
    assert "pk_total" not in fields  # SGIP has none: the UDH says it all
    assert roundtrip("sgip12", fields)["user_number"] == ["8613800138000"]


@pytest.mark.parametrize(("mode", "asked", "cmpp", "sgip"), [
    ("always", 0, 1, 1), ("never", 1, 0, 2), ("client", 1, 1, 1), ("client", 2, 1, 0), ("client", 0, 0, 2),
])
def test_report_flags(mode: str, asked: int, cmpp: int, sgip: int) -> None:
    seg = segment(registered_delivery=asked)
    assert submit_fields(config("cmpp20", registered_delivery=mode), seg, None, WALL)["registered_delivery"] == cmpp
    assert submit_fields(config("smgp30", registered_delivery=mode), seg, None, WALL)["need_report"] == cmpp
    assert submit_fields(config("sgip12", registered_delivery=mode), seg, None, WALL)["report_flag"] == sgip


def test_smgp_submit_fields_and_tlvs() -> None:
    short = submit_fields(config("smgp30"), segment(), "5", WALL)
    assert short["tlvs"] == {} and short["src_term_id"] == "11890015" and short["fee_type"] == "00"
    assert short["fixed_fee"] == "0" and short["dest_term_id"] == ["13800138000"]
    long = submit_fields(config("smgp30", link_id="L1", tp_pid=1, extra_tlvs={"m_service_id": "PROD1"}),
                         segment(udh=Concat(9, 2, 1), parts=2), None, WALL)
    assert long["tlvs"] == {"tp_udhi": 1, "pk_total": 2, "pk_number": 1, "tp_pid": 1, "link_id": "L1",
                            "m_service_id": "PROD1"}
    decoded = roundtrip("smgp30", long)
    assert decoded["tlvs"]["pk_total"] == 2 and decoded["tlvs"]["link_id"] == "L1"


def test_smgp_13_has_no_fixed_fee() -> None:
    fields = submit_fields(config("smgp30", smgp_version=VERSION_13), segment(), None, WALL)
    assert "fixed_fee" not in fields
    assert roundtrip("smgp30", fields, VERSION_13)["src_term_id"] == "1189001"


@pytest.mark.parametrize(("extension", "client", "append", "expected"), [
    ("01", "", False, "106590001201"),
    (None, "", False, "1065900012"),
    ("01", "77", False, "106590001201"),  # the client's digits only when the link allows them
    ("01", "77", True, "10659000120177"),
    ("01", "10659000120155", True, "10659000120155"),  # already the full number
    ("01", "ABC", True, "106590001201"),  # alphanumeric senders are ignored
])
def test_source_number(extension: str | None, client: str, append: bool, expected: str) -> None:
    assert mapping.source_number(config("cmpp20", append_client_source=append), extension, client) == expected


def test_source_number_too_long() -> None:
    with pytest.raises(MappingError) as info:
        mapping.source_number(config("cmpp20"), "1234567890123", "")
    assert info.value.code == "local:source"


@pytest.mark.parametrize(("dest", "protocol", "expected"), [
    ("13800138000", "cmpp20", "13800138000"), ("+8613800138000", "cmpp20", "13800138000"),
    ("8613800138000", "smgp30", "13800138000"), ("13800138000", "sgip12", "8613800138000"),
    ("+8613800138000", "sgip12", "8613800138000"), ("01088886666", "smgp30", "01088886666"),
])
def test_destination(dest: str, protocol: str, expected: str) -> None:
    assert mapping.destination(config(protocol), dest) == expected


def test_destination_not_a_number() -> None:
    with pytest.raises(MappingError):
        mapping.destination(config("cmpp20"), "hello")


@pytest.mark.parametrize(("data_coding", "expected"), [(0, 0), (1, 0), (2, 4), (4, 4), (8, 8), (15, 15), (0xF4, 4)])
def test_msg_fmt(data_coding: int, expected: int) -> None:
    assert mapping.msg_fmt(config("cmpp20"), data_coding) == expected


def test_msg_fmt_override_and_refusal() -> None:
    assert mapping.msg_fmt(config("smgp30", msg_fmt={"8": "15"}), 8) == 15
    with pytest.raises(MappingError) as info:
        mapping.msg_fmt(config("cmpp20"), 3)  # Latin-1 has no carrier code
    assert info.value.code == "local:coding"


def test_validity_none_capped_and_expired() -> None:
    assert submit_fields(config("cmpp20", validity=False), segment(), None, WALL)["valid_time"] == ""
    capped = submit_fields(config("cmpp20", max_validity_s=3600), segment(), None, WALL)
    assert capped["valid_time"] == "240308103000032+"
    with pytest.raises(MappingError) as info:
        submit_fields(config("cmpp20"), segment(expires_at=int(WALL_S * 1000) - HOUR_MS), None, WALL)
    assert info.value.code == "local:expired"
    assert (WALL + timedelta(hours=1)).strftime("%y%m%d%H") == "24030810"


def test_priority_fixed_or_clamped() -> None:
    assert submit_fields(config("smgp30"), segment(priority=3), None, WALL)["priority"] == 3
    assert submit_fields(config("smgp30", priority=9), segment(), None, WALL)["priority"] == 3
    assert submit_fields(config("cmpp20", priority=5), segment(), None, WALL)["msg_level"] == 5


def test_extra_fields_have_the_last_word() -> None:
    fields = submit_fields(config("cmpp20", extra_fields={"fee_usertype": 2, "feecode": "000010"}), segment(),
                           None, WALL)
    assert (fields["fee_usertype"], fields["feecode"]) == (2, "000010")


@pytest.mark.parametrize(("fmt", "expected"), [(0, 1), (8, 8), (15, 15), (4, 4), (3, 4), (0xF5, 4)])
def test_mo_data_coding(fmt: int, expected: int) -> None:
    assert mapping.mo_data_coding(fmt) == expected


@pytest.mark.parametrize(("number", "expected"), [
    ("8613800138000", "13800138000"), ("+8613800138000", "13800138000"), ("13800138000", "13800138000"),
    ("8601088886666", "8601088886666"),
])
def test_national_number(number: str, expected: str) -> None:
    assert mapping.national_number(number) == expected
