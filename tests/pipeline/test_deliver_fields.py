"""What the notifier sends a client for an outbox item always encodes as a deliver_sm, whatever the
carrier sent (numbers longer than SMPP's address fields, text in any coding)."""

from __future__ import annotations

from smsgw.codec import Pdu
from smsgw.domain.model import MessageState, OutboxItem, OutboxKind
from smsgw.pipeline.notifier import deliver_fields
from smsgw.session.codecs import codec_for

CODEC = codec_for("smpp34")
HANDSET_32 = "8613800138000" + "9" * 19  # CMPP 3.0 Src_terminal_Id is 32 octets wide
SERVICE_21 = "106900012345678901234"  # a service number with a long extension


def _roundtrip(fields: dict) -> Pdu:
    return CODEC.decode(CODEC.encode(Pdu("deliver_sm", 1, fields)))


def test_an_mo_with_numbers_longer_than_smpp_allows_still_encodes() -> None:
    item = OutboxItem(id=1, account_id=1, kind=OutboxKind.MO, ref_id=7, source_addr=HANDSET_32,
                      dest_addr=SERVICE_21, created_at=0, data_coding=8, content="退订".encode("utf-16-be"))
    got = _roundtrip(deliver_fields(item))
    assert got["source_addr"] == HANDSET_32[:20] and got["destination_addr"] == SERVICE_21[:20]
    assert got["short_message"] == "退订".encode("utf-16-be") and got["data_coding"] == 8


def test_a_receipt_with_ordinary_numbers_is_unchanged() -> None:
    item = OutboxItem(id=2, account_id=1, kind=OutboxKind.REPORT, ref_id=0xAB, source_addr="13800138000",
                      dest_addr="1069000", created_at=0, state=MessageState.DELIVERED, stat="DELIVRD",
                      submit_at=1_700_000_000_000, done_at=1_700_000_060_000)
    got = _roundtrip(deliver_fields(item))
    assert (got["source_addr"], got["destination_addr"], got["esm_class"]) == ("13800138000", "1069000", 4)
    assert got.fields["tlvs"]["receipted_message_id"] == "ab"
