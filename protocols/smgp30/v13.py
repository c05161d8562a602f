"""SMGP with ClientVersion 0x13: the same tables, but Submit has no FixedFee (smgp.md 5).

SMSGate is the only implementation that varies the layout by version, and vector
SMGP-08 (a real 0x13 Submit from the field, still with TLVs after Reserve) only
decodes this way; the 3.0 layout reads it as garbage.  The session picks the
spec from the version negotiated at Login (``spec_for_version``).  Built from
the 3.0 table by dropping the field, so the two cannot drift apart.
"""

from __future__ import annotations

import attrs

from smsgw.codec.fields import Command, ProtocolSpec

from smsgw.protocols.smgp30.spec import SPEC as _SPEC_30
from smsgw.protocols.smgp30.status import VERSION_13


def without_field(command: Command, field: str) -> Command:
    """``command`` with one field removed (the field must exist)."""
    kept = tuple(f for f in command.fields if f.name != field)
    if len(kept) == len(command.fields):
        raise KeyError(f"{command.name} has no field {field!r}")
    return attrs.evolve(command, fields=kept)


def derive(spec: ProtocolSpec) -> ProtocolSpec:
    """The 0x13 layout of ``spec`` (the protocol id stays ``smgp30``)."""
    commands = tuple(without_field(c, "fixed_fee") if c.name == "submit" else c for c in spec.commands)
    return attrs.evolve(spec, commands=commands)


#: The Submit layout for ClientVersion 0x13.
SPEC = derive(_SPEC_30)

__all__ = ["SPEC", "VERSION_13", "derive", "without_field"]
