"""bench/e2e processes: the store set-up, the carrier simulators, the gateway, the null SMSC; RSS sampling.

Every process is started with its output in a log file of the run's
directory and ended by its own pid (SIGTERM, then SIGKILL after a grace
period).  ``RssSampler`` reads ``/proc/<pid>/status`` in a thread: the
highest VmRSS it saw and the kernel's own peak (VmHWM).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GATEWAY_CONFIG = HERE / "gateway.toml"
BIN = Path(sys.executable).parent
SMSGW = str(BIN / "smsgw")

#: the bench account (created in the store before the gateway starts)
LOGIN, PASSWORD = "bench", "bench"


class Proc:
    """A child process with its log file."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log = log
        self._file = open(log, "wb")
        self.popen = subprocess.Popen(argv, stdout=self._file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      env={**os.environ, **(env or {})})

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_for_line(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        """The first line of the log matching ``pattern`` (fails if the process ends first)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            for line in text.splitlines():
                found = regex.search(line)
                if found:
                    return found
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} ended ({self.popen.returncode}) before {pattern!r}:\n{text[-3000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"{self.name}: no {pattern!r} within {timeout}s (see {self.log})")

    def stop(self, grace: float = 20.0) -> int | None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self._file.close()
        return self.popen.returncode


def run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def gateway_settings(config: Path = GATEWAY_CONFIG) -> dict[str, Any]:
    with open(config, "rb") as f:
        return tomllib.load(f)


def shifted_config(workdir: Path, offset: int) -> Path:
    """``gateway.toml`` with every fixed port (links, SGIP listener) moved up by ``offset``, written to
    ``workdir`` (so that two runs can share the machine); the numbering plan path made absolute."""
    if not offset:
        return GATEWAY_CONFIG
    plan = (HERE / gateway_settings()["numbering"]["file"]).resolve()
    lines = []
    for line in GATEWAY_CONFIG.read_text(encoding="utf-8").splitlines():
        found = re.match(r"^(port\s*=\s*)(\d+)(.*)$", line)
        if found and int(found.group(2)):
            line = f"{found.group(1)}{int(found.group(2)) + offset}{found.group(3)}"
        elif line.startswith("file = "):
            line = f'file = "{plan}"'
        lines.append(line)
    target = workdir / "gateway.toml"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


#: the bench enterprise's verified signature (签名): every message carries it or gets it put in front
SIGNATURE = "【示例科技】"


def prepare_store(data_dir: Path, binds: int) -> str:
    """Schema, the bench account (TPS far above any load, ``binds`` binds), balance for millions,
    and its verified signature (the policy chain refuses an enterprise without one)."""
    url = f"sqlite:///{data_dir / 'smsgw.db'}"
    run([SMSGW, "db", "upgrade", "--url", url])
    run([SMSGW, "account", "create", LOGIN, PASSWORD, "--url", url, "--tps", "1000000",
         "--max-binds", str(max(binds, 1))])
    run([SMSGW, "account", "recharge", LOGIN, "10000000", "--url", url])
    verify_signature(url, LOGIN, SIGNATURE)
    return url


def verify_signature(url: str, login: str, signature: str) -> None:
    """Add ``signature`` to ``login``'s enterprise and verify it, through the store's own operations."""
    from smsgw.domain.model import SignatureStatus
    from smsgw.store import accounts, lists
    from smsgw.store.db import create_engine
    from smsgw.store.writer import Writer, call_now

    engine = create_engine(url)
    writer = Writer(engine, notify=call_now)
    writer.start()
    try:
        with engine.connect() as conn:
            found = accounts.find_login(conn, login)
        assert found is not None, login
        now = int(time.time() * 1000)
        pending = writer.run_sync(lists.AddSignature(found[0].enterprise_id, signature, now, "bench"), timeout=30)
        writer.run_sync(lists.DecideSignature(pending, SignatureStatus.VERIFIED, now, "bench"), timeout=30)
    finally:
        writer.stop(timeout=30)
        engine.dispose()


def start_simulators(workdir: Path, receipt_delay: float, window: int, config: Path = GATEWAY_CONFIG) -> list[Proc]:
    """The three carrier simulators, each its own process, on the ports of ``config``'s links."""
    cfg = gateway_settings(config)
    links = cfg["links"]
    listener = next(iter(cfg["sgip_listeners"].values()))
    common = ["--tps", "1000000", "--receipt-delay", str(receipt_delay), "--window", str(window),
              "--stats-interval", "0", "--seed", "1", "--outcomes", "DELIVRD=1"]
    procs = []
    for link in links.values():
        protocol = link["protocol"]
        argv = [SMSGW, "sim", protocol, "--port", str(link["port"]),
                "--account", f"{link['login']}:{link['secret']}:{link['sp_number']}", *common]
        if protocol == "sgip12":
            argv += ["--callback", f"127.0.0.1:{listener['port']}",
                     "--callback-login", f"{listener['login']}:{listener['secret']}"]
        proc = Proc(f"sim-{protocol}", argv, workdir / f"sim-{protocol}.log")
        procs.append(proc)
    for proc in procs:
        proc.wait_for_line(r"simulator listening on")
    return procs


def start_gateway(workdir: Path, data_dir: Path, switch_interval: float | None = None,
                  config: Path = GATEWAY_CONFIG, notifier_window: int | None = None) -> tuple[Proc, int]:
    """``smsgw run`` on the bench config.  Two experiments the gateway has no setting for:
    ``switch_interval`` (seconds) sets the interpreter's GIL switch interval first;
    ``notifier_window`` the deliver_sm window per receiver (``NotifierConfig.window``)."""
    argv = [SMSGW]
    if switch_interval is not None or notifier_window is not None:
        setup = ["import sys"]
        if switch_interval is not None:
            setup.append(f"sys.setswitchinterval({switch_interval!r})")
        if notifier_window is not None:
            setup += ["import functools, smsgw.pipeline.notifier as n",
                      f"n.NotifierConfig = functools.partial(n.NotifierConfig, window={notifier_window})"]
        argv = [sys.executable, "-c", "; ".join(setup) + "; sys.argv[0] = 'smsgw'; "
                "from smsgw.app.cli import main; sys.exit(main())"]
    proc = Proc("gateway", [*argv, "run", "--config", str(config), "--data-dir", str(data_dir),
                            "--smpp-port", "0"], workdir / "gateway.log")
    found = proc.wait_for_line(r"SMPP\s+[\d.]+:(\d+)", timeout=120)
    return proc, int(found.group(1))


def start_null_smsc(workdir: Path) -> tuple[Proc, int]:
    proc = Proc("null-smsc", [sys.executable, str(HERE / "null_smsc.py"), "--port", "0"], workdir / "null-smsc.log")
    found = proc.wait_for_line(r"listening on (\d+)")
    return proc, int(found.group(1))


def _status_kb(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class RssSampler:
    """The highest resident set size of ``pid`` seen every ``interval`` seconds, and its VmHWM."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self.last_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="rss-sampler")

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            rss = _status_kb(self.pid, "VmRSS")
            if rss is not None:
                self.last_kb = rss
                self.peak_kb = max(self.peak_kb, rss)
            self._stop.wait(self.interval)

    def reset_peak(self) -> int:
        """Start the peak again (e.g. after the binds: argon2 verification takes 64 MiB per bind
        while it runs, more than the messages need); returns the peak so far in KiB."""
        before, self.peak_kb = self.peak_kb, self.last_kb
        return before

    def hwm_kb(self) -> int | None:
        return _status_kb(self.pid, "VmHWM")

    def stop(self) -> dict[str, float | None]:
        hwm = self.hwm_kb()
        self._stop.set()
        self._thread.join(2)
        return {"peak_rss_after_binds_mb": round(self.peak_kb / 1024, 1),
                "vm_hwm_mb": None if hwm is None else round(hwm / 1024, 1)}


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds the process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def start_py_spy(pid: int, output: Path, seconds: float, fmt: str = "flamegraph") -> subprocess.Popen[bytes] | None:
    """py-spy record of ``pid`` for ``seconds`` (None when py-spy is not installed)."""
    exe = BIN / "py-spy"
    if not exe.exists():
        return None
    return subprocess.Popen([str(exe), "record", "--pid", str(pid), "--duration", str(int(seconds)),
                             "--rate", "200", "--format", fmt, "--output", str(output), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
