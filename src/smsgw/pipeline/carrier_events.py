"""Reports and MO messages from the carrier links, into the store and on to the clients.

Implements the links' ``LinkObserver``.  A report is matched to its segment
through the carrier's id by the store (which also derives a long message's
final state and queues the client's receipt); the notifier is then woken.
An MO message finds its account by the extension (子号) that follows the
link's service number in the number the user texted — longest extension wins —
and is queued for that account's receivers.

Both return a Deferred that fires once the report or MO is durable, and the
link answers the carrier only then (durable before acknowledged: a gateway
killed in between gets it offered again).  A temporary store failure fails
that Deferred (the link drops the connection unanswered, the carrier sends it
again); any other failure is logged and fires it (answering a report the store
can never take is better than having the carrier repeat it forever).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import attrs
import sqlalchemy as sa
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.domain import ids
from smsgw.domain.model import MoMessage, Report
from smsgw.store import schema
from smsgw.store.errors import StoreError

log = Logger(namespace="smsgw.pipeline.carrier_events")


def load_extensions(conn: sa.Connection) -> dict[str, int]:
    """extension → account id, for every account that has one."""
    a = schema.accounts
    rows = conn.execute(sa.select(a.c.extension, a.c.id).where(a.c.extension.is_not(None), a.c.extension != ""))
    return {row.extension: row.id for row in rows}


def account_for(dest_addr: str, sp_numbers: tuple[str, ...], extensions: Mapping[str, int]) -> int | None:
    """The account whose extension follows one of our service numbers in ``dest_addr`` (longest wins)."""
    for sp in sorted(sp_numbers, key=len, reverse=True):
        if not dest_addr.startswith(sp):
            continue
        rest = dest_addr[len(sp):]
        for end in range(len(rest), 0, -1):
            account = extensions.get(rest[:end])
            if account is not None:
                return account
    return None


@attrs.define
class CarrierEvents:
    store: Any
    id_generator: ids.IdGenerator
    #: wake the notifier for an account (or for every account when None)
    wake: Callable[[int | None], None]
    #: link group name → its service number (SP number), to read extensions from MO destinations
    sp_numbers: Mapping[str, str]
    extensions: dict[str, int] = attrs.field(factory=dict)
    link_up: Callable[[str, bool], None] = lambda name, up: None
    #: told of every MO message with an account (the policies look for unsubscribe replies)
    mo_routed: Callable[[MoMessage], Any] = lambda mo: None
    counters: dict[str, int] = attrs.field(factory=lambda: {"reports": 0, "unmatched": 0, "mo": 0, "mo_unrouted": 0})

    @inlineCallbacks
    def refresh_extensions(self) -> Any:
        self.extensions = yield self.store.read(load_extensions)

    def report(self, report: Report) -> Deferred[None]:
        """Record ``report``; fires when it is durable (see the module docstring)."""
        self.counters["reports"] += 1
        d = self.store.report(report)

        def done(outcome: Any) -> None:
            if not outcome.matched:
                self.counters["unmatched"] += 1
                log.info("report {id} from {carrier} matches no segment", id=report.carrier_msg_id,
                         carrier=report.carrier)
            elif outcome.message_state is not None:
                self.wake(None)

        d.addCallback(done)
        d.addErrback(_unless_temporary, "recording report {id} failed", id=report.carrier_msg_id)
        return d

    def mo(self, mo: MoMessage) -> Deferred[None]:
        """Record ``mo`` and queue it for its account; fires when it is durable (see the module docstring)."""
        self.counters["mo"] += 1
        numbers = tuple(n for n in self.sp_numbers.values() if n)
        account_id = account_for(mo.dest_addr, numbers, self.extensions)
        if account_id is None:
            self.counters["mo_unrouted"] += 1
            log.info("MO from {src} to {dest} matches no account extension; stored without account",
                     src=mo.source_addr, dest=mo.dest_addr)
        stored = attrs.evolve(mo, id=self.id_generator.next(), account_id=account_id)
        d = self.store.record_mo(stored)
        if account_id is not None:
            d.addCallback(lambda _: self.wake(account_id))
            self.mo_routed(stored)
        d.addCallback(lambda _: None)
        d.addErrback(_unless_temporary, "recording MO from {src} failed", src=mo.source_addr)
        return d

    def link_state(self, name: str, up: bool) -> None:
        log.info("link group {name} is {state}", name=name, state="up" if up else "down")
        self.link_up(name, up)


def _unless_temporary(failure: Failure, text: str, **fields: Any) -> Failure | None:
    """Log a failure to record; pass it on when the store only said "not now" (the carrier sends again)."""
    if failure.check(StoreError) and failure.value.temporary:
        log.warn(text + " for now: {error}", error=str(failure.value), **fields)
        return failure
    log.failure(text, failure, **fields)
    return None
