"""Client intake: binds and submissions from the SMPP listener, turned into stored messages.

Implements the listener's ``SmppApplication``: authentication (lockout, bind
limits), then submit_sm / data_sm / submit_multi / query_sm / cancel_sm /
replace_sm.  A submission is read (``session.smpp_submit``), its destination
checked against the numbering plan, the account's TPS checked, priced per
segment, run through the policy chain, and stored; the client gets its
submit_sm_resp only when the store's commit has made it durable.

Every refusal maps to an SMPP status through the tables below.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Protocol

import attrs
from twisted.internet.defer import Deferred, inlineCallbacks, succeed
from twisted.logger import Logger

from smsgw.codec import Pdu
from smsgw.domain import ids
from smsgw.domain.coding import Coding, from_msg_fmt, to_msg_fmt
from smsgw.domain.model import FINAL_STATES, Account, AccountStatus, Message, MessageState, Segment, expires_at_for
from smsgw.pipeline.auth import BindCredentials, IAccount, RefusedLogin, account_portal
from smsgw.pipeline.password_checks import PasswordCheckDropped, PasswordChecksBusy
from smsgw.pipeline.policies import smpp_status
from smsgw.policy.lockout import Lockout
from smsgw.policy.rate import BucketMap
from smsgw.protocols.smpp34.status import CommandStatus as S
from smsgw.routing.numbering import NumberingPlan
from smsgw.routing.numbers import InvalidNumber, normalise
from smsgw.session.smpp_server import BindRefused, BindRequested
from smsgw.session.smpp_submit import Submission, SubmitRefused, read_submission
from smsgw.session.smpp_time import format_absolute
from smsgw.store import errors as store_errors, multi
from smsgw.store.accounts import AuthFailure

log = Logger(namespace="smsgw.pipeline.intake")

#: bind failures → SMPP status (smpp-notes.md section 3); unknown logins and bad
#: passwords keep their own codes as the spec allows, the rest is a plain bind failure
AUTH_STATUS = {
    AuthFailure.UNKNOWN_LOGIN: S.ESME_RINVSYSID,
    AuthFailure.BAD_PASSWORD: S.ESME_RINVPASWD,
    AuthFailure.INACTIVE: S.ESME_RBINDFAIL,
    AuthFailure.ADDRESS_NOT_ALLOWED: S.ESME_RBINDFAIL,
}

#: store refusals of an accept → SMPP status
STORE_STATUS: dict[type[Exception], int] = {
    store_errors.InsufficientBalance: S.ESME_RSUBMITFAIL,
    store_errors.QuotaExceeded: S.ESME_RSUBMITFAIL,
    store_errors.StoreBusy: S.ESME_RMSGQFUL,
    store_errors.StoreUnavailable: S.ESME_RSYSERR,
    store_errors.StoreClosed: S.ESME_RSYSERR,
}

#: the final states a query_sm reports (SMPP 3.4 table 5-6)
QUERY_STATE = {
    MessageState.ACCEPTED: 6, MessageState.HELD: 1, MessageState.QUEUED: 1, MessageState.SENDING: 1,
    MessageState.SUBMITTED: 1, MessageState.DELIVERED: 2, MessageState.EXPIRED: 3,
    MessageState.UNDELIVERED: 5, MessageState.REJECTED: 8,
}


class Clock(Protocol):
    def seconds(self) -> float: ...


class PolicyChain(Protocol):
    """Decides on a message before it is stored (``smsgw.pipeline.policies.PolicyService``)."""

    def prepare(self, account: Account, sub: Submission, message_id: int) -> Submission:
        """Before pricing: the submission as it is to be billed (e.g. with a signature added)."""

    def decide(self, account: Account, message: Message, now_ms: int) -> Deferred[Message] | Message:
        """The message as it should be stored: queued, held (with reason/until) or rejected."""

    def accepted(self, account: Account, message: Message, result: Any) -> Deferred[Any] | None:
        """After the commit; the client's answer waits for a Deferred returned."""


class PassAll:
    """No policies: every message is queued as it is."""

    def prepare(self, account: Account, sub: Submission, message_id: int) -> Submission:
        return sub

    def decide(self, account: Account, message: Message, now_ms: int) -> Message:
        return message

    def accepted(self, account: Account, message: Message, result: Any) -> None:
        return None


