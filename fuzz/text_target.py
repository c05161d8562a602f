"""Fuzz target: the SMS text layer, fed message bodies, UDHs, receipts and times as a peer sends them.

The first byte picks the part (``PARTS``), the second is a parameter (the
coding, the fill bits, the text encoding), the rest is the data.  Each part
may only raise its documented error, and round trips hold where the module
promises them:

* ``domain.coding.decode`` for every coding (CodingError): ASCII, Latin-1 and
  UCS2 re-encode to the same bytes, GSM 7-bit and GBK text re-encodes to the
  same text; the carrier coding ``choose_coding`` picks can carry the text; the
  segments billed (``count_segments``) are the segments ``split`` makes, and
  their payloads join back to the text;
* ``gsm7.unpack_septets``/``pack_septets`` (Gsm7Error/ValueError);
* ``udh.parse_udh`` and the concatenation element (UdhError): a parsed UDH
  writes back to the same octets; ``sar_from_tlvs`` (UdhError);
* receipt texts: ``report_smpp.parse_receipt`` (ReceiptError),
  ``report_smgp.parse_report`` (ReportFormatError), ``report_cmpp.decode_report``
  (ReportError), each written back and read again where a writer exists;
* ``smpp_time.parse_time`` (SmppTimeError): an absolute time formats back to itself;
* carrier message id texts (ValueError): parse and format are inverses.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from smsgw.domain import gsm7
from smsgw.domain.coding import (
    Coding, CodingError, choose_coding, decode, encode, from_msg_fmt, from_smpp_data_coding,
)
from smsgw.domain.segments import MAX_PARTS, SegmentationError, count_segments, split
from smsgw.domain.udh import UdhError, parse_concat, parse_udh, sar_from_tlvs
from smsgw.session import report_cmpp, report_smgp, report_smpp, sgip_sequence
from smsgw.session.smpp_time import SmppTimeError, format_absolute, parse_absolute, parse_time

CODINGS = tuple(Coding)
#: the wall clock times are read against (China time)
NOW = datetime(2024, 5, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
#: exact byte round trips: these codecs map bytes to text one to one
EXACT = frozenset({Coding.ASCII, Coding.LATIN1, Coding.UCS2})


def check_coding(param: int, data: bytes) -> None:
    coding = CODINGS[param % len(CODINGS)]
    from_smpp_data_coding(param)
    from_msg_fmt(param)
    try:
        text = decode(data, coding)
    except CodingError:
        return
    assert coding is not Coding.BINARY
    if coding in EXACT:
        assert encode(text, coding) == data
    else:
        try:
            again = encode(text, coding)
        except CodingError:
            assert coding is Coding.GBK, "GSM 7-bit decodes only to characters it can encode"
        else:
            assert decode(again, coding) == text
    encode(text, choose_coding(text, "cmpp30"))  # the carriers' coding carries any text we read
    check_segments(text, coding)


def check_segments(text: str, coding: Coding) -> None:
    try:
        billed = count_segments(text, coding)
    except CodingError:
        assert coding is Coding.GBK  # GB18030 text outside GBK
        return
    try:
        parts = split(text, coding, 0x5A)
    except SegmentationError:
        assert billed > MAX_PARTS
        return
    assert len(parts) == billed
    assert decode(b"".join(p.payload for p in parts), coding) == text


def check_gsm7(param: int, data: bytes) -> None:
    fill_bits = param % 7
    count = None if param >= 0xF0 else param % 161
    try:
        septets = gsm7.unpack_septets(data, count, fill_bits)
    except gsm7.Gsm7Error:
        assert count is not None
        return
    gsm7.decode(septets)  # unpacked septets are all <= 0x7F: nothing to refuse
    packed = gsm7.pack_septets(septets, fill_bits)
    assert len(packed) == gsm7.packed_length(len(septets), fill_bits)
    assert gsm7.unpack_septets(packed, len(septets), fill_bits) == septets


def check_udh(param: int, data: bytes) -> None:
    try:
        header, payload = parse_udh(data)
    except UdhError:
        return
    assert header.to_bytes() + payload == data
    try:
        concat = header.concat
    except UdhError:
        return
    assert parse_concat(data) == (concat, payload)
    tlvs = {0x020C: data[:2], 0x020E: data[2:3], 0x020F: data[3:4]}
    for drop in (None, 0x020C, 0x020E, 0x020F):
        try:
            sar_from_tlvs({tag: value for tag, value in tlvs.items() if tag != drop})
        except UdhError:
            pass


def check_smpp_receipt(param: int, data: bytes) -> None:
    encoding = ("latin-1", "utf-8", "ascii")[param % 3]
    try:
        receipt = report_smpp.parse_receipt(data, encoding)
    except report_smpp.ReceiptError:
        return
    assert receipt.message_state is not None  # a stat word of any kind maps to a state
    again = report_smpp.parse_receipt(report_smpp.format_receipt(receipt))
    assert (again.id, again.stat) == (receipt.id, receipt.stat), (receipt, again)


def check_smgp_report(param: int, data: bytes) -> None:
    try:
        report = report_smgp.parse_report(data)
    except report_smgp.ReportFormatError:
        return
    report_smgp.msg_id_parts(report.msg_id)
    assert report.msg_id == report_smgp.msg_id_from_text(report_smgp.msg_id_to_text(report.msg_id))


def check_cmpp_report(param: int, data: bytes) -> None:
    try:
        report = report_cmpp.decode_report(data)
    except report_cmpp.ReportError:
        return
    report_cmpp.describe_stat(report.stat)
    assert report_cmpp.decode_report(report_cmpp.encode_report(report, len(data))) == report


def check_smpp_time(param: int, data: bytes) -> None:
    field = (None, "validity_period", "schedule_delivery_time")[param % 3]
    text = data.decode("latin-1")
    try:
        when = parse_time(text, NOW, field)
    except SmppTimeError as err:
        assert err.status is not None or field is None
        return
    if when is not None and text[-1:] != "R":
        assert parse_absolute(format_absolute(when), NOW) == when


#: (parse, format, lower case accepted) of the carrier message id texts we store
ID_TEXTS: tuple[tuple[Callable[[str], Any], Callable[[Any], str], bool], ...] = (
    (sgip_sequence.parse_message_id, sgip_sequence.format_message_id, False),
    (report_cmpp.parse_msg_id, report_cmpp.msg_id_text, False),
    (report_smgp.msg_id_from_text, report_smgp.msg_id_to_text, True),
)


def check_ids(param: int, data: bytes) -> None:
    text = data.decode("latin-1")
    for parse, show, any_case in ID_TEXTS:
        try:
            value = parse(text)
        except ValueError:
            continue
        assert show(value) == (text.lower() if any_case else text)


PARTS: tuple[Callable[[int, bytes], None], ...] = (
    check_coding, check_gsm7, check_udh, check_smpp_receipt, check_smgp_report, check_cmpp_report, check_smpp_time,
    check_ids,
)


def check_text(data: bytes) -> None:
    if len(data) < 2:
        return
    PARTS[data[0] % len(PARTS)](data[1], data[2:])
