"""The HTTP API from a script, against ``smsgw run``'s demo: a batch sent, followed to its receipts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.web.server import Served

SCRIPT = Path(__file__).with_name("api_script.py")


def test_a_script_sends_a_batch_and_pulls_its_receipts(served: Served) -> None:
    numbers = ["13800138005", "18600186005", "13300133005"]
    run = subprocess.run([sys.executable, str(SCRIPT), served.base, served.key, *numbers], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "batch: 3 accepted, 0 refused" in run.stdout
    assert "receipts pulled: 3, acknowledged: 3" in run.stdout
