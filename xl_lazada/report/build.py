"""Build the report once, as plain data, from the sheet tables; the writers only lay it out.

Every number comes from the same frames the Orders, Tracking and Settlements sheets show
(``xl_lazada.tables``): per-parcel rows from Tracking, joined by shop + order id to the
order's Orders and Settlements rows. Orders with no parcel yet (not packed) get one row with
the parcel columns blank, because they are exactly the ones that can still miss the 48 h rule.
Order-level money (settlement net) repeats on each parcel of the order; the summary sums it
once per order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..rules.milestones import DELIVERED as DELIVERED_MILESTONE
from ..rules.milestones import table_for
from ..rules.settings import DEFAULT_SETTINGS, RuleSettings
from ..rules.sorting import ARRIVED, ARRIVED_LATE, OVERDUE
from ..rules.status import DELAYED, DISPLAY_STATUSES
from ..tables import all_tables
from ..tables.shops import ZERO_DECIMAL_CURRENCIES, parse_tz
from .inputs import ReportInputError, ReportInputs

ColumnKind = Literal["text", "id", "datetime", "days", "money"]

#: The longest the per-day chart runs when the report has no date range (a list of refs).
MAX_CHART_DAYS = 92


@dataclass(frozen=True, slots=True)
class ReportColumn:
    name: str
    kind: ColumnKind
    width: float  # Excel character widths, chosen to fit a landscape page
    description: str


REPORT_COLUMNS: tuple[ReportColumn, ...] = (
    ReportColumn("Shop", "text", 8, "Shop profile."),
    ReportColumn("Order number", "id", 13.5, "Lazada order number."),
    ReportColumn("Tracking number", "id", 13.5, "Carrier tracking number of the parcel."),
    ReportColumn("Package id", "id", 14, "Lazada package id of the parcel."),
    ReportColumn("Status", "text", 10, "Seller Center status of the order."),
    ReportColumn("Created", "datetime", 12.5, "Order placed (shop time)."),
    ReportColumn("RTS deadline", "datetime", 12.5, "Ready-to-ship deadline (48 h rule)."),
    ReportColumn("Ready to ship at", "datetime", 12.5, "When the parcel was set ready to ship."),
    ReportColumn("Sorting centre", "text", 10.5, "Arrival at the LGS sorting centre."),
    ReportColumn("Sorting centre arrival", "datetime", 12.5, "First sorting-centre scan."),
    ReportColumn("Last checkpoint", "text", 17, "Latest tracking event."),
    ReportColumn("Last checkpoint time", "datetime", 12.5, "Time of the latest event."),
    ReportColumn("Days in transit", "days", 6.5, "Ready to ship → delivered (or → now)."),
    ReportColumn("Delivered", "datetime", 12.5, "When the parcel was delivered."),
    ReportColumn("Settlement net", "money", 9, "Net of the order's finance lines."),
    ReportColumn("Paid", "text", 9, "Settlement state: Paid, Unpaid, Partially paid, Not settled."),
    ReportColumn("Currency", "text", 6, "Currency of the money columns."),
    ReportColumn("Flags", "text", 15, "Delayed, At risk, RTS late, SC overdue, Stuck, Unsettled."),
    ReportColumn("Order id", "id", 13.5, "Lazada order id."),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in REPORT_COLUMNS)

# Flags, in the order they are listed in a row.
FLAG_DELAYED = "Delayed"
FLAG_AT_RISK = "At risk"
FLAG_RTS_LATE = "RTS late"
FLAG_SC_OVERDUE = "SC overdue"
FLAG_STUCK = "Stuck"
FLAG_UNSETTLED = "Unsettled"
#: Flags that mean "act now" (the red rows); "At risk" is amber; "RTS late" is history.
URGENT_FLAGS: tuple[str, ...] = (FLAG_DELAYED, FLAG_SC_OVERDUE, FLAG_STUCK, FLAG_UNSETTLED)


@dataclass(frozen=True, slots=True)
class ShopHeader:
    name: str
    seller_id: str
    seller_name: str
    venture: str
    timezone: str  # "UTC+08:00"
    last_sync: datetime | None  # shop-local, naive; None if never synced


@dataclass(frozen=True, slots=True)
class Metric:
    """One summary line. ``value`` is a count, a fraction (0–1), days or money."""

    label: str
    value: float | None
    kind: Literal["count", "percent", "days", "money"]
    detail: str = ""
    currency: str = ""


@dataclass(frozen=True, slots=True)
class AttentionItem:
    shop: str
    order_number: str
    tracking_number: str
    detail: str


@dataclass(frozen=True, slots=True)
class AttentionGroup:
    key: str
    title: str
    action: str
    items: tuple[AttentionItem, ...]


#: How the report counts the numbers given that it cannot show (each with its reason).
NOT_IN_REPORT = "not in this report"


@dataclass(frozen=True, slots=True)
class NotFound:
    ref: str
    reason: str


@dataclass(frozen=True)
class Report:
    """Everything the writers show. ``table`` has exactly ``COLUMN_NAMES`` (datetimes are
    shop-local and naive, like the sheets); ``daily`` has Date, Orders created, Ready to
    ship, Delivered."""

    inputs: ReportInputs
    generated_at: datetime  # aware (UTC)
    shops: tuple[ShopHeader, ...]
    period: str
    timezone: str
    status_counts: tuple[tuple[str, int, int], ...]  # (status, orders, parcels)
    metrics: tuple[Metric, ...]
    attention: tuple[AttentionGroup, ...]
    not_found: tuple[NotFound, ...]
    table: pd.DataFrame
    daily: pd.DataFrame
    settings: RuleSettings = field(default=DEFAULT_SETTINGS)

    @property
    def title(self) -> str:
        names = ", ".join(s.seller_name or s.name for s in self.shops) or "no shop"
        return f"Lazada report — {names}"

    @property
    def generated_local(self) -> datetime:
        """Generation time in the (first) shop's clock, naive like every time shown."""
        return self.generated_at.astimezone(parse_tz(self.generated_zone)).replace(tzinfo=None)

    @property
    def generated_zone(self) -> str:
        return self.shops[0].timezone if self.shops else "UTC+00:00"

    @property
    def currencies(self) -> list[str]:
        return sorted({c for c in self.table["Currency"].dropna().unique() if c})

    def visible_columns(self) -> list[ReportColumn]:
        """The columns a person reads: Shop only for several shops, Currency only for several
        currencies; Order id stays in the CSV."""
        hide = {"Order id"}
        if len(self.shops) <= 1:
            hide.add("Shop")
        if len(self.currencies) <= 1:
            hide.add("Currency")
        return [c for c in REPORT_COLUMNS if c.name not in hide]


