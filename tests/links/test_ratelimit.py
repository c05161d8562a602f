"""The account's token bucket on a ``task.Clock``: steady rate, burst, throttle slow-down and recovery."""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock

from smsgw.net.links.ratelimit import RateLimiter


def sends_in(limiter: RateLimiter, clock: Clock, seconds: float, step: float = 0.001) -> int:
    """How many tokens a greedy sender gets in ``seconds`` of simulated time."""
    sent = 0
    end = clock.seconds() + seconds
    while clock.seconds() < end - 1e-9:
        wait = limiter.take()
        if wait == 0:
            sent += 1
            continue
        clock.advance(min(wait, end - clock.seconds()))
    return sent


def test_burst_then_steady_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(100, 10, clock)
    assert [limiter.take() for _ in range(10)] == [0.0] * 10
    assert limiter.take() == pytest.approx(0.01)
    # over ten simulated seconds: the burst plus 100 per second, no more
    assert sends_in(limiter, clock, 10.0) == pytest.approx(1000, abs=2)


def test_idle_time_saves_at_most_the_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(5, 3, clock)
    for _ in range(3):
        assert limiter.take() == 0
    clock.advance(3600)
    assert [limiter.take() == 0 for _ in range(4)] == [True, True, True, False]


def test_give_back() -> None:
    clock = Clock()
    limiter = RateLimiter(1, 1, clock)
    assert limiter.take() == 0
    assert limiter.take() > 0
    limiter.give_back()
    assert limiter.take() == 0


def test_throttle_halves_for_the_hold_period_then_recovers() -> None:
    clock = Clock()
    limiter = RateLimiter(100, 1, clock, factor=0.5, hold=10, floor=1)
    limiter.throttled(sent_at=0.0)
    assert limiter.rate == 50 and limiter.slow_until == 10
    assert sends_in(limiter, clock, 5.0) == pytest.approx(250, abs=2)
    clock.advance(5.01)
    assert limiter.rate == 100 and limiter.slow_until is None
    assert sends_in(limiter, clock, 1.0) == pytest.approx(100, abs=2)


def test_a_full_window_of_throttle_answers_halves_once() -> None:
    clock = Clock()
    limiter = RateLimiter(64, 1, clock, factor=0.5, hold=10, floor=1)
    clock.advance(1)
    for _ in range(16):  # 16 submits sent at t=0.5, all answered "too fast" at t=1
        limiter.throttled(sent_at=0.5)
    assert limiter.rate == 32
    clock.advance(2)
    limiter.throttled(sent_at=2.5)  # sent after the reduction and still too fast: halve again
    assert limiter.rate == 16 and limiter.slow_until == 13


def test_throttle_never_goes_below_the_floor() -> None:
    clock = Clock()
    limiter = RateLimiter(8, 1, clock, factor=0.5, hold=10, floor=3)
    for t in range(5):
        clock.advance(1)
        limiter.throttled(sent_at=clock.seconds())
    assert limiter.rate == 3
