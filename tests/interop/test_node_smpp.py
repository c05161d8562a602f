"""Interop: the npm ``smpp`` package (Node, a client we did not write) against ``smsgw run``.

The gateway runs as a subprocess exactly as a user starts it (demo mode: SQLite
store, built-in carrier simulators), so receipts come back end to end:
submit_sm → store → CMPP/SGIP/SMGP link → simulator → report → deliver_sm.
``node/smpp_client.js`` drives the client and prints one JSON line per thing
it saw.  The npm package (pinned in ``node/package.json``) is installed with
npm on first use, so a clean clone only needs node, npm and the registry.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from smsgw.domain import ids

pytestmark = pytest.mark.interop

NODE_DIR = Path(__file__).resolve().parent / "node"
SMPP_VERSION = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["smpp"]
ESME_RINVPASWD, ESME_RINVSYSID, ESME_RINVDSTADR, ESME_RCNTSUBDL, ESME_RTHROTTLED = 0x0E, 0x0F, 0x0B, 0x44, 0x58
ESME_RSUBMITFAIL = 0x45
#: message_state TLV (SMPP 3.4 table 5-6) and the receipt's stat for each final state
FINAL = {2: "DELIVRD", 5: "UNDELIV"}


def _cli(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smsgw.app.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=True)


@pytest.fixture(scope="session")
def node_client() -> Path:
    """The client script, with npm ``smpp`` installed beside it (npm install on first use)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "the interop tests need node and npm on PATH (apt-get install nodejs npm)"
    installed = NODE_DIR / "node_modules" / "smpp" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != SMPP_VERSION:
        subprocess.run([npm, "install", "--no-package-lock", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR)],
                       cwd=NODE_DIR, check=True, timeout=300, capture_output=True)
    assert json.loads(installed.read_text())["version"] == SMPP_VERSION
    return NODE_DIR / "smpp_client.js"


