"""MO replies from each carrier reach the enterprise whose extension (子号) the user texted,
as deliver_sm to its bound receiver — the whole gateway in process, simulators included."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest_twisted
import smpplib.client
from twisted.internet import reactor, threads

from smsgw.app.gateway import DEMO_EXTENSION
from tests.gateway.rig import start_gateway_service


def _receive(port: int, count: int, timeout: float = 20) -> list[Any]:
    got: list[Any] = []
    c = smpplib.client.Client("127.0.0.1", port, timeout=timeout, allow_unknown_opt_params=True)
    c.set_message_received_handler(lambda pdu: got.append(pdu))
    c.connect()
    c.bind_receiver(system_id="demo", password="demo")
    end = time.time() + timeout
    while len(got) < count and time.time() < end:
        c.read_once()
    c.unbind()
    c.disconnect()
    return got


@pytest_twisted.inlineCallbacks
def test_mo_from_every_carrier_reaches_the_extension_owner(tmp_path: Path) -> None:
    gw = start_gateway_service(tmp_path)
    try:
        listening = yield gw.ready
        links = {link.protocol[:4]: link for link in gw.config.links}
        receiving = threads.deferToThread(_receive, listening.smpp, 3)
        yield _sleep(1.0)  # let the receiver bind
        texts = {"cmpp": "hello from mobile", "sgip": "联通用户回复", "smgp": "reply from telecom"}
        senders = {"cmpp": "13800000001", "sgip": "18600000002", "smgp": "13300000003"}
        for family, text in texts.items():
            gw.simulators[family].inject_mo(senders[family], links[family].sp_number + DEMO_EXTENSION, text)
        delivered = yield receiving
    finally:
        yield gw.stopService()
    assert len(delivered) == 3
    by_source = {pdu.source_addr.decode(): pdu for pdu in delivered}
    assert set(by_source) == set(senders.values())
    for family, sender in senders.items():
        pdu = by_source[sender]
        assert pdu.esm_class & 0x3C == 0  # an MO, not a receipt
        text = pdu.short_message.decode("utf-16-be" if pdu.data_coding == 8 else "ascii")
        assert text == texts[family]
        assert pdu.destination_addr.decode().endswith(DEMO_EXTENSION)


def _sleep(seconds: float) -> Any:
    from twisted.internet.task import deferLater
    return deferLater(reactor, seconds, lambda: None)
