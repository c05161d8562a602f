"""SMPP absolute and relative times (spec 7.1.1)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from smsgw.protocols.smpp34.status import CommandStatus
from smsgw.session.smpp_time import (
    RelativeTime,
    SmppTimeError,
    format_absolute,
    format_relative,
    parse_absolute,
    parse_relative,
    parse_time,
)

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 1, 31, 10, 0, 0, tzinfo=BEIJING)


def test_empty_means_not_given() -> None:
    assert parse_time("", NOW) is None


def test_absolute_with_offset() -> None:
    # 32 quarter hours ahead of UTC = UTC+8
    t = parse_time("260315083000532+", NOW)
    assert t == datetime(2026, 3, 15, 8, 30, 0, 500_000, tzinfo=BEIJING)
    assert t is not None and t.utcoffset() == timedelta(hours=8)
    west = parse_absolute("261231235959900-", NOW)  # UTC-0, written with '-'
    assert west == datetime(2026, 12, 31, 23, 59, 59, 900_000, tzinfo=timezone.utc)
    assert parse_absolute("260101000000018-", NOW).utcoffset() == timedelta(hours=-4, minutes=-30)


def test_relative_is_counted_from_now() -> None:
    # the spec's example: 2 years, 6 months, 10 days, 23:34:29
    assert parse_relative("020610233429000R") == RelativeTime(2, 6, 10, 23, 34, 29)
    assert parse_time("000001000000000R", NOW) == NOW + timedelta(days=1)
    # a month after 31 January is the last day of February
    assert parse_time("000100000000000R", NOW) == datetime(2026, 2, 28, 10, 0, tzinfo=BEIJING)
    # units are durations, not clock fields: 72 hours is fine; tnn is ignored
    assert parse_time("000000720000123R", NOW) == NOW + timedelta(hours=72)


def test_two_digit_years_nearest_to_now() -> None:
    assert parse_absolute("991231000000000+", NOW).year == 1999
    assert parse_absolute("370101000000000+", NOW).year == 2037
    assert parse_absolute("750101000000000+", NOW).year == 2075  # appendix C would say 1975
    assert parse_absolute("760101000000000+", NOW).year == 1976
    later = datetime(2090, 1, 1, tzinfo=timezone.utc)
    assert parse_absolute("050101000000000+", later).year == 2105


@pytest.mark.parametrize(
    "text, reason",
    [
        ("2603150830005", "13 characters"),
        ("2603150830005320+", "17 characters"),
        ("2603150830005+", "14 characters"),
        ("26031508300053a+", "digits"),
        ("260315083000532*", "none of"),
        ("261315083000532+", "month"),
        ("260230083000532+", "day"),
        ("260315243000532+", "hour"),
        ("260315086000532+", "minute"),
        ("260315083000549+", "above 48"),
        ("260315083000\u00b232+", "digits"),
    ],
)
def test_invalid_strings(text: str, reason: str) -> None:
    with pytest.raises(SmppTimeError) as caught:
        parse_time(text, NOW, "schedule_delivery_time")
    err = caught.value
    assert reason in err.reason
    assert (err.text, err.field, err.status) == (text, "schedule_delivery_time", CommandStatus.ESME_RINVSCHED)


def test_status_follows_the_field() -> None:
    with pytest.raises(SmppTimeError) as caught:
        parse_time("bad", NOW, "validity_period")
    assert caught.value.status == CommandStatus.ESME_RINVEXPIRY
    with pytest.raises(SmppTimeError) as caught:
        parse_time("bad", NOW)
    assert caught.value.status is None
    assert isinstance(caught.value, ValueError)


def test_wrong_kind() -> None:
    with pytest.raises(SmppTimeError):
        parse_relative("260315083000532+")
    with pytest.raises(SmppTimeError):
        parse_absolute("000001000000000R", NOW)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError):
        parse_time("000001000000000R", datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        format_absolute(datetime(2026, 1, 1))


def test_format() -> None:
    assert format_absolute(datetime(2026, 3, 15, 8, 30, 0, 560_000, tzinfo=BEIJING)) == "260315083000532+"
    newfoundland = timezone(timedelta(hours=-3, minutes=-30))
    assert format_absolute(datetime(2026, 3, 15, 8, 30, tzinfo=newfoundland)) == "260315083000014-"
    # an offset that is no whole quarter hour is written in UTC
    odd = datetime(2026, 3, 15, 8, 30, tzinfo=timezone(timedelta(minutes=10)))
    assert format_absolute(odd) == "260315082000000+"
    assert format_relative(timedelta(days=2, hours=3, minutes=4, seconds=5)) == "000002030405000R"
    assert format_relative(RelativeTime(years=1, months=2)) == "010200000000000R"
    with pytest.raises(ValueError):
        format_relative(timedelta(days=100))
    with pytest.raises(ValueError):
        format_relative(timedelta(seconds=-1))


_OFFSETS = st.integers(-48, 48).map(lambda q: timezone(q * timedelta(minutes=15)))


@given(st.datetimes(datetime(1977, 1, 1), datetime(2075, 12, 31)), _OFFSETS)
def test_absolute_roundtrip(naive: datetime, tz: timezone) -> None:
    when = naive.replace(microsecond=naive.microsecond // 100_000 * 100_000, tzinfo=tz)
    text = format_absolute(when)
    assert len(text) == 16
    back = parse_time(text, NOW)
    assert back == when and back is not None and back.utcoffset() == when.utcoffset()


@given(st.timedeltas(timedelta(0), timedelta(days=99, hours=23, minutes=59, seconds=59)))
def test_relative_roundtrip(delta: timedelta) -> None:
    delta = timedelta(seconds=int(delta.total_seconds()))
    assert parse_time(format_relative(delta), NOW) == NOW + delta


@given(st.text(max_size=20))
def test_anything_else_raises_only_smpp_time_error(text: str) -> None:
    try:
        parse_time(text, NOW, "validity_period")
    except SmppTimeError as e:
        assert e.status == CommandStatus.ESME_RINVEXPIRY
