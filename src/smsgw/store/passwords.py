"""Account passwords: argon2id hashes (argon2-cffi), nothing else.

Hashing and verifying cost tens of milliseconds by design, so neither runs on
the reactor thread nor on the writer thread: callers hash before they submit
an operation and verify on a reader thread (``smsgw.pipeline`` does both).
Tests pass a cheap ``PasswordHasher`` to keep the suite fast.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

DEFAULT_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile


def hash_password(password: str, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    if not password:
        raise ValueError("empty password")
    return hasher.hash(password)


def verify_password(password_hash: str, password: str, hasher: PasswordHasher = DEFAULT_HASHER) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, hasher: PasswordHasher = DEFAULT_HASHER) -> bool:
    """True when the hash was made with weaker parameters than ``hasher``'s."""
    try:
        return hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
