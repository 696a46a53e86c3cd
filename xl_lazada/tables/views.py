"""Per-order and per-parcel views as objects, for callers that want the rows behind an answer.

Every decision comes from the rules (:func:`xl_lazada.rules.facts.order_facts` and the clock
rules), the same the cache stores at sync time; front ends that only want the answer for a
reference use :func:`xl_lazada.lookup`, and the sheet tables read the stored facts.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ..cache.codec import parse_utc
from ..rules.clock import rts_now, status_at
from ..rules.deadline import RtsInfo
from ..rules.events import Checkpoint
from ..rules.facts import ItemInput, ParcelInput, ShopRules, order_facts
from ..rules.settings import DEFAULT_SETTINGS, RuleSettings
from ..rules.settlement import Line, Settlement, settle
from ..rules.sorting import SortingInfo, sorting_center
from ..rules.status import normalize
from ..rules.stuck import StuckInfo, stuck_status
from .select import field_of, parse_money, parse_time, select_orders
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


def _item_input(row: sqlite3.Row) -> ItemInput:
    return ItemInput(
        status=row["status"] or "",
        package_id=str(row["package_id"] or ""),
        tracking_code=str(row["tracking_code"] or ""),
        shipment_provider=str(row["shipment_provider"] or ""),
        promised_at=parse_utc(row["promised_shipping_time"]) or parse_utc(row["sla_time_stamp"]),
        updated_at=parse_utc(row["updated_at"]),
        currency=str(row["currency"] or ""),
        name=str(row["name"] or row["sku"] or ""),
    )


def _line(row: sqlite3.Row) -> Line:
    amount = parse_money(row["amount"])
    return Line(
        fee_type=str(row["fee_type"] or "").strip(),
        fee_name=str(row["fee_name"] or "").strip(),
        amount=amount if amount is not None else Decimal(0),
        paid=bool(row["paid"]),
    )


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
    """One order's view: the rules' facts (:func:`~xl_lazada.rules.facts.order_facts`, the
    same the cache stores) judged at ``now`` — no rule is decided here."""
    created = parse_time(order["created_at"]) or now
    updated = parse_time(order["updated_at"]) or created
    lines = [_line(t) for t in transactions]
    facts = order_facts(
        created_at=created,
        items=[_item_input(i) for i in items],
        parcels=[
            ParcelInput(
                package_id=str(p["package_id"]),
                tracking_number=str(p["tracking_number"] or ""),
                carrier=str(p["shipment_provider"] or ""),
                checkpoints=tuple(checkpoints.get((ctx.name, str(p["package_id"])), ())),
                ready_to_ship_at=parse_time(field_of(p, "ready_to_ship_at")),
            )
            for p in package_rows
        ]
        + [
            ParcelInput(pid, checkpoints=tuple(checkpoints.get((ctx.name, pid), ())))
            for pid in dict.fromkeys(str(i["package_id"]) for i in items if i["package_id"])
            if pid not in {str(p["package_id"]) for p in package_rows}
        ],
        lines=lines,
        shop=ShopRules(ctx.cross_border, ctx.calendar, ctx.currency),
        order_statuses=[s for s in str(order["statuses"] or "").split(",") if s.strip()],
        settings=settings,
    )
    by_pkg: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for i in items:
        if i["package_id"]:
            by_pkg[str(i["package_id"])].append(i)
    packages = []
    for pf in facts.parcels:
        cps = sorted(checkpoints.get((ctx.name, pf.package_id), []), key=lambda c: c.event_time)
        packages.append(
            PackageView(
                shop=ctx,
                package_id=pf.package_id,
                order_id=str(order["order_id"]),
                tracking_number=pf.tracking_number,
                carrier=pf.carrier,
                items=by_pkg.get(pf.package_id, []),
                checkpoints=cps,
                rts_at=pf.rts_at,
                sorting=sorting_center(
                    cps, rts_at=pf.rts_at, now=now, settings=settings, handed_over=pf.sc_handed_over
                )
                if pf.sorting_applies
                else None,
                stuck=stuck_status(
                    pf.item_statuses, cps, now=now, rts_at=pf.rts_at, settings=settings
                ),
                final=pf.final,
            )
        )
    hours, at_risk, late = rts_now(
        facts.rts_deadline, facts.rts_open, facts.rts_late, now, settings
    )
    return OrderView(
        shop=ctx,
        order=order,
        items=items,
        packages=packages,
        transactions=transactions,
        status=status_at(facts.status, facts.delayed_after, now),
        promised=facts.promised_at,
        rts=RtsInfo(deadline=facts.rts_deadline, hours_left=hours, at_risk=at_risk, late=late),
        rts_at=facts.rts_at,
        delivered_at=facts.delivered_at,
        settlement=settle(lines, delivered_at=facts.delivered_at, now=now, settings=settings),
        created_at=created,
        updated_at=updated,
        currency=facts.currency,
    )


def count_text(statuses: Iterable[str]) -> str:
    """``"2 delivered, 1 canceled"``: most frequent first, then by name."""
    counts = Counter(s for s in statuses if s)
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
