"""One function per sheet: the facts the cache keeps → a DataFrame of the declared columns.

Each takes ``(cache, *, shop, date_from, date_to, refs, now, settings)``: ``date_from``/
``date_to`` filter on the order's creation (a ``date`` is the whole shop-local day,
inclusive; a naive datetime is shop-local time); ``refs`` are order numbers, order ids,
tracking numbers or package ids (any mix, cleaned by :mod:`xl_lazada.refs`). An empty
selection gives an empty frame with the same columns and dtypes.

The rules ran when the data was synced (``order_facts`` / ``package_facts``); here only the
clock-dependent flags are applied, on whole columns (:mod:`xl_lazada.rules.clock_frame`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ..cache import facts as cache_facts
from ..refs import normalize_ref
from ..rules.clock_frame import rts_frame, sorting_frame, status_frame, stuck_frame, unsettled_frame
from ..rules.settings import DEFAULT_SETTINGS, RuleSettings
from .columns import BOOL, DATETIME, FLOAT, INT, STRING, TABLES, Column

When = date | datetime | None

_KIND_COLUMNS = (
    "item_price",
    "commission",
    "payment_fee",
    "shipping",
    "reversals",
    "penalties",
    "other",
)
_KIND_HEADERS = (
    "Item price",
    "Commission",
    "Payment fee",
    "Shipping",
    "Reversals",
    "Penalties",
    "Other",
)


@dataclass(frozen=True, slots=True)
class _ShopRow:
    name: str
    offset_s: int
    label: str
    settings: RuleSettings


def _label(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _shops(conn: sqlite3.Connection, settings: RuleSettings | None) -> dict[str, _ShopRow]:
    out = {}
    for name, minutes in conn.execute("SELECT shop, utc_offset_minutes FROM shops").fetchall():
        own = settings if settings is not None else cache_facts.stored_settings(conn, name)[0]
        out[name] = _ShopRow(name, int(minutes) * 60, _label(int(minutes)), own)
    return out


def _bounds(value: When, shop: _ShopRow, *, end: bool) -> float | None:
    """A creation bound as Unix seconds: a ``date`` is the whole shop-local day, a naive
    datetime shop-local time, an aware one an instant."""
    if value is None:
        return None
    tz = UTC
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.timestamp()
        return value.replace(tzinfo=UTC).timestamp() - shop.offset_s
    start = datetime.combine(value + timedelta(days=1) if end else value, time(0), tz)
    return start.timestamp() - shop.offset_s - (1e-6 if end else 0.0)


def _query(conn: sqlite3.Connection, sql: str, params: Iterable[Any] = ()) -> pd.DataFrame:
    cur = conn.execute(sql, tuple(params))
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if not rows:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    return pd.DataFrame.from_records(rows, columns=names, coerce_float=False)


@dataclass(slots=True)
class _Selection:
    orders: pd.DataFrame
    packages: pd.DataFrame
    shops: dict[str, _ShopRow]
    wanted: set[str] | None  # cleaned refs (to pick parcels within orders), None = all
    now: float


_ORDER_COLS = (
    "f.shop, f.order_id, f.order_number, f.created_at, f.status, f.delayed_after,"
    " f.item_counts, f.items, f.products, f.total, f.currency, f.promised_at, f.rts_deadline,"
    " f.rts_open, f.rts_late, f.rts_at, f.tracking_numbers, f.packages, f.last_time,"
    " f.last_title, f.delivered_at, f.settlement_lines, f.settlement_state, f.net, f.paid,"
    " f.item_price, f.commission, f.payment_fee, f.shipping, f.reversals, f.penalties,"
    " f.other, f.statements, f.last_transaction,"
    " CAST(strftime('%s', o.updated_at) AS INTEGER) AS updated_at, o.buyer_name,"
    " o.payment_method, o.remarks"
)
_PACKAGE_COLS = (
    "p.shop, p.order_id, p.position, p.package_id, p.tracking_number, p.carrier,"
    " p.item_counts, p.rts_at, p.last_time, p.last_title, p.last_code, p.last_location,"
    " p.checkpoints, p.idle_since, p.can_stick, p.sorting_applies, p.sc_arrived_at,"
    " p.sc_location, p.sc_days, p.sc_late, p.sc_handed_over, p.final"
)


def _resolve(
    conn: sqlite3.Connection, refs: Iterable[Any], shop: str | None
) -> tuple[dict[str, set[str]], set[str]]:
    """``({shop: order ids}, cleaned texts)`` of the references (through the ref index)."""
    texts = sorted({c for r in refs for c in normalize_ref(r).candidates})
    found: dict[str, set[str]] = {}
    if not texts:
        return found, set()
    sql = "SELECT r.shop, r.order_id FROM json_each(?) j CROSS JOIN refs r WHERE r.ref = j.value"
    params: list[Any] = [json.dumps(texts)]
    if shop is not None:
        sql += " AND +r.shop = ?"
        params.append(shop)
    for s, oid in conn.execute(sql, params):
        found.setdefault(s, set()).add(oid)
    return found, set(texts)


def _in_memory(
    conn: sqlite3.Connection, shop: str, ids: list[str], settings: RuleSettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Facts computed now rather than read (a read-only cache asked for other settings)."""
    order_rows, package_rows, _ = cache_facts.fact_rows(conn, shop, ids, settings)
    of = pd.DataFrame.from_records(order_rows, columns=list(cache_facts.ORDER_FACT_COLUMNS))
    extra = _query(
        conn,
        "SELECT o.order_id, CAST(strftime('%s', o.updated_at) AS INTEGER) AS updated_at,"
        " o.buyer_name, o.payment_method, o.remarks FROM json_each(?) j CROSS JOIN orders o"
        " WHERE o.shop = ? AND o.order_id = j.value",
        (json.dumps(ids), shop),
    )
    of = of.merge(extra, on="order_id", how="left")
    pf = pd.DataFrame.from_records(package_rows, columns=list(cache_facts.PACKAGE_FACT_COLUMNS))
    return of, pf


