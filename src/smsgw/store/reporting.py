"""Carrier status reports: match, record, and end messages (DESIGN.md §3.6).

A report names the carrier's message id; ``carrier_message_ids`` maps it to
our segment.  Every report is kept in ``receipts``.  One that cannot be
matched yet (its submit response is not recorded: SGIP reports arrive on a
connection of their own) stays unmatched until ``Submitted`` records the id,
which then applies it.  The first final report of a segment wins; a long
message ends when its last part does (``lifecycle.finalize``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterable, NamedTuple, Sequence

import attrs
import sqlalchemy as sa

from smsgw.domain.model import FINAL_STATES, MessageState, Report
from smsgw.store import schema
from smsgw.store.errors import InvalidOperation
from smsgw.store.lifecycle import finalize, segments_of
from smsgw.store.tx import Tx, chunks

c = schema.carrier_message_ids
s = schema.segments
r = schema.receipts

RECEIPT_KEYS = (
    "carrier", "carrier_msg_id", "message_id", "seq", "state", "stat", "err", "submit_at",
    "done_at", "received_at",
)  # fmt: skip


@attrs.frozen
class ReportOutcome:
    matched: bool
    message_id: int | None = None
    seq: int | None = None
    # The message's final state when this report ended it.
    message_state: MessageState | None = None


@attrs.frozen
class RecordReport:
    report: Report
    coalesce: ClassVar[bool] = True

    def run(self, tx: Tx) -> ReportOutcome:
        (result,) = self.run_many(tx, [self])
        if isinstance(result, Exception):
            raise result
        return result  # type: ignore[no-any-return]

    @classmethod
    def run_many(cls, tx: Tx, ops: Sequence[RecordReport]) -> list[Any]:
        results: list[Any] = [None] * len(ops)
        valid = []
        for index, op in enumerate(ops):
            if op.report.state in FINAL_STATES:
                valid.append((index, op.report))
            else:
                results[index] = InvalidOperation(f"a report cannot say {op.report.state.value}")
        mapping = lookup(tx, {(rep.carrier, rep.carrier_msg_id) for _, rep in valid})
        rows = []
        matched = []
        for index, rep in valid:
            target = mapping.get((rep.carrier, rep.carrier_msg_id))
            mid, seq = target if target else (None, None)
            rows.append(
                (rep.carrier, rep.carrier_msg_id, mid, seq, rep.state.value, rep.stat, rep.err,
                 rep.submit_at, rep.done_at, rep.received_at)
            )  # fmt: skip
            if target:
                matched.append((target[0], target[1], rep))
            results[index] = ReportOutcome(target is not None, mid, seq)
        tx.insert_many(r, RECEIPT_KEYS, rows)
        ended = apply_reports(tx, matched)
        for index, result in enumerate(results):
            if isinstance(result, ReportOutcome) and result.message_id in ended:
                results[index] = attrs.evolve(result, message_state=ended[result.message_id])
        return results


def lookup(tx: Tx, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
    """Our (message id, seq) for each known (carrier, carrier message id)."""
    by_carrier: dict[str, list[str]] = {}
    for carrier, carrier_msg_id in keys:
        by_carrier.setdefault(carrier, []).append(carrier_msg_id)
    found = {}
    for carrier, ids in by_carrier.items():
        for chunk in chunks(sorted(ids)):
            query = sa.select(c.c.carrier_msg_id, c.c.message_id, c.c.seq).where(
                c.c.carrier == carrier, c.c.carrier_msg_id.in_(chunk)
            )
            for row in tx.conn.execute(query):
                found[(carrier, row.carrier_msg_id)] = (row.message_id, row.seq)
    return found


def apply_reports(tx: Tx, items: Sequence[tuple[int, int, Report]]) -> dict[int, MessageState]:
    """Set matched segments to their reported state; end the messages that are done."""
    if not items:
        return {}
    parts = segments_of(tx, sorted({mid for mid, _, _ in items}), lock=True)
    updates = []
    ends: dict[int, tuple[int, str | None]] = {}
    done: set[tuple[int, int]] = set()
    for mid, seq, rep in items:
        segs = parts.get(mid, [])
        seg = next((p for p in segs if p.seq == seq), None)
        if seg is None or MessageState(seg.state) in FINAL_STATES or (mid, seq) in done:
            continue
        done.add((mid, seq))
        done_at = rep.done_at if rep.done_at is not None else rep.received_at
        updates.append(
            {"mid": mid, "sq": seq, "st": rep.state.value, "done": done_at, "stat": rep.stat, "err": rep.err}
        )
        segs[segs.index(seg)] = _Part(mid, seq, rep.state.value, rep.stat, rep.err, done_at)
        if len(segs) > 1:
            tx.event(mid, rep.received_at, MessageState(seg.state), rep.state, rep.stat, seq=seq)
        ends[mid] = (rep.received_at, rep.stat)
    if updates:
        tx.conn.execute(
            sa.update(s)
            .where(s.c.message_id == sa.bindparam("mid"), s.c.seq == sa.bindparam("sq"))
            .values(
                state=sa.bindparam("st"),
                done_at=sa.bindparam("done"),
                stat=sa.bindparam("stat"),
                err=sa.bindparam("err"),
            ),
            updates,
        )
    return finalize(tx, ends, parts=parts)


class _Part(NamedTuple):
    """A segment as the report left it (the columns ``lifecycle.segments_of`` reads)."""

    message_id: int
    seq: int
    state: str
    stat: str | None
    err: str | None
    done_at: int | None


def match_pending(tx: Tx, keys: Iterable[tuple[str, str]]) -> dict[int, MessageState]:
    """Apply reports that arrived before these carrier ids were recorded."""
    wanted = set(keys)
    if not wanted:
        return {}
    mapping = lookup(tx, wanted)
    items = []
    for carrier in {carrier for carrier, _ in wanted}:
        ids = sorted(cid for car, cid in wanted if car == carrier)
        for chunk in chunks(ids):
            query = (
                sa.select(r.c.id, r.c.carrier_msg_id, r.c.state, r.c.stat, r.c.err, r.c.submit_at,
                          r.c.done_at, r.c.received_at)  # fmt: skip
                .where(r.c.carrier == carrier, r.c.carrier_msg_id.in_(chunk), r.c.message_id.is_(None))
                .order_by(r.c.id)
            )
            for row in tx.conn.execute(query):
                mid, seq = mapping[(carrier, row.carrier_msg_id)]
                tx.conn.execute(sa.update(r).where(r.c.id == row.id).values(message_id=mid, seq=seq))
                rep = Report(
                    carrier, row.carrier_msg_id, MessageState(row.state), row.stat, row.received_at,
                    row.err, row.submit_at, row.done_at,
                )  # fmt: skip
                items.append((mid, seq, rep))
    return apply_reports(tx, items)
