"""What a session under fuzz wrote: every byte must frame and decode with our own codec."""

from __future__ import annotations

from smsgw.codec import Codec, Pdu


class Written:
    """Collects a session's output; ``take`` fails on anything our codec would refuse."""

    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self.pdus: list[Pdu] = []

    def take(self, data: bytes) -> list[Pdu]:
        """Decode one ``data_to_send()``: whole PDUs only, each one decodable (DecodeError is the bug)."""
        framer = self.codec.framer()
        frames = framer.feed(data)
        assert framer.pending == 0 and framer.skipped == 0, f"{self.codec.protocol}: we wrote a broken stream"
        pdus = [self.codec.decode(frame) for frame in frames]
        self.pdus.extend(pdus)
        return pdus
