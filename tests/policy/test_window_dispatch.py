"""The send window at the last moment: the dispatcher does not hand a link what was accepted
inside the window and is still waiting when it closes; such messages are held again and
released at the next opening with the others."""

from __future__ import annotations

from typing import Any

import pytest_twisted
import smpplib.consts
from twisted.internet import reactor as global_reactor
from twisted.internet.defer import Deferred, fail, inlineCallbacks, succeed
from twisted.internet.task import Clock, deferLater

from smsgw.domain.model import ClaimedSegment, HoldReason, Message, MessageState, Segment
from smsgw.domain.outcomes import Submitted
from smsgw.pipeline import states
from smsgw.pipeline.dispatcher import WINDOW_CLOSED, Dispatcher, DispatcherConfig
from smsgw.pipeline.policy_store import HoldForWindow
from smsgw.policy.verdict import Rule, rule_of
from smsgw.routing.router import RoutingTable
from tests.policy.clock import HOUR, china, wall
from tests.policy.rig import Client, eventually, make_policy_rig
from tests.policy.test_policy_smpp import in_thread, mid

TABLE = RoutingTable(groups={"cmcc": ("cm",)}, failover={}, accounts={}, carried_by={})
S = MessageState


def claimed(mid: int, account_id: int, seq: int = 1) -> ClaimedSegment:
    return ClaimedSegment(message_id=mid, seq=seq, parts=1, payload=b"x", esm_class=0, data_coding=8,
                          source_addr="", dest_addr="13800138000", account_id=account_id, enterprise_id=account_id,
                          registered_delivery=1, priority=0, carrier="cmcc", attempts=1, expires_at=2**40)


class Link:
    """A link group that records what it is given and answers each with Submitted."""

    def __init__(self) -> None:
        self.up = True
        self.sent: list[ClaimedSegment] = []

    def available(self) -> bool:
        return self.up

    def send(self, segment: ClaimedSegment) -> Deferred[Any]:
        self.sent.append(segment)
        return succeed(Submitted(f"c{segment.message_id}-{segment.seq}", "cm"))


class FakeStore:
    def __init__(self, segments: list[ClaimedSegment], hold_fails: bool = False) -> None:
        self.segments = segments
        self.hold_fails = hold_fails
        self.ops: list[Any] = []
        self.requeued: list[Any] = []

    def claim_due(self, now: int, limit: int, carrier: str) -> Deferred[list[ClaimedSegment]]:
        taken, self.segments = self.segments[:limit], self.segments[limit:]
        return succeed(taken)

    def run(self, op: Any) -> Deferred[Any]:
        self.ops.append(op)
        if self.hold_fails:
            return fail(RuntimeError("store went away"))
        return succeed([mid for mid, _ in op.until])

    def submitted(self, *args: Any) -> Deferred[bool]:
        return succeed(True)

    def requeue(self, keys: Any, at: int, reason: str) -> Deferred[int]:
        self.requeued.append((keys, reason))
        return succeed(len(keys))


def test_claimed_segments_of_closed_accounts_are_held_not_sent() -> None:
    clock = Clock()
    clock.advance(china(2024, 5, 1, 22, 31) / 1000)
    release = china(2024, 5, 2, 8, 5)
    asked: list[int] = []

    def window(account_id: int, now_ms: int) -> int | None:
        asked.append(account_id)
        return None if account_id == 2 else release  # account 2's window is open all day

    store = FakeStore([claimed(1, 1), claimed(2, 2), claimed(3, 1), claimed(3, 1, seq=2), claimed(4, 2)])
    link = Link()
    dispatcher = Dispatcher(store, clock, {"cm": link}, TABLE, DispatcherConfig(page=10), window=window)
    dispatcher.start()
    clock.advance(0)
    assert [seg.message_id for seg in link.sent] == [2, 4]
    [hold] = store.ops
    assert isinstance(hold, HoldForWindow)
    assert hold.claimed == ((1, 1), (3, 1), (3, 2)) and dict(hold.until) == {1: release, 3: release}
    assert rule_of(hold.note) is Rule.WINDOW and hold.note == WINDOW_CLOSED
    assert sorted(asked) == [1, 2]  # once per account and round, not per segment
    assert dispatcher.counters["window_held"] == 2 and dispatcher.counters["sent"] == 2
    dispatcher.stop()


