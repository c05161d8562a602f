"""Hostile carrier gateways: malformed PDUs over live sockets against our links (net/links).

A fake gateway on loopback (the test carriers of ``tests/links``, built from
our server sessions) answers the link's login, holds two of its submits
unanswered, then writes something hostile on the live connection: garbage,
lengths too small or too big, a PDU cut short, unknown command ids, answers
with wrong fields or for sequences we never sent, reports that cannot be read,
MO in encodings that do not decode.  For each case, on CMPP 2.0, CMPP 3.0,
SGIP 1.2 and SMGP 3.0:

* nothing fails in the process (no unhandled error is logged);
* the link either goes on over the same connection, or closes it and logs in
  again: every submit it had in flight gets exactly one outcome (``Submitted``
  when answered, ``Requeue`` when the connection went: nothing acknowledged is
  lost, nothing given up silently), and the next submit goes through;
* a healthy link group of another carrier on the same reactor keeps sending.

Then the other direction of SGIP: a hostile client on our SGIP listener (where
the SMG connects to push reports and MO) with garbage and bad binds; the
listener closes it and still takes a well-behaved SMG's reports.  Finally MO in
broken encodings through the whole gateway: stored and passed to the client.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path
from typing import Any, Callable, Iterator

import attrs
import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol

from smsgw.codec import Pdu
from smsgw.net.links.events import Refused, Requeue, Submitted
from smsgw.net.links.sgip import SgipListenerFactory
from smsgw.session.carrier_events import LoggedIn as CarrierLoggedIn
from smsgw.session.codecs import codec_for
from smsgw.session.report_smgp import make_msg_id as smgp_msg_id
from tests.faults.test_carrier_faults import SGIP_LISTENER, FaultGateway, capture_log, failures
from tests.gateway.wire_client import connect as smpp_connect
from tests.gateway.wire_client import until, within
from tests.links.carriers import NOW, CmppCarrier, SgipCallback, SgipCarrier, SmgpCarrier, listen, sleep, wait_for
from tests.links.fixtures import BASE, segment
from tests.links.rig import Rig

PROTOCOLS = ("cmpp20", "cmpp30", "sgip12", "smgp30")
HEADER = {"cmpp20": 12, "cmpp30": 12, "sgip12": 20, "smgp30": 12}
#: a sequence none of our submits has (SGIP: a triple of another node)
STRANGER = {"cmpp20": 0x7FFF0001, "cmpp30": 0x7FFF0001, "sgip12": (3999999999, 308093000, 77), "smgp30": 0x7FFF0001}
GARBAGE = b"\xde\xad\xbe\xef" + random.Random(3).randbytes(300)


@pytest.fixture
def logged() -> Iterator[list[dict[str, Any]]]:
    with capture_log() as events:
        yield events


def carrier_for(protocol: str) -> Any:
    base = BASE[protocol]
    if protocol.startswith("cmpp"):
        return CmppCarrier({base["login"]: base["secret"]})
    if protocol == "smgp30":
        return SmgpCarrier({base["login"]: base["secret"]})
    return SgipCarrier(base["login"], base["secret"])


def header(protocol: str, length: int, command_id: int, sequence: Any) -> bytes:
    if protocol == "sgip12":
        return struct.pack(">IIIII", length, command_id, *sequence)
    return struct.pack(">III", length, command_id, sequence)


def encode(protocol: str, command: str, sequence: Any, **fields: Any) -> bytes:
    return codec_for(protocol).encode(Pdu(command, sequence, fields))


def cut(data: bytes, n: int) -> bytes:
    """The PDU without its last ``n`` bytes, its length field saying so (the body is too short to read)."""
    return struct.pack(">I", len(data) - n) + data[4:-n]


def submit_resp(protocol: str, sequence: Any, code: int) -> bytes:
    if protocol == "sgip12":
        return encode(protocol, "submit_resp", sequence, result=code)
    if protocol == "smgp30":
        return encode(protocol, "submit_resp", sequence, msg_id=bytes(10), status=code)
    return encode(protocol, "submit_resp", sequence, msg_id=0, result=code)


def deliver(protocol: str, conn: Any, *, report: bool, coding: int, content: bytes) -> None:
    """A Deliver on the carrier's session (valid framing, the content as given), CMPP or SMGP."""
    if protocol == "smgp30":
        conn.session.deliver({"msg_id": smgp_msg_id("010061", NOW, 700001), "is_report": int(report),
                              "msg_format": coding, "recv_time": "20240308093100", "src_term_id": "13800138000",
                              "dest_term_id": "118900101", "msg_content": content}, 0.0)
    else:
        conn.session.deliver({"msg_id": 0xC0FFEE, "dest_id": "106590001201", "src_terminal_id": "13800138000",
                              "registered_delivery": int(report), "msg_fmt": coding, "msg_content": content}, 0.0)
    conn.flush()


