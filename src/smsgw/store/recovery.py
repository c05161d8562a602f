"""Recovery at start, before the writer takes operations.

After a crash (kill -9, power loss) the database holds exactly the committed
transactions.  What a running gateway kept outside it is gone: the links'
in-flight windows and the outbox leases.  Recovery therefore

* puts every ``sending`` segment back to ``queued`` (at-least-once towards the
  carrier; DESIGN.md §3.5 bounds the duplicates by the window),
* makes the whole client outbox due now (leases of a dead process are void),
* checks that every balance equals the sum of its ledger.

It runs in one transaction; ``sending`` rows are bounded by the links' windows.
"""

from __future__ import annotations

import attrs
import sqlalchemy as sa

from smsgw.store import schema
from smsgw.store.dispatching import requeue_sending
from smsgw.store.errors import LedgerMismatch
from smsgw.store.ledger import BalanceMismatch, check_balances
from smsgw.store.tx import Rules, Statements, Tx


@attrs.frozen
class RecoveryReport:
    requeued_segments: int
    outbox_pending: int
    mismatches: tuple[BalanceMismatch, ...]


def recover(engine: sa.Engine, now: int, rules: Rules = Rules(), strict: bool = True) -> RecoveryReport:
    """Bring the store to a state the gateway can start from.

    With ``strict`` a balance that differs from its ledger raises
    ``LedgerMismatch`` (the gateway must not start charging on top of it).
    """
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            tx = Tx(conn, Statements(conn.dialect), rules)
            requeued = requeue_sending(tx, now, "recovery after restart")
            o = schema.outbox
            conn.execute(sa.update(o).where(o.c.next_attempt_at > now).values(next_attempt_at=now))
            pending = int(conn.execute(sa.select(sa.func.count()).select_from(o)).scalar_one())
            tx.flush()
            mismatches = tuple(check_balances(conn))
    if mismatches and strict:
        raise LedgerMismatch(f"balances differ from their ledger: {list(mismatches)}")
    return RecoveryReport(requeued, pending, mismatches)
