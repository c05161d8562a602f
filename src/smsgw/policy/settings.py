"""Policy settings: the ``[policy]`` section of the gateway's TOML file.

Global defaults for every rule, and per-account overrides under
``[policy.accounts.<login>]`` (a sub-account without its own entry takes its
enterprise's, then the global values).  The classes build with
``smsgw.app.settings.build``; ``PolicySettings.rules_for`` resolves what
applies to one account.  Lists, keywords, signatures and blacklists are not
here: they live in the store and change at run time (DESIGN.md §7).
"""

from __future__ import annotations

import enum
from typing import Any, Mapping

import attrs

from smsgw.domain.model import MessageState
from smsgw.policy.china_time import parse_hhmm
from smsgw.policy.verdict import Rule
from smsgw.policy.window import SendWindow


class DuplicateMode(str, enum.Enum):
    FLAG = "flag"  # sent, and marked as a duplicate on its record (the contract charges it)
    SUPPRESS = "suppress"  # not sent: refused with a failure receipt
    OFF = "off"


class ContentAction(str, enum.Enum):
    REJECT = "reject"
    REVIEW = "review"
    IGNORE = "ignore"


def _hhmm(_instance: object, _attribute: object, value: str | None) -> None:
    if value is not None:
        parse_hhmm(value)


#: the final failures a refund rule may name (a delivered message is never refunded)
REFUNDABLE = ("rejected", "undelivered", "expired")


def _refundable(_instance: object, _attribute: object, value: tuple[str, ...] | None) -> None:
    for name in value or ():
        if name not in REFUNDABLE:
            raise ValueError(f"refund: {name!r} is not a final failure (one of: {', '.join(REFUNDABLE)})")


def refund_states(names: tuple[str, ...]) -> frozenset[MessageState]:
    return frozenset(MessageState(name) for name in names)


#: cheap and decisive rules first; the window last (DESIGN.md §3: a fixed, configured order)
DEFAULT_ORDER = ("account", "blacklist", "signature", "content", "range", "frequency", "duplicate", "window")
DEFAULT_UNSUBSCRIBE = ("TD", "T", "退订", "N", "R", "取消")
DEFAULT_ALERT = "您的短信账户余额为{balance}元，已低于提醒金额{threshold}元，请及时充值。"


@attrs.frozen
class WindowSettings:
    open: str = attrs.field(default="07:00", validator=_hhmm)
    close: str = attrs.field(default="22:30", validator=_hhmm)
    release: str = attrs.field(default="08:05", validator=_hhmm)
    #: held messages released per second; 0: half of what the carrier links can take
    release_rate: float = 0.0
    #: share of the links' capacity that releasing held messages may use (the rest is for new traffic)
    release_share: float = 0.5
    #: seconds between looks for held messages whose time has come
    release_interval: float = 1.0


@attrs.frozen
class SignatureSettings:
    #: a message must carry a verified signature (or get its enterprise's default)
    required: bool = True


@attrs.frozen
class ContentSettings:
    #: keyword category (the store's keyword list name) → what a match does
    actions: dict[str, ContentAction] = attrs.field(
        factory=lambda: {"reject": ContentAction.REJECT, "review": ContentAction.REVIEW}
    )
    #: for categories not named in ``actions``
    default_action: ContentAction = ContentAction.REJECT


@attrs.frozen
class DuplicateSettings:
    mode: DuplicateMode = DuplicateMode.FLAG
    window_s: int = 10 * 3600
    #: memory bound: when more texts than this were seen within the window, the oldest are forgotten early
    max_entries: int = 4_000_000


@attrs.frozen
class RangeSettings:
    #: this many consecutive destination numbers within ``window_s`` is a 号码段 sweep; 0 turns the check off
    run: int = 20
    window_s: int = 60


@attrs.frozen
class FrequencySettings:
    """Messages per destination number per account; 0 is no limit.  Minutes, hours and
    days are China's calendar ones (the day count starts again at local midnight)."""

    per_minute: int = 0
    per_hour: int = 0
    per_day: int = 0


@attrs.frozen
class UnsubscribeSettings:
    #: an MO reply that is one of these (case, width, spaces and punctuation ignored) blacklists its sender
    words: tuple[str, ...] = DEFAULT_UNSUBSCRIBE


@attrs.frozen
class LowBalanceSettings:
    enabled: bool = True
    #: the alert text; {balance} and {threshold} are in yuan
    text: str = DEFAULT_ALERT
    #: put in front of the alert (the provider's own signature)
    signature: str = "【短信平台】"


