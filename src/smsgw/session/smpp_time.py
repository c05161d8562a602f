"""SMPP time strings (spec 7.1.1): parse and format absolute and relative times.

``"YYMMDDhhmmsstnnp"``: local date and time, ``t`` tenths of a second, ``nn``
the local time's offset from UTC in quarter hours (00-48) and ``p`` its sign:
``+`` ahead of UTC, ``-`` behind.  With ``p = "R"`` the same digits are a period
(years, months, days, hours, minutes, seconds) counted from the SMSC's current
time, and ``tnn`` is ignored (7.1.1.2).  An empty string means "not given".

Pure: the current time is passed in (``now``, timezone-aware).  Invalid strings
raise ``SmppTimeError``; when the caller names the field, the error carries the
command_status to answer (ESME_RINVSCHED for schedule_delivery_time,
ESME_RINVEXPIRY for validity_period).

Two-digit years: appendix C recommends a fixed 1938-2037 window; we take the
year nearest to ``now`` instead (within -50..+49 years), which agrees with the
appendix for every date a client sends today and does not break in 2038.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone
from typing import Mapping

import attrs

from smsgw.protocols.smpp34.status import CommandStatus

__all__ = [
    "FIELD_STATUS",
    "RelativeTime",
    "SmppTimeError",
    "format_absolute",
    "format_relative",
    "parse_absolute",
    "parse_relative",
    "parse_time",
]

#: the status answering an invalid time in each field
FIELD_STATUS: Mapping[str, int] = {
    "schedule_delivery_time": int(CommandStatus.ESME_RINVSCHED),
    "validity_period": int(CommandStatus.ESME_RINVEXPIRY),
}

_QUARTER = timedelta(minutes=15)
_MAX_QUARTERS = 48  # nn is 00-48 (7.1.1)


class SmppTimeError(ValueError):
    """A time string that is not a valid SMPP time; ``status`` is set when the field is known."""

    def __init__(self, reason: str, text: str, field: str | None = None):
        self.reason = reason
        self.text = text
        self.field = field
        self.status: int | None = FIELD_STATUS.get(field) if field else None
        where = f"{field} " if field else ""
        super().__init__(f"invalid SMPP time {where}{text!r}: {reason}")


@attrs.frozen
class RelativeTime:
    """A relative period as the client wrote it; years and months are calendar units."""

    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0

    def after(self, now: datetime) -> datetime:
        """The instant this period after ``now`` (a month after Jan 31 is the last day of February)."""
        months = now.month - 1 + self.months + 12 * self.years
        year, month = now.year + months // 12, months % 12 + 1
        if year > 9999:
            raise ValueError("period reaches beyond year 9999")
        day = min(now.day, calendar.monthrange(year, month)[1])
        moved = now.replace(year=year, month=month, day=day)
        return moved + timedelta(days=self.days, hours=self.hours, minutes=self.minutes, seconds=self.seconds)

    @classmethod
    def from_timedelta(cls, delta: timedelta) -> "RelativeTime":
        """Days, hours, minutes and seconds of ``delta`` (fractions of a second are dropped)."""
        if delta < timedelta(0):
            raise ValueError("a relative SMPP time cannot be negative")
        total = int(delta.total_seconds())
        days, rest = divmod(total, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, seconds = divmod(rest, 60)
        return cls(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _check_shape(text: str, field: str | None) -> None:
    if len(text) != 16:
        raise SmppTimeError(f"{len(text)} characters, expected 16", text, field)
    if not text[:15].isascii() or not text[:15].isdigit():
        raise SmppTimeError("the first 15 characters must be digits", text, field)
    if text[15] not in "+-R":
        raise SmppTimeError(f"last character {text[15]!r} is none of '+', '-', 'R'", text, field)


def _pairs(text: str) -> list[int]:
    return [int(text[i:i + 2]) for i in range(0, 12, 2)]


def _year_near(yy: int, now: datetime) -> int:
    year = now.year - now.year % 100 + yy
    if year > now.year + 49:
        year -= 100
    elif year < now.year - 50:
        year += 100
    return year


def parse_absolute(text: str, now: datetime, field: str | None = None) -> datetime:
    """An absolute time (``p`` is '+' or '-') as an aware datetime in the time's own offset."""
    _check_shape(text, field)
    if text[15] == "R":
        raise SmppTimeError("relative, expected an absolute time", text, field)
    yy, month, day, hour, minute, second = _pairs(text)
    tenths, quarters = int(text[12]), int(text[13:15])
    if quarters > _MAX_QUARTERS:
        raise SmppTimeError(f"UTC offset of {quarters} quarter hours is above 48", text, field)
    offset = quarters * _QUARTER * (1 if text[15] == "+" else -1)
    try:
        return datetime(_year_near(yy, now), month, day, hour, minute, second, tenths * 100_000, timezone(offset))
    except ValueError as x:
        raise SmppTimeError(str(x), text, field) from None


def parse_relative(text: str, field: str | None = None) -> RelativeTime:
    """A relative time (``p`` is 'R'); ``tnn`` is ignored as 7.1.1.2 says, units are not range-checked."""
    _check_shape(text, field)
    if text[15] != "R":
        raise SmppTimeError("absolute, expected a relative time", text, field)
    return RelativeTime(*_pairs(text))


def parse_time(text: str, now: datetime, field: str | None = None) -> datetime | None:
    """The instant an SMPP time stands for (``None`` for the empty string).

    ``now`` must be timezone-aware; relative times are counted from it.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if text == "":
        return None
    if text[-1:] == "R":
        period = parse_relative(text, field)
        try:
            return period.after(now)
        except (ValueError, OverflowError) as x:
            raise SmppTimeError(str(x), text, field) from None
    return parse_absolute(text, now, field)


def format_absolute(when: datetime) -> str:
    """``"YYMMDDhhmmsstnn+"`` in ``when``'s own offset (UTC if that offset is no whole quarter hour)."""
    offset = when.utcoffset()
    if offset is None:
        raise ValueError("when must be timezone-aware")
    if offset % _QUARTER or abs(offset) > _MAX_QUARTERS * _QUARTER:
        when, offset = when.astimezone(timezone.utc), timedelta(0)
    quarters = abs(offset) // _QUARTER
    sign = "-" if offset < timedelta(0) else "+"
    return f"{when:%y%m%d%H%M%S}{when.microsecond // 100_000}{quarters:02d}{sign}"


def format_relative(period: RelativeTime | timedelta) -> str:
    """``"YYMMDDhhmmss000R"``; a ``timedelta`` is written as days, hours, minutes, seconds."""
    if isinstance(period, timedelta):
        period = RelativeTime.from_timedelta(period)
    parts = (period.years, period.months, period.days, period.hours, period.minutes, period.seconds)
    if any(not 0 <= p <= 99 for p in parts):
        raise ValueError(f"{period} does not fit two digits per unit")
    return "".join(f"{p:02d}" for p in parts) + "000R"
