"""The process rig of the fault tests: carrier simulators, the gateway, its store, and the checks.

Everything runs as real child processes on loopback: the three carrier
simulators (``smsgw sim cmpp30|sgip12|smgp30``) and ``smsgw run`` with a
generated configuration that has no built-in simulators, no web centre, no
manhole and no metrics.  Ports are chosen once (``free_ports``) and kept, so a
gateway killed with SIGKILL is started again on the same SMPP port, the same
SGIP listener port and the same data directory (``Gateway.restart``).

``Child`` owns one process and its log file; every wait is bounded, and
``Rig.running`` kills whatever still runs, each child by its own pid, on the
way out.  The store is prepared and checked with ``tests.faults.store_audit``.
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import attrs

from smsgw.store.db import sqlite_url
from tests.faults.store_audit import prepare_store

ROOT = Path(__file__).resolve().parents[2]
NUMBERING = ROOT / "config" / "numbering.toml"
#: the gateway's command line, runnable from any directory (the package is installed)
SMSGW = (sys.executable, "-m", "smsgw.app.cli")


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 now (held together while chosen, so none repeats)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for sock in socks:
            sock.close()


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something true; its value, or TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no {what} within {timeout:g}s")
        time.sleep(interval)


class Child:
    """One child process with its output in a log file; see the module docstring."""

    def __init__(self, name: str, argv: list[str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.log = log
        self._file = open(log, "ab")
        self._read_from = log.stat().st_size
        self.popen = subprocess.Popen(argv, stdout=self._file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      cwd=str(log.parent), env={**os.environ, "PYTHONUNBUFFERED": "1"})

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self, since: int = 0) -> str:
        with open(self.log, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")

    def wait_for(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        """The first line written since this process started that matches ``pattern``."""
        regex = re.compile(pattern, re.MULTILINE)

        def found() -> re.Match[str] | None:
            match = regex.search(self.output(self._read_from))
            if match is None and not self.alive():
                raise RuntimeError(f"{self.name} ended ({self.popen.returncode}) before {pattern!r}:\n"
                                   f"{self.output(self._read_from)[-3000:]}")
            return match

        return wait_until(found, timeout, f"{pattern!r} from {self.name} (see {self.log})")  # type: ignore[no-any-return]

    def kill(self) -> int:
        """SIGKILL, and reap it."""
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
        code = self.popen.wait(30)
        self._file.close()
        return code

    def stop(self, grace: float = 30.0) -> int:
        """SIGTERM, then SIGKILL after ``grace`` seconds; the exit code."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.popen.send_signal(signal.SIGKILL)
        code = self.popen.wait(30)
        self._file.close()
        return code


@attrs.frozen
class LinkSpec:
    """One carrier link of the generated configuration and the simulator account it logs in with."""

    protocol: str
    carrier: str
    login: str
    secret: str
    sp_number: str
    extra: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def name(self) -> str:
        return f"{self.carrier}-faults"


LINKS = (
    LinkSpec("cmpp30", "cmcc", "900001", "888888", "1069000", {"service_id": "SMSGW"}),
    LinkSpec("sgip12", "cucc", "smsgw", "unicom", "1065500", {"corp_id": "12345", "sgip_area_code": "010"}),
    LinkSpec("smgp30", "ctcc", "smsgw001", "telecom", "1069100"),
)
SGIP_LINK = next(link for link in LINKS if link.protocol == "sgip12")
#: how the China Unicom simulator binds to our SGIP listener
SGIP_CALLBACK = ("unicom", "callback")
#: each link of the generated configuration: connections, and submits in flight per connection
LINK_CONNECTIONS = 2
LINK_WINDOW = 64

_SNAPSHOT = re.compile(r"\[smsgw\.sim#info\] (\{.*\})\s*$", re.MULTILINE)


