"""A CMPP client session talking to a CMPP server session in memory (the bytes of one fed to the other)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from smsgw.session.cmpp_client import (
    CmppClientSession, DeliverReceived, LinkLost, LoggedIn, LoginRefused, ReportReceived, SubmitAnswered,
    SubmitTimedOut,
)
from smsgw.session.cmpp_common import Timers
from smsgw.session.cmpp_server import (
    CmppServerSession, DeliverAnswered, LoginAnswered, LoginRequested, SubmitReceived,
)
from smsgw.session.report_cmpp import CmppReport, make_msg_id, msg_id_text

SP_ID, SECRET = "901234", "s3cret"
WALL = datetime(2024, 3, 8, 9, 30, 0)
TIMERS = Timers(active_test_interval=180, response_timeout=60, max_sends=3, login_timeout=30)
SECRETS = {SP_ID: SECRET}


class Pair:
    """Client and server wired back to back, with a tiny simulator answering the server's events."""

    def __init__(self, client_protocol: str, server_protocols: tuple[str, ...] = ("cmpp20", "cmpp30"),
                 secret: str = SECRET, **server_kw: Any) -> None:
        self.client = CmppClientSession(client_protocol, SP_ID, secret, 0.0, timers=TIMERS)
        self.server = CmppServerSession(0.0, protocols=server_protocols, timers=TIMERS, **server_kw)
        self.client_events: list[Any] = []
        self.server_events: list[Any] = []
        self.auto_answer = True
        self.next_id = 0
        self.submits: dict[int, tuple[str, dict[str, Any]]] = {}  # msg id -> (protocol, fields)

    def pump(self, now: float) -> None:
        """Move bytes both ways until neither side has anything to say."""
        while True:
            to_server = self.client.data_to_send()
            to_client = self.server.data_to_send()
            if not to_server and not to_client:
                return
            if to_server:
                for e in self.server.receive_data(to_server, now):
                    self.server_events.append(e)
                    self._simulate(e, now)
            if to_client:
                self.client_events.extend(self.client.receive_data(to_client, now))

    def _simulate(self, event: Any, now: float) -> None:
        if isinstance(event, LoginRequested):
            self.server_events.extend(self.server.answer_login(SECRETS.get(event.source_addr)))
        elif isinstance(event, SubmitReceived) and self.auto_answer:
            self.next_id += 1
            msg_id = make_msg_id(WALL, 1001, self.next_id)
            self.submits[msg_id] = (event.protocol, event.fields)
            self.server.answer_submit(event.sequence, 0, msg_id)

    def login(self) -> None:
        self.client.connect(WALL, 0.0)
        self.pump(0.0)

    def tick(self, now: float) -> None:
        self.client_events.extend(self.client.tick(now))
        for e in self.server.tick(now):
            self.server_events.append(e)
        self.pump(now)

    def of(self, kind: type, side: str = "client") -> list[Any]:
        events = self.client_events if side == "client" else self.server_events
        return [e for e in events if isinstance(e, kind)]


def mt(n: int, dest: str = "13800138000") -> dict[str, Any]:
    return {"registered_delivery": 1, "service_id": "demo", "msg_fmt": 8, "src_id": "106590001234",
            "dest_terminal_id": [dest], "msg_content": f"验证码{n:04d}".encode("utf-16-be")}


@pytest.mark.parametrize("protocol", ["cmpp20", "cmpp30"])
def test_login_submit_report_cycle(protocol: str) -> None:
    p = Pair(protocol)
    p.login()
    assert p.client_events == [LoggedIn(protocol, 0x20 if protocol == "cmpp20" else 0x30, True)]
    assert p.of(LoginAnswered, "server") == [LoginAnswered(SP_ID, 0)]
    assert p.server.protocol == protocol

    seqs = [p.client.submit(mt(n), 1.0) for n in range(20)]
    assert seqs[16:] == [None] * 4  # default window of 16
    p.pump(1.0)
    answered = p.of(SubmitAnswered)
    assert [a.sequence for a in answered] == seqs[:16] and all(a.accepted for a in answered)
    received = p.of(SubmitReceived, "server")
    assert [r.fields["msg_content"] for r in received] == [mt(n)["msg_content"] for n in range(16)]

    # the carrier reports on each message: the report's Msg_Id is the submit answer's
    for msg_id, (_, fields) in p.submits.items():
        report = CmppReport(msg_id, "DELIVRD" if msg_id % 2 else "UNDELIV", "2403080930", "2403080931",
                            fields["dest_terminal_id"][0], 0)
        assert p.server.deliver_report(report, 2.0, {"dest_id": "1065900012", "msg_id": msg_id + 1}) is not None
        p.pump(2.0)
    reports = p.of(ReportReceived)
    assert {r.msg_id for r in reports} == {a.msg_id for a in answered}
    assert all(r.delivered == (int(r.msg_id, 16) % 2 == 1) for r in reports)
    assert all(r.dest_terminal_id == "13800138000" for r in reports)
    assert len(p.of(DeliverAnswered, "server")) == 16 and p.server.in_flight == 0

    # a reply from the handset
    p.server.deliver({"dest_id": "10659000123401", "src_terminal_id": "13800138000", "msg_fmt": 15,
                      "msg_content": "退订".encode("gbk"), "linkid": "L1" if protocol == "cmpp30" else ""}, 3.0)
    p.pump(3.0)
    [mo] = p.of(DeliverReceived)
    assert (mo.dest_id, mo.src_terminal_id, mo.content.decode("gbk"), mo.tp_udhi) == (
        "10659000123401", "13800138000", "退订", False)
    assert mo.linkid == ("L1" if protocol == "cmpp30" else "")

    p.client.terminate(4.0)
    p.pump(4.0)
    assert p.of(LinkLost)[-1].clean and p.of(LinkLost, "server")[-1].clean


