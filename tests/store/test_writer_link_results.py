"""The writer keeps what a carrier link reported (``retry_until_stored``) while the database is away.

Accepts and other operations fail with ``StoreUnavailable`` after the retry
window (the client may try again); a submit result, a refusal or a re-queue
has already happened on the wire and nobody would write it again, so it waits
in front of the queue until the database takes it — or fails with
``StoreClosed`` when the writer stops first.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Callable, ClassVar

import attrs
import pytest
import sqlalchemy as sa

from smsgw.store import schema
from smsgw.store.dispatching import Requeue, SubmitFailed, Submitted
from smsgw.store.errors import StoreClosed, StoreUnavailable
from smsgw.store.tx import Tx
from smsgw.store.writer import Writer, call_now
from tests.store.harness import Harness
from tests.store.test_writer import Answers, count_messages


@attrs.frozen
class LinkNote:
    """Stands for a link's result: one audit row, kept until stored."""

    retry_until_stored: ClassVar[bool] = True

    def run(self, tx: Tx) -> str:
        tx.conn.execute(sa.insert(schema.audit_log).values(at=1, actor="link", action="note"))
        return "noted"


def _notes(harness: Harness) -> int:
    with harness.conn() as conn:
        a = schema.audit_log
        return int(conn.execute(sa.select(sa.func.count()).where(a.c.actor == "link")).scalar_one())


def test_link_results_are_the_kept_kinds() -> None:
    assert Submitted.retry_until_stored and SubmitFailed.retry_until_stored and Requeue.retry_until_stored


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_link_result_waits_out_a_long_lock_while_an_accept_fails(store: Harness) -> None:
    ent = store.enterprise()
    blocker = sqlite3.connect(str(sa.make_url(store.url).database), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    writer = Writer(store.engine, notify=call_now, retry_for=0.3)
    writer.start()
    accept, note = Answers(), Answers()
    writer.submit(store.message(ent), accept.done)
    writer.submit(LinkNote(), note.done)
    [(_, error)] = accept.wait(1)
    assert isinstance(error, StoreUnavailable)
    retries = writer.stats.retries
    assert _wait(lambda: writer.stats.retries >= retries + 5)  # the note goes round again while the lock is held
    assert note.items == []
    blocker.execute("ROLLBACK")
    blocker.close()
    [(result, error)] = note.wait(1)
    assert (result, error) == ("noted", None)
    writer.stop(timeout=30)
    assert _notes(store) == 1
    assert count_messages(store.url) == 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_link_result_fails_closed_when_the_writer_stops_during_the_lock(store: Harness) -> None:
    blocker = sqlite3.connect(str(sa.make_url(store.url).database), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    writer = Writer(store.engine, notify=call_now, retry_for=0.3)
    writer.start()
    note = Answers()
    writer.submit(LinkNote(), note.done)
    writer.stop(timeout=30)
    blocker.execute("ROLLBACK")
    blocker.close()
    [(_, error)] = note.wait(1)
    assert isinstance(error, StoreClosed)
    assert _notes(store) == 0


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
