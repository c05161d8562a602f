"""Our message ids: unique 63-bit integers with a canonical text form.

An id is ``(ms since 2024-01-01 UTC) << 22 | node << 12 | sequence`` — 41 bits of
time (until 2093), 10 bits of node (1024 gateway nodes sharing one PostgreSQL
store) and 12 bits of sequence (4096 ids per millisecond per node).  The top bit
stays clear, so every id fits a signed BIGINT column.

The text form is lowercase hexadecimal without leading zeros (at most 16
characters), used as the SMPP ``message_id`` of submit_sm_resp and in receipts
(SMPP 3.4 §5.2.23 allows 65 octets; CMPP/SGIP carry their own ids, not ours).

Uniqueness across restarts needs no state file: ids are time-ordered, and the
store hands the generator the largest id it holds (``floor``) at start, so a
clock that moved backwards over a restart cannot reissue an old id.  Within a
run the generator never goes backwards either: if the clock does, it keeps
counting in the last millisecond it saw, borrowing the next millisecond when
the sequence runs out.
"""

from __future__ import annotations

import re
from typing import Callable

import attrs

EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
TIME_BITS = 41
NODE_BITS = 10
SEQ_BITS = 12
MAX_NODE = (1 << NODE_BITS) - 1
MAX_SEQ = (1 << SEQ_BITS) - 1
MAX_TIME = (1 << TIME_BITS) - 1
MAX_ID = (1 << (TIME_BITS + NODE_BITS + SEQ_BITS)) - 1

_TEXT = re.compile(r"[0-9a-f]{1,16}")


@attrs.define
class IdGenerator:
    """Issues strictly increasing ids for one node.

    ``clock`` returns wall-clock milliseconds since the Unix epoch.  Not
    thread-safe: one generator belongs to one thread (the reactor's).
    """

    clock: Callable[[], int]
    node: int = attrs.field()
    floor: int = 0
    _last_ms: int = attrs.field(init=False, default=-1)
    _seq: int = attrs.field(init=False, default=MAX_SEQ)

    @node.validator
    def _check_node(self, _attribute: attrs.Attribute[int], value: int) -> None:
        if not 0 <= value <= MAX_NODE:
            raise ValueError(f"node must be in 0..{MAX_NODE}, got {value}")

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.floor <= MAX_ID:
            raise ValueError(f"floor out of range: {self.floor}")
        # Everything in the floor's millisecond counts as used, whichever node
        # issued it: the next id comes from a later millisecond at least.
        self._last_ms = self.floor >> (NODE_BITS + SEQ_BITS) if self.floor else -1
        self._seq = MAX_SEQ

    def next(self) -> int:
        now = self.clock() - EPOCH_MS
        if now < 0:
            raise ValueError("clock is before the id epoch (2024-01-01)")
        if now > self._last_ms:
            self._last_ms = now
            self._seq = 0
        elif self._seq < MAX_SEQ:
            self._seq += 1
        else:
            self._last_ms += 1
            self._seq = 0
        if self._last_ms > MAX_TIME:
            raise OverflowError("id time field exhausted")
        return (self._last_ms << (NODE_BITS + SEQ_BITS)) | (self.node << SEQ_BITS) | self._seq


def to_text(message_id: int) -> str:
    """The canonical text form: lowercase hex, no leading zeros."""
    if not 0 <= message_id <= MAX_ID:
        raise ValueError(f"not a message id: {message_id}")
    return format(message_id, "x")


def from_text(text: str) -> int:
    """Parse the canonical text form; anything else is a ValueError."""
    if not _TEXT.fullmatch(text) or (len(text) > 1 and text[0] == "0"):
        raise ValueError(f"not a message id: {text!r}")
    value = int(text, 16)
    if value > MAX_ID:
        raise ValueError(f"not a message id: {text!r}")
    return value


def time_of(message_id: int) -> int:
    """Milliseconds since the Unix epoch at which the id was issued."""
    return (message_id >> (NODE_BITS + SEQ_BITS)) + EPOCH_MS


def node_of(message_id: int) -> int:
    return (message_id >> SEQ_BITS) & MAX_NODE
