"""Which cached orders a table shows, and reading the cache's text values back.

Filters: shop, creation date range (a ``date`` is the whole shop-local day, inclusive; a
naive datetime is shop-local time) and references (order number, order id, tracking number
or package id, resolved through the cache's reference index).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from ..cache.codec import parse_utc
from ..refs import ref_text  # the one reference cleaner (kept importable here)

if TYPE_CHECKING:
    from .shops import ShopContext


def parse_time(text: Any) -> datetime | None:
    """Cache times are ISO 8601 UTC text; blanks and junk read as ``None``. Text goes through
    the cache's one reader (:func:`xl_lazada.cache.codec.parse_utc`)."""
    if text is None or text == "":
        return None
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=UTC)
    return parse_utc(str(text).strip().replace("Z", "+00:00"))


def parse_money(text: Any) -> Decimal | None:
    """Cache money is decimal text; blanks and junk read as ``None`` (never a float)."""
    if text is None or str(text).strip() == "":
        return None
    try:
        return Decimal(str(text).strip().replace(",", ""))
    except InvalidOperation:
        return None


def field_of(obj: Any, *names: str, default: Any = None) -> Any:
    """The first of ``names`` present on a row, dict or object (tolerates schema drift)."""
    for name in names:
        if isinstance(obj, sqlite3.Row):
            if name in obj.keys():  # noqa: SIM118 - `in row` tests values, not names
                return obj[name]
        elif isinstance(obj, dict):
            if name in obj:
                return obj[name]
        elif hasattr(obj, name):
            return getattr(obj, name)
    return default


def _bound(value: date | datetime | None, tz: tzinfo, *, end: bool) -> datetime | None:
    """A date means the whole local day (inclusive); a naive datetime is shop-local."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if end:
        return datetime.combine(value + timedelta(days=1), time(0), tz) - timedelta(microseconds=1)
    return datetime.combine(value, time(0), tz)


def _coarse(value: date | datetime | None, days: int) -> date | datetime | None:
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    return value + timedelta(days=days)


def select_orders(
    cache: Any,
    shops: dict[str, ShopContext],
    *,
    shop: str | None = None,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
    refs: Iterable[Any] | None = None,
) -> list[sqlite3.Row]:
    """The cached orders a table shows: by shop, creation date range (shop-local) and refs."""
    if refs is not None:
        wanted: set[tuple[str, str]] = set()
        for ref in refs:
            text = ref_text(ref)
            if text:
                wanted.update((s, o) for s, o in cache.resolve(text, shop))
        if not wanted:
            return []
        rows = cache.orders(shop, order_ids=sorted({o for _, o in wanted}))
        rows = [r for r in rows if (r["shop"], r["order_id"]) in wanted]
    else:
        # Coarse bounds in the cache (a day of margin for naive local times), exact below.
        rows = cache.orders(
            shop, created_from=_coarse(date_from, -1), created_to=_coarse(date_to, +1)
        )
    if date_from is None and date_to is None:
        return rows
    out = []
    for r in rows:
        ctx = shops.get(r["shop"])
        tz = ctx.tz if ctx else UTC
        created = parse_time(r["created_at"])
        lo, hi = _bound(date_from, tz, end=False), _bound(date_to, tz, end=True)
        if created is None or (lo and created < lo) or (hi and created > hi):
            continue
        out.append(r)
    return out
