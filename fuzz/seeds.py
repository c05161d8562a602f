"""Seed inputs for every target, built from the golden vectors (``protocols/<id>/vectors/*.json``).

Seeds start a campaign deep inside the decoders and sessions: real PDUs from
implementations we did not write, behind the flags byte each harness reads
(``fuzz.stream``), plus the responses that match the requests a harness makes
itself (submit sequences are deterministic).  ``python -m fuzz.seeds`` writes
them into ``fuzz/corpus/<target>/`` under libFuzzer's names (SHA-1 of the
content), next to what earlier campaigns kept.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from typing import Any, Callable, Iterator

from smsgw.codec import Pdu
from smsgw.protocols import PROTOCOL_IDS
from smsgw.protocols.vectors import Vector, load, load_all
from smsgw.session.codecs import codec_for
from smsgw.session.sgip_sequence import time_word

from fuzz import carrier_targets, text_target
from fuzz.stream import join
from fuzz.targets import TARGETS

# flags bits (fuzz.stream: bits 0-2 are the chunk size)
WHOLE, BY_7 = 0, 3
BOUND_TRX = 0x08 | (2 << 4)  # smpp_server: already bound as a transceiver
VARIANT = 0x10  # carrier targets: cmpp30 / SMGP 0x13 / refuse the stream's Bind
THREE_SUBMITS = 3 << 5


def pdus(protocol: str) -> list[Vector]:
    return [v for v in load(protocol) if v.kind == "pdu"]


def decoder_seeds(protocol: str) -> Iterator[bytes]:
    yield from (v.data for v in load(protocol) if v.kind in ("pdu", "bad"))


def framer_seeds() -> Iterator[bytes]:
    for index, protocol in enumerate(PROTOCOL_IDS):
        stream = b"".join(v.data for v in pdus(protocol))
        for chunking in (WHOLE, BY_7):
            yield join((index << 3) | chunking, stream)
        yield join(index << 3, b"".join(v.data for v in load(protocol) if v.kind == "bad"))


#: submit_sm fields that reach the corners of read_submission (times, concatenation, codings, flags)
SUBMIT_VARIANTS: tuple[dict[str, Any], ...] = (
    {"validity_period": "240601120000032+", "schedule_delivery_time": "000001000000000R"},
    {"validity_period": "240231250000049-"},
    {"schedule_delivery_time": "990000000000000R", "validity_period": "000000000001000R"},
    {"esm_class": 0x40, "data_coding": 8, "short_message": bytes.fromhex("050003a70201") + "长短信".encode("utf-16-be")},
    {"tlvs": {"sar_msg_ref_num": 0x1234, "sar_total_segments": 2, "sar_segment_seqnum": 1}},
    {"tlvs": {"sar_msg_ref_num": 7, "sar_total_segments": 3}},
    {"data_coding": 8, "short_message": b"", "tlvs": {"message_payload": ("长" * 200).encode("utf-16-be")}},
    {"data_coding": 0xF0, "short_message": b"\x1b\x65 GSM"},
    {"data_coding": 3, "short_message": "café".encode("latin-1")},
    {"data_coding": 15, "short_message": "短信".encode("gbk")},
    {"data_coding": 4, "short_message": bytes(range(200))},
    {"registered_delivery": 3, "priority_flag": 5},
    {"destination_addr": "+8613800138000"},
    {"destination_addr": "1380013800x"},
)


def smpp_requests() -> list[bytes]:
    """Crafted requests of a bound client, sequences 10 and up."""
    codec = codec_for("smpp34")
    base = {"source_addr": "1065", "destination_addr": "13800138000", "short_message": b"hello"}
    out = [codec.encode(Pdu("submit_sm", 10 + i, {**base, **v})) for i, v in enumerate(SUBMIT_VARIANTS)]
    others: tuple[tuple[str, dict[str, Any]], ...] = (
        ("data_sm", {"destination_addr": "13800138000", "data_coding": 8,
                     "tlvs": {"message_payload": "数据".encode("utf-16-be")}}),
        ("replace_sm", {"message_id": "1", "short_message": "新".encode("utf-16-be"),
                        "validity_period": "000001000000000R"}),
        ("query_sm", {"message_id": "1"}),
        ("cancel_sm", {"message_id": "1", "destination_addr": "13800138000"}),
        ("submit_multi", {"dest_address": [{"dest_flag": 1, "destination_addr": "13800138000"},
                                           {"dest_flag": 2, "dl_name": "list"}], "short_message": b"hi"}),
        ("outbind", {"system_id": "x"}),
    )
    out += [codec.encode(Pdu(command, 40 + i, fields)) for i, (command, fields) in enumerate(others)]
    return out


def smpp_answers() -> list[bytes]:
    """Answers to what the session sends by itself: deliver_sm (sequence 1 on), enquire_link, unbind."""
    codec = codec_for("smpp34")
    out = [codec.encode(Pdu("deliver_sm_resp", s, {}, status)) for s, status in ((1, 0), (2, 0x45), (3, 0))]
    out += [codec.encode(Pdu("enquire_link_resp", s)) for s in range(4, 10)]
    out += [codec.encode(Pdu("generic_nack", 4, {}, 3)), codec.encode(Pdu("unbind", 99))]
    return out


def smpp_server_seeds() -> Iterator[bytes]:
    requests = [v.data for v in pdus("smpp34") if not v.expect["command"].endswith("_resp")]
    binds = [v.data for v in pdus("smpp34") if v.expect["command"].startswith("bind_")]
    for data in requests + smpp_requests():
        yield join(BOUND_TRX, data)
    yield join(BOUND_TRX | BY_7, *requests)
    yield join(BOUND_TRX | BY_7, *smpp_requests())
    yield join(BOUND_TRX | 1, *smpp_answers())  # byte by byte: the pause falls mid-stream
    yield join(WHOLE, *binds, *requests)
    for v in load("smpp34"):
        if v.kind == "bad":
            yield join(BOUND_TRX, v.data)


def reseq_cmpp(data: bytes, sequence: int) -> bytes:
    return data[:8] + sequence.to_bytes(4, "big") + data[12:]


def cmpp_client_seeds() -> Iterator[bytes]:
    for variant, protocol in ((0, "cmpp20"), (VARIANT, "cmpp30")):
        codec = codec_for(protocol)
        flags = variant | THREE_SUBMITS
        answers = [codec.encode(Pdu("submit_resp", s, {"msg_id": 0x1234_5678_9ABC_DEF0 + s, "result": r}))
                   for s, r in ((2, 0), (3, 8), (4, 0))]
        yield join(flags, *answers)
        # chunked: after the pause halfway our ACTIVE_TEST (sequence 5) goes out and is answered
        deliver = next(v.data for v in pdus(protocol) if v.expect["command"] == "deliver")
        yield join(flags | BY_7, *answers, deliver, codec.encode(Pdu("active_test_resp", 5)))
        for v in pdus(protocol) + [v for v in load(protocol) if v.kind == "bad"]:
            yield join(flags, v.data)
        yield join(variant | 0x08, b"".join(v.data for v in pdus(protocol)))  # the stream logs in itself


def sgip_triple(counter: int) -> tuple[int, int, int]:
    return carrier_targets.SP_NODE, time_word(carrier_targets.WALL), counter


def sgip_seeds(listener: bool) -> Iterator[bytes]:
    codec = codec_for("sgip12")
    vectors = pdus("sgip12") + [v for v in load("sgip12") if v.kind == "bad"]
    flags = 0 if listener else THREE_SUBMITS
    if not listener:
        answers = [codec.encode(Pdu("submit_resp", sgip_triple(c), {"result": r}))
                   for c, r in ((2, 0), (3, 11), (4, 0))]
        yield join(flags, *answers)
        # chunked: the pause halfway unbinds the idle link (triple 5), and the SMG answers
        yield join(flags | BY_7, *answers, codec.encode(Pdu("unbind_resp", sgip_triple(5))))
    else:
        smg = (carrier_targets.SMG_NODE, 501080000)
        report = {"submit_sequence_number": sgip_triple(2), "user_number": "8613800138000", "state": 0}
        deliver = {"user_number": "8613800138000", "sp_number": "1065", "message_coding": 8,
                   "message_content": "回复".encode("utf-16-be")}
        requests = [
            codec.encode(Pdu("report", (*smg, 9), report)),
            codec.encode(Pdu("report", (*smg, 10), {**report, "state": 1})),
            codec.encode(Pdu("report", (*smg, 11), {**report, "state": 9})),
            codec.encode(Pdu("deliver", (*smg, 12), deliver)),
            codec.encode(Pdu("deliver", (*smg, 12), deliver)),  # a resend: answered again, not processed
            codec.encode(Pdu("deliver", (*smg, 12), {**deliver, "message_content": b"other"})),
            codec.encode(Pdu("userrpt", (*smg, 13), {"sp_number": "1065", "user_number": "8613800138000",
                                                     "user_condition": 1})),
            codec.encode(Pdu("submit", (*smg, 14), {"sp_number": "1065", "user_number": ["8613800138000"]})),
        ]
        yield join(flags, *requests)
        yield join(BY_7, *requests)
        yield join(0x08 | VARIANT, next(v.data for v in vectors if v.id == "SGIP-08"))  # a refused Bind
    for v in vectors:
        yield join(flags, v.data)
    yield join(0x08, *(v.data for v in vectors))


def smgp_client_seeds() -> Iterator[bytes]:
    codec = codec_for("smgp30")
    answers = [codec.encode(Pdu("submit_resp", s, {"msg_id": bytes(range(s, s + 10)), "status": r}))
               for s, r in ((2, 0), (3, 1), (4, 0))]
    deliver = next(v.data for v in pdus("smgp30") if v.expect["command"] == "deliver")
    for variant in (0, VARIANT):
        yield join(variant | THREE_SUBMITS, *answers)
        yield join(variant | THREE_SUBMITS | BY_7, *answers, deliver, codec.encode(Pdu("active_test_resp", 5)))
        for v in pdus("smgp30") + [v for v in load("smgp30") if v.kind == "bad"]:
            yield join(variant | THREE_SUBMITS, v.data)


def text_seeds() -> Iterator[bytes]:
    part = {check.__name__: bytes((i,)) for i, check in enumerate(text_target.PARTS)}
    for v in load_all():
        if v.kind == "report":
            name = "check_cmpp_report" if v.protocol.startswith("cmpp") else "check_smgp_report"
            yield part[name] + b"\0" + v.data
        if v.kind != "pdu":
            continue
        f = v.expect["fields"]
        content = f.get("short_message") or f.get("msg_content") or f.get("message_content") or b""
        coding = f.get("data_coding", f.get("msg_fmt", f.get("message_coding", f.get("msg_format", 0))))
        if content:
            yield part["check_coding"] + bytes((coding,)) + content
            yield part["check_udh"] + b"\0" + content
            yield part["check_smpp_receipt"] + b"\0" + content
            yield part["check_smgp_report"] + b"\0" + content
        if len(content) in (60, 71):
            yield part["check_cmpp_report"] + b"\0" + content
        for name in ("validity_period", "schedule_delivery_time", "valid_time", "at_time"):
            if f.get(name):
                yield part["check_smpp_time"] + b"\1" + f[name].encode("latin-1")
    yield part["check_gsm7"] + b"\1" + bytes.fromhex("c8329bfd06")  # "hello" packed after 1 fill bit
    yield part["check_ids"] + b"\0" + b"301001234511212055570000000002"


SEEDS: dict[str, Callable[[], Iterator[bytes]]] = {
    **{f"decode_{p}": functools.partial(decoder_seeds, p) for p in PROTOCOL_IDS},
    "framer": framer_seeds,
    "smpp_server": smpp_server_seeds,
    "cmpp_client": cmpp_client_seeds,
    "sgip_client": functools.partial(sgip_seeds, listener=False),
    "sgip_listener": functools.partial(sgip_seeds, listener=True),
    "smgp_client": smgp_client_seeds,
    "text": text_seeds,
}


def write(names: list[str]) -> None:
    for name in names:
        folder = TARGETS[name].corpus
        folder.mkdir(parents=True, exist_ok=True)
        seeds = set(SEEDS[name]())
        for data in seeds:
            (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
        print(f"{name}: {len(seeds)} seeds")


if __name__ == "__main__":
    write(sys.argv[1:] or sorted(TARGETS))
