"""Every policy end to end: an SMPP client (smpplib) against the listener, the intake with
the policy services, a real SQLite store, and China time from a fake clock."""

from __future__ import annotations

from typing import Any

import pytest_twisted
import smpplib.consts
import smpplib.exceptions
from twisted.internet import threads
from twisted.internet.defer import Deferred

from smsgw.domain import ids
from smsgw.domain.model import AccountStatus, FEN, HoldReason, MessageState, MoMessage
from smsgw.policy.settings import DuplicateMode, FrequencySettings, PolicySettings, WindowSettings
from smsgw.policy.verdict import Rule, rule_of
from smsgw.store import lists, schema
from tests.policy.clock import HOUR, MINUTE, china, wall
from tests.policy.rig import NOON, SP_NUMBER, Client, eventually, make_policy_rig, raw

OK = smpplib.consts.SMPP_ESME_ROK
SUBMITFAIL = smpplib.consts.SMPP_ESME_RSUBMITFAIL


def in_thread(fn: Any, *args: Any, **kwargs: Any) -> Deferred[Any]:
    return threads.deferToThread(fn, *args, **kwargs)


def mid(resp: Any) -> int:
    return ids.from_text(resp.message_id.decode())


def _balance(conn: Any, account_id: int) -> int:
    import sqlalchemy as sa

    a = schema.accounts
    return int(conn.execute(sa.select(a.c.balance).where(a.c.id == account_id)).scalar_one())


def _ledger_rows(conn: Any, message_id: int) -> list[tuple[str, int]]:
    import sqlalchemy as sa

    ledger = schema.ledger
    rows = conn.execute(sa.select(ledger.c.kind, ledger.c.amount).where(ledger.c.message_id == message_id))
    return [(row.kind, row.amount) for row in rows]