@attrs.frozen
class AccountPolicy:
    """Per-account overrides; anything left out comes from the enterprise's entry, then the globals."""

    window_open: str | None = attrs.field(default=None, validator=_hhmm)
    window_close: str | None = attrs.field(default=None, validator=_hhmm)
    window_release: str | None = attrs.field(default=None, validator=_hhmm)
    duplicates: DuplicateMode | None = None
    range_run: int | None = None
    per_minute: int | None = None
    per_hour: int | None = None
    per_day: int | None = None
    #: final failures that give the charge back (``PolicySettings.refund``); [] refunds nothing
    refund: tuple[str, ...] | None = attrs.field(default=None, validator=_refundable)

    def over(self, base: AccountPolicy) -> AccountPolicy:
        """These values, with ``base``'s where these are unset."""
        return AccountPolicy(**{
            f.name: getattr(base, f.name) if getattr(self, f.name) is None else getattr(self, f.name)
            for f in attrs.fields(AccountPolicy)
        })  # fmt: skip

    def changes(self) -> dict[str, Any]:
        """The values set here, as plain TOML/JSON values (what the store keeps for an account)."""
        out: dict[str, Any] = {}
        for f in attrs.fields(AccountPolicy):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = list(value) if isinstance(value, tuple) else getattr(value, "value", value)
        return out

    @classmethod
    def from_changes(cls, values: Mapping[str, Any]) -> AccountPolicy:
        """The inverse of ``changes``; ValueError names an unknown key or a bad value."""
        known = {f.name for f in attrs.fields(AccountPolicy)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown account policy key {unknown[0]!r} (known: {', '.join(sorted(known))})")
        kwargs = dict(values)
        if kwargs.get("duplicates") is not None:
            kwargs["duplicates"] = DuplicateMode(kwargs["duplicates"])
        for key in ("window_open", "window_close", "window_release"):
            if kwargs.get(key) is not None and not isinstance(kwargs[key], str):
                raise ValueError(f"{key} is a time of day as HH:MM, not {kwargs[key]!r}")
        for key in ("range_run", "per_minute", "per_hour", "per_day"):
            value = kwargs.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{key} must be a whole number (0 or more), not {value!r}")
        if kwargs.get("refund") is not None:
            if not isinstance(kwargs["refund"], (list, tuple)):
                raise ValueError("refund is a list of states, e.g. ['rejected', 'undelivered']")
            kwargs["refund"] = tuple(kwargs["refund"])
        return cls(**kwargs)


#: the whole day: what the demo account gets
ALWAYS_OPEN = AccountPolicy(window_open="00:00", window_close="24:00", window_release="00:00")


@attrs.frozen
class AccountRules:
    """What applies to one account, resolved (see ``PolicySettings.rules_for``)."""

    window: SendWindow
    duplicates: DuplicateMode
    range_run: int
    per_minute: int
    per_hour: int
    per_day: int
    #: final states that give this account's charge back
    refund: frozenset[MessageState] = frozenset({MessageState.REJECTED})

    @property
    def limits_frequency(self) -> bool:
        return bool(self.per_minute or self.per_hour or self.per_day)


def _check_order(_instance: object, _attribute: object, value: tuple[str, ...]) -> None:
    known = {rule.value for rule in Rule}
    for name in value:
        if name not in known or name == Rule.BALANCE.value:
            raise ValueError(f"unknown policy {name!r} in order (known: {', '.join(DEFAULT_ORDER)})")
    if len(set(value)) != len(value):
        raise ValueError("a policy is named twice in order")


def _check_charged(_instance: object, _attribute: object, value: tuple[str, ...]) -> None:
    known = {rule.value for rule in Rule}
    for name in value:
        if name not in known:
            raise ValueError(f"unknown rule {name!r} in charged_rejections")


@attrs.frozen
class PolicySettings:
    #: the chain, in the order it runs; a policy left out is off
    order: tuple[str, ...] = attrs.field(default=DEFAULT_ORDER, validator=_check_order)
    #: rules whose refused messages keep their charge (the contract charges content-rule breaches)
    charged_rejections: tuple[str, ...] = attrs.field(default=("content",), validator=_check_charged)
    #: final failures (after acceptance) that give the charge back: "rejected" (the carrier refused),
    #: "undelivered", "expired".  A message refused for its content keeps its charge whatever this
    #: says (``charged_rejections``; an administrator's review refusal likewise)
    refund: tuple[str, ...] = attrs.field(default=("rejected",), validator=_refundable)
    #: seconds between full reloads of the in-memory indexes from the store
    refresh_interval: float = 600.0
    #: seconds between looks at the store's audit log for changes made elsewhere (other nodes, CLI)
    poll_interval: float = 2.0
    window: WindowSettings = attrs.field(factory=WindowSettings)
    signature: SignatureSettings = attrs.field(factory=SignatureSettings)
    content: ContentSettings = attrs.field(factory=ContentSettings)
    duplicates: DuplicateSettings = attrs.field(factory=DuplicateSettings)
    range: RangeSettings = attrs.field(factory=RangeSettings)
    frequency: FrequencySettings = attrs.field(factory=FrequencySettings)
    unsubscribe: UnsubscribeSettings = attrs.field(factory=UnsubscribeSettings)
    low_balance: LowBalanceSettings = attrs.field(factory=LowBalanceSettings)
    #: login → overrides
    accounts: dict[str, AccountPolicy] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        for login, policy in self.accounts.items():
            self.rules_for(login)  # every override must make a usable window

    def base(self) -> AccountPolicy:
        w, f = self.window, self.frequency
        return AccountPolicy(window_open=w.open, window_close=w.close, window_release=w.release,
                             duplicates=self.duplicates.mode, range_run=self.range.run,
                             per_minute=f.per_minute, per_hour=f.per_hour, per_day=f.per_day,
                             refund=self.refund)  # fmt: skip

    def rules_for(self, login: str | None, enterprise_login: str | None = None,
                  extra: Mapping[str, AccountPolicy] | None = None) -> AccountRules:
        """The rules for an account: its own overrides (``extra`` first, then the file's),
        then its enterprise's, then the globals."""
        policy = self.base()
        for name in (enterprise_login, login):
            if name is None:
                continue
            for source in (self.accounts, extra or {}):
                found = source.get(name)
                if found is not None:
                    policy = found.over(policy)
        assert policy.window_open and policy.window_close and policy.window_release and policy.duplicates
        return AccountRules(
            window=SendWindow.parse(policy.window_open, policy.window_close, policy.window_release),
            duplicates=policy.duplicates, range_run=policy.range_run or 0, per_minute=policy.per_minute or 0,
            per_hour=policy.per_hour or 0, per_day=policy.per_day or 0, refund=refund_states(policy.refund or ()),
        )  # fmt: skip
