"""The state machine table (DESIGN.md §4) and the store's agreement with it."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from smsgw.domain.model import FINAL_STATES, MessageState, combine_part_states
from smsgw.pipeline import states
from smsgw.store.lifecycle import path_to

S = MessageState


def test_the_documented_path_and_rejections() -> None:
    happy = [S.ACCEPTED, S.HELD, S.QUEUED, S.SENDING, S.SUBMITTED]
    for current, target in zip(happy, happy[1:]):
        assert states.allowed(current, target)
    for final in (S.DELIVERED, S.UNDELIVERED, S.EXPIRED):
        assert states.allowed(S.SUBMITTED, final)
    # rejected from any state before submitted, never after
    assert states.sources(S.REJECTED) == {S.ACCEPTED, S.HELD, S.QUEUED, S.SENDING}
    assert states.reachable() == set(S)


def test_final_states_are_final() -> None:
    for state in S:
        assert states.is_final(state) == (state in FINAL_STATES)
        if state in FINAL_STATES:
            assert states.TRANSITIONS[state] == frozenset()


def test_check_refuses_what_the_table_does_not_allow() -> None:
    states.check(S.QUEUED, S.SENDING)
    with pytest.raises(states.InvalidTransition, match="from delivered to queued"):
        states.check(S.DELIVERED, S.QUEUED)
    with pytest.raises(states.InvalidTransition):
        states.check(S.SUBMITTED, S.REJECTED)
    with pytest.raises(states.InvalidTransition):
        states.check(S.ACCEPTED, S.SENDING)


def test_parts_may_do_what_messages_do_after_acceptance() -> None:
    for current, targets in states.TRANSITIONS.items():
        if current is not S.ACCEPTED:
            assert targets <= states.PART_TRANSITIONS[current]


def test_the_stores_shortcuts_are_paths_of_the_table() -> None:
    """Every (state, target) the store moves a message between goes by allowed steps.

    lifecycle.path_to fills in the steps a late record skipped (a report
    before the submit response); the pairs are those finalize and the
    submitted step ask for.  Held messages have no part at a carrier.
    """
    pairs = [(current, target) for current in (S.QUEUED, S.SENDING)
             for target in (S.SUBMITTED, S.DELIVERED, S.UNDELIVERED, S.EXPIRED, S.REJECTED)]  # fmt: skip
    pairs += [(S.HELD, S.EXPIRED), (S.HELD, S.REJECTED)]
    pairs += [(S.SUBMITTED, target) for target in (S.DELIVERED, S.UNDELIVERED, S.EXPIRED)]
    for current, target in pairs:
        path = path_to(current, target)
        assert path[-1] is target
        for a, b in zip([current, *path], path):
            assert states.allowed(a, b), (current, target, path)


@given(st.lists(st.sampled_from(sorted(FINAL_STATES, key=lambda s: s.value)), min_size=1, max_size=6))
def test_final_state_of_a_long_message(parts: list[MessageState]) -> None:
    final = states.final_state(parts)
    assert final is combine_part_states(parts)
    if set(parts) == {S.DELIVERED}:
        assert final is S.DELIVERED
    elif set(parts) == {S.REJECTED}:
        assert final is S.REJECTED
    elif S.UNDELIVERED in parts or S.REJECTED in parts:
        assert final is S.UNDELIVERED
    else:
        assert final is S.EXPIRED


def test_no_final_state_while_a_part_is_open() -> None:
    assert states.final_state([S.DELIVERED, S.SUBMITTED]) is None
    assert states.final_state([]) is None
