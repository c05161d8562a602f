"""SMGP Login authenticators (smgp.md 4.1, 4.2) checked against the captured Login (SMGP-01/02)."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pytest

from smsgw.protocols.vectors import load
from smsgw.session.auth_smgp import (
    authenticator_client, authenticator_server, client_is_authentic, server_is_authentic, timestamp,
)
from smsgw.session.codecs import codec_for

CODEC = codec_for("smgp30")
VECTORS = {v.id: v for v in load("smgp30")}
SECRET = "secret"  # the shared secret of the SMGP-01 capture


def test_client_authenticator_of_the_captured_login() -> None:
    login = CODEC.decode(VECTORS["SMGP-01"].data)
    assert login["time_stamp"] == 1121205613 == timestamp(datetime(2023, 11, 21, 20, 56, 13))
    auth = authenticator_client(login["client_id"], SECRET, login["time_stamp"])
    assert auth == login["authenticator_client"] == bytes.fromhex("783fc98158ad3577850be0c0ee72f96e")
    assert client_is_authentic(login["client_id"], SECRET, login["time_stamp"], login["authenticator_client"])
    assert not client_is_authentic(login["client_id"], "secreT", login["time_stamp"], login["authenticator_client"])
    assert not client_is_authentic(login["client_id"], SECRET, login["time_stamp"] + 1, login["authenticator_client"])


def test_timestamp_is_mmddhhmmss() -> None:
    assert timestamp(datetime(2024, 3, 1)) == 301000000 == 0x11F0E540  # smgp.md 4.1's example
    assert timestamp(datetime(2024, 12, 31, 23, 59, 59)) == 1231235959


def test_time_stamp_is_hashed_as_ten_digits_and_client_id_unpadded() -> None:
    # 301000000 is hashed as "0301000000"; a short ClientID is hashed without its 8-byte padding
    expected = hashlib.md5(b"1069" + bytes(7) + b"pw" + b"0301000000").digest()
    assert authenticator_client("1069", "pw", 301000000) == expected
    assert authenticator_client(b"1069", b"pw", 301000000) == expected
    assert authenticator_client("1069\0\0\0\0", "pw", 301000000) != expected


@pytest.mark.parametrize("secret, stamp", [("x" * 16, 1121205613), ("ok", -1), ("ok", 10**10)])
def test_client_authenticator_refuses_bad_input(secret: str, stamp: int) -> None:
    with pytest.raises(ValueError):
        authenticator_client("10690001", secret, stamp)
    assert not client_is_authentic("10690001", secret, stamp, bytes(16))


def test_server_authenticator() -> None:
    client = bytes.fromhex("783fc98158ad3577850be0c0ee72f96e")
    ok = authenticator_server(0, client, SECRET)
    assert ok == hashlib.md5(bytes(4) + client + b"secret").digest()
    assert authenticator_server(21, client, SECRET) == hashlib.md5(b"\0\0\0\x15" + client + b"secret").digest() != ok
    assert server_is_authentic(0, client, SECRET, ok)
    with pytest.raises(ValueError):
        authenticator_server(0, client[:15], SECRET)


def test_go_smgp_mock_answer_is_not_an_authenticator() -> None:
    # SMGP-02: the mock sends the text "authserver"; a client must not rely on verifying it
    login, resp = (CODEC.decode(VECTORS[i].data) for i in ("SMGP-01", "SMGP-02"))
    assert resp["status"] == 0 and resp["authenticator_server"].startswith(b"authserver")
    assert not server_is_authentic(resp["status"], login["authenticator_client"], SECRET, resp["authenticator_server"])
