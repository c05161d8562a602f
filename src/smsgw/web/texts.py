"""Small conversions the web centre and API share: times, money, MO text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from smsgw.domain.coding import Coding, CodingError, decode, from_smpp_data_coding
from smsgw.domain.model import YUAN
from smsgw.domain.udh import UdhError, parse_concat


def iso(ms: int | None) -> str | None:
    """RFC 3339 in UTC with milliseconds, as the API writes times."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> int:
    """Milliseconds of an RFC 3339 time (a zone is required); ValueError otherwise."""
    when = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if when.tzinfo is None:
        raise ValueError("a time zone is required")
    return int(when.timestamp() * 1000)


def local(ms: int | None, tz: timezone, with_seconds: bool = True) -> str:
    if ms is None:
        return ""
    when = datetime.fromtimestamp(ms / 1000, tz)
    return when.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def parse_local(text: str, tz: timezone) -> int:
    """``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS]`` or ``YYYY-MM-DDTHH:MM`` in ``tz``; ValueError otherwise."""
    when = datetime.fromisoformat(text.strip())
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return int(when.timestamp() * 1000)


def tz_of(offset_minutes: int) -> timezone:
    return timezone(timedelta(minutes=offset_minutes))


def yuan(millifen: int | None) -> str:
    """Milli-fen as yuan: two decimals, more only when the amount has them (0.035)."""
    if millifen is None:
        return ""
    value = (Decimal(millifen) / YUAN).normalize()
    exponent = int(value.as_tuple().exponent)  # type: ignore[arg-type]
    places = max(2, -exponent)
    return f"{value:,.{places}f}"


def mo_text(content: bytes, data_coding: int, esm_class: int = 0) -> str:
    """An MO message's text (UDH removed); binary content as hex."""
    body = content
    if esm_class & 0x40:
        try:
            _, body = parse_concat(content)
        except UdhError:
            body = content[1 + content[0]:] if content else content
    try:
        coding = from_smpp_data_coding(data_coding, dc0=Coding.ASCII)
        if coding is Coding.BINARY:
            return body.hex()
        return decode(body, coding)
    except (CodingError, ValueError, UnicodeDecodeError):
        return body.decode("utf-8", "replace")
