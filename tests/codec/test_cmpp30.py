"""CMPP 3.0 tables: golden vectors (including the version-independent ones filed under cmpp20), properties."""

from __future__ import annotations

import pytest

from smsgw.codec import DecodeError, Pdu
from smsgw.protocols import cmpp20, cmpp30
from smsgw.protocols.vectors import Vector, load
from smsgw.session.codecs import codec_for
from tests.codec.test_cmpp20 import (
    check_bad_vector,
    check_pdu_vector,
    mutation_test,
    random_bytes_test,
    roundtrip_test,
    vectors,
)

PROTOCOL = "cmpp30"
CODEC = codec_for(PROTOCOL)

#: ACTIVE_TEST, ACTIVE_TEST_RESP, TERMINATE, TERMINATE_RESP: identical in both versions
SHARED_WITH_CMPP20 = ("CMPP-12", "CMPP-13", "CMPP-14", "CMPP-15")


def test_spec_is_the_package_spec() -> None:
    assert CODEC.spec is cmpp30.SPEC
    assert cmpp30.SPEC.generic_nack is None
    assert cmpp30.SPEC.resync_limit == cmpp20.SPEC.resync_limit > 0
    assert cmpp30.SPEC.status_names is cmpp20.SPEC.status_names


@pytest.mark.parametrize("v", vectors(PROTOCOL, "pdu"))
def test_pdu_vector(v: Vector) -> None:
    check_pdu_vector(CODEC, v)


@pytest.mark.parametrize("v", vectors(PROTOCOL, "pdu", SHARED_WITH_CMPP20, source="cmpp20"))
def test_shared_vector(v: Vector) -> None:
    check_pdu_vector(CODEC, v)


@pytest.mark.parametrize("v", vectors(PROTOCOL, "bad"))
def test_bad_vector(v: Vector) -> None:
    check_bad_vector(CODEC, v)


def test_vector_files_are_filed_under_their_protocol() -> None:
    for v in load(PROTOCOL):
        assert v.protocol == PROTOCOL
        if v.kind == "bad":
            assert v.error is not None and not v.roundtrip


def test_wire_differences_from_cmpp20() -> None:
    """cmpp.md section 4: the same fields encode to the widths of each version."""
    v20 = codec_for("cmpp20")
    resp = {"msg_id": 1, "result": 8}
    assert len(v20.encode(Pdu("submit_resp", 1, resp))) == 21
    assert len(CODEC.encode(Pdu("submit_resp", 1, resp))) == 24
    assert len(v20.encode(Pdu("connect_resp", 1, {"status": 3}))) == 30
    assert len(CODEC.encode(Pdu("connect_resp", 1, {"status": 3}))) == 33
    assert len(v20.encode(Pdu("cancel_resp", 1, {"success_id": 1}))) == 13
    assert len(CODEC.encode(Pdu("cancel_resp", 1, {"success_id": 1}))) == 16
    # totals of cmpp.md 5.5 and 5.7 for N destinations and L content bytes
    sub = {"dest_terminal_id": ["13800138000"] * 3, "msg_content": b"x" * 10}
    assert len(v20.encode(Pdu("submit", 1, sub))) == 138 + 21 * 3 + 10
    assert len(CODEC.encode(Pdu("submit", 1, sub))) == 163 + 32 * 3 + 10
    assert len(v20.encode(Pdu("deliver", 1, {"msg_content": b"x" * 7}))) == 85 + 7
    assert len(CODEC.encode(Pdu("deliver", 1, {"msg_content": b"x" * 7}))) == 109 + 7


def test_largest_legal_submit_fits_max_length() -> None:
    fields = {"dest_terminal_id": ["1" * 32] * 99, "msg_content": bytes(255)}
    wire = CODEC.encode(Pdu("submit", 1, fields))
    assert len(wire) == 163 + 32 * 99 + 255 == cmpp30.SPEC.max_length
    assert CODEC.framer().feed(wire) == [wire]


def test_one_past_max_length_is_fatal_in_the_framer() -> None:
    too_long = next(v for v in load(PROTOCOL) if v.id == "CMPP30-BAD-06")
    with pytest.raises(DecodeError) as caught:
        CODEC.framer().feed(too_long.data)
    assert caught.value.fatal and caught.value.status == 4 and caught.value.response is None


def test_pycmpp_stray_bytes_are_skipped() -> None:
    quirk = next(v for v in load("cmpp20") if v.id == "CMPP-27").data
    nxt = next(v for v in load(PROTOCOL) if v.id == "CMPP-10").data
    frames = CODEC.framer().feed(quirk + nxt)
    assert frames == [quirk[:13], nxt]


test_roundtrip = roundtrip_test(PROTOCOL)
test_random_bytes, test_random_bytes_behind_a_plausible_header = random_bytes_test(PROTOCOL)
test_mutations = mutation_test(PROTOCOL)
