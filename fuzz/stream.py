"""How a fuzz input drives a session: one flags byte, then the bytes the peer sends, cut into chunks.

The flags are read bit by bit by each harness (``Flags.take``); the low three
bits always choose the chunk size, so the same stream also reaches the framer
in pieces (TCP gives no message boundaries).  Keeping the stream raw, rather
than drawing values from a ``FuzzedDataProvider``, lets the golden vectors
seed the corpus as they are: a flags byte in front of real PDUs.
"""

from __future__ import annotations

import attrs

#: chunk sizes chosen by the low three bits of the flags byte (0: the whole stream at once)
CHUNK_SIZES = (0, 1, 3, 7, 12, 20, 64, 257)


@attrs.define
class Flags:
    """The flags byte, consumed a few bits at a time."""

    value: int
    _used: int = 3  # bits 0-2 are the chunk size

    def take(self, bits: int) -> int:
        out = (self.value >> self._used) & ((1 << bits) - 1)
        self._used += bits
        return out


def split(data: bytes) -> tuple[Flags, list[bytes]]:
    """The flags and the stream's chunks (an empty input is an empty stream)."""
    if not data:
        return Flags(0), []
    flags, stream = data[0], data[1:]
    size = CHUNK_SIZES[flags & 7]
    if not size:
        return Flags(flags), [stream] if stream else []
    return Flags(flags), [stream[i:i + size] for i in range(0, len(stream), size)]


def join(flags: int, *parts: bytes) -> bytes:
    """An input for ``split``: the flags byte, then the stream (used to build seeds)."""
    return bytes((flags,)) + b"".join(parts)


def elapsed(chunk: bytes) -> float:
    """Seconds the peer took to send ``chunk``: 1 s at most, less for a few bytes, so a PDU cut in
    single bytes still arrives in one piece before the other side's response timers run out."""
    return min(1.0, (len(chunk) + 1) / 64)
