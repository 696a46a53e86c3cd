"""Lazada's date formats: ``2026-11-03 18:36:05 +0800``, ISO 8601, epoch milliseconds, ``YYYY-MM-DD``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timezone, tzinfo

_SPACE_OFFSET = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.\d+)?\s*([+-]\d{2}):?(\d{2})$"
)


def parse_datetime(
    value: str | int | float | None, default_tz: tzinfo | None = None
) -> datetime | None:
    """Parse any date/time Lazada sends into an aware datetime; ``None`` for blanks.

    Naive values (no offset) are taken in ``default_tz`` (the venture's timezone); all-digit
    values are epoch milliseconds. Raises ``ValueError`` on anything else.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value) / 1000.0, tz=UTC)
    text = str(value).strip()
    if not text:
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


def parse_date(value: str | date) -> date:
    """Parse ``YYYY-MM-DD`` (finance APIs)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip()[:10])


def utcnow() -> datetime:
    return datetime.now(UTC)


__all__ = [
    "parse_datetime",
    "format_iso",
    "format_lazada",
    "to_epoch_ms",
    "parse_date",
    "utcnow",
    "timezone",
]
