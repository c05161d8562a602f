"""Money: every balance change is a ledger row in the same transaction.

A balance belongs to an enterprise account (``accounts.balance`` of a row
without parent); sub-accounts spend from it and may have a remaining quota
of their own (``quota_left``, not part of the ledger: it is a limit, not
money).  The invariant ``balance == sum(ledger.amount)`` per enterprise is
checked by ``check_balances`` — in tests, and by recovery at every start.
"""

from __future__ import annotations

import attrs
import sqlalchemy as sa

from smsgw.domain.model import LedgerKind
from smsgw.store import schema
from smsgw.store.errors import InsufficientBalance, NotFound
from smsgw.store.tx import Tx

LEDGER_KEYS = ("enterprise_id", "account_id", "amount", "kind", "message_id", "at", "actor", "note")

a = schema.accounts


@attrs.frozen
class BalanceMismatch:
    enterprise_id: int
    balance: int
    ledger_sum: int


def change_balance(
    tx: Tx,
    enterprise_id: int,
    amount: int,
    kind: LedgerKind,
    at: int,
    *,
    account_id: int | None = None,
    message_id: int | None = None,
    actor: str | None = None,
    note: str | None = None,
    allow_overdraft: bool = True,
) -> int:
    """Add ``amount`` (signed) to the enterprise's balance, with its ledger row;
    returns the new balance.  Without ``allow_overdraft`` a debit may not take
    the balance below ``-credit_limit``."""
    stmt = sa.update(a).where(a.c.id == enterprise_id, a.c.parent_id.is_(None))
    if not allow_overdraft and amount < 0:
        stmt = stmt.where(a.c.balance + amount >= -a.c.credit_limit)
    row = tx.conn.execute(
        stmt.values(balance=a.c.balance + amount, updated_at=at).returning(a.c.balance)
    ).first()
    if row is None:
        exists = tx.conn.execute(
            sa.select(a.c.id).where(a.c.id == enterprise_id, a.c.parent_id.is_(None))
        ).first()
        if exists is None:
            raise NotFound(f"no enterprise account {enterprise_id}")
        raise InsufficientBalance(enterprise_id, -amount)
    tx.insert_many(
        schema.ledger,
        LEDGER_KEYS,
        [(enterprise_id, account_id, amount, kind.value, message_id, at, actor, note)],
    )
    return int(row[0])


def check_balances(conn: sa.Connection) -> list[BalanceMismatch]:
    """Every enterprise whose balance is not the sum of its ledger (empty = consistent).

    Sub-accounts hold no money: a non-zero balance on one is a mismatch too.
    """
    sums = (
        sa.select(schema.ledger.c.enterprise_id, sa.func.sum(schema.ledger.c.amount).label("total"))
        .group_by(schema.ledger.c.enterprise_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(a.c.id, a.c.parent_id, a.c.balance, sa.func.coalesce(sums.c.total, 0))
        .select_from(a.outerjoin(sums, sums.c.enterprise_id == a.c.id))
        .order_by(a.c.id)
    )
    mismatches = []
    for account_id, parent_id, balance, total in rows:
        expected = int(total) if parent_id is None else 0
        if parent_id is not None and total:
            mismatches.append(BalanceMismatch(account_id, balance, int(total)))
        elif balance != expected:
            mismatches.append(BalanceMismatch(account_id, balance, int(total)))
    orphans = conn.execute(
        sa.select(schema.ledger.c.enterprise_id, sa.func.sum(schema.ledger.c.amount))
        .where(~schema.ledger.c.enterprise_id.in_(sa.select(a.c.id)))
        .group_by(schema.ledger.c.enterprise_id)
    )
    mismatches.extend(BalanceMismatch(int(eid), 0, int(total)) for eid, total in orphans)
    return mismatches
