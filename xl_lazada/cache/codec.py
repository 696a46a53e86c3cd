"""How values are written as cache text: UTC ISO times, decimal money, status sets, JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def iso_utc(dt: datetime | None) -> str | None:
    """``2026-11-03T10:36:05+00:00``: one fixed shape, so times compare correctly as text."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError("naive datetime: give it a timezone before storing it")
    return dt.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_utc(text: str | None) -> datetime | None:
    """Read a time written by :func:`iso_utc` back as an aware datetime (UTC).

    The one reader of the cache's text times: a value without an offset (written by hand,
    or by an old tool) is UTC, as the cache's convention says; junk reads as ``None``."""
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def epoch(dt: datetime | None) -> int | None:
    """An instant as whole Unix seconds (how the facts tables store times)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError("naive datetime: give it a timezone before storing it")
    return int(dt.timestamp())


def from_epoch(value: int | float | None) -> datetime | None:
    """Read a time written by :func:`epoch` back as an aware UTC datetime."""
    if value is None:
        return None
    return datetime.fromtimestamp(value, UTC)


def iso_date(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def money_text(value: Decimal | None) -> str | None:
    """Decimal text exactly as Lazada's amount parsed (no float rounding)."""
    return None if value is None else str(value)


def statuses_text(statuses: Iterable[str]) -> str:
    """A status set as sorted, comma-separated text (order-independent, so comparable)."""
    return ",".join(sorted({s for s in statuses if s}))


def raw_json(raw: dict[str, Any]) -> str:
    """The wire dict as compact JSON (non-ASCII kept readable)."""
    if not raw:
        return "{}"
    return json.dumps(raw, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)


def extra_fields(raw: dict[str, Any], known: Iterable[str]) -> dict[str, Any]:
    """The fields of ``raw`` without a column of their own (usually none)."""
    skip = set(known)
    return {k: v for k, v in raw.items() if k not in skip}