@attrs.frozen
class Case:
    name: str
    #: write the hostile input on the carrier's connection ``conn``; ``held`` is one of our unanswered submits
    act: Callable[[str, Any, Any], None]
    #: our link closes the connection (and logs in again); else it goes on over it
    closes: bool
    #: the held submit gets an answer out of this case (a refusal with a code no table knows)
    refused: bool = False
    #: what the observer gets from it: "mo" (the undecodable text travels on as bytes) or nothing
    passes_on: str | None = None


def raw(make: Callable[[str, Any], bytes]) -> Callable[[str, Any, Any], None]:
    return lambda protocol, conn, held: conn.transport.write(make(protocol, held))


def _abort_after_half(protocol: str, conn: Any, held: Any) -> None:
    conn.transport.write(submit_resp(protocol, held, 0)[:7])
    conn.transport.abortConnection()


COMMON = [
    Case("garbage", raw(lambda p, held: GARBAGE), closes=True),
    Case("length-zero", raw(lambda p, held: header(p, 0, 0x80000004, STRANGER[p])), closes=True),
    Case("length-below-header", raw(lambda p, held: header(p, HEADER[p] - 1, 0x80000004, STRANGER[p]) + b"\x00"),
         closes=True),
    Case("length-above-max", raw(lambda p, held: header(p, codec_for(p).spec.max_length + 1, 0x00000005, STRANGER[p])
                                 + b"\x00" * 64), closes=True),
    Case("length-4GiB", raw(lambda p, held: header(p, 0xFFFFFFFF, 0x00000005, STRANGER[p])), closes=True),
    Case("half-a-pdu-then-gone", _abort_after_half, closes=True),
    Case("unknown-response-id", raw(lambda p, held: header(p, HEADER[p] + 4, 0x80000077, STRANGER[p]) + b"\x00" * 4),
         closes=False),
    Case("answer-to-a-stranger", raw(lambda p, held: submit_resp(p, STRANGER[p], 0)), closes=False),
    Case("answer-cut-short", raw(lambda p, held: cut(submit_resp(p, held, 0), 2)), closes=False),
    Case("answer-with-an-unknown-code", raw(lambda p, held: submit_resp(p, held, 201)), closes=False, refused=True),
    Case("answer-twice", raw(lambda p, held: submit_resp(p, held, 201) + submit_resp(p, held, 0)), closes=False,
         refused=True),
]
CMPP_AND_SMGP = [
    Case("unknown-request-id", raw(lambda p, held: header(p, HEADER[p] + 4, 0x00000077, STRANGER[p]) + b"\x00" * 4),
         closes=False),
    Case("report-unreadable", lambda p, conn, held: deliver(p, conn, report=True, coding=0, content=b"\x01\x02short"),
         closes=False),
    Case("mo-odd-ucs2", lambda p, conn, held: deliver(p, conn, report=False, coding=8, content=b"\x4f\x60\x59"),
         closes=False, passes_on="mo"),
    Case("mo-bad-gbk", lambda p, conn, held: deliver(p, conn, report=False, coding=15, content=b"\xff\xfe\x81"),
         closes=False, passes_on="mo"),
]
SGIP_ONLY = [
    # only the connecting side sends requests on a connection (spec 3.7.2): an unknown one cannot be answered
    Case("unknown-request-id", raw(lambda p, held: header(p, 24, 0x00000077, STRANGER[p]) + b"\x00" * 4),
         closes=True),
    Case("report-on-the-submit-link", raw(lambda p, held: encode(
        p, "report", STRANGER[p], submit_sequence_number=held, report_type=0, user_number="8613800138000", state=0,
        error_code=0)), closes=False),
]


