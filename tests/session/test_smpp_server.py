"""The sans-IO SMPP server session, driven with exact PDUs and a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from smsgw.codec import Pdu
from smsgw.protocols.smpp34.status import CommandStatus as S
from smsgw.session.codecs import codec_for
from smsgw.session.smpp_server import (
    BindRequested, CloseConnection, DeliveryAnswered, DeliveryTimedOut, ProtocolErrorReceived, RequestReceived,
    SmppServerSession, State, Timers, Unbound,
)

CODEC = codec_for("smpp34")


def pdu(command: str, sequence: int, fields: dict[str, Any] | None = None, status: int = 0) -> bytes:
    return CODEC.encode(Pdu(command, sequence, fields or {}, status))


def replies(session: SmppServerSession) -> list[Pdu]:
    data = session.data_to_send()
    framer = CODEC.framer()
    return [CODEC.decode(f) for f in framer.feed(data)]


def bound(mode: str = "transceiver", now: float = 0.0) -> SmppServerSession:
    s = SmppServerSession(CODEC, now, Timers(enquire_link_interval=30, response_timeout=10, bind_timeout=60))
    [event] = s.receive_data(pdu(f"bind_{mode}", 1, {"system_id": "demo", "password": "demo"}), now)
    assert isinstance(event, BindRequested)
    s.accept_bind(1, mode, "demo")
    replies(s)
    return s


def test_bind_transceiver_smpplib_bytes_accepted() -> None:
    s = SmppServerSession(CODEC, 0.0)
    # SMPP-01: smpplib's bind_transceiver test/secret, interface_version 0x34
    events = s.receive_data(bytes.fromhex("0000002100000009000000000000000274657374007365637265740000340000" "00"), 0.0)
    assert events == [BindRequested(2, "transceiver", "test", "secret", "", 0x34, "")]
    assert s.state is State.BINDING
    s.accept_bind(2, "transceiver", "test", our_system_id="SMSC")
    [resp] = replies(s)
    assert resp.command == "bind_transceiver_resp" and resp.sequence == 2 and resp.status == 0
    assert resp["system_id"] == "SMSC" and resp["tlvs"] == {"sc_interface_version": 0x34}
    assert s.state is State.BOUND_TRX


def test_rejected_bind_has_no_body_and_allows_retry() -> None:
    s = SmppServerSession(CODEC, 0.0)
    s.receive_data(pdu("bind_transmitter", 5, {"system_id": "demo", "password": "bad"}), 0.0)
    s.reject_bind(5, "transmitter", S.ESME_RINVPASWD)
    data = s.data_to_send()
    assert data == bytes.fromhex("00000010" "80000002" "0000000e" "00000005")
    assert s.state is State.OPEN
    [event] = s.receive_data(pdu("bind_transmitter", 6, {"system_id": "demo", "password": "demo"}), 1.0)
    assert isinstance(event, BindRequested)


def test_submit_before_bind_is_invalid_bind_status() -> None:
    s = SmppServerSession(CODEC, 0.0)
    assert s.receive_data(pdu("submit_sm", 3, {"destination_addr": "13800138000"}), 0.0) == []
    [resp] = replies(s)
    assert (resp.command, resp.sequence, resp.status) == ("submit_sm_resp", 3, S.ESME_RINVBNDSTS)


def test_receiver_cannot_submit_and_second_bind_is_already_bound() -> None:
    s = bound("receiver")
    s.receive_data(pdu("submit_sm", 3), 0.0)
    s.receive_data(pdu("bind_transceiver", 4, {"system_id": "demo", "password": "demo"}), 0.0)
    r1, r2 = replies(s)
    assert (r1.command, r1.status) == ("submit_sm_resp", S.ESME_RINVBNDSTS)
    assert (r2.command, r2.status) == ("bind_transceiver_resp", S.ESME_RALYBND)


def test_submit_goes_to_application_and_is_answered_once() -> None:
    s = bound()
    [event] = s.receive_data(pdu("submit_sm", 7, {"destination_addr": "13800138000", "short_message": b"hi"}), 0.0)
    assert isinstance(event, RequestReceived) and event.pdu["short_message"] == b"hi"
    assert replies(s) == []  # nothing is answered before the application says so (durable first)
    s.respond(event.pdu, S.ESME_ROK, {"message_id": "00ab"})
    s.respond(event.pdu, S.ESME_ROK, {"message_id": "00ab"})
    assert [(r.command, r.sequence, r["message_id"]) for r in replies(s)] == [("submit_sm_resp", 7, "00ab")]


def test_window_full_is_throttled() -> None:
    s = SmppServerSession(CODEC, 0.0, window=2)
    s.receive_data(pdu("bind_transmitter", 1, {"system_id": "a"}), 0.0)
    s.accept_bind(1, "transmitter", "a")
    replies(s)
    events = s.receive_data(b"".join(pdu("submit_sm", n) for n in (2, 3, 4)), 0.0)
    assert [type(e) for e in events] == [RequestReceived, RequestReceived]
    [resp] = replies(s)
    assert (resp.sequence, resp.status) == (4, S.ESME_RTHROTTLED)


def test_enquire_link_answered_in_any_state() -> None:
    s = SmppServerSession(CODEC, 0.0)
    s.receive_data(bytes.fromhex("00000010000000150000000000000007"), 0.0)  # SMPP-07
    assert s.data_to_send() == bytes.fromhex("00000010800000150000000000000007")  # SMPP-08


def test_unknown_command_gets_generic_nack_and_session_continues() -> None:
    s = bound()
    events = s.receive_data(bytes.fromhex("00000010" "00000099" "00000000" "0000000c") + pdu("enquire_link", 13), 0.0)
    assert isinstance(events[0], ProtocolErrorReceived)
    nack, ok = replies(s)
    assert (nack.command, nack.sequence, nack.status) == ("generic_nack", 12, S.ESME_RINVCMDID)
    assert ok.command == "enquire_link_resp"
    assert s.state is State.BOUND_TRX


@pytest.mark.parametrize("length", [8, 15, 10_000_000])
def test_impossible_length_nacks_and_closes(length: int) -> None:
    s = bound()
    events = s.receive_data(length.to_bytes(4, "big") + bytes.fromhex("00000004" "00000000" "00000009"), 0.0)
    assert isinstance(events[-1], CloseConnection)
    [nack] = replies(s)
    assert (nack.command, nack.status) == ("generic_nack", S.ESME_RINVCMDLEN)
    assert s.state is State.CLOSED
    assert s.receive_data(pdu("enquire_link", 1), 1.0) == []


def test_bad_field_answers_with_the_fields_status() -> None:
    s = bound()
    good = pdu("submit_sm", 21, {"destination_addr": "13800138000"})
    # make destination_addr 25 characters with no NUL within 21 bytes
    bad = good.replace(b"13800138000\x00", b"1" * 25 + b"\x00")
    bad = len(bad).to_bytes(4, "big") + bad[4:]
    events = s.receive_data(bad, 0.0)
    assert isinstance(events[0], ProtocolErrorReceived) and events[0].error.field == "destination_addr"
    [resp] = replies(s)
    assert (resp.command, resp.sequence, resp.status) == ("submit_sm_resp", 21, S.ESME_RINVDSTADR)


def test_client_unbind_answers_and_closes() -> None:
    s = bound()
    events = s.receive_data(bytes.fromhex("00000010000000060000000000000008"), 0.0)  # SMPP-09
    assert isinstance(events[0], Unbound) and isinstance(events[1], CloseConnection)
    assert s.data_to_send() == bytes.fromhex("00000010800000060000000000000008")  # SMPP-10


def test_deliver_and_answer_matching() -> None:
    s = bound("receiver")
    seq = s.deliver({"source_addr": "13800138000", "destination_addr": "1065", "esm_class": 4,
                     "short_message": b"id:1 stat:DELIVRD"}, 0.0)
    [sent] = replies(s)
    assert sent.command == "deliver_sm" and sent.sequence == seq
    events = s.receive_data(bytes.fromhex("00000011800000050000000000000000")[:12] + seq.to_bytes(4, "big") + b"\0", 1.0)
    assert events == [DeliveryAnswered(seq, 0)]
    assert s.outstanding == 0


def test_transmitter_cannot_be_delivered_to() -> None:
    s = bound("transmitter")
    assert not s.can_deliver()
    with pytest.raises(RuntimeError):
        s.deliver({}, 0.0)


def test_unanswered_deliver_times_out() -> None:
    s = bound("transceiver")
    seq = s.deliver({"short_message": b"x"}, 0.0)
    replies(s)
    assert s.next_deadline() == 10.0
    assert s.tick(9.9) == []
    assert s.tick(10.0) == [DeliveryTimedOut(seq)]


def test_idle_client_is_probed_then_dropped() -> None:
    s = bound(now=0.0)
    assert s.next_deadline() == 30.0
    assert s.tick(30.0) == []
    [probe] = replies(s)
    assert probe.command == "enquire_link"
    assert s.next_deadline() == 40.0
    events = s.tick(40.0)
    assert isinstance(events[-1], CloseConnection) and s.state is State.CLOSED


def test_answered_probe_keeps_session() -> None:
    s = bound(now=0.0)
    s.tick(30.0)
    [probe] = replies(s)
    s.receive_data(pdu("enquire_link_resp", probe.sequence), 31.0)
    assert s.tick(40.0) == [] and s.state is State.BOUND_TRX
    assert s.next_deadline() == 61.0


def test_no_bind_in_time_closes() -> None:
    s = SmppServerSession(CODEC, 0.0, Timers(bind_timeout=5))
    assert s.next_deadline() == 5
    assert isinstance(s.tick(5.0)[0], CloseConnection)


def test_password_checking_time_does_not_run_out_the_bind_timeout() -> None:
    s = SmppServerSession(CODEC, 0.0, Timers(bind_timeout=5))
    s.receive_data(pdu("bind_transmitter", 1, {"system_id": "demo", "password": "demo"}), 4.0)
    # the application is still hashing the password when the connection's own 5 s are up
    assert s.next_deadline() == 9.0 and s.tick(5.0) == [] and s.state is State.BINDING
    s.reject_bind(1, "transmitter", S.ESME_RINVPASWD)
    replies(s)
    # refused: the client has what is left of the 5 s counted from its bind request to try again
    assert s.tick(8.9) == [] and s.state is State.OPEN
    assert isinstance(s.tick(9.0)[0], CloseConnection)
    hung = SmppServerSession(CODEC, 0.0, Timers(bind_timeout=5))
    hung.receive_data(pdu("bind_transmitter", 1, {"system_id": "demo", "password": "demo"}), 1.0)
    assert isinstance(hung.tick(6.0)[0], CloseConnection)  # an application that never answers is not waited for


def test_our_unbind_waits_for_answer() -> None:
    s = bound()
    s.unbind(0.0)
    [u] = replies(s)
    assert u.command == "unbind" and s.state is State.UNBINDING
    events = s.receive_data(pdu("unbind_resp", u.sequence), 1.0)
    assert isinstance(events[-1], CloseConnection) and s.state is State.CLOSED
