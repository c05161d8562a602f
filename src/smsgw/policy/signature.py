"""Signatures (签名): the 【…】 that names the sender, verified per enterprise.

A signature is the text in 【 】 at the start of a message (or, failing that,
at its end).  Each enterprise has one or more verified signatures; its
default is the oldest verified one (the store has no default flag; the
first signature an enterprise has verified is the one it is known by).

* a message with a verified signature passes;
* one with a signature not verified for its enterprise is rejected;
* one without gets the default put in front (``sign``) before its segments are
  counted, so the signature is billed like any other characters
  (``domain.segments``); an enterprise without any verified signature cannot
  send unsigned messages.

Signatures are compared without their brackets; the store may hold either.
"""

from __future__ import annotations

from typing import Iterable

OPEN, CLOSE = "【", "】"
#: the store's column is 32 characters, brackets included
MAX_NAME = 30


def bare(signature: str) -> str:
    """``【示例】`` and ``示例`` → ``示例``."""
    text = signature.strip()
    if text.startswith(OPEN) and text.endswith(CLOSE):
        text = text[1:-1]
    return text.strip()


def find_signature(text: str) -> str | None:
    """The signature a text carries (without brackets), or None."""
    if text.startswith(OPEN):
        end = text.find(CLOSE, 1)
        if 1 < end <= MAX_NAME + 1:
            return text[1:end]
    if text.endswith(CLOSE):
        start = text.rfind(OPEN, 0, len(text) - 1)
        if start >= 0 and 1 < len(text) - 1 - start <= MAX_NAME + 1:
            return text[start + 1:-1]
    return None


class SignatureBook:
    """Verified signatures per enterprise, in memory."""

    def __init__(self, entries: Iterable[tuple[int, str]] = ()) -> None:
        """``entries``: (enterprise_id, signature) of verified signatures, oldest first."""
        self._verified: dict[int, set[str]] = {}
        self._default: dict[int, str] = {}
        for enterprise_id, signature in entries:
            self.verify(enterprise_id, signature)

    def verify(self, enterprise_id: int, signature: str) -> None:
        name = bare(signature)
        if not name:
            return
        self._verified.setdefault(enterprise_id, set()).add(name)
        self._default.setdefault(enterprise_id, name)

    def default(self, enterprise_id: int) -> str | None:
        return self._default.get(enterprise_id)

    def is_verified(self, enterprise_id: int, name: str) -> bool:
        names = self._verified.get(enterprise_id)
        return names is not None and name in names

    def sign(self, enterprise_id: int, text: str) -> str | None:
        """``text`` with the enterprise's default signature in front, when it carries
        none and there is a default; None when nothing is to be added."""
        if find_signature(text) is not None:
            return None
        default = self._default.get(enterprise_id)
        if default is None:
            return None
        return f"{OPEN}{default}{CLOSE}{text}"
