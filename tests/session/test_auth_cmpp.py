"""CMPP login arithmetic, recomputed from vectors CMPP-01/02/03/21/22/26 (secret "888888")."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import pytest

from smsgw.protocols.vectors import load
from smsgw.session.auth_cmpp import (
    EMPTY_AUTHENTICATOR,
    authenticator_ismg,
    authenticator_ismg_matches,
    authenticator_source,
    connect_timestamp,
    protocol_for_version,
    verify_authenticator_source,
)

SECRET = "888888"
FIELDS: dict[str, dict[str, Any]] = {v.id: v.expect.get("fields", {}) for v in load("cmpp20") + load("cmpp30")}


@pytest.mark.parametrize("vid", ["CMPP-01", "CMPP-21"])
def test_authenticator_source(vid: str) -> None:
    f = FIELDS[vid]
    assert authenticator_source(f["source_addr"], SECRET, f["timestamp"]) == f["authenticatorsource"]
    assert verify_authenticator_source(f["authenticatorsource"], f["source_addr"], SECRET, f["timestamp"])
    assert not verify_authenticator_source(f["authenticatorsource"], f["source_addr"], "888889", f["timestamp"])
    assert not verify_authenticator_source(f["authenticatorsource"], f["source_addr"], SECRET, f["timestamp"] + 1)


@pytest.mark.parametrize("vid, protocol", [("CMPP-02", "cmpp20"), ("CMPP-03", "cmpp30")])
def test_authenticator_ismg_gocmpp_form(vid: str, protocol: str) -> None:
    """Status hashed at the width the version sends it: 1 byte (CMPP-02), 4 bytes (CMPP-03)."""
    source = FIELDS["CMPP-01"]["authenticatorsource"]
    received = FIELDS[vid]["authenticatorismg"]
    assert authenticator_ismg(0, source, SECRET, protocol) == received
    assert authenticator_ismg_matches(received, 0, source, SECRET, protocol)
    assert not authenticator_ismg_matches(received, 0, source, "wrong", protocol)


def test_smsgate_form_is_accepted_for_cmpp20() -> None:
    source = FIELDS["CMPP-01"]["authenticatorsource"]
    smsgate = hashlib.md5(bytes(4) + source + SECRET.encode()).digest()  # Status always 4 bytes
    assert smsgate != authenticator_ismg(0, source, SECRET, "cmpp20")
    assert authenticator_ismg_matches(smsgate, 0, source, SECRET, "cmpp20")


@pytest.mark.parametrize("vid, protocol, hashed", [("CMPP-22", "cmpp30", bytes(4)), ("CMPP-26", "cmpp20", bytes(1))])
def test_gocmpp_example_servers_hash_empty_inputs(vid: str, protocol: str, hashed: bytes) -> None:
    """The quirk of CMPP-22/26: MD5 of the status alone.  A client only logs the mismatch."""
    received = FIELDS[vid]["authenticatorismg"]
    assert received == hashlib.md5(hashed).digest()
    source = FIELDS["CMPP-21"]["authenticatorsource"]
    assert not authenticator_ismg_matches(received, 0, source, SECRET, protocol)


def test_failed_login_sends_an_empty_authenticator() -> None:
    assert EMPTY_AUTHENTICATOR == bytes(16)


def test_connect_timestamp() -> None:
    assert connect_timestamp(datetime(2015, 10, 21, 8, 5, 10)) == 1021080510 == FIELDS["CMPP-01"]["timestamp"]
    assert connect_timestamp(datetime(2023, 11, 21, 20, 55, 41)) == FIELDS["CMPP-21"]["timestamp"]
    assert connect_timestamp(datetime(2024, 1, 2, 3, 4, 5)) == 102030405


def test_january_timestamp_is_hashed_with_its_leading_zero() -> None:
    ts = connect_timestamp(datetime(2024, 1, 2, 3, 4, 5))
    expected = hashlib.md5(b"900001" + bytes(9) + b"888888" + b"0102030405").digest()
    assert authenticator_source("900001", SECRET, ts) == expected


def test_bad_inputs() -> None:
    with pytest.raises(ValueError):
        authenticator_source("900001", SECRET, 10_000_000_000)
    with pytest.raises(ValueError):
        authenticator_ismg(0, bytes(16), SECRET, "sgip12")


@pytest.mark.parametrize("version, protocol", [
    (0x30, "cmpp30"), (0x20, "cmpp20"), (0x21, "cmpp20"), (0x00, "cmpp20"), (0x01, "cmpp20"),
    (0x31, None), (0x7F, None),
])
def test_protocol_for_version(version: int, protocol: str | None) -> None:
    assert protocol_for_version(version) == protocol
