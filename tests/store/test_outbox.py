"""The client outbox: MO and receipts wait, are leased, acknowledged, retried."""

from __future__ import annotations

from smsgw.domain.model import MessageState, MoMessage, OutboxKind, Report
from smsgw.store.dispatching import ClaimDue, Submitted
from smsgw.store.outbox import AckOutbox, ClaimOutbox, RecordMo, RetryOutbox, pending_count
from smsgw.store.recovery import recover
from smsgw.store.reporting import RecordReport
from smsgw.store.writer import Writer, call_now
from tests.store.harness import Harness

S = MessageState


def mo(store: Harness, account_id: int | None, text: str = "TD") -> MoMessage:
    return MoMessage(
        id=store.ids.next(), carrier="cmcc", source_addr="13800138000", dest_addr="106900001201",
        content=text.encode("utf-16-be"), received_at=store.clock.now, data_coding=8, account_id=account_id,
    )  # fmt: skip


def test_mo_goes_to_its_account(store: Harness) -> None:
    ent = store.enterprise()
    sub = store.sub_account(ent, extension="01")
    first, second = mo(store, sub.id, "退订"), mo(store, sub.id)
    orphan = mo(store, None)
    assert store.run(RecordMo(first)) == first.id
    store.run(RecordMo(second))
    store.run(RecordMo(orphan))  # no account matched: kept, not queued
    items = store.run(ClaimOutbox(sub.id, store.clock.now, 10))
    assert [(i.kind, i.ref_id) for i in items] == [(OutboxKind.MO, first.id), (OutboxKind.MO, second.id)]
    assert items[0].content == "退订".encode("utf-16-be") and items[0].data_coding == 8
    assert (items[0].source_addr, items[0].dest_addr, items[0].attempts) == ("13800138000", "106900001201", 1)
    assert store.run(ClaimOutbox(ent.id, store.clock.now, 10)) == []


def test_lease_ack_and_retry(store: Harness) -> None:
    ent = store.enterprise()
    for _ in range(3):
        store.run(RecordMo(mo(store, ent.id)))
    now = store.clock.now
    first = store.run(ClaimOutbox(ent.id, now, 2, lease_ms=60_000))
    assert len(first) == 2
    # leased items are not offered again while the lease runs
    [third] = store.run(ClaimOutbox(ent.id, now, 10, lease_ms=60_000))
    assert store.run(ClaimOutbox(ent.id, now + 59_999, 10)) == []
    assert store.run(AckOutbox(first[0].id)) is True
    assert store.run(AckOutbox(first[0].id)) is False
    assert store.run(RetryOutbox(third.id, now + 5_000)) is True
    again = store.run(ClaimOutbox(ent.id, now + 60_000, 10))
    assert [i.id for i in again] == [third.id, first[1].id]
    assert [i.attempts for i in again] == [2, 2]
    with store.conn() as conn:
        assert pending_count(conn, ent.id) == 2


def test_receipts_wait_and_survive_a_restart(store: Harness) -> None:
    ent = store.enterprise()
    msg = store.accept(ent)
    store.run(ClaimDue(store.clock.now, 10))
    store.run(Submitted(msg.id, 1, "cmcc", "r1", store.clock.now))
    store.run(RecordReport(Report("cmcc", "r1", S.DELIVERED, "DELIVRD", store.clock.now)))
    [leased] = store.run(ClaimOutbox(ent.id, store.clock.now, 10, lease_ms=3_600_000))
    assert leased.kind is OutboxKind.REPORT and leased.state is S.DELIVERED and leased.ref_id == msg.id
    # the gateway dies before the client acknowledged: after recovery it is due at once
    store.writer.stop(timeout=30)
    report = recover(store.engine, store.clock.now + 1)
    assert report.outbox_pending == 1
    store.start_new_writer()
    [again] = store.run(ClaimOutbox(ent.id, store.clock.now + 1, 10))
    assert again.id == leased.id and again.attempts == 2
    store.run(AckOutbox(again.id))
    assert store.outbox(ent.id) == []


def test_many_acks_in_one_batch(store: Harness) -> None:
    ent = store.enterprise()
    for _ in range(20):
        store.run(RecordMo(mo(store, ent.id)))
    items = store.run(ClaimOutbox(ent.id, store.clock.now, 100))
    answers: list[bool] = []
    writer = Writer(store.engine, notify=call_now)
    for item in items + items[:3]:
        writer.submit(AckOutbox(item.id), lambda result, error: answers.append(result))
    writer.start()
    writer.stop(timeout=30)
    assert writer.stats.batches == 1
    assert answers == [True] * 20 + [False] * 3
    assert store.outbox(ent.id) == []