class Simulators:
    """The three carrier simulators, each its own process: every submit accepted at once (no speed
    limit), each reported DELIVRD after ``receipt_delay``; counters logged every ``stats_interval``."""

    def __init__(self, workdir: Path, ports: Mapping[str, int], sgip_listener: int, *,
                 receipt_delay: float = 0.2, window: int = 64, stats_interval: float = 0.5, seed: int = 1) -> None:
        self.ports = dict(ports)
        self.children: dict[str, Child] = {}
        common = ["--tps", "1000000", "--receipt-delay", str(receipt_delay), "--window", str(window),
                  "--stats-interval", str(stats_interval), "--seed", str(seed), "--outcomes", "DELIVRD=1"]
        try:
            for link in LINKS:
                argv = [*SMSGW, "sim", link.protocol, "--port", str(self.ports[link.protocol]),
                        "--account", f"{link.login}:{link.secret}:{link.sp_number}", *common]
                if link.protocol == "sgip12":
                    argv += ["--callback", f"127.0.0.1:{sgip_listener}", "--callback-login", ":".join(SGIP_CALLBACK)]
                self.children[link.protocol] = Child(f"sim-{link.protocol}", argv, workdir / f"sim-{link.protocol}.log")
            for child in self.children.values():
                child.wait_for(r"simulator listening on", timeout=60)
        except BaseException:
            self.close()
            raise

    def counters(self, fresh: bool = True, timeout: float = 30.0) -> dict[str, dict[str, int]]:
        """Each simulator's counters (``CarrierSimulator.snapshot``) as its periodic log line gives them;
        ``fresh``: from a line written after this call began."""
        result = {}
        for protocol, child in self.children.items():
            start = child.log.stat().st_size if fresh else 0

            def line(child: Child = child, start: int = start) -> dict[str, int] | None:
                found = _SNAPSHOT.findall(child.output(start))
                return ast.literal_eval(found[-1]) if found else None

            result[protocol] = wait_until(line, timeout, f"counters of {child.name}")
        return result

    def close(self) -> None:
        for child in self.children.values():
            child.stop(grace=10)


@attrs.frozen
class AccountSpec:
    """A test enterprise: bound by SMPP, open all day, with balance and a verified signature."""

    login: str
    password: str
    signature: str = "【示例科技】"
    yuan: int = 1_000_000
    max_binds: int = 4
    tps: int = 1_000_000


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def toml_text(document: Mapping[str, Any], prefix: str = "") -> str:
    """A TOML document from nested mappings (a mapping value is a table of its own)."""
    plain = [f"{key} = {_toml_value(v)}" for key, v in document.items() if not isinstance(v, Mapping)]
    lines = ([f"[{prefix}]"] if prefix and plain else []) + plain
    for key, value in document.items():
        if isinstance(value, Mapping):
            lines.append(toml_text(value, f"{prefix}.{key}" if prefix else key))
    return "\n".join(lines) + "\n"


def gateway_config(path: Path, *, sim_ports: Mapping[str, int], sgip_listener: int, accounts: Iterable[AccountSpec],
                   store_url: str = "", link_window: int = LINK_WINDOW, connections: int = LINK_CONNECTIONS,
                   smpp_window: int = 64) -> Path:
    """Write the gateway's TOML for the fault tests to ``path`` (see the module docstring)."""
    links = {}
    for link in LINKS:
        links[link.name] = {
            "protocol": link.protocol, "carrier": link.carrier, "host": "127.0.0.1", "port": sim_ports[link.protocol],
            "login": link.login, "secret": link.secret, "sp_number": link.sp_number,
            "connections": connections, "window": link_window, "tps": 100000, **link.extra,
        }  # fmt: skip
    document = {
        "gateway": {"data_dir": "data", "node_id": 1, "demo": False},
        "store": {"url": store_url, "auto_upgrade": False},
        "smpp": {"interface": "127.0.0.1", "port": 0, "window": smpp_window, "enquire_link_interval": 60.0,
                 "dc0": "ascii"},
        "web": {"enabled": False},
        "manhole": {"enabled": False},
        "metrics": {"enabled": False},
        "numbering": {"file": str(NUMBERING)},
        "simulators": {"enabled": False},
        "policy": {"default_price": 4000, "accounts": {
            a.login: {"window_open": "00:00", "window_close": "24:00", "window_release": "00:00"} for a in accounts}},
        "routing": {"groups": {link.carrier: [link.name] for link in LINKS}},
        "links": links,
        "sgip_listeners": {SGIP_LINK.name: {"port": sgip_listener, "interface": "127.0.0.1",
                                             "login": SGIP_CALLBACK[0], "secret": SGIP_CALLBACK[1]}},
    }
    path.write_text(toml_text(document), encoding="utf-8")
    return path


