"""The sans-IO CMPP server session (the ISMG of our simulator), driven with exact PDUs and a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from smsgw.codec import Pdu
from smsgw.protocols.vectors import load
from smsgw.session.auth_cmpp import EMPTY_AUTHENTICATOR, authenticator_ismg, authenticator_source
from smsgw.session.cmpp_server import (
    CmppServerSession, DeliverAnswered, DeliverTimedOut, LinkLost, LoginAnswered, LoginRequested,
    ProtocolErrorReceived, SessionStateError, State, SubmitReceived, Timers,
)
from smsgw.session.codecs import codec_for
from smsgw.session.report_cmpp import CmppReport

V = {v.id: v for v in load("cmpp20") + load("cmpp30")}
SP_ID, SECRET = "900001", "888888"
TIMERS = Timers(active_test_interval=180, response_timeout=60, max_sends=3, login_timeout=30)
CONNECT_20 = V["CMPP-01"].data  # Version 0x21, sequence 23
CONNECT_30 = CONNECT_20[:-5] + b"\x30" + CONNECT_20[-4:]  # the same CONNECT asking for 3.0


def reseq(data: bytes, sequence: int) -> bytes:
    return data[:8] + sequence.to_bytes(4, "big") + data[12:]


def pdu(protocol: str, command: str, sequence: int, fields: dict[str, Any] | None = None) -> bytes:
    return codec_for(protocol).encode(Pdu(command, sequence, fields or {}))


def sent(s: CmppServerSession, protocol: str | None = None) -> list[Pdu]:
    codec = codec_for(protocol or s.protocol)
    return [codec.decode(f) for f in codec.framer().feed(s.data_to_send())]


def server(**kw: Any) -> CmppServerSession:
    kw.setdefault("timers", TIMERS)
    return CmppServerSession(0.0, **kw)


def logged_in(protocol: str, now: float = 0.0, **kw: Any) -> CmppServerSession:
    s = server(**kw)
    [login] = s.receive_data(CONNECT_20 if protocol == "cmpp20" else CONNECT_30, now)
    assert isinstance(login, LoginRequested) and login.protocol == protocol
    assert s.answer_login(SECRET) == [LoginAnswered(SP_ID, 0)]
    s.data_to_send()
    return s


REPORT = CmppReport(**V["CMPP-16"].expect["report"])


# ----------------------------------------------------------------------- login

def test_cmpp20_login_answers_vector_cmpp02() -> None:
    s = server()
    [event] = s.receive_data(CONNECT_20, 0.0)
    f = V["CMPP-01"].expect["fields"]
    assert event == LoginRequested(23, SP_ID, f["authenticatorsource"], 0x21, 1021080510, "cmpp20")
    assert s.state is State.CONNECTING and s.protocol == "cmpp20"
    assert s.answer_login(SECRET) == [LoginAnswered(SP_ID, 0)]
    assert s.data_to_send() == V["CMPP-02"].data
    assert s.state is State.ACTIVE and s.source_addr == SP_ID


def test_cmpp30_login_answers_vector_cmpp03() -> None:
    s = server()
    [event] = s.receive_data(CONNECT_30, 0.0)
    assert event.protocol == "cmpp30" and s.protocol == "cmpp30"
    s.answer_login(SECRET)
    assert s.data_to_send() == V["CMPP-03"].data


def test_node_cmpp2_connect_is_accepted() -> None:
    s = server()
    [event] = s.receive_data(V["CMPP-21"].data, 0.0)
    assert event.protocol == "cmpp30" and event.timestamp == 1121205541
    s.answer_login(SECRET)
    [resp] = sent(s)
    assert resp["status"] == 0
    assert resp["authenticatorismg"] == authenticator_ismg(0, event.authenticator_source, SECRET, "cmpp30")


@pytest.mark.parametrize("secret, status", [("wrong!", 3), (None, 2)])
def test_bad_login_is_refused_and_closed(secret: str | None, status: int) -> None:
    s = server()
    s.receive_data(CONNECT_20, 0.0)
    events = s.answer_login(secret)
    assert events[0] == LoginAnswered(SP_ID, status)
    assert isinstance(events[1], LinkLost) and s.state is State.CLOSED
    [resp] = sent(s, "cmpp20")
    assert (resp.sequence, resp["status"], resp["authenticatorismg"]) == (23, status, EMPTY_AUTHENTICATOR)


def test_application_may_refuse_for_its_own_reason() -> None:
    s = server()
    s.receive_data(CONNECT_30, 0.0)
    events = s.refuse_login(56)
    assert events[0] == LoginAnswered(SP_ID, 56) and isinstance(events[1], LinkLost)
    assert sent(s, "cmpp30")[0]["status"] == 56
    with pytest.raises(SessionStateError):
        s.answer_login(SECRET)


def test_refuse_login_needs_a_status() -> None:
    s = server()
    s.receive_data(CONNECT_30, 0.0)
    with pytest.raises(ValueError):
        s.refuse_login(0)


def test_cmpp30_connect_to_a_cmpp20_only_server_gets_status_4_in_20_layout() -> None:
    s = server(protocols=("cmpp20",))
    events = s.receive_data(CONNECT_30, 0.0)
    assert len(events) == 1 and isinstance(events[0], LinkLost)
    data = s.data_to_send()
    assert len(data) == 30  # 2.0 CONNECT_RESP
    resp = codec_for("cmpp20").decode(data)
    assert (resp.sequence, resp["status"], resp["version"]) == (23, 4, 0x20)


@pytest.mark.parametrize("version", [0x20, 0x40, 0x13])
def test_unsupported_version_gets_status_4_from_a_cmpp30_only_server(version: int) -> None:
    s = server(protocols=("cmpp30",))
    connect = CONNECT_20[:-5] + bytes((version,)) + CONNECT_20[-4:]
    [lost] = s.receive_data(connect, 0.0)
    assert isinstance(lost, LinkLost)
    [resp] = sent(s, "cmpp30")
    assert (resp["status"], resp["version"]) == (4, 0x30)


def test_no_connect_in_time_closes() -> None:
    s = server()
    assert s.next_deadline() == 30.0
    assert s.tick(29.0) == []
    [lost] = s.tick(30.0)
    assert isinstance(lost, LinkLost) and "login" in lost.reason


def test_undecided_login_also_times_out() -> None:
    s = server()
    s.receive_data(CONNECT_20, 10.0)
    [lost] = s.tick(30.0)
    assert isinstance(lost, LinkLost) and s.state is State.CLOSED


def test_malformed_connect_gets_status_1_and_closes() -> None:
    s = server()
    events = s.receive_data(V["CMPP20-BAD-02"].data, 0.0)
    assert isinstance(events[0], ProtocolErrorReceived) and isinstance(events[1], LinkLost)
    [resp] = sent(s, "cmpp30")
    assert (resp.command, resp.sequence, resp["status"]) == ("connect_resp", 23, 1)


def test_submit_before_login_is_refused() -> None:
    s = server()
    assert s.receive_data(V["CMPP-06"].data, 0.0) == []
    [resp] = sent(s, "cmpp30")
    assert (resp.command, resp.sequence, resp["result"]) == ("submit_resp", 23, 2)


def test_second_connect_is_refused_with_status_5() -> None:
    s = logged_in("cmpp20")
    assert s.receive_data(CONNECT_20, 1.0) == []
    [resp] = sent(s)
    assert (resp.command, resp["status"]) == ("connect_resp", 5)
    assert s.state is State.ACTIVE


def test_pipelined_submit_during_login_decision_is_refused_in_the_clients_version() -> None:
    s = server()
    events = s.receive_data(CONNECT_20 + V["CMPP-04"].data, 0.0)
    assert len(events) == 1 and s.protocol == "cmpp20"
    [resp] = sent(s, "cmpp20")
    assert (resp.command, resp["result"]) == ("submit_resp", 2)


# ----------------------------------------------------------------------- SUBMIT

@pytest.mark.parametrize("protocol, vsub, vresp", [("cmpp20", "CMPP-04", "CMPP-05"), ("cmpp30", "CMPP-06", "CMPP-07")])
def test_submit_is_handed_over_and_answered_with_the_vector(protocol: str, vsub: str, vresp: str) -> None:
    s = logged_in(protocol)
    [event] = s.receive_data(V[vsub].data, 1.0)
    assert event == SubmitReceived(23, protocol, V[vsub].expect["fields"])
    assert s.data_to_send() == b""  # nothing before the simulator decides
    s.answer_submit(23, 0, V[vresp].expect["fields"]["msg_id"])
    s.answer_submit(23, 0, 1)  # once only
    assert s.data_to_send() == V[vresp].data
    assert s.submits_unanswered == 0


def test_long_message_segments_keep_their_udh() -> None:
    s = logged_in("cmpp30")
    e1, e2 = s.receive_data(V["CMPP-24"].data + V["CMPP-25"].data, 1.0)
    assert e1.fields["tp_udhi"] == 1 and e1.fields["msg_content"][:6] == bytes.fromhex("0500032e0201")
    assert (e2.fields["pk_total"], e2.fields["pk_number"]) == (2, 2)


def test_resent_submit_still_undecided_is_not_handed_over_twice() -> None:
    s = logged_in("cmpp20")
    assert len(s.receive_data(V["CMPP-04"].data, 1.0)) == 1
    assert s.receive_data(V["CMPP-04"].data, 61.0) == []
    s.answer_submit(23, 0, 5)
    assert len(sent(s)) == 1


def test_submit_window_answers_flow_control() -> None:
    s = logged_in("cmpp30", submit_window=1)
    events = s.receive_data(V["CMPP-06"].data + reseq(V["CMPP-06"].data, 24), 1.0)
    assert [e.sequence for e in events] == [23]
    [resp] = sent(s)
    assert (resp.sequence, resp["result"], resp["msg_id"]) == (24, 8, 0)


@pytest.mark.parametrize("vid, result", [("CMPP20-BAD-03", 4), ("CMPP20-BAD-05", 1)])
def test_malformed_submit_answers_the_codecs_result(vid: str, result: int) -> None:
    s = logged_in("cmpp20")
    [event] = s.receive_data(V[vid].data, 1.0)
    assert isinstance(event, ProtocolErrorReceived)
    [resp] = sent(s)
    assert (resp.command, resp.sequence, resp["result"]) == ("submit_resp", 23, result)
    assert s.state is State.ACTIVE


def test_cmpp27_pycmpp_active_test_resp_then_submit_both_handled() -> None:
    """pycmpp 2.0.2 answers our ACTIVE_TEST with 13 declared bytes plus 3 stray ones (CMPP-27)."""
    s = logged_in("cmpp20", now=0.0)
    assert s.tick(180.0) == []
    [probe] = sent(s)
    assert probe.command == "active_test"
    events = s.receive_data(V["CMPP-27"].data, 181.0)
    assert events == []
    events = s.receive_data(V["CMPP-04"].data, 181.5)
    assert events == [SubmitReceived(23, "cmpp20", V["CMPP-04"].expect["fields"])]
    # the probe was answered (its Sequence_Id 0 is pycmpp's): no resend, no drop
    assert s.next_deadline() == 181.5 + 180
    assert s.tick(241.0) == [] and s.data_to_send() == b""
    s.answer_submit(23, 0, 1)
    assert sent(s)[0].command == "submit_resp"


def test_cmpp27_bytes_split_anyhow_with_the_submit() -> None:
    s = logged_in("cmpp20", now=0.0)
    s.tick(180.0)
    s.data_to_send()
    wire = V["CMPP-27"].data + V["CMPP-04"].data
    events = []
    for i in range(0, len(wire), 7):
        events += s.receive_data(wire[i:i + 7], 181.0)
    assert [type(e) for e in events] == [SubmitReceived]
    assert s.state is State.ACTIVE


# ----------------------------------------------------------------------- DELIVER

def test_report_deliver_in_cmpp20_is_vector_cmpp20() -> None:
    s = logged_in("cmpp20")
    f = V["CMPP-20"].expect["fields"]
    seq = s.deliver_report(REPORT, 1.0, {"msg_id": f["msg_id"], "dest_id": f["dest_id"]})
    assert seq is not None
    assert s.data_to_send() == reseq(V["CMPP-20"].data, seq)


def test_report_deliver_in_cmpp30_is_vector_cmpp19() -> None:
    s = logged_in("cmpp30")
    f = V["CMPP-19"].expect["fields"]
    seq = s.deliver_report(REPORT, 1.0, {"msg_id": f["msg_id"], "dest_id": f["dest_id"]})
    assert seq is not None
    assert s.data_to_send() == reseq(V["CMPP-19"].data, seq)


@pytest.mark.parametrize("protocol, vid, vresp", [("cmpp20", "CMPP-08", "CMPP-09"), ("cmpp30", "CMPP-10", "CMPP-11")])
def test_mo_deliver_bytes_and_answer(protocol: str, vid: str, vresp: str) -> None:
    s = logged_in(protocol)
    seq = s.deliver(V[vid].expect["fields"], 1.0)
    assert seq is not None
    assert s.data_to_send() == reseq(V[vid].data, seq)
    assert s.receive_data(reseq(V[vresp].data, seq), 2.0) == [DeliverAnswered(seq, 0)]
    assert s.in_flight == 0


def test_deliver_needs_login_and_respects_window() -> None:
    s = server()
    with pytest.raises(SessionStateError):
        s.deliver({}, 0.0)
    s = logged_in("cmpp30", window=2)
    assert s.deliver({}, 1.0) is not None and s.deliver({}, 1.0) is not None
    assert s.deliver({}, 1.0) is None and s.window_free == 0


def test_unanswered_deliver_is_resent_then_timed_out() -> None:
    s = logged_in("cmpp20")
    seq = s.deliver({"msg_content": b"x"}, 0.0)
    assert seq is not None
    first = s.data_to_send()
    s.tick(60.0)
    assert s.data_to_send() == first
    s.tick(120.0)
    assert s.data_to_send() == first
    assert s.tick(180.0) == [DeliverTimedOut(seq, {"msg_content": b"x"})]


def test_refused_deliver_reports_the_result() -> None:
    s = logged_in("cmpp30")
    seq = s.deliver({}, 0.0)
    assert seq is not None
    assert s.receive_data(pdu("cmpp30", "deliver_resp", seq, {"result": 9}), 1.0) == [DeliverAnswered(seq, 9)]


# ----------------------------------------------------------------------- the rest

def test_query_gets_zero_counts_and_cancel_fails() -> None:
    s = logged_in("cmpp30")
    s.receive_data(pdu("cmpp30", "query", 4, {"time": "20240101", "query_type": 1, "query_code": "test"})
                   + pdu("cmpp30", "cancel", 5, {"msg_id": 1}), 1.0)
    q, c = sent(s)
    assert (q.command, q.sequence, q["query_code"], q["mt_tlmsg"], q["mo_fl"]) == ("query_resp", 4, "test", 0, 0)
    assert (c.command, c.sequence, c["success_id"]) == ("cancel_resp", 5, 1)


@pytest.mark.parametrize("protocol", ["cmpp20", "cmpp30"])
def test_active_test_and_terminate_vectors(protocol: str) -> None:
    s = logged_in(protocol)
    assert s.receive_data(V["CMPP-12"].data, 1.0) == []
    assert s.data_to_send() == V["CMPP-13"].data
    [lost] = s.receive_data(V["CMPP-14"].data, 2.0)
    assert lost == LinkLost("the peer terminated", True, ())
    assert s.data_to_send() == V["CMPP-15"].data


def test_terminate_lists_unanswered_delivers() -> None:
    s = logged_in("cmpp20")
    seq = s.deliver({}, 1.0)
    assert seq is not None
    s.terminate(2.0)
    out = sent(s)
    assert [p.command for p in out] == ["deliver", "terminate"]
    [lost] = s.receive_data(pdu("cmpp20", "terminate_resp", out[1].sequence), 3.0)
    assert lost == LinkLost("terminated", True, (seq,))


def test_submit_after_our_terminate_is_refused() -> None:
    s = logged_in("cmpp20")
    s.terminate(1.0)
    s.data_to_send()
    assert s.receive_data(V["CMPP-04"].data, 1.5) == []
    assert sent(s)[0]["result"] == 2


def test_idle_sp_is_probed_then_dropped() -> None:
    s = logged_in("cmpp30", now=0.0)
    s.tick(180.0)
    s.tick(240.0)
    s.tick(300.0)
    assert [p.command for p in sent(s)] == ["active_test"] * 3
    [lost] = s.tick(360.0)
    assert isinstance(lost, LinkLost) and "active_test" in lost.reason


def test_authenticator_source_helper_agrees_with_vector() -> None:
    # guards the CONNECT_30 construction above: only the Version byte differs from CMPP-01
    f = V["CMPP-01"].expect["fields"]
    assert CONNECT_30[12:18] == SP_ID.encode() and CONNECT_30[-5] == 0x30
    assert authenticator_source(SP_ID, SECRET, f["timestamp"]) == CONNECT_30[18:34]
