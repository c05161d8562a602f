"""Token buckets and bind lockout, with time passed in."""

from __future__ import annotations

import pytest

from smsgw.policy.lockout import Lockout, LockoutRules
from smsgw.policy.rate import BucketMap, TokenBucket


def test_bucket_allows_rate_per_second_with_burst() -> None:
    b = TokenBucket(10)
    assert sum(b.take(0.0) for _ in range(20)) == 10
    assert not b.take(0.05)
    assert b.take(0.1)  # one token refilled after 0.1 s
    assert b.wait_time(0.1) == pytest.approx(0.1)


def test_bucket_never_exceeds_burst_after_idle() -> None:
    b = TokenBucket(5, burst=5)
    b.take(0.0)
    assert sum(b.take(1000.0) for _ in range(10)) == 5


def test_bucket_rate_change_applies_at_once() -> None:
    b = TokenBucket(100)
    b.set_rate(2)
    assert sum(b.take(0.0) for _ in range(10)) == 2


def test_bucket_map_per_key() -> None:
    m = BucketMap()
    assert [m.take("a", 1, 0.0), m.take("a", 1, 0.0), m.take("b", 1, 0.0)] == [True, False, True]
    with pytest.raises(ValueError):
        TokenBucket(0)


def test_lockout_after_limit_within_window_and_expiry() -> None:
    lock = Lockout(LockoutRules(limit=3, window=60, lock_for=300))
    assert not lock.failed("id:demo", 0) and not lock.failed("id:demo", 10)
    assert lock.failed("id:demo", 20)
    assert lock.locked("id:demo", 21) and lock.locked("id:demo", 319)
    assert not lock.locked("id:demo", 320)


def test_lockout_window_slides_and_success_clears() -> None:
    lock = Lockout(LockoutRules(limit=3, window=60, lock_for=300))
    lock.failed("k", 0)
    lock.failed("k", 10)
    assert not lock.failed("k", 100)  # the first two are older than the window
    lock.failed("k", 101)
    lock.succeeded("k")
    assert not lock.failed("k", 102)
    assert not lock.locked("k", 103)


def test_lockout_is_bounded() -> None:
    lock = Lockout(LockoutRules(limit=2, window=60, lock_for=10, max_keys=100))
    for i in range(1000):
        lock.failed(f"ip:{i}", 0)
    assert len(lock._failures) <= 100
