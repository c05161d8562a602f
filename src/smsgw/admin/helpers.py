"""The manhole's curated namespace: small, documented helpers for the provider's administrators.

Each helper does one thing through the pipeline's ``StoreClient`` (whose
operations write their audit row in the same transaction as the change)
and answers with text (``show.Text``); those that need the store answer
with a Deferred the manhole prints when it fires.  Accounts are named by
login or id, money is in yuan, message ids in their text form (hex) or as
integers.  Every change is written to the audit log with the actor
``manhole:<user>``; reads are not audited.

The gateway's live objects come in through ``AdminContext`` as callables, so
this module imports nothing of ``smsgw.net`` (DESIGN.md section 2) and tests
can pass their own.
"""

from __future__ import annotations

import functools
import inspect
from decimal import Decimal, InvalidOperation as BadDecimal
from typing import Any, Awaitable, Callable, Iterable, Mapping, TypeVar

import attrs
from twisted.internet.defer import Deferred

from smsgw.admin import show
from smsgw.admin.notices import DEFAULT_TEMPLATE, password_notice, temporary_password
from smsgw.admin.show import Text
from smsgw.domain import ids
from smsgw.domain.ids import IdGenerator
from smsgw.domain.model import YUAN, Account, AccountStatus, LedgerKind, SignatureStatus
from smsgw.pipeline.policy_admin import review_message, set_account_rules
from smsgw.routing.numbering import NumberingPlan
from smsgw.routing.numbers import InvalidNumber, normalise
from smsgw.store import admin_ops, lists, queries, review
from smsgw.store.account_policy import account_policies
from smsgw.store.accounts import UPDATABLE, Recharge, UpdateAccount, price_for, sub_accounts
from smsgw.store.audit import audit_entries
from smsgw.store.errors import StoreError

T = TypeVar("T")

#: how long after suspending an account its clients get to answer our unbind before we hang up
UNBIND_GRACE = 1.0


class AdminError(Exception):
    """The administrator asked for something that cannot be done; the message says why."""


@attrs.frozen
class AdminContext:
    """What the helpers use of the running gateway (see the module docstring)."""

    store: Any  # smsgw.pipeline.storage.StoreClient
    clock: Any  # seconds() and callLater(): the reactor
    ids: IdGenerator
    plan: NumberingPlan
    #: argon2-hash a password off the reactor thread
    hash_password: Callable[[str], Deferred[str]]
    #: link group name → LinkGroup (``state``, ``suspend()``, ``resume()``)
    links: Callable[[], Mapping[str, Any]] = dict
    #: the SMPP connections (``account``, ``unbind()``, ``transport``)
    connections: Callable[[], Iterable[Any]] = tuple
    #: live counters, by component
    counters: Callable[[], Mapping[str, Mapping[str, Any]]] = dict
    #: new work may be due (the dispatcher looks at once)
    poke: Callable[[], None] = lambda: None
    #: an account's extension changed (MO routing reloads)
    accounts_changed: Callable[[], Any] = lambda: None
    #: the policy service (``pipeline.policies.PolicyService``): changes to what its in-memory
    #: indexes hold (account status, blacklists, keywords, signatures, reviews) go through it, so
    #: they apply at once; None: straight to the store (the policies see them at their next poll)
    policies: Any = None
    notice_template: str = DEFAULT_TEMPLATE
    #: the lockout shared by SMPP binds and web sign-in (``policy.lockout.Lockout``); None: not shown
    lockout: Any = None


