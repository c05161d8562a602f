"""Store fixtures shared by tests/store and tests/pipeline (imported by their conftests).

``backend`` parametrizes a test over SQLite and PostgreSQL (ids ``sqlite`` and
``postgres``).  Each test gets an empty, migrated database: a copy of a
template file on SQLite, a truncated session database on PostgreSQL.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from smsgw.store import migrate
from tests.pgserver import session_database
from tests.store.harness import Harness, make_template, reset_postgres, sqlite_copy

BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    for url in session_database():
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_template(str(tmp_path_factory.mktemp("template")))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: object) -> str:
    if backend == "sqlite":
        return sqlite_copy(request.getfixturevalue("sqlite_template"), str(tmp_path))
    url = str(request.getfixturevalue("pg_url"))
    reset_postgres(url)
    return url


@pytest.fixture
def store(backend: str, db_url: str) -> Iterator[Harness]:
    harness = Harness(backend, db_url).start()
    try:
        yield harness
        if harness.check_at_end:
            harness.check_invariants()
    finally:
        harness.close()