class Receivers(Protocol):
    """Where bound receivers are registered (the notifier)."""

    def attach(self, account: Account, connection: Any) -> None: ...
    def detach(self, account: Account, connection: Any) -> None: ...
    def answered(self, account: Account, connection: Any, sequence: int, status: int | None) -> None: ...
    def wake(self, account_id: int | None) -> None: ...


@attrs.frozen
class IntakeConfig:
    #: what data_coding 0 means for clients (GSM 03.38 by default; some send ASCII/Latin-1)
    dc0: Coding = Coding.GSM7
    #: price per segment in milli-fen when the account has none configured
    default_price: int = 0
    #: how long a price read from the store is trusted (configuration applies without restart)
    price_ttl: float = 30.0
    #: the most messages one account may have waiting (queued or held) before ESME_RMSGQFUL
    max_pending_per_account: int = 1_000_000


class Intake:
    """The SMPP listener's application (see module docstring)."""

    def __init__(
        self,
        store: Any,
        id_generator: ids.IdGenerator,
        clock: Clock,
        plan: NumberingPlan,
        receivers: Receivers,
        policies: PolicyChain | None = None,
        lockout: Lockout | None = None,
        config: IntakeConfig | None = None,
        portability: Callable[[], dict[str, Any]] | None = None,
        accepted: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.ids = id_generator
        self.clock = clock
        self.plan = plan
        self.receivers = receivers
        self.policies = policies or PassAll()
        self.lockout = lockout or Lockout()
        self.config = config or IntakeConfig()
        self.portability = portability or (lambda: {})
        #: told after every stored message (the dispatcher looks for due work)
        self.accepted = accepted or (lambda: None)
        #: binds log in through a twisted.cred portal backed by the store's accounts
        self.portal = account_portal(store)
        self._tps = BucketMap()
        self._binds: dict[int, int] = {}
        self._prices: dict[tuple[int, str | None], tuple[float, int]] = {}
        self._handlers: dict[str, Callable[[Account, Pdu], Deferred[tuple[int, dict[str, Any]]]]] = {
            "submit_sm": self._submit,
            "data_sm": self._submit,
            "submit_multi": self._submit_multi,
            "query_sm": self._query,
            "cancel_sm": self._cancel,
            "replace_sm": self._replace,
        }

    # ------------------------------------------------------------------ binds

    @inlineCallbacks
    def authenticate(self, bind: BindRequested, peer_host: str) -> Any:
        keys = (f"id:{bind.system_id}", f"ip:{peer_host}")

        def unlocked() -> bool:  # checked now, and again when the password check's turn comes
            now = self.clock.seconds()
            return not any(self.lockout.locked(k, now) for k in keys)

        if not unlocked():
            raise BindRefused(S.ESME_RBINDFAIL, "locked out after repeated failures")
        try:
            _interface, account, _logout = yield self.portal.login(
                BindCredentials(bind.system_id, bind.password, peer_host, unlocked), None, IAccount)
        except PasswordChecksBusy:  # a flood of binds: refused at once, not counted as a failure
            raise BindRefused(S.ESME_RBINDFAIL, "too many binds waiting for their password check") from None
        except PasswordCheckDropped:
            raise BindRefused(S.ESME_RBINDFAIL, "locked out after repeated failures") from None
        except RefusedLogin as refused:
            for k in keys:
                self.lockout.failed(k, self.clock.seconds())
            raise BindRefused(AUTH_STATUS[refused.failure], refused.failure.value) from None
        for k in keys:
            self.lockout.succeeded(k)
        if self._binds.get(account.id, 0) >= max(1, account.max_binds):
            raise BindRefused(S.ESME_RBINDFAIL, f"already {account.max_binds} bind(s) for {account.login}")
        return account

    def bound(self, account: Account, connection: Any) -> None:
        self._binds[account.id] = self._binds.get(account.id, 0) + 1
        if connection.session is not None and connection.session.can_deliver():
            self.receivers.attach(account, connection)

    def unbound(self, account: Account, connection: Any) -> None:
        left = self._binds.get(account.id, 1) - 1
        if left > 0:
            self._binds[account.id] = left
        else:
            self._binds.pop(account.id, None)
        self.receivers.detach(account, connection)

    def delivery_answered(self, account: Account, connection: Any, sequence: int, status: int | None) -> None:
        self.receivers.answered(account, connection, sequence, status)

    def writable(self, account: Account, connection: Any) -> None:
        """A receiver the listener paused (its client read too slowly) takes deliveries again."""
        self.receivers.wake(account.id)

    def bind_count(self, account_id: int) -> int:
        return self._binds.get(account_id, 0)

    # ------------------------------------------------------------------ requests

    def request(self, account: Account, pdu: Pdu) -> Deferred[tuple[int, dict[str, Any]]]:
        handler = self._handlers.get(pdu.command)
        if handler is None:
            return succeed((int(S.ESME_RINVCMDID), {}))
        return handler(account, pdu)

    def _now(self) -> tuple[int, datetime]:
        seconds = self.clock.seconds()
        return int(seconds * 1000), datetime.fromtimestamp(seconds, timezone.utc)

    def _submit(self, account: Account, pdu: Pdu) -> Deferred[tuple[int, dict[str, Any]]]:
        return self._submit_one(account, pdu, None)

    @inlineCallbacks
    def _submit_one(self, account: Account, pdu: Pdu, submission_id: int | None) -> Any:
        """submit_sm / data_sm, or one destination of the submit_multi ``submission_id``."""
        now_ms, now = self._now()
        if account.status is not AccountStatus.ACTIVE:
            return int(S.ESME_RSUBMITFAIL), {}
        if not self._tps.take(account.id, max(1, account.tps), now_ms / 1000):
            return int(S.ESME_RTHROTTLED), {}
        message_id = self.ids.next()
        try:
            sub = read_submission(pdu, now, dc0=self.config.dc0, reference=message_id & 0xFF)
            number = normalise(sub.dest_addr)
            sub = self.policies.prepare(account, sub, message_id)
        except SubmitRefused as refused:
            log.debug("submit from {login} refused: {reason}", login=account.login, reason=refused.reason)
            return refused.status, {}
        except InvalidNumber as bad:
            log.debug("submit from {login} to {raw!r}: {reason}", login=account.login, raw=sub.dest_addr, reason=str(bad))
            return int(S.ESME_RINVDSTADR), {}
        result = yield self._store_submission(account, sub, number.digits, message_id, now_ms, submission_id)
        return result

    @inlineCallbacks
    def _store_submission(self, account: Account, sub: Submission, dest: str, message_id: int, now_ms: int,
                          submission_id: int | None = None) -> Any:
        try:
            carrier = self.plan.carrier_of(dest, self.portability()).value
        except InvalidNumber as bad:  # mobile-shaped, but a prefix the numbering plan does not allocate
            log.debug("submit from {login} to {dest}: {reason}", login=account.login, dest=dest, reason=str(bad))
            return int(S.ESME_RINVDSTADR), {}
        price = yield self._price(account, carrier)
        parts = len(sub.segments)
        message = Message(
            id=message_id,
            account_id=account.id,
            enterprise_id=account.enterprise_id,
            source_addr=sub.source_addr,
            dest_addr=dest,
            created_at=now_ms,
            expires_at=expires_at_for(now_ms, sub.validity_ms, account.default_validity_s),
            parts=parts,
            text=sub.text,
            data_coding=to_msg_fmt(sub.coding),
            registered_delivery=sub.registered_delivery,
            priority=sub.priority,
            carrier=carrier,
            state=MessageState.QUEUED,
            due_at=sub.schedule_ms,
            charge=price * parts,
        )
        message = yield self.policies.decide(account, message, now_ms)
        esm = 0x40 if sub.udhi else 0
        segments = tuple(Segment(i + 1, payload, esm) for i, payload in enumerate(sub.segments))
        try:
            result = yield self.store.accept(message, segments, submission_id)
        except Exception as error:  # refusals of the store map to a status; others are ours to log
            for kind, status in STORE_STATUS.items():
                if isinstance(error, kind):
                    log.info("accept of {id} for {login} refused: {error}", id=message_id, login=account.login,
                             error=str(error))
                    return int(status), {}
            raise
        yield self.policies.accepted(account, message, result)
        self.accepted()
        if message.state is MessageState.REJECTED:
            # stored (and charged when the contract says so) but refused: the client hears why now,
            # or gets our id and a failure receipt (policies.SMPP_REJECTION_STATUS)
            status = smpp_status(message)
            if status is not None:
                return status, {}
        return int(S.ESME_ROK), {"message_id": ids.to_text(message_id)}

    def submit_text(
        self,
        account: Account,
        dest_addr: str,
        text: str,
        *,
        source_addr: str = "",
        receipt: bool = True,
        priority: int = 0,
        schedule_ms: int | None = None,
        validity_ms: int | None = None,
    ) -> Deferred[tuple[int, dict[str, Any]]]:
        """A text message from the web centre or the HTTP API: the same path as submit_sm.

        The text becomes a submit_sm (UCS2 in message_payload, times as SMPP
        absolute times) read by ``read_submission`` and stored by ``_submit``,
        so coding, splitting, TPS, numbering plan, price, policies and
        durability are those of an SMPP client.  Fires with (SMPP status, fields).
        """
        def when(ms: int | None) -> str:
            return "" if ms is None else format_absolute(datetime.fromtimestamp(ms / 1000, timezone.utc))

        fields = {
            "source_addr": source_addr, "destination_addr": dest_addr, "esm_class": 0, "data_coding": 8,
            "registered_delivery": 1 if receipt else 0, "priority_flag": priority, "short_message": b"",
            "schedule_delivery_time": when(schedule_ms), "validity_period": when(validity_ms),
            "tlvs": {"message_payload": text.encode("utf-16-be", "surrogatepass")},
        }  # fmt: skip
        return self._submit(account, Pdu("submit_sm", 0, fields))

    def price(self, account: Account, carrier: str) -> Deferred[int]:
        """The price per segment this account pays for ``carrier`` (as charged at acceptance)."""
        return self._price(account, carrier)  # type: ignore[no-any-return]

    @inlineCallbacks
    def _price(self, account: Account, carrier: str) -> Any:
        key = (account.id, carrier)
        now = self.clock.seconds()
        cached = self._prices.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        price = yield self.store.price_for(account.id, carrier)
        value = self.config.default_price if price is None else int(price)
        self._prices[key] = (now + self.config.price_ttl, value)
        return value

    @inlineCallbacks
    def _submit_multi(self, account: Account, pdu: Pdu) -> Any:
        """One stored message per destination, all under ONE id, the submission's (SMPP 4.5.2, ``store.multi``):
        receipts, query_sm, cancel_sm and replace_sm use it.  When every destination failed the answer is
        their common status (else ESME_RSUBMITFAIL), with no id and the unsuccess_sme list."""
        f = pdu.fields
        submission_id = self.ids.next()
        accepted = False
        failures = []
        for dest in f.get("dest_address", []):
            if dest.get("dest_flag") != 1:  # we keep no distribution lists
                failures.append({"dest_addr_ton": 0, "dest_addr_npi": 0, "destination_addr": dest.get("dl_name", ""),
                                 "error_status_code": int(S.ESME_RCNTSUBDL)})
                continue
            single = Pdu("submit_sm", pdu.sequence, {**{k: v for k, v in f.items() if k != "dest_address"},
                                                     "destination_addr": dest["destination_addr"],
                                                     "dest_addr_ton": dest.get("dest_addr_ton", 0),
                                                     "dest_addr_npi": dest.get("dest_addr_npi", 0)})
            status, _ = yield self._submit_one(account, single, submission_id)
            if status == S.ESME_ROK:
                accepted = True
            else:
                failures.append({"dest_addr_ton": dest.get("dest_addr_ton", 0), "dest_addr_npi": dest.get("dest_addr_npi", 0),
                                 "destination_addr": dest["destination_addr"], "error_status_code": int(status)})
        if accepted:
            return int(S.ESME_ROK), {"message_id": ids.to_text(submission_id), "unsuccess_sme": failures}
        reasons = {failure["error_status_code"] for failure in failures}
        status = reasons.pop() if len(reasons) == 1 else int(S.ESME_RSUBMITFAIL)
        return status, {"message_id": "", "unsuccess_sme": failures}

    # ------------------------------------------------------------------ queries

    @inlineCallbacks
    def _own_messages(self, account: Account, text: str) -> Any:
        """The account's message with this id, or all the messages of its submit_multi with this id ([]: none)."""
        try:
            message_id = ids.from_text(text)
        except ValueError:
            return []
        message = yield self.store.get_message(message_id)
        found = [message] if message is not None else (yield self.store.read(multi.members, message_id))
        if account.is_enterprise:
            mine = [m for m in found if m.enterprise_id == account.id]
        else:
            mine = [m for m in found if m.account_id == account.id]
        return mine if len(mine) == len(found) else []

    @inlineCallbacks
    def _query(self, account: Account, pdu: Pdu) -> Any:
        found = yield self._own_messages(account, pdu.fields.get("message_id", ""))
        if not found:
            return int(S.ESME_RQUERYFAIL), {}
        message = _answering(found)
        final = ""
        if message.final_at is not None:
            final = datetime.fromtimestamp(message.final_at / 1000, timezone.utc).strftime("%y%m%d%H%M%S") + "000+"
        state = QUERY_STATE.get(message.state, 7)
        if message.state is MessageState.REJECTED and (message.reason or "").startswith("cancelled"):
            state = 4  # DELETED: withdrawn by cancel_sm
        return int(S.ESME_ROK), {"message_id": pdu.fields["message_id"], "final_date": final,
                                 "message_state": state, "error_code": 0}

    @inlineCallbacks
    def _cancel(self, account: Account, pdu: Pdu) -> Any:
        """cancel_sm: every message under the id that has not gone out yet is withdrawn; fails if none was."""
        found = yield self._own_messages(account, pdu.fields.get("message_id", ""))
        cancelled = False
        for message in found:
            cancelled = (yield self.store.cancel(message.id, self._now()[0], account.login)) or cancelled
        return (int(S.ESME_ROK) if cancelled else int(S.ESME_RCANCELFAIL)), {}

    @inlineCallbacks
    def _replace(self, account: Account, pdu: Pdu) -> Any:
        """replace_sm on every message under the id (one, or a submit_multi's); succeeds if one was replaced."""
        found = yield self._own_messages(account, pdu.fields.get("message_id", ""))
        statuses = []
        for message in found:
            statuses.append((yield self._replace_one(account, message, pdu)))
        if not statuses:
            return int(S.ESME_RREPLACEFAIL), {}
        return (int(S.ESME_ROK) if S.ESME_ROK in statuses else statuses[0]), {}

    @inlineCallbacks
    def _replace_one(self, account: Account, message: Message, pdu: Pdu) -> Any:
        """New text for a message still waiting, in the coding it was stored with and with the same
        number of segments (the charge taken at acceptance stays right); the status to answer."""
        now_ms, now = self._now()
        coding = from_msg_fmt(message.data_coding) if message.data_coding in (0, 4, 8, 15) else Coding.UCS2
        client_dc = {Coding.ASCII: 0, Coding.UCS2: 8, Coding.BINARY: 4, Coding.GBK: 15}.get(coding, 8)
        fields = dict(pdu.fields, data_coding=client_dc, destination_addr=message.dest_addr,
                      registered_delivery=pdu.fields.get("registered_delivery", message.registered_delivery))
        try:
            sub = read_submission(Pdu("submit_sm", pdu.sequence, fields), now,
                                  dc0=Coding.ASCII, reference=message.id & 0xFF)
        except SubmitRefused as refused:
            return refused.status
        check = getattr(self.policies, "check_replacement", None)  # the text rules apply to new text too
        if check is not None:
            sub, refusal = check(account, message, sub, now_ms)
            if refusal is not None:
                log.info("replace_sm of {id} by {login} refused: {why}", id=message.id, login=account.login,
                         why=refusal)
                return int(S.ESME_RREPLACEFAIL)
        ok = yield self.store.replace(message.id, sub.text, sub.segments, 0x40 if sub.udhi else 0, now_ms,
                                      account.login)
        return int(S.ESME_ROK) if ok else int(S.ESME_RREPLACEFAIL)


def _answering(messages: list[Message]) -> Message:
    """The message whose state answers a query_sm for all of a submit_multi's: the first still on its
    way, else the first that failed, else the one delivered last."""
    waiting = [m for m in messages if m.state not in FINAL_STATES]
    if waiting:
        return waiting[0]
    failed = [m for m in messages if m.state is not MessageState.DELIVERED]
    return failed[0] if failed else max(messages, key=lambda m: m.final_at or 0)
