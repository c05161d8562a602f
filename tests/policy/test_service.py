"""The policy service against a real store: indexes follow changes made anywhere, held
messages are released at a pace, and review decisions respect the window."""

from __future__ import annotations

from typing import Any

import pytest_twisted

from smsgw.domain.model import AccountStatus, HoldReason, Message, MessageState, Segment, SignatureStatus
from smsgw.policy.verdict import Rule, rule_of
from smsgw.store import lists
from smsgw.store.accounts import SetStatus
from tests.policy.clock import HOUR, china, wall
from tests.policy.rig import NOON, eventually, make_policy_rig


def _message(rig: Any, mid: int, dest: str, text: str, at: int) -> Message:
    return Message(id=mid, account_id=rig.account.id, enterprise_id=rig.account.id, source_addr="", dest_addr=dest,
                   created_at=at, expires_at=at + 48 * HOUR, parts=1, text=text, carrier="cmcc")


@pytest_twisted.inlineCallbacks
def test_changes_made_elsewhere_reach_the_indexes_through_the_audit_log(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path)
    chain, store, at = rig.policies.chain, rig.store, rig.now_ms()
    try:
        # written straight to the store, as another node or the CLI would
        yield store.run(lists.Blacklist("13800000001", at, "cli"))
        yield store.run(lists.Blacklist("13800000002", at, "cli", scope_id=rig.account.id))
        yield store.run(lists.Keyword("reject", "发票", at, "cli"))
        yield store.run(lists.Keyword("unsubscribe", "不要了", at, "cli"))
        sig = yield store.run(lists.AddSignature(rig.account.id, "【新牌子】", at, "cli"))
        yield store.run(lists.DecideSignature(sig, SignatureStatus.VERIFIED, at, "cli"))
        yield store.run(SetStatus(rig.account.id, AccountStatus.SUSPENDED, at, "cli"))
        assert chain.blacklist.listed("13800000001", rig.account.id) is None  # not seen yet
        yield rig.policies.poll()
        assert chain.blacklist.listed("13800000001", rig.account.id) == 0
        assert chain.blacklist.listed("13800000002", rig.account.id) == rig.account.id
        assert chain.keywords.search("开发票", rig.account.id) is not None
        assert chain.unsubscribe.matches("不要了", rig.account.id)
        assert chain.signatures.is_verified(rig.account.id, "新牌子")
        assert chain.accounts[rig.account.id].status is AccountStatus.SUSPENDED
        yield store.run(lists.Blacklist("13800000001", at, "cli", listed=False))
        yield rig.policies.poll()
        assert chain.blacklist.listed("13800000001", rig.account.id) is None
        assert rig.policies.counters["changes"] >= 8
    finally:
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_indexes_are_polled_and_reloaded_on_the_clock(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path)
    try:
        refreshed = rig.policies.counters["refreshed"]
        yield rig.store.run(lists.Blacklist("13800000009", rig.now_ms(), "cli"))
        rig.clock.advance(rig.policies.settings.poll_interval)
        assert (yield eventually(lambda: rig.policies.chain.blacklist.listed("13800000009", 1) == 0))
        rig.clock.advance(rig.policies.settings.refresh_interval)
        assert (yield eventually(lambda: rig.policies.counters["refreshed"] == refreshed + 1))
    finally:
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_review_approval_in_the_window_queues_at_once(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path)
    try:
        held = rig.policies.chain.decide(rig.account, _message(rig, 1, "13800000001", "【测试】低息贷款", NOON), NOON)
        assert held.state is MessageState.QUEUED  # no keywords yet
        yield rig.policies.set_keyword("review", "贷款", "admin")
        held = rig.policies.chain.decide(rig.account, _message(rig, 2, "13800000002", "【测试】低息贷款", NOON), NOON)
        assert held.hold_reason is HoldReason.REVIEW
        yield rig.store.accept(held, (Segment(1, b"x"),))
        assert (yield rig.policies.review(2, True, "admin")) is MessageState.QUEUED
        assert (yield rig.store.get_message(2)).state is MessageState.QUEUED
        assert (yield rig.policies.review(999, True, "admin")) is None
    finally:
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_release_follows_the_links_capacity(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path, start_at=china(2024, 5, 1, 23, 0))
    capacity = [0.0]
    rig.policies.link_capacity = lambda: capacity[0]
    try:
        night = rig.now_ms()
        for i in range(6):
            m = rig.policies.chain.decide(rig.account, _message(rig, 10 + i, f"1380000{i * 5:04d}", "【测试】早安", night),
                                          night)
            assert m.state is MessageState.HELD and wall(m.due_at or 0) == "2024-05-02 08:05:00"
            assert rule_of(m.reason) is Rule.WINDOW
            yield rig.store.accept(m, (Segment(1, b"x"),))
        rig.set_time(china(2024, 5, 2, 8, 5))  # the service's loops run on this clock
        assert (yield eventually(lambda: rig.policies.counters["refreshed"] >= 2))
        assert (yield rig.policies.release_held()) == 0  # every link down: nothing is let out
        capacity[0] = 8.0  # half of it for releases: 4 per second
        rig.set_time(china(2024, 5, 2, 8, 5, 1))
        assert (yield eventually(lambda: rig.policies.counters["released"] == 4))
        rig.set_time(china(2024, 5, 2, 8, 5, 2))
        assert (yield eventually(lambda: rig.policies.counters["released"] == 6))
    finally:
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_a_failed_reload_does_not_stop_the_upkeep(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path)
    real_read = rig.store.read
    failing = [True]

    def read(query: Any, *args: Any, **kwargs: Any) -> Any:
        if failing[0]:
            failing[0] = False
            raise RuntimeError("store unavailable for a moment")
        return real_read(query, *args, **kwargs)

    try:
        yield rig.store.run(lists.Blacklist("13800000011", rig.now_ms(), "cli"))
        rig.store.read = read  # type: ignore[method-assign]
        rig.clock.advance(rig.policies.settings.poll_interval)  # this round fails
        assert not failing[0]
        rig.clock.advance(rig.policies.settings.poll_interval)  # the next one works
        assert (yield eventually(lambda: rig.policies.chain.blacklist.listed("13800000011", 1) == 0))
    finally:
        rig.store.read = real_read  # type: ignore[method-assign]
        yield rig.close()
