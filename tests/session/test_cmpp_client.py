"""The sans-IO CMPP client session (we are the SP), driven with exact PDUs and a fake clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from smsgw.codec import EncodeError, Pdu
from smsgw.protocols.vectors import load
from smsgw.session.auth_cmpp import EMPTY_AUTHENTICATOR, authenticator_ismg
from smsgw.session.cmpp_client import (
    CmppClientSession, DeliverReceived, LinkLost, LoggedIn, LoginRefused, ProtocolErrorReceived, ReportReceived,
    SessionStateError, State, SubmitAnswered, SubmitTimedOut, Timers,
)
from smsgw.session.codecs import codec_for

V = {v.id: v for v in load("cmpp20") + load("cmpp30")}
SP_ID, SECRET = "900001", "888888"
#: the Timestamp of vector CMPP-01 (1021080510)
WALL = datetime(2015, 10, 21, 8, 5, 10)
TIMERS = Timers(active_test_interval=180, response_timeout=60, max_sends=3)
BOTH = ["cmpp20", "cmpp30"]
DEST = "13800138000"


def reseq(data: bytes, sequence: int) -> bytes:
    """A vector's bytes with another Sequence_Id (the header's last 4 bytes)."""
    return data[:8] + sequence.to_bytes(4, "big") + data[12:]


def pdu(protocol: str, command: str, sequence: int, fields: dict[str, Any] | None = None) -> bytes:
    return codec_for(protocol).encode(Pdu(command, sequence, fields or {}))


def sent(session: CmppClientSession) -> list[Pdu]:
    codec = codec_for(session.protocol)
    return [codec.decode(f) for f in codec.framer().feed(session.data_to_send())]


def client(protocol: str, **kw: Any) -> CmppClientSession:
    kw.setdefault("timers", TIMERS)
    return CmppClientSession(protocol, SP_ID, SECRET, 0.0, **kw)


def logged_in(protocol: str, now: float = 0.0, **kw: Any) -> CmppClientSession:
    c = client(protocol, **kw)
    seq = c.connect(WALL, now)
    [connect] = sent(c)
    auth = authenticator_ismg(0, connect["authenticatorsource"], SECRET, protocol)
    events = c.receive_data(pdu(protocol, "connect_resp", seq, {
        "status": 0, "authenticatorismg": auth, "version": c.version}), now)
    assert events == [LoggedIn(protocol, c.version, True)]
    return c


def submit_fields(n: int = 0) -> dict[str, Any]:
    return {"registered_delivery": 1, "src_id": "1065", "dest_terminal_id": [DEST], "msg_content": b"m%d" % n}


def submitted(c: CmppClientSession, fields: dict[str, Any], now: float) -> int:
    seq = c.submit(fields, now)
    assert seq is not None
    return seq


def answer(protocol: str, sequence: int, result: int = 0, msg_id: int = 0) -> bytes:
    return pdu(protocol, "submit_resp", sequence, {"msg_id": msg_id, "result": result})


# ----------------------------------------------------------------------- login

def test_connect_bytes_are_vector_cmpp01() -> None:
    c = client("cmpp20", version=0x21)
    seq = c.connect(WALL, 0.0)
    assert c.data_to_send() == reseq(V["CMPP-01"].data, seq)
    assert c.state is State.CONNECTING


@pytest.mark.parametrize("protocol, vid", [("cmpp20", "CMPP-02"), ("cmpp30", "CMPP-03")])
def test_connect_resp_vector_logs_in_and_authenticator_checks(protocol: str, vid: str) -> None:
    c = client(protocol, version=0x21 if protocol == "cmpp20" else None)
    seq = c.connect(WALL, 0.0)
    c.data_to_send()
    events = c.receive_data(reseq(V[vid].data, seq), 0.5)
    assert events == [LoggedIn(protocol, V[vid].expect["fields"]["version"], True)]
    assert c.state is State.ACTIVE and c.peer_version == V[vid].expect["fields"]["version"]


def test_gocmpp_empty_authenticator_is_accepted_but_flagged() -> None:
    c = client("cmpp30")
    c.connect(datetime(2015, 11, 21, 20, 55, 41), 0.0)
    [event] = c.receive_data(V["CMPP-22"].data, 0.1)  # sequence 1: our first
    assert event == LoggedIn("cmpp30", 0x30, False)
    assert c.state is State.ACTIVE


@pytest.mark.parametrize("protocol", BOTH)
def test_refused_login_ends_the_session(protocol: str) -> None:
    c = client(protocol)
    seq = c.connect(WALL, 0.0)
    events = c.receive_data(pdu(protocol, "connect_resp", seq, {
        "status": 3, "authenticatorismg": EMPTY_AUTHENTICATOR, "version": c.version}), 0.1)
    refused, lost = events
    assert isinstance(refused, LoginRefused) and refused.status == 3 and "authentication" in refused.reason
    assert isinstance(lost, LinkLost) and not lost.clean
    assert c.state is State.CLOSED and c.next_deadline() is None


def test_cmpp30_client_reads_a_cmpp20_only_ismgs_version_refusal() -> None:
    c = client("cmpp30")
    seq = c.connect(WALL, 0.0)
    refusal = pdu("cmpp20", "connect_resp", seq, {"status": 4, "authenticatorismg": EMPTY_AUTHENTICATOR,
                                                 "version": 0x20})
    assert len(refusal) == 30  # the 1-byte Status of 2.0, which the 3.0 table cannot read
    events = c.receive_data(refusal, 0.1)
    assert isinstance(events[0], LoginRefused) and events[0].status == 4 and "cmpp20 layout" in events[0].reason
    assert isinstance(events[1], LinkLost) and c.state is State.CLOSED


def test_unanswered_connect_ends_the_session_after_t() -> None:
    c = client("cmpp20")
    c.connect(WALL, 0.0)
    c.data_to_send()
    assert c.next_deadline() == 60.0
    assert c.tick(59.9) == [] and c.data_to_send() == b""  # CONNECT is not resent
    [lost] = c.tick(60.0)
    assert isinstance(lost, LinkLost) and "connect" in lost.reason


def test_version_must_match_protocol_and_submit_needs_login() -> None:
    with pytest.raises(ValueError):
        client("cmpp30", version=0x20)
    c = client("cmpp20")
    with pytest.raises(SessionStateError):
        c.submit(submit_fields(), 0.0)
    c.connect(WALL, 0.0)
    with pytest.raises(SessionStateError):
        c.connect(WALL, 0.0)


# ----------------------------------------------------------------------- submit

@pytest.mark.parametrize("protocol, vid", [("cmpp20", "CMPP-04"), ("cmpp30", "CMPP-06")])
def test_submit_bytes_are_the_vectors(protocol: str, vid: str) -> None:
    c = logged_in(protocol)
    seq = submitted(c, V[vid].expect["fields"], 1.0)
    assert c.data_to_send() == reseq(V[vid].data, seq)


@pytest.mark.parametrize("protocol, vid", [("cmpp20", "CMPP-05"), ("cmpp30", "CMPP-07")])
def test_submit_resp_vector_gives_the_carrier_msg_id(protocol: str, vid: str) -> None:
    c = logged_in(protocol)
    seq = submitted(c, submit_fields(), 1.0)
    events = c.receive_data(reseq(V[vid].data, seq), 2.0)
    assert events == [SubmitAnswered(seq, 0, "b2b9da8000010000", False)]
    assert events[0].accepted and c.in_flight == 0


def test_submit_fills_msg_id_and_msg_src() -> None:
    c = logged_in("cmpp30")
    c.submit(submit_fields(), 1.0)
    [s] = sent(c)
    assert s["msg_id"] == 0 and s["msg_src"] == SP_ID and s["dest_terminal_id"] == [DEST]


def test_unencodable_submit_raises_and_uses_no_window() -> None:
    c = logged_in("cmpp20", window=1)
    with pytest.raises(EncodeError):
        c.submit({"dest_terminal_id": ["1" * 22]}, 1.0)  # 21 bytes in 2.0
    assert c.data_to_send() == b"" and c.in_flight == 0
    assert c.submit(submit_fields(), 1.0) is not None


def test_window_full_refuses_until_an_answer_frees_a_slot() -> None:
    c = logged_in("cmpp20", window=2)
    s1, s2 = c.submit(submit_fields(1), 1.0), c.submit(submit_fields(2), 1.0)
    assert s1 is not None and s2 is not None
    assert c.window_free == 0
    assert c.submit(submit_fields(3), 1.0) is None
    assert len(sent(c)) == 2
    c.receive_data(answer("cmpp20", s2, msg_id=2), 2.0)
    assert c.window_free == 1
    assert c.submit(submit_fields(3), 2.0) is not None


def test_out_of_order_responses_match_by_sequence() -> None:
    c = logged_in("cmpp30")
    seqs = [submitted(c, submit_fields(n), 1.0) for n in range(3)]
    wire = b"".join(answer("cmpp30", s, msg_id=0x100 + s) for s in reversed(seqs))
    events = c.receive_data(wire, 2.0)
    assert events == [SubmitAnswered(s, 0, f"{0x100 + s:016x}") for s in reversed(seqs)]
    assert c.in_flight == 0


def test_unknown_or_repeated_submit_resp_is_dropped() -> None:
    c = logged_in("cmpp20")
    seq = submitted(c, submit_fields(), 1.0)
    c.data_to_send()
    assert c.receive_data(answer("cmpp20", seq + 100), 2.0) == []
    assert len(c.receive_data(answer("cmpp20", seq), 2.0)) == 1
    assert c.receive_data(answer("cmpp20", seq), 2.0) == []
    assert c.data_to_send() == b""  # responses are never answered


def test_throttle_result_is_flagged() -> None:
    c = logged_in("cmpp30")
    seq = submitted(c, submit_fields(), 1.0)
    [event] = c.receive_data(answer("cmpp30", seq, result=8), 2.0)
    assert event == SubmitAnswered(seq, 8, "0000000000000000", throttled=True)
    assert not event.accepted and c.in_flight == 0


def test_other_results_are_final_not_throttled() -> None:
    c = logged_in("cmpp20")
    seq = submitted(c, submit_fields(), 1.0)
    [event] = c.receive_data(answer("cmpp20", seq, result=13), 2.0)
    assert event.result == 13 and not event.throttled and not event.accepted


def test_timeout_resends_same_bytes_then_gives_up() -> None:
    c = logged_in("cmpp20")
    fields = submit_fields()
    seq = submitted(c, fields, 10.0)
    first = c.data_to_send()
    assert c.next_deadline() == 70.0
    assert c.tick(69.0) == [] and c.data_to_send() == b""
    assert c.tick(70.0) == [] and c.data_to_send() == first  # 2nd send, same Sequence_Id
    assert c.next_deadline() == 130.0
    assert c.tick(130.0) == [] and c.data_to_send() == first  # 3rd send
    events = c.tick(190.0)
    assert events == [SubmitTimedOut(seq, {"msg_id": 0, "msg_src": SP_ID, **fields})]
    assert c.in_flight == 0 and c.state is State.ACTIVE
    assert [p.command for p in sent(c)] == ["active_test"]  # idle since login (C = 180): no 4th SUBMIT


def test_answer_to_an_earlier_send_still_matches_after_a_resend() -> None:
    c = logged_in("cmpp30")
    seq = submitted(c, submit_fields(), 0.0)
    c.tick(60.0)
    [event] = c.receive_data(answer("cmpp30", seq, msg_id=7), 61.0)
    assert event == SubmitAnswered(seq, 0, "0000000000000007")
    assert c.tick(200.0) == []  # nothing left to resend or give up


# ----------------------------------------------------------------------- keep-alive

@pytest.mark.parametrize("protocol", BOTH)
def test_ismg_active_test_is_answered_with_cmpp13(protocol: str) -> None:
    c = logged_in(protocol)
    assert c.receive_data(V["CMPP-12"].data, 1.0) == []
    assert c.data_to_send() == V["CMPP-13"].data


def test_active_test_answered_even_before_login() -> None:
    c = client("cmpp20")
    c.receive_data(V["CMPP-12"].data, 0.0)
    assert c.data_to_send() == V["CMPP-13"].data


def test_idle_link_is_probed_and_answer_keeps_it() -> None:
    c = logged_in("cmpp20", now=0.0)
    assert c.next_deadline() == 180.0
    assert c.tick(179.0) == [] and c.data_to_send() == b""
    assert c.tick(180.0) == []
    probe = c.data_to_send()
    assert probe[4:8] == V["CMPP-12"].data[4:8] and len(probe) == 12
    seq = int.from_bytes(probe[8:12], "big")
    assert c.receive_data(reseq(V["CMPP-13"].data, seq), 181.0) == []
    assert c.next_deadline() == 361.0
    assert c.tick(300.0) == [] and c.state is State.ACTIVE


def test_traffic_postpones_the_probe() -> None:
    c = logged_in("cmpp20", now=0.0)
    c.receive_data(V["CMPP-12"].data, 100.0)
    c.data_to_send()
    assert c.next_deadline() == 280.0
    assert c.tick(180.0) == [] and c.data_to_send() == b""


def test_unanswered_probe_is_resent_then_link_dropped_with_unanswered_submits() -> None:
    c = logged_in("cmpp30", now=0.0)
    seq = submitted(c, submit_fields(), 0.0)
    c.data_to_send()
    # the SUBMIT gives up at 180 (sends at 0, 60, 120); the probe starts at 180
    assert c.tick(60.0) == [] and c.tick(120.0) == []
    assert c.tick(180.0) == [SubmitTimedOut(seq, {"msg_id": 0, "msg_src": SP_ID, **submit_fields()})]
    c.data_to_send()
    seq2 = submitted(c, submit_fields(2), 181.0)
    c.data_to_send()
    probes = []
    for t in (240.0, 300.0):
        assert c.tick(t) == []
        probes.append(c.data_to_send())
    assert all(p[4:8] == b"\x00\x00\x00\x08" for p in probes)
    events = c.tick(360.0)
    assert events == [LinkLost("no answer to active_test after 3 send(s)", False, (seq2,))]
    assert c.state is State.CLOSED and c.next_deadline() is None


def test_probe_answer_with_a_foreign_sequence_counts() -> None:
    c = logged_in("cmpp20", now=0.0)
    c.tick(180.0)
    c.data_to_send()
    c.receive_data(V["CMPP-27"].data, 181.0)  # pycmpp: Sequence_Id 0 and 3 stray bytes
    assert c.tick(241.0) == [] and c.data_to_send() == b""  # not resent: the probe was answered


# ----------------------------------------------------------------------- DELIVER from the ISMG

@pytest.mark.parametrize("protocol, vid, resp", [("cmpp20", "CMPP-08", "CMPP-09"), ("cmpp30", "CMPP-10", "CMPP-11")])
def test_mo_deliver_is_answered_with_the_vector(protocol: str, vid: str, resp: str) -> None:
    c = logged_in(protocol)
    [event] = c.receive_data(V[vid].data, 1.0)
    f = V[vid].expect["fields"]
    assert event == DeliverReceived(
        f"{f['msg_id']:016x}", "900001", "", "13412340000", 0, 0, False, b"This is a test MO.", "", 0)
    assert c.data_to_send() == V[resp].data


@pytest.mark.parametrize("vid", ["CMPP-20", "CMPP-19", "CMPP-18", "CMPP-17"])
def test_report_deliver_gives_report_received(vid: str) -> None:
    v = V[vid]
    c = logged_in(v.protocol)
    [event] = c.receive_data(v.data, 1.0)
    r = v.expect["report"]
    assert event == ReportReceived(f"{r['msg_id']:016x}", r["stat"], r["submit_time"], r["done_time"],
                                   r["dest_terminal_id"], r["smsc_sequence"], f"{v.expect['fields']['msg_id']:016x}")
    assert event.delivered == (r["stat"] == "DELIVRD")
    [resp] = sent(c)
    assert (resp.command, resp.sequence, resp["msg_id"], resp["result"]) == (
        "deliver_resp", v.expect["sequence"], v.expect["fields"]["msg_id"], 0)


def test_report_msg_id_matches_submit_answer() -> None:
    c = logged_in("cmpp20")
    seq = submitted(c, submit_fields(), 1.0)
    [answered] = c.receive_data(answer("cmpp20", seq, msg_id=0xB4C5530000010000), 2.0)
    [report] = c.receive_data(V["CMPP-20"].data, 3.0)
    assert answered.msg_id == report.msg_id == "b4c5530000010000"


@pytest.mark.parametrize("udhi, present", [(0, False), (1, True), (0x40, True)])
def test_tp_udhi_one_or_0x40_means_udh(udhi: int, present: bool) -> None:
    c = logged_in("cmpp30")
    fields = {**V["CMPP-10"].expect["fields"], "tp_udhi": udhi, "msg_fmt": 8,
              "msg_content": bytes.fromhex("0500032e0201") + "长".encode("utf-16-be")}
    [event] = c.receive_data(pdu("cmpp30", "deliver", 9, fields), 1.0)
    assert isinstance(event, DeliverReceived) and event.tp_udhi is present and event.msg_fmt == 8


def test_mo_linkid_is_kept_in_cmpp30() -> None:
    c = logged_in("cmpp30")
    fields = {**V["CMPP-10"].expect["fields"], "linkid": "0000000000000123456", "src_terminal_type": 1}
    [event] = c.receive_data(pdu("cmpp30", "deliver", 9, fields), 1.0)
    assert event.linkid == "0000000000000123456" and event.src_terminal_type == 1


def test_malformed_deliver_gets_length_error_and_session_goes_on() -> None:
    c = logged_in("cmpp20")
    events = c.receive_data(V["CMPP20-BAD-04"].data + V["CMPP-12"].data, 1.0)
    assert isinstance(events[0], ProtocolErrorReceived) and events[0].error.field == "msg_content"
    resp, alive = sent(c)
    assert (resp.command, resp.sequence, resp["msg_id"], resp["result"]) == (
        "deliver_resp", 5, V["CMPP-08"].expect["fields"]["msg_id"], 4)
    assert alive.command == "active_test_resp" and c.state is State.ACTIVE


def test_truncated_cmpp30_deliver_gets_structure_error() -> None:
    c = logged_in("cmpp30")
    [event] = c.receive_data(V["CMPP30-BAD-03"].data, 1.0)
    assert isinstance(event, ProtocolErrorReceived)
    [resp] = sent(c)
    assert (resp.command, resp["result"], resp["msg_id"]) == ("deliver_resp", 1, 0xB4C5530000010000)


@pytest.mark.parametrize("content, result", [(b"\x00" * 59, 4), (b"\x00" * 72, 4), (b"", 4)])
def test_report_of_wrong_length_gets_length_error(content: bytes, result: int) -> None:
    c = logged_in("cmpp30")
    fields = {**V["CMPP-19"].expect["fields"], "msg_content": content}
    [event] = c.receive_data(pdu("cmpp30", "deliver", 3, fields), 1.0)
    assert isinstance(event, ProtocolErrorReceived) and event.error.status == result
    [resp] = sent(c)
    assert (resp.sequence, resp["result"]) == (3, result)


def test_registered_delivery_other_than_0_or_1_is_a_structure_error() -> None:
    c = logged_in("cmpp20")
    fields = {**V["CMPP-08"].expect["fields"], "registered_delivery": 2}
    [event] = c.receive_data(pdu("cmpp20", "deliver", 3, fields), 1.0)
    assert isinstance(event, ProtocolErrorReceived)
    assert sent(c)[0]["result"] == 1


def test_deliver_before_login_is_refused_with_command_error() -> None:
    c = client("cmpp20")
    c.connect(WALL, 0.0)
    c.data_to_send()
    assert c.receive_data(V["CMPP-08"].data, 0.1) == []
    [resp] = sent(c)
    mo_id = V["CMPP-08"].expect["fields"]["msg_id"]
    assert (resp.command, resp["result"], resp["msg_id"]) == ("deliver_resp", 2, mo_id)


def test_submit_from_the_ismg_is_refused() -> None:
    c = logged_in("cmpp20")
    assert c.receive_data(V["CMPP-04"].data, 1.0) == []
    [resp] = sent(c)
    assert (resp.command, resp.sequence, resp["result"]) == ("submit_resp", 23, 2)


def test_unknown_command_is_reported_not_answered() -> None:
    c = logged_in("cmpp20")
    [event] = c.receive_data(V["CMPP20-BAD-06"].data, 1.0)
    assert isinstance(event, ProtocolErrorReceived) and event.error.status == 2
    assert c.data_to_send() == b"" and c.state is State.ACTIVE


def test_impossible_length_drops_the_link() -> None:
    c = logged_in("cmpp30")
    seq = submitted(c, submit_fields(), 1.0)
    events = c.receive_data(V["CMPP20-BAD-08"].data + b"\x00" * 8, 2.0)
    assert isinstance(events[0], ProtocolErrorReceived) and events[0].error.fatal
    assert events[1] == LinkLost(events[1].reason, False, (seq,))
    assert c.state is State.CLOSED and c.receive_data(V["CMPP-12"].data, 3.0) == []


def test_answers_in_the_same_read_as_an_impossible_length_still_count() -> None:
    c = logged_in("cmpp30")
    answered, lost = submitted(c, submit_fields(), 1.0), submitted(c, submit_fields(), 1.0)
    events = c.receive_data(reseq(V["CMPP-07"].data, answered) + V["CMPP20-BAD-08"].data, 2.0)
    assert events[0] == SubmitAnswered(answered, 0, "b2b9da8000010000", False)  # the carrier took it: no resend
    assert isinstance(events[1], ProtocolErrorReceived) and events[1].error.fatal
    assert events[2] == LinkLost(events[2].reason, False, (lost,))
    assert c.state is State.CLOSED


# ----------------------------------------------------------------------- terminate

@pytest.mark.parametrize("protocol", BOTH)
def test_ismg_terminate_is_answered_with_cmpp15(protocol: str) -> None:
    c = logged_in(protocol)
    seq = submitted(c, submit_fields(), 1.0)
    c.data_to_send()
    [event] = c.receive_data(V["CMPP-14"].data, 2.0)
    assert event == LinkLost("the peer terminated", True, (seq,))
    assert c.data_to_send() == V["CMPP-15"].data


def test_our_terminate_waits_for_its_answer_and_still_takes_reports() -> None:
    c = logged_in("cmpp20")
    assert c.terminate(5.0) == []
    term = c.data_to_send()
    seq = int.from_bytes(term[8:12], "big")
    assert term == reseq(V["CMPP-14"].data, seq)
    with pytest.raises(SessionStateError):
        c.submit(submit_fields(), 5.0)
    [report] = c.receive_data(V["CMPP-20"].data, 6.0)
    assert isinstance(report, ReportReceived)
    c.data_to_send()
    assert c.receive_data(reseq(V["CMPP-15"].data, seq), 7.0) == [LinkLost("terminated", True, ())]
    assert c.terminate(8.0) == []


def test_unanswered_terminate_drops_after_t() -> None:
    c = logged_in("cmpp20")
    c.terminate(5.0)
    c.data_to_send()
    assert c.next_deadline() == 65.0
    [event] = c.tick(65.0)
    assert isinstance(event, LinkLost) and not event.clean
    assert c.data_to_send() == b""


def test_terminate_before_login_just_ends() -> None:
    c = client("cmpp20")
    [event] = c.terminate(0.0)
    assert event == LinkLost("closed before login", True, ()) and c.data_to_send() == b""


# ----------------------------------------------------------------------- robustness

@settings(max_examples=200, deadline=None)
@given(protocol=st.sampled_from(BOTH), chunks=st.lists(st.binary(max_size=300), max_size=6))
def test_arbitrary_bytes_never_crash_and_every_answer_decodes(protocol: str, chunks: list[bytes]) -> None:
    c = logged_in(protocol)
    for i, chunk in enumerate(chunks):
        events = c.receive_data(chunk, float(i))
        assert all(e is not None for e in events)
        codec = codec_for(protocol)
        framer = codec.framer()
        for frame in framer.feed(c.data_to_send()):
            assert codec.decode(frame).command.endswith("_resp")
        assert framer.pending == 0
