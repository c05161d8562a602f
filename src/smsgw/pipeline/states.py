"""The message state machine: every allowed transition, in one table.

DESIGN.md §4::

    accepted → held(window | review) → queued → sending → submitted
             → delivered | undelivered | expired,   and rejected

Anything not in ``TRANSITIONS`` is an error (``InvalidTransition``).  Pure:
no clock, no store, no reactor.  The store writes transitions with guarded
UPDATEs and may only use the pairs listed here (tests/pipeline checks it).

Notes on the less obvious rows:

* queued → held: the send window closed, or a late review, before dispatch;
* sending → queued: a link dropped, a carrier asked to retry, or recovery
  after a crash — delivery towards the carrier is at-least-once;
* sending → expired: a carrier's EXPIRED report for a part whose submit
  response is not recorded yet;
* rejected is reachable from every state before submitted (policy at
  acceptance, an administrator's review, the carrier's refusal).
"""

from __future__ import annotations

from typing import Iterable, Mapping

from smsgw.domain.model import FINAL_STATES, MessageState, combine_part_states

S = MessageState

TRANSITIONS: Mapping[MessageState, frozenset[MessageState]] = {
    S.ACCEPTED: frozenset({S.HELD, S.QUEUED, S.REJECTED}),
    S.HELD: frozenset({S.QUEUED, S.REJECTED, S.EXPIRED}),
    S.QUEUED: frozenset({S.HELD, S.SENDING, S.REJECTED, S.EXPIRED}),
    S.SENDING: frozenset({S.QUEUED, S.SUBMITTED, S.REJECTED, S.EXPIRED}),
    S.SUBMITTED: frozenset({S.DELIVERED, S.UNDELIVERED, S.EXPIRED}),
    S.DELIVERED: frozenset(),
    S.UNDELIVERED: frozenset(),
    S.EXPIRED: frozenset(),
    S.REJECTED: frozenset(),
}

# What a part (segment) may do; a part is never "accepted" on its own, and a
# part's report may end it from sending when the submit response is late.
PART_TRANSITIONS: Mapping[MessageState, frozenset[MessageState]] = {
    S.HELD: frozenset({S.QUEUED, S.REJECTED, S.EXPIRED}),
    S.QUEUED: frozenset({S.HELD, S.SENDING, S.REJECTED, S.EXPIRED, S.SUBMITTED, S.DELIVERED, S.UNDELIVERED}),
    S.SENDING: frozenset({S.QUEUED, S.SUBMITTED, S.REJECTED, S.EXPIRED, S.DELIVERED, S.UNDELIVERED}),
    S.SUBMITTED: frozenset({S.DELIVERED, S.UNDELIVERED, S.EXPIRED, S.REJECTED}),
    S.DELIVERED: frozenset(),
    S.UNDELIVERED: frozenset(),
    S.EXPIRED: frozenset(),
    S.REJECTED: frozenset(),
}


class InvalidTransition(Exception):
    """A caller asked for a transition the table does not allow (a local bug)."""

    def __init__(self, current: MessageState, target: MessageState) -> None:
        super().__init__(f"a message cannot go from {current.value} to {target.value}")
        self.current = current
        self.target = target


def allowed(current: MessageState, target: MessageState) -> bool:
    return target in TRANSITIONS[current]


def check(current: MessageState, target: MessageState) -> None:
    if not allowed(current, target):
        raise InvalidTransition(current, target)


def sources(target: MessageState) -> frozenset[MessageState]:
    """Every state from which ``target`` can be reached in one step."""
    return frozenset(state for state, targets in TRANSITIONS.items() if target in targets)


def is_final(state: MessageState) -> bool:
    return state in FINAL_STATES


def final_state(parts: Iterable[MessageState]) -> MessageState | None:
    """A long message's final state from its parts' (None while one is open)."""
    return combine_part_states(parts)


def reachable(start: MessageState = S.ACCEPTED) -> frozenset[MessageState]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return frozenset(seen)
