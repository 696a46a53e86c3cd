"""The reference index read: which orders a cleaned reference text names.

The ``refs`` table maps every order number, order id, tracking number and package id ever
seen to its order (never forgetting one Lazada stopped sending). :func:`ref_rows` is the one
query over it — ``lookup``, ``checkpoints`` and the sheet tables' ``refs=`` all call it — so
a reference finds the same orders everywhere: one indexed probe per text, the texts passed as
one JSON parameter (no limit on how many, unlike SQL variables).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

__all__ = ["ref_rows"]

#: Each text's index rows (one per order and kind: an order whose number is its id has one
#: row for that text, as its number; see the schema's ``refs``).
_SQL = (
    "SELECT j.value, r.shop, r.kind, r.order_id FROM json_each(?) j CROSS JOIN refs r"
    " WHERE r.ref = j.value"
)
#: The same, with each order's status, Delayed instant and packed answer (:mod:`.answers`;
#: NULLs when it has none).
_ANSWERS_SQL = (
    "SELECT j.value, r.shop, r.kind, r.order_id, a.status, a.delayed_after, a.answer"
    " FROM json_each(?) j"
    " CROSS JOIN refs r LEFT JOIN order_answers a ON a.shop = r.shop AND a.order_id = r.order_id"
    " WHERE r.ref = j.value"
)


def ref_rows(
    conn: sqlite3.Connection,
    texts: Iterable[str],
    shop: str | None = None,
    *,
    answers: bool = False,
) -> list[tuple[Any, ...]]:
    """``(text, shop, kind, order_id)`` for every cached reference equal to one of ``texts``
    (``shop``: only that shop's; an order id that is also the order's number is indexed
    once, as ``order_number``), and with ``answers`` the order's status, Delayed instant
    and packed answer after them. ``texts`` must already be cleaned
    (:func:`xl_lazada.refs.normalize_ref`); sorted texts read the index in order."""
    sql = _ANSWERS_SQL if answers else _SQL
    params: list[str] = [json.dumps(list(texts))]
    if shop is not None:
        sql += " AND +r.shop = ?"  # the unary + keeps SQLite on the ref index
        params.append(shop)
    cur = conn.cursor()
    cur.row_factory = None  # plain tuples: a range reads tens of thousands of rows
    return cur.execute(sql, params).fetchall()