def cases(protocol: str) -> list[Case]:
    return COMMON + (SGIP_ONLY if protocol == "sgip12" else CMPP_AND_SMGP)


HEALTHY = "smgp30"


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest_twisted.ensureDeferred
async def test_a_hostile_gateway_never_takes_the_link_down_for_good(protocol: str, logged: list[Any]) -> None:
    r = await Rig(carrier_for(protocol), protocol).start(reconnect_min=0.05, reconnect_max=0.2, response_timeout=5.0)
    healthy = await Rig(carrier_for(HEALTHY), HEALTHY).start()
    seen: list[tuple[str, str]] = []
    try:
        for n, case in enumerate(cases(protocol)):
            seen.append((case.name, await run_case(r, protocol, case, 100 * n)))
            assert isinstance(await healthy.send(segment(n)), Submitted), case.name  # the other carrier: unharmed
            assert failures(logged) == [], case.name
    finally:
        await r.close()
        await healthy.close()
    assert r.group.state.in_flight == 0
    print(protocol, f"{len(seen)} cases, logins {len(r.carrier.logins)}:", seen)


async def run_case(r: Rig, protocol: str, case: Case, n: int) -> str:
    """One hostile input with two submits in flight; returns how the link dealt with it."""
    carrier = r.carrier
    carrier.mode = "hold"
    carrier.held.clear()
    pending = [r.send(segment(n + 1)), r.send(segment(n + 2))]
    await wait_for(lambda: len(carrier.held) == 2, what=f"{case.name}: two submits held")
    [(conn, first), (_, second)] = carrier.held
    logins = len(carrier.logins)
    mos = len(r.observer.mos)
    case.act(protocol, conn, first)
    if case.closes:
        outcomes = [await within(d, 10) for d in pending]
        assert all(isinstance(o, Requeue) for o in outcomes), (case.name, outcomes)
        await wait_for(lambda: conn not in carrier.connections, what=f"{case.name}: the connection closed")
        how = "closed, sends handed back"
    else:
        await sleep(0.1)
        assert conn in carrier.connections and len(carrier.logins) == logins, case.name  # the same connection
        carrier.mode = "accept"
        if case.refused:
            outcome = await within(pending[0], 5)
            assert isinstance(outcome, Refused) and outcome.code == "201", (case.name, outcome)
        else:
            carrier.answer(conn, first)
            assert isinstance(await within(pending[0], 5), Submitted), case.name
        carrier.answer(conn, second)
        assert isinstance(await within(pending[1], 5), Submitted), case.name
        how = "kept"
    if case.passes_on == "mo":
        await wait_for(lambda: len(r.observer.mos) == mos + 1, what=f"{case.name}: the MO")
    carrier.mode = "accept"
    after = await within(r.send(segment(n + 3)), 10)  # the link works again (a new login if it closed)
    assert isinstance(after, Submitted), (case.name, after)
    if case.closes:
        assert len(carrier.logins) == logins + 1, case.name
    assert r.group.state.in_flight == 0, case.name
    return how


# ---------------------------------------------------------------------- the SGIP listener


class Raw(Protocol):
    """A client that writes what it is told and records whether the server closed on it."""

    def __init__(self) -> None:
        self.received = b""
        self.closed = False

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Any = None) -> None:
        self.closed = True


def _bind(login_type: int, name: str, password: str) -> bytes:
    return encode("sgip12", "bind", STRANGER["sgip12"], login_type=login_type, login_name=name,
                  login_password=password)