# ----------------------------------------------------------------------------- build


def build_report(
    cache: Any,
    inputs: ReportInputs,
    *,
    now: datetime | None = None,
    settings: RuleSettings | None = None,
) -> Report:
    """The report for ``inputs`` from ``cache`` (a :class:`~xl_lazada.cache.Cache`), judged
    at ``now`` (aware; default the current time). Raises :class:`ReportInputError` for a
    shop that is not in the cache."""
    settings = settings or DEFAULT_SETTINGS
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    shop_infos = list(cache.shops())
    if inputs.shop is not None and inputs.shop not in {s.name for s in shop_infos}:
        known = ", ".join(s.name for s in shop_infos) or "none synced yet"
        raise ReportInputError(f"unknown shop {inputs.shop!r} (shops in the cache: {known})")
    tables = all_tables(
        cache,
        shop=inputs.shop,
        date_from=inputs.date_from,
        date_to=inputs.date_to,
        refs=_lookup_refs(inputs.refs) if inputs.has_refs else None,
        now=now,
        settings=settings,
    )
    orders, tracking, settlements = tables["orders"], tables["tracking"], tables["settlements"]
    if inputs.status is not None:
        orders = orders[orders["Status"] == inputs.status]
        keep = set(zip(orders["Shop"], orders["Order id"], strict=True))
        tracking = tracking[_keys_in(tracking, keep)]
        settlements = settlements[_keys_in(settlements, keep)]

    shown = [s for s in shop_infos if inputs.shop is None or s.name == inputs.shop]
    if inputs.shop is None and len(shown) > 1:  # several shops: name the ones reported on
        present = set(orders["Shop"])
        shown = [s for s in shown if s.name in present] or shown
    headers = tuple(_shop_header(cache, s) for s in shown)
    zones = sorted({h.timezone for h in headers})
    tz_label = zones[0] if len(zones) == 1 else "UTC+00:00"
    if len(zones) > 1:  # each row is in its own shop's time, as on the sheets
        tz_label = "each shop's local time (" + ", ".join(zones) + ")"
    # "Now" on each shop's own clock, like the times in its rows.
    now_local = {s.name: now.astimezone(s.tz).replace(tzinfo=None) for s in shop_infos}

    table = _package_table(orders, tracking, settlements, now_local, settings)
    return Report(
        inputs=inputs,
        generated_at=now.astimezone(UTC),
        shops=headers,
        period=inputs.period_text,
        timezone=tz_label,
        status_counts=_status_counts(orders, table),
        metrics=tuple(_metrics(orders, settlements, table, settings)),
        attention=tuple(_attention(orders, table, settings, now_local)),
        not_found=tuple(_not_found(cache, inputs, table)),
        table=table,
        daily=_daily(inputs, table),
        settings=settings,
    )