def test_a_failed_hold_sends_nothing_closed_and_puts_it_back_in_the_queue() -> None:
    clock = Clock()
    store = FakeStore([claimed(1, 1), claimed(2, 2)], hold_fails=True)
    link = Link()
    dispatcher = Dispatcher(store, clock, {"cm": link}, TABLE,
                            window=lambda account_id, now: 10**13 if account_id == 1 else None)
    dispatcher.start()
    clock.advance(0)
    assert [seg.message_id for seg in link.sent] == [2]
    assert store.requeued == [(((1, 1),), "window hold failed")]
    dispatcher.stop()


def _valid_history(events: list[Any]) -> bool:
    """Every transition the store wrote is one the state machine allows."""
    for event in events:
        if event.from_state is None:
            continue
        table = states.TRANSITIONS if event.seq == 0 else states.PART_TRANSITIONS
        if event.to_state not in table[event.from_state]:
            return False
    return True


@pytest_twisted.inlineCallbacks
def test_hold_for_window_holds_only_messages_no_part_of_which_is_elsewhere(tmp_path: Any) -> None:
    at = china(2024, 5, 1, 22, 31)
    rig = yield make_policy_rig(tmp_path, start_at=at)
    until = china(2024, 5, 2, 8, 5)
    try:
        account = rig.account
        made = []
        for n in range(4):
            message = Message(rig.intake.ids.next(), account.id, account.id, "", f"1380000010{n}", at, at + 24 * HOUR,
                              2, text=f"长消息{n}", data_coding=8, carrier="cmcc")
            yield rig.store.accept(message, (Segment(1, b"a", 0x40), Segment(2, b"b", 0x40)))
            made.append(message.id)
        assert len((yield rig.store.claim_due(at, 10, "cmcc"))) == 8
        yield rig.store.submitted(made[2], 1, "cmcc", "carrier-1", at)  # made[2]: part 1 went out
        yield rig.store.requeue(((made[3], 2),), at)  # made[3]: part 2 back in the queue
        # the claim that found the window closed: made[0] whole, made[1] part 2 only (part 1 is in a
        # link's hands: sent whole), made[2] part 2 (follows its part 1 tonight), made[3] part 1
        keys = ((made[0], 1), (made[0], 2), (made[1], 2), (made[2], 2), (made[3], 1))
        held = yield rig.store.run(HoldForWindow(keys, tuple((m, until) for m in made), at, WINDOW_CLOSED))
        assert held == [made[0], made[3]]
        got = []
        for m in made:
            got.append((yield rig.store.get_message(m)))
        assert [g.state for g in got] == [S.HELD, S.SENDING, S.SENDING, S.HELD]
        assert got[0].hold_reason is HoldReason.WINDOW and got[0].due_at == until
        for m in (made[0], made[3]):
            history = yield rig.store.history(m)
            assert _valid_history(history)
            assert [(e.from_state, e.to_state) for e in history if e.seq == 0][-2:] == [(S.SENDING, S.QUEUED),
                                                                                      (S.QUEUED, S.HELD)]
        # released at the opening like any held message, parts and all
        assert (yield rig.store.release_held(until)) == 2
        again = yield rig.store.claim_due(until, 10, "cmcc")
        assert {(seg.message_id, seg.seq) for seg in again} == {(m, seq) for m in (made[0], made[3]) for seq in (1, 2)}
    finally:
        yield rig.close()