LISTENER_CASES = [
    ("garbage", GARBAGE),
    ("length-above-max", header("sgip12", 1 << 20, 0x00000001, STRANGER["sgip12"])),
    ("report-before-bind", encode("sgip12", "report", STRANGER["sgip12"], submit_sequence_number=(1, 2, 3),
                                  report_type=0, user_number="8613800138000", state=0, error_code=0)),
    ("bind-wrong-password", _bind(2, SGIP_LISTENER.login, "guess")),
    ("bind-wrong-login-type", _bind(1, SGIP_LISTENER.login, SGIP_LISTENER.secret)),
    ("bind-cut-short", cut(_bind(2, SGIP_LISTENER.login, SGIP_LISTENER.secret), 10)),
    ("bound-then-garbage", _bind(2, SGIP_LISTENER.login, SGIP_LISTENER.secret) + b"\xff" * 40),
    ("bound-then-unknown-request", _bind(2, SGIP_LISTENER.login, SGIP_LISTENER.secret)
     + header("sgip12", 24, 0x00000077, STRANGER["sgip12"]) + b"\x00" * 4),
]


@pytest_twisted.ensureDeferred
async def test_hostile_clients_on_the_sgip_listener_are_closed_and_a_real_smg_still_reports(
        logged: list[Any]) -> None:
    r = await Rig(carrier_for("sgip12"), "sgip12").start()
    factory = SgipListenerFactory(attrs.evolve(SGIP_LISTENER, login_timeout=1.0), r.group, reactor)
    port = await listen(factory)
    r.extra_ports.append(port)
    number = port.getHost().port
    smg = SgipCallback(SGIP_LISTENER.login, SGIP_LISTENER.secret)
    try:
        hostile = []
        for name, data in LISTENER_CASES:
            client = Raw()
            await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", number), client)
            client.transport.write(data)
            hostile.append((name, client))
        await wait_for(lambda: all(c.closed for _, c in hostile), timeout=5, what="every hostile client closed")
        await wait_for(lambda: not factory.connections, what="the listener to forget them")
        answered = {name: len(c.received) > 0 for name, c in hostile}
        assert answered["bind-wrong-password"] and answered["bind-wrong-login-type"]  # told, then closed
        outcome = await r.send(segment())
        assert isinstance(outcome, Submitted)
        await smg.connect(number)
        await wait_for(lambda: any(isinstance(e, CarrierLoggedIn) for e in smg.events), what="the SMG's bind")
        smg.report(outcome.carrier_msg_id, state=0)
        smg.deliver("1065591201", "回复")
        await wait_for(lambda: r.observer.reports and r.observer.mos, what="the real SMG's report and MO")
        assert r.observer.reports[0].carrier_msg_id == outcome.carrier_msg_id
        [mo] = r.observer.mos
        assert mo.content.decode("utf-16-be") == "回复" and mo.dest_addr == "1065591201"
        assert failures(logged) == []
    finally:
        smg.close()
        await r.close()


# ---------------------------------------------------------------------- MO that does not decode, end to end


@pytest_twisted.ensureDeferred
async def test_mo_in_broken_encodings_reaches_the_client_as_bytes(tmp_path: Path, logged: list[Any]) -> None:
    """Odd-length UCS2, bytes that are no GBK, 8-bit bytes said to be ASCII: each carrier's MO is stored
    and handed to the receiver as it came (the gateway does not decode what it passes on)."""
    gw = FaultGateway(tmp_path)
    try:
        await gw.start()
        receiver = await smpp_connect(gw.port)
        assert (await within(receiver.bind(mode="receiver"), 15)).status == 0
        links = {link.protocol[:4]: link for link in gw.config.links}
        broken = [(8, b"\x4f\x60\x59"), (15, b"\xff\xfe\x81\x30"), (0, b"\x80\xff\x00")]
        sent = []
        for family, sim in gw.simulators.items():
            for coding, content in broken:
                sender = f"139{len(sent):08d}"
                sim.inject_mo(sender, links[family].sp_number + "8888", content, coding)
                sent.append((sender, content))
        await until(lambda: len([p for p in receiver.received if p.command == "deliver_sm"]) == len(sent),
                    timeout=20, what="every MO delivered")
        got = {p.fields["source_addr"]: p for p in receiver.received if p.command == "deliver_sm"}
        for sender, content in sent:
            pdu = got[sender]
            body = pdu.fields.get("short_message") or pdu.fields["tlvs"].get("message_payload")
            assert body == content and not pdu.fields["esm_class"] & 0x04
        receiver.abort()
        assert failures(logged) == []
    finally:
        await gw.stop()
