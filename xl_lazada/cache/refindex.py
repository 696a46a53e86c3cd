"""Many references at once through the cache's reference index (``refs``).

One statement for any number of cleaned texts: ``json_each(?) CROSS JOIN refs`` keeps
SQLite on the index's primary key (one probe per text, never a scan), and ``+r.shop``
stops it from walking a whole shop instead. The sheet tables and a range lookup both need it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any


def ref_hits(
    conn: sqlite3.Connection, texts: Iterable[str], shop: str | None = None
) -> list[tuple[str, str, str, str]]:
    """``(text, shop, kind, order_id)`` for every entry of the index matching one of
    ``texts`` (already cleaned, e.g. :func:`xl_lazada.refs.normalize_ref` candidates)."""
    texts = list(texts)
    if not texts:
        return []
    sql = (
        "SELECT j.value, r.shop, r.kind, r.order_id FROM json_each(?) j CROSS JOIN refs r"
        " WHERE r.ref = j.value"
    )
    params: list[Any] = [json.dumps(texts)]
    if shop is not None:
        sql += " AND +r.shop = ?"
        params.append(shop)
    cur = conn.cursor()
    cur.row_factory = None  # plain tuples
    return cur.execute(sql, params).fetchall()
