"""The policy chain: every rule of the service contract, run on a message before it is stored.

``Chain.decide(account, message, now_ms)`` runs the configured rules in order
(``PolicySettings.order``) and returns the message as it is to be stored:

* unchanged (QUEUED) when every rule passes;
* REJECTED with ``reason`` at the first rule that rejects; its charge kept
  only for the rules the contract charges (``charged_rejections``);
* HELD for REVIEW (doubtful content) or HELD for the WINDOW with ``due_at``
  its release time — review wins, the window is looked at again on approval;
* QUEUED with ``reason`` noting a flag (a duplicate sent and marked).

Rules only read until the message has passed all of them; then the rules
that count what goes out (frequency, duplicates) record it.  The range
detector records every attempt.  Everything is in memory (DESIGN.md §6): the
indexes are built from the store by ``pipeline.policy_service`` and swapped
in with ``load``; no rule touches the store or the clock — ``now_ms`` is given.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

import attrs

from smsgw.domain.model import Account, AccountStatus, HoldReason, Message, MessageState
from smsgw.policy.accounts import AccountInfo
from smsgw.policy.blacklist import BlacklistIndex
from smsgw.policy.content import KeywordIndex
from smsgw.policy.duplicates import DuplicateIndex
from smsgw.policy.frequency import FrequencyLimiter
from smsgw.policy.low_balance import LowBalanceWatch, alert_text
from smsgw.policy.range_blast import RangeDetector
from smsgw.policy.settings import AccountPolicy, AccountRules, ContentAction, DuplicateMode, PolicySettings
from smsgw.policy.signature import CLOSE, OPEN, SignatureBook, find_signature
from smsgw.policy.unsubscribe import UnsubscribeWords
from smsgw.policy.verdict import Action, Rule, Verdict

Check = Callable[[Account, Message, int, AccountRules], "Verdict | None"]
CHINA = timezone(timedelta(hours=8))
_REJECTED, _HELD, _QUEUED = MessageState.REJECTED, MessageState.HELD, MessageState.QUEUED
_ACTIVE = AccountStatus.ACTIVE


def _china(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, CHINA).strftime("%Y-%m-%d %H:%M")


class Chain:
    def __init__(self, settings: PolicySettings | None = None) -> None:
        self.settings = settings = settings or PolicySettings()
        self.accounts: dict[int, AccountInfo] = {}
        self.blacklist = BlacklistIndex()
        self.keywords = self._keyword_index(())
        self.signatures = SignatureBook()
        self.unsubscribe = UnsubscribeWords(settings.unsubscribe.words)
        self.duplicates = DuplicateIndex(settings.duplicates.window_s * 1000, settings.duplicates.max_entries)
        self.ranges = RangeDetector()
        self.frequency = FrequencyLimiter()
        self.low_balance = LowBalanceWatch()
        #: per-account overrides set at run time (login → policy), over the file's; the policy
        #: service keeps them in the store (``pipeline.policy_store``) and loads them from there
        self.overrides: dict[str, AccountPolicy] = {}
        self._rules: dict[int, AccountRules] = {}
        self._globals = settings.rules_for(None)
        self._duplicate_key: tuple[Message | None, int] = (None, 0)
        self._charged = frozenset(Rule(name) for name in settings.charged_rejections)
        self._range_window = settings.range.window_s * 1000
        table: dict[str, Check] = {
            Rule.ACCOUNT.value: self._account, Rule.BLACKLIST.value: self._blacklist,
            Rule.SIGNATURE.value: self._signature, Rule.CONTENT.value: self._content,
            Rule.RANGE.value: self._range, Rule.FREQUENCY.value: self._frequency,
            Rule.DUPLICATE.value: self._duplicate, Rule.WINDOW.value: self._window,
        }  # fmt: skip
        self._checks = tuple(table[name] for name in settings.order)
        self._counts_frequency = Rule.FREQUENCY.value in settings.order
        self._counts_duplicates = Rule.DUPLICATE.value in settings.order

    # ------------------------------------------------------------------ indexes

    def _keyword_index(self, entries: Iterable[tuple[int, str, str]]) -> KeywordIndex:
        content = self.settings.content
        return KeywordIndex(entries, actions=content.actions, default_action=content.default_action)

    def load(
        self,
        *,
        accounts: Iterable[AccountInfo] | None = None,
        blacklist: BlacklistIndex | None = None,
        keywords: Iterable[tuple[int, str, str]] | KeywordIndex | None = None,
        signatures: SignatureBook | None = None,
        unsubscribe: Iterable[tuple[int, str]] | None = None,
        overrides: dict[str, AccountPolicy] | None = None,
    ) -> None:
        """Swap in freshly loaded indexes (what is None stays as it is)."""
        if accounts is not None:
            self.accounts = {info.id: info for info in accounts}
            self._rules.clear()
        if overrides is not None:
            self.overrides = dict(overrides)
            self._rules.clear()
        if blacklist is not None:
            self.blacklist = blacklist
        if keywords is not None:
            self.keywords = keywords if isinstance(keywords, KeywordIndex) else self._keyword_index(keywords)
        if signatures is not None:
            self.signatures = signatures
        if unsubscribe is not None:
            self.unsubscribe = UnsubscribeWords(self.settings.unsubscribe.words, unsubscribe)

    def set_override(self, login: str, policy: AccountPolicy | None) -> None:
        """Per-account rules at run time (``None`` removes them)."""
        if policy is None:
            self.overrides.pop(login, None)
        else:
            self.overrides[login] = policy
        self._rules.clear()

    def rules(self, account: Account) -> AccountRules:
        rules = self._rules.get(account.id)
        if rules is None:
            enterprise = self.accounts.get(account.enterprise_id) if account.parent_id is not None else None
            rules = self.settings.rules_for(account.login, enterprise.login if enterprise else None, self.overrides)
            self._rules[account.id] = rules
        return rules

    def charges(self, rule: Rule) -> bool:
        """Whether a message this rule refuses keeps its charge."""
        return rule in self._charged

    def enterprise_of(self, account_id: int) -> int:
        info = self.accounts.get(account_id)
        return account_id if info is None else info.enterprise_id

    # ------------------------------------------------------------------ the decision

    def decide(self, account: Account, message: Message, now_ms: int) -> Message:
        rules = self._rules.get(account.id) or self.rules(account)
        review: Verdict | None = None
        hold: Verdict | None = None
        flags: list[Verdict] = []
        for check in self._checks:
            verdict = check(account, message, now_ms, rules)
            if verdict is None:
                continue
            action = verdict.action
            if action is Action.REJECT:
                return attrs.evolve(message, state=_REJECTED, hold_reason=None, due_at=None, reason=verdict.reason,
                                    charge=message.charge if verdict.rule in self._charged else 0)
            if action is Action.REVIEW:
                review = review or verdict
            elif action is Action.HOLD:
                hold = verdict
            else:
                flags.append(verdict)
        self._record(account, message, now_ms, rules)
        if review is None and hold is None and not flags:
            return message
        notes = "; ".join(v.reason for v in ([review] if review else []) + ([hold] if hold else []) + flags)
        if len(notes) > 128:
            notes = notes[:127] + "…"
        if review is not None:
            return attrs.evolve(message, state=_HELD, hold_reason=HoldReason.REVIEW, due_at=None, reason=notes)
        if hold is not None:
            return attrs.evolve(message, state=_HELD, hold_reason=HoldReason.WINDOW, due_at=hold.until, reason=notes)
        return attrs.evolve(message, state=_QUEUED, reason=notes)

    def _record(self, account: Account, message: Message, now_ms: int, rules: AccountRules) -> None:
        if self._counts_frequency and rules.limits_frequency:
            self.frequency.record(account.id, message.dest_addr, now_ms)
        if self._counts_duplicates and rules.duplicates is not DuplicateMode.OFF:
            checked, key = self._duplicate_key
            if checked is not message:
                key = DuplicateIndex.key(message.enterprise_id, message.dest_addr, message.text)
            self.duplicates.record(key, now_ms)

    # ------------------------------------------------------------------ the rules

    def _account(self, account: Account, message: Message, now_ms: int, rules: AccountRules) -> Verdict | None:
        info = self.accounts.get(account.id)
        status = account.status if info is None else info.status
        if status is not _ACTIVE:
            return Verdict(Rule.ACCOUNT, Action.REJECT, f"account is {status.value}")
        if account.parent_id is not None:
            enterprise = self.accounts.get(account.parent_id)
            if enterprise is not None and enterprise.status is not _ACTIVE:
                return Verdict(Rule.ACCOUNT, Action.REJECT, f"enterprise is {enterprise.status.value}")
        return None

    def _blacklist(self, account: Account, message: Message, now_ms: int, rules: AccountRules) -> Verdict | None:
        scope = self.blacklist.listed(message.dest_addr, message.enterprise_id)
        if scope is None:
            return None
        where = "the global blacklist" if scope == 0 else "the enterprise's blacklist"
        return Verdict(Rule.BLACKLIST, Action.REJECT, f"{message.dest_addr} is on {where}")

    def _signature(self, account: Account, message: Message, now_ms: int, rules: AccountRules) -> Verdict | None:
        text = message.text
        if text is None or not self.settings.signature.required:
            return None
        name = find_signature(text)
        if name is not None:
            if self.signatures.is_verified(message.enterprise_id, name):
                return None
            return Verdict(Rule.SIGNATURE, Action.REJECT, f"{OPEN}{name}{CLOSE} is not verified for this enterprise")
        if self.signatures.default(message.enterprise_id) is None:
            return Verdict(Rule.SIGNATURE, Action.REJECT, "no signature, and none verified for this enterprise")
        return None

    def _content(self, account: Account, message: Message, now_ms: int, rules: AccountRules) -> Verdict | None:
        if message.text is None:
            return None
        match = self.keywords.search(message.text, message.enterprise_id)
        if match is None:
            return None
        action = Action.REJECT if match.action is ContentAction.REJECT else Action.REVIEW
        return Verdict(Rule.CONTENT, action, f"keyword {match.word!r} ({match.category})")

    def _range(self, account: Account, message: Message, now_ms: int, rules: AccountRules) -> Verdict | None:
        run = rules.range_run
        if run <= 1:
            return None
        length = self.ranges.observe(account.id, message.dest_addr, now_ms, run, self._range_window)
        if length < run:
            return None
        return Verdict(Rule.RANGE, Action.REJECT,
                       f"{run} consecutive numbers within {self._range_window // 1000} s (number-block sweep)")

    def _frequency(self, account: Account, message: Message, now_ms: int, rules: AccountRules) -> Verdict | None:
        if not rules.limits_frequency:
            return None
        which = self.frequency.exceeded(account.id, message.dest_addr, now_ms, rules.per_minute, rules.per_hour,
                                        rules.per_day)  # fmt: skip
        if which is None:
            return None
        limit = {"minute": rules.per_minute, "hour": rules.per_hour, "day": rules.per_day}[which]
        return Verdict(Rule.FREQUENCY, Action.REJECT, f"{limit} per {which} to {message.dest_addr} already sent")

    def _duplicate(self, account: Account, message: Message, now_ms: int, rules: AccountRules) -> Verdict | None:
        mode = rules.duplicates
        if mode is DuplicateMode.OFF:
            return None
        key = DuplicateIndex.key(message.enterprise_id, message.dest_addr, message.text)
        self._duplicate_key = (message, key)  # for ``_record`` of this same message, soon after
        last = self.duplicates.last_seen(key, now_ms)
        if last is None:
            return None
        hours = self.duplicates.window_ms / 3_600_000
        if mode is DuplicateMode.SUPPRESS:
            return Verdict(Rule.DUPLICATE, Action.REJECT, f"same text to this number within {hours:g} h, suppressed")
        return Verdict(Rule.DUPLICATE, Action.FLAG, f"same text to this number within {hours:g} h, sent")

    def _window(self, account: Account, message: Message, now_ms: int, rules: AccountRules) -> Verdict | None:
        send_at = now_ms if message.due_at is None or message.due_at < now_ms else message.due_at
        until = rules.window.held_until(send_at)
        if until is None:
            return None
        return Verdict(Rule.WINDOW, Action.HOLD, f"outside the send window, released {_china(until)}", until)

    def check_text(self, account: Account, message: Message, now_ms: int) -> Verdict | None:
        """Only the rules that read the text (signature, content), recording nothing: for a
        text replaced after acceptance (replace_sm), which must not dodge them."""
        rules = self._rules.get(account.id) or self.rules(account)
        for name, check in ((Rule.SIGNATURE.value, self._signature), (Rule.CONTENT.value, self._content)):
            if name in self.settings.order:
                verdict = check(account, message, now_ms, rules)
                if verdict is not None:
                    return verdict
        return None

    # ------------------------------------------------------------------ after acceptance

    def balance_alert(self, message: Message, balance: int) -> tuple[str, str] | None:
        """(reserved phone, text) when this accepted message's charge took its enterprise
        below its low-balance threshold; None otherwise."""
        settings = self.settings.low_balance
        info = self.accounts.get(message.enterprise_id)
        if not settings.enabled or info is None:
            return None
        crossed = self.low_balance.observe(info.id, balance, message.charge, info.low_balance_threshold)
        if not crossed or not info.reserved_phone or info.low_balance_threshold is None:
            return None
        return info.reserved_phone, alert_text(settings.text, settings.signature, balance, info.low_balance_threshold)

    def rules_of(self, account_id: int) -> AccountRules:
        """``rules`` by account id (an account the indexes do not know gets the globals)."""
        rules = self._rules.get(account_id)
        if rules is None:
            info = self.accounts.get(account_id)
            if info is None:
                return self._globals
            rules = self.rules(Account(id=account_id, login=info.login, parent_id=info.parent_id))
        return rules

    def window_release(self, account_id: int, now_ms: int) -> int | None:
        """When a message of this account may go out if it were sent now (approved, or claimed by
        the dispatcher): None for now, else its release time.  A dict lookup and some arithmetic."""
        return self.rules_of(account_id).window.held_until(now_ms)

    def refunds(self) -> tuple[frozenset[MessageState], dict[int, frozenset[MessageState]]]:
        """The refund rule for everyone, and the accounts whose own (or whose enterprise's) differs."""
        default = self._globals.refund
        named = {login for login, policy in (*self.settings.accounts.items(), *self.overrides.items())
                 if policy.refund is not None}
        own: dict[int, frozenset[MessageState]] = {}
        if not named:
            return default, own
        for info in self.accounts.values():
            enterprise = self.accounts.get(info.enterprise_id)
            if info.login in named or (enterprise is not None and enterprise.login in named):
                refund = self.rules_of(info.id).refund
                if refund != default:
                    own[info.id] = refund
        return default, own
