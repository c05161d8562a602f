"""CMPP login arithmetic: timestamp, AuthenticatorSource, AuthenticatorISMG (cmpp.md 5.1, 5.2).

Pure functions; the clock is passed in (a ``datetime`` in the carrier's local
time, China Standard Time for the real networks).

* AuthenticatorSource = MD5(Source_Addr + 9 x 00 + secret + Timestamp as "%010d").
* AuthenticatorISMG = MD5(Status + AuthenticatorSource + secret), with Status
  encoded as the version puts it on the wire (1 byte in 2.0, 4 in 3.0): the
  gocmpp form, which our simulated ISMG emits (vectors CMPP-02/03).  SMSGate
  always hashes 4 bytes; ``authenticator_ismg_matches`` accepts both, and a
  client should only log a mismatch (no peer verifies this value; gocmpp's
  example server hashes empty inputs, vectors CMPP-22/26).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from smsgw.codec.fields import UInt
from smsgw.protocols import cmpp20, cmpp30

#: what an ISMG sends as AuthenticatorISMG after a failed login (cmpp.md 5.2)
EMPTY_AUTHENTICATOR = bytes(16)

_SPECS = {spec.id: spec for spec in (cmpp20.SPEC, cmpp30.SPEC)}


def _status_size(protocol: str) -> int:
    """Width of CONNECT_RESP Status in ``protocol``'s table (1 for cmpp20, 4 for cmpp30)."""
    try:
        spec = _SPECS[protocol]
    except KeyError:
        raise ValueError(f"not a CMPP protocol id: {protocol!r}") from None
    field = next(f for f in spec.command("connect_resp").fields if f.name == "status")
    assert isinstance(field, UInt)
    return field.size


def connect_timestamp(now: datetime) -> int:
    """The CONNECT Timestamp: the decimal number MMDDHHMMSS (e.g. 10-21 08:05:10 -> 1021080510)."""
    return (((now.month * 100 + now.day) * 100 + now.hour) * 100 + now.minute) * 100 + now.second


def authenticator_source(source_addr: str, secret: str, timestamp: int) -> bytes:
    """MD5 the SP sends in CONNECT; ``timestamp`` is the value put in the Timestamp field.

    Source_Addr is hashed as given (not NUL-padded to 6), as gocmpp and SMSGate do.
    """
    if not 0 <= timestamp <= 9_999_999_999:
        raise ValueError(f"timestamp {timestamp} has more than 10 digits")
    data = source_addr.encode("ascii") + bytes(9) + secret.encode("ascii") + b"%010d" % timestamp
    return hashlib.md5(data).digest()


def authenticator_ismg(status: int, authenticator_source: bytes, secret: str, protocol: str) -> bytes:
    """MD5 the ISMG returns in CONNECT_RESP, Status hashed at the width of ``protocol`` (gocmpp form).

    On a failed login (status != 0) send ``EMPTY_AUTHENTICATOR`` instead.
    """
    return _md5_status(status, _status_size(protocol), authenticator_source, secret)


def authenticator_ismg_matches(
    received: bytes, status: int, authenticator_source: bytes, secret: str, protocol: str
) -> bool:
    """True if ``received`` is the gocmpp form or SMSGate's (Status always 4 bytes)."""
    forms = {_md5_status(status, size, authenticator_source, secret) for size in (_status_size(protocol), 4)}
    return any(hmac.compare_digest(received, form) for form in forms)


def verify_authenticator_source(
    received: bytes, source_addr: str, secret: str, timestamp: int
) -> bool:
    """What the ISMG checks: ``received`` equals the recomputed AuthenticatorSource (constant time)."""
    return hmac.compare_digest(received, authenticator_source(source_addr, secret, timestamp))


def protocol_for_version(version: int) -> str | None:
    """The protocol id a CONNECT Version byte asks for (cmpp.md 4), ``None`` if unknown.

    0x30 is 3.0; 0x20 and 0x21 are 2.0; SMSGate also reads 0x00 and 0x01 as 2.0.
    """
    if version == cmpp30.VERSION:
        return "cmpp30"
    if version in (cmpp20.VERSION, 0x21, 0x00, 0x01):
        return "cmpp20"
    return None


def _md5_status(status: int, size: int, authenticator_source: bytes, secret: str) -> bytes:
    return hashlib.md5(status.to_bytes(size, "big") + authenticator_source + secret.encode("ascii")).digest()
