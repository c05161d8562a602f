"""The policy services on the message's way: the chain, kept in step with the store.

``PolicyService`` is what ``Intake`` calls (``pipeline.intake.PolicyChain``):

* ``prepare`` — before pricing: a text without a signature gets its
  enterprise's default in front, and its segments are cut again, so the
  signature is counted and billed;
* ``decide`` — the rules (``policy.chain.Chain``), all in memory;
* ``accepted`` — after the store's commit: the low-balance alert (the failure
  receipt of a message refused after acknowledgement is written by the accept
  itself, in its transaction: ``store.tx.Rules.refusal_receipts``);
* ``check_replacement`` — replace_sm: the new text faces the rules that read
  text (signature, content) before it may replace the old one.

The dispatcher asks ``window_release`` before it hands a claimed segment to a
link, so a message accepted inside the window and still waiting when it
closes is held again until it opens.

It also owns what keeps the indexes current — a full reload every
``refresh_interval`` and the audit-log feed every ``poll_interval``
(``pipeline.policy_store``) — the unsubscribe replies among MO messages, the
paced release of held messages (every ``window.release_interval``), and the
administrative changes that the indexes must see at once (blacklists,
keywords, signatures, reviews, accounts, per-account rules).  Per-account
rules set at run time are kept in the store (``store.account_policy``) and
loaded with the other indexes, so a restart keeps them; the refund rules they
carry are handed to the store's operations (``_install_rules``).

Refusals answer the SMPP client through ``SMPP_REJECTION_STATUS``:

==========  ======================================================
rule        submit_sm_resp
==========  ======================================================
blacklist   ESME_ROK with our id; failure receipt (REJECTD, err 601)
content     ESME_ROK with our id; failure receipt (REJECTD, err 602); charged
duplicate   ESME_ROK with our id; failure receipt (REJECTD, err 603) (mode "suppress")
account     ESME_RSUBMITFAIL (0x45)
signature   ESME_RSUBMITFAIL (0x45)
range       ESME_RSUBMITFAIL (0x45)
frequency   ESME_RSUBMITFAIL (0x45)
balance     ESME_RSUBMITFAIL (0x45) — insufficient balance or quota, from the store
==========  ======================================================
"""

from __future__ import annotations

from typing import Any, Callable

import attrs
from twisted.internet.defer import Deferred, inlineCallbacks, maybeDeferred, succeed
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from smsgw.domain import ids
from smsgw.domain.coding import Coding, CodingError, choose_coding, decode, from_smpp_data_coding, to_msg_fmt
from smsgw.domain.model import (
    DEFAULT_VALIDITY_MS,
    Account,
    AccountStatus,
    HoldReason,
    Message,
    MessageState,
    MoMessage,
    Segment,
    SignatureStatus,
)
from smsgw.domain.segments import split
from smsgw.pipeline import policy_store
from smsgw.pipeline.signing import CARRIER_PROTOCOL, sign_submission
from smsgw.policy.chain import Chain
from smsgw.policy.release import ReleasePacer
from smsgw.policy.settings import ALWAYS_OPEN, AccountPolicy, AccountRules, PolicySettings
from smsgw.policy.signature import find_signature
from smsgw.policy.verdict import ACKNOWLEDGED, RECEIPT_ERR, Action, Rule, reason, rule_of
from smsgw.protocols.smpp34.status import CommandStatus as S
from smsgw.routing.numbering import NumberingPlan
from smsgw.routing.numbers import InvalidNumber, normalise
from smsgw.session.smpp_submit import Submission
from smsgw.store import lists
from smsgw.store.account_policy import SetAccountPolicy
from smsgw.store.dispatching import ReleaseHeld

log = Logger(namespace="smsgw.pipeline.policies")

#: policy refusals → submit_sm_resp status (see the module docstring); ACKNOWLEDGED rules answer ESME_ROK
SMPP_REJECTION_STATUS: dict[Rule, int] = {
    Rule.ACCOUNT: S.ESME_RSUBMITFAIL,
    Rule.SIGNATURE: S.ESME_RSUBMITFAIL,
    Rule.RANGE: S.ESME_RSUBMITFAIL,
    Rule.FREQUENCY: S.ESME_RSUBMITFAIL,
    Rule.BALANCE: S.ESME_RSUBMITFAIL,
}

DEMO_SIGNATURE = "【示例】"


