"""The sheet tables' one read of the cache: the selected orders' and parcels' stored facts as
column arrays, newest order first, each parcel linked to its order's row.

Rows come back from SQLite as plain tuples and are streamed once into a NumPy record array
(numbers as ``float64``, missing → ``nan``, so the clock rules and the frames never convert
a column again). Orders come along the creation index, already newest first; parcels in
storage order (a sort or a join in SQL would copy every fact row once more). Linking a
parcel to its order is one hash lookup; sorting is NumPy on whole rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from ..cache import facts as cache_facts
from ..cache.refindex import ref_rows
from ..refs import normalize_ref
from ..rules.settings import RuleSettings

When = date | datetime | None
Cols = dict[str, np.ndarray]

#: The ``order_facts`` columns the sheets show or judge (``shop`` is known per query).
ORDER_COLUMNS = (
    "order_id", "order_number", "created_at", "status", "delayed_after", "item_counts",
    "items", "products", "total", "currency", "promised_at", "rts_deadline", "rts_open",
    "rts_late", "rts_at", "tracking_numbers", "packages", "last_time", "last_title",
    "delivered_at", "settlement_lines", "settlement_state", "net", "paid", "item_price",
    "commission", "payment_fee", "shipping", "reversals", "penalties", "other", "statements",
    "last_transaction", "updated_at", "buyer_name", "payment_method", "remarks",
)  # fmt: skip
#: The ``package_facts`` columns the sheets show or judge.
PACKAGE_COLUMNS = (
    "order_id", "position", "package_id", "tracking_number", "carrier", "item_counts",
    "rts_at", "last_time", "last_title", "last_code", "last_location", "checkpoints",
    "idle_since", "can_stick", "sorting_applies", "sc_arrived_at", "sc_location", "sc_days",
    "sc_late", "sc_handed_over", "final",
)  # fmt: skip
#: Columns read as numbers (times are Unix seconds, flags 0/1).
NUMERIC = frozenset(
    {
        "created_at", "delayed_after", "items", "total", "promised_at", "rts_deadline",
        "rts_open", "rts_late", "rts_at", "packages", "last_time", "delivered_at",
        "settlement_lines", "net", "paid", "item_price", "commission", "payment_fee",
        "shipping", "reversals", "penalties", "other", "updated_at", "position",
        "checkpoints", "idle_since", "can_stick", "sorting_applies", "sc_arrived_at",
        "sc_days", "sc_late", "sc_handed_over", "final", "t",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ShopRow:
    name: str
    offset_s: int
    label: str
    settings: RuleSettings


@dataclass(slots=True)
class Selection:
    orders: Cols  # newest first (creation time, then order id, both descending)
    packages: Cols  # with "_order" (row of its order in ``orders``), by order then position
    shops: dict[str, ShopRow]
    names: list[str]  # the shops that have rows here, in the order they were read
    wanted: set[str] | None  # cleaned refs (to pick parcels within orders), None = all
    now: float
    whole: bool  # every parcel of every selected shop (no date range, no refs)


def n_rows(cols: Cols) -> int:
    return len(next(iter(cols.values()))) if cols else 0


def take(cols: Cols, index: np.ndarray) -> Cols:
    return {k: v[index] for k, v in cols.items()}


def label(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def shop_rows(conn: sqlite3.Connection, settings: RuleSettings | None) -> dict[str, ShopRow]:
    out = {}
    for name, minutes in conn.execute("SELECT shop, utc_offset_minutes FROM shops").fetchall():
        own = settings if settings is not None else cache_facts.stored_settings(conn, name)[0]
        out[name] = ShopRow(name, int(minutes) * 60, label(int(minutes)), own)
    return out


def bound(value: When, shop: ShopRow, *, end: bool) -> float | None:
    """A creation bound as Unix seconds: a ``date`` is the whole shop-local day, a naive
    datetime shop-local time, an aware one an instant."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.timestamp()
        return value.replace(tzinfo=UTC).timestamp() - shop.offset_s
    start = datetime.combine(value + timedelta(days=1) if end else value, time(0), UTC)
    return start.timestamp() - shop.offset_s - (1e-6 if end else 0.0)


def fetch(conn: sqlite3.Connection, sql: str, params: Iterable[Any] = ()) -> tuple[list, list[str]]:
    """A SELECT's rows as plain tuples, and its column names.

    Plain tuples, not the connection's ``sqlite3.Row``: NumPy copies tuples in C but walks
    a Row through the sequence protocol (a fifth of a 100,000-order refresh)."""
    cur = conn.cursor()
    cur.row_factory = None
    cur.execute(sql, tuple(params))
    return cur.fetchall(), [d[0] for d in cur.description]


