"""The [policy] section from TOML, through the configuration's own builder."""

from __future__ import annotations

import tomllib

import pytest

from smsgw.app.settings import ConfigError, build
from smsgw.domain.model import MessageState
from smsgw.policy.settings import AccountPolicy, ContentAction, DuplicateMode, PolicySettings

TOML = """
order = ["account", "blacklist", "signature", "content", "duplicate", "window"]
charged_rejections = ["content", "duplicate"]
[window]
open = "08:00"
close = "21:00"
release = "08:30"
[content]
actions = { reject = "reject", review = "review", ads = "review" }
default_action = "review"
[duplicates]
mode = "suppress"
window_s = 3600
[frequency]
per_minute = 1
per_day = 10
[unsubscribe]
words = ["TD", "退订"]
[accounts.demo]
window_open = "00:00"
window_close = "24:00"
[accounts.bulk]
duplicates = "flag"
per_day = 0
"""


def test_the_section_builds() -> None:
    settings = build(PolicySettings, tomllib.loads(TOML), "smsgw.toml", "policy")
    assert settings.window.open == "08:00" and settings.content.actions["ads"] is ContentAction.REVIEW
    assert settings.duplicates.mode is DuplicateMode.SUPPRESS and settings.unsubscribe.words == ("TD", "退订")
    demo = settings.rules_for("demo")
    assert demo.window.always and demo.duplicates is DuplicateMode.SUPPRESS and demo.per_day == 10
    bulk = settings.rules_for("bulk")
    assert bulk.duplicates is DuplicateMode.FLAG and bulk.per_day == 0 and bulk.per_minute == 1
    assert not bulk.window.always and settings.rules_for("bulk-sub", "bulk").duplicates is DuplicateMode.FLAG


def test_defaults_are_the_contract() -> None:
    rules = PolicySettings().rules_for("anyone")
    assert (rules.window.open, rules.window.close, rules.window.release) == (420, 1350, 485)
    assert rules.duplicates is DuplicateMode.FLAG and rules.range_run == 20 and not rules.limits_frequency


@pytest.mark.parametrize("text, key", [
    ('[window]\nopen = "7am"', "policy"),
    ('order = ["window", "nope"]', "policy"),
    ('[duplicates]\nmode = "maybe"', "policy.duplicates.mode"),
    ('[accounts.x]\nwindow_close = "25:00"', "policy"),
    ('[frequency]\nper_week = 3', "policy.frequency.per_week"),
])
def test_mistakes_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        build(PolicySettings, tomllib.loads(text), "smsgw.toml", "policy")
    assert info.value.key.startswith(key), info.value


def test_refund_rule_globally_and_per_account() -> None:
    text = 'refund = ["rejected", "undelivered"]\n[accounts.strict]\nrefund = []\n[accounts.kind]\nrefund = ["expired"]'
    settings = build(PolicySettings, tomllib.loads(text), "smsgw.toml", "policy")
    assert settings.rules_for("anyone").refund == {MessageState.REJECTED, MessageState.UNDELIVERED}
    assert settings.rules_for("strict").refund == frozenset()  # nothing is given back
    assert settings.rules_for("kind-sub", "kind").refund == {MessageState.EXPIRED}  # the enterprise's
    assert PolicySettings().rules_for(None).refund == {MessageState.REJECTED}  # the default: carrier refusals
    for bad in ('refund = ["delivered"]', '[accounts.x]\nrefund = ["lost"]'):
        with pytest.raises(ConfigError) as info:
            build(PolicySettings, tomllib.loads(bad), "smsgw.toml", "policy")
        assert "not a final failure" in info.value.reason


def test_account_policy_round_trips_through_plain_values() -> None:
    policy = AccountPolicy(window_open="08:00", duplicates=DuplicateMode.SUPPRESS, refund=("undelivered",), per_day=3)
    values = policy.changes()
    assert values == {"window_open": "08:00", "duplicates": "suppress", "refund": ["undelivered"], "per_day": 3}
    assert AccountPolicy.from_changes(values) == policy
    for bad in ({"per_week": 1}, {"duplicates": "maybe"}, {"per_day": "3"}, {"per_day": -1}, {"refund": "undelivered"},
                {"window_close": "25:00"}, {"window_open": 8}):
        with pytest.raises(ValueError):
            AccountPolicy.from_changes(bad)


def test_the_production_example_documents_the_refund_rule() -> None:
    from pathlib import Path

    from smsgw.app.config import PolicySection

    example = Path(__file__).resolve().parents[2] / "config" / "production.example.toml"
    table = tomllib.loads(example.read_text(encoding="utf-8"))["policy"]
    section = build(PolicySection, table, str(example), "policy")
    assert section.refund == ("rejected",) and section.charged_rejections == ("content",)
    assert section.rules_for("acme").window.open == 420
