"""The pipeline's view of the store: every call returns a Deferred.

A thin adapter.  Writes go to the store's writer thread as operations; their
Deferreds fire on the reactor thread after the commit that made them durable
— the writer hands each batch's answers over with ONE ``callFromThread``
(build the writer with ``notify=reactor.callFromThread``, as ``create`` does).
Reads run on a thread pool; password hashing too, but bounded
(``password_checks``: a few at a time, a short queue, so that a flood of logins
leaves the pool's other threads to the queries).  The reactor is a parameter
(anything with ``callFromThread``), so tests pass a fake one.

This module knows the state machine (``states``) and refuses transitions the
table does not allow before they reach the store.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import sqlalchemy as sa
from argon2 import PasswordHasher
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from smsgw.domain.model import (
    Account,
    AccountStatus,
    ClaimedSegment,
    HoldReason,
    Message,
    MessageState,
    MoMessage,
    OutboxItem,
    Report,
    Segment,
)
from smsgw.pipeline import states
from smsgw.pipeline.password_checks import DEFAULT_CONCURRENCY, DEFAULT_QUEUE, PasswordChecks
from smsgw.store import accounts, queries
from smsgw.store.accepting import Accept, AcceptResult
from smsgw.store.cancel import Cancel
from smsgw.store.dispatching import ClaimDue, Hold, ReleaseHeld, Requeue, SubmitFailed, Submitted
from smsgw.store.expiry import Expire
from smsgw.store.multi import AcceptMember, ClaimDeliveries
from smsgw.store.outbox import AckOutbox, RecordMo, RetryOutbox
from smsgw.store.passwords import DEFAULT_HASHER, hash_password, verify_password
from smsgw.store.replace import Replace
from smsgw.store.reporting import RecordReport, ReportOutcome
from smsgw.store.review import ReviewDecision
from smsgw.store.tx import Operation, Rules
from smsgw.store.writer import Writer

T = TypeVar("T")


class StoreClient:
    def __init__(
        self,
        writer: Writer,
        reactor: IReactorFromThreads,
        readers: ThreadPool,
        hasher: PasswordHasher = DEFAULT_HASHER,
        password_checks: int = DEFAULT_CONCURRENCY,
        password_queue: int = DEFAULT_QUEUE,
    ) -> None:
        self._writer = writer
        self._reactor = reactor
        self._readers = readers
        self._hasher = hasher
        self.engine: sa.Engine = writer.engine
        #: every argon2 computation goes through here (``smsgw.pipeline.password_checks``)
        self.passwords = PasswordChecks(reactor, readers, password_checks, password_queue)

    @classmethod
    def create(
        cls,
        engine: sa.Engine,
        reactor: IReactorFromThreads,
        readers: ThreadPool,
        rules: Rules = Rules(),
        hasher: PasswordHasher = DEFAULT_HASHER,
        **writer_options: Any,
    ) -> StoreClient:
        """A client with its own writer (started) answering on ``reactor``."""
        writer = Writer(engine, notify=reactor.callFromThread, rules=rules, **writer_options)
        writer.start()
        return cls(writer, reactor, readers, hasher)

    @property
    def rules(self) -> Rules:
        return self._writer.rules

    def set_rules(self, rules: Rules) -> None:
        """The business rules of the operations written from now on (the policy service's)."""
        self._writer.rules = rules

    def stop(self) -> Deferred[None]:
        """Fires once everything queued is committed and the writer has ended."""
        return self._in_pool(self._writer.stop)

    # -- the plumbing --------------------------------------------------------

    def run(self, op: Operation) -> Deferred[Any]:
        """Submit any store operation; fires after its commit."""
        d: Deferred[Any] = Deferred()

        def done(result: Any, error: BaseException | None) -> None:
            if error is None:
                d.callback(result)
            else:
                d.errback(error)

        self._writer.submit(op, done)
        return d

    def read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        """Run ``query(connection, *args, **kwargs)`` on a reader thread."""
        return self._in_pool(self._connected, query, args, kwargs)

    def _connected(self, query: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        with self.engine.connect() as conn:
            return query(conn, *args, **kwargs)

    def _in_pool(self, fn: Callable[..., T], *args: Any) -> Deferred[T]:
        return deferToThreadPool(self._reactor, self._readers, fn, *args)

    @inlineCallbacks
    def drain(self, make_op: Callable[[], Operation], page: int) -> Any:
        """Repeat a paging operation until a page comes back short; the total."""
        total = 0
        while True:
            count = yield self.run(make_op())
            total += count
            if count < page:
                return total

    # -- messages ------------------------------------------------------------

    def accept(self, message: Message, segments: tuple[Segment, ...],
               submission_id: int | None = None) -> Deferred[AcceptResult]:
        """Store a message (queued, held or rejected by policy) with its charge; with ``submission_id``,
        as one destination of that submit_multi (``store.multi``), in the same transaction.
        Answer the client only when this fires: durable before acknowledged."""
        states.check(MessageState.ACCEPTED, message.state)
        if submission_id is None:
            return self.run(Accept(message, segments))
        return self.run(AcceptMember(Accept(message, segments), submission_id))

    def hold(
        self, message_id: int, reason: HoldReason, at: int, until: int | None = None, note: str | None = None
    ) -> Deferred[None]:
        states.check(MessageState.QUEUED, MessageState.HELD)
        return self.run(Hold(message_id, reason, at, until, note))

    def release_held(self, now: int, page: int = 1000) -> Deferred[int]:
        """Release every window-held message due by ``now``, a page per transaction."""
        return self.drain(lambda: ReleaseHeld(now, page), page)

    def replace(self, message_id: int, text: str | None, payloads: tuple[bytes, ...], esm_class: int, at: int,
                actor: str) -> Deferred[bool]:
        """replace_sm: True when the waiting message's segments were replaced (same segment count)."""
        return self.run(Replace(message_id, text, payloads, esm_class, at, actor))

    def cancel(self, message_id: int, at: int, actor: str) -> Deferred[bool]:
        """cancel_sm: True when the message was withdrawn before it went out."""
        return self.run(Cancel(message_id, at, actor))

    def review(
        self, message_id: int, approve: bool, at: int, actor: str, note: str | None = None, refund: bool = False
    ) -> Deferred[MessageState]:
        return self.run(ReviewDecision(message_id, approve, at, actor, note, refund))

    def claim_due(self, now: int, limit: int = 500, carrier: str | None = None) -> Deferred[list[ClaimedSegment]]:
        """One bounded page of due segments, now ``sending``."""
        return self.run(ClaimDue(now, limit, carrier))

    def submitted(
        self, message_id: int, seq: int, carrier: str, carrier_msg_id: str, at: int, link: str | None = None
    ) -> Deferred[bool]:
        return self.run(Submitted(message_id, seq, carrier, carrier_msg_id, at, link))

    def submit_failed(
        self, message_id: int, seq: int, at: int, reason: str, err: str | None = None, retry_at: int | None = None
    ) -> Deferred[MessageState]:
        """The carrier refused: queued again at ``retry_at``, or rejected without it."""
        return self.run(SubmitFailed(message_id, seq, at, reason, err, retry_at))

    def requeue(self, keys: tuple[tuple[int, int], ...], at: int, reason: str = "link lost") -> Deferred[int]:
        return self.run(Requeue(keys, at, reason))

    def report(self, report: Report) -> Deferred[ReportOutcome]:
        return self.run(RecordReport(report))

    def record_mo(self, mo: MoMessage) -> Deferred[int]:
        return self.run(RecordMo(mo))

    def expire(self, now: int, page: int = 1000) -> Deferred[int]:
        """End every message past its validity by ``now``; how many ended."""
        return self.drain(lambda: Expire(now, page), page)

    def get_message(self, message_id: int) -> Deferred[Message | None]:
        return self.read(queries.get_message, message_id)

    def history(self, message_id: int) -> Deferred[list[Any]]:
        return self.read(queries.history, message_id)

    # -- outbox --------------------------------------------------------------

    def outbox_claim(self, account_id: int, now: int, limit: int = 100) -> Deferred[list[OutboxItem]]:
        """Lease the account's due receipts and MO (a submit_multi's receipts name the submission)."""
        return self.run(ClaimDeliveries(account_id, now, limit))

    def outbox_ack(self, item_id: int) -> Deferred[bool]:
        return self.run(AckOutbox(item_id))

    def outbox_retry(self, item_id: int, retry_at: int) -> Deferred[bool]:
        return self.run(RetryOutbox(item_id, retry_at))

    # -- accounts ------------------------------------------------------------

    @inlineCallbacks
    def create_account(self, login: str, password: str, at: int, actor: str, **fields: Any) -> Any:
        password_hash = yield self.passwords.run(hash_password, password, self._hasher)
        account: Account = yield self.run(accounts.CreateAccount(login, password_hash, at, actor, **fields))
        return account

    @inlineCallbacks
    def set_password(self, account_id: int, password: str, at: int, actor: str) -> Any:
        password_hash = yield self.passwords.run(hash_password, password, self._hasher)
        yield self.run(accounts.SetPassword(account_id, password_hash, at, actor))

    def authenticate(self, login: str, password: str, peer_ip: str | None,
                     wanted: Callable[[], bool] | None = None) -> Deferred[accounts.AuthResult]:
        """Check a bind or sign-in.  May fail at once with ``PasswordChecksBusy`` (too many waiting), or
        with ``PasswordCheckDropped`` when ``wanted()`` is false by its turn (``password_checks``)."""
        return self.passwords.check(self._connected, accounts.authenticate,
                                    (login, password, peer_ip, self._hasher), {}, wanted=wanted)

    def check_password(self, password_hash: str, password: str,
                       wanted: Callable[[], bool] | None = None) -> Deferred[bool]:
        """Verify a password against a hash kept elsewhere (administrators'), bounded like ``authenticate``."""
        return self.passwords.check(verify_password, password_hash, password, self._hasher, wanted=wanted)

    def set_status(
        self, account_id: int, status: AccountStatus, at: int, actor: str, reason: str | None = None
    ) -> Deferred[None]:
        return self.run(accounts.SetStatus(account_id, status, at, actor, reason))

    def recharge(self, enterprise_id: int, amount: int, at: int, actor: str, note: str | None = None) -> Deferred[int]:
        """Fires with the new balance."""
        return self.run(accounts.Recharge(enterprise_id, amount, at, actor, note))

    def set_price(self, account_id: int, price: int, at: int, actor: str, carrier: str = "") -> Deferred[None]:
        return self.run(accounts.SetPrice(account_id, price, at, actor, carrier))

    def get_account(self, account_id: int) -> Deferred[Account | None]:
        return self.read(accounts.get_account, account_id)

    def price_for(self, account_id: int, carrier: str | None) -> Deferred[int | None]:
        return self.read(accounts.price_for, account_id, carrier)
