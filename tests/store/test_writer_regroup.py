"""The writer regroups hot operations within a batch: fewer, larger runs; same outcomes, each to its caller."""

from __future__ import annotations

from typing import Any

from smsgw.domain.model import YUAN, MessageState, Report
from smsgw.store.accepting import Accept, AcceptResult
from smsgw.store.accounts import Recharge
from smsgw.store.dispatching import ClaimDue, Submitted
from smsgw.store.outbox import AckOutbox
from smsgw.store.reporting import RecordReport, ReportOutcome
from smsgw.store.writer import Writer, call_now, plan_groups
from tests.store.harness import Harness
from tests.store.test_writer import Answers

S = MessageState


def kinds(ops: list[Any]) -> list[tuple[str, list[int]]]:
    return [(kind.__name__, indices) for kind, indices in plan_groups(ops)]


def test_plan_groups_by_kind_between_other_operations() -> None:
    report = RecordReport(Report("cmcc", "c", S.DELIVERED, "DELIVRD", 0))
    submitted = Submitted(1, 1, "cmcc", "c", 0)
    accept: Any = Accept.__new__(Accept)  # only its type matters to the plan
    claim = ClaimDue(0)
    ack = AckOutbox(5)
    ops = [report, accept, submitted, ack, report, claim, claim, submitted, accept]
    assert kinds(ops) == [
        # before the first claim: accepts, then submit results, then reports, then acks
        ("Accept", [1]), ("Submitted", [2]), ("RecordReport", [0, 4]), ("AckOutbox", [3]),
        # claims keep their place and are not merged (ClaimDue does not coalesce)
        ("ClaimDue", [5]), ("ClaimDue", [6]),
        ("Accept", [8]), ("Submitted", [7]),
    ]  # fmt: skip


def test_plan_groups_merges_consecutive_coalescing_kinds_it_does_not_regroup() -> None:
    class Other:
        coalesce = True

    a, b = Other(), Other()
    recharge = Recharge(1, 1, 0, "t")
    assert kinds([a, b, recharge, a]) == [("Other", [0, 1]), ("Recharge", [2]), ("Other", [3])]


def test_interleaved_batch_answers_each_caller_and_a_report_before_its_submit_result_matches(store: Harness) -> None:
    ent = store.enterprise(balance=100 * YUAN)
    first = store.accept(ent)
    [claimed] = store.run(ClaimDue(store.clock.now, 10))
    assert claimed.message_id == first.id

    answers = Answers()
    writer = Writer(store.engine, notify=call_now)  # not started: everything below is one batch
    later = [store.message(ent) for _ in range(3)]
    now = store.clock.now
    ops: list[Any] = [
        later[0],
        # the report reaches the writer before the submit result it belongs to
        RecordReport(Report("cmcc", "cid-1", S.DELIVERED, "DELIVRD", now, done_at=now)),
        later[1],
        Submitted(first.id, 1, "cmcc", "cid-1", now, "link1"),
        later[2],
        AckOutbox(987654321),  # no such item
    ]
    for op in ops:
        writer.submit(op, answers.done)
    writer.start()
    writer.stop(timeout=30)
    results = answers.items
    assert len(results) == len(ops) and all(error is None for _, error in results)
    # answers arrive in submission order, each with its own operation's result
    assert [r.message_id for r, _ in (results[0], results[2], results[4])] == [op.message.id for op in later]
    assert all(isinstance(r, AcceptResult) for r, _ in (results[0], results[2], results[4]))
    outcome = results[1][0]
    assert isinstance(outcome, ReportOutcome)
    assert (outcome.matched, outcome.message_id, outcome.message_state) == (True, first.id, S.DELIVERED)
    assert results[3][0] is True
    assert results[5][0] is False
    assert writer.stats.batches == 1
    assert store.state(first.id) is S.DELIVERED
    assert [store.state(op.message.id) for op in later] == [S.QUEUED] * 3
