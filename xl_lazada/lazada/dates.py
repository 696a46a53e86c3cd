"""Lazada's date formats: ``2026-11-03 18:36:05 +0800``, ISO 8601, epoch milliseconds,
``YYYY-MM-DD``, and the finance API's ``17 May 2016`` (see docs/lazada-notes.md)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timezone, tzinfo
from decimal import Decimal

_SPACE_OFFSET = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.\d+)?\s*([+-]\d{2}):?(\d{2})$"
)


def parse_datetime(
    value: str | int | float | Decimal | None, default_tz: tzinfo | None = None
) -> datetime | None:
    """Parse any date/time Lazada sends into an aware datetime; ``None`` for blanks.

    Naive values (no offset) are taken in ``default_tz`` (the venture's timezone); all-digit
    values are epoch milliseconds. Raises ``ValueError`` on anything else.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return datetime.fromtimestamp(float(value) / 1000.0, tz=UTC)
    text = str(value).strip()
    if not text or text.lower() == "null":
        return None
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000.0, tz=UTC)
    m = _SPACE_OFFSET.match(text)
    if m:
        day, clock, hh, mm = m.groups()
        dt = datetime.fromisoformat(f"{day}T{clock}{hh}:{mm}")
    else:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        if default_tz is None:
            raise ValueError(f"date/time without a UTC offset: {text!r}")
        dt = dt.replace(tzinfo=default_tz)
    return dt


def format_iso(dt: datetime, tz: tzinfo | None = None) -> str:
    """Format for ``created_after``/``update_after``: ISO 8601 with offset, seconds precision."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime; give it a timezone")
    if tz is not None:
        dt = dt.astimezone(tz)
    return dt.replace(microsecond=0).isoformat()


def format_lazada(dt: datetime, tz: tzinfo | None = None) -> str:
    """Format like Lazada's order payloads: ``2026-11-03 18:36:05 +0800``."""
    if tz is not None:
        dt = dt.astimezone(tz)
    return dt.strftime("%Y-%m-%d %H:%M:%S %z")


def to_epoch_ms(dt: datetime) -> int:
    return int(round(dt.timestamp() * 1000))


_MONTHS = {
    name: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[\s-]+([A-Za-z]+)\.?,?[\s-]+(\d{4})$")
_MONTH_DAY_YEAR = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$")


def parse_date(value: str | date) -> date:
    """Parse a finance date: ``YYYY-MM-DD`` (what we send), or ``17 May 2016`` / ``17-May-2016``
    / ``May 17, 2016`` (what /finance/transaction/details/get documents). English month
    names only, whatever the venture; anything else is a ``ValueError`` naming the text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = " ".join(str(value).split())
    m = _DAY_MONTH_YEAR.match(text)
    if m:
        day, month, year = m.group(1), m.group(2), m.group(3)
    else:
        m = _MONTH_DAY_YEAR.match(text)
        if m:
            month, day, year = m.group(1), m.group(2), m.group(3)
    if m:
        number = _MONTHS.get(month.lower())
        if number is None:
            raise ValueError(f"not a date: {text!r} (unknown month {month!r})")
        return date(int(year), number, int(day))
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"not a date: {text!r}") from None


def parse_period(value: str) -> tuple[date, date] | None:
    """A statement period as Lazada writes it, ``"11 May 2016 - 17 May 2016"``; ``None`` if the
    text is not two dates around a dash. Periods need not be Monday to Sunday."""
    text = " ".join(str(value or "").split())
    for sep in (" - ", " – ", " to ", " ~ "):
        if sep in text:
            lo, _, hi = text.partition(sep)
            try:
                start, end = parse_date(lo), parse_date(hi)
            except ValueError:
                return None
            return (start, end) if start <= end else (end, start)
    return None


def utcnow() -> datetime:
    return datetime.now(UTC)


__all__ = [
    "parse_datetime",
    "format_iso",
    "format_lazada",
    "to_epoch_ms",
    "parse_date",
    "parse_period",
    "utcnow",
    "timezone",
]
