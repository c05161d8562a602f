"""Alembic environment: runs migrations on the connection ``smsgw.store.migrate`` hands in."""

from __future__ import annotations

from alembic import context

from smsgw.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