def _select(
    cache: Any,
    shop: str | None,
    date_from: When,
    date_to: When,
    refs: Iterable[Any] | None,
    now: datetime | None,
    settings: RuleSettings | None,
) -> _Selection:
    conn: sqlite3.Connection = cache.connection
    shops = _shops(conn, settings)
    names = [shop] if shop is not None else sorted(shops)
    names = [n for n in names if n in shops]
    wanted: set[str] | None = None
    by_ref: dict[str, set[str]] | None = None
    if refs is not None:
        by_ref, wanted = _resolve(conn, refs, shop)
        names = [n for n in names if n in by_ref]
    in_memory = cache_facts.ensure_settings(conn, names, settings)
    order_frames, package_frames = [], []
    for name in names:
        info = shops[name]
        if name in in_memory:
            ids = (
                sorted(by_ref[name])
                if by_ref is not None
                else [
                    r[0]
                    for r in conn.execute("SELECT order_id FROM orders WHERE shop = ?", (name,))
                ]
            )
            of, pf = _in_memory(conn, name, ids, info.settings)
        else:
            where, params = "f.shop = ?", [name]
            lo, hi = _bounds(date_from, info, end=False), _bounds(date_to, info, end=True)
            if lo is not None:
                where += " AND f.created_at >= ?"
                params.append(lo)
            if hi is not None:
                where += " AND f.created_at <= ?"
                params.append(hi)
            if by_ref is not None:
                source = "json_each(?) j CROSS JOIN order_facts f"
                where += " AND f.order_id = j.value"
                params.insert(0, json.dumps(sorted(by_ref[name])))
                psource = "json_each(?) j CROSS JOIN package_facts p"
                pwhere, pparams = (
                    "p.shop = ? AND p.order_id = j.value",
                    [json.dumps(sorted(by_ref[name])), name],
                )
            else:
                source = "order_facts f"
                psource, pwhere, pparams = "package_facts p", "p.shop = ?", [name]
            of = _query(
                conn,
                f"SELECT {_ORDER_COLS} FROM {source} CROSS JOIN orders o WHERE {where}"
                " AND o.shop = f.shop AND o.order_id = f.order_id",
                params,
            )
            pf = _query(conn, f"SELECT {_PACKAGE_COLS} FROM {psource} WHERE {pwhere}", pparams)
        if name in in_memory and (date_from is not None or date_to is not None):
            lo, hi = _bounds(date_from, info, end=False), _bounds(date_to, info, end=True)
            created = pd.to_numeric(of["created_at"], errors="coerce")
            keep = pd.Series(True, index=of.index)
            if lo is not None:
                keep &= created >= lo
            if hi is not None:
                keep &= created <= hi
            of = of[keep]
        order_frames.append(of)
        package_frames.append(pf)
    orders = pd.concat(order_frames, ignore_index=True) if order_frames else pd.DataFrame()
    packages = pd.concat(package_frames, ignore_index=True) if package_frames else pd.DataFrame()
    if len(orders):
        orders = orders.sort_values(["created_at", "order_id"], ascending=False, kind="stable")
        orders = orders.reset_index(drop=True)
        keys = pd.MultiIndex.from_frame(orders[["shop", "order_id"]])
        if len(packages):
            pkeys = pd.MultiIndex.from_frame(packages[["shop", "order_id"]])
            rank = pd.Series(np.arange(len(orders)), index=keys)
            packages = packages[pkeys.isin(keys)].copy()
            pkeys = pd.MultiIndex.from_frame(packages[["shop", "order_id"]])
            packages["_order_rank"] = rank.reindex(pkeys).to_numpy()
            packages = packages.sort_values(["_order_rank", "position"], kind="stable").reset_index(
                drop=True
            )
    when = (
        (now or datetime.now(UTC)).timestamp() if (now is None or now.tzinfo is not None) else None
    )
    if when is None:  # a naive ``now`` is shop-local: the first selected shop's clock
        assert now is not None
        first = shops[names[0]] if names else None
        when = now.replace(tzinfo=UTC).timestamp() - (first.offset_s if first else 0)
    return _Selection(orders, packages, shops, wanted, when)


