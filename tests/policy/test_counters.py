"""Duplicates, range blasting, frequency, low balance, release pacing — with times passed in."""

from __future__ import annotations

from smsgw.domain.model import YUAN
from smsgw.policy.duplicates import DuplicateIndex
from smsgw.policy.frequency import FrequencyLimiter
from smsgw.policy.low_balance import LowBalanceWatch, alert_text, yuan
from smsgw.policy.range_blast import RangeDetector
from smsgw.policy.release import ReleasePacer
from tests.policy.clock import HOUR, MINUTE, china

T0 = china(2024, 5, 1, 9, 0)


def test_duplicate_within_ten_hours_exactly() -> None:
    index = DuplicateIndex(10 * HOUR)
    key = DuplicateIndex.key(1, "13800000000", "你好")
    assert index.last_seen(key, T0) is None
    index.record(key, T0)
    assert index.last_seen(key, T0 + 10 * HOUR - 1) == T0
    assert index.last_seen(key, T0 + 10 * HOUR) is None
    assert index.last_seen(DuplicateIndex.key(2, "13800000000", "你好"), T0 + 1) is None  # another enterprise
    assert index.last_seen(DuplicateIndex.key(1, "13800000001", "你好"), T0 + 1) is None


def test_duplicates_survive_generation_changes_for_the_whole_window() -> None:
    index = DuplicateIndex(10 * HOUR)
    key = DuplicateIndex.key(1, "13800000000", "x")
    index.record(DuplicateIndex.key(1, "1", "start"), T0)
    index.record(key, T0 + 9 * HOUR)
    index.record(DuplicateIndex.key(1, "2", "rotate"), T0 + 10 * HOUR)  # a new generation begins
    assert index.last_seen(key, T0 + 18 * HOUR) == T0 + 9 * HOUR
    index.record(DuplicateIndex.key(1, "3", "rotate again"), T0 + 20 * HOUR)
    assert index.last_seen(key, T0 + 20 * HOUR) is None
    assert len(index) <= 2


def test_duplicate_memory_is_capped() -> None:
    index = DuplicateIndex(10 * HOUR, max_entries=100)
    for i in range(1000):
        index.record(DuplicateIndex.key(1, str(i), "t"), T0 + i)
    assert len(index) <= 100


def test_range_of_twenty_consecutive_numbers_in_any_order() -> None:
    detector = RangeDetector()
    base = 13812340000
    order = list(range(0, 20, 2)) + list(range(1, 20, 2))  # evens then odds: the run closes at the end
    lengths = [detector.observe(7, str(base + i), T0 + n, 20, 60_000) for n, i in enumerate(order)]
    assert max(lengths[:-1]) < 20 and lengths[-1] == 20
    assert detector.observe(8, str(base + 20), T0 + 30, 20, 60_000) == 1  # another account: its own window


def test_range_window_slides() -> None:
    detector = RangeDetector()
    base = 13812340000
    for i in range(19):
        detector.observe(7, str(base + i), T0 + i * 1000, 20, 60_000)
    # the first numbers have left the window by now: no run of 20
    assert detector.observe(7, str(base + 19), T0 + 61_000, 20, 60_000) < 20
    detector.forget_idle(T0 + 10 * MINUTE, 60_000)
    assert detector.observe(7, str(base + 20), T0 + 10 * MINUTE, 20, 60_000) == 1


def test_frequency_per_minute_hour_day_in_china_time() -> None:
    limiter = FrequencyLimiter()
    a, n = 3, "13800000000"
    for i in range(2):
        assert limiter.exceeded(a, n, T0 + i, 2, 3, 4) is None
        limiter.record(a, n, T0 + i)
    assert limiter.exceeded(a, n, T0 + 2, 2, 3, 4) == "minute"
    assert limiter.exceeded(a, n, T0 + MINUTE, 2, 3, 4) is None
    limiter.record(a, n, T0 + MINUTE)
    assert limiter.exceeded(a, n, T0 + 2 * MINUTE, 2, 3, 4) == "hour"
    limiter.record(a, n, T0 + HOUR)
    assert limiter.exceeded(a, n, T0 + HOUR + MINUTE, 2, 3, 4) == "day"
    assert limiter.exceeded(a, "13800000001", T0 + HOUR, 2, 3, 4) is None
    assert limiter.exceeded(a + 1, n, T0 + HOUR, 2, 3, 4) is None
    # the day starts again at China's midnight, not UTC's
    assert limiter.exceeded(a, n, china(2024, 5, 1, 23, 59), 0, 0, 4) == "day"
    assert limiter.exceeded(a, n, china(2024, 5, 2, 0, 0), 0, 0, 4) is None


def test_low_balance_alerts_once_per_crossing() -> None:
    watch = LowBalanceWatch()
    threshold = 100 * YUAN
    assert not watch.observe(1, 150 * YUAN, 10, threshold)
    assert watch.observe(1, 99 * YUAN, 10, threshold)  # crossed
    assert not watch.observe(1, 98 * YUAN, 10, threshold)  # still below: no second alert
    assert not watch.observe(1, 500 * YUAN, 10, threshold)  # recharged: armed again
    assert watch.observe(1, 50 * YUAN, 10, threshold)
    assert not watch.observe(1, 50 * YUAN, 10, None)  # no threshold, no alert


def test_low_balance_after_a_restart() -> None:
    watch = LowBalanceWatch()
    assert watch.observe(1, 99 * YUAN, 2 * YUAN, 100 * YUAN)  # this very charge crossed it
    watch = LowBalanceWatch()
    assert not watch.observe(2, 50 * YUAN, YUAN, 100 * YUAN)  # already below before: alerted back then


def test_alert_text_in_yuan() -> None:
    assert yuan(12_345_678) == "123.45" and yuan(-500_000) == "-5.00"
    text = alert_text("余额{balance}元，低于{threshold}元", "【平台】", 99 * YUAN, 100 * YUAN)
    assert text == "【平台】余额99.00元，低于100.00元"


def test_release_pacer_allows_a_rate_not_a_flood() -> None:
    pacer = ReleasePacer(100)
    assert pacer.allowance(0.0) == 100
    pacer.released(100)
    assert pacer.allowance(0.5) == 50
    pacer.released(50)
    assert pacer.allowance(100.0) == 100  # idle time does not pile up into a burst
    zero = ReleasePacer(0)
    assert zero.allowance(0.0) == 0 and zero.allowance(10.0) == 0
