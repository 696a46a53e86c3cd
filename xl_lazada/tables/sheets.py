"""One function per sheet: the facts the cache keeps → a DataFrame of the declared columns.

Each takes ``(cache, *, shop, date_from, date_to, refs, now, settings)``: ``date_from``/
``date_to`` filter on the order's creation (a ``date`` is the whole shop-local day,
inclusive; a naive datetime is shop-local time); ``refs`` are order numbers, order ids,
tracking numbers or package ids (any mix, cleaned by :mod:`xl_lazada.refs`). An empty
selection gives an empty frame with the same columns and dtypes.

The rules ran when the data was synced (``order_facts`` / ``package_facts``); here only the
clock-dependent flags are applied, on whole columns (:mod:`xl_lazada.rules.clock_frame`).
The facts are read once (:mod:`.read`); :func:`all_tables` builds each column once and
hands text the tables share from one to the next (taken by row, not rebuilt from strings).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from ..gcpause import no_cycle_collection
from ..rules.clock_frame import (
    parcel_rank,
    rts_frame,
    sorting_frame,
    status_frame,
    stuck_frame,
    unsettled_frame,
)
from ..rules.settings import DEFAULT_SETTINGS, RuleSettings
from .columns import BOOL, DATETIME, FLOAT, INT, STRING, TABLES, Column
from .read import Cols, Selection, When, fetch, index_in_runs, n_rows, select, table_of, take

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

#: One table's columns as arrays of their declared dtypes, by header.
Typed = dict[str, Any]


def _take_some(cols: Cols, index: np.ndarray) -> Cols:
    """``take`` of sorted, distinct rows (``_picked``), without the copy when they are all
    the rows (no refs given)."""
    if len(index) == n_rows(cols) and (not len(index) or index[-1] == len(index) - 1):
        return cols
    return take(cols, index)


# ---- columns -----------------------------------------------------------------------
def _f(cols: Cols, name: str) -> np.ndarray:
    """A column as float64 (missing → nan); numeric columns already are (not a copy:
    callers never write into it)."""
    values = cols.get(name)
    if values is None:
        return np.full(n_rows(cols), np.nan)
    if values.dtype == np.float64:
        return values
    if values.dtype == object:
        return np.array(values, dtype=float)
    return values.astype(float)


def _b(cols: Cols, name: str) -> np.ndarray:
    return np.nan_to_num(_f(cols, name), nan=0.0).astype(bool)


_NAT = np.iinfo(np.int64).min


def _local(secs: np.ndarray, shops: np.ndarray | None, sel: Selection) -> np.ndarray:
    """Unix seconds → shop-local naive datetime64[ns] (each row in its own shop's clock;
    ``shops`` None: the selection has one shop)."""
    if shops is None or len(sel.names) <= 1:
        first = sel.shops.get(sel.names[0]) if sel.names else None
        offsets: np.ndarray | float = float(first.offset_s) if first else 0.0
    else:
        offsets = np.zeros(len(secs))
        for name in sel.names:
            offsets[shops == name] = float(sel.shops[name].offset_s)
    local = secs + offsets
    missing = np.isnan(local)
    ns = np.where(missing, 0, local).astype(np.int64) * 1_000_000_000
    ns[missing] = _NAT
    return ns.view("datetime64[ns]")


def _settings_of(shops: np.ndarray, sel: Selection) -> list[tuple[np.ndarray | None, RuleSettings]]:
    """Row masks per distinct settings (usually one, then the mask is None)."""
    groups: dict[RuleSettings, list[str]] = {}
    for name in sel.names:
        info = sel.shops.get(name)
        groups.setdefault(info.settings if info else DEFAULT_SETTINGS, []).append(name)
    if len(groups) <= 1:
        return [(None, next(iter(groups), DEFAULT_SETTINGS))]
    return [(np.isin(shops, names), s) for s, names in groups.items()]


def _per_settings(
    shops: np.ndarray, sel: Selection, fn: Any, *arrays: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Run a clock_frame function with each shop's settings, rows recombined."""
    parts = _settings_of(shops, sel)
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


