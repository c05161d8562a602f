"""SMGP 3.0 (China Telecom) wire tables: ``SPEC`` for ``smsgw.codec.Codec``.

Header and spec in ``spec``, bodies in ``tables``, optional parameters in
``tlvs``, Status codes and report stat/err values in ``status``; ``SPEC_V13``
is the layout for ClientVersion 0x13 (Submit without FixedFee, ``v13``).  The
Login version drives the Submit layout (smgp.md 5): use ``spec_for_version``.
"""

from __future__ import annotations

from smsgw.codec.fields import ProtocolSpec

from smsgw.protocols.smgp30.spec import MAX_LENGTH, SPEC
from smsgw.protocols.smgp30.status import VERSION_13
from smsgw.protocols.smgp30.v13 import SPEC as SPEC_V13


def spec_for_version(version: int) -> ProtocolSpec:
    """The spec for a negotiated ClientVersion: 0x13 drops FixedFee, every other version has it."""
    return SPEC_V13 if version == VERSION_13 else SPEC


__all__ = ["MAX_LENGTH", "SPEC", "SPEC_V13", "spec_for_version"]
