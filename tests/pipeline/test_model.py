"""Small rules of the domain nouns: receipts asked for, accounts' enterprise, money units."""

from __future__ import annotations

from smsgw.domain.model import FEN, RECEIPT_STAT, YUAN, Account, MessageState, wants_receipt

S = MessageState


def test_registered_delivery() -> None:
    for final in (S.DELIVERED, S.UNDELIVERED, S.EXPIRED, S.REJECTED):
        assert not wants_receipt(0, final)
        assert wants_receipt(1, final)
        assert wants_receipt(2, final) == (final is not S.DELIVERED)
    assert wants_receipt(0x11, S.DELIVERED)  # SME acknowledgement bits do not matter
    assert not wants_receipt(3, S.DELIVERED)  # reserved value


def test_receipt_words() -> None:
    assert RECEIPT_STAT[S.DELIVERED] == "DELIVRD" and RECEIPT_STAT[S.EXPIRED] == "EXPIRED"
    assert all(len(word) == 7 for word in RECEIPT_STAT.values())


def test_accounts_know_their_enterprise() -> None:
    ent = Account(id=7, login="ent")
    sub = Account(id=9, login="sub", parent_id=7)
    assert (ent.enterprise_id, ent.is_enterprise) == (7, True)
    assert (sub.enterprise_id, sub.is_enterprise) == (7, False)


def test_money_is_integer_milli_fen() -> None:
    assert YUAN == 100 * FEN == 100_000
    price = 35 * FEN // 10  # 0.035 元, a typical price per segment
    assert price == 3_500 and isinstance(price, int)
