"""SMGP 3.0 Login authenticators (smgp.md 4.1 and 4.2).

Client:  MD5(ClientID || 7 x 0x00 || shared secret || TimeStamp as 10 ASCII digits)
Server:  MD5(Status as uint32 big-endian || AuthenticatorClient || shared secret)

ClientID is hashed as given, NOT padded to its 8-byte field: SMSGate and go_smgp
both do so and SMGP-01 verifies it; the spec is silent (if an SMGW rejects a
short ClientID, the padded form is the thing to try).  Clients in the wild do
not check AuthenticatorServer (go_smgp's mock sends the text "authserver",
SMGP-02), so a client should not fail a login on it.  Pure: the time is passed in.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

#: spec: the shared secret is at most 15 bytes
MAX_SECRET = 15


def _raw(value: str | bytes) -> bytes:
    return value.encode("latin-1") if isinstance(value, str) else bytes(value)


def timestamp(when: datetime) -> int:
    """Login TimeStamp: MMDDHHMMSS as a decimal integer (Mar 1 00:00:00 -> 301000000)."""
    return int(when.strftime("%m%d%H%M%S"))


def authenticator_client(client_id: str | bytes, secret: str | bytes, time_stamp: int) -> bytes:
    """The 16-byte AuthenticatorClient of a Login."""
    if not 0 <= time_stamp <= 9999999999:
        raise ValueError(f"time stamp {time_stamp} is not MMDDHHMMSS")
    raw_secret = _raw(secret)
    if len(raw_secret) > MAX_SECRET:
        raise ValueError(f"shared secret longer than {MAX_SECRET} bytes")
    data = _raw(client_id) + bytes(7) + raw_secret + b"%010d" % time_stamp
    return hashlib.md5(data).digest()  # noqa: S324 - MD5 is the protocol's choice


def authenticator_server(status: int, client_authenticator: bytes, secret: str | bytes) -> bytes:
    """The 16-byte AuthenticatorServer of a Login_Resp (all zeros is sent on failure instead)."""
    if len(client_authenticator) != 16:
        raise ValueError("AuthenticatorClient is 16 bytes")
    data = status.to_bytes(4, "big") + bytes(client_authenticator) + _raw(secret)
    return hashlib.md5(data).digest()  # noqa: S324


def client_is_authentic(client_id: str | bytes, secret: str | bytes, time_stamp: int, received: bytes) -> bool:
    """Server side: does the Login's AuthenticatorClient match the account's secret? (constant time)"""
    try:
        expected = authenticator_client(client_id, secret, time_stamp)
    except ValueError:
        return False
    return hmac.compare_digest(expected, bytes(received))


def server_is_authentic(status: int, client_authenticator: bytes, secret: str | bytes, received: bytes) -> bool:
    """Client side: does the Login_Resp's AuthenticatorServer match?  Informational only (see module doc)."""
    return hmac.compare_digest(authenticator_server(status, client_authenticator, secret), bytes(received))
