"""One compiled ``Codec`` per protocol id, built on first use."""

from __future__ import annotations

import functools
import importlib

from smsgw.codec import Codec
from smsgw.protocols import PROTOCOL_IDS


@functools.cache
def codec_for(protocol_id: str) -> Codec:
    """The codec of ``smpp34``, ``cmpp20``, ``cmpp30``, ``sgip12`` or ``smgp30``."""
    if protocol_id not in PROTOCOL_IDS:
        raise KeyError(f"unknown protocol id {protocol_id!r}; known: {', '.join(PROTOCOL_IDS)}")
    module = importlib.import_module(f"smsgw.protocols.{protocol_id}")
    return Codec(module.SPEC)
