"""The store of a fault test: prepared before the gateway starts, audited after it has stopped.

``prepare_store`` creates the schema and the test accounts (balance, a
verified signature) through the store's own operations.  ``StoreAudit`` reads
a store (SQLite or PostgreSQL) after a run and lists every rule that must hold
whatever happened and does not: acknowledged messages stored and final; each
stored message with all its segments and charged exactly once; every balance
equal to the sum of its ledger; every message history a path through the
state machine (``smsgw.pipeline.states.TRANSITIONS``) that ends at the
message's state.  ``open_work`` says what the store still has to do.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Any, Iterable

import attrs
import sqlalchemy as sa

from smsgw.domain import ids
from smsgw.domain.model import YUAN, MessageState, SignatureStatus
from smsgw.pipeline.states import TRANSITIONS
from smsgw.store import lists, migrate
from smsgw.store import schema as t
from smsgw.store.accounts import CreateAccount, Recharge
from smsgw.store.db import create_engine
from smsgw.store.passwords import hash_password
from smsgw.store.writer import Writer, call_now

if TYPE_CHECKING:
    from tests.faults.rig import AccountSpec

FINAL = frozenset({"delivered", "undelivered", "expired", "rejected"})


def prepare_store(url: str, accounts: Iterable[AccountSpec]) -> dict[str, int]:
    """Schema at head, and each account (see ``AccountSpec``); login → enterprise id."""
    migrate.upgrade(url)
    engine = create_engine(url)
    writer = Writer(engine, notify=call_now)
    writer.start()
    enterprises = {}
    try:
        for spec in accounts:
            now = int(time.time() * 1000)
            account = writer.run_sync(CreateAccount(spec.login, hash_password(spec.password), now, "faults",
                                                    max_binds=spec.max_binds, tps=spec.tps), timeout=60)
            writer.run_sync(Recharge(account.id, spec.yuan * YUAN, now, "faults"), timeout=60)
            signature = writer.run_sync(lists.AddSignature(account.id, spec.signature, now, "faults"), timeout=60)
            writer.run_sync(lists.DecideSignature(signature, SignatureStatus.VERIFIED, now, "faults"), timeout=60)
            enterprises[spec.login] = account.id
    finally:
        writer.stop(timeout=60)
        engine.dispose()
    return enterprises


def text_id(message_id: int) -> str:
    """Our message id as clients see it (``smsgw.domain.ids.to_text``)."""
    return ids.to_text(message_id)


def open_work(url: str) -> tuple[int, int]:
    """(messages not in a final state, receipts and MO waiting in the outbox) in the store now."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            waiting = conn.execute(sa.select(sa.func.count()).select_from(t.messages)
                                   .where(t.messages.c.state.not_in(sorted(FINAL)))).scalar_one()
            outbox = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
    finally:
        engine.dispose()
    return int(waiting), int(outbox)


@attrs.define
class StoreAudit:
    """What the store holds after a run; ``problems(acked)`` lists every broken rule (empty: all hold)."""

    #: message id (text) → (state, parts, charge, enterprise_id, carrier)
    messages: dict[str, tuple[str, int, int, int, str]]
    segments: Counter[str]
    #: message id (text) → charge rows (amounts) in the ledger
    charges: dict[str, list[int]]
    refunds: dict[str, list[int]]
    #: enterprise id → (balance, sum of ledger)
    balances: dict[int, tuple[int, int]]
    outbox: int
    history_errors: list[str]

    @classmethod
    def read(cls, url: str) -> StoreAudit:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.select(t.messages.c.id, t.messages.c.state, t.messages.c.parts,
                                              t.messages.c.charge, t.messages.c.enterprise_id, t.messages.c.carrier,
                                              t.messages.c.first_state)).all()
                messages = {text_id(r.id): (r.state, r.parts, r.charge, r.enterprise_id, r.carrier) for r in rows}
                first = {r.id: r.first_state for r in rows}
                last = {r.id: r.state for r in rows}
                segments = Counter(text_id(r.message_id) for r in conn.execute(sa.select(t.segments.c.message_id)))
                charges: dict[str, list[int]] = {}
                refunds: dict[str, list[int]] = {}
                ledger_sum: Counter[int] = Counter()
                for r in conn.execute(sa.select(t.ledger.c.enterprise_id, t.ledger.c.kind, t.ledger.c.amount,
                                                t.ledger.c.message_id)):
                    ledger_sum[r.enterprise_id] += r.amount
                    if r.message_id is not None:
                        into = charges if r.kind == "charge" else refunds
                        into.setdefault(text_id(r.message_id), []).append(r.amount)
                balances = {r.id: (r.balance, ledger_sum[r.id]) for r in conn.execute(
                    sa.select(t.accounts.c.id, t.accounts.c.balance).where(t.accounts.c.parent_id.is_(None)))}
                outbox = int(conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one())
                e = t.message_events
                events = conn.execute(sa.select(e.c.message_id, e.c.from_state, e.c.to_state)
                                      .where(e.c.seq == 0).order_by(e.c.message_id, e.c.id)).all()
        finally:
            engine.dispose()
        return cls(messages, segments, charges, refunds, balances, outbox, history_errors(first, last, events))

    def problems(self, acked: Iterable[str]) -> list[str]:
        """Broken rules, for the acknowledged messages (their text ids) and for the whole store."""
        out = []
        for mid in acked:
            row = self.messages.get(mid)
            if row is None:
                out.append(f"acknowledged message {mid} is not in the store")
                continue
            if row[0] not in FINAL:
                out.append(f"acknowledged message {mid} is {row[0]}, not final")
        for mid, (state, parts, charge, _enterprise, _carrier) in self.messages.items():
            if self.segments[mid] != parts:
                out.append(f"message {mid} has {self.segments[mid]} segment(s), not {parts}")
            if self.charges.get(mid, []) != ([-charge] if charge else []):
                out.append(f"message {mid} charged {self.charges.get(mid)}, not once {-charge}")
        for enterprise, (balance, ledger) in self.balances.items():
            if balance != ledger:
                out.append(f"enterprise {enterprise}: balance {balance} != ledger sum {ledger}")
        out += self.history_errors[:20]
        if len(self.history_errors) > 20:
            out.append(f"... and {len(self.history_errors) - 20} more history errors")
        return out


def history_errors(first: dict[int, str], last: dict[int, str], events: Iterable[Any]) -> list[str]:
    """Where a message's own history (``message_events`` rows of seq 0, in order) is not a path of allowed
    transitions from its first state to its state now; ``first``/``last``: message id → state."""
    errors: list[str] = []
    state: dict[int, str] = {}
    for ev in events:
        current = state.get(ev.message_id, first.get(ev.message_id))
        allowed = TRANSITIONS.get(MessageState(ev.from_state), frozenset()) if ev.from_state else frozenset()
        if ev.from_state != current or MessageState(ev.to_state) not in allowed:
            errors.append(f"{text_id(ev.message_id)}: {ev.from_state}->{ev.to_state} after {current}")
        state[ev.message_id] = ev.to_state
    for mid, now in last.items():
        if state.get(mid, first[mid]) != now:
            errors.append(f"{text_id(mid)}: history ends at {state.get(mid, first[mid])}, message is {now}")
    return errors
