"""SGIP node ids, time words, the sequence generator and the message id text (sgip.md section 2)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgw.codec import Pdu
from smsgw.protocols.vectors import load
from smsgw.session.codecs import codec_for
from smsgw.session.sgip_sequence import (
    SequenceGenerator, format_message_id, gateway_node_id, parse_message_id, sp_node_id, time_word,
)

CODEC = codec_for("sgip12")
VECTORS = {v.id: v for v in load("sgip12")}


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_sp_node_id_matches_the_captured_bind() -> None:
    # SGIP-02: SP 3010012345 = "3" + "0100" (area 010 right-padded) + corp "12345"
    assert CODEC.decode(VECTORS["SGIP-02"].data).sequence[0] == sp_node_id("010", "12345") == 3010012345
    assert sp_node_id("0755", 1) == 3075500001
    assert sp_node_id("021", 99999) == 3021099999
    assert sp_node_id("0999", "99999") == 3099999999 < 2**32


@given(st.sampled_from(["010", "020", "021", "029"]) | st.from_regex(r"0[1-9][0-9]{2}", fullmatch=True),
       st.integers(0, 99999))
def test_sp_node_id_agrees_with_go_sgips_arithmetic(area: str, corp: int) -> None:
    # go_sgip: 3000000000 + area * 10**6 + corp (3-digit areas), + area * 10**5 + corp (4-digit ones)
    expected = 3000000000 + int(area) * (10**6 if len(area) == 3 else 10**5) + corp
    assert sp_node_id(area, corp) == expected


@pytest.mark.parametrize("area, corp", [
    ("10", "1"), ("10000", "1"), ("755", "1"), ("0a1", "1"), ("0١٠", "1"),  # no leading 0 / not ASCII digits
    ("010", "123456"), ("010", "-1"), ("010", ""), ("010", "1.5"),
])
def test_sp_node_id_refuses_bad_parts(area: str, corp: str) -> None:
    with pytest.raises(ValueError):
        sp_node_id(area, corp)


def test_gateway_node_ids() -> None:
    assert gateway_node_id("smg", "010", 1) == 101001  # SGIP-12's header
    assert CODEC.decode(VECTORS["SGIP-12"].data).sequence[0] == 101001
    assert gateway_node_id("smsc", "0755", 3) == 207553
    assert gateway_node_id("gns", "021", 0) == 402100
    with pytest.raises(ValueError):
        gateway_node_id("sp", "010", 1)
    with pytest.raises(ValueError):
        gateway_node_id("smg", "010", 10)


def test_time_word() -> None:
    assert time_word(datetime(2023, 11, 21, 20, 55, 57)) == 1121205557  # SGIP-02's second word
    assert time_word(datetime(2001, 11, 20, 20, 32, 25)) == 1120203225  # the spec's example
    assert time_word(datetime(2024, 3, 1, 0, 0, 0)) == 301000000
    assert time_word(datetime(2024, 12, 31, 23, 59, 59)) == 1231235959 < 2**32


def test_generator_counts_and_follows_the_clock() -> None:
    clock = FakeClock(datetime(2023, 11, 21, 20, 55, 57))
    gen = SequenceGenerator(sp_node_id("010", "12345"), clock, counter=1)
    assert gen.next() == (3010012345, 1121205557, 1)  # SGIP-02
    assert gen.next() == (3010012345, 1121205557, 2)  # SGIP-04
    clock.now += timedelta(seconds=1)
    assert gen.next() == (3010012345, 1121205558, 3)


def test_generator_counter_wraps() -> None:
    gen = SequenceGenerator(1, FakeClock(datetime(2024, 1, 1)), counter=2**32 - 1)
    assert [gen.next()[2] for _ in range(3)] == [2**32 - 1, 0, 1]


def test_generator_refuses_a_node_id_beyond_uint32() -> None:
    with pytest.raises(ValueError):
        SequenceGenerator(2**32, FakeClock(datetime(2024, 1, 1)))


def test_generated_triples_go_on_the_wire() -> None:
    gen = SequenceGenerator(sp_node_id("010", "12345"), FakeClock(datetime(2023, 11, 21, 20, 55, 57)), counter=3)
    data = CODEC.encode(Pdu("unbind", gen.next()))
    assert data == VECTORS["SGIP-06"].data


def test_message_id_text() -> None:
    assert format_message_id((3010012345, 1121205557, 2)) == "301001234511212055570000000002"
    assert format_message_id((0, 301151218, 1857753309)) == "000000000003011512181857753309"
    assert parse_message_id("301001234511212055570000000002") == (3010012345, 1121205557, 2)


def test_report_finds_its_submit_through_the_message_id() -> None:
    submit = CODEC.decode(VECTORS["SGIP-04"].data)
    report = CODEC.decode(VECTORS["SGIP-12"].data)
    assert format_message_id(report["submit_sequence_number"]) == format_message_id(submit.sequence)


@pytest.mark.parametrize("text", ["", "1" * 29, "1" * 31, "a" * 30, "9" * 30, " " + "1" * 29, "١" * 30])
def test_parse_message_id_refuses_bad_text(text: str) -> None:
    with pytest.raises(ValueError):
        parse_message_id(text)


def test_format_message_id_refuses_words_beyond_uint32() -> None:
    with pytest.raises(ValueError):
        format_message_id((2**32, 0, 0))


@given(st.tuples(*[st.integers(0, 2**32 - 1)] * 3))
def test_message_id_round_trips(triple: tuple[int, int, int]) -> None:
    text = format_message_id(triple)
    assert len(text) == 30 and parse_message_id(text) == triple
