"""Per-order and per-parcel facts derived once from the cache with the rules.

The four sheet tables, the ``status`` command and the UDFs all read these views, so a
status, deadline or settlement means the same everywhere. Building them is the only place
that reads the cache (through its read API); everything after is pure.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ..rules.deadline import RtsInfo, rts_status
from ..rules.events import Checkpoint, delivered_time, ready_to_ship_time
from ..rules.settings import DEFAULT_SETTINGS, RuleSettings
from ..rules.settlement import Settlement, settle
from ..rules.sorting import SortingInfo, sorting_center
from ..rules.status import FINAL, PRE_RTS, display_status, normalize
from ..rules.stuck import StuckInfo, stuck_status
from .select import field_of, parse_time, select_orders
from .shops import ShopContext, fallback_shop, shop_contexts


@dataclass(slots=True)
class PackageView:
    shop: ShopContext
    package_id: str
    order_id: str
    tracking_number: str
    carrier: str
    items: list[sqlite3.Row]
    checkpoints: list[Checkpoint]  # oldest first
    rts_at: datetime | None
    sorting: SortingInfo | None  # None for local (non cross-border) shops: no LGS sorting centre
    stuck: StuckInfo
    final: bool

    @property
    def item_statuses(self) -> list[str]:
        return [normalize(i["status"]) for i in self.items]

    @property
    def last(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None


@dataclass(slots=True)
class OrderView:
    """One order with everything a sheet row or a ``status`` answer shows."""

    shop: ShopContext
    order: sqlite3.Row
    items: list[sqlite3.Row]
    packages: list[PackageView]
    transactions: list[sqlite3.Row]
    status: str
    promised: datetime | None
    rts: RtsInfo
    rts_at: datetime | None
    delivered_at: datetime | None
    settlement: Settlement
    created_at: datetime
    updated_at: datetime
    currency: str = ""

    @property
    def order_id(self) -> str:
        return str(self.order["order_id"])

    @property
    def order_number(self) -> str:
        return str(self.order["order_number"] or self.order["order_id"])

    @property
    def item_statuses(self) -> list[str]:
        statuses = [normalize(i["status"]) for i in self.items]
        if statuses:
            return statuses
        return [s for s in str(self.order["statuses"] or "").split(",") if s]

    @property
    def tracking_numbers(self) -> list[str]:
        seen: dict[str, None] = {}
        for p in self.packages:
            if p.tracking_number:
                seen.setdefault(p.tracking_number, None)
        return list(seen)

    @property
    def last_checkpoint(self) -> tuple[PackageView, Checkpoint] | None:
        best: tuple[PackageView, Checkpoint] | None = None
        for p in self.packages:
            last = p.last
            if last is not None and (best is None or last.event_time > best[1].event_time):
                best = (p, last)
        return best

    @property
    def stuck(self) -> bool:
        return any(p.stuck.stuck for p in self.packages)

    @property
    def sorting(self) -> SortingInfo | None:
        """The parcel that matters most: a flagged one, else the latest to arrive."""
        infos = [p.sorting for p in self.packages if p.sorting is not None]
        if not infos:
            return None
        flagged = [i for i in infos if i.flagged]
        if flagged:
            return flagged[0]
        pending = [i for i in infos if i.arrived_at is None]
        if pending:
            return pending[0]
        return max(infos, key=lambda i: i.arrived_at or datetime.min.replace(tzinfo=UTC))


def _checkpoint(row: sqlite3.Row) -> Checkpoint | None:
    when = parse_time(row["event_time"])
    if when is None:
        return None
    return Checkpoint(
        status_code=row["status_code"] or "",
        event_time=when,
        location=row["location"] or "",
        title=row["title"] or "",
        description=row["description"] or "",
        detail_type=row["detail_type"] or "",
    )


def _by_order(rows: Iterable[sqlite3.Row], key: str = "order_id") -> dict[tuple[str, str], list]:
    out: dict[tuple[str, str], list] = defaultdict(list)
    for r in rows:
        out[(r["shop"], str(r[key]))].append(r)
    return out


def build_views(
    cache: Any,
    *,
    shop: str | None = None,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
    refs: Iterable[Any] | None = None,
    now: datetime | None = None,
    settings: RuleSettings | None = None,
) -> list[OrderView]:
    """Load the selected orders with their items, parcels, checkpoints and finance lines,
    and apply the rules at ``now`` (default: the current time). Newest orders first."""
    settings = settings or DEFAULT_SETTINGS
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    shops = shop_contexts(cache, settings)
    orders = select_orders(cache, shops, shop=shop, date_from=date_from, date_to=date_to, refs=refs)
    if not orders:
        return []
    everything = refs is None and date_from is None and date_to is None
    order_ids = None if everything else sorted({str(o["order_id"]) for o in orders})
    keys = {(o["shop"], str(o["order_id"])) for o in orders}
    items = _by_order(
        r for r in cache.items(order_ids, shop=shop) if (r["shop"], str(r["order_id"])) in keys
    )
    packages = _by_order(
        r for r in cache.packages(order_ids, shop=shop) if (r["shop"], str(r["order_id"])) in keys
    )
    package_ids = None
    if not everything:
        package_ids = sorted(
            {str(p["package_id"]) for rows in packages.values() for p in rows}
            | {str(i["package_id"]) for rows in items.values() for i in rows if i["package_id"]}
        )
    checkpoints: dict[tuple[str, str], list[Checkpoint]] = defaultdict(list)
    if package_ids is None or package_ids:
        for r in cache.checkpoints(package_ids, shop=shop):
            cp = _checkpoint(r)
            if cp is not None:
                checkpoints[(r["shop"], str(r["package_id"]))].append(cp)
    for cps in checkpoints.values():
        cps.sort(key=lambda c: c.event_time)
    numbers = (
        None if everything else sorted({str(o["order_number"] or o["order_id"]) for o in orders})
    )
    transactions = _by_order(
        (r for r in cache.transactions(numbers, shop=shop) if r["order_no"]), key="order_no"
    )

    views = []
    for o in orders:
        ctx = shops.get(o["shop"]) or fallback_shop(o["shop"], settings)
        key = (o["shop"], str(o["order_id"]))
        views.append(
            _order_view(
                ctx,
                o,
                items.get(key, []),
                packages.get(key, []),
                checkpoints,
                transactions.get((o["shop"], str(o["order_number"] or o["order_id"])), []),
                now=now,
                settings=settings,
            )
        )
    views.sort(key=lambda v: (v.created_at, v.order_id), reverse=True)
    return views


def _package_views(
    ctx: ShopContext,
    order: sqlite3.Row,
    items: list[sqlite3.Row],
    package_rows: list[sqlite3.Row],
    checkpoints: dict[tuple[str, str], list[Checkpoint]],
    *,
    now: datetime,
    settings: RuleSettings,
) -> list[PackageView]:
    by_pkg: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for i in items:
        if i["package_id"]:
            by_pkg[str(i["package_id"])].append(i)
    rows = {str(p["package_id"]): p for p in package_rows}
    ids = list(rows) + [p for p in by_pkg if p not in rows]
    out = []
    for pid in ids:
        row = rows.get(pid)
        pkg_items = by_pkg.get(pid, [])
        cps = checkpoints.get((ctx.name, pid), [])
        rts_at = ready_to_ship_time(cps, settings) or parse_time(field_of(row, "ready_to_ship_at"))
        statuses = [normalize(i["status"]) for i in pkg_items]
        tracking = str(field_of(row, "tracking_number", default="") or "")
        if not tracking:
            tracking = next((str(i["tracking_code"]) for i in pkg_items if i["tracking_code"]), "")
        carrier = str(field_of(row, "shipment_provider", default="") or "")
        if not carrier:
            carrier = next(
                (str(i["shipment_provider"]) for i in pkg_items if i["shipment_provider"]), ""
            )
        stuck = stuck_status(statuses, cps, now=now, rts_at=rts_at, settings=settings)
        final = bool(statuses) and all(s in FINAL for s in statuses)
        if field_of(row, "final"):
            final = True
        out.append(
            PackageView(
                shop=ctx,
                package_id=pid,
                order_id=str(order["order_id"]),
                tracking_number=tracking,
                carrier=carrier,
                items=pkg_items,
                checkpoints=cps,
                rts_at=rts_at,
                sorting=sorting_center(
                    cps,
                    rts_at=rts_at,
                    now=now,
                    settings=settings,
                    handed_over=any(s not in PRE_RTS and s != "canceled" for s in statuses),
                )
                if ctx.cross_border
                else None,
                stuck=stuck,
                final=final,
            )
        )
    return out


def _order_view(
    ctx: ShopContext,
    order: sqlite3.Row,
    items: list[sqlite3.Row],
    package_rows: list[sqlite3.Row],
    checkpoints: dict[tuple[str, str], list[Checkpoint]],
    transactions: list[sqlite3.Row],
    *,
    now: datetime,
    settings: RuleSettings,
) -> OrderView:
    created = parse_time(order["created_at"]) or now
    updated = parse_time(order["updated_at"]) or created
    packages = _package_views(
        ctx, order, items, package_rows, checkpoints, now=now, settings=settings
    )
    pkg_by_id = {p.package_id: p for p in packages}
    # One status per unit; the order's distinct statuses if its items are not synced yet.
    statuses = [normalize(i["status"]) for i in items] or [
        normalize(s) for s in str(order["statuses"] or "").split(",") if s.strip()
    ]
    active = [s for s in statuses if s != "canceled"]
    pre = [s for s in active if s in PRE_RTS]
    active_items = [i for i in items if normalize(i["status"]) != "canceled"]
    pre_items = [i for i in active_items if normalize(i["status"]) in PRE_RTS]

    # Ready-to-ship is done once no unit is before it (all canceled counts as done); its
    # time is when the last parcel was set ready-to-ship, if the trace says.
    done = not pre
    known = [
        pkg_by_id[str(i["package_id"])].rts_at
        for i in active_items
        if i["package_id"] and str(i["package_id"]) in pkg_by_id
    ]
    known = [t for t in known if t is not None]
    rts_at = max(known) if done and known else None
    rts = rts_status(
        created,
        rts_at,
        now,
        cross_border=ctx.cross_border,
        calendar=ctx.calendar,
        settings=settings,
        done=done,
    )

    # "Delayed" follows Lazada's own promise for the units still to ship (what Seller Center
    # shows); without one (items not synced) our computed deadline stands in.
    promises = [
        t
        for i in pre_items
        for t in [parse_time(i["promised_shipping_time"]) or parse_time(i["sla_time_stamp"])]
        if t is not None
    ]
    promised = min(promises) if promises else None
    status = display_status(
        statuses,
        promised_shipping_time=promised or (rts.deadline if pre else None),
        now=now,
    )
    delivered = _delivered_at(items, packages, settings)
    currency = next((str(i["currency"]) for i in items if i["currency"]), "") or ctx.currency
    settlement = settle(transactions, delivered_at=delivered, now=now, settings=settings)
    return OrderView(
        shop=ctx,
        order=order,
        items=items,
        packages=packages,
        transactions=transactions,
        status=status,
        promised=promised,
        rts=rts,
        rts_at=rts_at,
        delivered_at=delivered,
        settlement=settlement,
        created_at=created,
        updated_at=updated,
        currency=currency,
    )


def _delivered_at(
    items: Sequence[sqlite3.Row], packages: Sequence[PackageView], settings: RuleSettings
) -> datetime | None:
    """When the last delivered unit was delivered: its parcel's delivered scan (from the
    milestone table), else — only if the parcel has no such scan — the unit's last update,
    which moves again at settlement and so is a late estimate. ``None`` if no unit is
    delivered (or returned after delivery)."""
    pkg = {p.package_id: p for p in packages}
    times = []
    for i in items:
        if normalize(i["status"]) not in ("delivered", "returned"):
            continue
        p = pkg.get(str(i["package_id"] or ""))
        scan = None
        if p is not None:
            scan = delivered_time(p.checkpoints, settings)
        t = scan or parse_time(i["updated_at"])
        if t is not None:
            times.append(t)
    return max(times) if times else None


def count_text(statuses: Iterable[str]) -> str:
    """``"2 delivered, 1 canceled"``: most frequent first, then by name."""
    counts = Counter(s for s in statuses if s)
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
