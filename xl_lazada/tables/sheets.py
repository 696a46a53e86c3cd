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

import gc
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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


Cols = dict[str, np.ndarray]


def _query(conn: sqlite3.Connection, sql: str, params: Iterable[Any] = ()) -> Cols:
    """A SELECT as one object array per column (no per-row Python beyond the fetch).

    Plain tuples, not the connection's ``sqlite3.Row``: NumPy copies tuples in C but walks
    a Row through the sequence protocol (a fifth of a 100,000-order refresh)."""
    cur = conn.cursor()
    cur.row_factory = None
    cur.execute(sql, tuple(params))
    names = [d[0] for d in cur.description]
    return _cols_of(cur.fetchall(), names)


def _take(cols: Cols, index: np.ndarray) -> Cols:
    return {k: v[index] for k, v in cols.items()}


def _take_some(cols: Cols, index: np.ndarray) -> Cols:
    """``_take`` of sorted, distinct rows (``_picked``), without the copy when they are all
    the rows (no refs given)."""
    if len(index) == _n(cols) and (not len(index) or index[-1] == len(index) - 1):
        return cols
    return _take(cols, index)


def _concat(parts: list[Cols]) -> Cols:
    if not parts:
        return {}
    if len(parts) == 1:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _n(cols: Cols) -> int:
    return len(next(iter(cols.values()))) if cols else 0


@dataclass(slots=True)
class _Selection:
    orders: Cols
    packages: Cols  # with "_order" (row of its order in ``orders``), sorted by order then position
    shops: dict[str, _ShopRow]
    wanted: set[str] | None  # cleaned refs (to pick parcels within orders), None = all
    now: float


