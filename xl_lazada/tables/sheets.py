"""One function per sheet: cached data + rules → a DataFrame of the declared columns.

Each takes ``(cache, *, shop, date_from, date_to, refs, now, settings)``: ``date_from``/
``date_to`` filter on the order's creation (a ``date`` is the whole shop-local day,
inclusive); ``refs`` are order numbers, order ids, tracking numbers or package ids (any
mix). An empty selection gives an empty frame with the same columns and dtypes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from ..rules.settings import RuleSettings
from ..rules.settlement import KINDS
from .columns import TABLES, Column, frame
from .select import parse_money, parse_time, ref_text
from .views import OrderView, build_views, count_text

When = date | datetime | None


def _frame(
    columns: tuple[Column, ...], rows: list[dict[str, Any]], views: list[OrderView]
) -> pd.DataFrame:
    df = frame(columns, rows)
    zones = sorted({v.shop.tz_label for v in views})
    df.attrs["timezones"] = {v.shop.name: v.shop.tz_label for v in views}
    df.attrs["tz"] = zones[0] if len(zones) == 1 else None
    return df


def _round(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def _products(view: OrderView) -> str:
    counts = Counter(str(i["name"] or i["sku"] or "") for i in view.items)
    return "; ".join(f"{n}× {name}" for name, n in counts.items() if name)


def orders_table(
    cache: Any,
    *,
    shop: str | None = None,
    date_from: When = None,
    date_to: When = None,
    refs: Iterable[Any] | None = None,
    now: datetime | None = None,
    settings: RuleSettings | None = None,
) -> pd.DataFrame:
    """One row per order: status, deadline, parcels, last checkpoint, settlement."""
    return _one("orders", cache, shop, date_from, date_to, refs, now, settings)


def _orders_rows(views: list[OrderView], refs: list[str] | None) -> list[dict[str, Any]]:
    return [order_row(v) for v in views]


def order_row(v: OrderView) -> dict[str, Any]:
    """One Orders-sheet row (also what ``status`` prints and UDFs read)."""
    o, s, local = v.order, v.settlement, v.shop.local
    last = v.last_checkpoint
    sorting = v.sorting
    return {
        "Shop": v.shop.name,
        "Order number": v.order_number,
        "Order id": v.order_id,
        "Created": local(v.created_at),
        "Updated": local(v.updated_at),
        "Status": v.status,
        "Item statuses": count_text(v.item_statuses),
        "Items": len(v.items) if v.items else (o["items_count"] or None),
        "Products": _products(v),
        "Total": v.shop.money(parse_money(o["price"]), v.currency),
        "Currency": v.currency,
        "Buyer": o["buyer_name"],
        "Payment method": o["payment_method"],
        "Promised shipping": local(v.promised),
        "RTS deadline": local(v.rts.deadline),
        "Hours left": _round(v.rts.hours_left),
        "At risk": v.rts.at_risk,
        "RTS late": v.rts.late,
        "Ready to ship at": local(v.rts_at),
        "Tracking numbers": ", ".join(v.tracking_numbers),
        "Packages": len(v.packages),
        "Last checkpoint": (last[1].title or last[1].status_code) if last else None,
        "Last checkpoint time": local(last[1].event_time) if last else None,
        "Sorting centre": sorting.label if sorting else None,
        "Stuck": v.stuck,
        "Delivered": local(v.delivered_at),
        "Settlement net": v.shop.money(s.net, v.currency) if s.lines else None,
        "Settlement state": s.state,
        "Unsettled": s.overdue,
        "Remarks": o["remarks"],
    }


def tracking_table(
    cache: Any,
    *,
    shop: str | None = None,
    date_from: When = None,
    date_to: When = None,
    refs: Iterable[Any] | None = None,
    now: datetime | None = None,
    settings: RuleSettings | None = None,
) -> pd.DataFrame:
    """One row per parcel with its latest checkpoint, sorting-centre and stuck flags.

    With ``refs``, a tracking number or package id selects only that parcel; an order number
    or id selects all of the order's parcels.
    """
    return _one("tracking", cache, shop, date_from, date_to, refs, now, settings)


def _tracking_rows(views: list[OrderView], refs: list[str] | None) -> list[dict[str, Any]]:
    wanted = set(refs or ())
    rows = []
    for v in views:
        whole_order = not refs or bool({v.order_id, v.order_number} & wanted)
        for p in v.packages:
            if not whole_order and not ({p.package_id, p.tracking_number} & wanted):
                continue
            local = v.shop.local
            last = p.last
            sc = p.sorting
            rows.append(
                {
                    "Shop": v.shop.name,
                    "Order number": v.order_number,
                    "Order id": v.order_id,
                    "Package id": p.package_id,
                    "Tracking number": p.tracking_number,
                    "Carrier": p.carrier,
                    "Item statuses": count_text(p.item_statuses),
                    "Order status": v.status,
                    "Ready to ship at": local(p.rts_at),
                    "Last checkpoint": (last.title or last.status_code) if last else None,
                    "Last status code": last.status_code if last else None,
                    "Last checkpoint time": local(last.event_time) if last else None,
                    "Location": (last.location or None) if last else None,
                    "Days since last checkpoint": _round(p.stuck.days_idle),
                    "Sorting centre": sc.label if sc else None,
                    "Sorting centre arrival": local(sc.arrived_at) if sc else None,
                    "Sorting centre location": (sc.location or None) if sc else None,
                    "Days to sorting centre": _round(sc.days) if sc else None,
                    "Sorting centre late": sc.flagged if sc else None,
                    "Stuck": p.stuck.stuck,
                    "Checkpoints": len(p.checkpoints),
                    "Final": p.final,
                }
            )
    return rows


def checkpoints_table(
    cache: Any,
    *,
    shop: str | None = None,
    date_from: When = None,
    date_to: When = None,
    refs: Iterable[Any] | None = None,
    now: datetime | None = None,
    settings: RuleSettings | None = None,
) -> pd.DataFrame:
    """One row per tracking event, oldest first within each parcel (refs as in tracking)."""
    return _one("checkpoints", cache, shop, date_from, date_to, refs, now, settings)


def _checkpoint_rows(views: list[OrderView], refs: list[str] | None) -> list[dict[str, Any]]:
    wanted = set(refs or ())
    rows = []
    for v in views:
        whole_order = not refs or bool({v.order_id, v.order_number} & wanted)
        for p in v.packages:
            if not whole_order and not ({p.package_id, p.tracking_number} & wanted):
                continue
            for c in p.checkpoints:
                rows.append(
                    {
                        "Shop": v.shop.name,
                        "Order number": v.order_number,
                        "Order id": v.order_id,
                        "Package id": p.package_id,
                        "Tracking number": p.tracking_number,
                        "Time": v.shop.local(c.event_time),
                        "Status code": c.status_code,
                        "Title": c.title or None,
                        "Description": c.description or None,
                        "Location": c.location or None,
                    }
                )
    return rows


def _settled_money(v: OrderView):
    """Money of an order's settlement; blank, not 0, while it has no lines ("no lines yet"
    is not "nothing owed")."""

    def money(value: Decimal) -> float | None:
        return v.shop.money(value, v.currency) if v.settlement.lines else None

    return money


def settlements_table(
    cache: Any,
    *,
    shop: str | None = None,
    date_from: When = None,
    date_to: When = None,
    refs: Iterable[Any] | None = None,
    now: datetime | None = None,
    settings: RuleSettings | None = None,
) -> pd.DataFrame:
    """One row per order: fee sums by kind, net, paid part, state, delivered-not-settled."""
    return _one("settlements", cache, shop, date_from, date_to, refs, now, settings)


def _settlement_rows(views: list[OrderView], refs: list[str] | None) -> list[dict[str, Any]]:
    rows = []
    for v in views:
        s, local = v.settlement, v.shop.local
        money = _settled_money(v)
        lines = v.transactions
        dates = [parse_time(r["transaction_date"]) for r in lines if r["transaction_date"]]
        dates = [d for d in dates if d is not None]
        statements = dict.fromkeys(str(r["statement"]) for r in lines if r["statement"])
        row = {
            "Shop": v.shop.name,
            "Order number": v.order_number,
            "Order id": v.order_id,
            "Created": local(v.created_at),
            "Status": v.status,
            "Currency": v.currency,
            "Net": money(s.net),
            "Paid amount": money(s.paid_amount),
            "State": s.state,
            "Lines": s.lines,
            "Statements": "; ".join(statements) or None,
            "Last transaction": max(dates).replace(tzinfo=None) if dates else None,
            "Delivered": local(v.delivered_at),
            "Days since delivery": _round(s.days_since_delivery),
            "Unsettled": s.overdue,
        }
        for kind, header in zip(KINDS, _KIND_HEADERS, strict=True):
            row[header] = money(s.totals.get(kind, Decimal(0)))
        rows.append(row)
    return rows


_KIND_HEADERS = (
    "Item price",
    "Commission",
    "Payment fee",
    "Shipping",
    "Reversals",
    "Penalties",
    "Other",
)


_ROWS = {
    "orders": _orders_rows,
    "tracking": _tracking_rows,
    "checkpoints": _checkpoint_rows,
    "settlements": _settlement_rows,
}


def all_tables(
    cache: Any,
    *,
    shop: str | None = None,
    date_from: When = None,
    date_to: When = None,
    refs: Iterable[Any] | None = None,
    now: datetime | None = None,
    settings: RuleSettings | None = None,
) -> dict[str, pd.DataFrame]:
    """Every sheet's frame (keys as in ``TABLES``) from one read of the cache: what a full
    refresh uses, instead of rebuilding the same order views once per sheet."""
    views, wanted = _select(cache, shop, date_from, date_to, refs, now, settings)
    return {name: _frame(TABLES[name], rows(views, wanted), views) for name, rows in _ROWS.items()}


def _one(name: str, cache: Any, *selection: Any) -> pd.DataFrame:
    views, wanted = _select(cache, *selection)
    return _frame(TABLES[name], _ROWS[name](views, wanted), views)


def _select(
    cache: Any,
    shop: str | None,
    date_from: When,
    date_to: When,
    refs: Iterable[Any] | None,
    now: datetime | None,
    settings: RuleSettings | None,
) -> tuple[list[OrderView], list[str] | None]:
    """The order views a table shows, and the cleaned refs (to pick parcels within them)."""
    wanted = None if refs is None else [ref_text(r) for r in refs]
    views = build_views(
        cache,
        shop=shop,
        date_from=date_from,
        date_to=date_to,
        refs=wanted,
        now=now,
        settings=settings,
    )
    return views, wanted
