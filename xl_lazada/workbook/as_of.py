"""How fresh the data is, in words: "2026-12-01 17:00 UTC+08:00".

One rule for every place that says it (the refresh command's status lines, the ribbon's
status lines and its connection check): the time of the last sync in which every stage
worked (:meth:`~xl_lazada.cache.Cache.last_good_sync`), on the shop's own clock — the one
Seller Center and the sheets' times use — with its offset, so it cannot be misread.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

NEVER = "never"


def stamp(moment: datetime) -> str:
    """``2026-12-01 17:00``, plus ``UTC+08:00`` when ``moment`` is aware."""
    text = f"{moment:%Y-%m-%d %H:%M}"
    offset = moment.utcoffset()
    if offset is not None:
        text += " UTC" + _offset(offset)
    return text


def _offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def data_as_of(cache: Any, shop: str | None = None) -> str:
    """The last good sync of ``shop`` (``None``: of any shop) on that shop's clock, or
    :data:`NEVER`. Shops of different time zones together: this computer's clock."""
    when = cache.last_good_sync(shop)
    if when is None:
        return NEVER
    shops = [s for s in cache.shops() if shop is None or s.name == shop]
    if len({s.tz.utcoffset(when) for s in shops}) == 1:
        return stamp(when.astimezone(shops[0].tz))
    return stamp(when.astimezone())


#: :func:`freshness` when the cache holds nothing for the shop.
NOTHING_YET = "no data synced yet"


def freshness(cache: Any, shop: str | None = None) -> str:
    """What a status line says about the data: ``data as of <when>`` (:func:`data_as_of`);
    before any whole sync, how many orders the unfinished ones saved (a first sync cut off by
    a dead network keeps them, and the sheets show them); else :data:`NOTHING_YET`."""
    when = data_as_of(cache, shop)
    if when != NEVER:
        return f"data as of {when}"
    saved = cache.order_count(shop)
    if saved:
        orders = "order" if saved == 1 else "orders"
        return f"the first sync has not finished ({saved:,} {orders} saved so far)"
    return NOTHING_YET


__all__ = ["NEVER", "NOTHING_YET", "data_as_of", "freshness", "stamp"]
