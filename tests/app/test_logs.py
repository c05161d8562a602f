"""Log observers: JSON lines with the event's fields, level filtering; ``smsgw run --log-format json``."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from twisted.logger import Logger, LogPublisher

from smsgw.app import logs
from smsgw.app.cli import main
from smsgw.store.passwords import verify_password
from tests.app.test_twistd import Output


def test_json_lines_carry_the_text_and_the_plain_fields() -> None:
    out = io.StringIO()
    publisher = LogPublisher(logs.observer("json", "info", out))
    log = Logger(namespace="smsgw.test", observer=publisher)
    log.info("bind of {login} from {peer}", login="acme", peer="127.0.0.1:5000", account=object())
    log.debug("not shown at info")
    try:
        1 / 0
    except ZeroDivisionError:
        log.failure("it broke for {login}", login="acme")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["text"] == "bind of acme from 127.0.0.1:5000"
    assert (first["level"], first["namespace"], first["login"], first["peer"]) == ("info", "smsgw.test", "acme",
                                                                                   "127.0.0.1:5000")
    assert "account" not in first  # not a plain value
    assert first["time"].endswith("+00:00")
    assert second["level"] == "critical" and "ZeroDivisionError" in second["traceback"]


def test_text_format_and_levels() -> None:
    out = io.StringIO()
    log = Logger(namespace="smsgw.test", observer=LogPublisher(logs.observer("text", "warn", out)))
    log.info("quiet")
    log.warn("link {name} is down", name="cmcc-1")
    assert "quiet" not in out.getvalue()
    assert "[smsgw.test#warn] link cmcc-1 is down" in out.getvalue()
    with pytest.raises(ValueError):
        logs.observer("xml")
    with pytest.raises(ValueError):
        logs.observer("text", "chatty")


def test_hash_password_prints_an_argon2_hash(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hash-password", "s3cret"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("$argon2id$") and verify_password(printed, "s3cret")


def test_smsgw_run_logs_json_and_prints_the_banner(tmp_path: Path) -> None:
    smsgw = Path(sys.executable).with_name("smsgw")
    command = [str(smsgw), "run", "--data-dir", str(tmp_path / "data"), "--smpp-port", "0", "--manhole-port", "0",
               "--metrics-port", "0", "--log-format", "json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                               env={**os.environ})
    try:
        out = Output(process)
        out.wait_for(r"manhole\s+telnet 127\.0\.0\.1 \d+")
        out.wait_for(r'"namespace": "smsgw\.app".*"text": "store opened')
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    records = [json.loads(line) for line in out.lines if line.startswith("{")]
    assert records and all({"time", "level", "namespace", "text"} <= set(r) for r in records)
    assert any(r["namespace"] == "smsgw.net.cmpp30" and "logged in" in r["text"] for r in records)