def _typed(value: Any, dtype: str, n: int) -> Any:
    """One column as the declared dtype (from an array built above; an extension array of
    that dtype, e.g. taken from another table's column, is used as it is)."""
    if value is None:
        value = np.full(n, None, dtype=object)
    if isinstance(value, pd.api.extensions.ExtensionArray) and str(value.dtype) == dtype:
        return value
    if dtype == DATETIME:
        return pd.array(np.asarray(value).astype("datetime64[ns]"), copy=False)
    if dtype == FLOAT:
        return np.array(value, dtype=float)  # a copy: no two frames share a float column
    if dtype == STRING:
        return pd.array(np.asarray(value, dtype=object), dtype=STRING)
    if dtype == INT:
        return pd.array(np.array(value, dtype=float), dtype=INT)
    if dtype == BOOL:
        arr = np.asarray(value)
        if arr.dtype == bool:
            return pd.array(arr, dtype=BOOL)
        return pd.array(arr.astype(object), dtype=BOOL)
    raise ValueError(dtype)


def _typed_all(columns: tuple[Column, ...], data: dict[str, Any], n: int) -> Typed:
    return {col.name: _typed(data.get(col.name), col.dtype, n) for col in columns}


def _shops_in(shops: np.ndarray | None, sel: Selection, n: int) -> list[str]:
    """The shops that have rows in a table (sorted; ``shops`` None: the selection's one)."""
    if not n:
        return []
    if shops is None or len(sel.names) == 1:
        return list(sel.names)
    return sorted(name for name in sel.names if bool(np.any(shops == name)))


def _frame(
    columns: tuple[Column, ...], typed: Typed, sel: Selection, shops: np.ndarray | None
) -> pd.DataFrame:
    df = pd.DataFrame(typed, columns=[c.name for c in columns], copy=False)
    names = _shops_in(shops, sel, len(df))
    df.attrs["timezones"] = {s: sel.shops[s].label for s in names if s in sel.shops}
    zones = sorted(set(df.attrs["timezones"].values()))
    df.attrs["tz"] = zones[0] if len(zones) == 1 else None
    return df


def _empty(name: str, sel: Selection) -> pd.DataFrame:
    columns = TABLES[name]
    return _frame(columns, _typed_all(columns, {}, 0), sel, np.empty(0, dtype=object))


def _blank(values: np.ndarray) -> np.ndarray:
    """Empty text → missing (the sheets show blank, not "")."""
    out = values.copy()
    out[out == ""] = None
    return out


def _clocks(sel: Selection) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The orders' and the parcels' clock-dependent columns, each judged once."""
    parcels = _package_clock(sel) if n_rows(sel.packages) else {}
    return _order_clock(sel, parcels), parcels


def _order_clock(sel: Selection, parcels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Clock-dependent order columns (status, deadline, stuck, sorting centre, unsettled),
    from the parcels' (``_package_clock``)."""
    o, p = sel.orders, sel.packages
    n = n_rows(o)
    shops = o["shop"]
    status = status_frame(o["status"], _f(o, "delayed_after"), sel.now)
    hours, at_risk, late = _per_settings(
        shops, sel, rts_frame, _f(o, "rts_deadline"), _b(o, "rts_open"), _b(o, "rts_late")
    )
    lines = np.nan_to_num(_f(o, "settlement_lines")).astype(np.int64)
    overdue, since = _per_settings(shops, sel, unsettled_frame, lines, _f(o, "delivered_at"))
    stuck_any = np.zeros(n, dtype=bool)
    sorting = np.full(n, None, dtype=object)
    if n_rows(p):
        pk = parcels
        owner = p["_order"]
        np.logical_or.at(stuck_any, owner, pk["stuck"])
        idx = np.flatnonzero(_b(p, "sorting_applies"))
        if len(idx):
            # the parcel that speaks for the order (rules.clock.parcel_rank): per order, the
            # smallest (rank, tie); parcels are in position order, so a tie keeps the first
            rank = pk["rank"][idx]
            tie = parcel_rank(rank, _f(p, "sc_arrived_at")[idx], _f(p, "position")[idx])
            order = idx[np.lexsort((tie, rank, owner[idx]))]
            rows, first = np.unique(owner[order], return_index=True)
            sorting[rows] = pk["label"][order[first]]
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


