"""The sans-IO SMGP 3.0 sessions (SP client, SMGW simulator server), driven with exact PDUs and a fake clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.codec import Pdu
from smsgw.domain.model import MessageState
from smsgw.protocols.smgp30.status import LoginMode, Status
from smsgw.protocols.vectors import load
from smsgw.session.carrier_events import (
    DeliverReceived, LinkLost, LoggedIn, LoginRefused, ProtocolErrorReceived, ReportReceived, RequestAnswered,
    RequestTimedOut, SubmitAnswered, SubmitReceived, SubmitTimedOut,
)
from smsgw.session.carrier_peer import NotReady, State
from smsgw.session.carrier_window import CarrierTimers
from smsgw.session.report_smgp import SmgpReport, make_msg_id
from smsgw.session.smgp_client import SmgpClientSession
from smsgw.session.smgp_peer import smgp_codec
from smsgw.session.smgp_server import LoginRequested, SmgpServerSession

CODEC = smgp_codec(0x30)
CODEC_13 = smgp_codec(0x13)
V = {v.id: v for v in load("smgp30")}
#: the TimeStamp 1121205613 of the go_smgp capture SMGP-01
LOGIN_TIME = datetime(2023, 11, 21, 20, 56, 13)
TIMERS = CarrierTimers(window=16, response_timeout=10, max_sends=3, active_test_interval=100, login_timeout=20)
SUBMIT_FIELDS: dict[str, Any] = {  # the body of SMGP-03 (go_smgp's transmitter)
    "need_report": 1, "priority": 1, "fee_type": "00", "fee_code": "0", "fixed_fee": "0", "msg_format": 15,
    "src_term_id": "10690001", "dest_term_id": ["13300000000"], "msg_content": b"hello SMGP",
    "tlvs": {"m_service_id": "", "tp_udhi": 0, "msg_src": "123456", "pk_total": 0, "pk_number": 0},
}


def pdus(data: bytes, codec: Any = CODEC) -> list[Pdu]:
    return [codec.decode(f) for f in codec.framer().feed(data)]


def encode(command: str, sequence: Any, fields: dict[str, Any] | None = None) -> bytes:
    return CODEC.encode(Pdu(command, sequence, fields or {}))


def logged_in(timers: CarrierTimers = TIMERS, mode: int = LoginMode.SEND, **kw: Any) -> SmgpClientSession:
    c = SmgpClientSession("10690001", "secret", 0.0, login_mode=mode, timers=timers, **kw)
    c.login(0.0, LOGIN_TIME)
    c.data_to_send()
    [event] = c.receive_data(V["SMGP-02"].data, 0.0)
    assert isinstance(event, LoggedIn)
    return c


def answer(c: SmgpClientSession, sequence: Any, status: int, now: float, msg_id: bytes = bytes(10)) -> list[Any]:
    return c.receive_data(encode("submit_resp", sequence, {"msg_id": msg_id, "status": status}), now)


# ------------------------------------------------------------------ client: login, submit, exit


def test_login_is_the_go_smgp_capture_and_its_answer_logs_in() -> None:
    c = SmgpClientSession("10690001", "secret", 0.0, login_mode=LoginMode.SEND, timers=TIMERS)
    assert c.login(0.0, LOGIN_TIME) == 1
    assert c.data_to_send() == V["SMGP-01"].data
    # go_smgp's mock sends the text "authserver" instead of an MD5: not authentic, still logged in
    assert c.receive_data(V["SMGP-02"].data, 0.1) == [LoggedIn(0x30, authentic=False)]
    assert c.state is State.ACTIVE and c.can_submit()


def test_refused_login() -> None:
    c = SmgpClientSession("10690001", "wrong", 0.0, timers=TIMERS)
    c.login(0.0, LOGIN_TIME)
    events = c.receive_data(encode("login_resp", 1, {"status": 21, "authenticator_server": bytes(16),
                                                       "server_version": 0x30}), 0.1)
    assert events[0] == LoginRefused(21, "authentication error")
    assert isinstance(events[1], LinkLost) and c.closed


def test_unanswered_login_drops_the_link() -> None:
    c = SmgpClientSession("10690001", "secret", 0.0, timers=TIMERS)
    c.login(0.0, LOGIN_TIME)
    assert c.tick(10.0) == [LinkLost("no answer to login")]


def test_submit_with_tlvs_is_the_go_smgp_capture_and_msg_id_is_the_carrier_id() -> None:
    c = logged_in()
    assert c.submit(SUBMIT_FIELDS, 1.0) == 2
    assert c.data_to_send() == V["SMGP-03"].data
    assert c.receive_data(V["SMGP-04"].data, 1.5) == [SubmitAnswered(2, 0, "00010203040506070809", False)]


def test_exit_is_the_capture_and_ends_cleanly_handing_back_submits() -> None:
    c = logged_in()
    seq = c.submit(SUBMIT_FIELDS, 1.0)
    c.data_to_send()
    c.exit(2.0)
    assert c.data_to_send() == V["SMGP-05"].data
    with pytest.raises(NotReady):
        c.submit(SUBMIT_FIELDS, 2.0)
    events = c.receive_data(encode("exit_resp", 3), 2.1)
    assert events == [LinkLost("exit acknowledged", clean=True,
                               unanswered=(("submit", seq, {"msg_type": 6, **SUBMIT_FIELDS}),))]


def test_submit_defaults_to_mt_and_refuses_tlvs_not_allowed_in_a_submit() -> None:
    c = logged_in()
    seq = c.submit({"dest_term_id": ["13300000000"], "msg_content": b"x",
                    "tlvs": {"link_id": "abc", "pk_total": 2, "pk_number": 1, "tp_udhi": 1}}, 1.0)
    [sent] = pdus(c.data_to_send())
    assert sent.sequence == seq and sent["msg_type"] == 6
    assert sent["tlvs"] == {"link_id": "abc", "pk_total": 2, "pk_number": 1, "tp_udhi": 1}
    with pytest.raises(ValueError, match="src_term_type"):
        c.submit({"tlvs": {"src_term_type": 0}}, 1.0)


def test_window_full_and_out_of_order_answers() -> None:
    c = logged_in(CarrierTimers(window=3, response_timeout=10))
    seqs = [c.submit(SUBMIT_FIELDS, 1.0) for _ in range(3)]
    assert not c.can_submit() and c.submit(SUBMIT_FIELDS, 1.0) is None
    assert len(pdus(c.data_to_send())) == 3
    events = []
    for i, seq in ((2, seqs[2]), (0, seqs[0]), (1, seqs[1])):
        events += answer(c, seq, 0, 2.0, msg_id=bytes([i]) * 10)
    assert [(e.sequence, e.message_id) for e in events] == [
        (seqs[2], "02" * 10), (seqs[0], "00" * 10), (seqs[1], "01" * 10)]
    assert c.can_submit()


def test_unanswered_submit_resent_then_given_up() -> None:
    c = logged_in()
    seq = c.submit(SUBMIT_FIELDS, 1.0)
    sent = c.data_to_send()
    assert c.tick(11.0) == [] and c.data_to_send() == sent
    assert c.tick(21.0) == [] and c.data_to_send() == sent
    assert c.tick(31.0) == [SubmitTimedOut(seq, {"msg_type": 6, **SUBMIT_FIELDS})]
    assert c.in_flight == 0 and c.state is State.ACTIVE
    assert answer(c, seq, 0, 32.0) == []  # too late: dropped


def test_system_busy_is_the_throttle() -> None:
    c = logged_in()
    seq = c.submit(SUBMIT_FIELDS, 1.0)
    assert answer(c, seq, Status.SYSTEM_BUSY, 2.0) == [SubmitAnswered(seq, 1, None, throttled=True)]
    seq = c.submit(SUBMIT_FIELDS, 3.0)
    assert answer(c, seq, Status.SP_DAILY_LIMIT, 4.0) == [SubmitAnswered(seq, 75, None, throttled=False)]


def test_receive_only_link_cannot_submit() -> None:
    c = logged_in(mode=LoginMode.RECEIVE)
    assert not c.can_submit()
    with pytest.raises(NotReady):
        c.submit(SUBMIT_FIELDS, 1.0)


# ------------------------------------------------------------------ client: Deliver (MO and reports)


def test_mo_deliver_is_answered_like_the_capture() -> None:
    c = logged_in(mode=LoginMode.RECEIVE)
    [mo] = c.receive_data(V["SMGP-06"].data, 1.0)
    assert mo == DeliverReceived(source="1069000000", destination="17611111111", coding=0,
                                 content=b"hello test msg", udhi=False, carrier_message_id="00010203040506070809")
    assert c.data_to_send() == V["SMGP-07"].data


def test_report_deliver_becomes_report_received() -> None:
    c = logged_in(mode=LoginMode.TRANSMIT)
    [report] = c.receive_data(V["SMGP-09"].data, 1.0)
    assert report == ReportReceived(message_id="01006101161700012345", state=MessageState.DELIVERED, stat="DELIVRD",
                                    err="000", recipient="13300000000", submit_date="0301161700",
                                    done_date="0301161701")
    [resp] = pdus(c.data_to_send())
    assert (resp.command, resp.sequence, resp["msg_id"].hex(), resp["status"]) == (
        "deliver_resp", 9, "01006101161800000001", 0)


def report_deliver(content: bytes, sequence: int = 10) -> bytes:
    return encode("deliver", sequence, {"msg_id": bytes(10), "is_report": 1, "src_term_id": "13300000000",
                                        "dest_term_id": "10690001", "msg_content": content})


def test_real_gateway_report_variant_and_failure_states() -> None:
    c = logged_in()
    [variant] = c.receive_data(report_deliver(V["SMGP-10"].data), 1.0)  # "submit_date", "txt:", 110 bytes
    assert (variant.message_id, variant.state, variant.stat) == ("6495c36ac4ea6b00000b", MessageState.DELIVERED,
                                                                 "DELIVRD")
    standard = V["SMGP-09"].expect["fields"]["msg_content"]
    [expired] = c.receive_data(report_deliver(standard.replace(b"DELIVRD err:000", b"EXPIRED err:001")), 1.0)
    assert (expired.state, expired.err) == (MessageState.EXPIRED, "001")
    [odd] = c.receive_data(report_deliver(standard.replace(b"DELIVRD", b"MK:0012")), 1.0)
    assert odd.state is MessageState.UNDELIVERED and odd.stat == "MK:0012"
    assert c.receive_data(report_deliver(standard.replace(b"DELIVRD", b"ACCEPTD")), 1.0) == []  # not final
    assert [p["status"] for p in pdus(c.data_to_send())] == [0, 0, 0, 0]


def test_unreadable_report_is_answered_with_structure_error() -> None:
    c = logged_in()
    [event] = c.receive_data(report_deliver(b"no report here"), 1.0)
    assert isinstance(event, ProtocolErrorReceived) and event.error.field == "msg_content"
    [resp] = pdus(c.data_to_send())
    assert (resp.command, resp["status"]) == ("deliver_resp", Status.MESSAGE_STRUCTURE)
    assert c.state is State.ACTIVE


def test_malformed_deliver_is_answered_with_its_msg_id_and_the_link_goes_on() -> None:
    c = logged_in()
    [event] = c.receive_data(V["SMGP-BAD-05"].data, 1.0)  # MsgLength 200 with 14 bytes
    assert isinstance(event, ProtocolErrorReceived)
    [resp] = pdus(c.data_to_send())
    assert (resp.command, resp.sequence, resp["status"]) == ("deliver_resp", 123, Status.ILLEGAL_MSG_LENGTH)
    assert resp["msg_id"].hex() == "00010203040506070809"
    assert isinstance(c.receive_data(V["SMGP-06"].data, 2.0)[0], DeliverReceived)


def test_deliver_before_login_and_unknown_commands() -> None:
    c = SmgpClientSession("10690001", "secret", 0.0, timers=TIMERS)
    c.login(0.0, LOGIN_TIME)
    c.data_to_send()
    assert c.receive_data(V["SMGP-06"].data, 0.1) == []
    [resp] = pdus(c.data_to_send())
    assert (resp.command, resp["status"]) == ("deliver_resp", Status.COMMAND_WORD)
    assert resp["msg_id"].hex() == "00010203040506070809"  # echoed even when refused
    [event] = c.receive_data(V["SMGP-BAD-04"].data, 0.2)  # Forward: not for an SP, nothing to answer with
    assert isinstance(event, ProtocolErrorReceived) and c.data_to_send() == b"" and not c.closed


def test_framing_error_drops_the_link() -> None:
    c = logged_in()
    events = c.receive_data(bytes.fromhex("00ffffff00000004" "00000001"), 1.0)
    assert isinstance(events[0], ProtocolErrorReceived) and isinstance(events[1], LinkLost) and c.closed


# ------------------------------------------------------------------ Active_Test and Exit


def test_peer_active_test_is_answered_even_the_cmpp_style_one() -> None:
    c = logged_in()
    c.receive_data(encode("active_test", 77), 1.0)
    assert c.data_to_send() == bytes.fromhex("0000000c80000004" "0000004d")
    [error] = c.receive_data(V["SMGP-BAD-11"].data, 1.0)  # with a 1-byte body (a CMPP habit)
    assert isinstance(error, ProtocolErrorReceived)
    [resp] = pdus(c.data_to_send())
    assert resp.command == "active_test_resp"


def test_idle_link_is_probed_resent_and_dropped_after_n() -> None:
    c = logged_in()
    assert c.next_deadline() == 100.0
    assert c.tick(99.0) == [] and c.data_to_send() == b""
    assert c.tick(100.0) == []
    [probe] = pdus(c.data_to_send())
    assert probe.command == "active_test"
    assert c.next_deadline() == 110.0
    assert c.tick(110.0) == [] and pdus(c.data_to_send()) == [probe]  # same probe again
    assert c.tick(120.0) == [] and pdus(c.data_to_send()) == [probe]
    assert c.tick(130.0) == [LinkLost("no answer to active_test")] and c.closed


def test_answered_probe_keeps_the_link() -> None:
    c = logged_in()
    c.tick(100.0)
    [probe] = pdus(c.data_to_send())
    assert c.receive_data(encode("active_test_resp", probe.sequence), 101.0) == []
    assert c.tick(130.0) == [] and c.state is State.ACTIVE
    assert c.next_deadline() == 201.0


def test_peer_exit_is_answered_and_ends_cleanly() -> None:
    c = logged_in()
    seq = c.submit(SUBMIT_FIELDS, 1.0)
    c.data_to_send()
    [lost] = c.receive_data(encode("exit", 5), 2.0)
    assert lost.clean and lost.reason == "peer exited" and [u[1] for u in lost.unanswered] == [seq]
    assert c.data_to_send() == bytes.fromhex("0000000c80000006" "00000005")


# ------------------------------------------------------------------ server (our SMGW simulator)


def login_pdu(version: int = 0x30, secret: str = "secret", mode: int = 2, sequence: int = 1) -> bytes:
    c = SmgpClientSession("10690001", secret, 0.0, login_mode=mode, version=version, first_sequence=sequence)
    c.login(0.0, LOGIN_TIME)
    return c.data_to_send()


def logged_in_server(version: int = 0x30, mode: int = 2, timers: CarrierTimers = TIMERS) -> SmgpServerSession:
    s = SmgpServerSession(0.0, timers)
    [login] = s.receive_data(login_pdu(version, mode=mode), 0.0)
    assert login.is_authentic("secret")
    s.accept_login(login.sequence, "secret")
    s.data_to_send()
    return s


def test_server_checks_login_through_the_application() -> None:
    s = SmgpServerSession(0.0, TIMERS)
    [login] = s.receive_data(V["SMGP-01"].data, 0.0)
    assert login == LoginRequested(1, "10690001", bytes.fromhex("783fc98158ad3577850be0c0ee72f96e"), 0,
                                   1121205613, 0x30)
    assert login.is_authentic("secret") and not login.is_authentic("other")
    s.accept_login(1, "secret")
    [resp] = pdus(s.data_to_send())
    assert (resp["status"], resp["server_version"]) == (0, 0x30)
    # AuthenticatorServer = MD5(status || AuthenticatorClient || secret): the client finds it authentic
    c = SmgpClientSession("10690001", "secret", 0.0, login_mode=0)
    c.login(0.0, LOGIN_TIME)
    assert c.receive_data(CODEC.encode(resp), 0.0) == [LoggedIn(0x30, authentic=True)]


def test_server_refusals_close() -> None:
    s = SmgpServerSession(0.0, TIMERS)
    [login] = s.receive_data(login_pdu(secret="guess"), 0.0)
    assert not login.is_authentic("secret")
    s.refuse_login(login.sequence)
    [resp] = pdus(s.data_to_send())
    assert (resp["status"], resp["authenticator_server"]) == (21, bytes(16)) and s.closed
    s = SmgpServerSession(0.0, TIMERS)
    [lost] = s.receive_data(login_pdu(version=0x31), 0.0)
    assert isinstance(lost, LinkLost) and pdus(s.data_to_send())[0]["status"] == Status.VERSION_TOO_HIGH


def test_server_no_login_in_time() -> None:
    s = SmgpServerSession(0.0, TIMERS)
    assert s.next_deadline() == 20.0 and s.tick(20.0) == [LinkLost("no login in time")]


def test_server_version_13_reads_the_submit_without_fixed_fee() -> None:
    s = logged_in_server(version=0x13)
    [submit] = s.receive_data(V["SMGP-08"].data, 1.0)  # a real 0x13 Submit, unknown TLV 0x0014 inside
    assert isinstance(submit, SubmitReceived) and "fixed_fee" not in submit.fields
    assert submit.fields["dest_term_id"] == ["13800138000"] and submit.fields["tlvs"][0x0014] == b"\x01"
    # the same bytes on a 3.0 session are garbage (smgp.md 5): refused, not misread
    s30 = logged_in_server(version=0x30)
    [error] = s30.receive_data(V["SMGP-08"].data, 1.0)
    assert isinstance(error, ProtocolErrorReceived)


def test_client_version_13_sends_the_short_submit() -> None:
    c = SmgpClientSession("10690001", "secret", 0.0, version=0x13, timers=TIMERS)
    c.login(0.0, LOGIN_TIME)
    assert pdus(c.data_to_send())[0]["client_version"] == 0x13
    c.receive_data(V["SMGP-02"].data, 0.0)
    c.submit(SUBMIT_FIELDS, 1.0)
    data = c.data_to_send()
    assert len(data) == len(V["SMGP-03"].data) - 6  # no FixedFee
    [submit] = pdus(data, CODEC_13)
    assert submit["dest_term_id"] == ["13300000000"] and submit["msg_content"] == b"hello SMGP"


def test_server_throttles_beyond_its_window_and_refuses_submit_on_receive_links() -> None:
    s = logged_in_server(timers=CarrierTimers(window=1))
    assert isinstance(s.receive_data(V["SMGP-03"].data, 1.0)[0], SubmitReceived)
    assert s.receive_data(encode("submit", 3, SUBMIT_FIELDS), 1.0) == []
    [busy] = pdus(s.data_to_send())
    assert (busy.sequence, busy["status"]) == (3, Status.SYSTEM_BUSY)
    s.respond_submit(2, 0, bytes(range(10)))
    assert s.data_to_send() == V["SMGP-04"].data
    r = logged_in_server(mode=LoginMode.RECEIVE)
    assert r.receive_data(V["SMGP-03"].data, 1.0) == []
    assert pdus(r.data_to_send())[0]["status"] == Status.COMMAND_WORD


def test_server_delivers_only_to_receiving_links_and_matches_answers() -> None:
    send_only = logged_in_server(mode=LoginMode.SEND)
    assert not send_only.can_deliver()
    with pytest.raises(NotReady):
        send_only.deliver({}, 1.0)
    s = logged_in_server(mode=LoginMode.RECEIVE)
    mo = {"msg_id": bytes(range(10)), "src_term_id": "1069000000", "dest_term_id": "17611111111",
          "msg_content": b"hello test msg"}
    seq = s.deliver(mo, 1.0)
    [sent] = pdus(s.data_to_send())
    assert sent.command == "deliver" and sent.sequence == seq
    assert s.receive_data(encode("deliver_resp", seq, {"msg_id": bytes(range(10))}), 1.5) == [
        RequestAnswered(seq, "deliver", 0)]
    again = s.deliver(mo, 2.0)
    s.tick(12.0)
    s.tick(22.0)
    assert s.tick(32.0) == [RequestTimedOut(again, "deliver", mo)]


# ------------------------------------------------------------------ client and server in memory


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


def test_full_cycle_login_submit_report_exit() -> None:
    sp = SmgpClientSession("10690001", "secret", 0.0, timers=TIMERS)
    smgw = SmgpServerSession(0.0, TIMERS)
    sp.login(0.0, LOGIN_TIME)
    _, [login] = pump(sp, smgw, 0.0)
    assert login.is_authentic("secret") and login.login_mode == LoginMode.TRANSMIT
    smgw.accept_login(login.sequence, "secret")
    [logged], _ = pump(sp, smgw, 0.1)
    assert logged == LoggedIn(0x30, authentic=True)

    seq = sp.submit({"src_term_id": "10690001", "dest_term_id": ["13300000000"], "need_report": 1,
                     "msg_format": 8, "msg_content": "你好".encode("utf-16-be")}, 1.0)
    _, [submitted] = pump(sp, smgw, 1.0)
    carrier_id = make_msg_id("010061", datetime(2023, 1, 16, 17, 0), 12345)
    smgw.respond_submit(submitted.sequence, 0, carrier_id)
    [answered], _ = pump(sp, smgw, 1.1)
    assert answered == SubmitAnswered(seq, 0, "01006101161700012345", False)

    report = SmgpReport(carrier_id, "001", "001", "2301161700", "2301161701", "UNDELIV", "004", b"")
    smgw.deliver_report(make_msg_id("010061", datetime(2023, 1, 16, 17, 1), 1), report, "13300000000",
                        "10690001", "20230116170100", 2.0)
    [got], [ack] = pump(sp, smgw, 2.0)
    assert got.message_id == answered.message_id and got.state is MessageState.UNDELIVERED and got.err == "004"
    assert ack.result == 0

    sp.exit(3.0)
    [sp_end], [smgw_end] = pump(sp, smgw, 3.0)
    assert sp_end == LinkLost("exit acknowledged", clean=True) and smgw_end == LinkLost("peer exited", clean=True)


# ------------------------------------------------------------------ never crash


VALID = [v.data for v in V.values() if v.kind == "pdu"]


@settings(max_examples=300, deadline=None)
@given(server=st.booleans(), chunks=st.lists(st.one_of(st.binary(max_size=80), st.sampled_from(VALID)),
                                              max_size=6),
       flips=st.lists(st.integers(0, 10_000), max_size=3))
def test_arbitrary_bytes_only_ever_produce_events(server: bool, chunks: list[bytes], flips: list[int]) -> None:
    s: Any = logged_in_server() if server else logged_in(mode=LoginMode.TRANSMIT)
    data = bytearray(b"".join(chunks))
    for f in flips:
        if data:
            data[f % len(data)] ^= 1 << (f % 8)
    now = 1.0
    for i in range(0, len(data), 23):
        s.receive_data(bytes(data[i:i + 23]), now)
        s.data_to_send()
        now += 1
    s.tick(now + 1000)
    s.connection_lost("end")
    assert s.closed
