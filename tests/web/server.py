"""Run ``tests.web.serve`` as a child process and wait (bounded) until it is ready."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.e2e.run import ROOT, ChildProcess



class Served(ChildProcess):
    def __init__(self, data_dir: Path, timeout: float = 60.0) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = open(data_dir.parent / f"{data_dir.name}-serve.log", "w+")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.web.serve", str(data_dir)], cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.port = 0
        self.key = ""
        end = time.time() + timeout
        assert self.proc.stdout is not None
        while time.time() < end:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("WEB "):
                self.port = int(line.split()[1])
            elif line.startswith("APIKEY "):
                self.key = line.split()[1]
            elif line.startswith("READY"):
                break
        if not (self.port and self.key):
            self.stop()
            raise RuntimeError(f"the gateway did not start: {self.stderr()[-4000:]}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 20.0) -> None:
        self.end(timeout)
        self.log.close()

    def __enter__(self) -> "Served":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
