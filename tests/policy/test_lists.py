"""Blacklists, signatures and unsubscribe words in memory."""

from __future__ import annotations

from smsgw.policy.blacklist import BlacklistIndex
from smsgw.policy.signature import SignatureBook, bare, find_signature
from smsgw.policy.unsubscribe import UnsubscribeWords
from smsgw.policy.settings import DEFAULT_UNSUBSCRIBE


def test_blacklist_global_and_per_enterprise() -> None:
    index = BlacklistIndex([(0, "13800000000"), (5, "13900000000")])
    assert index.listed("13800000000", 9) == 0
    assert index.listed("13900000000", 5) == 5
    assert index.listed("13900000000", 6) is None
    index.add(6, "13900000000")
    assert index.listed("13900000000", 6) == 6
    index.remove(0, "13800000000")
    index.remove(7, "13800000000")  # nothing to remove: no error
    assert index.listed("13800000000", 9) is None and len(index) == 2


def test_find_signature_at_start_or_end() -> None:
    assert find_signature("【示例】您好") == "示例"
    assert find_signature("您好【示例】") == "示例"
    assert find_signature("您好") is None
    assert find_signature("【】您好") is None
    assert find_signature("[示例]您好") is None
    assert find_signature("【" + "长" * 40 + "】您好") is None
    assert bare("【示例】") == bare(" 示例 ") == "示例"


def test_signature_book_default_is_the_oldest_verified() -> None:
    book = SignatureBook([(1, "【甲公司】"), (1, "乙品牌"), (2, "丙")])
    assert book.default(1) == "甲公司" and book.is_verified(1, "乙品牌") and not book.is_verified(2, "甲公司")
    assert book.sign(1, "验证码 1234") == "【甲公司】验证码 1234"
    assert book.sign(1, "【乙品牌】验证码") is None  # already signed
    assert book.sign(3, "验证码") is None  # no default to add


def test_unsubscribe_words_are_whole_replies_any_case_and_width() -> None:
    words = UnsubscribeWords(DEFAULT_UNSUBSCRIBE, [(0, "STOP"), (8, "不要再发")])
    for reply in ("TD", "td", "ｔｄ", "T", " t ", "退订", "退订。", "N", "r", "取消", "T D", "stop"):
        assert words.matches(reply, 1), reply
    for reply in ("TDX", "Thanks", "请问在哪里", "", "  ", "No thanks"):
        assert not words.matches(reply, 1), reply
    assert words.matches("不要再发！", 8) and not words.matches("不要再发", 9)
