"""Engines for the two backends, with the durability settings the gateway needs.

SQLite (the embedded default, one file in the data directory): WAL journal,
``synchronous=FULL`` (a commit is on disk when it returns), foreign keys on,
a short busy timeout (the writer retries on its own, bounded).  The sqlite3
module's own transaction handling is switched off and SQLAlchemy emits BEGIN,
so that SAVEPOINTs nest properly; a connection that asks for it
(``execution_options(sqlite_begin="IMMEDIATE")``, the writer does) takes the
write lock at BEGIN instead of failing half-way through a transaction.

PostgreSQL (psycopg 3): server defaults, i.e. ``synchronous_commit = on``.
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

SQLITE_BUSY_TIMEOUT_MS = 200


def normalize_url(url: str | sa.URL) -> sa.URL:
    """Accept ``postgresql://`` and ``postgres://`` as psycopg 3 URLs."""
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported store backend: {parsed.drivername}")
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ValueError("the SQLite store must be a file (durability needs a journal)")
    return parsed


def sqlite_url(data_dir: str, name: str = "smsgw.db") -> str:
    """The default store: a file in the data directory."""
    return f"sqlite:///{os.path.abspath(os.path.join(data_dir, name))}"


def create_engine(url: str | sa.URL, **kwargs: Any) -> sa.Engine:
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(parsed, **kwargs)


def backend_of(engine: sa.Engine | sa.Connection) -> str:
    """'sqlite' or 'postgresql'."""
    return engine.dialect.name


def _sqlite_engine(url: sa.URL, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **kwargs: Any) -> sa.Engine:
    assert url.database is not None
    directory = os.path.dirname(os.path.abspath(url.database))
    os.makedirs(directory, exist_ok=True)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("check_same_thread", False)
    engine = sa.create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