_ORDER_COLS = (
    "f.shop, f.order_id, f.order_number, f.created_at, f.status, f.delayed_after,"
    " f.item_counts, f.items, f.products, f.total, f.currency, f.promised_at, f.rts_deadline,"
    " f.rts_open, f.rts_late, f.rts_at, f.tracking_numbers, f.packages, f.last_time,"
    " f.last_title, f.delivered_at, f.settlement_lines, f.settlement_state, f.net, f.paid,"
    " f.item_price, f.commission, f.payment_fee, f.shipping, f.reversals, f.penalties,"
    " f.other, f.statements, f.last_transaction, f.updated_at, f.buyer_name,"
    " f.payment_method, f.remarks"
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


def _cols_of(rows: list[tuple[Any, ...]], names: Iterable[str]) -> Cols:
    """Rows → one object array per column (one C-level copy, not a Python loop)."""
    names = list(names)
    if not rows:
        return {n: np.empty(0, dtype=object) for n in names}
    table = np.empty((len(rows), len(names)), dtype=object)
    table[:] = rows
    return {n: table[:, i] for i, n in enumerate(names)}


def _in_memory(
    conn: sqlite3.Connection, shop: str, ids: list[str], settings: RuleSettings
) -> tuple[Cols, Cols]:
    """Facts computed now rather than read (a read-only cache asked for other settings)."""
    order_rows, package_rows, _ = cache_facts.fact_rows(conn, shop, ids, settings)
    of = _cols_of(order_rows, cache_facts.ORDER_FACT_COLUMNS)
    pf = _cols_of(package_rows, cache_facts.PACKAGE_FACT_COLUMNS)
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
    order_parts, package_parts = [], []
    for name in names:
        info = shops[name]
        lo, hi = _bounds(date_from, info, end=False), _bounds(date_to, info, end=True)
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
            created = _f(of, "created_at")
            keep = np.ones(len(created), dtype=bool)
            if lo is not None:
                keep &= created >= lo
            if hi is not None:
                keep &= created <= hi
            of = _take(of, np.flatnonzero(keep))
        else:
            where = "f.shop = ?"
            params: list[Any] = [name]
            if lo is not None:
                where += " AND f.created_at >= ?"
                params.append(lo)
            if hi is not None:
                where += " AND f.created_at <= ?"
                params.append(hi)
            if by_ref is not None:
                ids_json = json.dumps(sorted(by_ref[name]))
                source = "json_each(?) j CROSS JOIN order_facts f"
                where += " AND f.order_id = j.value"
                params.insert(0, ids_json)
                psql = (
                    f"SELECT {_PACKAGE_COLS} FROM json_each(?) j CROSS JOIN package_facts p"
                    " WHERE p.shop = ? AND p.order_id = j.value"
                )
                pparams: list[Any] = [ids_json, name]
            else:
                source = "order_facts f"
                # In the orders' display order already (sorted by SQLite, not in Python).
                psql = (
                    f"SELECT {_PACKAGE_COLS} FROM package_facts p JOIN order_facts f"
                    " ON f.shop = p.shop AND f.order_id = p.order_id WHERE p.shop = ?"
                    " ORDER BY f.created_at DESC, f.order_id DESC, p.position"
                )
                pparams = [name]
            of = _query(
                conn,
                f"SELECT {_ORDER_COLS} FROM {source} WHERE {where}"
                " ORDER BY f.created_at DESC, f.order_id DESC",
                params,
            )
            pf = _query(conn, psql, pparams)
        order_parts.append(of)
        package_parts.append(pf)
    orders = _concat(order_parts)
    packages = _concat(package_parts)
    n = _n(orders)
    if n:
        # Newest first (creation time, then order id), as the sheets have always shown them;
        # SQLite already sorted each shop's rows, so only several shops need a sort here.
        if len(order_parts) > 1 or in_memory:
            order = np.lexsort((orders["order_id"].astype(str), _f(orders, "created_at")))[::-1]
            orders = _take(orders, order)
        if _n(packages):
            row = _rows_of(orders, "order_id", packages, "order_id")
            keep = np.flatnonzero(row >= 0)
            if len(keep) < len(row):
                packages, row = _take(packages, keep), row[keep]
            packages["_order"] = row
            position = np.nan_to_num(_f(packages, "position")).astype(np.int64)
            key = row * 4096 + np.minimum(position, 4095)
            if len(key) > 1 and not bool(np.all(key[1:] >= key[:-1])):
                packages = _take(packages, np.argsort(key, kind="stable"))
        else:
            packages["_order"] = np.empty(0, dtype=np.int64)
    else:
        packages = {}
    if now is None:
        when = datetime.now(UTC).timestamp()
    elif now.tzinfo is not None:
        when = now.timestamp()
    else:  # a naive ``now`` is shop-local: the (first) selected shop's clock
        first = shops[names[0]] if names else None
        when = now.replace(tzinfo=UTC).timestamp() - (first.offset_s if first else 0)
    return _Selection(orders, packages, shops, wanted, when)


def _rows_of(target: Cols, key: str, source: Cols, source_key: str) -> np.ndarray:
    """For each row of ``source``, the row of ``target`` with the same shop and ``key``
    (-1 if none): ids are unique within a shop, so one hash lookup per shop."""
    out = np.full(_n(source), -1, dtype=np.int64)
    t_shops, s_shops = target["shop"], source["shop"]
    names = dict.fromkeys(s_shops.tolist())
    for name in names:
        t_rows = (
            np.flatnonzero(t_shops == name) if len(names) > 1 or len(set(t_shops)) > 1 else None
        )
        s_rows = np.flatnonzero(s_shops == name) if len(names) > 1 else None
        t_keys = target[key] if t_rows is None else target[key][t_rows]
        s_keys = source[source_key] if s_rows is None else source[source_key][s_rows]
        found = pd.Index(t_keys).get_indexer(s_keys)
        if t_rows is not None:
            found = np.where(found >= 0, t_rows[np.maximum(found, 0)], -1)
        if s_rows is None:
            out[:] = found
        else:
            out[s_rows] = found
    return out


# ---- columns -----------------------------------------------------------------------
def _f(cols: Cols, name: str) -> np.ndarray:
    """A column as float64 (missing → nan)."""
    values = cols.get(name)
    if values is None:
        return np.full(_n(cols), np.nan)
    if values.dtype == object:
        return np.array(values, dtype=float)
    return values.astype(float)


def _b(cols: Cols, name: str) -> np.ndarray:
    return np.nan_to_num(_f(cols, name), nan=0.0).astype(bool)


_NAT = np.iinfo(np.int64).min


def _local(cols: Cols, name: str, sel: _Selection) -> np.ndarray:
    """Unix seconds → shop-local naive datetime64[ns] (each row in its own shop's clock)."""
    secs = _f(cols, name)
    shops = cols["shop"]
    if len(sel.shops) == 1 or len(set(shops)) <= 1:
        first = sel.shops.get(shops[0]) if len(shops) else None
        offsets: np.ndarray | float = float(first.offset_s) if first else 0.0
    else:
        lookup = {k: float(v.offset_s) for k, v in sel.shops.items()}
        offsets = np.array([lookup.get(s, 0.0) for s in shops])
    local = secs + offsets
    missing = np.isnan(local)
    ns = np.where(missing, 0, local).astype(np.int64) * 1_000_000_000
    ns[missing] = _NAT
    return ns.view("datetime64[ns]")


def _settings_of(cols: Cols, sel: _Selection) -> list[tuple[np.ndarray | None, RuleSettings]]:
    """Row masks per distinct settings (usually one, then the mask is None)."""
    shops = cols["shop"]
    groups: dict[RuleSettings, list[str]] = {}
    for name in dict.fromkeys(shops.tolist()):
        info = sel.shops.get(name)
        groups.setdefault(info.settings if info else DEFAULT_SETTINGS, []).append(name)
    if len(groups) <= 1:
        return [(None, next(iter(groups), DEFAULT_SETTINGS))]
    return [(np.isin(shops, names), s) for s, names in groups.items()]


def _per_settings(
    cols: Cols, sel: _Selection, fn: Any, *arrays: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Run a clock_frame function with each shop's settings, rows recombined."""
    parts = _settings_of(cols, sel)
    if parts[0][0] is None:
        return fn(*arrays, sel.now, parts[0][1])
    outs: list[np.ndarray] = []
    for mask, settings in parts:
        assert mask is not None
        res = fn(*(a[mask] for a in arrays), sel.now, settings)
        if not outs:
            outs = [np.empty(len(arrays[0]), dtype=r.dtype) for r in res]
        for o, r in zip(outs, res, strict=True):
            o[mask] = r
    return tuple(outs)


def _frame(
    columns: tuple[Column, ...], data: dict[str, Any], sel: _Selection, n: int
) -> pd.DataFrame:
    out: dict[str, Any] = {}
    for col in columns:
        out[col.name] = _typed(data.get(col.name), col.dtype, n)
    df = pd.DataFrame(out, columns=[c.name for c in columns], copy=False)
    shops = sorted(set(data["Shop"].tolist())) if n else []
    df.attrs["timezones"] = {s: sel.shops[s].label for s in shops if s in sel.shops}
    zones = sorted(set(df.attrs["timezones"].values()))
    df.attrs["tz"] = zones[0] if len(zones) == 1 else None
    return df


def _typed(value: Any, dtype: str, n: int) -> Any:
    """One column as the declared dtype (from an array built above)."""
    if value is None:
        value = np.full(n, None, dtype=object)
    if dtype == DATETIME:
        return pd.array(np.asarray(value).astype("datetime64[ns]"))
    if dtype == FLOAT:
        return (
            np.asarray(value, dtype=float)
            if np.asarray(value).dtype != object
            else np.array(value, dtype=float)
        )
    if dtype == STRING:
        arr = np.asarray(value, dtype=object)
        return pd.array(arr, dtype=STRING)
    if dtype == INT:
        return pd.array(np.array(value, dtype=float), dtype=INT)
    if dtype == BOOL:
        arr = np.asarray(value)
        if arr.dtype == bool:
            return pd.array(arr, dtype=BOOL)
        return pd.array(arr.astype(object), dtype=BOOL)
    raise ValueError(dtype)


def _blank(values: np.ndarray) -> np.ndarray:
    """Empty text → missing (the sheets show blank, not "")."""
    out = values.copy()
    out[out == ""] = None
    return out


def _order_clock(sel: _Selection) -> dict[str, np.ndarray]:
    """Clock-dependent order columns (status, deadline, stuck, sorting centre, unsettled)."""
    o, p = sel.orders, sel.packages
    n = _n(o)
    status = status_frame(o["status"], _f(o, "delayed_after"), sel.now)
    hours, at_risk, late = _per_settings(
        o, sel, rts_frame, _f(o, "rts_deadline"), _b(o, "rts_open"), _b(o, "rts_late")
    )
    lines = np.nan_to_num(_f(o, "settlement_lines")).astype(np.int64)
    overdue, since = _per_settings(o, sel, unsettled_frame, lines, _f(o, "delivered_at"))
    stuck_any = np.zeros(n, dtype=bool)
    sorting = np.full(n, None, dtype=object)
    if _n(p):
        pk = _package_clock(sel)
        owner = p["_order"].astype(np.int64)
        np.logical_or.at(stuck_any, owner, pk["stuck"])
        applies = _b(p, "sorting_applies")
        if applies.any():
            arrived = np.nan_to_num(_f(p, "sc_arrived_at"), nan=0.0)
            # the parcel that speaks for the order: flagged, else on its way, else latest arrival
            tie = np.where(pk["rank"] == 2, -arrived, _f(p, "position"))
            idx = np.flatnonzero(applies)
            order = np.lexsort((tie[idx], pk["rank"][idx], owner[idx]))
            chosen = idx[order]
            rows, first = np.unique(owner[chosen], return_index=True)
            sorting[rows] = pk["label"][chosen[first]]
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


def _orders_frame(sel: _Selection, clock: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    o = sel.orders
    n = _n(o)
    if not n:
        return _frame(TABLES["orders"], {}, sel, 0)
    c = clock or _order_clock(sel)
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
        "Total": _f(o, "total"),
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
        "Settlement net": _f(o, "net"),
        "Settlement state": o["settlement_state"],
        "Unsettled": c["overdue"],
        "Remarks": o["remarks"],
    }
    return _frame(TABLES["orders"], data, sel, n)


def _picked(sel: _Selection) -> np.ndarray:
    """Rows of ``sel.packages`` a tracking/checkpoints table shows: all of the selected
    orders' parcels, or with refs only the named parcels of orders named by tracking
    number or package id."""
    p = sel.packages
    n = _n(p)
    if sel.wanted is None or not n:
        return np.arange(n)
    o = sel.orders
    wanted = sel.wanted

    def named(values: np.ndarray) -> np.ndarray:
        return np.fromiter((v in wanted for v in values), dtype=bool, count=len(values))

    whole = named(o["order_id"]) | named(o["order_number"])
    keep = whole[p["_order"].astype(np.int64)]
    keep |= named(p["package_id"]) | named(p["tracking_number"])
    return np.flatnonzero(keep)


def _tracking_frame(sel: _Selection, clock: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    if not _n(sel.packages):
        return _frame(TABLES["tracking"], {}, sel, 0)
    order_status = (clock or _order_clock(sel))["status"]
    pick = _picked(sel)
    pk = _take_some(_package_clock(sel), pick)
    p = _take_some(sel.packages, pick)
    owner = p["_order"].astype(np.int64)
    applies = _b(p, "sorting_applies")
    sc_late = pk["late"].astype(object)
    sc_late[~applies] = None
    data = {
        "Shop": p["shop"],
        "Order number": sel.orders["order_number"][owner],
        "Order id": p["order_id"],
        "Package id": p["package_id"],
        "Tracking number": _blank(p["tracking_number"]),
        "Carrier": _blank(p["carrier"]),
        "Item statuses": p["item_counts"],
        "Order status": order_status[owner],
        "Ready to ship at": _local(p, "rts_at", sel),
        "Last checkpoint": p["last_title"],
        "Last status code": p["last_code"],
        "Last checkpoint time": _local(p, "last_time", sel),
        "Location": p["last_location"],
        "Days since last checkpoint": _round(pk["idle"]),
        "Sorting centre": np.where(applies, pk["label"], np.array(None, dtype=object)),
        "Sorting centre arrival": np.where(
            applies, _local(p, "sc_arrived_at", sel), np.datetime64("NaT", "ns")
        ),
        "Sorting centre location": np.where(
            applies, p["sc_location"], np.array(None, dtype=object)
        ),
        "Days to sorting centre": np.where(applies, _round(pk["days"]), np.nan),
        "Sorting centre late": sc_late,
        "Stuck": pk["stuck"],
        "Checkpoints": p["checkpoints"],
        "Final": _b(p, "final"),
    }
    return _frame(TABLES["tracking"], data, sel, len(pick))


#: Event time text → Unix seconds in SQLite: ``unixepoch`` (3.38+) is the same number as
#: ``strftime('%s')`` for the cache's ISO times, at a tenth of the checkpoints query's cost.
_EPOCH_SQL = (
    "unixepoch(c.event_time)"
    if sqlite3.sqlite_version_info >= (3, 38)
    else "CAST(strftime('%s', c.event_time) AS INTEGER)"
)


def _checkpoints_frame(cache: Any, sel: _Selection) -> pd.DataFrame:
    pick = _picked(sel)
    if not len(pick):
        return _frame(TABLES["checkpoints"], {}, sel, 0)
    conn: sqlite3.Connection = cache.connection
    p = _take_some(sel.packages, pick)
    parts = []
    for name in dict.fromkeys(p["shop"].tolist()):
        ids = sorted(set(p["package_id"][p["shop"] == name].tolist()))
        total = conn.execute(
            "SELECT COUNT(*) FROM package_facts WHERE shop = ?", (name,)
        ).fetchone()[0]
        cols = (
            f"c.package_id, {_EPOCH_SQL} AS t,"
            " c.status_code, NULLIF(c.title, '') AS title,"
            " NULLIF(c.description, '') AS description, NULLIF(c.location, '') AS location"
        )
        if len(ids) >= int(total):
            # The whole shop: one pass over the table in storage order beats an index walk.
            sql = f"SELECT {cols} FROM checkpoints c NOT INDEXED WHERE c.shop = ? ORDER BY c.id"
            part = _query(conn, sql, (name,))
        else:
            sql = (
                f"SELECT {cols} FROM json_each(?) j CROSS JOIN checkpoints c"
                " WHERE c.shop = ? AND c.package_id = j.value ORDER BY c.id"
            )
            part = _query(conn, sql, (json.dumps(ids), name))
        part["shop"] = np.full(_n(part), name, dtype=object)
        parts.append(part)
    cps = _concat(parts)
    if not _n(cps):
        return _frame(TABLES["checkpoints"], {}, sel, 0)
    row = _rows_of(p, "package_id", cps, "package_id")
    keep = np.flatnonzero(row >= 0)
    if len(keep) < len(row):
        cps, row = _take(cps, keep), row[keep]
    owner = p["_order"].astype(np.int64)[row]
    # One int64 key: order row, parcel position, event second (arrival order kept on ties).
    seconds = _f(cps, "t")
    t = np.nan_to_num(seconds).astype(np.int64)
    t -= t.min() if len(t) else 0
    position = np.minimum(np.nan_to_num(_f(p, "position")).astype(np.int64)[row], 63)
    order = np.argsort((owner << 38) | (position << 32) | np.minimum(t, 2**32 - 1), kind="stable")
    row, owner = row[order], owner[order]
    # Shop and package id are the parcel's (the join key): only the event's own text moves.
    shop = p["shop"][row]
    cps = {k: cps[k][order] for k in ("status_code", "title", "description", "location")}
    data = {
        "Shop": shop,
        "Order number": sel.orders["order_number"][owner],
        "Order id": p["order_id"][row],
        "Package id": p["package_id"][row],
        "Tracking number": _blank(p["tracking_number"][row]),
        "Time": _local({"t": seconds[order], "shop": shop}, "t", sel),
        "Status code": cps["status_code"],
        "Title": cps["title"],
        "Description": cps["description"],
        "Location": cps["location"],
    }
    return _frame(TABLES["checkpoints"], data, sel, len(order))


def _settlements_frame(sel: _Selection, clock: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    o = sel.orders
    n = _n(o)
    if not n:
        return _frame(TABLES["settlements"], {}, sel, 0)
    c = clock or _order_clock(sel)
    last = o["last_transaction"]
    data: dict[str, Any] = {
        "Shop": o["shop"],
        "Order number": o["order_number"],
        "Order id": o["order_id"],
        "Created": _local(o, "created_at", sel),
        "Status": c["status"],
        "Currency": o["currency"],
        "Net": _f(o, "net"),
        "Paid amount": _f(o, "paid"),
        "State": o["settlement_state"],
        "Lines": o["settlement_lines"],
        "Statements": o["statements"],
        "Last transaction": np.array(
            [v if v else "NaT" for v in last], dtype="datetime64[D]"
        ).astype("datetime64[ns]"),
        "Delivered": _local(o, "delivered_at", sel),
        "Days since delivery": _round(c["since"]),
        "Unsettled": c["overdue"],
    }
    for col, header in zip(_KIND_COLUMNS, _KIND_HEADERS, strict=True):
        data[header] = _f(o, col)
    return _frame(TABLES["settlements"], data, sel, n)


# ---- public ------------------------------------------------------------------------
@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of short-lived cells are built:
    none of them form cycles, and each collection would walk them all again (it doubled
    the time of a 100,000-order refresh)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


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
    with _bulk():
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
    with _bulk():
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
    with _bulk():
        return _checkpoints_frame(
            cache, _select(cache, shop, date_from, date_to, refs, now, settings)
        )


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
    with _bulk():
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
    with _bulk():
        sel = _select(cache, shop, date_from, date_to, refs, now, settings)
        clock = _order_clock(sel) if _n(sel.orders) else None
        return {
            "orders": _orders_frame(sel, clock),
            "tracking": _tracking_frame(sel, clock),
            "checkpoints": _checkpoints_frame(cache, sel),
            "settlements": _settlements_frame(sel, clock),
        }
