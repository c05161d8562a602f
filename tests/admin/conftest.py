"""Fixtures of the admin tests: the store fixtures (SQLite and PostgreSQL) for admin_ops."""

from tests.store.fixtures import backend, db_url, pg_url, sqlite_template, store  # noqa: F401
