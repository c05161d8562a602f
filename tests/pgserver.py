"""A PostgreSQL server for the store tests, found or started; never skipped.

In order: ``SMSGW_TEST_PG_URL`` (a server URL; its database is only used to
connect), a server on 127.0.0.1:5432 as user postgres, or a throw-away
cluster made with ``initdb`` / ``pg_ctl`` (on PATH or under
/usr/lib/postgresql/*/bin) in a temporary directory on a free port.  If none
of these works the tests FAIL with a message saying what to install.

Each test session gets a fresh, uniquely named database, dropped at the end.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from typing import Iterator

import psycopg
import sqlalchemy as sa

ENV = "SMSGW_TEST_PG_URL"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class NoPostgres(RuntimeError):
    pass


def _can_connect(url: str) -> bool:
    try:
        with psycopg.connect(_conninfo(url), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _conninfo(url: str) -> str:
    parsed = sa.make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _find_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """A temporary cluster owned by this test session."""

    def __init__(self) -> None:
        initdb, pg_ctl = _find_tool("initdb"), _find_tool("pg_ctl")
        if not (initdb and pg_ctl):
            raise NoPostgres(
                "no PostgreSQL server: set SMSGW_TEST_PG_URL, run one on 127.0.0.1:5432, "
                "or install the server (Debian: apt-get install postgresql) so that the tests can start one"
            )
        self.directory = tempfile.mkdtemp(prefix="smsgw-pg-")
        self.port = _free_port()
        self._pg_ctl = pg_ctl
        data = os.path.join(self.directory, "data")
        run_as = self._demote()
        subprocess.run(
            [initdb, "-D", data, "-U", "postgres", "-A", "trust", "--no-sync"],
            check=True, capture_output=True, preexec_fn=run_as,
        )  # fmt: skip
        subprocess.run(
            [pg_ctl, "-D", data, "-w", "-l", os.path.join(self.directory, "log"), "-o",
             f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1", "start"],
            check=True, capture_output=True, preexec_fn=run_as,
        )  # fmt: skip
        self.data = data
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _demote(self):  # type: ignore[no-untyped-def]
        # PostgreSQL refuses to run as root; hand the directory to "nobody".
        if os.geteuid() != 0:
            return None
        import pwd

        nobody = pwd.getpwnam("nobody")
        os.chown(self.directory, nobody.pw_uid, nobody.pw_gid)

        def demote() -> None:
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)

        return demote

    def stop(self) -> None:
        subprocess.run(
            [self._pg_ctl, "-D", self.data, "-m", "immediate", "stop"],
            capture_output=True, preexec_fn=self._demote(),
        )  # fmt: skip
        shutil.rmtree(self.directory, ignore_errors=True)


def server_url() -> tuple[str, Cluster | None]:
    """A URL of a reachable server, and the cluster to stop if we started one."""
    url = os.environ.get(ENV)
    if url:
        if not _can_connect(url):
            raise NoPostgres(f"{ENV}={url} does not accept connections")
        return url, None
    if _can_connect(DEFAULT_URL):
        return DEFAULT_URL, None
    cluster = Cluster()
    return cluster.url, cluster


def database_url(server: str, name: str) -> str:
    return sa.make_url(server).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


def create_database(server: str, prefix: str = "smsgw_test") -> str:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_conninfo(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(_conninfo(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def session_database(prefix: str = "smsgw_test") -> Iterator[str]:
    """Generator for a session fixture: yields a SQLAlchemy URL of a fresh database."""
    server, cluster = server_url()
    name = create_database(server, prefix)
    try:
        yield database_url(server, name)
    finally:
        drop_database(server, name)
        if cluster is not None:
            cluster.stop()