def now_local_of(now_local: dict[str, datetime], shop: str | None) -> datetime:
    """A shop's "now" (naive, its local time); the first shop's for an unknown one."""
    if shop is not None and shop in now_local:
        return now_local[shop]
    return next(iter(now_local.values()), datetime.now(UTC).replace(tzinfo=None))


def _lookup_refs(refs: Sequence[str]) -> list[str]:
    """The refs to look up: each as given, and in upper case when typed in lower case
    (Lazada's tracking numbers and package ids are upper case)."""
    out = dict.fromkeys(refs)
    for ref in refs:
        out.setdefault(ref.upper(), None)
    return list(out)


def _keys_in(frame: pd.DataFrame, keys: set[tuple[str, str]]) -> pd.Series:
    pairs = zip(frame["Shop"], frame["Order id"], strict=True)
    return pd.Series([p in keys for p in pairs], index=frame.index, dtype=bool)


def _shop_header(cache: Any, info: Any) -> ShopHeader:
    last = cache.last_sync(info.name)
    finished = last["finished_at"] if last is not None else None
    when = None
    if finished:
        parsed = datetime.fromisoformat(str(finished).replace("Z", "+00:00"))
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        when = parsed.astimezone(info.tz).replace(tzinfo=None)
    offset = datetime.now(UTC).astimezone(info.tz).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    label = f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return ShopHeader(info.name, info.seller_id, info.seller_name, info.venture, label, when)


# ----------------------------------------------------------------------------- the table

_ORDER_COLS = [
    "Shop",
    "Order id",
    "Order number",
    "Status",
    "Created",
    "RTS deadline",
    "At risk",
    "RTS late",
    "Ready to ship at",
    "Last checkpoint",
    "Last checkpoint time",
    "Delivered",
    "Currency",
]
_TRACK_COLS = [
    "Shop",
    "Order id",
    "Package id",
    "Tracking number",
    "Item statuses",
    "Ready to ship at",
    "Last status code",
    "Sorting centre",
    "Sorting centre arrival",
    "Last checkpoint",
    "Last checkpoint time",
    "Stuck",
    "Final",
]


