"""``smsgw run`` on the embedded defaults: an SMPP client's messages reach all three carriers'
simulators over CMPP, SGIP and SMGP, and each receipt comes back exactly once."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import smpplib.client
import smpplib.gsm

from tests.e2e.run import ROOT, RunningGateway

NUMBERS = {"cmcc": "13800138000", "cucc": "18612345678", "ctcc": "13300000000"}


class Receipts:
    def __init__(self, port: int) -> None:
        self.client = smpplib.client.Client("127.0.0.1", port, timeout=20, allow_unknown_opt_params=True)
        self.receipts: list[Any] = []
        self.ids: list[str] = []
        self.client.set_message_received_handler(self.receipts.append)
        self.client.set_message_sent_handler(lambda pdu: None)
        self.client.connect()
        self.client.bind_transceiver(system_id="demo", password="demo")

    def submit(self, dest: str, text: str) -> list[str]:
        parts, coding, esm = smpplib.gsm.make_parts(text)
        got = []
        for part in parts:
            pdu = self.client.send_message(source_addr="", destination_addr=dest, short_message=part,
                                           data_coding=coding, esm_class=esm, registered_delivery=True)
            while True:
                resp = self.client.read_pdu()
                if resp.command == "submit_sm_resp" and resp.sequence == pdu.sequence:
                    assert resp.status == 0, resp.status
                    got.append(resp.message_id.decode())
                    break
                self._handle(resp)
        self.ids += got
        return got

    def _handle(self, pdu: Any) -> None:
        if pdu.command == "deliver_sm":
            self.receipts.append(pdu)
            resp = smpplib.smpp.make_pdu("deliver_sm_resp", client=self.client)
            resp.sequence = pdu.sequence  # make_pdu does not apply sequence= to the header
            self.client.send_pdu(resp)

    def wait(self, count: int, timeout: float) -> None:
        end = time.time() + timeout
        while len(self.receipts) < count and time.time() < end:
            self._handle(self.client.read_pdu())

    def close(self) -> None:
        self.client.unbind()
        self.client.disconnect()


def _states(db: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return {hex(row[0])[2:]: (row[1], row[2]) for row in conn.execute("select id, carrier, state from messages")}


def test_three_carriers_and_receipts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with RunningGateway(data) as gw:
        assert any("bind as demo / demo" in line for line in gw.banner)
        client = Receipts(gw.smpp_port)
        try:
            sent = {carrier: client.submit(number, f"hello {carrier}") for carrier, number in NUMBERS.items()}
            sent["cucc-long"] = client.submit(NUMBERS["cucc"], "长短信测试" * 30)  # 150 UCS2 chars: 3 parts
            client.wait(len(client.ids), 30)
        finally:
            client.close()
        receipted = [r.receipted_message_id.decode() for r in client.receipts]
        assert sorted(receipted) == sorted(client.ids)  # exactly one receipt per message
        assert all(r.message_state in (2, 5) for r in client.receipts)  # DELIVERED or UNDELIVERABLE
        assert gw.stop() == 0, gw.stderr()[-3000:]
    states = _states(data / "smsgw.db")
    for carrier in ("cmcc", "cucc", "ctcc"):
        for mid in sent[carrier]:
            assert states[mid][0] == carrier and states[mid][1] in ("delivered", "undelivered")
    # each went over its own protocol: the carrier ids recorded are in that protocol's form
    with sqlite3.connect(data / "smsgw.db") as conn:
        forms = dict(conn.execute("select m.carrier, c.carrier_msg_id from carrier_message_ids c "
                                  "join messages m on m.id = c.message_id").fetchall())
    assert re.fullmatch(r"[0-9a-f]{16}", forms["cmcc"])      # CMPP Msg_Id
    assert re.fullmatch(r"\d{30}", forms["cucc"])            # SGIP sequence triple
    assert re.fullmatch(r"[0-9a-f]{20}", forms["ctcc"])      # SMGP MsgID


def test_carrier_connections_dropping_lose_nothing(tmp_path: Path) -> None:
    config = tmp_path / "smsgw.toml"
    text = (ROOT / "config" / "smsgw.toml").read_text(encoding="utf-8")
    text = text.replace("delivered_share = 0.95", "delivered_share = 1.0\ndrop_every = 7")
    config.write_text(text.replace('file = "numbering.toml"', f'file = "{ROOT / "config" / "numbering.toml"}"'),
                      encoding="utf-8")
    data = tmp_path / "data"
    with RunningGateway(data, config) as gw:
        client = Receipts(gw.smpp_port)
        try:
            for i in range(60):
                carrier = ("cmcc", "cucc", "ctcc")[i % 3]
                client.submit(NUMBERS[carrier][:-3] + f"{i:03d}", f"message {i}")
            client.wait(len(client.ids), 60)
        finally:
            client.close()
        receipted = [r.receipted_message_id.decode() for r in client.receipts]
        assert sorted(receipted) == sorted(client.ids), (len(receipted), len(client.ids))
        assert gw.stop() == 0
        drops = gw.stderr().count("dropping 127.0.0.1")
    assert drops >= 6  # the fault was really injected, on every carrier's links
    states = _states(data / "smsgw.db")
    assert all(state == "delivered" for _, state in states.values())
    with sqlite3.connect(data / "smsgw.db") as conn:
        balance, ledger = conn.execute("select (select sum(balance) from accounts where parent_id is null), "
                                       "(select sum(amount) from ledger)").fetchone()
    assert balance == ledger
