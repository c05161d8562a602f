"""Notify: receipts and MO messages from the store's outbox to bound receivers.

For every account with a bound receiver or transceiver, pages of its outbox are
claimed (leased, so a crash or a lost connection offers them again) and sent
as deliver_sm, a bounded number outstanding per connection.  A deliver_sm_resp
with status 0 acknowledges the item (deleted from the outbox); anything else,
or no answer, retries it after a delay.  Items of one account go out in the
order the outbox gives them (oldest first).

The notifier is woken when a bind arrives and when the pipeline records a
report or MO for an account; a slow periodic sweep catches anything else
(leases that ran out, retries that came due).  The sweep also lets go of the
parts of long MO held for reassembly whose message stayed incomplete too long
(``store.mo_parts``): they go out as parts.  A receipt of a submit_multi's
message carries the submission's id, the one the client has (``store.multi``).

Nobody waits for the store calls the notifier makes on its own (acks, retries,
claims, releases), so their failures go to ``StoreFailures``: during a long
store outage each kind is logged once, with what was being done, and once more
when that call works again; an item whose ack or retry was lost is offered
again when its lease runs out.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Protocol

import attrs
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.domain import ids
from smsgw.domain.coding import Coding, CodingError, decode, encode, from_smpp_data_coding
from smsgw.domain.model import Account, MessageState, OutboxItem, OutboxKind, RECEIPT_STAT
from smsgw.protocols.smpp34.constants import MessageState as SmppState
from smsgw.session.report_smpp import SmppReceipt, format_receipt, receipt_tlvs
from smsgw.store.errors import StoreError
from smsgw.store.mo_parts import ReleaseStaleParts

log = Logger(namespace="smsgw.pipeline.notifier")

#: our final states → SMPP message_state (table 5-6)
SMPP_STATE = {
    MessageState.DELIVERED: SmppState.DELIVERED,
    MessageState.UNDELIVERED: SmppState.UNDELIVERABLE,
    MessageState.EXPIRED: SmppState.EXPIRED,
    MessageState.REJECTED: SmppState.REJECTED,
}


class Connection(Protocol):
    """A bound SMPP connection that can take deliver_sm (``net.smpp_listener.SmppServerProtocol``)."""

    def can_deliver(self) -> bool: ...
    def deliver(self, fields: dict[str, Any]) -> int: ...


@attrs.frozen
class NotifierConfig:
    #: deliver_sm outstanding per connection.  Every refill of the windows is a store round trip
    #: (a claim, committed with whatever else the writer's batch holds), so under load receipts
    #: flow at about (window x receivers) per writer cycle: bench/e2e measured a held backlog
    #: released at 466 receipts/s with 32 and 872/s with 128 (8 binds, same machine and load)
    window: int = 128
    #: outbox items claimed per page at most (a page never exceeds the receivers' free window, so
    #: one store round trip can fill every window; it was 100, which took three for eight binds)
    page: int = 500
    #: wait before offering an item again after a refusal or a timeout
    retry_after: float = 30.0
    #: how often every account with a receiver is swept even if nobody woke it
    sweep_every: float = 5.0
    #: a long MO held for reassembly goes out as parts when it is still incomplete this long after
    #: its first part arrived (checked at each sweep)
    mo_timeout: float = 60.0


def _utc(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, timezone.utc)


#: SMPP 3.4 source_addr / destination_addr: C-Octet strings of at most 21 octets, the NUL included
SMPP_ADDRESS_MAX = 20


def smpp_address(number: str) -> str:
    """A number as an SMPP address field takes it.  CMPP 3.0 carries handset numbers of up to 32
    characters and service numbers with extensions run to 21: longer ones are cut to their first 20
    (the prefix routes; a deliver_sm that cannot be encoded would be offered again for ever)."""
    return number[:SMPP_ADDRESS_MAX]


def deliver_fields(item: OutboxItem) -> dict[str, Any]:
    """The deliver_sm fields for one outbox item (a receipt or an MO message)."""
    if item.kind is OutboxKind.REPORT:
        state = item.state or MessageState.UNDELIVERED
        receipt = SmppReceipt(
            id=ids.to_text(item.ref_id),
            stat=item.stat if item.stat in RECEIPT_STAT.values() else RECEIPT_STAT.get(state, "UNDELIV"),
            sub=1,
            dlvrd=1 if state is MessageState.DELIVERED else 0,
            submit_date=_utc(item.submit_at),
            done_date=_utc(item.done_at),
            err=(item.err or "000")[:20],
        )
        tlvs = receipt_tlvs(receipt)
        tlvs["message_state"] = int(SMPP_STATE.get(state, SmppState.UNKNOWN))
        return {
            "source_addr": smpp_address(item.source_addr), "destination_addr": smpp_address(item.dest_addr),
            "esm_class": 0x04,
            "data_coding": 0, "short_message": format_receipt(receipt).encode("ascii", "replace"), "tlvs": tlvs,
        }
    # MO: re-encode what the carrier sent into what an SMPP client reads (ASCII as IA5, else UCS2),
    # keeping a UDH (long MO passed on as parts) in front of the re-encoded text
    content = item.content or b""
    esm = 0x40 if item.esm_class & 0x40 else 0
    udh, body = b"", content
    if esm and content:
        udh, body = content[:content[0] + 1], content[content[0] + 1:]
    try:
        # MO data_coding is the SMPP code the link read (0/1 ASCII, 8 UCS2, 15 GBK, 4 binary)
        coding = from_smpp_data_coding(item.data_coding, dc0=Coding.ASCII)
        text = None if coding is Coding.BINARY else decode(body, coding)
    except (ValueError, CodingError, UnicodeDecodeError):
        text = None
    if text is None:
        data_coding, payload = 4, content
    elif text.isascii():
        data_coding, payload = 1, udh + text.encode("ascii")
    else:
        data_coding, payload = 8, udh + encode(text, Coding.UCS2)
    fields: dict[str, Any] = {"source_addr": smpp_address(item.source_addr),
                              "destination_addr": smpp_address(item.dest_addr), "esm_class": esm,
                              "data_coding": data_coding}
    if len(payload) <= 254:
        fields["short_message"] = payload
    else:
        fields["tlvs"] = {"message_payload": payload}
    return fields


class StoreFailures:
    """Failures of store calls nobody waits for: each (call, kind of error) logged once until the call
    works again (then that is logged too), so that an outage is a few lines, not one per receipt, and
    never an unhandled error.  The store's own errors are warnings; anything else is a bug, logged
    with its traceback (once per kind as well)."""

    def __init__(self) -> None:
        #: (what, error kind) -> failures since it last worked
        self.failing: dict[tuple[str, str], int] = {}

    def watch(self, d: Deferred[Any], what: str, **context: Any) -> Deferred[Any]:
        """Handle ``d``'s failure (``what`` was being done; ``context`` names what it was done to)."""
        d.addCallbacks(self._worked, self._failed, callbackArgs=(what,), errbackArgs=(what, context))
        return d

    def _worked(self, result: Any, what: str) -> Any:
        for key in [key for key in self.failing if key[0] == what]:
            log.info("{what} works again, after {count} failure(s) ({kind})", what=what, kind=key[1],
                     count=self.failing.pop(key))
        return result

    def _failed(self, failure: Failure, what: str, context: dict[str, Any]) -> None:
        kind = failure.type.__qualname__ if failure.type is not None else "?"
        count = self.failing.get((what, kind), 0) + 1
        self.failing[(what, kind)] = count
        if count > 1:
            return
        about = ", ".join(f"{name} {value}" for name, value in context.items())
        if failure.check(StoreError):
            log.warn("{what} failed ({about}): {kind}: {error}; failures of this kind are counted, not logged, "
                     "until it works again", what=what, about=about, kind=kind, error=str(failure.value))
        else:
            log.failure("{what} failed ({about})", failure, what=what, about=about)


