"""``prepare``: the default signature goes in front and the segments are cut again."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from smsgw.codec import Pdu
from smsgw.domain.coding import Coding, choose_coding, encode
from smsgw.domain.model import Account, Message, MessageState
from smsgw.domain.segments import split
from smsgw.domain.udh import Concat, concat_udh
from smsgw.pipeline.policies import sign_submission
from smsgw.policy.chain import Chain
from smsgw.policy.signature import SignatureBook
from smsgw.policy.verdict import Rule
from smsgw.session.smpp_submit import read_submission

NOW = datetime(2024, 5, 1, 4, 0, tzinfo=timezone.utc)
ACME = Account(id=1, login="acme")


def _chain() -> Chain:
    chain = Chain()
    chain.load(signatures=SignatureBook([(1, "【阿克米】")]))
    return chain


def _sub(text: str, **fields: object) -> object:
    payload = text.encode("ascii") if text.isascii() else text.encode("utf-16-be")
    base = {"destination_addr": "13800138000", "data_coding": 1 if text.isascii() else 8}
    if len(payload) > 254:
        base["tlvs"] = {"message_payload": payload}
    else:
        base["short_message"] = payload
    base.update(fields)
    return read_submission(Pdu("submit_sm", 1, base), NOW, reference=9)


@pytest.mark.parametrize("text, parts", [("hello", 1), ("验" * 65, 1), ("验" * 66, 2), ("a" * 200, 4), ("验" * 300, 5)],
                         ids=["ascii", "ucs2-65", "ucs2-66", "ascii-200", "ucs2-300"])
def test_signed_text_is_cut_like_any_other(text: str, parts: int) -> None:
    signed = sign_submission(_chain(), ACME, _sub(text), 9)
    assert signed.text == "【阿克米】" + text and signed.coding is Coding.UCS2
    expected = tuple(p.user_data for p in split(signed.text, Coding.UCS2, 9))
    assert signed.segments == expected and len(expected) == parts and signed.udhi == (parts > 1)


def test_one_segment_shortcut_matches_split() -> None:
    rng = random.Random(5)
    for n in range(1, 180):
        for alphabet in ("ab c", "验证码", "a验😀"):
            text = "".join(rng.choice(alphabet) for _ in range(n))
            coding = choose_coding("【阿克米】" + text, "cmpp30")
            expected = tuple(p.user_data for p in split("【阿克米】" + text, coding, 9))
            assert sign_submission(_chain(), ACME, _sub(text), 9).segments == expected, (n, alphabet)


def test_signed_or_binary_or_unknown_enterprise_unchanged() -> None:
    chain = _chain()
    for sub, account in ((_sub("【阿克米】hi"), ACME), (_sub("hi"), Account(id=2, login="x")),
                         (_sub("hi", data_coding=4), ACME)):
        assert sign_submission(chain, account, sub, 9) is sub


def test_client_split_parts_first_signed_if_it_fits_others_untouched() -> None:
    chain = _chain()
    udh = concat_udh(Concat(7, 3, 1))
    first = read_submission(Pdu("submit_sm", 1, {"destination_addr": "13800138000", "data_coding": 8,
                                                 "esm_class": 0x40,
                                                 "short_message": udh + ("验" * 20).encode("utf-16-be")}), NOW)
    signed = sign_submission(chain, ACME, first, 9)
    assert signed.segments == (udh + encode("【阿克米】" + "验" * 20, Coding.UCS2),)
    full = read_submission(Pdu("submit_sm", 1, {"destination_addr": "13800138000", "data_coding": 8,
                                                "esm_class": 0x40,
                                                "short_message": udh + ("验" * 67).encode("utf-16-be")}), NOW)
    assert sign_submission(chain, ACME, full, 9) is full  # no room: left as it came
    second = read_submission(Pdu("submit_sm", 1, {"destination_addr": "13800138000", "data_coding": 8,
                                                  "esm_class": 0x40, "short_message": concat_udh(Concat(7, 3, 2))
                                                  + "后半".encode("utf-16-be")}), NOW)
    assert sign_submission(chain, ACME, second, 9) is second


def test_check_text_for_replacements() -> None:
    chain = _chain()
    chain.load(keywords=[(0, "reject", "发票")])
    m = Message(id=1, account_id=1, enterprise_id=1, source_addr="", dest_addr="13800000000", created_at=0,
                expires_at=1, parts=1, text="【阿克米】开发票")
    verdict = chain.check_text(ACME, m, 0)
    assert verdict is not None and verdict.rule is Rule.CONTENT
    assert chain.check_text(ACME, Message(**{**_fields(m), "text": "【阿克米】你好"}), 0) is None
    foreign = chain.check_text(ACME, Message(**{**_fields(m), "text": "【别家】你好"}), 0)
    assert foreign is not None and foreign.rule is Rule.SIGNATURE
    assert m.state is MessageState.QUEUED


def _fields(m: Message) -> dict[str, object]:
    import attrs

    return attrs.asdict(m, recurse=False)
