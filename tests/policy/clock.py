"""China wall-clock times as epoch milliseconds: the fake clock of the policy tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))
MINUTE = 60_000
HOUR = 3_600_000


def china(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, ms: int = 0) -> int:
    """Epoch milliseconds of a China Standard Time wall-clock moment."""
    return int(datetime(year, month, day, hour, minute, second, tzinfo=CHINA).timestamp() * 1000) + ms


def wall(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, CHINA).strftime("%Y-%m-%d %H:%M:%S")