class Notifier:
    """See the module docstring.  ``store`` is the pipeline's ``StoreClient``; ``clock`` the reactor."""

    def __init__(self, store: Any, clock: Any, config: NotifierConfig | None = None) -> None:
        self.store = store
        self.clock = clock
        self.config = config or NotifierConfig()
        #: account id → its receiver connections
        self._receivers: dict[int, list[Any]] = {}
        #: (connection, sequence) → outbox item id
        self._pending: dict[tuple[int, int], int] = {}
        self._outstanding: dict[int, int] = {}  # id(connection) → deliver_sm in flight
        self._busy: set[int] = set()   # accounts being paged now
        self._again: set[int] = set()  # accounts woken while being paged
        self._sweep: IDelayedCall | None = None
        self._wake_all: IDelayedCall | None = None
        self._stopped = False
        self.failures = StoreFailures()
        self.sent = 0
        self.acked = 0

    # ---------------------------------------------------------------- receivers

    def attach(self, account: Account, connection: Any) -> None:
        self._receivers.setdefault(account.id, []).append(connection)
        self.wake(account.id)
        self._arm()

    def detach(self, account: Account, connection: Any) -> None:
        conns = self._receivers.get(account.id, [])
        if connection in conns:
            conns.remove(connection)
        if not conns:
            self._receivers.pop(account.id, None)
        # what was in flight on it is retried when its lease runs out; retry sooner
        for key in [k for k in self._pending if k[0] == id(connection)]:
            self._retry(self._pending.pop(key), 1.0, account.id)
        self._outstanding.pop(id(connection), None)

    def answered(self, account: Account, connection: Any, sequence: int, status: int | None) -> None:
        item_id = self._pending.pop((id(connection), sequence), None)
        if item_id is None:
            return
        self._outstanding[id(connection)] = max(0, self._outstanding.get(id(connection), 1) - 1)
        if status == 0:
            self.acked += 1
            self.failures.watch(self.store.outbox_ack(item_id), "acknowledging a delivery", item=item_id,
                                account=account.id)
        else:
            log.info("deliver_sm for outbox item {item} answered {status}; retrying later", item=item_id,
                     status=status)
            self._retry(item_id, self.config.retry_after, account.id)
        self.wake(account.id)

    # ---------------------------------------------------------------- work

    def wake(self, account_id: int | None) -> None:
        """Something may be waiting for this account (None: for any account): page it if a receiver is bound."""
        if account_id is None:
            if self._wake_all is None and not self._stopped:
                # many reports arrive together: one sweep per reactor turn is enough
                self._wake_all = self.clock.callLater(0, self._sweep_now)
            return
        if self._stopped or account_id not in self._receivers:
            return
        if account_id in self._busy:
            self._again.add(account_id)
            return
        self._busy.add(account_id)
        d = self.failures.watch(self._drain(account_id), "notifying an account", account=account_id)
        d.addBoth(lambda _: self._done(account_id))

    def _done(self, account_id: int) -> None:
        self._busy.discard(account_id)
        if account_id in self._again:
            self._again.discard(account_id)
            self.wake(account_id)

    @inlineCallbacks
    def _drain(self, account_id: int) -> Any:
        while True:
            conns = [c for c in self._receivers.get(account_id, []) if c.can_deliver()]
            room = sum(max(0, self.config.window - self._outstanding.get(id(c), 0)) for c in conns)
            if room <= 0:
                return
            now_ms = int(self.clock.seconds() * 1000)
            items = yield self.store.outbox_claim(account_id, now_ms, min(room, self.config.page))
            if not items:
                return
            for item in items:
                conn = self._pick(account_id)
                if conn is None:
                    # the receiver went away or is paused: give the rest back due now, so the wake-up
                    # when it can take deliveries again finds them (no busy loop: no room, no claim)
                    self._retry(item.id, 0.0, account_id)
                    continue
                try:
                    sequence = conn.deliver(deliver_fields(item))
                except Exception:
                    log.failure("cannot build deliver_sm for outbox item {item}", item=item.id)
                    self._retry(item.id, self.config.retry_after, account_id)
                    continue
                self.sent += 1
                self._pending[(id(conn), sequence)] = item.id
                self._outstanding[id(conn)] = self._outstanding.get(id(conn), 0) + 1
            if len(items) < min(room, self.config.page):
                return

    def _pick(self, account_id: int) -> Any:
        best = None
        for conn in self._receivers.get(account_id, []):
            if not conn.can_deliver():
                continue
            load = self._outstanding.get(id(conn), 0)
            if load < self.config.window and (best is None or load < self._outstanding.get(id(best), 0)):
                best = conn
        return best

    def _retry_at(self, delay: float) -> int:
        return int((self.clock.seconds() + delay) * 1000)

    def _retry(self, item_id: int, delay: float, account_id: int) -> None:
        """Offer the item again after ``delay`` seconds (if this is lost too, its lease brings it back)."""
        self.failures.watch(self.store.outbox_retry(item_id, self._retry_at(delay)),
                            "offering a delivery again later", item=item_id, account=account_id)

    def _arm(self) -> None:
        if self._sweep is None and not self._stopped:
            self._sweep = self.clock.callLater(self.config.sweep_every, self._sweep_all)

    def _sweep_now(self) -> None:
        self._wake_all = None
        for account_id in list(self._receivers):
            self.wake(account_id)

    def _sweep_all(self) -> None:
        self._sweep = None
        for account_id in list(self._receivers):
            self.wake(account_id)
        if self._receivers:
            self._release_parts()
            self._arm()

    def _release_parts(self) -> None:
        now_ms = int(self.clock.seconds() * 1000)
        d = self.store.run(ReleaseStaleParts(now_ms, int(self.config.mo_timeout * 1000)))
        d.addCallback(lambda accounts: [self.wake(account_id) for account_id in accounts])
        self.failures.watch(d, "releasing held parts of long MO", older_than=f"{self.config.mo_timeout:g} s")

    def stop(self) -> None:
        self._stopped = True
        if self._sweep is not None and self._sweep.active():
            self._sweep.cancel()
        self._sweep = None