@pytest_twisted.inlineCallbacks
def test_outside_the_window_held_then_released_at_0805(tmp_path: Any) -> None:
    settings = PolicySettings(window=WindowSettings(release_rate=5))
    rig = yield make_policy_rig(tmp_path, settings=settings, start_at=china(2024, 5, 1, 23, 0))
    client = Client(rig.port)
    try:
        yield in_thread(client.bind)
        responses = yield in_thread(lambda: [client.submit(f"1380013{i * 7:04d}", f"晚安 {i}") for i in range(8)])
        assert all(r.status == OK for r in responses)
        first = yield rig.store.get_message(mid(responses[0]))
        assert first.state is MessageState.HELD and first.hold_reason is HoldReason.WINDOW
        assert wall(first.due_at) == "2024-05-02 08:05:00" and rule_of(first.reason) is Rule.WINDOW
        assert first.text == "【测试】晚安 0"  # the default signature was added
        assert (yield rig.store.claim_due(china(2024, 5, 2, 8, 4), 100)) == []

        def queued() -> Deferred[int]:
            d = rig.store.read(_count_state, "queued")
            return d

        # the service looks every second (release_interval) on its clock: time alone releases them
        rig.set_time(china(2024, 5, 2, 8, 4, 59))
        assert (yield eventually(lambda: rig.policies.counters["refreshed"] >= 2))  # the clock's loops have run
        assert (yield queued()) == 0  # not yet
        rig.set_time(china(2024, 5, 2, 8, 5))
        assert (yield eventually(lambda: rig.policies.counters["released"] >= 5)) and (yield queued()) == 5
        assert rig.policies.counters["released"] == 5  # paced: 5 per second
        rig.set_time(china(2024, 5, 2, 8, 5, 1))
        assert (yield eventually(lambda: rig.policies.counters["released"] == 8))
        assert (yield queued()) == 8
        claimed = yield rig.store.claim_due(china(2024, 5, 2, 8, 6), 100)
        assert [c.message_id for c in claimed] == [mid(r) for r in responses]  # acceptance order
    finally:
        yield in_thread(client.close)
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_the_demo_setting_sends_at_any_hour(tmp_path: Any) -> None:
    from smsgw.pipeline.policies import bootstrap_demo

    rig = yield make_policy_rig(tmp_path, start_at=china(2024, 5, 1, 3, 0), signature=None)
    yield bootstrap_demo(rig.policies, rig.account)
    yield bootstrap_demo(rig.policies, rig.account)  # idempotent
    verified = yield rig.store.read(lists.verified_signatures, rig.account.id)
    assert verified == ["【示例】"]
    client = Client(rig.port)
    try:
        yield in_thread(client.bind)
        resp = yield in_thread(client.submit, "13800138000", "hello at 3 am")
        assert resp.status == OK
        message = yield rig.store.get_message(mid(resp))
        assert message.state is MessageState.QUEUED and message.text == "【示例】hello at 3 am"
    finally:
        yield in_thread(client.close)
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_blacklisted_number_gets_a_failure_receipt_and_no_charge(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path, price=4000)
    yield rig.policies.set_blacklisted("13800000001", "admin", reason="complaint")
    client = Client(rig.port)
    try:
        yield in_thread(client.bind)
        before = yield rig.store.read(_balance, rig.account.id)
        resp = yield in_thread(client.submit, "8613800000001", "hello")
        assert resp.status == OK and resp.message_id
        [receipt] = yield in_thread(client.wait_delivered, 1)
        assert receipt.receipted_message_id == resp.message_id and receipt.message_state == 8  # REJECTED
        assert b"stat:REJECTD" in receipt.short_message and b"err:601" in receipt.short_message
        message = yield rig.store.get_message(mid(resp))
        assert message.state is MessageState.REJECTED and rule_of(message.reason) is Rule.BLACKLIST
        assert message.charge == 0 and (yield rig.store.read(_balance, rig.account.id)) == before
        other = yield in_thread(client.submit, "13800000002", "hello")
        assert other.status == OK
        assert (yield rig.store.get_message(mid(other))).state is MessageState.QUEUED
    finally:
        yield in_thread(client.close)
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_td_reply_puts_the_sender_on_the_enterprise_blacklist(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path)
    client = Client(rig.port)
    try:
        yield in_thread(client.bind)
        assert (yield in_thread(client.submit, "13800000003", "促销")).status == OK
        for sender, reply in (("8613800000003", "ｔｄ"), ("13800000004", "谢谢")):
            rig.events.mo(MoMessage(id=0, carrier="cmcc", source_addr=sender, dest_addr=SP_NUMBER + "8888",
                                    content=reply.encode("utf-16-be"), received_at=rig.now_ms(), data_coding=8))
        yield in_thread(client.wait_delivered, 2)  # both replies reach the client all the same
        listed = yield rig.store.read(lists.is_blacklisted, "13800000003", rig.account.id)
        assert listed and not (yield rig.store.read(lists.is_blacklisted, "13800000003", None))  # enterprise only
        assert not (yield rig.store.read(lists.is_blacklisted, "13800000004", rig.account.id))
        resp = yield in_thread(client.submit, "13800000003", "促销")
        assert resp.status == OK
        message = yield rig.store.get_message(mid(resp))
        assert message.state is MessageState.REJECTED and rule_of(message.reason) is Rule.BLACKLIST
    finally:
        yield in_thread(client.close)
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_prohibited_keyword_rejected_and_doubtful_content_reviewed(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path, price=4000)
    yield rig.policies.set_keyword("reject", "代开发票", "admin")
    yield rig.policies.set_keyword("review", "贷款", "admin")
    client = Client(rig.port)
    try:
        yield in_thread(client.bind)
        bad = yield in_thread(client.submit, "13800000010", "专业 代·开·发·票")
        assert bad.status == OK
        [receipt] = yield in_thread(client.wait_delivered, 1)
        assert receipt.receipted_message_id == bad.message_id and b"err:602" in receipt.short_message
        rejected = yield rig.store.get_message(mid(bad))
        assert rejected.state is MessageState.REJECTED and rule_of(rejected.reason) is Rule.CONTENT
        assert rejected.charge == 4000  # the contract charges content-rule breaches
        assert (yield rig.store.read(_ledger_rows, mid(bad))) == [("charge", -4000)]

        doubtful = []
        for i in range(2):
            resp = yield in_thread(client.submit, f"1380000002{i}", f"低息贷款 {i}")
            assert resp.status == OK
            doubtful.append(mid(resp))
        held = yield rig.store.get_message(doubtful[0])
        assert held.state is MessageState.HELD and held.hold_reason is HoldReason.REVIEW
        from smsgw.store.review import pending_reviews

        pending = yield rig.store.read(pending_reviews)
        assert [p.message_id for p in pending] == doubtful

        # approved at night: it waits for the window; refused: a receipt, still charged
        rig.set_time(china(2024, 5, 1, 23, 30))
        assert (yield rig.policies.review(doubtful[0], True, "admin", "ok")) is MessageState.HELD
        approved = yield rig.store.get_message(doubtful[0])
        assert approved.hold_reason is HoldReason.WINDOW and wall(approved.due_at) == "2024-05-02 08:05:00"
        assert (yield rig.policies.review(doubtful[1], False, "admin", "loan ads")) is MessageState.REJECTED
        receipts = yield in_thread(client.wait_delivered, 2)
        assert receipts[1].receipted_message_id.decode() == ids.to_text(doubtful[1])
        assert b"stat:REJECTD" in receipts[1].short_message
        assert (yield rig.store.get_message(doubtful[1])).charge == 4000
        history = yield rig.store.history(doubtful[0])
        assert [e.to_state for e in history][-2:] == [MessageState.QUEUED, MessageState.HELD]
    finally:
        yield in_thread(client.close)
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_signatures_unverified_refused_missing_added_and_billed(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path, price=4000)
    yield rig.policies.add_signature(rig.account.id, "【待审】", "client")  # added, not verified
    client = Client(rig.port)
    try:
        yield in_thread(client.bind)
        for text in ("【别家】您好", "【待审】您好"):
            refused = yield in_thread(client.submit, "13800000030", text)
            assert refused.status == SUBMITFAIL
        assert (yield in_thread(client.submit, "13800000031", "您好【测试】")).status == OK
        before = yield rig.store.read(_balance, rig.account.id)
        resp = yield in_thread(client.submit, "13800000032", "验" * 67)  # one segment alone; two signed
        assert resp.status == OK
        message = yield rig.store.get_message(mid(resp))
        assert message.text == "【测试】" + "验" * 67 and message.parts == 2 and message.charge == 8000
        assert (yield rig.store.read(_balance, rig.account.id)) == before - 8000
    finally:
        yield in_thread(client.close)
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_duplicates_flagged_by_default_suppressed_when_the_account_says(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path, price=4000)
    other = yield rig.store.create_account("strict", "demo", NOON, "test", max_binds=2)
    yield rig.store.recharge(other.id, 1000 * FEN, NOON, "test")
    yield rig.policies.add_signature(other.id, "【严格】", "test", verified=True)
    yield rig.policies.set_account_policy(other, "test", {"duplicates": DuplicateMode.SUPPRESS.value})
    client, strict = Client(rig.port), Client(rig.port, "strict")
    try:
        yield in_thread(client.bind)
        yield in_thread(strict.bind)
        first = yield in_thread(client.submit, "13800000040", "您的订单已发货")
        rig.set_time(NOON + 9 * HOUR)
        again = yield in_thread(client.submit, "13800000040", "您的订单已发货")
        assert first.status == again.status == OK
        flagged = yield rig.store.get_message(mid(again))
        assert flagged.state is MessageState.QUEUED and rule_of(flagged.reason) is Rule.DUPLICATE
        assert flagged.charge == 4000

        yield in_thread(strict.submit, "13800000041", "您的订单已发货")
        suppressed = yield in_thread(strict.submit, "13800000041", "您的订单已发货")
        assert suppressed.status == OK
        [receipt] = yield in_thread(strict.wait_delivered, 1)
        assert b"err:603" in receipt.short_message
        assert (yield rig.store.get_message(mid(suppressed))).state is MessageState.REJECTED
        rig.set_time(NOON + 19 * HOUR + MINUTE)  # ten hours after the last one sent
        later = yield in_thread(strict.submit, "13800000041", "您的订单已发货")
        assert (yield rig.store.get_message(mid(later))).reason is None
    finally:
        yield in_thread(client.close)
        yield in_thread(strict.close)
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_twenty_consecutive_numbers_are_refused(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path)
    try:
        dests = [{"dest_flag": 1, "dest_addr_ton": 0, "dest_addr_npi": 0, "destination_addr": str(13912340000 + i)}
                 for i in range(25)]
        [resp] = yield in_thread(raw, rig.port, ("submit_multi", {
            "source_addr": "", "dest_address": dests, "data_coding": 8, "short_message": "限时特惠".encode("utf-16-be")}))
        assert resp.status == OK
        failed = [u["destination_addr"] for u in resp.fields["unsuccess_sme"]]
        assert failed == [str(13912340000 + i) for i in range(19, 25)]
        assert all(u["error_status_code"] == SUBMITFAIL for u in resp.fields["unsuccess_sme"])
        # and one at a time, from the other end of the block
        client = Client(rig.port)
        yield in_thread(client.bind)
        try:
            statuses = yield in_thread(client.statuses, [(str(13912349999 - i), "限时特惠") for i in range(21)])
            assert statuses[:19] == [OK] * 19 and statuses[19:] == [SUBMITFAIL] * 2
        finally:
            yield in_thread(client.close)
    finally:
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_frequency_limit_per_number(tmp_path: Any) -> None:
    settings = PolicySettings(frequency=FrequencySettings(per_minute=2, per_hour=0, per_day=5))
    rig = yield make_policy_rig(tmp_path, settings=settings)
    client = Client(rig.port)
    try:
        yield in_thread(client.bind)
        statuses = yield in_thread(client.statuses, [("13800000050", f"code {i}") for i in range(3)])
        assert statuses == [OK, OK, SUBMITFAIL]
        assert (yield in_thread(client.submit, "13800000051", "code x")).status == OK  # another number
        rig.set_time(NOON + MINUTE)
        statuses = yield in_thread(client.statuses, [("13800000050", f"code {i}") for i in range(3, 6)])
        assert statuses == [OK, OK, SUBMITFAIL]
        rig.set_time(NOON + 2 * MINUTE)
        assert (yield in_thread(client.submit, "13800000050", "code 6")).status == OK
        assert (yield in_thread(client.submit, "13800000050", "code 7")).status == SUBMITFAIL  # 5 today
    finally:
        yield in_thread(client.close)
        yield rig.close()