# ---- columns -----------------------------------------------------------------------
def _f(df: pd.DataFrame, col: str) -> np.ndarray:
    """A column as float64 (missing → nan)."""
    if col not in df or not len(df):
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _b(df: pd.DataFrame, col: str) -> np.ndarray:
    return np.nan_to_num(_f(df, col), nan=0.0).astype(bool)


def _local(df: pd.DataFrame, col: str, sel: _Selection) -> pd.Series:
    """Unix seconds → shop-local naive datetime64[ns] (each row in its own shop's clock)."""
    secs = _f(df, col)
    if not len(df):
        return pd.Series([], dtype=DATETIME)
    offsets = df["shop"].map({k: v.offset_s for k, v in sel.shops.items()}).to_numpy(dtype=float)
    local = secs + offsets
    out = pd.to_datetime(local, unit="s", errors="coerce")
    return pd.Series(out, index=df.index).astype(DATETIME)


def _settings_of(df: pd.DataFrame, sel: _Selection) -> list[tuple[np.ndarray, RuleSettings]]:
    """Row masks per distinct settings (usually one)."""
    if not len(df):
        return []
    groups: dict[RuleSettings, list[str]] = {}
    for name in df["shop"].unique():
        groups.setdefault(
            sel.shops[name].settings if name in sel.shops else DEFAULT_SETTINGS, []
        ).append(name)
    shop_col = df["shop"].to_numpy()
    return [(np.isin(shop_col, names), s) for s, names in groups.items()]


