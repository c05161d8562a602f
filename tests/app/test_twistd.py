"""``twistd -n smsgw``: the plugin is found, its options are smsgw run's, and it runs and stops cleanly.

The plugin file lives in ``src/twisted/plugins``; an editable install does not
put it where twistd looks, so the subprocess gets a PYTHONPATH entry with a
copy of it (harmless next to a regular install's own copy).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import smpplib.client
import smpplib.gsm
import sqlalchemy as sa

from smsgw.store import schema
from smsgw.store.db import create_engine, sqlite_url
from smsgw.store.ledger import check_balances

ROOT = Path(__file__).resolve().parents[2]
TWISTD = Path(sys.executable).with_name("twistd")


def _env(tmp_path: Path) -> dict[str, str]:
    plugins = tmp_path / "plugins" / "twisted" / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "src" / "twisted" / "plugins" / "smsgw_plugin.py", plugins)
    path = os.pathsep.join(filter(None, [str(tmp_path / "plugins"), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


class Output:
    """The lines a subprocess writes, read on a thread; ``wait_for`` a pattern with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                found = re.search(pattern, line)
                if found:
                    return found
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} within {timeout} s in:\n{''.join(self.lines)}")


def test_twistd_help_lists_the_run_options(tmp_path: Path) -> None:
    listed = subprocess.run([str(TWISTD), "--help"], capture_output=True, text=True, env=_env(tmp_path),
                            cwd=tmp_path, timeout=60)
    assert re.search(r"^\s+smsgw\s+SMS gateway", listed.stdout, re.M), listed.stdout
    helped = subprocess.run([str(TWISTD), "-n", "smsgw", "--help"], capture_output=True, text=True,
                            env=_env(tmp_path), cwd=tmp_path, timeout=60)
    assert helped.returncode == 0, helped.stderr
    for option in ("--config=", "--data-dir=", "--smpp-port=", "--web-port=", "--manhole-port=", "--metrics-port="):
        assert option in helped.stdout, option
    wrong = subprocess.run([str(TWISTD), "-n", "smsgw", "--config", str(tmp_path / "missing.toml")],
                           capture_output=True, text=True, env=_env(tmp_path), cwd=tmp_path, timeout=60)
    assert wrong.returncode != 0 and "configuration error" in wrong.stdout + wrong.stderr


def _submit(port: int) -> str:
    client = smpplib.client.Client("127.0.0.1", port, timeout=10, allow_unknown_opt_params=True)
    client.connect()
    try:
        client.bind_transceiver(system_id="demo", password="demo")
        parts, coding, esm = smpplib.gsm.make_parts("from twistd")
        pdu = client.send_message(source_addr="1065", destination_addr="13800138000", short_message=parts[0],
                                  data_coding=coding, esm_class=esm, registered_delivery=True)
        resp = client.read_pdu()
        while resp.command != "submit_sm_resp" or resp.sequence != pdu.sequence:
            resp = client.read_pdu()
        assert resp.status == 0
        client.unbind()
        return str(resp.message_id.decode())
    finally:
        client.disconnect()


def test_twistd_runs_the_gateway_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    command = [str(TWISTD), "-n", "--pidfile=", "smsgw", "--data-dir", str(data), "--smpp-port", "0",
               "--manhole-port", "0", "--metrics-port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=_env(tmp_path), cwd=tmp_path)
    try:
        out = Output(process)
        out.wait_for(r"smsgw is running \(demo mode\)")
        smpp = int(out.wait_for(r"SMPP\s+127\.0\.0\.1:(\d+)").group(1))
        out.wait_for(r"manhole\s+telnet 127\.0\.0\.1 \d+\s+\(log in as admin / admin\)")
        out.wait_for(r"metrics\s+http://127\.0\.0\.1:\d+/metrics")
        message_id = _submit(smpp)
        process.send_signal(signal.SIGTERM)
        # twistd shuts down, then ends itself with the signal it got (twisted.application.app._exitWithSignal)
        assert process.wait(timeout=60) == -signal.SIGTERM
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    text = "".join(out.lines)
    assert "Traceback" not in text, text
    assert "Main loop terminated" in text and "Server Shut Down" in text, text
    engine = create_engine(sqlite_url(str(data)))
    try:
        with engine.connect() as conn:
            assert check_balances(conn) == []
            m, s = schema.messages, schema.segments
            assert conn.execute(sa.select(m.c.id).where(m.c.id == int(message_id, 16))).scalar() is not None
            sending = conn.execute(sa.select(sa.func.count()).select_from(s).where(s.c.state == "sending")).scalar()
            assert sending == 0  # a clean stop leaves nothing between us and a carrier
    finally:
        engine.dispose()
