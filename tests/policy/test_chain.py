"""The chain: each rule's verdict on a message, the order, charges and what is recorded."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from smsgw.domain.model import Account, AccountStatus, HoldReason, Message, MessageState
from smsgw.policy.accounts import AccountInfo
from smsgw.policy.blacklist import BlacklistIndex
from smsgw.policy.chain import Chain
from smsgw.policy.settings import (
    ALWAYS_OPEN,
    AccountPolicy,
    DuplicateMode,
    DuplicateSettings,
    FrequencySettings,
    PolicySettings,
)
from smsgw.policy.signature import SignatureBook
from smsgw.policy.verdict import Rule, rule_of
from tests.policy.clock import HOUR, MINUTE, china, wall

ENT = Account(id=1, login="acme")
SUB = Account(id=2, login="acme-sales", parent_id=1)
NOON = china(2024, 5, 1, 12, 0)
NIGHT = china(2024, 5, 1, 23, 0)
PRICE = 4000


def message(text: str | None = "【阿克米】您的验证码是 1234", dest: str = "13800138000", account: Account = ENT,
            at: int = NOON, **fields: Any) -> Message:
    return Message(id=fields.pop("id", 100), account_id=account.id, enterprise_id=account.enterprise_id,
                   source_addr="", dest_addr=dest, created_at=at, expires_at=at + 48 * HOUR, parts=1, text=text,
                   charge=PRICE, **fields)


def chain(settings: PolicySettings | None = None, **load: Any) -> Chain:
    c = Chain(settings or PolicySettings())
    c.load(accounts=[AccountInfo(1, "acme"), AccountInfo(2, "acme-sales", parent_id=1)],
           signatures=SignatureBook([(1, "【阿克米】")]), **load)
    return c


def test_a_good_message_passes_unchanged() -> None:
    m = message()
    assert chain().decide(ENT, m, NOON) is m


def test_outside_the_window_held_until_0805() -> None:
    held = chain().decide(ENT, message(at=NIGHT), NIGHT)
    assert held.state is MessageState.HELD and held.hold_reason is HoldReason.WINDOW
    assert wall(held.due_at or 0) == "2024-05-02 08:05:00"
    assert rule_of(held.reason) is Rule.WINDOW and "2024-05-02 08:05" in (held.reason or "")
    assert held.charge == PRICE  # charged at acceptance


def test_a_scheduled_message_is_judged_at_its_send_time() -> None:
    c = chain()
    late = c.decide(ENT, message(due_at=china(2024, 5, 1, 22, 45)), NOON)
    assert late.state is MessageState.HELD and wall(late.due_at or 0) == "2024-05-02 08:05:00"
    early = c.decide(ENT, message(text="【阿克米】早", due_at=china(2024, 5, 2, 9, 0), at=NIGHT), NIGHT)
    assert early.state is MessageState.QUEUED


def test_window_per_account_and_per_enterprise() -> None:
    settings = PolicySettings(accounts={"acme": AccountPolicy(window_open="09:00", window_close="18:00",
                                                              window_release="09:30")})
    c = chain(settings)
    at = china(2024, 5, 1, 8, 0)
    held = c.decide(SUB, message(account=SUB, at=at), at)  # the sub-account takes its enterprise's window
    assert wall(held.due_at or 0) == "2024-05-01 09:30:00"
    c.set_override("acme-sales", ALWAYS_OPEN)
    assert c.decide(SUB, message(account=SUB, at=NIGHT), NIGHT).state is MessageState.QUEUED
    assert c.decide(ENT, message(at=NIGHT), NIGHT).state is MessageState.HELD


def test_blacklisted_number_rejected_not_charged() -> None:
    c = chain(blacklist=BlacklistIndex([(0, "13800000001"), (1, "13800000002")]))
    for dest in ("13800000001", "13800000002"):
        out = c.decide(ENT, message(dest=dest), NOON)
        assert out.state is MessageState.REJECTED and rule_of(out.reason) is Rule.BLACKLIST and out.charge == 0
    other = Account(id=9, login="other")
    c.load(signatures=SignatureBook([(1, "阿克米"), (9, "阿克米")]))
    assert c.decide(other, message(dest="13800000002", account=other), NOON).state is MessageState.QUEUED


def test_signatures() -> None:
    c = chain()
    bad = c.decide(ENT, message(text="【别人家】验证码 1234"), NOON)
    assert bad.state is MessageState.REJECTED and rule_of(bad.reason) is Rule.SIGNATURE and bad.charge == 0
    assert c.decide(ENT, message(text="验证码 1234【阿克米】"), NOON).state is MessageState.QUEUED
    # unsigned: prepare adds the default before the chain; with no default there is nothing to add
    assert c.decide(ENT, message(text="验证码 1234"), NOON).state is MessageState.QUEUED
    stranger = Account(id=5, login="nosig")
    refused = c.decide(stranger, message(text="验证码 1234", account=stranger), NOON)
    assert refused.state is MessageState.REJECTED and "none verified" in (refused.reason or "")
    assert c.decide(ENT, message(text=None), NOON).state is MessageState.QUEUED  # binary: nothing to read


def test_content_reject_is_charged_review_is_held() -> None:
    c = chain(keywords=[(0, "reject", "代开发票"), (0, "review", "贷款")])
    bad = c.decide(ENT, message(text="【阿克米】代 开 发 票"), NOON)
    assert bad.state is MessageState.REJECTED and rule_of(bad.reason) is Rule.CONTENT and bad.charge == PRICE
    doubtful = c.decide(ENT, message(text="【阿克米】低息贷款"), NOON)
    assert doubtful.state is MessageState.HELD and doubtful.hold_reason is HoldReason.REVIEW
    assert doubtful.due_at is None and rule_of(doubtful.reason) is Rule.CONTENT
    # review wins over the window; the window is looked at again when it is approved
    at_night = c.decide(ENT, message(text="【阿克米】低息贷款", at=NIGHT, id=101), NIGHT)
    assert at_night.hold_reason is HoldReason.REVIEW and "window" in (at_night.reason or "")


def test_charged_rejections_are_configurable() -> None:
    c = chain(PolicySettings(charged_rejections=("blacklist",)), keywords=[(0, "reject", "发票")],
              blacklist=BlacklistIndex([(0, "13800000001")]))
    assert c.decide(ENT, message(text="【阿克米】发票"), NOON).charge == 0
    assert c.decide(ENT, message(dest="13800000001"), NOON).charge == PRICE


def test_duplicates_flagged_or_suppressed_per_account() -> None:
    settings = PolicySettings(accounts={"acme-sales": AccountPolicy(duplicates=DuplicateMode.SUPPRESS)})
    c = chain(settings)
    first = c.decide(ENT, message(), NOON)
    again = c.decide(ENT, message(id=2), NOON + 9 * HOUR)
    assert first.reason is None and again.state is MessageState.QUEUED and rule_of(again.reason) is Rule.DUPLICATE
    assert again.charge == PRICE  # sent and charged, as the contract says
    assert c.decide(ENT, message(id=3), NOON + 19 * HOUR + 1).reason is None  # 10 h after the last one
    # the sub-account suppresses, and the same text from the same enterprise counts
    suppressed = c.decide(SUB, message(account=SUB, id=4), NOON + 19 * HOUR + 2)
    assert suppressed.state is MessageState.REJECTED and suppressed.charge == 0
    off = chain(PolicySettings(duplicates=DuplicateSettings(mode=DuplicateMode.OFF)))
    assert off.decide(ENT, message(), NOON).reason is None and off.decide(ENT, message(), NOON).reason is None


def test_range_blasting_rejects_from_the_twentieth_number() -> None:
    c = chain()
    results = [c.decide(ENT, message(dest=str(13800000000 + i), id=i), NOON + i) for i in range(25)]
    assert all(r.state is MessageState.QUEUED for r in results[:19])
    assert all(r.state is MessageState.REJECTED and rule_of(r.reason) is Rule.RANGE for r in results[19:])
    # other accounts and numbers that are not consecutive are not affected
    assert c.decide(SUB, message(account=SUB, dest="13800000030"), NOON + 30).state is MessageState.QUEUED
    spread = chain()
    assert all(spread.decide(ENT, message(dest=str(13800000000 + 2 * i)), NOON + i).state is MessageState.QUEUED
               for i in range(40))


def test_frequency_limits_count_only_what_goes_out() -> None:
    settings = PolicySettings(frequency=FrequencySettings(per_minute=2, per_hour=3, per_day=0))
    c = chain(settings, blacklist=BlacklistIndex())
    texts = iter(f"【阿克米】第{i}条" for i in range(100))
    assert c.decide(ENT, message(text=next(texts)), NOON).state is MessageState.QUEUED
    assert c.decide(ENT, message(text="【别家】x"), NOON).state is MessageState.REJECTED  # refused: not counted
    assert c.decide(ENT, message(text=next(texts)), NOON).state is MessageState.QUEUED
    third = c.decide(ENT, message(text=next(texts)), NOON + 1)
    assert third.state is MessageState.REJECTED and rule_of(third.reason) is Rule.FREQUENCY and third.charge == 0
    assert c.decide(ENT, message(text=next(texts)), NOON + MINUTE).state is MessageState.QUEUED
    assert rule_of(c.decide(ENT, message(text=next(texts)), NOON + 2 * MINUTE).reason) is Rule.FREQUENCY  # hour
    assert c.decide(ENT, message(text=next(texts), dest="13900000000"), NOON).state is MessageState.QUEUED


def test_suspended_or_blacklisted_enterprise_cannot_submit() -> None:
    c = chain()
    c.load(accounts=[AccountInfo(1, "acme", status=AccountStatus.BLACKLISTED), AccountInfo(2, "acme-sales", 1)])
    for account in (ENT, SUB):
        out = c.decide(account, message(account=account), NOON)
        assert out.state is MessageState.REJECTED and rule_of(out.reason) is Rule.ACCOUNT and out.charge == 0


def test_the_order_decides_which_reason_is_written() -> None:
    blacklist = BlacklistIndex([(0, "13800000001")])
    keywords = [(0, "reject", "发票")]
    default = chain(keywords=keywords, blacklist=blacklist)
    m = message(text="【阿克米】发票", dest="13800000001")
    assert rule_of(default.decide(ENT, m, NOON).reason) is Rule.BLACKLIST
    reordered = chain(PolicySettings(order=("content", "blacklist")), keywords=keywords, blacklist=blacklist)
    assert rule_of(reordered.decide(ENT, m, NOON).reason) is Rule.CONTENT
    without = chain(PolicySettings(order=("content",)), blacklist=blacklist)
    assert without.decide(ENT, message(dest="13800000001"), NOON).state is MessageState.QUEUED


@pytest.mark.parametrize("order", [("nonsense",), ("window", "window"), ("balance",)])
def test_bad_order_is_refused(order: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        PolicySettings(order=order)


def test_balance_alert_goes_to_the_enterprise_reserved_phone() -> None:
    c = chain()
    c.load(accounts=[AccountInfo(1, "acme", reserved_phone="13900000000", low_balance_threshold=10_000_000),
                     AccountInfo(2, "acme-sales", parent_id=1)])
    m = attrs.evolve(message(account=SUB), charge=4000)
    assert c.balance_alert(m, 10_002_000) is None
    alert = c.balance_alert(m, 9_998_000)
    assert alert is not None and alert[0] == "13900000000" and "99.98" in alert[1] and "100.00" in alert[1]
    assert c.balance_alert(m, 9_994_000) is None