@inlineCallbacks
def pump(rig: Any, check: Any, timeout: float = 10.0) -> Any:
    """Let the fake clock run (a quarter second a turn: the dispatcher's rounds, the policy service's
    looks for held messages) until ``check()`` holds, in bounded real time."""

    def turned() -> Any:
        rig.clock.advance(0.25)
        return check()

    return (yield eventually(turned, timeout))


@pytest_twisted.inlineCallbacks
def test_accepted_at_2229_not_sent_at_2231_is_held_and_goes_at_0805(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path, start_at=china(2024, 5, 1, 22, 29))
    night = yield rig.store.create_account("night", "demo", rig.now_ms(), "test", max_binds=2)
    yield rig.store.recharge(night.id, 10**8, rig.now_ms(), "test")
    yield rig.policies.add_signature(night.id, "【夜班】", "test", verified=True)
    # per-account window: this one may send until 23:00
    yield rig.policies.set_account_policy(night, "test", {"window_close": "23:00"})
    link = Link()
    link.up = False  # the carrier is down for now: accepted messages wait in the queue
    dispatcher = Dispatcher(rig.store, rig.clock, {"cm": link}, TABLE, window=rig.policies.window_release)
    rig.policies.poke = dispatcher.poke  # as the gateway wires them: released work is dispatched at once
    dispatcher.start()
    client, late = Client(rig.port), Client(rig.port, "night")
    try:
        yield in_thread(client.bind)
        yield in_thread(late.bind)
        resp = yield in_thread(client.submit, "13800000200", "今晚的提醒")
        other = yield in_thread(late.submit, "13800000201", "今晚的提醒")
        assert resp.status == other.status == smpplib.consts.SMPP_ESME_ROK
        waiting = yield rig.store.get_message(mid(resp))
        assert waiting.state is S.QUEUED  # 22:29: inside the window

        rig.set_time(china(2024, 5, 1, 22, 31))
        link.up = True
        dispatcher.poke()
        assert (yield pump(rig, lambda: dispatcher.counters["window_held"] == 1 and len(link.sent) == 1))
        assert [seg.message_id for seg in link.sent] == [mid(other)]  # night's window is still open
        held = yield rig.store.get_message(mid(resp))
        assert held.state is S.HELD and held.hold_reason is HoldReason.WINDOW
        assert wall(held.due_at) == "2024-05-02 08:05:00"
        history = yield rig.store.history(mid(resp))
        assert _valid_history(history) and history[-1].to_state is S.HELD
        assert rule_of(history[-1].reason) is Rule.WINDOW

        rig.set_time(china(2024, 5, 2, 8, 4))  # the night: nothing goes, nothing is released
        yield deferLater(global_reactor, 0.2, lambda: None)
        rig.clock.advance(1)
        assert len(link.sent) == 1 and (yield rig.store.get_message(mid(resp))).state is S.HELD

        rig.set_time(china(2024, 5, 2, 8, 5, 1))  # released by the policy service, sent by the dispatcher
        assert (yield pump(rig, lambda: len(link.sent) == 2))
        assert link.sent[-1].message_id == mid(resp)
        sent = yield eventually(lambda: _state_is(rig, mid(resp), S.SUBMITTED))
        assert sent
    finally:
        dispatcher.stop()
        yield in_thread(client.close)
        yield in_thread(late.close)
        yield rig.close()


@inlineCallbacks
def _state_is(rig: Any, message_id: int, state: MessageState) -> Any:
    message = yield rig.store.get_message(message_id)
    return message.state is state


@pytest_twisted.inlineCallbacks
def test_the_gate_asks_each_accounts_own_window(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path, start_at=china(2024, 5, 1, 23, 30))
    yield rig.policies.set_account_policy(rig.account, "test", {"window_open": "00:00", "window_close": "24:00"})
    assert rig.policies.window_release(rig.account.id, rig.now_ms()) is None
    assert rig.policies.window_release(rig.account.id + 999, rig.now_ms()) == china(2024, 5, 2, 8, 5)
    yield rig.close()