def test_cmpp30_client_to_cmpp20_only_server_is_refused_with_status_4() -> None:
    p = Pair("cmpp30", server_protocols=("cmpp20",))
    p.login()
    refused, lost = p.client_events
    assert isinstance(refused, LoginRefused) and refused.status == 4 and isinstance(lost, LinkLost)
    assert isinstance(p.server_events[-1], LinkLost)


def test_cmpp20_client_to_dual_server_stays_cmpp20() -> None:
    p = Pair("cmpp20")
    p.login()
    assert p.server.protocol == "cmpp20" and p.server.codec.protocol == "cmpp20"


def test_wrong_secret_is_refused_with_status_3() -> None:
    p = Pair("cmpp20", secret="guess")
    p.login()
    assert [type(e) for e in p.client_events] == [LoginRefused, LinkLost]
    assert p.client_events[0].status == 3


def test_throttled_submit_is_retried_by_the_caller() -> None:
    p = Pair("cmpp30", submit_window=2)
    p.login()
    p.auto_answer = False
    seqs = [p.client.submit(mt(n), 1.0) for n in range(3)]
    p.pump(1.0)
    [throttled] = p.of(SubmitAnswered)
    assert throttled.throttled and throttled.sequence == seqs[2]
    # the simulator answers the two it took; the link resubmits the throttled one
    for r in p.of(SubmitReceived, "server"):
        p.server.answer_submit(r.sequence, 0, 42 + r.sequence)
    p.pump(2.0)
    p.auto_answer = True
    retry = p.client.submit(mt(2), 3.0)
    p.pump(3.0)
    last = p.of(SubmitAnswered)[-1]
    assert last.sequence == retry and last.accepted and not last.throttled


def test_silent_simulator_makes_the_client_give_up_after_three_sends() -> None:
    p = Pair("cmpp20")
    p.login()
    p.auto_answer = False
    seq = p.client.submit(mt(1), 10.0)
    p.pump(10.0)
    for t in (70.0, 130.0, 190.0):
        p.tick(t)
    assert len(p.of(SubmitReceived, "server")) == 1  # the two resends were recognised as such
    [timed_out] = p.of(SubmitTimedOut)
    assert timed_out.sequence == seq and timed_out.fields["msg_content"] == mt(1)["msg_content"]


def test_idle_pair_keeps_alive_by_probing() -> None:
    p = Pair("cmpp30")
    p.login()
    for t in range(60, 2000, 60):
        p.tick(float(t))
    assert p.client.state.value == "active" and p.server.state.value == "active"
    assert not p.of(LinkLost) and not p.of(LinkLost, "server")


def test_the_long_message_keeps_its_segments_and_udh() -> None:
    p = Pair("cmpp30")
    p.login()
    text = "长" * 80
    parts = [text[:67], text[67:]]
    for i, part in enumerate(parts, 1):
        p.client.submit({**mt(0), "pk_total": 2, "pk_number": i, "tp_udhi": 1,
                         "msg_content": bytes((5, 0, 3, 0x2E, 2, i)) + part.encode("utf-16-be")}, 1.0)
    p.pump(1.0)
    received = p.of(SubmitReceived, "server")
    assert [r.fields["pk_number"] for r in received] == [1, 2]
    assert "".join(r.fields["msg_content"][6:].decode("utf-16-be") for r in received) == text


@settings(max_examples=60, deadline=None)
@given(
    protocol=st.sampled_from(["cmpp20", "cmpp30"]),
    contents=st.lists(st.binary(max_size=140), min_size=1, max_size=20),
    dests=st.lists(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), min_size=1, max_size=20),
)
def test_every_submit_arrives_intact_and_its_report_matches(
    protocol: str, contents: list[bytes], dests: list[str]
) -> None:
    p = Pair(protocol)
    p.login()
    sent: dict[int, tuple[bytes, str]] = {}
    for i, content in enumerate(contents):
        dest = dests[i % len(dests)]
        seq = p.client.submit({**mt(i, dest), "msg_fmt": 4, "msg_content": content}, 1.0)
        assert seq is not None
        sent[seq] = (content, dest)
        p.pump(1.0)
    by_seq = {a.sequence: a.msg_id for a in p.of(SubmitAnswered)}
    assert set(by_seq) == set(sent)
    for seq, msg_id in by_seq.items():
        proto, fields = p.submits[int(msg_id, 16)]
        assert proto == protocol and (fields["msg_content"], fields["dest_terminal_id"]) == (
            sent[seq][0], [sent[seq][1]])
        p.server.deliver_report(CmppReport(int(msg_id, 16), "DELIVRD", "", "", sent[seq][1], seq), 2.0)
        p.pump(2.0)
    assert {(r.msg_id, r.dest_terminal_id) for r in p.of(ReportReceived)} == {
        (by_seq[s], sent[s][1]) for s in sent}
    assert all(msg_id_text(int(r.msg_id, 16)) == r.msg_id for r in p.of(ReportReceived))
