"""The SMPP side end to end over loopback with smpplib (a client we did not write) and a real store."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import pytest_twisted
import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm
from twisted.internet import threads

from smsgw.codec import Pdu
from smsgw.domain import ids
from smsgw.domain.model import MessageState, Report
from tests.gateway.rig import make_rig


class Client:
    """smpplib in a thread of its own, recording what it receives."""

    def __init__(self, port: int) -> None:
        self.c = smpplib.client.Client("127.0.0.1", port, timeout=10, allow_unknown_opt_params=True)
        self.responses: list[Any] = []
        self.delivered: list[Any] = []
        self.c.set_message_sent_handler(lambda pdu: None)
        self.c.set_message_received_handler(lambda pdu: self.delivered.append(pdu))
        self._stop = threading.Event()

    def bind(self, password: str = "demo") -> Any:
        self.c.connect()
        return self.c.bind_transceiver(system_id="demo", password=password)

    def submit(self, dest: str, text: str, **extra: Any) -> list[Any]:
        parts, coding, esm = smpplib.gsm.make_parts(text)
        sent = []
        for part in parts:
            pdu = self.c.send_message(source_addr="1065", destination_addr=dest, short_message=part,
                                      data_coding=coding, esm_class=esm, registered_delivery=True, **extra)
            resp = self.c.read_pdu()
            while resp.command != "submit_sm_resp":
                self._handle(resp)
                resp = self.c.read_pdu()
            assert resp.sequence == pdu.sequence
            sent.append(resp)
        return sent

    def _handle(self, pdu: Any) -> None:
        if pdu.command == "deliver_sm":
            self.delivered.append(pdu)
            resp = smpplib.smpp.make_pdu("deliver_sm_resp", client=self.c)
            resp.sequence = pdu.sequence  # make_pdu does not apply sequence= to the header
            self.c.send_pdu(resp)

    def wait_delivered(self, count: int, timeout: float = 10) -> list[Any]:
        end = time.time() + timeout
        while len(self.delivered) < count and time.time() < end:
            try:
                self._handle(self.c.read_pdu())
            except Exception:
                break
        return self.delivered

    def close(self) -> None:
        try:
            self.c.unbind()
        finally:
            self.c.disconnect()


@pytest_twisted.inlineCallbacks
def test_bind_submit_store_report_receipt(tmp_path: Any) -> None:
    rig = yield make_rig(tmp_path)
    client = Client(rig.port)
    try:
        yield threads.deferToThread(client.bind)
        [resp] = yield threads.deferToThread(client.submit, "8613800138000", "Hello SMPP")
        assert resp.status == 0
        message_id = ids.from_text(resp.message_id.decode())
        message = yield rig.store.get_message(message_id)
        assert message.state is MessageState.QUEUED and message.dest_addr == "13800138000"
        assert message.carrier == "cmcc" and message.parts == 1

        # what a carrier link does: claim, submit, and the carrier's report comes back
        [segment] = yield rig.store.claim_due(int(time.time() * 1000) + 1000, 10)
        yield rig.store.submitted(segment.message_id, segment.seq, "cmcc", "b2b9da8000010000", int(time.time() * 1000))
        now = int(time.time() * 1000)
        yield rig.store.report(Report("cmcc", "b2b9da8000010000", MessageState.DELIVERED, "DELIVRD", now))
        rig.notifier.wake(rig.account.id)
        delivered = yield threads.deferToThread(client.wait_delivered, 1)
        [dlr] = delivered
        assert dlr.esm_class & 0x3C == 0x04  # SMSC delivery receipt
        assert dlr.receipted_message_id.decode() == resp.message_id.decode()
        assert dlr.message_state == 2  # DELIVERED
        assert b"stat:DELIVRD" in dlr.short_message and f"id:{resp.message_id.decode()}".encode() in dlr.short_message
    finally:
        yield threads.deferToThread(client.close)
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_chinese_long_message_parts_each_get_an_id(tmp_path: Any) -> None:
    rig = yield make_rig(tmp_path)
    client = Client(rig.port)
    try:
        yield threads.deferToThread(client.bind)
        responses = yield threads.deferToThread(client.submit, "18612345678", "您好，这是一条很长的测试短信。" * 8)
        assert len(responses) == 2 and all(r.status == 0 for r in responses)
        for r in responses:
            m = yield rig.store.get_message(ids.from_text(r.message_id.decode()))
            assert m.carrier == "cucc" and m.parts == 1
    finally:
        yield threads.deferToThread(client.close)
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_wrong_password_and_bad_destination(tmp_path: Any) -> None:
    rig = yield make_rig(tmp_path)
    client = Client(rig.port)
    try:
        with pytest.raises(smpplib.exceptions.PDUError) as info:
            yield threads.deferToThread(client.bind, "wrong")
        assert info.value.args[1] == smpplib.consts.SMPP_ESME_RINVPASWD
        client.c.disconnect()
        client = Client(rig.port)
        yield threads.deferToThread(client.bind)
        [resp] = yield threads.deferToThread(client.submit, "+1 555 0100", "hi")
        assert resp.status == smpplib.consts.SMPP_ESME_RINVDSTADR
    finally:
        yield threads.deferToThread(client.close)
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_account_tps_is_answered_with_throttled(tmp_path: Any) -> None:
    rig = yield make_rig(tmp_path, tps=2)
    client = Client(rig.port)
    try:
        yield threads.deferToThread(client.bind)
        statuses = []
        for i in range(6):
            [r] = yield threads.deferToThread(client.submit, f"1380013800{i}", "x")
            statuses.append(r.status)
        assert statuses.count(0) >= 2 and smpplib.consts.SMPP_ESME_RTHROTTLED in statuses
    finally:
        yield threads.deferToThread(client.close)
        yield rig.close()


def _query(client: Client, message_id: bytes) -> Any:
    pdu = smpplib.smpp.make_pdu("query_sm", client=client.c, message_id=message_id.decode(), source_addr="1065")
    client.c.send_pdu(pdu)
    return client.c.read_pdu()


def _cancel(port: int, message_id: bytes) -> Any:
    """smpplib has no cancel_sm: a raw transmitter bind with our own encoder for this one request."""
    import socket

    from smsgw.codec import Pdu
    from smsgw.session.codecs import codec_for

    codec = codec_for("smpp34")
    framer = codec.framer()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        got: list[Any] = []

        def read(n: int) -> None:
            while len(got) < n:
                got.extend(codec.decode(f) for f in framer.feed(sock.recv(4096)))

        sock.sendall(codec.encode(Pdu("bind_transmitter", 1, {"system_id": "demo", "password": "demo"})))
        read(1)  # a request sent before the bind is answered would get ESME_RINVBNDSTS
        sock.sendall(codec.encode(Pdu("cancel_sm", 2, {"message_id": message_id.decode(), "source_addr": "1065",
                                                       "destination_addr": "13900000000"})))
        read(2)
    assert got[0].command == "bind_transmitter_resp" and got[0].status == 0
    return got[1]


@pytest_twisted.inlineCallbacks
def test_query_and_cancel_a_waiting_message(tmp_path: Any) -> None:
    rig = yield make_rig(tmp_path)
    client = Client(rig.port)
    try:
        yield threads.deferToThread(client.bind)
        [resp] = yield threads.deferToThread(client.submit, "13900000000", "cancel me")
        q = yield threads.deferToThread(_query, client, resp.message_id)
        assert (q.command, q.status, q.message_state) == ("query_sm_resp", 0, 1)  # ENROUTE: waiting
        c = yield threads.deferToThread(_cancel, rig.port, resp.message_id)
        assert (c.command, c.status) == ("cancel_sm_resp", 0)
        again = yield threads.deferToThread(_cancel, rig.port, resp.message_id)
        assert again.status == smpplib.consts.SMPP_ESME_RCANCELFAIL
        q = yield threads.deferToThread(_query, client, resp.message_id)
        assert q.message_state == 4  # DELETED
        unknown = yield threads.deferToThread(_query, client, b"ffffffffff")
        assert unknown.status == smpplib.consts.SMPP_ESME_RQUERYFAIL
    finally:
        yield threads.deferToThread(client.close)
        yield rig.close()


def _raw(port: int, *requests: Any) -> list[Any]:
    """A transmitter bind with our own encoder, for PDUs smpplib lacks (cancel_sm, replace_sm)."""
    import socket

    from smsgw.session.codecs import codec_for

    codec = codec_for("smpp34")
    framer = codec.framer()
    got: list[Any] = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        def read(n: int) -> None:
            while len(got) < n:
                got.extend(codec.decode(f) for f in framer.feed(sock.recv(4096)))

        sock.sendall(codec.encode(Pdu("bind_transmitter", 1, {"system_id": "demo", "password": "demo"})))
        read(1)
        for i, request in enumerate(requests, start=2):
            sock.sendall(codec.encode(Pdu(request[0], i, request[1])))
            read(i)
    return got[1:]


@pytest_twisted.inlineCallbacks
def test_replace_a_waiting_message(tmp_path: Any) -> None:
    rig = yield make_rig(tmp_path)
    client = Client(rig.port)
    try:
        yield threads.deferToThread(client.bind)
        [resp] = yield threads.deferToThread(client.submit, "13900000001", "old text")
        mid = resp.message_id.decode()
        [ok, too_long] = yield threads.deferToThread(
            _raw, rig.port, ("replace_sm", {"message_id": mid, "source_addr": "1065", "short_message": b"new text"}),
            ("replace_sm", {"message_id": mid, "source_addr": "1065", "short_message": b"x" * 200}))
        assert ok.status == 0
        assert too_long.status == smpplib.consts.SMPP_ESME_RREPLACEFAIL  # would need 2 segments: charge differs
        message = yield rig.store.get_message(ids.from_text(mid))
        assert message.text == "new text"
        [segment] = yield rig.store.claim_due(int(time.time() * 1000) + 1000, 10)
        assert segment.payload == b"new text"
    finally:
        yield threads.deferToThread(client.close)
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_number_portability_override_wins_over_the_prefix(tmp_path: Any) -> None:
    from smsgw.pipeline.overrides import Portability
    from smsgw.store.lists import SetPortability

    rig = yield make_rig(tmp_path)
    portability = Portability(rig.store)
    rig.intake.portability = portability.current
    client = Client(rig.port)
    try:
        yield rig.store.run(SetPortability("13800138123", "ctcc", int(time.time() * 1000), "test"))
        assert (yield portability.refresh()) == 1
        yield threads.deferToThread(client.bind)
        [moved] = yield threads.deferToThread(client.submit, "13800138123", "moved to telecom")
        [stayed] = yield threads.deferToThread(client.submit, "13800138124", "still mobile")
        for resp, carrier in ((moved, "ctcc"), (stayed, "cmcc")):
            message = yield rig.store.get_message(ids.from_text(resp.message_id.decode()))
            assert message.carrier == carrier
    finally:
        yield threads.deferToThread(client.close)
        yield rig.close()
