"""twistd entry point: ``Options`` and ``makeService`` for ``twistd smsgw``.

``twistd -n smsgw`` runs the same service tree as ``smsgw run`` (the CLI is a
friendly front: it also sets up logging and the reactor).  The options are
``smsgw run``'s; logging is twistd's own (``--logfile``, ``--logger
smsgw.app.logs.json_stdout`` for JSON lines).  The configuration is read and
checked while the options are parsed, so a wrong file is a usage error, not
a traceback.
"""

from __future__ import annotations

from typing import Any

from twisted.application import service
from twisted.python import usage

from smsgw.app.config import Config, load_for_run
from smsgw.app.settings import ConfigError


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError(f"not a port: {value}")
    return port


class Options(usage.Options):
    """Command-line options of ``twistd smsgw`` (those of ``smsgw run``)."""

    optParameters = [
        ["config", "c", None, "gateway TOML file (default: config/smsgw.toml, else the embedded default)"],
        ["data-dir", "d", None, "data directory (SQLite store)"],
        ["smpp-port", None, None, "SMPP listener port (0: any free port)", _port],
        ["web-port", None, None, "web centre and HTTP API port", _port],
        ["manhole-port", None, None, "telnet manhole port", _port],
        ["metrics-port", None, None, "Prometheus endpoint port (/metrics)", _port],
    ]

    def postOptions(self) -> None:  # noqa: N802 (Twisted's name)
        try:
            self.config = load_for_run(self["config"], data_dir=self["data-dir"], smpp_port=self["smpp-port"],
                                       web_port=self["web-port"], manhole_port=self["manhole-port"],
                                       metrics_port=self["metrics-port"])
        except ConfigError as error:
            raise usage.UsageError(f"configuration error: {error}") from None


def makeService(options: Options) -> service.IService:  # noqa: N802 (Twisted's name)
    """The gateway's service tree (``smsgw.app.gateway.GatewayService``) on the installed reactor."""
    from twisted.internet import reactor

    from smsgw.app.gateway import GatewayService

    config: Config = options.config
    return GatewayService(config, reactor, announce=_announce)


def _announce(text: Any) -> None:
    print(text, flush=True)