class Gateway:
    """``smsgw run`` in a subprocess; ``port`` is its SMPP listener."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.stderr = open(data_dir / "gateway.log", "w")
        ports = ["--smpp-port", "0", "--web-port", "0", "--manhole-port", "0"]
        if "--metrics-port" in _cli("run", "--help", cwd=data_dir).stdout:
            ports += ["--metrics-port", "0"]
        self.proc = subprocess.Popen([sys.executable, "-m", "smsgw.app.cli", "run", "--data-dir", str(data_dir), *ports],
                                     cwd=data_dir, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.port = self._wait_for_port(timeout=60)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _wait_for_port(self, timeout: float) -> int:
        seen = []
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no SMPP banner within {timeout}s; stdout so far: {seen}") from None
            if line is None:
                raise AssertionError(f"smsgw run exited ({self.proc.wait(5)}): {seen}\n{self.log()}")
            seen.append(line)
            found = re.search(r"SMPP\s+127\.0\.0\.1:(\d+)", line)
            if found:
                return int(found.group(1))

    def log(self) -> str:
        self.stderr.flush()
        return (self.data_dir / "gateway.log").read_text()[-4000:]

    def stored(self, message_id: str) -> dict[str, Any]:
        """The message row as the gateway wrote it (read-only; SQLite WAL lets us read while it runs)."""
        with sqlite3.connect(f"file:{self.data_dir / 'smsgw.db'}?mode=ro", uri=True, timeout=10) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM messages WHERE id = ?", (ids.from_text(message_id),)).fetchone()
        assert row is not None, f"message {message_id} not in the store"
        return dict(row)

    def members(self, submission_id: str) -> list[dict[str, Any]]:
        """The messages stored for each destination of a submit_multi (``store.multi``)."""
        with sqlite3.connect(f"file:{self.data_dir / 'smsgw.db'}?mode=ro", uri=True, timeout=10) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT m.* FROM messages m JOIN multi_members s ON s.message_id = m.id "
                              "WHERE s.submission_id = ? ORDER BY m.id", (ids.from_text(submission_id),)).fetchall()
        return [dict(row) for row in rows]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # graceful: unbind clients, commit, stop
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.stderr.close()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gw = Gateway(tmp_path)
    try:
        yield gw
    finally:
        gw.stop()


def run_client(script: Path, port: int, scenario: str, *login: str, timeout: float = 40) -> list[dict[str, Any]]:
    """Run one scenario; every line it printed, decoded.  Fails on a non-zero exit (timeout, error)."""
    proc = subprocess.run(["node", str(script), str(port), scenario, *login], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "SMPP_CLIENT_DEADLINE_MS": str(int(timeout - 5) * 1000)})
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert proc.returncode == 0, f"node client exited {proc.returncode}: {events}\n{proc.stderr}"
    return events


def first(events: list[dict[str, Any]], name: str, **match: Any) -> dict[str, Any]:
    found = [e for e in events if e["event"] == name and all(e.get(k) == v for k, v in match.items())]
    assert found, f"no {name} {match} in {events}"
    return found[0]


def unsigned(text: str) -> str:
    """The text without the 【signature】 the signature policy puts in front of unsigned messages."""
    return re.sub(r"^【[^】]{1,30}】", "", text)


def assert_receipt(receipt: dict[str, Any], message_id: str) -> None:
    """A delivery receipt as SMPP 3.4 appendix B and the TLVs of 5.3.2 say, consistent with itself."""
    assert receipt["esm_class"] & 0x3C == 0x04
    assert receipt["message_state"] in FINAL
    text = receipt["text"]
    assert re.match(rf"id:{message_id} sub:001 dlvrd:00[01] submit date:\d{{10}} done date:\d{{10}} "
                    rf"stat:{FINAL[receipt['message_state']]} err:\d{{3}} text:", text), text


def test_bind_submit_chinese_long_query_and_receipts(node_client: Path, gateway: Gateway) -> None:
    events = run_client(node_client, gateway.port, "full")
    assert first(events, "bind")["status"] == 0 and first(events, "bind")["system_id"] == "smsgw"
    submits = {e["kind"]: e for e in events if e["event"] == "submit"}
    assert set(submits) == {"ascii", "chinese", "long-part-1", "long-part-2"}
    assert all(s["status"] == 0 and s["message_id"] for s in submits.values())
    assert len({s["message_id"] for s in submits.values()}) == 4

    query = first(events, "query")
    assert query["status"] == 0 and query["message_id"] == submits["ascii"]["message_id"]
    assert query["message_state"] in (1, 2, 5)  # ENROUTE, or already final if the receipt was quick
    assert first(events, "enquire_link")["status"] == 0
    for s in submits.values():
        assert_receipt(first(events, "deliver_sm", receipted_message_id=s["message_id"]), s["message_id"])
    assert first(events, "unbind")["status"] == 0

    # what npm smpp encoded (IA5 for ASCII, UCS2 for Chinese, UDH parts) is what the store holds
    assert unsigned(gateway.stored(submits["ascii"]["message_id"])["text"]) == "Hello from node"
    chinese = gateway.stored(submits["chinese"]["message_id"])
    assert unsigned(chinese["text"]) == "您好，这是一条测试短信" and chinese["dest_addr"] == "18612345678"
    assert chinese["carrier"] == "cucc"
    parts = [gateway.stored(submits[f"long-part-{i}"]["message_id"]) for i in (1, 2)]
    assert "".join(unsigned(p["text"]) for p in parts) == "长短信测试" * 20
    assert {p["carrier"] for p in parts} == {"ctcc"}


def test_submit_multi_and_data_sm(node_client: Path, gateway: Gateway) -> None:
    events = run_client(node_client, gateway.port, "multi")
    multi = first(events, "submit_multi")
    assert multi["status"] == 0 and multi["message_id"]
    assert sorted(map(tuple, multi["unsuccess"])) == [("+15555550100", ESME_RINVDSTADR), ("friends", ESME_RCNTSUBDL)]
    data = first(events, "data_sm")
    assert data["status"] == 0 and data["message_id"]
    for message_id in (multi["message_id"], data["message_id"]):
        assert_receipt(first(events, "deliver_sm", receipted_message_id=message_id), message_id)
    # submit_multi answers with one id: each destination is a message of its own, and its receipt
    # carries the id the client got
    receipts = [e for e in events if e["event"] == "deliver_sm"]
    assert len(receipts) == 3
    assert [r["receipted_message_id"] for r in receipts].count(multi["message_id"]) == 2
    members = gateway.members(multi["message_id"])
    assert [(m["dest_addr"], unsigned(m["text"])) for m in members] == [
        ("13800138000", "群发测试"), ("18612345678", "群发测试")]
    # every destination refused: the error answer keeps its body, and npm smpp reads the list from it
    refused = first(events, "submit_multi_refused")
    assert refused["status"] == ESME_RSUBMITFAIL and refused["message_id"] is None
    assert refused["unsuccess"] == [["+15555550100", ESME_RINVDSTADR], ["friends", ESME_RCNTSUBDL]]
    stored = gateway.stored(data["message_id"])
    assert unsigned(stored["text"]) == "数据短消息的长内容，" * 10 and stored["parts"] == 2


def test_wrong_password_and_unknown_login(node_client: Path, gateway: Gateway) -> None:
    assert first(run_client(node_client, gateway.port, "bind", "demo", "wrong"), "bind")["status"] == ESME_RINVPASWD
    assert first(run_client(node_client, gateway.port, "bind", "nobody", "x"), "bind")["status"] == ESME_RINVSYSID
    assert first(run_client(node_client, gateway.port, "bind", "demo", "demo"), "bind")["status"] == 0


def test_throttling(node_client: Path, gateway: Gateway) -> None:
    """A sub-account allowed 2 submissions a second sends 40 at once: the rest are ESME_RTHROTTLED.
    (A sub-account of the demo enterprise, created while the gateway runs, spends its balance and signs
    with its verified signature.)"""
    url = f"sqlite:///{gateway.data_dir / 'smsgw.db'}"
    _cli("account", "create", "--url", url, "--parent", "demo", "--tps", "2", "slow", "slowpass",
         cwd=gateway.data_dir)
    events = run_client(node_client, gateway.port, "throttle", "slow", "slowpass")
    statuses = first(events, "throttle")["statuses"]
    assert len(statuses) == 40 and set(statuses) <= {0, ESME_RTHROTTLED}
    assert 1 <= statuses.count(0) <= 6  # a burst of two, and two a second while they arrive
    assert first(events, "unbind")["status"] == 0