def _per_settings(
    df: pd.DataFrame, sel: _Selection, fn: Any, *arrays: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Run a clock_frame function with each shop's settings, rows recombined."""
    parts = _settings_of(df, sel)
    if len(parts) == 1:
        return fn(*arrays, sel.now, parts[0][1])
    outs: list[np.ndarray] | None = None
    for mask, settings in parts:
        res = fn(*(a[mask] for a in arrays), sel.now, settings)
        if outs is None:
            outs = [np.empty(len(df), dtype=r.dtype if r.dtype != bool else bool) for r in res]
            outs = [
                o.astype(object) if r.dtype == object else o for o, r in zip(outs, res, strict=True)
            ]
        for o, r in zip(outs, res, strict=True):
            o[mask] = r
    return tuple(outs or ())


def _frame(
    columns: tuple[Column, ...], data: dict[str, Any], sel: _Selection, n: int
) -> pd.DataFrame:
    out: dict[str, pd.Series] = {}
    for col in columns:
        value = data.get(col.name)
        if value is None:
            value = [None] * n
        out[col.name] = _typed(value, col.dtype, n)
    df = pd.DataFrame(out, columns=[c.name for c in columns])
    shops = sorted(set(df["Shop"].dropna())) if n else []
    df.attrs["timezones"] = {s: sel.shops[s].label for s in shops if s in sel.shops}
    zones = sorted(set(df.attrs["timezones"].values()))
    df.attrs["tz"] = zones[0] if len(zones) == 1 else None
    return df


def _typed(value: Any, dtype: str, n: int) -> pd.Series:
    s = value if isinstance(value, pd.Series) else pd.Series(value)
    s = s.reset_index(drop=True)
    if dtype == DATETIME:
        return s.astype(DATETIME) if len(s) else pd.Series([], dtype=DATETIME)
    if dtype == FLOAT:
        return pd.to_numeric(s, errors="coerce").astype(FLOAT)
    if dtype == STRING:
        obj = s.astype(object)
        obj = obj.where(obj.notna(), None)
        return obj.astype(STRING)
    if dtype == INT:
        return pd.to_numeric(s, errors="coerce").astype(INT)
    if dtype == BOOL:
        return s.astype(object).where(s.notna(), None).astype(BOOL)
    raise ValueError(dtype)


def _blank(values: Any) -> pd.Series:
    """Empty text → missing (the sheets show blank, not "")."""
    s = pd.Series(values, dtype=object)
    return s.where(s.notna() & (s != ""), None)


def _order_clock(sel: _Selection) -> dict[str, np.ndarray]:
    """Clock-dependent order columns (status, deadline, stuck, sorting centre, unsettled)."""
    o, p = sel.orders, sel.packages
    n = len(o)
    status = (
        status_frame(o["status"].to_numpy(dtype=object), _f(o, "delayed_after"), sel.now)
        if n
        else np.array([], dtype=object)
    )
    hours, at_risk, late = (
        _per_settings(
            o, sel, rts_frame, _f(o, "rts_deadline"), _b(o, "rts_open"), _b(o, "rts_late")
        )
        if n
        else (np.array([]),) * 3
    )
    overdue, since = (
        _per_settings(
            o,
            sel,
            unsettled_frame,
            _f(o, "settlement_lines").astype(np.int64),
            _f(o, "delivered_at"),
        )
        if n
        else (np.array([]),) * 2
    )
    stuck_any = np.zeros(n, dtype=bool)
    sorting = np.full(n, None, dtype=object)
    if n and len(p):
        pk = _package_clock(sel)
        rank_of_order = p["_order_rank"].to_numpy(dtype=np.int64)
        np.logical_or.at(stuck_any, rank_of_order, pk["stuck"])
        applies = _b(p, "sorting_applies")
        if applies.any():
            arrived = np.nan_to_num(_f(p, "sc_arrived_at"), nan=0.0)
            # the parcel that speaks for the order: flagged, else on its way, else latest arrival
            tie = np.where(pk["rank"] == 2, -arrived, p["position"].to_numpy(dtype=float))
            idx = np.flatnonzero(applies)
            order = np.lexsort((tie[idx], pk["rank"][idx], rank_of_order[idx]))
            chosen = idx[order]
            first = np.unique(rank_of_order[chosen], return_index=True)
            sorting[first[0]] = pk["label"][chosen[first[1]]]
    return {
        "status": status,
        "hours": hours,
        "at_risk": at_risk,
        "late": late,
        "overdue": overdue,
        "since": since,
        "stuck": stuck_any,
        "sorting": sorting,
    }


def _package_clock(sel: _Selection) -> dict[str, np.ndarray]:
    p = sel.packages
    stuck, idle = _per_settings(p, sel, stuck_frame, _b(p, "can_stick"), _f(p, "idle_since"))
    label, days, late, rank = _per_settings(
        p,
        sel,
        sorting_frame,
        _f(p, "sc_arrived_at"),
        _f(p, "sc_days"),
        _b(p, "sc_late"),
        _b(p, "sc_handed_over"),
        _f(p, "rts_at"),
    )
    return {"stuck": stuck, "idle": idle, "label": label, "days": days, "late": late, "rank": rank}


def _round(values: np.ndarray) -> np.ndarray:
    return np.round(values.astype(float), 2)


def _orders_frame(sel: _Selection) -> pd.DataFrame:
    o = sel.orders
    n = len(o)
    if not n:
        return _frame(TABLES["orders"], {}, sel, 0)
    c = _order_clock(sel)
    data = {
        "Shop": o["shop"],
        "Order number": o["order_number"],
        "Order id": o["order_id"],
        "Created": _local(o, "created_at", sel),
        "Updated": _local(o, "updated_at", sel),
        "Status": c["status"],
        "Item statuses": o["item_counts"],
        "Items": o["items"],
        "Products": o["products"],
        "Total": o["total"],
        "Currency": o["currency"],
        "Buyer": o["buyer_name"],
        "Payment method": o["payment_method"],
        "Promised shipping": _local(o, "promised_at", sel),
        "RTS deadline": _local(o, "rts_deadline", sel),
        "Hours left": _round(c["hours"]),
        "At risk": c["at_risk"],
        "RTS late": c["late"],
        "Ready to ship at": _local(o, "rts_at", sel),
        "Tracking numbers": o["tracking_numbers"],
        "Packages": o["packages"],
        "Last checkpoint": o["last_title"],
        "Last checkpoint time": _local(o, "last_time", sel),
        "Sorting centre": c["sorting"],
        "Stuck": c["stuck"],
        "Delivered": _local(o, "delivered_at", sel),
        "Settlement net": o["net"],
        "Settlement state": o["settlement_state"],
        "Unsettled": c["overdue"],
        "Remarks": o["remarks"],
    }
    return _frame(TABLES["orders"], data, sel, n)


def _picked_packages(sel: _Selection) -> pd.DataFrame:
    """The parcels a tracking/checkpoints table shows: all of the selected orders', or with
    refs only the named parcels of orders named by tracking number or package id."""
    p = sel.packages
    if sel.wanted is None or not len(p):
        return p
    o = sel.orders
    whole = o["order_id"].isin(sel.wanted) | o["order_number"].isin(sel.wanted)
    whole_rank = np.flatnonzero(whole.to_numpy())
    keep = np.isin(p["_order_rank"].to_numpy(dtype=np.int64), whole_rank)
    keep |= (
        p["package_id"].isin(sel.wanted).to_numpy()
        | p["tracking_number"].isin(sel.wanted).to_numpy()
    )
    return p[keep]


def _tracking_frame(sel: _Selection) -> pd.DataFrame:
    p = sel.packages
    if not len(p):
        return _frame(TABLES["tracking"], {}, sel, 0)
    pk = _package_clock(sel)
    order_status = _order_clock(sel)["status"] if len(sel.orders) else np.array([], dtype=object)
    keep = p.index.isin(_picked_packages(sel).index)
    p = p[keep]
    pk = {k: v[keep] for k, v in pk.items()}
    ranks = p["_order_rank"].to_numpy(dtype=np.int64)
    o = sel.orders
    applies = _b(p, "sorting_applies")
    data = {
        "Shop": p["shop"],
        "Order number": o["order_number"].to_numpy()[ranks],
        "Order id": p["order_id"],
        "Package id": p["package_id"],
        "Tracking number": _blank(p["tracking_number"]),
        "Carrier": _blank(p["carrier"]),
        "Item statuses": p["item_counts"],
        "Order status": order_status[ranks],
        "Ready to ship at": _local(p, "rts_at", sel),
        "Last checkpoint": p["last_title"],
        "Last status code": p["last_code"],
        "Last checkpoint time": _local(p, "last_time", sel),
        "Location": p["last_location"],
        "Days since last checkpoint": _round(pk["idle"]),
        "Sorting centre": np.where(applies, pk["label"], None),
        "Sorting centre arrival": _local(p, "sc_arrived_at", sel).where(applies),
        "Sorting centre location": np.where(applies, p["sc_location"].to_numpy(dtype=object), None),
        "Days to sorting centre": np.where(applies, _round(pk["days"]), np.nan),
        "Sorting centre late": pd.Series(pk["late"], dtype=object).where(applies, None),
        "Stuck": pk["stuck"],
        "Checkpoints": p["checkpoints"],
        "Final": _b(p, "final"),
    }
    return _frame(TABLES["tracking"], data, sel, len(p))


def _checkpoints_frame(cache: Any, sel: _Selection) -> pd.DataFrame:
    p = _picked_packages(sel)
    if not len(p):
        return _frame(TABLES["checkpoints"], {}, sel, 0)
    conn: sqlite3.Connection = cache.connection
    frames = []
    for name in p["shop"].unique():
        ids = p.loc[p["shop"] == name, "package_id"].unique().tolist()
        everything = sel.wanted is None and len(ids) == int(
            conn.execute("SELECT COUNT(*) FROM package_facts WHERE shop = ?", (name,)).fetchone()[0]
        )
        cols = (
            "c.shop, c.package_id, CAST(strftime('%s', c.event_time) AS INTEGER) AS t,"
            " c.status_code, c.title, c.description, c.location, c.id"
        )
        if everything:
            df = _query(conn, f"SELECT {cols} FROM checkpoints c WHERE c.shop = ?", (name,))
        else:
            df = _query(
                conn,
                f"SELECT {cols} FROM json_each(?) j CROSS JOIN checkpoints c"
                " WHERE c.shop = ? AND c.package_id = j.value",
                (json.dumps(ids), name),
            )
        frames.append(df)
    cps = pd.concat(frames, ignore_index=True)
    keyed = p[["shop", "package_id", "order_id", "tracking_number", "_order_rank", "position"]]
    keyed = keyed.drop_duplicates(["shop", "package_id"])
    cps = cps.merge(keyed, on=["shop", "package_id"], how="inner")
    cps = cps.sort_values(["_order_rank", "position", "t", "id"], kind="stable").reset_index(
        drop=True
    )
    ranks = cps["_order_rank"].to_numpy(dtype=np.int64)
    data = {
        "Shop": cps["shop"],
        "Order number": sel.orders["order_number"].to_numpy()[ranks],
        "Order id": cps["order_id"],
        "Package id": cps["package_id"],
        "Tracking number": _blank(cps["tracking_number"]),
        "Time": _local(cps, "t", sel),
        "Status code": cps["status_code"],
        "Title": _blank(cps["title"]),
        "Description": _blank(cps["description"]),
        "Location": _blank(cps["location"]),
    }
    return _frame(TABLES["checkpoints"], data, sel, len(cps))


def _settlements_frame(sel: _Selection) -> pd.DataFrame:
    o = sel.orders
    n = len(o)
    if not n:
        return _frame(TABLES["settlements"], {}, sel, 0)
    c = _order_clock(sel)
    data: dict[str, Any] = {
        "Shop": o["shop"],
        "Order number": o["order_number"],
        "Order id": o["order_id"],
        "Created": _local(o, "created_at", sel),
        "Status": c["status"],
        "Currency": o["currency"],
        "Net": o["net"],
        "Paid amount": o["paid"],
        "State": o["settlement_state"],
        "Lines": o["settlement_lines"],
        "Statements": o["statements"],
        "Last transaction": pd.to_datetime(
            o["last_transaction"], format="%Y-%m-%d", errors="coerce"
        ),
        "Delivered": _local(o, "delivered_at", sel),
        "Days since delivery": _round(c["since"]),
        "Unsettled": c["overdue"],
    }
    for col, header in zip(_KIND_COLUMNS, _KIND_HEADERS, strict=True):
        data[header] = o[col]
    return _frame(TABLES["settlements"], data, sel, n)


# ---- public ------------------------------------------------------------------------
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
    return _orders_frame(_select(cache, shop, date_from, date_to, refs, now, settings))


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
    return _tracking_frame(_select(cache, shop, date_from, date_to, refs, now, settings))


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
    return _checkpoints_frame(cache, _select(cache, shop, date_from, date_to, refs, now, settings))


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
    return _settlements_frame(_select(cache, shop, date_from, date_to, refs, now, settings))


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
    """Every sheet's frame (keys as in ``TABLES``) from one read of the facts: what a full
    refresh uses."""
    sel = _select(cache, shop, date_from, date_to, refs, now, settings)
    return {
        "orders": _orders_frame(sel),
        "tracking": _tracking_frame(sel),
        "checkpoints": _checkpoints_frame(cache, sel),
        "settlements": _settlements_frame(sel),
    }
