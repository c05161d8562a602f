"""Prohibited keywords: folding, categories and actions, scopes, many keywords."""

from __future__ import annotations

import random
import time

from smsgw.policy.content import KeywordIndex
from smsgw.policy.settings import ContentAction
from smsgw.policy.textfold import fold

R, V = ContentAction.REJECT, ContentAction.REVIEW


def test_fold_ignores_width_case_spaces_and_punctuation() -> None:
    assert fold("法 轮-功") == "法轮功"
    assert fold("ＦａＬｕＮ") == "falun"
    assert fold("代·开 ＿发*票！") == "代开发票"
    assert fold("①②③") == "123"
    assert fold("Hello, World!") == "helloworld"
    assert fold("，。！？ …") == ""


def test_categories_decide_the_action_and_reject_beats_review() -> None:
    index = KeywordIndex([(0, "reject", "发票"), (0, "review", "贷款"), (0, "gambling", "赌场"), (0, "ads", "优惠")],
                         actions={"reject": R, "review": V, "ads": ContentAction.IGNORE}, default_action=R)
    assert index.search("您好，验证码123456", 1) is None
    match = index.search("低息 贷 款，当天到账", 1)
    assert match is not None and match.action is V and match.category == "review" and match.word == "贷款"
    assert index.search("澳门赌场", 1).action is R  # type: ignore[union-attr]  # default action for unnamed categories
    assert index.search("双十一优惠", 1) is None  # an ignored category
    both = index.search("贷款买发票", 1)
    assert both is not None and both.action is R and both.word == "发票"


def test_a_word_in_two_lists_takes_the_stricter_action() -> None:
    index = KeywordIndex([(0, "review", "刷单"), (0, "reject", "刷 单")])
    assert index.size == 1
    assert index.search("兼职刷单", 7).action is R  # type: ignore[union-attr]


def test_evasions_are_caught() -> None:
    index = KeywordIndex([(0, "reject", "代开发票"), (0, "reject", "VPN")])
    for text in ("代 开 发 票", "代-开-发-票", "代.开.发.票", "【某店】代开发票！", "ｖｐｎ翻墙", "v p n"):
        assert index.search(text, 1) is not None, text


def test_enterprise_lists_apply_to_their_enterprise_only() -> None:
    index = KeywordIndex([(0, "reject", "发票"), (42, "review", "竞品")])
    assert index.search("试试竞品吧", 42).action is V  # type: ignore[union-attr]
    assert index.search("试试竞品吧", 43) is None
    assert index.search("竞品发票", 42).action is R  # type: ignore[union-attr]


def test_cached_verdicts_match_fresh_ones() -> None:
    index = KeywordIndex([(0, "reject", "发票")], cache_size=2)
    texts = ["发票", "你好", "开发票", "早上好", "发票"]
    for _ in range(3):
        assert [index.search(t, 1) is not None for t in texts] == [True, False, True, False, True]


def test_thirty_thousand_keywords_build_and_search_fast() -> None:
    rng = random.Random(7)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    words = {"".join(rng.choice(alphabet) for _ in range(rng.randint(2, 5))) for _ in range(30_000)}
    started = time.perf_counter()
    index = KeywordIndex((0, "reject", w) for w in words)
    built = time.perf_counter() - started
    assert index.size == len(words)
    texts = ["".join(rng.choice(alphabet) for _ in range(60)) for _ in range(200)]
    planted = texts[0][:20] + sorted(words)[0] + texts[0][20:]
    assert index.search(planted, 1) is not None
    index = KeywordIndex((0, "reject", w) for w in words)  # a fresh cache: every search is a real one
    started = time.perf_counter()
    for text in texts:
        index.search(text, 1)
    per_text = (time.perf_counter() - started) / len(texts)
    assert built < 5.0 and per_text < 200e-6, (built, per_text)
