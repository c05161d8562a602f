"""The administrators' ways into the policies, one each for the manhole and the web centre alike.

Both front ends decide reviews and change per-account rules through these
functions, so they cannot drift apart: with the policy service running
(``pipeline.policies.PolicyService``, as in the gateway), it decides — it
knows each account's send window and what the contract charges, and keeps
its in-memory rules in step at once; without one (a gateway without
policies, or a tool), the store is written directly and a policy service
elsewhere sees the change at its next look at the audit log.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred

from smsgw.domain.model import Account
from smsgw.policy.settings import AccountPolicy
from smsgw.store.account_policy import SetAccountPolicy


def review_message(store: Any, policies: Any, message_id: int, approve: bool, actor: str, now_ms: int,
                   note: str | None = None, refund: bool | None = None) -> Deferred[Any]:
    """Decide on a message held for review.  Approved, it goes out — or, while its account's
    window is closed, waits held for the window; refused, it is charged as the contract says
    unless ``refund``.  Without the policy service there is no window to wait for (nothing was
    held for one).  Fires with the message's new state; None (or the store's NotFound) when
    there is no such message."""
    if policies is not None:
        return policies.review(message_id, approve, actor, note, refund)  # type: ignore[no-any-return]
    return store.review(message_id, approve, now_ms, actor, note, bool(refund))  # type: ignore[no-any-return]


def set_account_rules(store: Any, policies: Any, account: Account, actor: str, changes: dict[str, Any],
                      now_ms: int, replace: bool = False) -> Deferred[dict[str, Any]]:
    """Change an account's own rules (``policy.settings.AccountPolicy`` keys; a value of None
    removes one; ``replace``: these and no others), kept in the store.  Fires with the
    account's own rules as they are now; a bad key or value fails with ValueError before
    anything is written."""
    if policies is not None:
        d: Deferred[Any] = policies.set_account_policy(account, actor, changes, replace)
        return d.addCallback(lambda own: own.changes() if own is not None else {})
    checked = AccountPolicy.from_changes({key: value for key, value in changes.items() if value is not None})
    values = tuple(sorted((key, checked.changes().get(key)) for key in changes))
    return store.run(SetAccountPolicy(account.id, values, now_ms, actor, replace))  # type: ignore[no-any-return]
