"""Flow control on a live SMPP socket: the client's window, back-pressure towards clients that stop
reading, enquire_link probing of idle clients, and the other submissions (submit_multi, data_sm).

The listener registers each connection as the transport's push producer
(``net.smpp_listener``): when a client stops reading and our write buffer
fills, the connection is paused — its requests are no longer read and the
notifier stops offering it deliveries — so the gateway never buffers without
bound.  The socket buffers of both ends are shrunk so that "full" is reached
with kilobytes instead of the kernel's megabytes.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest_twisted
import sqlalchemy as sa
from twisted.internet.defer import gatherResults, inlineCallbacks

from smsgw.codec import Pdu
from smsgw.domain import ids
from smsgw.domain.model import MessageState, MoMessage
from smsgw.pipeline.notifier import NotifierConfig
from smsgw.protocols.smpp34.status import CommandStatus as S
from smsgw.session.smpp_server import Timers
from smsgw.store import multi, schema
from tests.gateway.rig import make_rig
from tests.gateway.wire_client import CODEC, Stall, buffered, connect, server_side, sleep, until, within

#: Twisted pauses a producer when its transport holds more than this (abstract.FileDescriptor.bufferSize)
TWISTED_BUFFER = 65536
SMALL_SOCKET_BUFFER = 4096


def _outbox_count(conn: Any) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(schema.outbox)).scalar_one())


@inlineCallbacks
def _until_outbox_empty(rig: Any, timeout: float = 5.0) -> Any:
    left = -1
    for _ in range(int(timeout / 0.05)):
        left = yield rig.store.read(_outbox_count)
        if left == 0:
            return
        yield sleep(0.05)
    raise AssertionError(f"{left} item(s) still in the outbox after {timeout}s")


def _messages(conn: Any) -> list[Any]:
    return list(conn.execute(sa.select(schema.messages.c.dest_addr, schema.messages.c.text,
                                       schema.messages.c.parts).order_by(schema.messages.c.id)))


def _shrink_server_send_buffer(rig: Any, client: Any) -> Any:
    conn = server_side(rig._listening.factory, client.transport.getHost().port)
    assert conn is not None
    conn.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_SOCKET_BUFFER)
    return conn


def _pile_up_mo(rig: Any, count: int, size: int) -> Any:
    now = int(time.time() * 1000)
    return gatherResults([
        rig.store.record_mo(MoMessage(id=rig.intake.ids.next(), carrier="cmcc", source_addr=f"1380000{i:04d}",
                                      dest_addr="10690008888", content=(b"%06d" % i) + b"m" * (size - 6),
                                      received_at=now, account_id=rig.account.id))
        for i in range(count)
    ])


# ---------------------------------------------------------------------- window


@pytest_twisted.inlineCallbacks
def test_requests_beyond_the_window_are_throttled_and_the_window_reopens(tmp_path: Any) -> None:
    rig = yield make_rig(tmp_path)
    rig._listening.factory.window = 8
    client = yield connect(rig.port)
    try:
        assert (yield within(client.bind())).status == 0
        stalled = rig.store.run(Stall(0.5))  # nothing commits while the 20 arrive: 8 stay in flight
        wire = b"".join(CODEC.encode(Pdu("submit_sm", 100 + i, {"destination_addr": f"1380000{i:04d}",
                                                               "short_message": b"w"})) for i in range(20))
        client.send_raw(wire)
        answers = yield within(gatherResults([client.expect(100 + i) for i in range(20)]))
        yield within(stalled)
        statuses = [a.status for a in answers]
        assert statuses[:8] == [0] * 8  # the first eight fill the window ...
        assert statuses[8:] == [S.ESME_RTHROTTLED] * 12  # ... and are answered after the commit
        assert all(a.command == "submit_sm_resp" for a in answers)
        # the window is open again once answered
        again = yield within(gatherResults([client.submit(f"1390000{i:04d}") for i in range(8)]))
        assert [a.status for a in again] == [0] * 8
    finally:
        client.abort()
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_a_sequence_number_already_in_flight_is_throttled(tmp_path: Any) -> None:
    rig = yield make_rig(tmp_path)
    client = yield connect(rig.port)
    try:
        assert (yield within(client.bind())).status == 0
        stalled = rig.store.run(Stall(0.3))
        one = CODEC.encode(Pdu("submit_sm", 42, {"destination_addr": "13800138000", "short_message": b"a"}))
        client.send_raw(one + one)
        yield within(stalled)
        yield until(lambda: len(client.received) >= 3, what="two answers")
        first, second = client.received[1:3]
        assert (first.status, first.sequence) == (S.ESME_RTHROTTLED, 42)  # the duplicate, answered at once
        assert (second.status, second.sequence) == (0, 42)
    finally:
        client.abort()
        yield rig.close()


# ---------------------------------------------------------------------- back-pressure


@pytest_twisted.inlineCallbacks
def test_a_receiver_that_stops_reading_is_paused_not_buffered(tmp_path: Any) -> None:
    """1000 MO messages of 1 kB pile up for a receiver that never reads.  Its deliveries time out and are
    offered again and again, but once Twisted's 64 kB write buffer is full the connection is paused: the
    buffer stops growing and the notifier stops offering to it.  Another receiver of the same account takes
    everything; when the slow one reads again it is resumed and served."""
    count, size = 1000, 1000
    rig = yield make_rig(tmp_path, timers=Timers(enquire_link_interval=300, response_timeout=0.3))
    rig.notifier.config = NotifierConfig(retry_after=0.1)  # a timed-out delivery comes back at once
    slow = yield connect(rig.port, receive_buffer=SMALL_SOCKET_BUFFER)
    other = None
    try:
        assert (yield within(slow.bind(mode="receiver"))).status == 0
        conn = _shrink_server_send_buffer(rig, slow)
        slow.stop_reading()
        yield within(_pile_up_mo(rig, count, size), 20)
        rig.notifier.wake(rig.account.id)
        yield until(lambda: conn.paused, timeout=10, what="the connection to be paused")
        yield sleep(1.0)  # several more response timeouts: any further offer would land in the buffer
        offered = conn.session._next_sequence  # deliver_sm (and enquire_link) we have sent it so far
        assert buffered(conn.transport) <= TWISTED_BUFFER + 2 * size
        assert not conn.can_deliver()

        # another bind of the same account works normally and receives everything
        other = yield connect(rig.port)
        assert (yield within(other.bind())).status == 0
        assert (yield within(other.submit())).status == 0
        yield until(lambda: rig.notifier.acked >= count, timeout=20, what="the other receiver to take all")
        assert conn.paused and buffered(conn.transport) <= TWISTED_BUFFER + 2 * size
        assert conn.session._next_sequence == offered  # nothing more was offered to the paused one
        yield _until_outbox_empty(rig)  # acknowledgements are written after they are counted
        got = {p.fields["tlvs"]["message_payload"][:6] for p in other.received if p.command == "deliver_sm"}
        assert got == {b"%06d" % i for i in range(count)}

        # the slow receiver reads again: it gets every byte we wrote it, and is resumed
        slow.start_reading()
        yield until(lambda: not conn.paused, what="the connection to be resumed")
        yield until(lambda: sum(p.command == "deliver_sm" for p in slow.received) == offered - 1, timeout=10,
                    what="the slow receiver to read its backlog")
        rig.notifier.wake(rig.account.id)
        yield within(_pile_up_mo(rig, 1, size))
        rig.notifier.wake(rig.account.id)
        yield until(lambda: rig.notifier.acked >= count + 1, timeout=10, what="the next message delivered")
    finally:
        slow.abort()
        if other is not None:
            other.abort()
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_a_paused_receiver_gets_the_rest_as_soon_as_it_reads_again(tmp_path: Any) -> None:
    """A receiver paused in the middle of a burst is served again as soon as it reads, not at the
    notifier's next sweep (set to a minute here, so only the wake-ups can deliver in time).

    Fails until the notifier gives back what it could not hand to a paused connection as due *now*
    (``Notifier._drain`` retries it one second later, and nothing wakes it then)."""
    count, size = 500, 1000
    rig = yield make_rig(tmp_path)
    rig.notifier.config = NotifierConfig(window=count, page=count, sweep_every=60.0)
    client = yield connect(rig.port, receive_buffer=SMALL_SOCKET_BUFFER)
    try:
        assert (yield within(client.bind(mode="receiver"))).status == 0
        conn = _shrink_server_send_buffer(rig, client)
        client.stop_reading()
        yield within(_pile_up_mo(rig, count, size), 20)
        rig.notifier.wake(rig.account.id)
        yield until(lambda: conn.paused, what="the connection to be paused")
        assert rig.notifier.sent < count
        yield sleep(0.2)
        client.start_reading()
        yield until(lambda: rig.notifier.acked == count, timeout=4, what="the rest delivered after the pause")
        got = {p.fields["tlvs"]["message_payload"][:6] for p in client.received if p.command == "deliver_sm"}
        assert got == {b"%06d" % i for i in range(count)}
    finally:
        client.abort()
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_a_client_flooding_requests_without_reading_answers_is_not_read(tmp_path: Any) -> None:
    """20,000 enquire_link without reading one answer: the server stops reading the client (its bytes wait
    in the client's own buffers), keeps its write buffer bounded, and answers all of them once the client
    reads again."""
    rig = yield make_rig(tmp_path)
    # small buffers at both ends, the server's inherited from its listening socket
    rig._listening.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_SOCKET_BUFFER)
    flood = yield connect(rig.port, receive_buffer=SMALL_SOCKET_BUFFER, send_buffer=SMALL_SOCKET_BUFFER)
    witness = yield connect(rig.port)
    try:
        assert (yield within(flood.bind(mode="transmitter"))).status == 0
        assert (yield within(witness.bind())).status == 0
        conn = _shrink_server_send_buffer(rig, flood)
        flood.stop_reading()
        n = 20_000
        flood.send_raw(b"".join(CODEC.encode(Pdu("enquire_link", 1000 + i)) for i in range(n)))
        yield until(lambda: conn.paused, what="the connection to be paused")
        yield sleep(0.5)
        # one read of requests may still be answered after the pause: at most ~64 kB of answers more
        assert buffered(conn.transport) <= 2 * TWISTED_BUFFER + 4096
        assert buffered(flood.transport) > 0  # the server is not reading: our requests wait on our side
        assert (yield within(witness.submit())).status == 0  # others are served meanwhile
        flood.start_reading()
        yield until(lambda: len(flood.received) == n + 1, timeout=20, what="all answers")
        assert [p.sequence for p in flood.received[1:]] == list(range(1000, 1000 + n))
        assert all(p.command == "enquire_link_resp" and p.status == 0 for p in flood.received[1:])
        yield until(lambda: not conn.paused, what="the connection to be resumed")
    finally:
        flood.abort()
        witness.abort()
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_receipts_held_back_by_a_pause_go_out_when_it_ends(tmp_path: Any) -> None:
    """A transceiver paused by its own flood of requests misses the reports that arrive meanwhile; when it
    reads again the listener wakes the notifier (``SmppApplication.writable``): no wait for the sweep."""
    rig = yield make_rig(tmp_path)
    rig.notifier.config = NotifierConfig(sweep_every=60.0)
    rig._listening.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_SOCKET_BUFFER)
    client = yield connect(rig.port, receive_buffer=SMALL_SOCKET_BUFFER, send_buffer=SMALL_SOCKET_BUFFER)
    try:
        assert (yield within(client.bind())).status == 0
        conn = _shrink_server_send_buffer(rig, client)
        client.stop_reading()
        n = 20_000
        client.send_raw(b"".join(CODEC.encode(Pdu("enquire_link", 1000 + i)) for i in range(n)))
        yield until(lambda: conn.paused, what="the connection to be paused")
        yield within(_pile_up_mo(rig, 5, 100))
        rig.notifier.wake(rig.account.id)
        yield sleep(0.2)
        assert rig.notifier.sent == 0  # paused: nothing offered
        client.start_reading()
        yield until(lambda: len([p for p in client.received if p.command == "enquire_link_resp"]) == n, timeout=20,
                    what="all answers")
        yield until(lambda: rig.notifier.acked == 5, timeout=3, what="the held-back MO delivered")
    finally:
        client.abort()
        yield rig.close()


# ---------------------------------------------------------------------- enquire_link probing


PROBE = Timers(enquire_link_interval=0.3, response_timeout=0.5, bind_timeout=3.0)


@pytest_twisted.inlineCallbacks
def test_an_idle_client_that_answers_probes_stays_bound(tmp_path: Any) -> None:
    rig = yield make_rig(tmp_path, timers=PROBE)
    client = yield connect(rig.port)
    try:
        assert (yield within(client.bind())).status == 0
        yield sleep(2.0)
        probes = [p for p in client.received if p.command == "enquire_link"]
        assert len(probes) >= 3  # about one per interval of silence
        assert not client.is_closed and rig.intake.bind_count(rig.account.id) == 1
        assert (yield within(client.submit())).status == 0
    finally:
        client.abort()
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_an_idle_client_that_does_not_answer_is_dropped(tmp_path: Any) -> None:
    rig = yield make_rig(tmp_path, timers=PROBE)
    silent = yield connect(rig.port, auto_answer=False)
    try:
        started = time.monotonic()  # the bind itself takes a while (password hashing)
        assert (yield within(silent.bind(mode="receiver"))).status == 0
        yield within(silent.closed, 8)
        took = time.monotonic() - started
        assert [p.command for p in silent.received] == ["bind_receiver_resp", "enquire_link"]
        assert PROBE.enquire_link_interval + PROBE.response_timeout - 0.1 <= took < 6
        yield until(lambda: rig.intake.bind_count(rig.account.id) == 0, what="the bind to be released")
    finally:
        silent.abort()
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_a_connection_that_never_binds_is_closed(tmp_path: Any) -> None:
    rig = yield make_rig(tmp_path, timers=PROBE)
    lurker = yield connect(rig.port)
    try:
        started = time.monotonic()
        yield within(lurker.closed, 8)
        assert lurker.received == [] and time.monotonic() - started >= PROBE.bind_timeout - 0.1
        assert len(rig.intake_factory_connections()) == 0
    finally:
        lurker.abort()
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_a_silent_client_with_a_full_write_buffer_is_dropped_too(tmp_path: Any) -> None:
    """The probe's timeout must free the connection even when our bytes to it cannot drain: a polite
    close (flush, then FIN) would wait for a reader that never comes, holding the socket and its buffer."""
    rig = yield make_rig(tmp_path, timers=PROBE)
    rig.notifier.config = NotifierConfig(window=500, page=500)
    stuck = yield connect(rig.port, receive_buffer=SMALL_SOCKET_BUFFER)
    try:
        assert (yield within(stuck.bind(mode="receiver"))).status == 0
        conn = _shrink_server_send_buffer(rig, stuck)
        stuck.stop_reading()
        yield within(_pile_up_mo(rig, 500, 1000), 20)
        rig.notifier.wake(rig.account.id)
        yield until(lambda: conn.paused, what="the connection to be paused")
        yield until(lambda: len(rig.intake_factory_connections()) == 0, timeout=5,
                    what="the unanswering, unreading client to be dropped")
        assert rig.intake.bind_count(rig.account.id) == 0
    finally:
        stuck.abort()
        yield rig.close()


# ---------------------------------------------------------------------- submit_multi, data_sm


def _multi(dests: list[str], **fields: Any) -> dict[str, Any]:
    return {"source_addr": "1065", "data_coding": 8, "short_message": "群发测试".encode("utf-16-be"),
            "dest_address": [{"dest_flag": 1, "dest_addr_ton": 0, "dest_addr_npi": 0, "destination_addr": d}
                             for d in dests], **fields}


@pytest_twisted.inlineCallbacks
def test_submit_multi_stores_one_message_per_valid_destination_under_one_id(tmp_path: Any) -> None:
    rig = yield make_rig(tmp_path)
    client = yield connect(rig.port)
    try:
        assert (yield within(client.bind(mode="transmitter"))).status == 0
        dests = [
            {"dest_flag": 1, "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "8613800138000"},
            {"dest_flag": 1, "dest_addr_ton": 0, "dest_addr_npi": 0, "destination_addr": "+15555550100"},
            {"dest_flag": 2, "dl_name": "friends"},
            {"dest_flag": 1, "dest_addr_ton": 0, "dest_addr_npi": 0, "destination_addr": "18612345678"},
        ]
        resp = yield within(client.request("submit_multi", {**_multi([]), "dest_address": dests,
                                                            "registered_delivery": 1}))
        assert (resp.command, resp.status) == ("submit_multi_resp", 0)
        failed = {(u["destination_addr"], u["error_status_code"]) for u in resp.fields["unsuccess_sme"]}
        assert failed == {("+15555550100", S.ESME_RINVDSTADR), ("friends", S.ESME_RCNTSUBDL)}
        # the id names the submission: no message of its own, one per destination under it
        submission = ids.from_text(resp.fields["message_id"])
        assert (yield rig.store.get_message(submission)) is None
        members = yield rig.store.read(multi.members, submission)
        assert [(m.dest_addr, m.text, m.carrier) for m in members] == [
            ("13800138000", "群发测试", "cmcc"), ("18612345678", "群发测试", "cucc")]
        stored = yield rig.store.read(_messages)
        assert [(m.dest_addr, m.text) for m in stored] == [("13800138000", "群发测试"), ("18612345678", "群发测试")]

        # every destination failed: an error status, and the body still says why for each (SMPP-E01)
        nobody = yield within(client.request("submit_multi", {**_multi(["+15555550100"]), "dest_address": [
            {"dest_flag": 2, "dl_name": "all"},
            {"dest_flag": 1, "dest_addr_ton": 0, "dest_addr_npi": 0, "destination_addr": "+15555550100"}]}))
        assert (nobody.command, nobody.status) == ("submit_multi_resp", S.ESME_RSUBMITFAIL)
        assert nobody.fields == {"message_id": "", "unsuccess_sme": [
            {"dest_addr_ton": 0, "dest_addr_npi": 0, "destination_addr": "all", "error_status_code": S.ESME_RCNTSUBDL},
            {"dest_addr_ton": 0, "dest_addr_npi": 0, "destination_addr": "+15555550100",
             "error_status_code": S.ESME_RINVDSTADR}]}
        # one reason for all: that reason is the answer's status
        lists = yield within(client.request("submit_multi", {**_multi([]), "dest_address": [
            {"dest_flag": 2, "dl_name": "all"}]}))
        assert (lists.status, lists.fields["message_id"]) == (S.ESME_RCNTSUBDL, "")
        assert len((yield rig.store.read(_messages))) == 2
    finally:
        client.abort()
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_submit_multi_receipts_query_and_cancel_use_the_one_id(tmp_path: Any) -> None:
    rig = yield make_rig(tmp_path)
    client = yield connect(rig.port)
    try:
        assert (yield within(client.bind())).status == 0
        dests = ["13800138000", "18612345678"]
        resp = yield within(client.request("submit_multi", _multi(dests, registered_delivery=1,
                                                                  validity_period="000000000001000R")))
        shown = resp.fields["message_id"]
        query = yield within(client.request("query_sm", {"message_id": shown, "source_addr": "1065"}))
        assert (query.status, query.fields["message_state"]) == (0, 1)  # ENROUTE while any is on its way

        # both expire: each receipt names the submission, the phone tells them apart
        yield sleep(1.1)  # the validity period of one second is over
        assert (yield rig.store.expire(int(time.time() * 1000))) == 2
        rig.notifier.wake(None)  # what the gateway's housekeeping does after an expiry
        yield until(lambda: len([p for p in client.received if p.command == "deliver_sm"]) == 2)
        receipts = [p for p in client.received if p.command == "deliver_sm"]
        assert sorted(p.fields["source_addr"] for p in receipts) == dests
        for receipt in receipts:
            assert receipt.fields["esm_class"] == 0x04
            assert receipt.fields["tlvs"]["receipted_message_id"] == shown
            assert receipt.fields["short_message"].startswith(f"id:{shown} ".encode())
        query = yield within(client.request("query_sm", {"message_id": shown, "source_addr": "1065"}))
        assert (query.status, query.fields["message_state"]) == (0, 3)  # EXPIRED
        assert query.fields["final_date"]

        # cancel_sm on the id withdraws every destination's message
        second = yield within(client.request("submit_multi", _multi(dests)))
        cancel = yield within(client.request("cancel_sm", {"message_id": second.fields["message_id"],
                                                           "source_addr": "1065"}))
        assert cancel.status == 0
        members = yield rig.store.read(multi.members, ids.from_text(second.fields["message_id"]))
        assert [(m.state, m.reason) for m in members] == [(MessageState.REJECTED, "cancelled by client")] * 2
        again = yield within(client.request("cancel_sm", {"message_id": second.fields["message_id"],
                                                          "source_addr": "1065"}))
        assert again.status == S.ESME_RCANCELFAIL
        query = yield within(client.request("query_sm", {"message_id": second.fields["message_id"],
                                                         "source_addr": "1065"}))
        assert query.fields["message_state"] == 4  # DELETED
    finally:
        client.abort()
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_data_sm_with_a_long_payload_is_split_and_stored(tmp_path: Any) -> None:
    rig = yield make_rig(tmp_path)
    client = yield connect(rig.port)
    try:
        assert (yield within(client.bind())).status == 0
        text = "数据短消息的长内容，" * 10  # 100 characters: two UCS2 segments
        resp = yield within(client.request("data_sm", {
            "source_addr": "1065", "destination_addr": "13300000000", "data_coding": 8, "registered_delivery": 1,
            "tlvs": {"message_payload": text.encode("utf-16-be")}}))
        assert (resp.command, resp.status) == ("data_sm_resp", 0)
        message = yield rig.store.get_message(ids.from_text(resp.fields["message_id"]))
        assert message.text == text and message.parts == 2 and message.carrier == "ctcc"
        assert message.state is MessageState.QUEUED

        bad = yield within(client.request("data_sm", {"source_addr": "1065", "destination_addr": "not a number",
                                                      "tlvs": {"message_payload": b"hi"}}))
        assert (bad.command, bad.status) == ("data_sm_resp", S.ESME_RINVDSTADR)
    finally:
        client.abort()
        yield rig.close()
