"""Start ``smsgw run`` as a child process on free ports and talk to it (bounded in time)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class ChildProcess:
    """A child process whose stderr goes to a log file: read the log, end it politely then firmly."""

    proc: subprocess.Popen[str]
    log: Any

    def stderr(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return str(self.log.read())

    def end(self, timeout: float = 20.0) -> int:
        """SIGTERM, then SIGKILL if it has not ended within ``timeout``; its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


class RunningGateway(ChildProcess):
    def __init__(self, data_dir: Path, config: Path | None = None, timeout: float = 30.0) -> None:
        args = [sys.executable, "-m", "smsgw.app.cli", "run", "--data-dir", str(data_dir), "--smpp-port", "0",
                "--web-port", "0", "--manhole-port", "0", "--metrics-port", "0"]
        if config is not None:
            args += ["--config", str(config)]
        self.log = open(data_dir.parent / f"{data_dir.name}.log", "w+")
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.banner: list[str] = []
        self.smpp_port = 0
        end = time.time() + timeout
        assert self.proc.stdout is not None
        while time.time() < end:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.banner.append(line.rstrip())
            m = re.search(r"SMPP\s+[\d.]+:(\d+)", line)
            if m:
                self.smpp_port = int(m.group(1))
            if line.startswith("  SGIP listener") or (self.smpp_port and "simulator smgp" in line):
                break
        if not self.smpp_port:
            self.stop()
            raise RuntimeError(f"gateway did not start: {self.banner} / {self.stderr()[-3000:]}")

    def stop(self, timeout: float = 20.0) -> int:
        return self.end(timeout)

    def __enter__(self) -> "RunningGateway":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        self.log.close()