def _package_table(
    orders: pd.DataFrame,
    tracking: pd.DataFrame,
    settlements: pd.DataFrame,
    now_local: dict[str, datetime],
    settings: RuleSettings,
) -> pd.DataFrame:
    o = orders[_ORDER_COLS].rename(
        columns={c: f"o:{c}" for c in _ORDER_COLS if c not in ("Shop", "Order id")}
    )
    t = tracking[_TRACK_COLS]
    s = settlements[["Shop", "Order id", "Net", "State", "Unsettled"]]
    # Packages of the selected orders, plus one row for each order with no parcel yet.
    rows = o.merge(t, on=["Shop", "Order id"], how="left", sort=False)
    rows = rows.merge(s, on=["Shop", "Order id"], how="left", sort=False)
    has_pkg = rows["Package id"].notna()

    def pick(pkg_col: str, order_col: str) -> pd.Series:
        return rows[pkg_col].where(has_pkg, rows[order_col])

    item_statuses = rows["Item statuses"].fillna("").astype(str)
    pkg_delivered = item_statuses.str.contains(r"\b(?:delivered|returned)\b", regex=True)
    # The parcel's own delivered scan (the rules' milestone table reads the code and title), else
    # the order's delivery time for a parcel whose units Lazada marks delivered.
    milestones = table_for(settings)
    scanned = pd.Series(
        [
            milestones.milestone(code, "", title) == DELIVERED_MILESTONE
            for code, title in zip(
                rows["Last status code"].fillna(""), rows["Last checkpoint"].fillna(""), strict=True
            )
        ],
        index=rows.index,
        dtype=bool,
    )
    delivered = (
        rows["Last checkpoint time"]
        .where(scanned)
        .fillna(rows["o:Delivered"].where(pkg_delivered | ~has_pkg))
    )
    rts_at = pick("Ready to ship at", "o:Ready to ship at")
    last_time = pick("Last checkpoint time", "o:Last checkpoint time")
    final = rows["Final"].fillna(False).astype(bool)
    fallback = now_local_of(now_local, None)
    now_col = pd.to_datetime(
        pd.Series([now_local.get(shop, fallback) for shop in rows["Shop"]], index=rows.index)
    )
    end = delivered.fillna(last_time.where(final)).fillna(now_col)
    days = ((end - rts_at).dt.total_seconds() / 86400.0).round(1)

    out = pd.DataFrame(
        {
            "Shop": rows["Shop"],
            "Order number": rows["o:Order number"],
            "Tracking number": rows["Tracking number"],
            "Package id": rows["Package id"],
            "Status": rows["o:Status"],
            "Created": rows["o:Created"],
            "RTS deadline": rows["o:RTS deadline"],
            "Ready to ship at": rts_at,
            "Sorting centre": rows["Sorting centre"],
            "Sorting centre arrival": rows["Sorting centre arrival"],
            "Last checkpoint": pick("Last checkpoint", "o:Last checkpoint"),
            "Last checkpoint time": last_time,
            "Days in transit": days.astype("float64"),
            "Delivered": delivered,
            "Settlement net": rows["Net"].astype("float64"),
            "Paid": rows["State"],
            "Currency": rows["o:Currency"],
            "Flags": _flags(rows),
            "Order id": rows["Order id"],
        },
        columns=list(COLUMN_NAMES),
    )
    for col in REPORT_COLUMNS:
        if col.kind in ("text", "id"):
            out[col.name] = out[col.name].astype("string")
        elif col.kind == "datetime":
            out[col.name] = pd.to_datetime(out[col.name]).astype("datetime64[ns]")
    # Oldest order first, its parcels in package order: reads like a ledger when printed.
    out = out.sort_values(
        ["Created", "Order id", "Package id"], kind="stable", na_position="first"
    ).reset_index(drop=True)
    return out


def _flags(rows: pd.DataFrame) -> pd.Series:
    def truthy(col: str) -> list[bool]:
        return [bool(v) for v in rows[col].fillna(False).astype(bool)]

    def equals(col: str, value: str) -> list[bool]:
        return [bool(v) for v in (rows[col].astype("string") == value).fillna(False)]

    parts = [
        (FLAG_DELAYED, equals("o:Status", DELAYED)),
        (FLAG_AT_RISK, truthy("o:At risk")),
        (FLAG_RTS_LATE, truthy("o:RTS late")),
        (FLAG_SC_OVERDUE, equals("Sorting centre", OVERDUE)),
        (FLAG_STUCK, truthy("Stuck")),
        (FLAG_UNSETTLED, truthy("Unsettled")),
    ]
    out = []
    for i in range(len(rows)):
        names = [name for name, values in parts if values[i]]
        out.append(", ".join(names) if names else None)
    return pd.Series(out, index=rows.index, dtype="string")


