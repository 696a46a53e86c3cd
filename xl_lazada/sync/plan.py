"""Which parcels to trace, and in what order: news first, moving parcels next, history last.

A first sync of a big shop has thousands of parcels to trace at a few calls a second, and a
test app may not even have the calls for all of them today. So the trace list is split:

1. **news** — an item's status changed since the parcel was last traced (shipped →
   delivered, failed delivery, returned …): traced in the same run whatever its staleness
   window, so the delivered time and the last checkpoint agree with the status shown;
2. **moving** — parcels the rules do not call final (``rules.status.parcel_final``: some
   unit's story has not ended): the ones a seller acts on. Never-traced ones first, newest
   order first; then the rest, longest-silent first (the most at risk of being stuck);
3. **backfill** — parcels the rules call final (every unit delivered, returned …) and that
   were never traced: their history, fetched after finance and only with calls left over.

A status change is remembered in the cache, not in memory: the parcel's ``last_traced_at``
is cleared in the same transaction that writes the new status (``mark_news``), so a run that
dies or runs out of calls before tracing it still traces it first next time.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..cache.codec import iso_utc
from ..cache.store import Cache
from ..lazada.models import OrderItem
from ..rules.status import parcel_final


@dataclass(slots=True)
class TracePlan:
    """Order ids to trace, by priority (each id appears once)."""

    news: list[str] = field(default_factory=list)
    moving: list[str] = field(default_factory=list)
    backfill: list[str] = field(default_factory=list)

    @property
    def first(self) -> list[str]:
        """What a seller needs now: news, then moving parcels."""
        return self.news + self.moving

    def __len__(self) -> int:
        return len(self.news) + len(self.moving) + len(self.backfill)


@dataclass(slots=True)
class _Due:
    """One order's due parcels, taken together."""

    order_id: str
    created_at: str
    last_event: str  # the longest-silent parcel's last scan ("" if it has none)
    news: bool = False
    moving: bool = False
    untraced: bool = False


def _json_list(values: Iterable[str]) -> str:
    return json.dumps(sorted(set(values)))


def item_statuses(cache: Cache, shop: str, order_ids: Collection[str]) -> dict[str, str]:
    """``order_item_id -> status`` of the cached items of ``order_ids`` (before a write)."""
    if not order_ids:
        return {}
    rows = cache.connection.execute(
        "SELECT order_item_id, status FROM items WHERE shop = ?"
        " AND order_id IN (SELECT value FROM json_each(?))",
        (shop, _json_list(order_ids)),
    ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def changed_orders(
    before: Mapping[str, str], items: Mapping[str, Sequence[OrderItem]]
) -> list[str]:
    """Orders with a cached unit whose status is now different (new units are not news)."""
    out = []
    for oid, units in items.items():
        if any(u.order_item_id in before and before[u.order_item_id] != u.status for u in units):
            out.append(oid)
    return out


def mark_news(cache: Cache, shop: str, order_ids: Collection[str]) -> None:
    """Make the parcels of ``order_ids`` due at once (call inside the write transaction)."""
    if not order_ids:
        return
    cache.connection.execute(
        "UPDATE packages SET last_traced_at = NULL, final = 0 WHERE shop = ?"
        " AND order_id IN (SELECT value FROM json_each(?))",
        (shop, _json_list(order_ids)),
    )


def trace_plan(
    cache: Cache,
    shop: str,
    *,
    stale_before: datetime,
    traceable: Collection[str],
    trace_once: Collection[str],
    news: Collection[str] = (),
) -> TracePlan:
    """The orders due for a trace now, split and ordered as the module docstring says.

    Due: a package not final, never traced (or marked as news) or traced at or before
    ``stale_before``, with an item in a ``traceable`` status — or, if never traced, in a
    ``trace_once`` status. ``news`` adds orders known to have changed in this run. Whether
    a parcel still moves is the rules' ``parcel_final`` of its units' statuses.
    """
    rows = cache.connection.execute(
        "SELECT p.order_id,"
        " p.last_traced_at IS NULL AND p.last_event_at IS NOT NULL AS news,"
        " (SELECT json_group_array(i.status) FROM items i WHERE i.shop = p.shop"
        "   AND i.package_id = p.package_id) AS statuses,"
        " p.last_traced_at IS NULL AS untraced,"
        " COALESCE(p.last_event_at, '') AS last_event,"
        " o.created_at"
        " FROM packages p JOIN orders o ON o.shop = p.shop AND o.order_id = p.order_id"
        " WHERE p.shop = :shop AND p.final = 0"
        " AND (p.last_traced_at IS NULL OR p.last_traced_at <= :stale)"
        " AND EXISTS (SELECT 1 FROM items i WHERE i.shop = p.shop"
        "   AND i.package_id = p.package_id"
        "   AND (i.status IN (SELECT value FROM json_each(:traceable))"
        "   OR (p.last_traced_at IS NULL AND i.status IN (SELECT value FROM json_each(:once)))))",
        {
            "shop": shop,
            "stale": iso_utc(stale_before),
            "traceable": _json_list(traceable),
            "once": _json_list(trace_once),
        },
    ).fetchall()
    due: dict[str, _Due] = {}
    for r in rows:
        d = due.get(r["order_id"])
        if d is None:
            d = due[r["order_id"]] = _Due(r["order_id"], r["created_at"] or "", r["last_event"])
        d.news = d.news or bool(r["news"])
        d.moving = d.moving or not parcel_final(json.loads(r["statuses"]))
        d.untraced = d.untraced or bool(r["untraced"])
        d.last_event = min(d.last_event, r["last_event"])
    told = set(news)
    plan = TracePlan()
    fresh: list[_Due] = []
    silent: list[_Due] = []
    for d in due.values():
        if d.news or d.order_id in told:
            plan.news.append(d.order_id)
        elif d.moving:
            (fresh if d.untraced else silent).append(d)
        else:
            plan.backfill.append(d.order_id)
    fresh.sort(key=lambda d: (d.created_at, d.order_id), reverse=True)
    silent.sort(key=lambda d: (d.last_event, d.order_id))
    plan.moving = [d.order_id for d in fresh] + [d.order_id for d in silent]
    plan.news.sort()
    plan.backfill.sort()
    return plan
