"""Golden vectors shipped with the wire tables (``protocols/<id>/vectors/*.json``).

One JSON file per vector::

    {"id": "CMPP-01", "title": "...", "source": "repository, path, test name",
     "provenance": "test suite" | "captured" | "constructed" | "ours",
     "protocol": "cmpp20", "kind": "pdu" | "report" | "bad",
     "hex": "0000002700000001...",
     "expect": {"command": "connect", "sequence": 23, "status": 0, "fields": {...}},
     "roundtrip": true,
     "error": {"field": "...", "status": 2, "response": "generic_nack", "fatal": false},
     "note": "..."}

In ``fields``, bytes are written ``{"hex": "..."}`` and unknown TLV tags as
``"0x0014"`` keys; ``load`` turns both back into ``bytes`` and ``int``.
``kind`` "report" vectors hold only a status report's content; "bad" vectors
must fail to decode with the given ``error``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import attrs

from smsgw.protocols import PROTOCOL_IDS


@attrs.frozen
class Vector:
    id: str
    title: str
    source: str
    provenance: str
    protocol: str
    kind: str
    data: bytes
    expect: dict[str, Any]
    roundtrip: bool
    error: dict[str, Any] | None
    note: str


def from_json_value(value: Any) -> Any:
    """Turn the JSON spelling of decoded fields back into Python values."""
    if isinstance(value, dict):
        if set(value) == {"hex"}:
            return bytes.fromhex(value["hex"])
        return {(int(k, 16) if k.startswith("0x") else k): from_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json_value(v) for v in value]
    return value


def to_json_value(value: Any) -> Any:
    """The inverse of ``from_json_value`` (for writing vector files)."""
    if isinstance(value, (bytes, bytearray)):
        return {"hex": bytes(value).hex()}
    if isinstance(value, dict):
        return {(f"0x{k:04x}" if isinstance(k, int) else k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    return value


def load(protocol_id: str) -> list[Vector]:
    """All vectors of one protocol, sorted by id."""
    if protocol_id not in PROTOCOL_IDS:
        raise KeyError(protocol_id)
    folder = resources.files(f"smsgw.protocols.{protocol_id}").joinpath("vectors")
    out = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".json"):
            continue
        raw = json.loads(entry.read_text(encoding="utf-8"))
        out.append(
            Vector(
                id=raw["id"],
                title=raw.get("title", ""),
                source=raw["source"],
                provenance=raw.get("provenance", ""),
                protocol=raw.get("protocol", protocol_id),
                kind=raw.get("kind", "pdu"),
                data=bytes.fromhex(raw["hex"]),
                expect=from_json_value(raw.get("expect", {})),
                roundtrip=bool(raw.get("roundtrip", False)),
                error=raw.get("error"),
                note=raw.get("note", ""),
            )
        )
    return sorted(out, key=lambda v: v.id)


def load_all() -> list[Vector]:
    return [v for pid in PROTOCOL_IDS for v in load(pid)]
