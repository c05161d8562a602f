"""Reassembling long messages from their parts (MO from carriers, long submissions from clients).

Parts are grouped by (caller's key, reference, total): the key is whatever
makes references unique for the sender, typically (source, destination).  Parts
may arrive in any order and more than once; the first copy of a part wins.  A
message is returned once, when its last missing part arrives.  A message still
incomplete ``timeout`` seconds after its *first* part arrived is given up and
returned by ``expire`` with the parts received so far, so the caller can
deliver them as they are - measured from the first part so a trickle of parts
cannot keep a message waiting for ever.

Carriers resend a part whose response they did not see (at-least-once).  A
resent part that arrives after its message completed would start a new,
never-completing message and later be delivered as a stray fragment, so a
completed message is remembered for ``timeout`` seconds and an identical
(number, payload) part is dropped.  A different payload under the same
reference starts a new message (the sender reused the reference).

Memory is bounded: at most ``max_pending`` incomplete messages (the oldest is
evicted and kept, with only the parts it has, until the next ``expire`` call
hands it out with reason "evicted"; call ``expire`` regularly) and at most
``max_pending`` remembered completions.  Time is passed in as ``now``.

MO replies to clients follow the same rules but keep their parts in the store
(``store.mo_parts``), since a held part must survive a restart and may be
completed by whichever gateway process records the last one.
"""

from __future__ import annotations

from typing import Hashable, Literal

import attrs

__all__ = ["Completed", "Expired", "Reassembler"]


@attrs.frozen
class Completed:
    """All parts of a long message, in order."""

    key: Hashable
    reference: int
    total: int
    payloads: tuple[bytes, ...]
    first_seen: float

    @property
    def payload(self) -> bytes:
        """The parts' payloads joined; decode this, not each part (a character may straddle parts)."""
        return b"".join(self.payloads)


@attrs.frozen
class Expired:
    """A message given up on: the parts that did arrive, by number, in order."""

    key: Hashable
    reference: int
    total: int
    parts: tuple[tuple[int, bytes], ...]
    first_seen: float
    reason: Literal["timeout", "evicted"]

    @property
    def missing(self) -> tuple[int, ...]:
        have = {number for number, _ in self.parts}
        return tuple(n for n in range(1, self.total + 1) if n not in have)


_Id = tuple[Hashable, int, int]


@attrs.define
class _Pending:
    first_seen: float
    parts: dict[int, bytes]


@attrs.define
class _Done:
    completed_at: float
    parts: tuple[bytes, ...]


@attrs.define
class Reassembler:
    """Collects parts until a message is complete, expired or evicted."""

    timeout: float
    max_pending: int = 10_000
    _pending: dict[_Id, _Pending] = attrs.field(init=False, factory=dict)
    _done: dict[_Id, _Done] = attrs.field(init=False, factory=dict)
    _evicted: list[Expired] = attrs.field(init=False, factory=list)

    def __attrs_post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")
        if self.max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {self.max_pending}")

    def __len__(self) -> int:
        """Incomplete messages held."""
        return len(self._pending)

    def add(
        self, key: Hashable, reference: int, total: int, number: int, payload: bytes, now: float
    ) -> Completed | None:
        """Take one part; return the message when this part completes it, else None.

        Feed only parts that carry concatenation information (a UDH or sar_*
        TLVs); unsegmented messages need no reassembly.  Raises ``ValueError``
        when ``total`` is not 1-255 or ``number`` not 1-``total``.
        """
        if not 1 <= total <= 255:
            raise ValueError(f"total parts must be 1-255, got {total}")
        if not 1 <= number <= total:
            raise ValueError(f"part number must be 1-{total}, got {number}")
        ident: _Id = (key, reference, total)
        pending = self._pending.get(ident)
        if pending is None:
            done = self._done.get(ident)
            if done is not None:
                if done.parts[number - 1] == payload:
                    return None  # a resent part of a message already completed
                del self._done[ident]
            if total == 1:  # a "part 1 of 1" header: complete at once, but remembered like the others
                self._remember(ident, (payload,), now)
                return Completed(key, reference, total, (payload,), now)
            if len(self._pending) >= self.max_pending:
                self._evict_oldest()
            pending = self._pending[ident] = _Pending(now, {})
        pending.parts.setdefault(number, payload)
        if len(pending.parts) < total:
            return None
        del self._pending[ident]
        payloads = tuple(pending.parts[n] for n in range(1, total + 1))
        self._remember(ident, payloads, now)
        return Completed(key, reference, total, payloads, pending.first_seen)

    def expire(self, now: float) -> list[Expired]:
        """Messages evicted since the last call, then those whose first part is ``timeout`` old."""
        out, self._evicted = self._evicted, []
        for ident, pending in list(self._pending.items()):
            if now - pending.first_seen >= self.timeout:
                del self._pending[ident]
                out.append(self._expired(ident, pending, "timeout"))
        for ident, done in list(self._done.items()):
            if now - done.completed_at >= self.timeout:
                del self._done[ident]
        return out

    def _evict_oldest(self) -> None:
        ident = next(iter(self._pending))
        self._evicted.append(self._expired(ident, self._pending.pop(ident), "evicted"))

    def _remember(self, ident: _Id, payloads: tuple[bytes, ...], now: float) -> None:
        if len(self._done) >= self.max_pending:
            del self._done[next(iter(self._done))]
        self._done[ident] = _Done(now, payloads)

    @staticmethod
    def _expired(ident: _Id, pending: _Pending, reason: Literal["timeout", "evicted"]) -> Expired:
        key, reference, total = ident
        parts = tuple(sorted(pending.parts.items()))
        return Expired(key, reference, total, parts, pending.first_seen, reason)
