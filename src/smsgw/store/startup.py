"""Opening the store at gateway start: check the schema, recover, start the writer.

Run on a thread other than the reactor's (recovery reads and writes), or
before the reactor runs.  ``smsgw db upgrade`` (``smsgw.store.migrate``)
creates and upgrades databases; starting refuses an out-of-date schema
rather than migrating behind the operator's back.
"""

from __future__ import annotations

from typing import Any

import attrs
import sqlalchemy as sa

from smsgw.store.db import create_engine
from smsgw.store.errors import StoreError
from smsgw.store.migrate import current_revision, head_revision
from smsgw.store.queries import max_message_id
from smsgw.store.recovery import RecoveryReport, recover
from smsgw.store.tx import Rules
from smsgw.store.writer import Notify, Writer


@attrs.define
class OpenStore:
    engine: sa.Engine
    writer: Writer
    recovery: RecoveryReport
    # Hand this to ``domain.ids.IdGenerator(floor=...)``.
    id_floor: int

    def close(self, timeout: float | None = None) -> None:
        """Commit what is queued, stop the writer, close the connections."""
        self.writer.stop(timeout)
        self.engine.dispose()


def open_store(url: str, *, notify: Notify, now: int, rules: Rules = Rules(), **writer_options: Any) -> OpenStore:
    engine = create_engine(url)
    try:
        revision = current_revision(engine)
        if revision != head_revision():
            raise StoreError(f"store schema is at {revision!r}, not {head_revision()!r}: run `smsgw db upgrade`")
        report = recover(engine, now, rules)
        with engine.connect() as conn:
            floor = max_message_id(conn)
        writer = Writer(engine, notify=notify, rules=rules, **writer_options)
        writer.start()
    except BaseException:
        engine.dispose()
        raise
    return OpenStore(engine, writer, report, floor)
