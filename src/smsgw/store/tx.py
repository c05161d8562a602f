"""The transaction an operation runs in, and the fast path for bulk inserts.

An operation is a small declarative object with ``run(tx)``; hot ones also
have ``run_many(tx, ops)`` to execute a run of same-kind operations as a few
set-based statements (the writer decides, see ``smsgw.store.writer``).

``Tx`` carries the connection, the store's rules and the history rows
(``message_events``) that operations produce: those are buffered and written
with one executemany at the end of the writer's transaction.

``Statements`` compiles a Core INSERT once per table and column list; rows go
to the driver as plain tuples in multi-row statements.  SQLAlchemy's per-row
parameter processing cost about 45% of the writer's time for accepts; the
driver path keeps the same SQL and types without it.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import Any, ClassVar, Mapping, Protocol, Sequence

import attrs
import psycopg
import sqlalchemy as sa

from smsgw.domain.model import HOUR_MS, MessageState
from smsgw.store import schema


@attrs.frozen
class Rules:
    """Store-side business rules the configuration decides.

    ``refund_states``: final states (reached after acceptance) that give the
    message's charge back.  The default refunds messages the carrier refused;
    a contract that also refunds undelivered messages adds UNDELIVERED.
    ``account_refunds``: accounts whose contract says otherwise (account id →
    their states).  ``refusal_receipts``: a message accepted as REJECTED whose
    reason starts with one of these words (``"blacklist: …"``) was refused after
    the client got its id, so a REJECTD receipt with that err goes into the
    client's outbox in the same transaction.  The policy service keeps these
    current (``pipeline.policies``).
    ``report_grace_ms``: how long after its validity a submitted message waits
    for a report before it is expired without one.
    """

    refund_states: frozenset[MessageState] = frozenset({MessageState.REJECTED})
    report_grace_ms: int = 24 * HOUR_MS
    outbox_lease_ms: int = 60_000
    account_refunds: Mapping[int, frozenset[MessageState]] = attrs.field(factory=dict, eq=False)
    refusal_receipts: Mapping[str, str] = attrs.field(factory=dict, eq=False)

    def refunds(self, account_id: int) -> frozenset[MessageState]:
        return self.account_refunds.get(account_id, self.refund_states)

    def refusal_err(self, reason: str | None) -> str | None:
        """The err of the receipt a message refused at acceptance with ``reason`` gets (None: none)."""
        if not reason or not self.refusal_receipts:
            return None
        head, sep, _ = reason.partition(":")
        return self.refusal_receipts.get(head) if sep else None


@attrs.frozen
class Prepared:
    """A multi-row INSERT: one row's placeholders, repeated for a chunk of rows."""

    head: str  # INSERT INTO t (a, b) VALUES
    row: str  # (?, ?) — positional placeholders whatever the driver's paramstyle
    keys: tuple[str, ...]
    chunk: int  # rows per statement, within the drivers' parameter limits

    _texts: dict[int, str] = attrs.field(factory=dict, eq=False, repr=False)

    def sql(self, rows: int) -> str:
        text = self._texts.get(rows)
        if text is None:
            text = self._texts[rows] = self.head + ", ".join([self.row] * rows)
        return text


_NAMED = re.compile(r"%\((\w+)\)s")


class Statements:
    """Compiled multi-row INSERT statements for one dialect."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self._dialect = dialect
        self._cache: dict[tuple[str, tuple[str, ...]], Prepared] = {}

    def insert(self, table: sa.Table, keys: tuple[str, ...]) -> Prepared:
        prepared = self._cache.get((table.name, keys))
        if prepared is None:
            compiled = sa.insert(table).inline().compile(dialect=self._dialect, column_keys=list(keys))
            head, row = str(compiled).split(" VALUES ", 1)
            if self._dialect.positional:
                order = tuple(compiled.positiontup or ())
            else:  # psycopg takes %s as well as %(name)s; positional rows repeat simply
                order = tuple(_NAMED.findall(row))
                row = _NAMED.sub("%s", row)
            if order != keys:
                raise AssertionError(f"unexpected parameter order {order} for {keys}")
            # SQLite allows 32766 parameters per statement, PostgreSQL 65535.
            chunk = max(1, min(256, 30_000 // len(keys)))
            prepared = Prepared(head + " VALUES ", row, keys, chunk)
            self._cache[(table.name, keys)] = prepared
        return prepared


EVENT_KEYS = ("message_id", "seq", "at", "from_state", "to_state", "reason")


@attrs.define
class Tx:
    conn: sa.Connection
    statements: Statements
    rules: Rules
    _events: list[tuple[Any, ...]] = attrs.Factory(list)

    def insert_many(self, table: sa.Table, keys: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows with few multi-row statements.

        Not ``executemany``: the sqlite3 module releases the GIL around every
        row it steps, and with the reactor thread wanting the GIL that
        ping-pong cost more than half the writer's throughput; a statement of
        256 rows is one step.  Sizes are powers of two below the chunk, so the
        drivers' statement caches hold every shape.
        """
        if not rows:
            return
        if self.conn.dialect.name == "postgresql":
            self._copy(table, keys, rows)
            return
        prepared = self.statements.insert(table, keys)
        execute = self.conn.exec_driver_sql
        start, total = 0, len(rows)
        while start < total:
            size = min(prepared.chunk, total - start)
            if size < prepared.chunk:
                size = 1 << (size.bit_length() - 1)
            part = rows[start : start + size]
            execute(prepared.sql(size), tuple(chain.from_iterable(part)))
            start += size

    def _copy(self, table: sa.Table, keys: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
        # PostgreSQL's COPY is its bulk path: psycopg parses every long
        # multi-row statement anew, and executemany pays a round trip per row.
        # COPY goes around SQLAlchemy, so its errors are translated here for
        # the writer (temporary or not) and for the operations (IntegrityError).
        dbapi = self.conn.connection.driver_connection
        assert dbapi is not None
        sql = f"COPY {table.name} ({', '.join(keys)}) FROM STDIN"
        try:
            with dbapi.cursor() as cursor:
                with cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
        except psycopg.Error as error:
            broken = bool(dbapi.broken)
            if broken:
                self.conn.invalidate()
            raise sa.exc.DBAPIError.instance(
                sql, None, error, psycopg.Error, connection_invalidated=broken
            ) from error

    def event(
        self,
        message_id: int,
        at: int,
        from_state: MessageState | None,
        to_state: MessageState,
        reason: str | None = None,
        seq: int = 0,
    ) -> None:
        self._events.append(
            (message_id, seq, at, None if from_state is None else from_state.value, to_state.value, reason)
        )

    def mark(self) -> int:
        return len(self._events)

    def reset(self, mark: int) -> None:
        del self._events[mark:]

    def flush(self) -> None:
        events, self._events = self._events, []
        self.insert_many(schema.message_events, EVENT_KEYS, events)


class Operation(Protocol):
    def run(self, tx: Tx) -> Any: ...


class Coalescing(Operation, Protocol):
    """An operation whose consecutive instances the writer runs together.

    ``run_many`` returns one result per operation, in order; a result that is
    an exception fails that operation alone (it must then have written
    nothing).  Raising fails the whole run, which the writer retries one
    operation at a time.
    """

    coalesce: ClassVar[bool]

    @classmethod
    def run_many(cls, tx: Tx, ops: Sequence[Any]) -> list[Any]: ...


def chunks(items: Sequence[Any], size: int = 500) -> list[Sequence[Any]]:
    """Split long IN lists (SQLite allows 32766 parameters per statement)."""
    return [items[i : i + size] for i in range(0, len(items), size)]
