"""Length-prefixed framing shared by all five protocols.

Every protocol here starts its PDU with a 4-byte big-endian total length that
counts the header too.  The framer cuts a byte stream into whole PDUs and
refuses lengths below the header size or above the protocol's maximum; it never
buffers more than one maximum-size PDU plus what has arrived after it.
"""

from __future__ import annotations

from typing import Callable

from smsgw.codec.errors import DecodeError


class Framer:
    """Cut a byte stream into frames (each a complete PDU as ``bytes``)."""

    def __init__(
        self,
        *,
        protocol: str,
        min_length: int,
        max_length: int,
        bad_length_status: int,
        generic_nack: str | None = None,
        sequence_at: int | None = None,
        resync_limit: int = 0,
        known_command: Callable[[int], bool] | None = None,
    ) -> None:
        self.protocol = protocol
        self.min_length = min_length
        self.max_length = max_length
        self.bad_length_status = bad_length_status
        self.generic_nack = generic_nack
        self.sequence_at = sequence_at
        self.resync_limit = resync_limit
        self.known_command = known_command
        #: bytes dropped while resynchronising after a peer's mis-declared length
        self.skipped = 0
        #: bytes dropped since the last whole frame (the resync limit counts across feeds)
        self._skipping = 0
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes received that do not yet make a whole PDU."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the complete frames now available.

        Raises ``DecodeError`` (fatal) on an impossible length: the stream can
        no longer be trusted and the connection should be closed.  Frames cut
        before the bad length in the same call are lost with it; sessions use
        ``cut``, which keeps them.
        """
        frames, error = self.cut(data)
        if error is not None:
            raise error
        return frames

    def cut(self, data: bytes) -> tuple[list[bytes], DecodeError | None]:
        """Add received bytes; return the complete frames before any impossible length, and the
        (fatal) ``DecodeError`` for that length, or None.  After an error the buffer is empty."""
        buf = self._buf
        buf += data
        frames: list[bytes] = []
        pos = 0
        n = len(buf)
        error: DecodeError | None = None
        while n - pos >= 4:
            length = int.from_bytes(buf[pos:pos + 4], "big")
            # a known command id is demanded only while resynchronising: at a normal
            # boundary an unknown command is a whole PDU for the decoder to refuse
            if not (self.min_length <= length <= self.max_length) or (self._skipping and not self._plausible(buf, pos, n)):
                if self._skipping < self.resync_limit:
                    pos += 1
                    self._skipping += 1
                    self.skipped += 1
                    continue
                error = self._bad_length(buf, pos, n, length)
                pos = n
                break
            if n - pos < length:
                break
            frames.append(bytes(buf[pos:pos + length]))
            pos += length
            self._skipping = 0
        if pos:
            del buf[:pos]
        return frames, error

    def _plausible(self, buf: bytearray, pos: int, n: int) -> bool:
        if not self.resync_limit or self.known_command is None:
            return True
        if n - pos < 8:
            return True  # cannot tell yet
        return self.known_command(int.from_bytes(buf[pos + 4:pos + 8], "big"))

    def _bad_length(self, buf: bytearray, pos: int, n: int, length: int) -> DecodeError:
        sequence = None
        if self.sequence_at is not None and n - pos >= self.sequence_at + 4:
            sequence = int.from_bytes(buf[pos + self.sequence_at:pos + self.sequence_at + 4], "big")
        command_id = int.from_bytes(buf[pos + 4:pos + 8], "big") if n - pos >= 8 else None
        return DecodeError(
            f"impossible length {length} (allowed {self.min_length}..{self.max_length})",
            protocol=self.protocol,
            status=self.bad_length_status,
            command_id=command_id,
            sequence=sequence,
            response=self.generic_nack,
            fatal=True,
        )
