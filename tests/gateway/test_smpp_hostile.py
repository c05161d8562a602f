"""Malformed and hostile input over a live socket: the listener answers or closes, and keeps serving others.

SMPP 3.4 section 2.7 and 3.3: a PDU the SMSC cannot read gets generic_nack
(ESME_RINVCMDLEN for an impossible command_length, ESME_RINVCMDID for an
unknown command id); when the byte stream can no longer be framed the
connection is closed.  Every case runs beside a bound "witness" client that
must go on submitting as if nothing happened.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import gatherResults
from twisted.logger import globalLogPublisher

from smsgw.codec import Pdu
from smsgw.domain import ids
from smsgw.domain.model import MessageState
from smsgw.protocols.smpp34.commands import MAX_LENGTH
from smsgw.protocols.smpp34.status import CommandStatus as S
from smsgw.session.smpp_server import Timers
from tests.gateway.rig import make_rig
from tests.gateway.wire_client import CODEC, Stall, connect, sleep, until, within

BIND_TIMEOUT = 3.0  # longer than a bind takes on a loaded machine (password hashing)


def header(length: int, command_id: int, sequence: int = 1, status: int = 0) -> bytes:
    return struct.pack(">IIII", length, command_id, status, sequence)


def pdu(command: str, sequence: int, **fields: Any) -> bytes:
    return CODEC.encode(Pdu(command, sequence, fields))


def cut(data: bytes, n: int) -> bytes:
    """The PDU with its last ``n`` body bytes gone and command_length saying so (sm_length now lies)."""
    return struct.pack(">I", len(data) - n) + data[4:-n]


GARBAGE = b"\xde\xad\xbe\xef" + random.Random(7).randbytes(2044)
NACK = "generic_nack"

#: (id, bind first, bytes, answers as (command, status, sequence or None), closed afterwards)
CASES = [
    ("short-header", False, b"\x00\x00\x00\x10\x00\x00", [], True),  # closed by the bind timer, unanswered
    ("length-8", False, header(8, 0x15, 5), [(NACK, S.ESME_RINVCMDLEN, 5)], True),
    ("length-0", False, header(0, 0x15, 6), [(NACK, S.ESME_RINVCMDLEN, 6)], True),
    ("length-15", False, header(15, 0x15, 7) + b"\x00", [(NACK, S.ESME_RINVCMDLEN, 7)], True),
    ("length-above-max", False, header(MAX_LENGTH + 1, 0x04, 8) + b"\x00" * 64, [(NACK, S.ESME_RINVCMDLEN, 8)], True),
    ("length-4GiB", False, header(0xFFFFFFFF, 0x04, 9), [(NACK, S.ESME_RINVCMDLEN, 9)], True),
    ("unknown-command", False, header(16, 0x00001234, 10), [(NACK, S.ESME_RINVCMDID, 10)], False),
    ("unknown-command-with-body", False, header(24, 0x000000FF, 11) + b"\x01" * 8,
     [(NACK, S.ESME_RINVCMDID, 11)], False),
    ("http-request", False, b"GET / HTTP/1.1\r\nHost: smsgw\r\n\r\n", [(NACK, S.ESME_RINVCMDLEN, None)], True),
    ("random-bytes", False, GARBAGE, [(NACK, S.ESME_RINVCMDLEN, None)], True),
    ("bind-body-truncated", False, header(20, 0x09, 12) + b"demo", [("bind_transceiver_resp", S.ESME_RINVSYSID, 12)],
     False),
    ("unsolicited-response", False, header(16, 0x80000004, 13) + pdu("generic_nack", 14), [], False),
    ("request-before-bind", False, pdu("submit_sm", 15, destination_addr="13800138000", short_message=b"x"),
     [("submit_sm_resp", S.ESME_RINVBNDSTS, 15)], False),
    ("garbage-after-bind", True, b"\xff" * 32, [(NACK, S.ESME_RINVCMDLEN, None)], True),
    ("submit-body-truncated", True, header(17, 0x04, 16) + b"\x00", [("submit_sm_resp", None, 16)], False),
    ("sm-length-beyond-body", True, cut(pdu("submit_sm", 17, destination_addr="13800138000",
                                             short_message=b"0123456789"), 4),
     [("submit_sm_resp", None, 17)], False),
    ("second-bind", True, pdu("bind_transmitter", 18, system_id="demo", password="demo"),
     [("bind_transmitter_resp", S.ESME_RALYBND, 18)], False),
]


@pytest.fixture
def failures() -> Any:
    """Failures the gateway logged while the test ran (a hostile client must not cause any)."""
    seen: list[Any] = []

    def observe(event: dict[str, Any]) -> None:
        if "log_failure" in event:
            seen.append(event)

    globalLogPublisher.addObserver(observe)
    yield seen
    globalLogPublisher.removeObserver(observe)


@pytest.mark.parametrize("name,bind_first,data,answers,closed", CASES, ids=[c[0] for c in CASES])
@pytest_twisted.inlineCallbacks
def test_malformed_input(tmp_path: Any, failures: list[Any], name: str, bind_first: bool, data: bytes,
                         answers: list[tuple[str, int | None, int | None]], closed: bool) -> None:
    rig = yield make_rig(tmp_path, timers=Timers(bind_timeout=BIND_TIMEOUT))
    witness = yield connect(rig.port)
    hostile = yield connect(rig.port)
    try:
        assert (yield within(witness.bind())).status == 0
        if bind_first:
            assert (yield within(hostile.bind())).status == 0
            hostile.received.clear()
        hostile.send_raw(data)
        if closed:
            yield within(hostile.closed, BIND_TIMEOUT + 4)
        else:
            yield until(lambda: len(hostile.received) >= len(answers), what=f"{len(answers)} answer(s)")
            # the session goes on: enquire_link is answered on the same connection
            probe = yield within(hostile.request("enquire_link"))
            assert (probe.command, probe.status) == ("enquire_link_resp", 0)
            assert not hostile.is_closed
        got = [p for p in hostile.received if p.command != "enquire_link_resp"]
        assert len(got) == len(answers), got
        for pdu_, (command, status, sequence) in zip(got, answers):
            assert pdu_.command == command
            if status is None:
                assert pdu_.status != 0  # refused, with the status of the field that failed
            else:
                assert pdu_.status == status
            if sequence is not None:
                assert pdu_.sequence == sequence
        if closed:
            yield until(lambda: len(rig.intake_factory_connections()) == 1, what="the server to drop the connection")
            assert rig.intake.bind_count(rig.account.id) == 1  # the witness only
        # the witness was never disturbed, and a new client binds and submits
        ok = yield within(witness.submit())
        assert ok.command == "submit_sm_resp" and ok.status == 0
        fresh = yield connect(rig.port)
        assert (yield within(fresh.bind(mode="transmitter"))).status == 0
        assert (yield within(fresh.submit("13900000000"))).status == 0
        fresh.abort()
        assert failures == []
    finally:
        witness.abort()
        hostile.abort()
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_a_bound_client_sending_garbage_is_closed_and_unbound(tmp_path: Any, failures: list[Any]) -> None:
    """After the nack and close the account's bind slot is free again (max_binds is not leaked)."""
    rig = yield make_rig(tmp_path)  # the rig's account allows 4 binds
    bound = []
    try:
        for _ in range(4):
            c = yield connect(rig.port)
            bound.append(c)
            assert (yield within(c.bind())).status == 0
        extra = yield connect(rig.port)
        bound.append(extra)
        assert (yield within(extra.bind())).status == S.ESME_RBINDFAIL  # all four are taken
        bound[0].send_raw(b"\x00\x00\x00\x05garbage")
        yield within(bound[0].closed)
        assert bound[0].received[-1].command == "generic_nack"
        yield until(lambda: rig.intake.bind_count(rig.account.id) == 3, what="the bind slot to be released")
        assert (yield within(extra.bind())).status == 0
        assert failures == []
    finally:
        for c in bound:
            c.abort()
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_many_hostile_connections_while_a_client_submits(tmp_path: Any, failures: list[Any]) -> None:
    rig = yield make_rig(tmp_path, timers=Timers(bind_timeout=BIND_TIMEOUT))
    witness = yield connect(rig.port)
    hostiles = []
    try:
        assert (yield within(witness.bind())).status == 0
        rng = random.Random(11)
        submits = []
        for i in range(40):
            h = yield connect(rig.port)
            hostiles.append(h)
            kind = i % 4
            if kind == 0:
                h.send_raw(header(rng.randrange(0, 16), 0x15, i))         # too short
            elif kind == 1:
                h.send_raw(header(MAX_LENGTH + rng.randrange(1, 1 << 20), 0x04, i))  # too long
            elif kind == 2:
                h.send_raw(b"\xff" * rng.randrange(4, 64))                  # noise
            else:
                h.send_raw(b"\x00\x00")                                     # half a header, then silence
            submits.append(witness.submit(f"138{i:08d}"))
        answers = yield within(gatherResults(submits), 10)
        assert [a.status for a in answers] == [0] * 40
        yield within(gatherResults([h.closed for h in hostiles]), BIND_TIMEOUT + 5)
        for i, h in enumerate(hostiles):
            # a bad length is nacked at once; half a header is never answered, closed by the bind timer
            assert [p.command for p in h.received] == ([] if i % 4 == 3 else ["generic_nack"])
        yield until(lambda: len(rig.intake_factory_connections()) == 1, what="only the witness left")
        assert failures == []
    finally:
        witness.abort()
        for h in hostiles:
            h.abort()
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_client_vanishing_with_requests_in_flight(tmp_path: Any, failures: list[Any]) -> None:
    """Submissions already read are still stored; their answers go nowhere, quietly; the bind is released."""
    rig = yield make_rig(tmp_path)
    client = yield connect(rig.port)
    try:
        assert (yield within(client.bind())).status == 0
        stalled = rig.store.run(Stall(0.5))  # the writer is busy: the submissions wait for their commit
        for i in range(20):
            client.send(Pdu("submit_sm", 100 + i, {"destination_addr": f"1390000{i:04d}", "short_message": b"bye"}))
        probe = yield within(client.request("enquire_link"))  # answered at once: all 20 were read
        assert probe.status == 0 and [p.command for p in client.received].count("submit_sm_resp") == 0
        client.abort()
        yield until(lambda: rig.intake.bind_count(rig.account.id) == 0, what="the bind to be released")
        yield within(stalled)
        stored = 0
        for _ in range(100):  # they commit in the batches after the stall
            stored = yield rig.store.read(_count_messages)
            if stored == 20:
                break
            yield sleep(0.05)
        assert stored == 20  # read before the abort: durable, even though nobody heard the answers
        assert failures == []
    finally:
        yield rig.close()


def _count_messages(conn: Any) -> int:
    import sqlalchemy as sa

    from smsgw.store import schema

    return int(conn.execute(sa.select(sa.func.count()).select_from(schema.messages)).scalar_one())


@pytest_twisted.inlineCallbacks
def test_byte_at_a_time_is_still_one_pdu(tmp_path: Any) -> None:
    """A client whose TCP stack trickles bytes (or a slow link) still gets each PDU read once."""
    rig = yield make_rig(tmp_path)
    client = yield connect(rig.port)
    try:
        assert (yield within(client.bind())).status == 0
        data = pdu("submit_sm", 77, destination_addr="13800138000", short_message="逐字节".encode("utf-16-be"),
                   data_coding=8)
        for i in range(len(data)):
            client.send_raw(data[i:i + 1])
            yield sleep(0.001)
        resp = yield within(client.expect(77))
        assert (resp.command, resp.status) == ("submit_sm_resp", 0)
        message = yield rig.store.get_message(ids.from_text(resp.fields["message_id"]))
        assert message.text == "逐字节" and message.state is MessageState.QUEUED
    finally:
        client.abort()
        yield rig.close()
