"""China Standard Time (Asia/Shanghai, UTC+08:00) from epoch milliseconds.

The send window and the per-day limits are written in China's wall-clock time
whatever the server's timezone is.  China has kept UTC+8 without daylight
saving since 1991, so the conversion is a fixed offset: integer arithmetic on
milliseconds, no ``datetime`` and no dependence on the process's ``TZ``.
"""

from __future__ import annotations

OFFSET_MS = 8 * 3_600_000
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
MINUTES_PER_DAY = 1440


def local_minute(now_ms: int) -> int:
    """Minutes since local midnight (0-1439)."""
    return ((now_ms + OFFSET_MS) // MINUTE_MS) % MINUTES_PER_DAY


def local_day(now_ms: int) -> int:
    """Days since 1970-01-01 in local time: changes at local midnight."""
    return (now_ms + OFFSET_MS) // DAY_MS


def day_start(now_ms: int) -> int:
    """Epoch milliseconds of the local midnight that began the day of ``now_ms``."""
    return local_day(now_ms) * DAY_MS - OFFSET_MS


def at_local(day: int, minute: int) -> int:
    """Epoch milliseconds of local ``minute`` (0-1440) of local ``day`` (see ``local_day``)."""
    return day * DAY_MS - OFFSET_MS + minute * MINUTE_MS


def parse_hhmm(text: str) -> int:
    """"07:00" → 420; "24:00" is the end of the day (1440).  ValueError otherwise."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"expected HH:MM, got {text!r}")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > MINUTES_PER_DAY:
        raise ValueError(f"no such time of day: {text!r}")
    return value


def format_hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
