"""Fixtures of the store tests: see tests/store/fixtures.py."""

from tests.store.fixtures import backend, db_url, pg_url, sqlite_template, store  # noqa: F401