_RECOVERY = re.compile(r"store opened: RecoveryReport\(requeued_segments=(\d+), outbox_pending=(\d+)")


class Gateway:
    """``smsgw run`` on a fixed SMPP port and data directory; killed and started again at will."""

    def __init__(self, workdir: Path, config: Path, data_dir: Path, smpp_port: int) -> None:
        self.workdir = workdir
        self.config = config
        self.data_dir = data_dir
        self.smpp_port = smpp_port
        self.child: Child | None = None
        self.starts = 0
        self.kills = 0
        #: seconds from each start to its banner
        self.start_seconds: list[float] = []

    def start(self, timeout: float = 120.0) -> None:
        assert self.child is None or not self.child.alive(), "already running"
        began = time.monotonic()
        self.child = Child("gateway", [*SMSGW, "run", "--config", str(self.config), "--data-dir",
                                       str(self.data_dir), "--smpp-port", str(self.smpp_port)],
                           self.workdir / "gateway.log")
        self.starts += 1
        found = self.child.wait_for(r"SMPP\s+[\d.]+:(\d+)", timeout=timeout)
        assert int(found.group(1)) == self.smpp_port, found.group(0)
        self.start_seconds.append(round(time.monotonic() - began, 2))

    def kill(self) -> None:
        assert self.child is not None and self.child.alive(), "the gateway is not running"
        self.child.kill()
        self.kills += 1

    def restart(self, timeout: float = 120.0) -> None:
        """SIGKILL, then start again on the same port and data directory."""
        self.kill()
        self.start(timeout)

    def stop(self) -> int | None:
        """Graceful stop (SIGTERM); the exit code."""
        if self.child is None:
            return None
        return self.child.stop(grace=60)

    def log_text(self) -> str:
        return (self.workdir / "gateway.log").read_text(errors="replace")

    def recoveries(self) -> list[dict[str, int]]:
        """What recovery found at each start (``store.recovery.RecoveryReport`` as the gateway logs it)."""
        return [{"requeued_segments": int(found.group(1)), "outbox_pending": int(found.group(2))}
                for found in _RECOVERY.finditer(self.log_text())]


@attrs.define
class Rig:
    """Store, simulators and gateway of one test, running (``running``)."""

    workdir: Path
    url: str
    accounts: tuple[AccountSpec, ...]
    enterprise_ids: dict[str, int]
    simulators: Simulators
    gateway: Gateway

    @property
    def credentials(self) -> list[tuple[str, str]]:
        return [(a.login, a.password) for a in self.accounts]

    @classmethod
    @contextmanager
    def running(cls, workdir: Path, accounts: Iterable[AccountSpec], store_url: str = "",
                **simulator_options: Any) -> Iterator[Rig]:
        """Prepare the store (SQLite in ``workdir/data`` unless ``store_url``), start the simulators and
        the gateway; on the way out kill whatever still runs."""
        accounts = tuple(accounts)
        data_dir = workdir / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        url = store_url or sqlite_url(str(data_dir))
        enterprise_ids = prepare_store(url, accounts)
        smpp, sgip, *sim_ports = free_ports(2 + len(LINKS))
        ports = {link.protocol: port for link, port in zip(LINKS, sim_ports)}
        config = gateway_config(workdir / "gateway.toml", sim_ports=ports, sgip_listener=sgip, accounts=accounts,
                                store_url=store_url)
        simulators = Simulators(workdir, ports, sgip, **simulator_options)
        gateway = Gateway(workdir, config, data_dir, smpp)
        try:
            gateway.start()
            yield cls(workdir, url, accounts, enterprise_ids, simulators, gateway)
        finally:
            if gateway.child is not None and gateway.child.alive():
                gateway.child.kill()
            simulators.close()
