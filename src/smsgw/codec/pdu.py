"""The decoded form of one PDU, the same for every protocol."""

from __future__ import annotations

from typing import Any

import attrs

#: SMPP/CMPP/SMGP sequence numbers are ints; SGIP's is (node id, MMDDHHMMSS, counter).
Sequence = Any


@attrs.frozen(slots=True, hash=False)
class Pdu:
    """One PDU: its command name (as in the spec, lowercased), sequence, body fields.

    ``status`` is SMPP's header ``command_status``; the carrier protocols carry
    their result codes as body fields and leave it 0.
    """

    command: str
    sequence: Sequence = 0
    fields: dict[str, Any] = attrs.field(factory=dict)
    status: int = 0

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)
