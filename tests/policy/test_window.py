"""The send window in China time, whatever the process's timezone: 07:00-22:30, release 08:05."""

from __future__ import annotations

import os
import time
from typing import Iterator

import pytest

from smsgw.policy import china_time
from smsgw.policy.window import SendWindow
from tests.policy.clock import china, wall

W = SendWindow.parse("07:00", "22:30", "08:05")


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Shanghai", "Pacific/Kiritimati"])
def tz(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run under several process timezones: the answers must not change."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_boundaries_are_china_time(tz: str) -> None:
    assert W.held_until(china(2024, 5, 1, 7, 0)) is None  # 07:00 is inside
    assert W.held_until(china(2024, 5, 1, 22, 29, 59, 999)) is None
    assert W.held_until(china(2024, 5, 1, 12, 0)) is None
    # 22:30 is outside: released at 08:05 the next day
    assert wall(W.held_until(china(2024, 5, 1, 22, 30)) or 0) == "2024-05-02 08:05:00"
    assert wall(W.held_until(china(2024, 5, 1, 23, 59, 59)) or 0) == "2024-05-02 08:05:00"
    # after midnight: released the same morning
    assert wall(W.held_until(china(2024, 5, 2, 0, 0)) or 0) == "2024-05-02 08:05:00"
    assert wall(W.held_until(china(2024, 5, 2, 6, 59, 59, 999)) or 0) == "2024-05-02 08:05:00"


def test_release_across_month_and_year_end(tz: str) -> None:
    assert wall(W.held_until(china(2024, 12, 31, 23, 0)) or 0) == "2025-01-01 08:05:00"
    assert wall(W.held_until(china(2024, 2, 28, 22, 45)) or 0) == "2024-02-29 08:05:00"


def test_local_minute_and_day_do_not_depend_on_tz(tz: str) -> None:
    ms = china(2024, 7, 15, 0, 30)
    assert china_time.local_minute(ms) == 30
    assert china_time.day_start(ms) == china(2024, 7, 15)
    assert china_time.local_day(ms - 31 * 60_000) == china_time.local_day(ms) - 1


def test_always_open_and_windows_across_midnight() -> None:
    always = SendWindow.parse("00:00", "24:00", "00:00")
    assert always.always and always.held_until(china(2024, 5, 1, 3, 0)) is None
    night = SendWindow.parse("22:00", "06:00", "23:00")
    assert night.held_until(china(2024, 5, 1, 23, 0)) is None
    assert night.held_until(china(2024, 5, 1, 5, 59)) is None
    assert wall(night.held_until(china(2024, 5, 1, 6, 0)) or 0) == "2024-05-01 23:00:00"


def test_release_outside_the_window_uses_the_opening() -> None:
    odd = SendWindow.parse("09:00", "18:00", "08:05")
    assert wall(odd.held_until(china(2024, 5, 1, 19, 0)) or 0) == "2024-05-02 09:00:00"


@pytest.mark.parametrize("bad", ["7", "07:60", "25:00", "ab:cd", "07:0"])
def test_bad_times_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        SendWindow.parse(bad, "22:30", "08:05")


def test_a_window_that_opens_when_it_closes_is_refused() -> None:
    with pytest.raises(ValueError):
        SendWindow.parse("07:00", "07:00", "08:05")