@pytest_twisted.inlineCallbacks
def test_balance_refusal_and_one_low_balance_alert_per_crossing(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path, price=4000, balance_fen=20, reserved_phone="13900000099",
                                low_balance_threshold=10 * FEN)
    yield rig.policies.refresh()
    client = Client(rig.port)
    try:
        yield in_thread(client.bind)
        # 20 fen: 5 messages of 4 fen; the threshold of 10 fen is crossed by the third
        statuses = yield in_thread(client.statuses, [(f"1380000006{i}", f"第{i}条") for i in range(6)])
        assert statuses == [OK] * 5 + [SUBMITFAIL]  # insufficient balance: ESME_RSUBMITFAIL
        yield rig.store.recharge(rig.account.id, 100 * FEN, rig.now_ms(), "admin")
        statuses = yield in_thread(client.statuses, [(f"1380000{i * 3:04d}", f"第{i}条") for i in range(26)])
        assert statuses == [OK] * 25 + [SUBMITFAIL]  # 100 fen: 25 more; 10 fen crossed again by the 23rd
        alerts = yield rig.store.read(_alerts)
        assert len(alerts) == 2 and all(a.dest_addr == "13900000099" for a in alerts)
        assert all("低于提醒金额0.10元" in a.text and a.charge == 0 for a in alerts)
    finally:
        yield in_thread(client.close)
        yield rig.close()


