"""Per-account policy overrides set at run time, kept in the store so a restart keeps them.

An account's row holds the policy values an administrator set for it (send
window hours, duplicates mode, refund rule, …) as a JSON object; what the
values mean is the policy layer's business (``policy.settings.AccountPolicy``).
``SetAccountPolicy`` merges changes into the row in one transaction with its
audit row (``policy.set``), which is how other nodes hear of the change.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import sqlalchemy as sa

from smsgw.store import schema
from smsgw.store.audit import audit
from smsgw.store.errors import NotFound
from smsgw.store.tx import Tx

ap = schema.account_policies
a = schema.accounts


@attrs.frozen
class SetAccountPolicy:
    """Merge ``changes`` (key → value; None removes the key) into an account's overrides;
    ``replace`` starts from nothing.  Answers the overrides as they are now (empty: none)."""

    account_id: int
    changes: tuple[tuple[str, Any], ...]
    at: int
    actor: str
    replace: bool = False

    def run(self, tx: Tx) -> dict[str, Any]:
        login = tx.conn.execute(sa.select(a.c.login).where(a.c.id == self.account_id)).scalar()
        if login is None:
            raise NotFound(f"no account {self.account_id}")
        row = tx.conn.execute(sa.select(ap.c.policy).where(ap.c.account_id == self.account_id)).first()
        current: dict[str, Any] = {} if row is None or self.replace else json.loads(row.policy)
        for key, value in self.changes:
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        text = json.dumps(current, ensure_ascii=False, sort_keys=True)
        if not current:
            tx.conn.execute(sa.delete(ap).where(ap.c.account_id == self.account_id))
        elif row is None:
            tx.conn.execute(sa.insert(ap).values(account_id=self.account_id, policy=text, updated_at=self.at,
                                                 updated_by=self.actor))
        else:
            tx.conn.execute(sa.update(ap).where(ap.c.account_id == self.account_id)
                            .values(policy=text, updated_at=self.at, updated_by=self.actor))
        audit(tx, self.at, self.actor, "policy.set", login, account_id=self.account_id, **dict(self.changes))
        return current


def account_policies(conn: sa.Connection) -> dict[str, dict[str, Any]]:
    """Every account's overrides, by login."""
    rows = conn.execute(sa.select(a.c.login, ap.c.policy).select_from(ap.join(a, a.c.id == ap.c.account_id)))
    return {row.login: json.loads(row.policy) for row in rows}
