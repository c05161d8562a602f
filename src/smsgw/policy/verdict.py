"""What a policy answers, and how its decision is written on the message record.

Each rule answers *pass* (None), or a ``Verdict``: reject, hold for review,
hold for the window (with a release time), or flag (sent, but marked).  The
reason stored on the message is ``"<rule>: <detail>"``, so that whoever
reads the record later — the SMPP answer table, the refund rule, the web
centre — knows which rule decided (``rule_of``).
"""

from __future__ import annotations

import enum

import attrs

#: the store's ``messages.reason`` column
REASON_LENGTH = 128


class Rule(str, enum.Enum):
    ACCOUNT = "account"  # the account or its enterprise is suspended or blacklisted
    BLACKLIST = "blacklist"
    SIGNATURE = "signature"
    CONTENT = "content"
    RANGE = "range"  # 号码段 sweep
    FREQUENCY = "frequency"
    DUPLICATE = "duplicate"
    WINDOW = "window"
    BALANCE = "balance"  # decided by the store at acceptance, listed for the answer tables


class Action(enum.Enum):
    REJECT = "reject"
    REVIEW = "review"  # held for an administrator
    HOLD = "hold"  # held for the window, until ``until``
    FLAG = "flag"  # goes out, with a note on its record


@attrs.frozen
class Verdict:
    rule: Rule
    action: Action
    detail: str
    until: int | None = None

    @property
    def reason(self) -> str:
        return reason(self.rule, self.detail)


def reason(rule: Rule, detail: str) -> str:
    text = f"{rule.value}: {detail}"
    return text if len(text) <= REASON_LENGTH else text[: REASON_LENGTH - 1] + "…"


_RULES = {rule.value: rule for rule in Rule}


def rule_of(text: str | None) -> Rule | None:
    """The rule that wrote a reason (None for reasons not written by a policy)."""
    if not text:
        return None
    head, sep, _ = text.partition(":")
    return _RULES.get(head) if sep else None


#: rules whose refusals are acknowledged: the client gets our message id, and a
#: failure receipt (stat REJECTD) follows — the contract says so for blacklisted
#: numbers, a suppressed duplicate is answered like one, and a content refusal is
#: charged, so the client needs an id to match the charge with.  Every other
#: refusal is answered in the submit response itself (``pipeline.policy_service``).
ACKNOWLEDGED = frozenset({Rule.BLACKLIST, Rule.DUPLICATE, Rule.CONTENT})

#: the ``err`` of those receipts, per rule (three digits, as receipt texts carry them)
RECEIPT_ERR = {Rule.BLACKLIST: "601", Rule.CONTENT: "602", Rule.DUPLICATE: "603"}