# ----------------------------------------------------------------------------- summary


def _status_counts(orders: pd.DataFrame, table: pd.DataFrame) -> tuple[tuple[str, int, int], ...]:
    by_order = orders["Status"].value_counts()
    by_pkg = table.loc[table["Package id"].notna(), "Status"].value_counts()
    order = list(DISPLAY_STATUSES) + sorted(set(by_order.index) - set(DISPLAY_STATUSES))
    return tuple(
        (s, int(by_order.get(s, 0)), int(by_pkg.get(s, 0))) for s in order if by_order.get(s, 0)
    )


def _rate(label: str, hits: int, total: int, noun: str, what: str) -> Metric:
    if total == 0:
        return Metric(label, None, "percent", f"no {noun} to judge yet")
    return Metric(label, hits / total, "percent", f"{hits:,} of {total:,} {noun} {what}")


def _money_places(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL_CURRENCIES else 2


def money_text(value: float, currency: str) -> str:
    """An amount in words' company: ``1,234.50`` (MYR), ``613,050`` (VND)."""
    return f"{value:,.{_money_places(currency)}f}"


def _metrics(
    orders: pd.DataFrame,
    settlements: pd.DataFrame,
    table: pd.DataFrame,
    settings: RuleSettings,
) -> list[Metric]:
    out: list[Metric] = []
    parcels = table[table["Package id"].notna()]
    out.append(Metric("Orders", len(orders), "count"))
    out.append(Metric("Parcels", len(parcels), "count"))

    rts_done = orders[orders["Ready to ship at"].notna()]
    on_time = int((~rts_done["RTS late"].fillna(False).astype(bool)).sum())
    out.append(
        _rate(
            "Ready to ship on time",
            on_time,
            len(rts_done),
            "orders",
            f"set ready to ship within {settings.rts_hours:g} h",
        )
    )

    sc = parcels["Sorting centre"]
    judged = sc.isin([ARRIVED, ARRIVED_LATE, OVERDUE])
    out.append(
        _rate(
            f"At sorting centre within {settings.sorting_center_days:g} days",
            int((sc == ARRIVED).sum()),
            int(judged.sum()),
            "parcels",
            "scanned in time (cross-border only)",
        )
    )

    handed = parcels[parcels["Ready to ship at"].notna()]
    delivered = handed[handed["Delivered"].notna()]
    out.append(_rate("Delivered", len(delivered), len(handed), "parcels", "handed over"))

    days = delivered["Days in transit"].dropna().to_numpy(dtype=float)
    if len(days):
        out.append(
            Metric(
                "Days ready to ship → delivered, average",
                float(np.mean(days)),
                "days",
                f"over {len(days):,} delivered parcels",
            )
        )
        out.append(
            Metric(
                "Days ready to ship → delivered, 90th pct",
                float(np.percentile(days, 90)),
                "days",
                "9 in 10 parcels arrive within this",
            )
        )
    else:
        out.append(Metric("Days ready to ship → delivered", None, "days", "nothing delivered"))

    cur = settlements["Currency"].fillna("")
    for currency in sorted(set(cur) | set(orders["Currency"].dropna())) or [""]:
        places = _money_places(currency)
        mine = settlements[cur == currency]
        settled = mine[mine["Lines"].fillna(0) > 0]
        out.append(
            Metric(
                "Settled (net)",
                round(float(settled["Net"].sum()), places),
                "money",
                f"{len(settled):,} orders with finance lines; "
                f"{money_text(float(settled['Paid amount'].sum()), currency)} paid out",
                currency,
            )
        )
        mine_orders = orders[orders["Currency"].fillna("") == currency]
        waiting = mine_orders[
            mine_orders["Delivered"].notna() & (mine_orders["Settlement state"] == "Not settled")
        ]
        out.append(
            Metric(
                "Delivered, not settled yet",
                round(float(waiting["Total"].sum()), places),
                "money",
                f"order value of {len(waiting):,} delivered orders with no finance line",
                currency,
            )
        )
        fined = mine[mine["Penalties"].fillna(0) != 0]
        out.append(
            Metric(
                "Penalties",
                round(float(fined["Penalties"].sum()), places),
                "money",
                f"{len(fined):,} orders with penalty lines (e.g. 71 Fake RTS, 93 late fulfilment)",
                currency,
            )
        )
    return out


# ----------------------------------------------------------------------------- attention

_ACTIONS = {
    "at_risk": (
        "At risk of missing the 48 h rule",
        "Pack these orders and set them Ready to ship before the deadline, or Lazada cancels"
        " them and charges a late-fulfilment penalty.",
    ),
    "delayed": (
        "Delayed",
        "Past the promised shipping time: set them Ready to ship today or cancel with the"
        " right reason; Lazada may cancel and fine them.",
    ),
    "sorting": (
        "Not at the sorting centre after {days} days",
        "Ask your first-mile carrier for proof of handover, then open a case with Lazada"
        " (LGS) quoting the tracking number.",
    ),
    "stuck": (
        "Stuck in transit",
        "No new scan for {stuck} days or more: ask Lazada seller support to trace the parcel.",
    ),
    "unsettled": (
        "Delivered but unpaid",
        "Delivered more than {unsettled} days ago with no settlement line: raise a finance"
        " ticket in Seller Center with the order number.",
    ),
}


def _fmt_time(value: Any) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).strftime("%d %b %H:%M")


