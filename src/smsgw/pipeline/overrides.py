"""In-memory copies of administered routing data, kept in step with the store.

Number portability (携号转网: number → carrier) wins over the numbering plan's
prefix; it is read whole into a dict and refreshed periodically, so the
per-message path never queries the database (DESIGN.md section 6).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from smsgw.routing.numbering import Carrier
from smsgw.store import schema

log = Logger(namespace="smsgw.pipeline.overrides")


def load_portability(conn: sa.Connection) -> dict[str, Carrier]:
    p = schema.portability
    out: dict[str, Carrier] = {}
    for row in conn.execute(sa.select(p.c.phone, p.c.carrier)):
        try:
            out[row.phone] = Carrier(row.carrier)
        except ValueError:
            log.warn("portability row {phone} names unknown carrier {carrier!r}; ignored", phone=row.phone,
                     carrier=row.carrier)
    return out


class Portability:
    """``current()`` is the table as last read; ``refresh()`` re-reads it from the store."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._table: dict[str, Carrier] = {}

    def current(self) -> dict[str, Carrier]:
        return self._table

    @inlineCallbacks
    def refresh(self) -> Any:
        self._table = yield self.store.read(load_portability)
        return len(self._table)
