"""A sandbox shop synced over real HTTP into a fresh cache: what the ``synced`` fixture
(``conftest.py``) hands a test module."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from xl_lazada.cache import Cache, answers
from xl_lazada.cache import db as cache_db


@dataclass
class SyncedShop:
    sb: Any  # the SandboxServer, still running for the module
    cache: Cache
    path: Path
    shop: str
    now: datetime  # the sandbox's frozen clock at the sync
    today: date  # shop-local

    @cached_property
    def truth(self) -> dict[str, Any]:
        """The sandbox shop's own projection at ``now`` (the ground truth)."""
        return self.sb.shop.snapshot(self.now)

    def table(self, name: str, **kw: Any) -> pd.DataFrame:
        """The sheet table ``name`` (orders, tracking, checkpoints, settlements) at ``now``."""
        from xl_lazada import tables

        return getattr(tables, f"{name}_table")(self.cache, now=self.now, **kw)


def copy_as_version(fresh: Path, target: Path, version: int) -> sqlite3.Connection:
    """A cache as an earlier release left it: schema ``version``'s DDL only, holding the
    rows of ``fresh`` (each table's columns that existed then). Returns the open connection
    inside a transaction (``BEGIN``), so the caller can add what that release also wrote,
    then :func:`finish_copy`."""
    conn = cache_db.connect(target, migrate=False)
    cache_db.migrate_to(conn, version)
    if version < 6:  # (this code's v3 facts step makes the v6 table early: that release had none)
        conn.execute("DROP TABLE IF EXISTS order_answers")
    conn.execute("ATTACH DATABASE ? AS fresh", (str(fresh),))
    tables = [
        r[0]
        for r in conn.execute("SELECT name FROM main.sqlite_master WHERE type = 'table'")
        if r[0] not in ("schema_version", "sqlite_sequence", "cache_generation")
    ]
    conn.execute("BEGIN")
    for t in tables:
        conn.execute(f"DELETE FROM main.{t}")
        cols = ", ".join(r[1] for r in conn.execute(f"PRAGMA main.table_info({t})"))
        conn.execute(f"INSERT INTO main.{t} ({cols}) SELECT {cols} FROM fresh.{t}")
    return conn


def finish_copy(conn: sqlite3.Connection) -> None:
    conn.execute("COMMIT")
    conn.execute("DETACH DATABASE fresh")
    conn.close()


def stored_facts(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every stored fact and packed answer (decoded), in key order: what a rebuild from the
    rows must reproduce exactly. Also checks each packed answer is what its facts columns
    say (``lookup`` reads the one, the sheets the other)."""
    out = {
        t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3")]
        for t in ("order_facts", "package_facts")
    }
    stored = conn.execute(
        "SELECT shop, order_id, status, delayed_after, answer FROM order_answers ORDER BY 1, 2"
    ).fetchall()
    out["order_answers"] = [(shop, oid, answers.unpack(blob)) for shop, oid, _, _, blob in stored]
    for (_, _, status, delayed_after, _), (_, _, answer) in zip(
        stored, out["order_answers"], strict=True
    ):
        assert answer is not None and (status, delayed_after) == answer[0][3:5]
    from_columns = [
        (shop, oid, answer)
        for shop in sorted({r[0] for r in out["order_facts"]})
        for oid, answer in sorted(
            answers.read_columns(
                conn, shop, [r[1] for r in out["order_facts"] if r[0] == shop]
            ).items()
        )
    ]
    assert out["order_answers"] == from_columns
    return out


def spoil_table(path: Path, table: str) -> None:
    """Overwrite ``table``'s root page in the closed cache file with junk, as a failing disk
    or a copy cut short would: the file still opens, and only reads that reach the page
    fail."""
    conn = sqlite3.connect(path)
    try:
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    finally:
        conn.close()
    assert not Path(f"{path}-wal").exists(), "close every connection first"
    with open(path, "r+b") as f:
        f.seek((root - 1) * size)
        f.write(b"\xab" * size)