def _attention(
    orders: pd.DataFrame,
    table: pd.DataFrame,
    settings: RuleSettings,
    now_local: dict[str, datetime],
) -> list[AttentionGroup]:
    def ago(value: Any, shop: str) -> str:
        if pd.isna(value):
            return ""
        now = pd.Timestamp(now_local_of(now_local, shop))
        days = (now - pd.Timestamp(value)).total_seconds() / 86400
        return f" ({days:.0f} days ago)"

    words = {
        "days": f"{settings.sorting_center_days:g}",
        "stuck": f"{settings.stuck_days:g}",
        "unsettled": f"{settings.unsettled_days:g}",
    }
    numbers: dict[tuple[str, str], dict[str, None]] = {}
    known = table[table["Tracking number"].notna()]
    for shop, order_id, number in zip(
        known["Shop"], known["Order id"], known["Tracking number"], strict=True
    ):
        numbers.setdefault((shop, order_id), {})[number] = None
    tracking_of = {key: ", ".join(found) for key, found in numbers.items()}

    def order_items(frame: pd.DataFrame, detail: Any) -> tuple[AttentionItem, ...]:
        frame = frame.sort_values(["RTS deadline", "Created"], kind="stable")
        return tuple(
            AttentionItem(
                r["Shop"],
                r["Order number"],
                str(tracking_of.get((r["Shop"], r["Order id"]), "") or ""),
                detail(r),
            )
            for _, r in frame.iterrows()
        )

    def pkg_items(frame: pd.DataFrame, detail: Any) -> tuple[AttentionItem, ...]:
        return tuple(
            AttentionItem(r["Shop"], r["Order number"], str(r["Tracking number"] or ""), detail(r))
            for _, r in frame.iterrows()
        )

    at_risk = orders[orders["At risk"].fillna(False).astype(bool)]
    delayed = orders[orders["Status"] == DELAYED]
    parcels = table[table["Package id"].notna()]
    overdue = parcels[parcels["Sorting centre"] == OVERDUE].sort_values("Ready to ship at")
    stuck = parcels[parcels["Flags"].fillna("").str.contains(FLAG_STUCK)].sort_values(
        "Last checkpoint time"
    )
    unsettled = orders[orders["Unsettled"].fillna(False).astype(bool)].sort_values("Delivered")

    def hours_left(r: Any) -> str:
        left = r["Hours left"]
        return f"deadline {_fmt_time(r['RTS deadline'])}" + (
            "" if pd.isna(left) else f", {left:.0f} h left"
        )

    groups = {
        "at_risk": order_items(at_risk, hours_left),
        "delayed": order_items(delayed, lambda r: f"deadline {_fmt_time(r['RTS deadline'])}"),
        "sorting": pkg_items(
            overdue,
            lambda r: (
                f"ready to ship {_fmt_time(r['Ready to ship at'])},"
                f" {r['Days in transit']:.0f} days ago"
            ),
        ),
        "stuck": pkg_items(
            stuck,
            lambda r: (
                f"last scan {_fmt_time(r['Last checkpoint time'])}{ago(r['Last checkpoint time'], r['Shop'])}:"
                f" {r['Last checkpoint'] or ''}".rstrip(": ")
            ),
        ),
        "unsettled": tuple(
            AttentionItem(
                r["Shop"],
                r["Order number"],
                str(tracking_of.get((r["Shop"], r["Order id"]), "") or ""),
                f"delivered {_fmt_time(r['Delivered'])}{ago(r['Delivered'], r['Shop'])}",
            )
            for _, r in unsettled.iterrows()
        ),
    }
    out = []
    for key, items in groups.items():
        title, action = _ACTIONS[key]
        out.append(AttentionGroup(key, title.format(**words), action.format(**words), items))
    return out


