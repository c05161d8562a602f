"""twistd entry point: ``Options`` and ``makeService`` for ``twistd smsgw``."""

from __future__ import annotations

from twisted.application import service
from twisted.python import usage


class Options(usage.Options):
    """Command-line options of ``twistd smsgw``."""

    optParameters = [
        ["config", "c", None, "path of the gateway TOML file (default: config/smsgw.toml)"],
        ["data-dir", "d", None, "data directory for the embedded store"],
    ]


def makeService(options: Options) -> service.IService:
    """Build the gateway's service tree."""
    return service.MultiService()