def _count_state(conn: Any, state: str) -> int:
    import sqlalchemy as sa

    m = schema.messages
    return int(conn.execute(sa.select(sa.func.count()).where(m.c.state == state)).scalar_one())


def _alerts(conn: Any) -> list[Any]:
    import sqlalchemy as sa

    m = schema.messages
    return list(conn.execute(sa.select(m).where(m.c.reason.like("balance:%")).order_by(m.c.id)))


@pytest_twisted.inlineCallbacks
def test_enterprise_blacklisted_for_violations_can_neither_submit_nor_bind(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path)
    client = Client(rig.port)
    try:
        yield in_thread(client.bind)
        assert (yield in_thread(client.submit, "13800000080", "hi")).status == OK
        yield rig.policies.set_account_status(rig.account.id, AccountStatus.BLACKLISTED, "admin", "spam")
        refused = yield in_thread(client.submit, "13800000080", "hi again")
        assert refused.status == SUBMITFAIL
        again = Client(rig.port)
        try:
            error = None
            try:
                yield in_thread(again.bind)
            except smpplib.exceptions.PDUError as e:
                error = e
            assert error is not None and error.args[1] == smpplib.consts.SMPP_ESME_RBINDFAIL
        finally:
            again.c.disconnect()
    finally:
        yield in_thread(client.close)
        yield rig.close()