# ----------------------------------------------------------------------------- not found


def _not_found(cache: Any, inputs: ReportInputs, table: pd.DataFrame) -> list[NotFound]:
    out = [NotFound(r.value, r.reason) for r in inputs.rejected]
    if not inputs.refs:
        return out
    present: set[str] = set()
    for col in ("Order number", "Order id", "Tracking number", "Package id"):
        present.update(str(v) for v in table[col].dropna())
    upper = {p.upper() for p in present}
    for ref in inputs.refs:
        if ref in present or ref.upper() in upper:
            continue
        if cache.resolve(ref, inputs.shop):
            why = "outside the selected period" if inputs.has_range else "not selected"
            if inputs.status is not None:
                why = f"not {inputs.status}" + (
                    " or outside the period" if inputs.has_range else ""
                )
            out.append(NotFound(ref, why))
        else:
            where = f" of shop {inputs.shop}" if inputs.shop else ""
            out.append(NotFound(ref, f"not found in the synced orders{where}"))
    return out


# ----------------------------------------------------------------------------- per day


def _daily(inputs: ReportInputs, table: pd.DataFrame) -> pd.DataFrame:
    """Orders created, parcels set ready to ship and parcels delivered per shop-local day."""
    if inputs.date_from is not None and inputs.date_to is not None:
        first, last = inputs.date_from, inputs.date_to
    else:
        stamps = pd.concat(
            [table["Created"], table["Ready to ship at"], table["Delivered"]]
        ).dropna()
        if stamps.empty:
            return pd.DataFrame(
                {"Date": pd.Series([], dtype="datetime64[ns]")}
                | {c: pd.Series([], dtype="Int64") for c in _DAILY_SERIES}
            )
        last = stamps.max().date()
        first = max(stamps.min().date(), last - timedelta(days=MAX_CHART_DAYS - 1))
    days = pd.date_range(first, last, freq="D")
    orders = table.drop_duplicates(["Shop", "Order id"])
    parcels = table[table["Package id"].notna()]
    series = {
        "Orders created": orders["Created"],
        "Ready to ship": parcels["Ready to ship at"],
        "Delivered": parcels["Delivered"],
    }
    out = pd.DataFrame({"Date": days.astype("datetime64[ns]")})
    for name, stamps in series.items():
        counts = stamps.dropna().dt.normalize().value_counts()
        out[name] = [int(counts.get(d, 0)) for d in days]
        out[name] = out[name].astype("Int64")
    return out


_DAILY_SERIES = ("Orders created", "Ready to ship", "Delivered")


def attention_count(report: Report) -> int:
    return sum(len(g.items) for g in report.attention)