def index_in(target: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """For each of ``keys``, its row in ``target`` (unique values), -1 if absent: one hash
    table of ``target``, one lookup per key."""
    if not len(target) or not len(keys):
        return np.full(len(keys), -1, dtype=np.int64)
    return pd.Index(target, dtype=object).get_indexer(keys).astype(np.int64, copy=False)


def index_in_runs(target: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """:func:`index_in` for keys that come in runs of equal values (a parcel's events are
    stored together): one hash lookup per run, the runs' rows repeated."""
    n = len(keys)
    if n < 2:
        return index_in(target, keys)
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(keys[1:], keys[:-1], out=change[1:])
    heads = np.flatnonzero(change)
    return np.repeat(index_in(target, keys[heads]), np.diff(heads, append=n))


def resolve(
    conn: sqlite3.Connection, refs: Iterable[Any], shop: str | None
) -> tuple[dict[str, set[str]], set[str]]:
    """``({shop: order ids}, cleaned texts)`` of the references, through the cache's
    reference index (:func:`~xl_lazada.cache.refindex.ref_rows`, the query ``lookup`` uses)."""
    texts = sorted({c for r in refs for c in normalize_ref(r).candidates})
    found: dict[str, set[str]] = {}
    for _, s, _, oid in ref_rows(conn, texts, shop) if texts else ():
        found.setdefault(s, set()).add(oid)
    return found, set(texts)


def _record(names: Iterable[str]) -> np.dtype:
    return np.dtype([(n, np.float64 if n in NUMERIC else object) for n in names])


#: One fetched row as a NumPy record: numbers as float64 (NULL → nan), text as objects.
ORDER_RECORD = _record(ORDER_COLUMNS)
PACKAGE_RECORD = _record(PACKAGE_COLUMNS)


def records(rows: list[tuple[Any, ...]], dtype: np.dtype) -> np.ndarray:
    """Rows → one structured array in a single pass: each number converted to float64 as
    it is copied (no Python number kept), each text a pointer to the fetched string."""
    return np.fromiter(rows, dtype=dtype, count=len(rows))


def table_of(rows: list[tuple[Any, ...]], width: int) -> np.ndarray:
    """Rows → one 2-D object array: the values streamed once into a flat array (half the
    cost of assigning the list of tuples, which NumPy checks row by row)."""
    flat = np.fromiter(chain.from_iterable(rows), dtype=object, count=len(rows) * width)
    return flat.reshape(len(rows), width)


def reorder(table: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``table[order]``; rows already in place stay where they are (the creation index
    hands orders over nearly sorted: only ties in the same second move)."""
    moved = np.flatnonzero(order != np.arange(len(order)))
    if not len(moved):
        return table
    if len(moved) <= len(order) // 4:
        table[moved] = table[order[moved]]
        return table
    return table[order]


def _in_memory(
    conn: sqlite3.Connection, shop: str, ids: list[str], settings: RuleSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Facts computed now rather than read (a read-only cache asked for other settings)."""
    order_rows, package_rows, _ = cache_facts.fact_rows(conn, shop, ids, settings)
    oi = [cache_facts.ORDER_FACT_COLUMNS.index(c) for c in ORDER_COLUMNS]
    pi = [cache_facts.PACKAGE_FACT_COLUMNS.index(c) for c in PACKAGE_COLUMNS]
    of = records([tuple(r[i] for i in oi) for r in order_rows], ORDER_RECORD)
    pf = records([tuple(r[i] for i in pi) for r in package_rows], PACKAGE_RECORD)
    return of, pf


def _stored(
    conn: sqlite3.Connection,
    name: str,
    lo: float | None,
    hi: float | None,
    ids: list[str] | None,
    sole: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """One shop's stored facts as ``ORDER_RECORD`` / ``PACKAGE_RECORD`` arrays: by order
    ids (an indexed probe each), or by creation range / the whole shop: orders newest first
    along the creation index, parcels in storage order (one pass over the table when the
    shop is the cache's only one) or, for a range, by each order's key."""
    ocols = ", ".join(f"f.{c}" for c in ORDER_COLUMNS)
    pcols = ", ".join(f"p.{c}" for c in PACKAGE_COLUMNS)
    where = "f.shop = ?"
    params: list[Any] = [name]
    if lo is not None:
        where += " AND f.created_at >= ?"
        params.append(lo)
    if hi is not None:
        where += " AND f.created_at <= ?"
        params.append(hi)
    if ids is not None:
        ids_json = json.dumps(ids)
        osql = (
            f"SELECT {ocols} FROM json_each(?) j CROSS JOIN order_facts f"
            f" WHERE {where} AND f.order_id = j.value"
        )
        oparams = [ids_json, *params]
        psql = (
            f"SELECT {pcols} FROM json_each(?) j CROSS JOIN package_facts p"
            " WHERE p.shop = ? AND p.order_id = j.value"
        )
        pparams: list[Any] = [ids_json, name]
    else:
        osql = f"SELECT {ocols} FROM order_facts f WHERE {where} ORDER BY f.created_at DESC"
        oparams = params
        if lo is not None or hi is not None:
            psql = (
                f"SELECT {pcols} FROM order_facts f CROSS JOIN package_facts p"
                f" ON p.shop = f.shop AND p.order_id = f.order_id WHERE {where}"
            )
            pparams = params
        else:
            scan = " NOT INDEXED" if sole else ""
            psql = f"SELECT {pcols} FROM package_facts p{scan} WHERE p.shop = ?"
            pparams = [name]
    of = records(fetch(conn, osql, oparams)[0], ORDER_RECORD)
    pf = records(fetch(conn, psql, pparams)[0], PACKAGE_RECORD)
    return of, pf


def newest_first(created: np.ndarray, order_ids: np.ndarray) -> np.ndarray:
    """Row order of the sheets: creation time, then order id, both descending (a missing
    creation time last)."""
    key = np.where(np.isnan(created), -np.inf, created)
    return np.lexsort((order_ids.astype(str), key))[::-1]


def select(
    cache: Any,
    shop: str | None,
    date_from: When,
    date_to: When,
    refs: Iterable[Any] | None,
    now: datetime | None,
    settings: RuleSettings | None,
) -> Selection:
    """The orders and parcels a table shows (see :mod:`xl_lazada.tables.sheets`)."""
    conn: sqlite3.Connection = cache.connection
    shops = shop_rows(conn, settings)
    names = [shop] if shop is not None else sorted(shops)
    names = [n for n in names if n in shops]
    wanted: set[str] | None = None
    by_ref: dict[str, set[str]] | None = None
    if refs is not None:
        by_ref, wanted = resolve(conn, refs, shop)
        names = [n for n in names if n in by_ref]
    in_memory = cache_facts.ensure_settings(conn, names, settings)
    order_parts: list[np.ndarray] = []
    package_parts: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    present: list[str] = []
    start = 0
    for name in names:
        info = shops[name]
        lo, hi = bound(date_from, info, end=False), bound(date_to, info, end=True)
        ids = sorted(by_ref[name]) if by_ref is not None else None
        if name in in_memory:
            if ids is None:
                ids = [
                    r[0]
                    for r in conn.execute("SELECT order_id FROM orders WHERE shop = ?", (name,))
                ]
            of, pf = _in_memory(conn, name, ids, info.settings)
            created = of["created_at"]
            keep = np.ones(len(created), dtype=bool)
            if lo is not None:
                keep &= created >= lo
            if hi is not None:
                keep &= created <= hi
            of = of[keep]
        else:
            of, pf = _stored(conn, name, lo, hi, ids, sole=len(shops) == 1)
        if not len(of):
            continue
        owner = index_in(of["order_id"], pf["order_id"])
        linked = np.flatnonzero(owner >= 0)
        if len(linked) < len(owner):
            pf, owner = pf[linked], owner[linked]
        order_parts.append(of)
        package_parts.append(pf)
        owners.append(owner + start)
        present.append(name)
        start += len(of)
    now_s = _instant(now, shops, names)
    whole = refs is None and date_from is None and date_to is None
    if not start:
        return Selection({}, {}, shops, present, wanted, now_s, whole)
    of, pf = _stack(order_parts), _stack(package_parts)
    shop_of = _labels(present, [len(t) for t in order_parts])
    shop_pf = _labels(present, [len(t) for t in package_parts])
    order = newest_first(of["created_at"], of["order_id"])
    of = reorder(of, order)
    row = np.empty(start, dtype=np.int64)
    row[order] = np.arange(start)
    owner = row[np.concatenate(owners)] if len(owners) > 1 else row[owners[0]]
    if len(owner):
        position = pf["position"]
        key = owner * 4096 + np.minimum(np.nan_to_num(position).astype(np.int64), 4095)
        if len(key) > 1 and not bool(np.all(key[1:] >= key[:-1])):
            by_key = np.argsort(key, kind="stable")
            pf, owner, shop_pf = reorder(pf, by_key), owner[by_key], shop_pf[by_key]
    orders = {n: of[n] for n in ORDER_COLUMNS}
    orders["shop"] = shop_of if len(present) == 1 else shop_of[order]
    packages = {n: pf[n] for n in PACKAGE_COLUMNS}
    packages["shop"] = shop_pf
    packages["_order"] = owner
    return Selection(orders, packages, shops, present, wanted, now_s, whole)


def _stack(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _labels(names: list[str], counts: list[int]) -> np.ndarray:
    """Each row's shop name (an object array; one shop: one fill)."""
    if len(names) == 1:
        return np.full(counts[0], names[0], dtype=object)
    return np.repeat(np.array(names, dtype=object), counts)


def _instant(now: datetime | None, shops: dict[str, ShopRow], names: list[str]) -> float:
    """``now`` as Unix seconds; a naive ``now`` is shop-local: the (first) selected shop's
    clock."""
    if now is None:
        return datetime.now(UTC).timestamp()
    if now.tzinfo is not None:
        return now.timestamp()
    first = shops[names[0]] if names else None
    return now.replace(tzinfo=UTC).timestamp() - (first.offset_s if first else 0)
