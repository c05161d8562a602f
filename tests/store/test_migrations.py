"""``smsgw db upgrade``: migrations build exactly the schema the code uses, durably configured."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from smsgw.store import migrate, schema
from smsgw.store.db import create_engine, normalize_url, sqlite_url
from smsgw.store.errors import StoreError
from smsgw.store.startup import open_store
from smsgw.store.writer import call_now


def test_migrated_schema_matches_the_metadata(store: object, db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        assert migrate.is_current(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), schema.metadata)
        assert diff == []
        assert set(sa.inspect(engine).get_table_names()) >= {t.name for t in schema.metadata.sorted_tables}
    finally:
        engine.dispose()


def test_upgrade_creates_then_is_idempotent_and_downgrades(tmp_path: object) -> None:
    url = sqlite_url(str(tmp_path), "fresh.db")
    migrate.upgrade(url)
    migrate.upgrade(url)  # already at head: nothing to do
    engine = create_engine(url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
        migrate.downgrade(url, "base")
        assert migrate.current_revision(engine) is None
        assert "messages" not in sa.inspect(engine).get_table_names()
        migrate.upgrade(url)
        assert migrate.is_current(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_downgrade_and_upgrade_on_postgres(pg_url: str) -> None:
    # the session database, emptied: a new database would cost a checkpoint when dropped
    migrate.downgrade(pg_url, "base")
    engine = create_engine(pg_url)
    try:
        assert sa.inspect(engine).get_table_names() == ["alembic_version"]
        plain = sa.make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
        migrate.upgrade(plain)  # a plain postgresql:// URL is accepted
        assert migrate.is_current(engine)
        assert engine.dialect.driver == "psycopg"
        assert set(sa.inspect(engine).get_table_names()) >= {t.name for t in schema.metadata.sorted_tables}
    finally:
        engine.dispose()


def test_durability_settings(store: object, db_url: str, backend: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            if backend == "sqlite":
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            else:
                assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
                assert conn.exec_driver_sql("SHOW fsync").scalar() == "on"
    finally:
        engine.dispose()


def test_urls() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(ValueError):
        normalize_url("sqlite://")  # in memory: not durable
    with pytest.raises(ValueError):
        normalize_url("mysql://u@h/db")


def test_start_refuses_an_old_schema(tmp_path: object) -> None:
    url = sqlite_url(str(tmp_path), "empty.db")
    with pytest.raises(StoreError, match="smsgw db upgrade"):
        open_store(url, notify=call_now, now=0)
    migrate.upgrade(url)
    opened = open_store(url, notify=call_now, now=0)
    try:
        assert opened.id_floor == 0 and opened.recovery.requeued_segments == 0
    finally:
        opened.close()
