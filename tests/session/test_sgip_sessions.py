"""The sans-IO SGIP 1.2 sessions, driven with exact PDUs (golden vectors) and a fake clock.

Roles: ``SgipClientSession`` (SP -> SMG, Bind type 1), ``SgipListenerSession``
(SMG -> SP, we accept Bind type 2), and our SMG simulator's two sides,
``SgipServerSession`` and ``SgipCallbackSession``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.codec import Pdu
from smsgw.domain.model import MessageState
from smsgw.protocols.sgip12.status import Result
from smsgw.protocols.vectors import load
from smsgw.session.carrier_events import (
    DeliverReceived, LinkLost, LoggedIn, LoginRefused, ProtocolErrorReceived, ReportReceived, RequestAnswered,
    RequestTimedOut, SubmitAnswered, SubmitReceived, SubmitTimedOut,
)
from smsgw.session.carrier_peer import NotReady, State
from smsgw.session.carrier_window import CarrierTimers
from smsgw.session.codecs import codec_for
from smsgw.session.sgip_callback import SgipCallbackSession
from smsgw.session.sgip_client import SgipClientSession
from smsgw.session.sgip_listener import BindRequested, SgipListenerSession, UserReported
from smsgw.session.sgip_sequence import SequenceGenerator, format_message_id
from smsgw.session.sgip_server import SgipServerSession

CODEC = codec_for("sgip12")
V = {v.id: v for v in load("sgip12")}
SP_NODE = 3010012345
SMG_NODE = 101001
#: Nov 21 20:55:57, the time word 1121205557 of the go_sgip captures (SGIP-02..07)
CAPTURE_TIME = datetime(2023, 11, 21, 20, 55, 57)
TIMERS = CarrierTimers(window=16, response_timeout=10, max_sends=3, idle_timeout=30, login_timeout=20,
                       peer_idle_timeout=60)
SUBMIT_FIELDS: dict[str, Any] = {  # the body of SGIP-04
    "sp_number": "10655912", "charge_number": "0" * 21, "user_number": ["8613800138000"], "corp_id": "12345",
    "service_type": "TEST", "fee_type": 1, "fee_value": "0", "given_value": "0", "morelateto_mt_flag": 2,
    "report_flag": 1, "message_coding": 15, "message_content": b"hello SGIP",
}


def sp_sequence(counter: int = 1) -> SequenceGenerator:
    return SequenceGenerator(SP_NODE, lambda: CAPTURE_TIME, counter)


def pdus(data: bytes) -> list[Pdu]:
    return [CODEC.decode(f) for f in CODEC.framer().feed(data)]


def encode(command: str, sequence: Any, fields: dict[str, Any] | None = None) -> bytes:
    return CODEC.encode(Pdu(command, sequence, fields or {}))


def bound_client(timers: CarrierTimers = TIMERS, **kw: Any) -> SgipClientSession:
    c = SgipClientSession("fakename", "1234", sp_sequence(), 0.0, timers, **kw)
    c.bind(0.0)
    c.data_to_send()
    assert c.receive_data(V["SGIP-03"].data, 0.0) == [LoggedIn()]
    return c


def answer(c: SgipClientSession, sequence: Any, result: int, now: float) -> list[Any]:
    return c.receive_data(encode("submit_resp", sequence, {"result": result}), now)


def bound_listener(timers: CarrierTimers = TIMERS) -> SgipListenerSession:
    s = SgipListenerSession(0.0, timers)
    [bind] = s.receive_data(V["SGIP-08"].data, 0.0)
    s.accept_bind(bind.sequence)
    s.data_to_send()
    return s


# ------------------------------------------------------------------ client (SP -> SMG)


def test_bind_is_the_go_sgip_capture_and_bind_resp_logs_in() -> None:
    c = SgipClientSession("fakename", "1234", sp_sequence(), 0.0, TIMERS)
    assert c.bind(0.0) == (SP_NODE, 1121205557, 1)
    assert c.data_to_send() == V["SGIP-02"].data
    assert c.state is State.LOGGING_IN and not c.can_submit()
    assert c.receive_data(V["SGIP-03"].data, 0.5) == [LoggedIn()]
    assert c.state is State.ACTIVE and c.can_submit()


def test_submit_bytes_and_answer_carry_the_triple_as_message_id() -> None:
    c = bound_client()
    triple = c.submit(SUBMIT_FIELDS, 1.0)
    assert triple == (SP_NODE, 1121205557, 2)
    assert c.data_to_send() == V["SGIP-04"].data
    assert c.receive_data(V["SGIP-05"].data, 2.0) == [
        SubmitAnswered(triple, 0, "301001234511212055570000000002", throttled=False)]
    assert c.in_flight == 0


def test_unbind_bytes_and_tolerated_unbind_resp_with_body() -> None:
    c = bound_client()
    c.submit(SUBMIT_FIELDS, 1.0)
    c.receive_data(V["SGIP-05"].data, 1.0)
    c.data_to_send()
    c.unbind(2.0)
    assert c.data_to_send() == V["SGIP-06"].data
    with pytest.raises(NotReady):
        c.submit(SUBMIT_FIELDS, 2.0)
    # SGIP-07: go_sgip's mock answers Unbind with a stray 9-byte body
    assert c.receive_data(V["SGIP-07"].data, 2.5) == [LinkLost("unbind acknowledged", clean=True)]
    assert c.closed and c.next_deadline() is None


def test_refused_bind() -> None:
    c = SgipClientSession("fakename", "bad", sp_sequence(), 0.0, TIMERS)
    seq = c.bind(0.0)
    events = c.receive_data(encode("bind_resp", seq, {"result": 1}), 0.1)
    assert events[0] == LoginRefused(1, "illegal login (name/password wrong or mismatched)")
    assert isinstance(events[1], LinkLost) and not events[1].clean and c.closed


def test_unanswered_bind_drops_the_link() -> None:
    c = SgipClientSession("fakename", "1234", sp_sequence(), 0.0, TIMERS)
    c.bind(0.0)
    c.data_to_send()
    assert c.next_deadline() == 10.0
    assert c.tick(9.9) == []
    [lost] = c.tick(10.0)
    assert lost == LinkLost("no answer to bind") and c.data_to_send() == b""


def test_window_full_refuses_until_an_answer_frees_a_slot() -> None:
    c = bound_client(CarrierTimers(window=2, response_timeout=10))
    first = c.submit(SUBMIT_FIELDS, 1.0)
    c.submit(SUBMIT_FIELDS, 1.0)
    assert not c.can_submit() and c.submit(SUBMIT_FIELDS, 1.0) is None
    assert len(pdus(c.data_to_send())) == 2  # the refused one was not sent
    answer(c, first, 0, 2.0)
    assert c.can_submit() and c.submit(SUBMIT_FIELDS, 2.0) is not None


def test_out_of_order_answers_match_their_submits() -> None:
    c = bound_client()
    seqs: list[Any] = [c.submit(SUBMIT_FIELDS, 1.0) for _ in range(3)]
    c.data_to_send()
    events = []
    for i in (2, 0, 1):
        events += answer(c, seqs[i], 0, 2.0)
    assert [e.sequence for e in events] == [seqs[2], seqs[0], seqs[1]]
    assert [e.message_id for e in events] == [format_message_id(seqs[i]) for i in (2, 0, 1)]
    # a second answer to the same submit is late: dropped, never answered
    assert answer(c, seqs[0], 0, 3.0) == [] and c.data_to_send() == b""


def test_unanswered_submit_is_resent_same_bytes_then_given_up() -> None:
    c = bound_client()
    seq = c.submit(SUBMIT_FIELDS, 1.0)
    sent = c.data_to_send()
    other = c.submit({**SUBMIT_FIELDS, "message_content": b"2"}, 1.0)
    c.data_to_send()
    assert c.next_deadline() == 11.0
    answer(c, other, 0, 2.0)  # the SMG is alive: it answers the other one
    assert c.tick(10.9) == [] and c.data_to_send() == b""
    assert c.tick(11.0) == [] and c.data_to_send() == sent  # second send: same triple
    assert c.next_deadline() == 21.0
    assert c.tick(21.0) == [] and c.data_to_send() == sent  # third and last send
    assert c.tick(31.0) == [SubmitTimedOut(seq, SUBMIT_FIELDS)]
    assert c.in_flight == 0 and c.state is State.ACTIVE  # given up, but heard from since: the link stays
    assert c.next_deadline() == 51.0  # idle counts from the last resend


def test_submit_given_up_with_nothing_heard_since_ends_the_session() -> None:
    # SGIP has no Active_Test: a silent SMG or a half-open connection shows only as unanswered submits
    c = bound_client()
    first = c.submit(SUBMIT_FIELDS, 1.0)
    later = c.submit({**SUBMIT_FIELDS, "message_content": b"2"}, 25.0)  # still within its own sends
    for t in (11.0, 21.0):
        c.data_to_send()
        assert c.tick(t) == []
    c.data_to_send()
    events = c.tick(31.0)
    assert events[0] == SubmitTimedOut(first, SUBMIT_FIELDS)
    [lost] = events[1:]
    assert isinstance(lost, LinkLost) and not lost.clean and "silent" in lost.reason
    assert lost.unanswered == (("submit", later, {**SUBMIT_FIELDS, "message_content": b"2"}),)  # handed back
    assert c.state is State.CLOSED and c.data_to_send() == b""  # no Unbind into the void


def test_a_byte_heard_after_the_submit_keeps_the_session() -> None:
    c = bound_client()
    seq = c.submit(SUBMIT_FIELDS, 1.0)
    c.data_to_send()
    before = c.submit({**SUBMIT_FIELDS, "message_content": b"2"}, 1.0)
    answer(c, before, Result.NODE_BUSY, 1.0)  # at the same instant, but after the send: heard since
    assert [e for t in (11.0, 21.0, 31.0) for e in c.tick(t)] == [SubmitTimedOut(seq, SUBMIT_FIELDS)]
    assert c.state is State.ACTIVE


def test_node_busy_is_a_throttle_without_message_id() -> None:
    c = bound_client()
    seq = c.submit(SUBMIT_FIELDS, 1.0)
    assert answer(c, seq, Result.NODE_BUSY, 2.0) == [SubmitAnswered(seq, 11, None, throttled=True)]
    seq = c.submit(SUBMIT_FIELDS, 3.0)
    assert answer(c, seq, 88, 4.0) == [SubmitAnswered(seq, 88, None, throttled=False)]  # not in the spec
    other = bound_client(throttle_results=(11, 88))
    seq = other.submit(SUBMIT_FIELDS, 1.0)
    assert answer(other, seq, 88, 2.0)[0].throttled


def test_idle_client_unbinds_and_reports_a_clean_end() -> None:
    c = bound_client()
    seq = c.submit(SUBMIT_FIELDS, 5.0)
    c.data_to_send()
    assert c.next_deadline() == 15.0  # the response timeout while a submit is out
    answer(c, seq, 0, 6.0)
    assert c.next_deadline() == 36.0  # idle since the answer
    assert c.tick(35.9) == [] and c.data_to_send() == b""
    assert c.tick(36.0) == []
    [unbind] = pdus(c.data_to_send())
    assert unbind.command == "unbind" and c.state is State.CLOSING
    assert c.receive_data(encode("unbind_resp", unbind.sequence), 36.1) == [LinkLost("idle", clean=True)]


def test_unanswered_unbind_still_ends_the_session() -> None:
    c = bound_client()
    c.unbind(1.0)
    assert c.tick(11.0) == [LinkLost("no answer to unbind")]


def test_peer_unbind_is_answered_and_hands_back_unanswered_submits() -> None:
    c = bound_client()
    seq = c.submit(SUBMIT_FIELDS, 1.0)
    c.data_to_send()
    events = c.receive_data(encode("unbind", (0, 1121205558, 3)), 2.0)
    assert events == [LinkLost("peer unbound", clean=True, unanswered=(("submit", seq, SUBMIT_FIELDS),))]
    assert c.data_to_send() == V["SGIP-10"].data  # Unbind_Resp without body, same triple


def test_deliver_on_the_submit_link_is_answered_with_an_error() -> None:
    c = bound_client()
    assert c.receive_data(V["SGIP-09"].data, 1.0) == []
    [resp] = pdus(c.data_to_send())
    assert (resp.command, resp.sequence, resp["result"]) == ("deliver_resp", (0, 1121205557, 2), 4)
    assert c.state is State.ACTIVE


def test_malformed_submit_resp_is_reported_not_answered() -> None:
    c = bound_client()
    seq = c.submit(SUBMIT_FIELDS, 1.0)
    assert seq is not None
    c.data_to_send()
    bad = bytearray(V["SGIP-BAD-08"].data)  # Submit_Resp with a 5-byte body
    bad[8:20] = b"".join(w.to_bytes(4, "big") for w in seq)
    [event] = c.receive_data(bytes(bad), 2.0)
    assert isinstance(event, ProtocolErrorReceived) and event.error.field == "reserve"
    assert c.data_to_send() == b"" and c.in_flight == 1 and c.state is State.ACTIVE


def test_unknown_request_and_impossible_length_drop_the_link() -> None:
    c = bound_client()
    events = c.receive_data(V["SGIP-BAD-04"].data, 1.0)  # AddSP: a request we cannot name
    assert isinstance(events[0], ProtocolErrorReceived) and isinstance(events[1], LinkLost)
    c = bound_client()
    events = c.receive_data(bytes.fromhex("00000005") + bytes(16), 1.0)
    assert isinstance(events[0], ProtocolErrorReceived) and events[0].error.fatal
    assert isinstance(events[1], LinkLost) and c.closed
    assert c.receive_data(V["SGIP-03"].data, 2.0) == [] and c.tick(100.0) == []


def test_connection_lost_hands_back_unanswered_submits_once() -> None:
    c = bound_client()
    a = c.submit(SUBMIT_FIELDS, 1.0)
    b = c.submit({**SUBMIT_FIELDS, "message_content": b"2"}, 1.0)
    answer(c, a, 0, 1.5)
    [lost] = c.connection_lost("reset by peer")
    assert lost.unanswered == (("submit", b, {**SUBMIT_FIELDS, "message_content": b"2"}),)
    assert c.connection_lost("again") == []


# ------------------------------------------------------------------ listener (SMG -> SP)


def test_listener_bind_deliver_and_report_from_vectors() -> None:
    s = SgipListenerSession(0.0, TIMERS)
    assert s.receive_data(V["SGIP-08"].data, 0.0) == [
        BindRequested((0, 1121205557, 1), 2, "fakename", "1234")]
    assert s.data_to_send() == b""  # the application decides first
    s.accept_bind((0, 1121205557, 1))
    assert s.data_to_send() == bytes.fromhex("0000001d80000001" "0000000042d43d3500000001" "00" + "00" * 8)
    [mo] = s.receive_data(V["SGIP-09"].data, 1.0)
    assert mo == DeliverReceived(source="8613800138000", destination="10655912", coding=15, content=b"MO hello",
                                 udhi=False, carrier_message_id="000000000011212055570000000002",
                                 extras={"tp_pid": 0})
    assert s.data_to_send() == bytes.fromhex("0000001d80000004" "0000000042d43d3500000002" "00" + "00" * 8)
    [report] = s.receive_data(V["SGIP-12"].data, 2.0)
    assert report == ReportReceived(message_id="301001234511212055570000000002", state=MessageState.DELIVERED,
                                    stat="0", err="0", recipient="8613800138000")
    assert s.data_to_send() == V["SGIP-13"].data


def report(triple: tuple[int, int, int], state: int, error: int, counter: int) -> bytes:
    return encode("report", (SMG_NODE, 1121210000, counter), {
        "submit_sequence_number": triple, "user_number": "8613800138000", "state": state, "error_code": error})


def test_listener_report_states() -> None:
    s = bound_listener()
    triple = (SP_NODE, 1121205557, 9)
    [failed] = s.receive_data(report(triple, 2, 25, 1), 1.0)
    assert (failed.state, failed.stat, failed.err) == (MessageState.UNDELIVERED, "2", "25")
    assert s.receive_data(report(triple, 1, 0, 2), 1.0) == []  # waiting: not final, no event
    assert [r["result"] for r in pdus(s.data_to_send())] == [0, 0]  # but both answered


def test_listener_userrpt() -> None:
    s = bound_listener()
    data = encode("userrpt", (SMG_NODE, 1121210000, 5),
                  {"sp_number": "10655912", "user_number": "8613800138000", "user_condition": 1})
    assert s.receive_data(data, 1.0) == [UserReported("10655912", "8613800138000", 1)]
    [resp] = pdus(s.data_to_send())
    assert (resp.command, resp["result"]) == ("userrpt_resp", 0)


def test_listener_refuses_bind_through_the_application() -> None:
    s = SgipListenerSession(0.0, TIMERS)
    [bind] = s.receive_data(V["SGIP-08"].data, 0.0)
    s.refuse_bind(bind.sequence)
    [resp] = pdus(s.data_to_send())
    assert (resp.command, resp["result"]) == ("bind_resp", 1) and s.closed


def test_listener_refuses_the_wrong_login_type_by_itself() -> None:
    s = SgipListenerSession(0.0, TIMERS)
    events = s.receive_data(V["SGIP-02"].data, 0.0)  # LoginType 1 is for the SMG's port, not ours
    assert len(events) == 1 and isinstance(events[0], LinkLost) and s.closed
    [resp] = pdus(s.data_to_send())
    assert (resp.command, resp["result"]) == ("bind_resp", 4)


def test_listener_requests_out_of_place() -> None:
    s = SgipListenerSession(0.0, TIMERS)
    assert s.receive_data(V["SGIP-09"].data, 0.0) == []  # Deliver before Bind
    s.receive_data(V["SGIP-08"].data, 0.0)  # Bind, awaiting the application
    s.receive_data(V["SGIP-08"].data, 0.0)  # a second Bind meanwhile
    s.accept_bind((0, 1121205557, 1))
    s.receive_data(V["SGIP-04"].data, 1.0)  # Submit on the SMG->SP connection
    got = [(p.command, p["result"]) for p in pdus(s.data_to_send())]
    assert got == [("deliver_resp", 1), ("bind_resp", 2), ("bind_resp", 0), ("submit_resp", 4)]


def test_listener_answers_malformed_deliver_and_goes_on() -> None:
    s = bound_listener()
    [error] = s.receive_data(V["SGIP-BAD-10"].data, 1.0)  # MessageLength 0xFFFFFFFF
    assert isinstance(error, ProtocolErrorReceived) and error.error.field == "message_content"
    [resp] = pdus(s.data_to_send())
    assert (resp.command, resp["result"]) == ("deliver_resp", Result.MESSAGE_LENGTH)
    assert isinstance(s.receive_data(V["SGIP-09"].data, 2.0)[0], DeliverReceived)


def test_listener_duplicate_triples() -> None:
    s = bound_listener()
    assert len(s.receive_data(V["SGIP-09"].data, 1.0)) == 1
    assert s.receive_data(V["SGIP-09"].data, 1.0) == []  # resent: answered again, not processed twice
    other = bytearray(V["SGIP-09"].data)
    other[-9] ^= 0x20  # same triple, other content
    assert s.receive_data(bytes(other), 1.0) == []
    assert [p["result"] for p in pdus(s.data_to_send())] == [0, 0, Result.ILLEGAL_SEQUENCE]


def test_listener_timers() -> None:
    s = SgipListenerSession(0.0, TIMERS)
    assert s.next_deadline() == 20.0
    assert s.tick(20.0) == [LinkLost("no bind in time")]
    s = bound_listener()
    s.receive_data(V["SGIP-09"].data, 5.0)
    assert s.next_deadline() == 65.0
    assert s.tick(65.0) == [LinkLost("peer idle", clean=True)]


def test_listener_answers_unbind() -> None:
    s = bound_listener()
    assert s.receive_data(encode("unbind", (0, 1121205558, 3)), 1.0) == [LinkLost("peer unbound", clean=True)]
    assert s.data_to_send() == V["SGIP-10"].data


# ------------------------------------------------------------------ our SMG simulator


def bound_server(timers: CarrierTimers = TIMERS) -> SgipServerSession:
    s = SgipServerSession(0.0, timers)
    [bind] = s.receive_data(V["SGIP-02"].data, 0.0)
    s.accept_bind(bind.sequence)
    assert s.data_to_send() == V["SGIP-03"].data
    return s


def test_server_takes_the_kaven276_submit_and_answers_it() -> None:
    s = bound_server()
    [event] = s.receive_data(V["SGIP-11"].data, 1.0)  # a Submit from an SP implementation we did not write
    assert isinstance(event, SubmitReceived) and event.sequence == (SP_NODE, 1121205659, 1)
    assert event.fields["message_coding"] == 8 and event.fields["user_number"] == ["8613800138000"]
    assert s.data_to_send() == b""
    s.respond_submit(event.sequence)
    s.respond_submit(event.sequence)  # once only
    [resp] = pdus(s.data_to_send())
    assert (resp.command, resp.sequence, resp["result"]) == ("submit_resp", event.sequence, 0)
    # the same Submit again (its answer was lost): answered again, not a second message
    assert s.receive_data(V["SGIP-11"].data, 2.0) == [] and pdus(s.data_to_send())[0]["result"] == 0


def test_server_throttles_beyond_its_window_and_stays_awake_while_deciding() -> None:
    s = bound_server(CarrierTimers(window=1, peer_idle_timeout=60))
    assert isinstance(s.receive_data(V["SGIP-04"].data, 1.0)[0], SubmitReceived)
    assert s.receive_data(V["SGIP-11"].data, 1.0) == []
    [busy] = pdus(s.data_to_send())
    assert (busy.sequence, busy["result"]) == ((SP_NODE, 1121205659, 1), Result.NODE_BUSY)
    assert s.next_deadline() is None  # a Submit is still with the application
    s.respond_submit((SP_NODE, 1121205557, 2))
    assert s.next_deadline() == 61.0


def test_server_refuses_bind_type_2_and_submit_before_bind() -> None:
    s = SgipServerSession(0.0, TIMERS)
    assert s.receive_data(V["SGIP-04"].data, 0.0) == []
    assert isinstance(s.receive_data(V["SGIP-08"].data, 0.0)[0], LinkLost)
    assert [(p.command, p["result"]) for p in pdus(s.data_to_send())] == [("submit_resp", 1), ("bind_resp", 4)]


def test_callback_sends_report_and_matches_answers() -> None:
    cb = SgipCallbackSession("smg", "pw", SequenceGenerator(SMG_NODE, lambda: datetime(2023, 11, 21, 21, 0)),
                             0.0, TIMERS)
    cb.bind(0.0)
    [bind] = pdus(cb.data_to_send())
    assert (bind["login_type"], bind["login_name"], bind.sequence) == (2, "smg", (SMG_NODE, 1121210000, 0))
    assert cb.receive_data(encode("bind_resp", bind.sequence), 0.1) == [LoggedIn()]
    seq = cb.report({"submit_sequence_number": (SP_NODE, 1121205557, 2), "user_number": "8613800138000"}, 1.0)
    assert cb.data_to_send() == V["SGIP-12"].data  # the vector is exactly such a Report
    assert cb.receive_data(V["SGIP-13"].data, 1.1) == [RequestAnswered(seq, "report", 0)]
    mo = cb.deliver({"user_number": "8613800138000", "sp_number": "10655912", "message_content": b"x"}, 2.0)
    assert cb.tick(12.0) == [] and cb.tick(22.0) == []
    assert cb.tick(32.0) == [RequestTimedOut(mo, "deliver", {"user_number": "8613800138000",
                                                             "sp_number": "10655912", "message_content": b"x"})]


# ------------------------------------------------------------------ both directions in memory


def pump(a: Any, b: Any, now: float) -> tuple[list[Any], list[Any]]:
    """Carry bytes both ways until both are quiet; returns the events of a and of b."""
    ea: list[Any] = []
    eb: list[Any] = []
    while True:
        ab, ba = a.data_to_send(), b.data_to_send()
        if not ab and not ba:
            return ea, eb
        if ab:
            eb += b.receive_data(ab, now)
        if ba:
            ea += a.receive_data(ba, now)


def test_full_cycle_bind_submit_report_over_both_connections() -> None:
    sp = SgipClientSession("sp", "secret", sp_sequence(0), 0.0, TIMERS)
    smg = SgipServerSession(0.0, TIMERS)
    sp.bind(0.0)
    _, [bind] = pump(sp, smg, 0.0)
    assert bind.password == "secret"
    smg.accept_bind(bind.sequence)
    [logged_in], _ = pump(sp, smg, 0.1)
    assert logged_in == LoggedIn()
    seq = sp.submit(SUBMIT_FIELDS, 1.0)
    _, [submitted] = pump(sp, smg, 1.0)
    smg.respond_submit(submitted.sequence)
    [answered], _ = pump(sp, smg, 1.1)
    assert answered.sequence == seq and answered.accepted

    # the SMG opens its own connection to the SP's listener for the report
    callback = SgipCallbackSession("smg", "pw", SequenceGenerator(SMG_NODE, lambda: CAPTURE_TIME), 2.0, TIMERS)
    listener = SgipListenerSession(2.0, TIMERS)
    callback.bind(2.0)
    _, [cb_bind] = pump(callback, listener, 2.0)
    listener.accept_bind(cb_bind.sequence)
    pump(callback, listener, 2.0)
    callback.report({"submit_sequence_number": submitted.sequence, "user_number": "8613800138000",
                     "state": 2, "error_code": 29}, 3.0)
    [ack], [got] = pump(callback, listener, 3.0)
    assert isinstance(ack, RequestAnswered) and ack.result == 0
    assert got.message_id == answered.message_id and got.state is MessageState.UNDELIVERED and got.err == "29"
    callback.unbind(4.0)
    [cb_end], [l_end] = pump(callback, listener, 4.0)
    assert cb_end.clean and l_end == LinkLost("peer unbound", clean=True)


# ------------------------------------------------------------------ never crash


SESSIONS = st.sampled_from(["client", "listener", "server", "callback"])


def any_session(kind: str) -> Any:
    if kind == "client":
        return bound_client()
    if kind == "listener":
        return bound_listener()
    if kind == "server":
        return bound_server()
    cb = SgipCallbackSession("smg", "pw", SequenceGenerator(SMG_NODE, lambda: CAPTURE_TIME), 0.0, TIMERS)
    seq = cb.bind(0.0)
    cb.receive_data(encode("bind_resp", seq), 0.0)
    return cb


VALID = [v.data for v in V.values() if v.kind == "pdu"]


@settings(max_examples=300, deadline=None)
@given(kind=SESSIONS, chunks=st.lists(st.one_of(st.binary(max_size=80), st.sampled_from(VALID)), max_size=6),
       flips=st.lists(st.integers(0, 10_000), max_size=3))
def test_arbitrary_bytes_only_ever_produce_events(kind: str, chunks: list[bytes], flips: list[int]) -> None:
    s = any_session(kind)
    data = bytearray(b"".join(chunks))
    for f in flips:
        if data:
            data[f % len(data)] ^= 1 << (f % 8)
    now = 1.0
    for i in range(0, len(data), 17):
        s.receive_data(bytes(data[i:i + 17]), now)
        s.data_to_send()
        now += 1
    s.tick(now + 1000)
    s.connection_lost("end")
    assert s.closed