def _deferred(fn: Callable[..., Awaitable[T]]) -> Callable[..., Deferred[T]]:
    """An ``async def`` helper, called from the manhole: answers with a Deferred."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Deferred[T]:
        return Deferred.fromCoroutine(fn(*args, **kwargs))  # type: ignore[arg-type]

    return wrapper


def milli_fen(amount: Any) -> int:
    """Yuan (``12.5``, ``"0.035"``) as integer milli-fen; more precision than that is an error."""
    try:
        value = Decimal(str(amount)) * YUAN
    except BadDecimal:
        raise AdminError(f"not an amount of yuan: {amount!r}") from None
    if value != value.to_integral_value():
        raise AdminError(f"{amount} yuan is finer than a thousandth of a fen")
    return int(value)


def _phone(number: str | None) -> str | None:
    if number is None:
        return None
    try:
        return normalise(number).digits
    except InvalidNumber as bad:
        raise AdminError(f"not a mobile number: {number!r} ({bad})") from None


def _message_id(ref: int | str) -> int:
    if isinstance(ref, int):
        return ref
    try:
        return ids.from_text(ref.strip().lower())
    except ValueError:
        raise AdminError(f"not a message id: {ref!r} (the hex text form, or an integer)") from None


def _lock_name(key: str) -> str:
    kind, _, name = key.partition(":")
    return f"address {name}" if kind == "ip" else f"login {name}"


class Helpers:
    """One administrator's helpers; ``actor`` is what the audit log records."""

    #: shown by help(), in this order
    SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("accounts", ("create_enterprise", "create_sub_account", "account", "enterprises", "update_account",
                      "suspend", "activate", "blacklist_account", "reset_password")),
        ("money", ("recharge", "adjust", "balance", "ledger", "set_price", "price")),
        ("signatures", ("add_signature", "signatures", "verify_signature", "reject_signature")),
        ("number blacklists", ("blacklist", "unblacklist", "is_blacklisted")),
        ("keywords", ("add_keyword", "remove_keyword", "keywords")),
        ("review queue", ("reviews", "approve", "reject")),
        ("per-account rules", ("account_policy", "set_account_policy", "clear_account_policy")),
        ("carrier links", ("links", "suspend_link", "resume_link")),
        ("messages", ("message", "messages_to")),
        ("sign-in lockouts", ("lockouts", "unlock")),
        ("watching", ("counters", "audit_log", "help")),
    )

    def __init__(self, context: AdminContext, actor: str) -> None:
        self.ctx = context
        self.actor = actor

    def namespace(self) -> dict[str, Any]:
        """The names an administrator sees in the manhole."""
        return {name: getattr(self, name) for _, names in self.SECTIONS for name in names}

    # ---------------------------------------------------------------- plumbing

    def _now(self) -> int:
        return int(self.ctx.clock.seconds() * 1000)

    async def _account(self, ref: int | str) -> Account:
        found = await self.ctx.store.read(admin_ops.find_account, ref)
        if found is None:
            raise AdminError(f"no account {ref!r}")
        return found  # type: ignore[no-any-return]

    async def _enterprise(self, ref: int | str) -> Account:
        acc = await self._account(ref)
        if not acc.is_enterprise:
            raise AdminError(f"{acc.login} is a sub-account; money and signatures belong to its enterprise")
        return acc

    async def _scope(self, enterprise: int | str | None) -> int:
        return lists.GLOBAL if enterprise is None else (await self._enterprise(enterprise)).id

    def _hang_up(self, acc: Account) -> int:
        """Unbind the clients of ``acc`` (and of its sub-accounts); close them after a grace period."""
        count = 0
        for conn in list(self.ctx.connections()):
            bound = getattr(conn, "account", None)
            if bound is None or acc.id not in (bound.id, bound.parent_id):
                continue
            count += 1
            conn.unbind()
            self.ctx.clock.callLater(UNBIND_GRACE, _close, conn)
        return count

    # ---------------------------------------------------------------- accounts

    @_deferred
    async def create_enterprise(self, login: str, password: str, name: str = "", phone: str | None = None,
                                tps: int = 100, binds: int = 1, extension: str | None = None,
                                ips: tuple[str, ...] = (), reassemble_mo: bool = False) -> Text:
        """Open an enterprise account: create_enterprise('acme', 'pw', name='ACME', phone='13800138000').
        ``reassemble_mo``: long MO reaches its clients as one deliver_sm instead of part by part."""
        acc = await self.ctx.store.create_account(login, password, self._now(), self.actor, name=name,
                                                  reserved_phone=_phone(phone), tps=tps, max_binds=binds,
                                                  extension=extension, allowed_ips=tuple(ips),
                                                  reassemble_mo=bool(reassemble_mo))
        if extension:
            self.ctx.accounts_changed()
        return Text(f"created enterprise {acc.login} (id {acc.id})")

    @_deferred
    async def create_sub_account(self, enterprise: int | str, login: str, password: str, name: str = "",
                                 quota: Any = None, phone: str | None = None, tps: int = 100, binds: int = 1,
                                 extension: str | None = None, reassemble_mo: bool = False) -> Text:
        """Open a sub-account spending from its enterprise; quota in yuan (None: no limit of its own)."""
        parent = await self._enterprise(enterprise)
        acc = await self.ctx.store.create_account(
            login, password, self._now(), self.actor, parent_id=parent.id, name=name, reserved_phone=_phone(phone),
            tps=tps, max_binds=binds, extension=extension, quota_left=None if quota is None else milli_fen(quota),
            reassemble_mo=bool(reassemble_mo))
        if extension:
            self.ctx.accounts_changed()
        return Text(f"created sub-account {acc.login} (id {acc.id}) of {parent.login}")

    @_deferred
    async def account(self, ref: int | str) -> Text:
        """Everything about one account: status, limits, balance, sub-accounts."""
        acc = await self._account(ref)
        subs = await self.ctx.store.read(sub_accounts, acc.id) if acc.is_enterprise else []
        parent = None if acc.is_enterprise else await self._account(acc.enterprise_id)
        return show.account(acc, subs, parent)

    @_deferred
    async def enterprises(self, after_id: int = 0, limit: int = 50) -> Text:
        """The enterprise accounts, by id (a page: pass the last id shown as ``after_id``)."""
        return show.accounts(await self.ctx.store.read(admin_ops.list_accounts, None, limit, after_id))

    @_deferred
    async def update_account(self, ref: int | str, **changes: Any) -> Text:
        """Change fields: update_account('acme', tps=200, reserved_phone='13800138000', max_binds=2).
        Money fields (credit_limit, quota_left, low_balance_threshold) are in yuan."""
        unknown = sorted(set(changes) - UPDATABLE)
        if unknown:
            raise AdminError(f"cannot change {', '.join(unknown)} (can: {', '.join(sorted(UPDATABLE))})")
        for key in ("credit_limit", "quota_left", "low_balance_threshold"):
            if changes.get(key) is not None:
                changes[key] = milli_fen(changes[key])
        if "reserved_phone" in changes:
            changes["reserved_phone"] = _phone(changes["reserved_phone"])
        if "allowed_ips" in changes:
            changes["allowed_ips"] = tuple(changes["allowed_ips"])
        acc = await self._account(ref)
        acc = await self.ctx.store.run(UpdateAccount(acc.id, self._now(), self.actor, tuple(sorted(changes.items()))))
        if "extension" in changes:
            self.ctx.accounts_changed()
        return show.account(acc)

    async def _set_status(self, ref: int | str, status: AccountStatus, reason: str | None) -> Text:
        acc = await self._account(ref)
        if acc.status is status:
            return Text(f"{acc.login} is already {status.value}")
        if self.ctx.policies is not None:
            await self.ctx.policies.set_account_status(acc.id, status, self.actor, reason)
        else:
            await self.ctx.store.set_status(acc.id, status, self._now(), self.actor, reason)
        dropped = self._hang_up(acc) if status is not AccountStatus.ACTIVE else 0
        text = f"{acc.login} is now {status.value}"
        return Text(text + (f"; {dropped} bound client(s) unbound" if dropped else ""))

    @_deferred
    async def suspend(self, ref: int | str, reason: str | None = None) -> Text:
        """Suspend an account (an enterprise: with its sub-accounts); its clients are unbound at once."""
        return await self._set_status(ref, AccountStatus.SUSPENDED, reason)

    @_deferred
    async def activate(self, ref: int | str, reason: str | None = None) -> Text:
        """Make a suspended or blacklisted account active again."""
        return await self._set_status(ref, AccountStatus.ACTIVE, reason)

    @_deferred
    async def blacklist_account(self, ref: int | str, reason: str | None = None) -> Text:
        """Blacklist an account (refused for good until activated); its clients are unbound at once."""
        return await self._set_status(ref, AccountStatus.BLACKLISTED, reason)

    @_deferred
    async def reset_password(self, ref: int | str) -> Text:
        """A new temporary password, sent by SMS to the account's reserved phone (never shown here)."""
        acc = await self._account(ref)
        if not acc.reserved_phone:
            raise AdminError(f"{acc.login} has no reserved phone: update_account({acc.login!r}, reserved_phone=...)")
        password = temporary_password()
        password_hash = await self.ctx.hash_password(password)
        try:
            notice, segments = password_notice(acc, password, ids=self.ctx.ids, plan=self.ctx.plan,
                                               now_ms=self._now(), template=self.ctx.notice_template)
        except InvalidNumber as bad:
            raise AdminError(f"cannot send to {acc.reserved_phone}: {bad}") from None
        await self.ctx.store.run(admin_ops.ResetPassword(acc.id, password_hash, notice, segments, self._now(),
                                                         self.actor))
        self.ctx.poke()
        return Text(f"temporary password for {acc.login} sent to {admin_ops.mask_phone(acc.reserved_phone)}"
                    f" (message {ids.to_text(notice.id)})")

    # ---------------------------------------------------------------- money

    @_deferred
    async def recharge(self, ref: int | str, amount: Any, note: str | None = None) -> Text:
        """Add prepaid balance to an enterprise: recharge('acme', 500) adds 500 yuan."""
        acc = await self._enterprise(ref)
        balance = await self.ctx.store.run(Recharge(acc.id, milli_fen(amount), self._now(), self.actor, note))
        return Text(f"{acc.login}: recharged {show.yuan(milli_fen(amount))} yuan, balance {show.yuan(balance)} yuan")

    @_deferred
    async def adjust(self, ref: int | str, amount: Any, note: str) -> Text:
        """Correct a balance by a signed amount of yuan, with the reason: adjust('acme', -12.5, 'double recharge')."""
        acc = await self._enterprise(ref)
        balance = await self.ctx.store.run(Recharge(acc.id, milli_fen(amount), self._now(), self.actor, note,
                                                    kind=LedgerKind.ADJUSTMENT))
        return Text(f"{acc.login}: adjusted by {show.yuan(milli_fen(amount))} yuan, balance {show.yuan(balance)} yuan")

    @_deferred
    async def balance(self, ref: int | str) -> Text:
        """The balance of an enterprise (or of the enterprise of a sub-account)."""
        acc = await self._account(ref)
        owner = acc if acc.is_enterprise else await self._account(acc.enterprise_id)
        quota = "" if acc.quota_left is None else f" (quota left for {acc.login}: {show.yuan(acc.quota_left)} yuan)"
        return Text(f"{owner.login}: balance {show.yuan(owner.balance)} yuan{quota}")

    @_deferred
    async def ledger(self, ref: int | str, limit: int = 20, before_id: int | None = None) -> Text:
        """An enterprise's ledger, newest first (recharges, charges, refunds, adjustments)."""
        acc = await self._enterprise(ref)
        return show.ledger(await self.ctx.store.read(admin_ops.ledger_entries, acc.id, limit, before_id))

    @_deferred
    async def set_price(self, ref: int | str, per_segment: Any, carrier: str = "") -> Text:
        """Price per segment in yuan for an account, optionally for one carrier (cmcc, cucc, ctcc)."""
        acc = await self._account(ref)
        await self.ctx.store.set_price(acc.id, milli_fen(per_segment), self._now(), self.actor, carrier)
        return Text(f"{acc.login}: {show.yuan(milli_fen(per_segment))} yuan per segment"
                    + (f" to {carrier}" if carrier else ""))

    @_deferred
    async def price(self, ref: int | str, carrier: str | None = None) -> Text:
        """The price per segment an account pays (its own, else its enterprise's)."""
        acc = await self._account(ref)
        value = await self.ctx.store.read(price_for, acc.id, carrier)
        where = f" to {carrier}" if carrier else ""
        if value is None:
            return Text(f"{acc.login}: no price of its own{where} (the gateway's default applies)")
        return Text(f"{acc.login}: {show.yuan(value)} yuan per segment{where}")

    # ---------------------------------------------------------------- signatures

    @_deferred
    async def add_signature(self, enterprise: int | str, text: str) -> Text:
        """Register a signature (【签名】) for an enterprise; it waits for verification."""
        acc = await self._enterprise(enterprise)
        if self.ctx.policies is not None:
            signature_id = await self.ctx.policies.add_signature(acc.id, text, self.actor)
        else:
            signature_id = await self.ctx.store.run(lists.AddSignature(acc.id, text, self._now(), self.actor))
        return Text(f"signature {signature_id} {text} of {acc.login} is pending")

    @_deferred
    async def signatures(self, status: str | None = "pending", enterprise: int | str | None = None) -> Text:
        """Signatures by status (pending, verified, rejected; None: all), optionally of one enterprise."""
        wanted = None if status is None else SignatureStatus(status)
        scope = None if enterprise is None else (await self._enterprise(enterprise)).id
        return show.signatures(await self.ctx.store.read(admin_ops.signatures, wanted, scope))

    async def _decide(self, signature_id: int, status: SignatureStatus) -> Text:
        if self.ctx.policies is not None:
            await self.ctx.policies.decide_signature(signature_id, status, self.actor)
        else:
            await self.ctx.store.run(lists.DecideSignature(signature_id, status, self._now(), self.actor))
        return Text(f"signature {signature_id} is {status.value}")

    @_deferred
    async def verify_signature(self, signature_id: int) -> Text:
        """Accept a signature: messages may carry it."""
        return await self._decide(signature_id, SignatureStatus.VERIFIED)

    @_deferred
    async def reject_signature(self, signature_id: int) -> Text:
        """Refuse a signature."""
        return await self._decide(signature_id, SignatureStatus.REJECTED)

    # ---------------------------------------------------------------- number blacklists

    async def _list_number(self, phone: str, enterprise: int | str | None, listed: bool, reason: str | None) -> Text:
        scope = await self._scope(enterprise)
        number = _phone(phone)
        assert number is not None
        if self.ctx.policies is not None:
            changed = await self.ctx.policies.set_blacklisted(number, self.actor, scope_id=scope, listed=listed,
                                                              reason=reason)
        else:
            changed = await self.ctx.store.run(lists.Blacklist(number, self._now(), self.actor, scope, listed, reason))
        where = "the global blacklist" if scope == lists.GLOBAL else f"the blacklist of enterprise {scope}"
        if not changed:
            return Text(f"{number} was already {'on' if listed else 'off'} {where}")
        return Text(f"{number} {'added to' if listed else 'removed from'} {where}")

    @_deferred
    async def blacklist(self, phone: str, enterprise: int | str | None = None, reason: str | None = None) -> Text:
        """Put a number on the global blacklist, or on one enterprise's."""
        return await self._list_number(phone, enterprise, True, reason)

    @_deferred
    async def unblacklist(self, phone: str, enterprise: int | str | None = None) -> Text:
        """Take a number off the global blacklist, or off one enterprise's."""
        return await self._list_number(phone, enterprise, False, None)

    @_deferred
    async def is_blacklisted(self, phone: str, enterprise: int | str | None = None) -> Text:
        """Whether messages to a number are refused (globally, or for one enterprise)."""
        scope = None if enterprise is None else await self._scope(enterprise)
        number = _phone(phone)
        found = await self.ctx.store.read(lists.is_blacklisted, number, scope)
        return Text(f"{number} is {'' if found else 'not '}blacklisted")

    # ---------------------------------------------------------------- keywords

    async def _keyword(self, list_name: str, word: str, enterprise: int | str | None, listed: bool) -> Text:
        scope = await self._scope(enterprise)
        if self.ctx.policies is not None:
            changed = await self.ctx.policies.set_keyword(list_name, word, self.actor, scope_id=scope, listed=listed)
        else:
            changed = await self.ctx.store.run(lists.Keyword(list_name, word, self._now(), self.actor, scope, listed))
        verb = ("added to" if listed else "removed from") if changed else ("already on" if listed else "not on")
        return Text(f"{word!r} {verb} keyword list {list_name}" + ("" if scope == lists.GLOBAL else f" of {scope}"))

    @_deferred
    async def add_keyword(self, list_name: str, word: str, enterprise: int | str | None = None) -> Text:
        """Add a word to a keyword list (reject, review, unsubscribe, ...), global or of one enterprise."""
        return await self._keyword(list_name, word, enterprise, True)

    @_deferred
    async def remove_keyword(self, list_name: str, word: str, enterprise: int | str | None = None) -> Text:
        """Remove a word from a keyword list."""
        return await self._keyword(list_name, word, enterprise, False)

    @_deferred
    async def keywords(self, list_name: str) -> Text:
        """The words of one keyword list with their scope (0: global)."""
        rows = await self.ctx.store.read(lists.keywords, list_name)
        return show.table(("scope", "word"), rows)

    # ---------------------------------------------------------------- review queue

    @_deferred
    async def reviews(self, limit: int = 20, after: int | str = 0) -> Text:
        """Messages waiting for a decision, oldest first."""
        return show.reviews(await self.ctx.store.read(review.pending_reviews, limit, _message_id(after)))

    async def _review(self, ref: int | str, approve: bool, note: str | None) -> Text:
        message_id = _message_id(ref)
        state = await review_message(self.ctx.store, self.ctx.policies, message_id, approve, self.actor,
                                     self._now(), note)
        if state is None:
            raise AdminError(f"no message {ids.to_text(message_id)}")
        if approve and self.ctx.policies is None:
            self.ctx.poke()
        return Text(f"message {ids.to_text(message_id)} is now {state.value}")

    @_deferred
    async def approve(self, message_id: int | str, note: str | None = None) -> Text:
        """Let a message held for review go out (now, or when its send window opens)."""
        return await self._review(message_id, True, note)

    @_deferred
    async def reject(self, message_id: int | str, note: str | None = None) -> Text:
        """Refuse a message held for review; whether it is charged is the contract's rule (content refusals are)."""
        return await self._review(message_id, False, note)

    # ---------------------------------------------------------------- per-account rules

    async def _show_policy(self, acc: Account) -> Text:
        if self.ctx.policies is None:
            own = (await self.ctx.store.read(account_policies)).get(acc.login)
            return show.account_policy(acc.login, own, None)
        own_policy, rules = self.ctx.policies.account_policy(acc.login)
        return show.account_policy(acc.login, own_policy.changes() if own_policy else None, rules)

    async def _set_policy(self, ref: int | str, changes: dict[str, Any], replace: bool) -> Text:
        acc = await self._account(ref)
        try:
            await set_account_rules(self.ctx.store, self.ctx.policies, acc, self.actor, changes, self._now(), replace)
        except (TypeError, ValueError) as bad:
            raise AdminError(f"{acc.login}: {bad}") from None
        return await self._show_policy(acc)

    @_deferred
    async def account_policy(self, ref: int | str) -> Text:
        """An account's own rules set here, and the rules in force for it (window, duplicates, refund, …)."""
        return await self._show_policy(await self._account(ref))

    @_deferred
    async def set_account_policy(self, ref: int | str, **changes: Any) -> Text:
        """Set an account's own rules, in force at once and kept across restarts:
        set_account_policy('acme', window_open='08:00', window_close='21:00', duplicates='suppress',
        refund=['rejected', 'undelivered']).  A value of None removes one of them (the enterprise's
        or the configuration's applies again).  Keys: window_open, window_close, window_release,
        duplicates (flag, suppress, off), range_run, per_minute, per_hour, per_day, refund."""
        return await self._set_policy(ref, changes, False)

    @_deferred
    async def clear_account_policy(self, ref: int | str) -> Text:
        """Remove every rule of an account's own set here."""
        return await self._set_policy(ref, {}, True)

    # ---------------------------------------------------------------- carrier links

    def _link(self, name: str) -> Any:
        group = self.ctx.links().get(name)
        if group is None:
            raise AdminError(f"no link {name!r} (links: {', '.join(sorted(self.ctx.links())) or 'none'})")
        return group

    def links(self) -> Text:
        """The carrier links: up or down, connections, window in flight, queue, rate."""
        return show.links((group.state, group.available()) for _, group in sorted(self.ctx.links().items()))

    @_deferred
    async def suspend_link(self, name: str, reason: str | None = None) -> Text:
        """Stop giving a link segments (they wait for other links); it stays connected for reports and MO."""
        group = self._link(name)
        await self.ctx.store.run(admin_ops.Audited("link.suspend", name, self._now(), self.actor,
                                                   (("reason", reason),)))
        group.suspend()
        return Text(f"link {name} suspended")

    # ---------------------------------------------------------------- sign-in lockouts

    def lockouts(self) -> Text:
        """Logins and addresses locked out after repeated failed binds or web sign-ins, and for how long."""
        lockout = self._lockout()
        now = self.ctx.clock.seconds()
        locked = sorted(lockout.locked_keys(now).items())
        if not locked:
            return Text("no login or address is locked out")
        return Text("\n".join(f"{_lock_name(key):<32} {int(until - now)} s left" for key, until in locked))

    @_deferred
    async def unlock(self, who: str) -> Text:
        """Lift a lockout before its time: a login, or an address given as ``ip:1.2.3.4``."""
        lockout = self._lockout()
        key = who if who.startswith(("ip:", "id:")) else f"id:{who}"
        await self.ctx.store.run(admin_ops.Audited("lockout.unlock", key, self._now(), self.actor))
        if not lockout.unlock(key):
            return Text(f"{_lock_name(key)} was not locked out")
        return Text(f"{_lock_name(key)} unlocked")

    def _lockout(self) -> Any:
        if self.ctx.lockout is None:
            raise AdminError("this gateway has no sign-in lockout to show")
        return self.ctx.lockout

    @_deferred
    async def resume_link(self, name: str) -> Text:
        """Let a suspended link take segments again."""
        group = self._link(name)
        await self.ctx.store.run(admin_ops.Audited("link.resume", name, self._now(), self.actor))
        group.resume()
        self.ctx.poke()
        return Text(f"link {name} resumed")

    # ---------------------------------------------------------------- messages

    @_deferred
    async def message(self, ref: int | str) -> Text:
        """One message by id: its state, parts, carrier ids and full history."""
        message_id = _message_id(ref)
        msg = await self.ctx.store.get_message(message_id)
        if msg is None:
            raise AdminError(f"no message {ids.to_text(message_id)}")
        history = await self.ctx.store.history(message_id)
        segments = await self.ctx.store.read(queries.get_segments, message_id)
        return show.message(msg, history, segments)

    @_deferred
    async def messages_to(self, phone: str, days: float = 7, limit: int = 20) -> Text:
        """The latest messages to a number in the last ``days`` days, newest first."""
        number = _phone(phone)
        since = self._now() - int(days * 86_400_000)
        return show.messages(await self.ctx.store.read(admin_ops.messages_to, number, since, limit))

    # ---------------------------------------------------------------- watching

    def counters(self) -> Text:
        """Live counters: SMPP, dispatcher, links, carrier events, notifier, store writer."""
        return show.counters(self.ctx.counters())

    @_deferred
    async def audit_log(self, limit: int = 20, before_id: int | None = None) -> Text:
        """The audit log, newest first: who changed what."""
        return show.audit(await self.ctx.store.read(audit_entries, limit, before_id))

    def help(self, name: Any = None) -> Text:
        """help() lists the helpers; help(recharge) or help('recharge') explains one."""
        if name is not None:
            key = name if isinstance(name, str) else getattr(name, "__name__", "")
            fn = self.namespace().get(key)
            if fn is None:
                raise AdminError(f"no helper {key!r}")
            return Text(f"{key}{_signature(fn)}\n    " + (fn.__doc__ or "").strip().replace("\n        ", "\n    "))
        lines = ["smsgw manhole: helpers (results appear when the store answers; help(name) for one)"]
        for section, names in self.SECTIONS:
            lines.append(f"{section}:")
            for key in names:
                fn = getattr(self, key)
                first = (fn.__doc__ or "").strip().splitlines()[0]
                lines.append(f"  {key:<19} {first}")
        return Text("\n".join(lines))


def _signature(fn: Any) -> str:
    return str(inspect.signature(fn))


def _close(conn: Any) -> None:
    transport = getattr(conn, "transport", None)
    if transport is not None and getattr(conn, "connected", True):
        transport.loseConnection()


def describe_failure(error: BaseException) -> str | None:
    """The one line an administrator sees for an expected failure, None for a bug (show a traceback)."""
    if isinstance(error, (AdminError, StoreError)):
        return f"error: {error}"
    if isinstance(error, ValueError):
        return f"error: {error}"
    return None