def _package_clock(sel: Selection) -> dict[str, np.ndarray]:
    p = sel.packages
    shops = p["shop"]
    stuck, idle = _per_settings(shops, sel, stuck_frame, _b(p, "can_stick"), _f(p, "idle_since"))
    label, days, late, rank = _per_settings(
        shops,
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


def _order_columns(sel: Selection, clock: dict[str, np.ndarray]) -> Typed:
    o = sel.orders
    n = n_rows(o)
    c = clock
    shops = o["shop"]

    def local(name: str) -> np.ndarray:
        return _local(_f(o, name), shops, sel)

    data = {
        "Shop": shops,
        "Order number": o["order_number"],
        "Order id": o["order_id"],
        "Created": local("created_at"),
        "Updated": local("updated_at"),
        "Status": c["status"],
        "Item statuses": o["item_counts"],
        "Items": o["items"],
        "Products": o["products"],
        "Total": _f(o, "total"),
        "Currency": o["currency"],
        "Buyer": o["buyer_name"],
        "Payment method": o["payment_method"],
        "Promised shipping": local("promised_at"),
        "RTS deadline": local("rts_deadline"),
        "Hours left": _round(c["hours"]),
        "At risk": c["at_risk"],
        "RTS late": c["late"],
        "Ready to ship at": local("rts_at"),
        "Tracking numbers": o["tracking_numbers"],
        "Packages": o["packages"],
        "Last checkpoint": o["last_title"],
        "Last checkpoint time": local("last_time"),
        "Sorting centre": c["sorting"],
        "Stuck": c["stuck"],
        "Delivered": local("delivered_at"),
        "Settlement net": _f(o, "net"),
        "Settlement state": o["settlement_state"],
        "Unsettled": c["overdue"],
        "Remarks": o["remarks"],
    }
    return _typed_all(TABLES["orders"], data, n)


def _orders_frame(sel: Selection) -> pd.DataFrame:
    if not n_rows(sel.orders):
        return _empty("orders", sel)
    typed = _order_columns(sel, _clocks(sel)[0])
    return _frame(TABLES["orders"], typed, sel, sel.orders["shop"])


def _picked(sel: Selection) -> np.ndarray:
    """Rows of ``sel.packages`` a tracking/checkpoints table shows: all of the selected
    orders' parcels, or with refs only the named parcels of orders named by tracking
    number or package id."""
    p = sel.packages
    n = n_rows(p)
    if sel.wanted is None or not n:
        return np.arange(n)
    o = sel.orders
    wanted = sel.wanted

    def named(values: np.ndarray) -> np.ndarray:
        return np.fromiter((v in wanted for v in values), dtype=bool, count=len(values))

    whole = named(o["order_id"]) | named(o["order_number"])
    keep = whole[p["_order"]]
    keep |= named(p["package_id"]) | named(p["tracking_number"])
    return np.flatnonzero(keep)


def _tracking_columns(
    sel: Selection,
    clock: dict[str, np.ndarray],
    parcels: dict[str, np.ndarray],
    orders: Typed | None = None,
) -> tuple[Typed, np.ndarray]:
    """The tracking table's columns; with the orders table's, its order-level text is
    taken from them (no second pass over the same strings)."""
    pick = _picked(sel)
    pk = _take_some(parcels, pick)
    p = _take_some(sel.packages, pick)
    owner = p["_order"]
    shops = p["shop"]
    applies = _b(p, "sorting_applies")
    sc_late = pk["late"].astype(object)
    sc_late[~applies] = None
    data: dict[str, Any] = {
        "Package id": p["package_id"],
        "Tracking number": _blank(p["tracking_number"]),
        "Carrier": _blank(p["carrier"]),
        "Item statuses": p["item_counts"],
        "Ready to ship at": _local(_f(p, "rts_at"), shops, sel),
        "Last checkpoint": p["last_title"],
        "Last status code": p["last_code"],
        "Last checkpoint time": _local(_f(p, "last_time"), shops, sel),
        "Location": p["last_location"],
        "Days since last checkpoint": _round(pk["idle"]),
        "Sorting centre": np.where(applies, pk["label"], np.array(None, dtype=object)),
        "Sorting centre arrival": np.where(
            applies, _local(_f(p, "sc_arrived_at"), shops, sel), np.datetime64("NaT", "ns")
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
    if orders is not None:
        for header in ("Shop", "Order number", "Order id"):
            data[header] = orders[header].take(owner)
        data["Order status"] = orders["Status"].take(owner)
    else:
        data["Shop"] = shops
        data["Order number"] = sel.orders["order_number"][owner]
        data["Order id"] = p["order_id"]
        data["Order status"] = clock["status"][owner]
    return _typed_all(TABLES["tracking"], data, len(pick)), shops


def _tracking_frame(
    sel: Selection,
) -> pd.DataFrame:
    if not n_rows(sel.packages):
        return _empty("tracking", sel)
    order_clock, parcels = _clocks(sel)
    typed, shops = _tracking_columns(sel, order_clock, parcels)
    return _frame(TABLES["tracking"], typed, sel, shops)


#: Event time text → Unix seconds in SQLite: ``unixepoch`` (3.38+) is the same number as
#: ``strftime('%s')`` for the cache's ISO times, at a tenth of the checkpoints query's cost.
_EPOCH_SQL = (
    "unixepoch(c.event_time)"
    if sqlite3.sqlite_version_info >= (3, 38)
    else "CAST(strftime('%s', c.event_time) AS INTEGER)"
)
#: The event's own columns, after its parcel and time (the order of the fetched table).
_EVENT_TEXT = ("Status code", "Title", "Description", "Location")
_CHECKPOINT_SQL = (
    f"c.package_id, {_EPOCH_SQL} AS t, c.status_code, NULLIF(c.title, '') AS title,"
    " NULLIF(c.description, '') AS description, NULLIF(c.location, '') AS location"
)
#: A parcel's columns that every one of its events repeats.
_PARCEL_TEXT = ("Shop", "Order number", "Order id", "Package id", "Tracking number")


def _events(conn: sqlite3.Connection, sel: Selection, p: Cols) -> tuple[np.ndarray, np.ndarray]:
    """The picked parcels' events as one object table (package id, seconds, then the
    ``_EVENT_TEXT`` columns; in storage order) and each event's row in ``p``."""
    tables, rows = [], []
    shops = p["shop"]
    for name in sel.names:
        mine = np.flatnonzero(shops == name) if len(sel.names) > 1 else None
        ids = p["package_id"] if mine is None else p["package_id"][mine]
        if not len(ids):
            continue
        whole = sel.whole
        if not whole:
            total = conn.execute(
                "SELECT COUNT(*) FROM package_facts WHERE shop = ?", (name,)
            ).fetchone()[0]
            whole = len(set(ids.tolist())) >= int(total)
        if whole:
            # The whole shop: one pass over the table in storage order beats an index walk.
            sql = f"SELECT {_CHECKPOINT_SQL} FROM checkpoints c NOT INDEXED WHERE c.shop = ?"
            found, _ = fetch(conn, sql, (name,))
        else:
            sql = (
                f"SELECT {_CHECKPOINT_SQL} FROM json_each(?) j CROSS JOIN checkpoints c"
                " WHERE c.shop = ? AND c.package_id = j.value ORDER BY c.id"
            )
            found, _ = fetch(conn, sql, (json.dumps(sorted(set(ids.tolist()))), name))
        if not found:
            continue
        table = table_of(found, 6)
        del found
        row = index_in_runs(ids, table[:, 0])
        if mine is not None:
            row = np.where(row >= 0, mine[np.maximum(row, 0)], -1)
        tables.append(table)
        rows.append(row)
    if not tables:
        return np.empty((0, 6), dtype=object), np.empty(0, dtype=np.int64)
    if len(tables) == 1:
        return tables[0], rows[0]
    return np.concatenate(tables), np.concatenate(rows)


def _checkpoint_columns(
    cache: Any, sel: Selection, tracking: Typed | None = None
) -> tuple[Typed, np.ndarray | None] | None:
    """The checkpoints table's columns and each row's shop (None: no events). A parcel's
    own text comes from the tracking table's columns when given (taken per event, not
    built again from strings)."""
    pick = _picked(sel)
    if not len(pick):
        return None
    p = _take_some(sel.packages, pick)
    table, row = _events(cache.connection, sel, p)
    keep = np.flatnonzero(row >= 0)
    if not len(keep):
        return None
    if len(keep) < len(row):
        table, row = table[keep], row[keep]
    owner = p["_order"][row]
    # One int64 key: order row, parcel position, event second (arrival order kept on ties).
    seconds = table[:, 1].astype(float)
    t = np.nan_to_num(seconds).astype(np.int64)
    t -= t.min() if len(t) else 0
    position = np.minimum(np.nan_to_num(_f(p, "position")).astype(np.int64)[row], 63)
    order = np.argsort((owner << 38) | (position << 32) | np.minimum(t, 2**32 - 1), kind="stable")
    row = row[order]
    # The event's own text moves as whole rows (one pass); the parcel's comes from its row.
    text = table[order, 2:]
    del table
    # Each event's shop (one shop: the same name everywhere, no gather).
    shops = p["shop"][row] if len(sel.names) > 1 else None  # one shop: no per-event copy
    if tracking is None:
        parcel = {
            "Shop": p["shop"],
            "Order number": sel.orders["order_number"][p["_order"]],
            "Order id": p["order_id"],
            "Package id": p["package_id"],
            "Tracking number": _blank(p["tracking_number"]),
        }
        tracking = {h: _typed(v, STRING, len(pick)) for h, v in parcel.items()}
    data: dict[str, Any] = {h: tracking[h].take(row) for h in _PARCEL_TEXT}
    data["Time"] = _local(seconds[order], shops, sel)
    for i, header in enumerate(_EVENT_TEXT):
        # not copied: the moved rows are this table's own
        data[header] = pd.array(text[:, i], dtype=STRING, copy=False)
    return _typed_all(TABLES["checkpoints"], data, len(order)), shops


def _checkpoints_frame(cache: Any, sel: Selection, tracking: Typed | None = None) -> pd.DataFrame:
    built = _checkpoint_columns(cache, sel, tracking)
    if built is None:
        return _empty("checkpoints", sel)
    typed, shops = built
    return _frame(TABLES["checkpoints"], typed, sel, shops)


def _settlement_columns(
    sel: Selection, clock: dict[str, np.ndarray], orders: Typed | None = None
) -> Typed:
    """The settlements table's columns; with the orders table's, the text both show is
    the same arrays (no second pass over the same strings)."""
    o = sel.orders
    n = n_rows(o)
    c = clock
    shops = o["shop"]
    data: dict[str, Any] = {
        "Shop": shops,
        "Order number": o["order_number"],
        "Order id": o["order_id"],
        "Created": _local(_f(o, "created_at"), shops, sel),
        "Status": c["status"],
        "Currency": o["currency"],
        "Net": _f(o, "net"),
        "Paid amount": _f(o, "paid"),
        "State": o["settlement_state"],
        "Lines": o["settlement_lines"],
        "Statements": o["statements"],
        "Last transaction": _day(o["last_transaction"]),
        "Delivered": _local(_f(o, "delivered_at"), shops, sel),
        "Days since delivery": _round(c["since"]),
        "Unsettled": c["overdue"],
    }
    if orders is not None:  # the same text as the orders table's, in its own arrays
        for header in ("Shop", "Order number", "Order id", "Status", "Currency"):
            data[header] = orders[header].copy()
        data["State"] = orders["Settlement state"].copy()
    for col, header in zip(_KIND_COLUMNS, _KIND_HEADERS, strict=True):
        data[header] = _f(o, col)
    return _typed_all(TABLES["settlements"], data, n)


def _day(values: np.ndarray) -> np.ndarray:
    """ISO date text (blank: none) → datetime64[ns] at midnight; each distinct date is
    parsed once (a shop's lines fall on a few dozen days)."""
    codes, distinct = pd.factorize(values)
    days = np.asarray(distinct, dtype=object).astype("datetime64[D]")
    return np.append(days, np.datetime64("NaT", "D"))[codes].astype("datetime64[ns]")


def _settlements_frame(
    sel: Selection,
) -> pd.DataFrame:
    if not n_rows(sel.orders):
        return _empty("settlements", sel)
    typed = _settlement_columns(sel, _clocks(sel)[0])
    return _frame(TABLES["settlements"], typed, sel, sel.orders["shop"])


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
    with no_cycle_collection():
        return _orders_frame(select(cache, shop, date_from, date_to, refs, now, settings))


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
    with no_cycle_collection():
        return _tracking_frame(select(cache, shop, date_from, date_to, refs, now, settings))


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
    with no_cycle_collection():
        return _checkpoints_frame(
            cache, select(cache, shop, date_from, date_to, refs, now, settings)
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
    with no_cycle_collection():
        return _settlements_frame(select(cache, shop, date_from, date_to, refs, now, settings))


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
    with no_cycle_collection():
        sel = select(cache, shop, date_from, date_to, refs, now, settings)
        if not n_rows(sel.orders):
            return {name: _empty(name, sel) for name in TABLES}
        clock, parcels = _clocks(sel)
        orders = _order_columns(sel, clock)
        frames = {"orders": _frame(TABLES["orders"], orders, sel, sel.orders["shop"])}
        if n_rows(sel.packages):
            tracking, shops = _tracking_columns(sel, clock, parcels, orders)
            frames["tracking"] = _frame(TABLES["tracking"], tracking, sel, shops)
            frames["checkpoints"] = _checkpoints_frame(cache, sel, tracking)
        else:
            frames["tracking"] = _empty("tracking", sel)
            frames["checkpoints"] = _empty("checkpoints", sel)
        settlements = _settlement_columns(sel, clock, orders)
        frames["settlements"] = _frame(TABLES["settlements"], settlements, sel, sel.orders["shop"])
        return {name: frames[name] for name in TABLES}
