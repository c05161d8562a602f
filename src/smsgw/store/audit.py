"""The audit log: who changed what, written in the transaction of the change."""

from __future__ import annotations

import json
from typing import Any

import attrs
import sqlalchemy as sa

from smsgw.store import schema
from smsgw.store.tx import Tx

t = schema.audit_log


@attrs.frozen
class AuditEntry:
    id: int
    at: int
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any] | None


def audit(tx: Tx, at: int, actor: str, action: str, target: str | None, **detail: Any) -> None:
    tx.conn.execute(
        sa.insert(t).values(
            at=at, actor=actor, action=action, target=target,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None,
        )  # fmt: skip
    )


def audit_entries(conn: sa.Connection, limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
    """Newest first, a page at a time."""
    query = sa.select(t).order_by(t.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(t.c.id < before_id)
    return [
        AuditEntry(row.id, row.at, row.actor, row.action, row.target, json.loads(row.detail) if row.detail else None)
        for row in conn.execute(query)
    ]
