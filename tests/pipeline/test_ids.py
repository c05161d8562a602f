"""Message ids: unique, increasing, stable text form, safe across clock jumps and restarts."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from smsgw.domain import ids
from smsgw.domain.ids import EPOCH_MS, MAX_ID, MAX_SEQ, IdGenerator

T = 1_767_225_600_000  # 2026-01-01


class Clock:
    def __init__(self, now: int = T) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def test_layout() -> None:
    gen = IdGenerator(Clock(), node=5)
    first = gen.next()
    assert ids.time_of(first) == T and ids.node_of(first) == 5 and first & MAX_SEQ == 0
    assert gen.next() == first + 1
    assert 0 < first < 2**63  # fits a signed BIGINT


def test_text_form() -> None:
    gen = IdGenerator(Clock(), node=1)
    value = gen.next()
    text = ids.to_text(value)
    assert text == format(value, "x") and text.islower() and len(text) <= 20
    assert ids.from_text(text) == value
    for bad in ("", "0x10", "ABC", "00ff", "g", "1" * 17, " 1"):
        with pytest.raises(ValueError):
            ids.from_text(bad)
    with pytest.raises(ValueError):
        ids.to_text(-1)


@given(st.lists(st.integers(min_value=-5_000, max_value=5_000), min_size=1, max_size=300))
def test_strictly_increasing_whatever_the_clock_does(steps: list[int]) -> None:
    clock = Clock()
    gen = IdGenerator(clock, node=3)
    issued = [gen.next()]
    for step in steps:
        clock.now += step  # forwards, backwards, standing still
        issued.append(gen.next())
    assert all(a < b for a, b in zip(issued, issued[1:]))
    assert {ids.node_of(i) for i in issued} == {3}


def test_sequence_overflow_borrows_the_next_millisecond() -> None:
    gen = IdGenerator(Clock(), node=0)
    issued = [gen.next() for _ in range(MAX_SEQ + 3)]
    assert len(set(issued)) == len(issued)
    assert ids.time_of(issued[-1]) == T + 1
    assert issued == sorted(issued)


def test_restart_with_the_clock_behind_uses_the_floor() -> None:
    before = IdGenerator(Clock(T + 60_000), node=2)
    last = [before.next() for _ in range(10)][-1]
    # restarted, the clock stepped back a minute; the store hands the floor in
    after = IdGenerator(Clock(T), node=2, floor=last)
    assert after.next() > last
    # another node's newer id as the floor works the same way
    other = IdGenerator(Clock(T), node=9, floor=last)
    assert other.next() > last


def test_nodes_do_not_collide() -> None:
    clock = Clock()
    a, b = IdGenerator(clock, node=1), IdGenerator(clock, node=2)
    assert not {a.next() for _ in range(1000)} & {b.next() for _ in range(1000)}


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        IdGenerator(Clock(), node=1024)
    with pytest.raises(ValueError):
        IdGenerator(Clock(EPOCH_MS - 1), node=0).next()
    with pytest.raises(ValueError):
        IdGenerator(Clock(), node=0, floor=MAX_ID + 1)
