"""Long MO to clients, reassembled or in parts as the account says (``accounts.reassemble_mo``).

End to end with software we did not write on the client side: the whole
gateway in process (built-in carrier simulators included), the CMPP simulator
sends a reply in three parts, an smpplib receiver takes the deliver_sm.  The
timeout case runs on the smaller rig: parts recorded straight into the store,
one missing, go out as they came once the message has waited too long.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest_twisted
import smpplib.client
from twisted.internet import threads

from smsgw.app.gateway import DEMO_EXTENSION
from smsgw.domain.coding import Coding
from smsgw.domain.model import MoMessage
from smsgw.domain.segments import split
from smsgw.domain.udh import parse_concat
from smsgw.pipeline.notifier import NotifierConfig
from smsgw.store.accounts import UpdateAccount, find_login
from tests.gateway.rig import make_rig, start_gateway_service
from tests.gateway.wire_client import connect, until, within

#: 150 characters of UCS2: three parts of at most 67 characters
TEXT = "您好，这是一条用户回复的长短信，要分三段才能发完。" * 6


def _receive(port: int, got: list[Any], count: int, timeout: float = 20) -> None:
    """An smpplib receiver bound as demo, collecting deliver_sm into ``got`` until there are ``count``."""
    c = smpplib.client.Client("127.0.0.1", port, timeout=timeout, allow_unknown_opt_params=True)
    c.set_message_received_handler(lambda pdu: got.append(pdu))
    c.connect()
    try:
        c.bind_receiver(system_id="demo", password="demo")
        end = time.time() + timeout
        while len(got) < count and time.time() < end:
            c.read_once()
        c.unbind()
    finally:
        c.disconnect()


def _text(pdu: Any) -> str:
    payload = pdu.short_message or pdu.message_payload
    if pdu.esm_class & 0x40:
        _, payload = parse_concat(payload)
    return bytes(payload).decode("utf-16-be")


@pytest_twisted.inlineCallbacks
def test_long_mo_goes_to_the_client_whole_or_in_parts_as_the_account_says(tmp_path: Path) -> None:
    gw = start_gateway_service(tmp_path)
    try:
        listening = yield gw.ready
        demo, _ = yield gw.store.read(find_login, "demo")
        yield gw.store.run(UpdateAccount(demo.id, int(time.time() * 1000), "test", (("reassemble_mo", True),)))
        link = next(link for link in gw.config.links if link.protocol.startswith("cmpp"))
        cmpp = gw.simulators["cmpp"]
        got: list[Any] = []
        receiving = threads.deferToThread(_receive, listening.smpp, got, 4)
        yield until(lambda: gw.intake.bind_count(demo.id) == 1, what="the receiver's bind")

        answers = yield cmpp.inject_mo("13800000001", link.sp_number + DEMO_EXTENSION, TEXT)
        assert answers == [0, 0, 0]  # the carrier sent three parts, and we took each
        yield until(lambda: got, what="the reassembled MO")
        yield gw.store.run(UpdateAccount(demo.id, int(time.time() * 1000), "test", (("reassemble_mo", False),)))
        yield cmpp.inject_mo("13800000002", link.sp_number + DEMO_EXTENSION, TEXT)
        yield receiving
    finally:
        yield gw.stopService()
    whole, *parts = got
    assert (whole.source_addr, whole.esm_class, whole.data_coding) == (b"13800000001", 0, 8)
    assert whole.short_message in (None, b"") and _text(whole) == TEXT  # 300 octets: message_payload
    assert len(parts) == 3 and {p.source_addr for p in parts} == {b"13800000002"}
    concat = [parse_concat(p.short_message)[0] for p in parts]
    assert all(p.esm_class & 0x40 for p in parts) and sorted(c.number for c in concat) == [1, 2, 3]
    assert "".join(_text(p) for p in sorted(parts, key=lambda p: parse_concat(p.short_message)[0].number)) == TEXT


@pytest_twisted.inlineCallbacks
def test_an_incomplete_long_mo_goes_out_in_parts_after_the_timeout(tmp_path: Path) -> None:
    rig = yield make_rig(tmp_path, notifier=NotifierConfig(sweep_every=0.1, mo_timeout=0.5), reassemble_mo=True)
    client = yield connect(rig.port)
    try:
        assert (yield within(client.bind(mode="receiver"))).status == 0
        now = int(time.time() * 1000)
        first, _, third = (
            MoMessage(id=rig.intake.ids.next(), carrier="cmcc", source_addr="13800000003", dest_addr="106900008888",
                      content=seg.user_data, received_at=now, data_coding=8, esm_class=0x40, account_id=rig.account.id)
            for seg in split(TEXT, Coding.UCS2, 5)
        )  # fmt: skip
        yield rig.store.record_mo(first)
        yield rig.store.record_mo(third)
        rig.notifier.wake(rig.account.id)
        delivered = lambda: [p for p in client.received if p.command == "deliver_sm"]  # noqa: E731
        yield until(lambda: len(delivered()) == 2, timeout=5, what="the parts, after the timeout")
        assert time.time() * 1000 - now >= 500  # not before the timeout
        assert [p.fields["short_message"] for p in delivered()] == [first.content, third.content]
        assert all(p.fields["esm_class"] == 0x40 for p in delivered())
    finally:
        client.abort()
        yield rig.close()