def smpp_status(message: Message) -> int | None:
    """The submit_sm_resp status of a REJECTED message; None: answer ESME_ROK with its id
    (a failure receipt follows)."""
    rule = rule_of(message.reason)
    if rule in ACKNOWLEDGED:
        return None
    return int(SMPP_REJECTION_STATUS.get(rule, S.ESME_RSUBMITFAIL)) if rule else int(S.ESME_RSUBMITFAIL)


class PolicyService:
    """See the module docstring.  ``clock`` is the reactor (``seconds``, ``callLater``)."""

    def __init__(
        self,
        store: Any,
        clock: Any,
        id_generator: ids.IdGenerator,
        plan: NumberingPlan,
        settings: PolicySettings | None = None,
        *,
        wake: Callable[[int | None], None] | None = None,
        poke: Callable[[], None] | None = None,
        link_capacity: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.ids = id_generator
        self.plan = plan
        self.settings = settings or PolicySettings()
        self.chain = Chain(self.settings)
        #: wake the notifier for an account's receipts (None: every account)
        self.wake = wake or (lambda account_id: None)
        #: tell the dispatcher new work is due
        self.poke = poke or (lambda: None)
        #: messages per second the carrier links can take now (for pacing releases)
        self.link_capacity = link_capacity
        self.pacer = ReleasePacer(self._release_rate())
        self._install_rules()
        self.audit_id = 0
        self.counters = {"refreshed": 0, "changes": 0, "unsubscribed": 0, "alerts": 0, "released": 0}
        self._loops: list[LoopingCall] = []
        self._busy: set[str] = set()

    # ------------------------------------------------------------------ intake

    def prepare(self, account: Account, sub: Submission, message_id: int) -> Submission:
        if Rule.SIGNATURE.value not in self.settings.order:
            return sub
        return sign_submission(self.chain, account, sub, message_id)

    def decide(self, account: Account, message: Message, now_ms: int) -> Message:
        return self.chain.decide(account, message, now_ms)

    def accepted(self, account: Account, message: Message, result: Any) -> None:
        """After the commit of ``message``: the low-balance alert; the notifier is told of an
        acknowledged refusal's receipt, which the accept wrote in its own transaction
        (``store.tx.Rules.refusal_receipts``, installed by ``_install_rules``)."""
        balance = getattr(result, "balance", None)
        if balance is not None:
            alert = self.chain.balance_alert(message, balance)
            if alert is not None:
                self._send_alert(message.enterprise_id, *alert)
        if message.state is MessageState.REJECTED and rule_of(message.reason) in ACKNOWLEDGED:
            self.wake(message.account_id)

    def window_release(self, account_id: int, now_ms: int) -> int | None:
        """For the dispatcher: None when the account may send now, else when its window opens."""
        return self.chain.window_release(account_id, now_ms)

    def check_replacement(self, account: Account, message: Message, sub: Submission,
                          now_ms: int) -> tuple[Submission, str | None]:
        """replace_sm: the new text signed as a submission would be (``prepare``), and why it is
        refused (None: it may replace).  The rules that read the text apply to it as they did to
        the text it replaces: a prohibited or doubtful word, or no verified signature, refuses it."""
        sub = self.prepare(account, sub, message.id)
        if sub.text is None:
            return sub, None
        if (Rule.SIGNATURE.value in self.settings.order and self.settings.signature.required
                and find_signature(sub.text) is None):
            return sub, reason(Rule.SIGNATURE, "a replacement must carry a verified signature")
        verdict = self.chain.check_text(account, attrs.evolve(message, text=sub.text), now_ms)
        if verdict is None or verdict.action is Action.FLAG:
            return sub, None
        return sub, verdict.reason

    # ------------------------------------------------------------------ start, stop, reloads

    def start(self) -> Deferred[Any]:
        """Load every index; then keep them current.  Fires once loaded."""
        d = self.refresh()

        def running(_: Any) -> None:
            self._every(self.settings.refresh_interval, self.refresh)
            self._every(self.settings.poll_interval, self.poll)
            self._every(self.settings.window.release_interval, self.release_held)

        d.addCallback(running)
        return d

    def stop(self) -> None:
        for loop in self._loops:
            if loop.running:
                loop.stop()
        self._loops.clear()

    def _every(self, seconds: float, fn: Callable[[], Any]) -> None:
        if seconds <= 0:
            return

        def run() -> Deferred[Any]:
            # a failed round is logged and the next one comes all the same (a failure
            # returned to LoopingCall would stop it for good)
            d = maybeDeferred(fn)
            d.addErrback(lambda f: log.failure("policy upkeep ({name}) failed", f, name=fn.__name__))
            return d

        loop = LoopingCall(run)
        loop.clock = self.clock
        self._loops.append(loop)
        loop.start(seconds, now=False)

    def _once(self, name: str, work: Callable[[], Deferred[Any]]) -> Deferred[Any]:
        """Run ``work`` unless a run of the same name is still going."""
        if name in self._busy:
            return succeed(None)
        self._busy.add(name)
        d = work()

        def done(result: Any) -> Any:
            self._busy.discard(name)
            return result

        d.addBoth(done)
        return d

    def refresh(self) -> Deferred[Any]:
        """Reload every index from the store (built on a reader thread, swapped in here)."""

        def work() -> Deferred[Any]:
            d: Deferred[Any] = self.store.read(policy_store.load_snapshot, self.settings)
            d.addCallback(self._apply_snapshot)
            return d

        return self._once("refresh", work)

    def _apply_snapshot(self, snap: policy_store.Snapshot) -> None:
        self.chain.load(accounts=snap.accounts, blacklist=snap.blacklist, keywords=snap.keywords,
                        signatures=snap.signatures, unsubscribe=snap.unsubscribe,
                        overrides=snap.overrides)  # fmt: skip
        self._install_rules()
        self.audit_id = max(self.audit_id, snap.audit_id)
        self.chain.ranges.forget_idle(self._now_ms(), self.settings.range.window_s * 1000)
        self.counters["refreshed"] += 1
        log.debug("policy indexes loaded: {b} blacklisted numbers, {k} keywords, {a} accounts",
                  b=len(snap.blacklist), k=snap.keywords.size, a=len(snap.accounts))

    def poll(self) -> Deferred[Any]:
        """Apply the administrative changes written since the last look (audit log)."""
        return self._once("poll", self._poll)

    @inlineCallbacks
    def _poll(self) -> Any:
        changes = yield self.store.read(policy_store.changes_since, self.audit_id)
        reload: set[str] = set()
        for change in changes:
            self.audit_id = max(self.audit_id, change.id)
            if not change.action:
                continue
            self.counters["changes"] += 1
            family, _, verb = change.action.partition(".")
            if family == "blacklist" and change.target:
                scope = int(change.detail.get("scope_id", 0))
                if verb == "add":
                    self.chain.blacklist.add(scope, change.target)
                else:
                    self.chain.blacklist.remove(scope, change.target)
            else:
                reload.add(family)
        yield self._reload(reload)

    @inlineCallbacks
    def _reload(self, families: set[str]) -> Any:
        if "keyword" in families:
            keywords, unsubscribe = yield self.store.read(policy_store.load_keywords, self.settings)
            self.chain.load(keywords=keywords, unsubscribe=unsubscribe)
        if "signature" in families:
            self.chain.load(signatures=(yield self.store.read(policy_store.load_signatures)))
        if "account" in families:
            self.chain.load(accounts=(yield self.store.read(policy_store.load_accounts)))
        if "policy" in families:
            self.chain.load(overrides=(yield self.store.read(policy_store.load_overrides)))
        if families & {"account", "policy"}:
            self._install_rules()

    def _install_rules(self) -> None:
        """What the store's operations must know of the policies: who is refunded what on a final
        failure, and which refusals get their receipt written with the accept."""
        set_rules = getattr(self.store, "set_rules", None)
        if set_rules is None:
            return
        default, own = self.chain.refunds()
        set_rules(attrs.evolve(self.store.rules, refund_states=default, account_refunds=own,
                               refusal_receipts={rule.value: err for rule, err in RECEIPT_ERR.items()}))

    # ------------------------------------------------------------------ MO: unsubscribe replies

    def mo_received(self, mo: MoMessage) -> Deferred[Any] | None:
        """Blacklist the sender of an unsubscribe reply for the enterprise it answered."""
        if mo.account_id is None or mo.esm_class & 0x40:
            return None
        try:
            coding = from_smpp_data_coding(mo.data_coding, dc0=Coding.ASCII)
            if coding is Coding.BINARY:
                return None
            text = decode(mo.content, coding)
        except (ValueError, CodingError, UnicodeDecodeError):
            return None
        enterprise_id = self.chain.enterprise_of(mo.account_id)
        if not self.chain.unsubscribe.matches(text, enterprise_id):
            return None
        try:
            phone = normalise(mo.source_addr).digits
        except InvalidNumber:
            phone = mo.source_addr
        self.counters["unsubscribed"] += 1
        self.chain.blacklist.add(enterprise_id, phone)
        log.info("{phone} replied {text!r}: on the blacklist of enterprise {enterprise}", phone=phone, text=text,
                 enterprise=enterprise_id)
        entry = lists.Blacklist(phone, mo.received_at, "unsubscribe-reply", scope_id=enterprise_id,
                                reason=f"replied {text.strip()[:40]}")
        d: Deferred[Any] = self.store.run(entry)
        d.addErrback(lambda f: log.failure("blacklisting {phone} failed", f, phone=phone))
        return d

    # ------------------------------------------------------------------ held messages

    def _release_rate(self) -> float:
        window = self.settings.window
        if window.release_rate > 0:
            return window.release_rate
        if self.link_capacity is None:
            return 100.0
        return max(0.0, self.link_capacity() * window.release_share)

    def release_held(self, now_ms: int | None = None, page: int = 1000) -> Deferred[int]:
        """Release what the pacer allows of the messages whose window hold is over, in
        acceptance order (call it every second or so)."""

        def work() -> Deferred[int]:
            self.pacer.set_rate(self._release_rate())
            allowed = min(page, self.pacer.allowance(self.clock.seconds()))
            if allowed <= 0:
                return succeed(0)
            at = self._now_ms() if now_ms is None else now_ms
            d: Deferred[int] = self.store.run(ReleaseHeld(at, allowed))

            def released(count: int) -> int:
                self.pacer.released(count)
                self.counters["released"] += count
                if count:
                    self.poke()
                return count

            d.addCallback(released)
            return d

        return self._once("release", work)

    # ------------------------------------------------------------------ low balance

    def _send_alert(self, enterprise_id: int, phone: str, text: str) -> None:
        now = self._now_ms()
        try:
            number = normalise(phone).digits
            carrier = self.plan.carrier_of(number).value
        except InvalidNumber as bad:
            log.warn("low-balance alert for {e}: reserved phone {phone!r} unusable: {why}", e=enterprise_id,
                     phone=phone, why=str(bad))
            return
        message_id = self.ids.next()
        coding = choose_coding(text, CARRIER_PROTOCOL)
        parts = split(text, coding, message_id & 0xFF)
        until = self.chain.window_release(enterprise_id, now)
        message = Message(
            id=message_id, account_id=enterprise_id, enterprise_id=enterprise_id, source_addr="",
            dest_addr=number, created_at=now, expires_at=now + DEFAULT_VALIDITY_MS, parts=len(parts), text=text,
            data_coding=to_msg_fmt(coding), carrier=carrier,
            state=MessageState.QUEUED if until is None else MessageState.HELD,
            hold_reason=None if until is None else HoldReason.WINDOW, due_at=until,
            reason=reason(Rule.BALANCE, "low-balance alert"), charge=0,
        )  # fmt: skip
        esm = 0x40 if len(parts) > 1 else 0
        segments = tuple(Segment(p.number, p.user_data, esm) for p in parts)
        self.counters["alerts"] += 1
        d = self.store.accept(message, segments)
        d.addCallback(lambda _: self.poke())
        d.addErrback(lambda f: log.failure("storing the low-balance alert for {e} failed", f, e=enterprise_id))

    # ------------------------------------------------------------------ administration

    @inlineCallbacks
    def review(self, message_id: int, approve: bool, actor: str, note: str | None = None,
               refund: bool | None = None) -> Any:
        """Decide on a message held for review: approved, it goes out (or waits for its
        window); refused, it ends rejected with a receipt, charged as the contract says
        (``refund=True``: given back all the same, an administrator's goodwill)."""
        now = self._now_ms()
        message = yield self.store.get_message(message_id)
        if message is None:
            return None
        if approve:
            until = self.chain.window_release(message.account_id, now)
            if until is None:
                state = yield self.store.review(message_id, True, now, actor, note)
            else:
                state = yield self.store.run(policy_store.ApproveForWindow(message_id, now, actor, until, note))
            self.poke()
        else:
            if refund is None:
                refund = not self.chain.charges(Rule.CONTENT)
            state = yield self.store.review(message_id, False, now, actor, note or "review refused", refund)
            self.wake(message.account_id)
        return state

    @inlineCallbacks
    def set_blacklisted(self, phone: str, actor: str, *, scope_id: int = 0, listed: bool = True,
                        reason: str | None = None) -> Any:
        changed = yield self.store.run(lists.Blacklist(phone, self._now_ms(), actor, scope_id, listed, reason))
        (self.chain.blacklist.add if listed else self.chain.blacklist.remove)(scope_id, phone)
        return changed

    @inlineCallbacks
    def set_keyword(self, category: str, word: str, actor: str, *, scope_id: int = 0, listed: bool = True) -> Any:
        changed = yield self.store.run(lists.Keyword(category, word, self._now_ms(), actor, scope_id, listed))
        yield self._reload({"keyword"})
        return changed

    @inlineCallbacks
    def add_signature(self, enterprise_id: int, text: str, actor: str, *, verified: bool = False) -> Any:
        now = self._now_ms()
        signature_id = yield self.store.run(lists.AddSignature(enterprise_id, text, now, actor))
        if verified:
            yield self.store.run(lists.DecideSignature(signature_id, SignatureStatus.VERIFIED, now, actor))
        yield self._reload({"signature"})
        return signature_id

    @inlineCallbacks
    def decide_signature(self, signature_id: int, status: SignatureStatus, actor: str) -> Any:
        yield self.store.run(lists.DecideSignature(signature_id, status, self._now_ms(), actor))
        yield self._reload({"signature"})

    @inlineCallbacks
    def set_account_status(self, account_id: int, status: AccountStatus, actor: str, reason: str | None = None) -> Any:
        """Suspend or blacklist an account (or enterprise), or make it active again; its
        sessions already bound are refused from now on."""
        yield self.store.set_status(account_id, status, self._now_ms(), actor, reason)
        yield self._reload({"account"})

    def account_policy(self, login: str) -> tuple[AccountPolicy | None, AccountRules]:
        """An account's own overrides set at run time, and the rules that apply to it."""
        found = next((info for info in self.chain.accounts.values() if info.login == login), None)
        rules = self.chain.rules_of(found.id) if found else self.settings.rules_for(login, None, self.chain.overrides)
        return self.chain.overrides.get(login), rules

    @inlineCallbacks
    def set_account_policy(self, account: Account, actor: str, changes: dict[str, Any],
                           replace: bool = False) -> Any:
        """Change an account's overrides (a value of None removes one; ``replace``: these and no
        others): checked, kept in the store with an audit row, in force at once here and at the
        next poll on other nodes.  Fires with the account's overrides now (None: none)."""
        current = {} if replace else (self.chain.overrides.get(account.login) or AccountPolicy()).changes()
        merged = {key: value for key, value in {**current, **changes}.items() if value is not None}
        policy = AccountPolicy.from_changes(merged)  # ValueError: refused before anything is written
        enterprise = self.chain.accounts.get(account.enterprise_id) if account.parent_id is not None else None
        trial = dict(self.chain.overrides, **{account.login: policy})
        self.settings.rules_for(account.login, enterprise.login if enterprise else None, trial)
        values = tuple((key, policy.changes().get(key)) for key in sorted({*changes, *merged}))
        stored = yield self.store.run(SetAccountPolicy(account.id, values, self._now_ms(), actor, replace))
        self.chain.set_override(account.login, AccountPolicy.from_changes(stored) if stored else None)
        self._install_rules()
        return self.chain.overrides.get(account.login)

    # ------------------------------------------------------------------ helpers

    def _now_ms(self) -> int:
        return int(self.clock.seconds() * 1000)


@inlineCallbacks
def bootstrap_demo(service: PolicyService, account: Account, signature: str = DEMO_SIGNATURE) -> Any:
    """The demo account sends at any hour (its window is open all day) and has a verified
    signature.  Idempotent: call it from the demo bootstrap at every start."""
    if account.login not in service.chain.overrides:  # an administrator's own choice stays
        yield service.set_account_policy(account, "demo-bootstrap", ALWAYS_OPEN.changes())
    verified = yield service.store.read(lists.verified_signatures, account.enterprise_id)
    if any(text.strip("【】") == signature.strip("【】") for text in verified):
        yield service._reload({"signature"})
        return None
    pending = yield service.store.read(policy_store.signature_id, account.enterprise_id, signature)
    now = service._now_ms()
    if pending is None:
        pending = yield service.store.run(lists.AddSignature(account.enterprise_id, signature, now, "demo-bootstrap"))
    yield service.store.run(lists.DecideSignature(pending, SignatureStatus.VERIFIED, now, "demo-bootstrap"))
    yield service._reload({"signature", "account"})
    return None
