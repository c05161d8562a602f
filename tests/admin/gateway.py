"""A whole ``GatewayService`` for the operations tests: embedded demo config, every port 0, SQLite in tmp."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from twisted.internet import reactor

from smsgw.app.config import load_for_run
from smsgw.app.gateway import GatewayService

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "smsgw.toml"


async def start_gateway(tmp_path: Path, **changes: Any) -> GatewayService:
    """Started and ready; ``changes`` replace config sections (``manhole=ManholeSection(...)``)."""
    cfg = load_for_run(CONFIG, data_dir=str(tmp_path / "data"), smpp_port=0, manhole_port=0, metrics_port=0)
    if changes:
        cfg = attrs.evolve(cfg, **changes)
    service = GatewayService(cfg, reactor, announce=lambda text: None)
    service.startService()
    await service.ready
    return service
