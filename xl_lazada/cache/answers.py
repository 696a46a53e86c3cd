"""Each order's answer to ``lookup``, packed into one value at sync time.

A range formula of 10,000 references reads 10,000 orders. Read as 23 fact columns and their
parcels' rows, SQLite turns some 220,000 values into Python objects, which was most of a
range's time; packed (``marshal`` of the same tuples) it is one value per order, and a
range of statuses reads two small columns kept beside it, never unpacking. The facts
tables stay the source of truth: every write of an order's facts writes its answer in the
same transaction (:mod:`xl_lazada.cache.facts`), and a synced cache's answers equal a
repack of its columns (tested). A missing answer is read from the columns
(:func:`read_columns`); one that cannot be read (a damaged file, or another layout) is
repacked by the next write of its order, and until then ``lookup`` says the cache is
damaged rather than guess.

The packed tuples hold only what the facts tables hold: numbers and text, nothing Lazada
sent is ever evaluated. Like the rest of the cache, the file is this program's own:
``marshal`` is not hardened against a file crafted to crash it.
"""

from __future__ import annotations

import json
import marshal
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .schema import V6 as DDL

__all__ = [
    "DDL",
    "ORDER_COLUMNS",
    "PARCEL_COLUMNS",
    "Answer",
    "make",
    "pack",
    "patch",
    "read_columns",
    "repack",
    "unpack",
    "write",
]

#: The ``order_facts`` columns an answer holds, in this order.
ORDER_COLUMNS = (
    "shop", "order_id", "order_number", "status", "delayed_after", "item_statuses",
    "tracking_numbers", "package_ids", "last_time", "last_title", "last_code",
    "last_location", "rts_deadline", "rts_open", "rts_late", "rts_at", "delivered_at",
    "settlement_lines", "settlement_state", "settlement_net", "settlement_components",
    "currency", "synced_at",
)  # fmt: skip
#: The ``package_facts`` columns of each of the order's parcels, in this order.
PARCEL_COLUMNS = (
    "order_id", "position", "rts_at", "idle_since", "can_stick", "sorting_applies",
    "sc_arrived_at", "sc_days", "sc_late", "sc_handed_over",
)  # fmt: skip
_SC_DAYS = PARCEL_COLUMNS.index("sc_days")

#: One order's answer: its ``ORDER_COLUMNS`` values and each parcel's ``PARCEL_COLUMNS``.
Answer = tuple[tuple[Any, ...], tuple[tuple[Any, ...], ...]]

_WRITE = (
    "INSERT OR REPLACE INTO order_answers (shop, order_id, status, delayed_after, answer)"
    " VALUES (?, ?, ?, ?, ?)"
)
_STATUS = ORDER_COLUMNS.index("status")
_DELAYED_AFTER = ORDER_COLUMNS.index("delayed_after")
_ORDER_SQL = (
    f"SELECT {', '.join('f.' + c for c in ORDER_COLUMNS)} FROM json_each(?) j"
    " CROSS JOIN order_facts f WHERE f.shop = ? AND f.order_id = j.value"
)
_PARCEL_SQL = (
    f"SELECT {', '.join('p.' + c for c in PARCEL_COLUMNS)} FROM json_each(?) j"
    " CROSS JOIN package_facts p WHERE p.shop = ? AND p.order_id = j.value"
    " ORDER BY p.order_id, p.position"
)


def _parcel(p: Sequence[Any]) -> tuple[Any, ...]:
    """A parcel's values as SQLite hands them back (``sc_days`` is a REAL column)."""
    days = p[_SC_DAYS]
    if days is None or type(days) is float:
        return tuple(p)
    out = list(p)
    out[_SC_DAYS] = float(days)
    return tuple(out)


def make(order: Sequence[Any], parcels: Iterable[Sequence[Any]]) -> Answer:
    """One order's answer as it reads back (``order`` in ``ORDER_COLUMNS`` order, each
    parcel in ``PARCEL_COLUMNS`` order, by position)."""
    return (tuple(order), tuple(map(_parcel, parcels)))


#: Which ``ORDER_COLUMNS`` / ``PARCEL_COLUMNS`` a stored answer was packed with: change it
#: with them, so an answer of another layout is never read as this one.
LAYOUT = 1


def pack(answer: Answer) -> bytes:
    """The stored form (marshal format 4: every Python since 3.4 reads it back)."""
    return marshal.dumps((LAYOUT, *answer), 4)


def unpack(blob: bytes | None) -> Answer | None:
    """The stored answer, or None when there is none or it cannot be read (damaged, or
    packed with another ``LAYOUT``)."""
    if blob is None:
        return None
    try:
        layout, order, parcels = marshal.loads(blob)
        if (
            layout != LAYOUT
            or type(order) is not tuple
            or len(order) != len(ORDER_COLUMNS)
            or type(parcels) is not tuple
            or any(type(p) is not tuple or len(p) != len(PARCEL_COLUMNS) for p in parcels)
        ):
            return None
    except (ValueError, EOFError, TypeError):
        return None
    return (order, parcels)


def write(conn: sqlite3.Connection, shop: str, answers: Iterable[tuple[str, Answer]]) -> None:
    """Store ``(order_id, answer)`` pairs (inside the caller's write transaction). The status
    and its Delayed instant are also kept as columns: a range formula showing statuses
    reads those and never unpacks the rest."""
    conn.executemany(
        _WRITE,
        [(shop, oid, a[0][_STATUS], a[0][_DELAYED_AFTER], pack(a)) for oid, a in answers],
    )


def patch(
    blob: bytes | None, changes: Mapping[int, Any], parcels: Iterable[Sequence[Any]] | None
) -> Answer | None:
    """The stored answer with the order values at ``changes``' positions replaced (and the
    parcels, when given); None when there was no readable answer to patch."""
    answer = unpack(blob)
    if answer is None:
        return None
    order = list(answer[0])
    for i, v in changes.items():
        order[i] = v
    return make(order, answer[1] if parcels is None else parcels)


def read_columns(
    conn: sqlite3.Connection, shop: str, order_ids: Sequence[str]
) -> dict[str, Answer]:
    """The answers of ``order_ids`` made from the facts columns (what :func:`pack` would
    store), by order id; orders without facts are absent."""
    cur = conn.cursor()
    cur.row_factory = None
    ids = json.dumps(list(order_ids))
    parcels: dict[str, list[tuple[Any, ...]]] = {}
    for p in cur.execute(_PARCEL_SQL, (ids, shop)).fetchall():
        parcels.setdefault(p[0], []).append(p)
    return {
        o[1]: (o, tuple(parcels.get(o[1], ())))
        for o in cur.execute(_ORDER_SQL, (ids, shop)).fetchall()
    }


def repack(conn: sqlite3.Connection, shop: str, order_ids: Sequence[str] | None = None) -> int:
    """Store the answers of ``order_ids`` (None: all the shop's) from the facts columns: a
    migration, or an order whose answer could not be patched. Returns how many."""
    if order_ids is None:
        order_ids = [
            r[0] for r in conn.execute("SELECT order_id FROM order_facts WHERE shop = ?", (shop,))
        ]
    done = 0
    for start in range(0, len(order_ids), 2000):
        got = read_columns(conn, shop, order_ids[start : start + 2000])
        write(conn, shop, got.items())
        done += len(got)
    return done


def backfill(conn: sqlite3.Connection) -> None:
    """Migration step (schema v6): every shop's answers from its stored facts."""
    for (shop,) in conn.execute("SELECT DISTINCT shop FROM order_facts").fetchall():
        repack(conn, shop)
