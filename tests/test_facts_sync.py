"""Facts kept by a real sync: equal to a rebuild from the rows, and carried over by migrations.

A sandbox shop is synced over real HTTP (orders and items, traces, finance, history: each
pass updates the facts of the orders it wrote); the facts it leaves must be exactly what the
rules make from the cached rows, whatever the passes skipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from synced_shop import copy_as_version, finish_copy, stored_facts

from xl_lazada.cache import Cache
from xl_lazada.cache import db as cache_db
from xl_lazada.cache import facts as cache_facts
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lookup import close_thread_caches, lookup
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.sync import SyncOptions, sync_shop

SHOP = "fx"


SYNCED_ORDERS = 150  # the conftest ``synced`` shop, named SHOP


@pytest.fixture(scope="module")
def world(synced: Any) -> Iterator[Any]:
    """The module's synced shop (``path``, ``now``); lookups' per-thread caches closed after."""
    yield synced
    close_thread_caches()


_facts = stored_facts


def test_the_facts_a_sync_keeps_are_what_the_rules_make_from_its_rows(world: Any) -> None:
    with Cache.open(world.path) as c:
        kept = _facts(c.connection)
        counts = c.connection.execute(
            "SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM checkpoints),"
            " (SELECT COUNT(DISTINCT order_no) FROM transactions)"
        ).fetchone()
        c.connection.execute("BEGIN")
        cache_facts.rebuild_shop(c.connection, SHOP)
        rebuilt = _facts(c.connection)
        c.connection.execute("ROLLBACK")
    assert counts[0] > 100 and counts[1] > 100 and counts[2] > 20  # every pass had work
    assert len(kept["order_facts"]) == counts[0]
    assert kept == rebuilt


def _as_v4(fresh: Path, target: Path) -> None:
    """The cache as the previous release (schema v4) left it: the same rows, and the rules'
    ready-to-ship time of each parcel copied into ``packages.ready_to_ship_at``."""
    conn = copy_as_version(fresh, target, 4)
    conn.execute(
        "UPDATE main.packages SET ready_to_ship_at = (SELECT strftime('%Y-%m-%dT%H:%M:%S+00:00',"
        " pf.rts_at, 'unixepoch') FROM main.package_facts pf WHERE pf.shop = packages.shop"
        " AND pf.package_id = packages.package_id)"
    )
    finish_copy(conn)


def test_a_v4_cache_migrates_and_answers_the_same(world: Any, tmp_path: Path) -> None:
    old = tmp_path / "v4.sqlite3"
    _as_v4(world.path, old)
    probe = sqlite3.connect(old)
    assert cache_db.schema_version(probe) == 4
    copied = probe.execute(
        "SELECT COUNT(*) FROM packages WHERE ready_to_ship_at IS NOT NULL"
    ).fetchone()[0]
    probe.close()
    assert copied > 20  # the previous release's copies of the rules' answer
    with Cache.open(world.path) as c:
        refs = [r[0] for r in c.connection.execute("SELECT ref FROM refs ORDER BY ref")]
    with Cache.open(old) as migrated:
        assert migrated.schema_version == cache_db.CURRENT_VERSION == 7
        assert stored_facts(migrated.connection)["order_answers"]  # packed by the migration
        left = migrated.connection.execute(
            "SELECT COUNT(*) FROM packages WHERE ready_to_ship_at IS NOT NULL"
        ).fetchone()[0]
        got = lookup(refs, cache=migrated, now=world.now)
    assert left == 0
    want = lookup(refs, cache=world.path, now=world.now)
    assert len(got) == len(want) == len(refs)
    for g, w in zip(got, want, strict=True):
        assert g == w, g.ref


def test_a_ready_to_ship_time_from_lazada_is_an_input_the_trace_overrides(
    world: Any, tmp_path: Path
) -> None:
    """``packages.ready_to_ship_at`` is what Lazada sent: the rules use it for a parcel with
    no ready-to-ship scan, and never write their own answer there."""
    path = tmp_path / "copy.sqlite3"
    with Cache.open(world.path) as src:
        src.connection.execute("VACUUM INTO ?", (str(path),))
    with Cache.open(path) as c:
        conn = c.connection
        scanned, rts = conn.execute(
            "SELECT package_id, rts_at FROM package_facts WHERE rts_at IS NOT NULL"
            " AND checkpoints > 0 ORDER BY package_id LIMIT 1"
        ).fetchone()
        bare = conn.execute(
            "SELECT package_id FROM package_facts WHERE checkpoints = 0 AND rts_at IS NULL"
            " ORDER BY package_id LIMIT 1"
        ).fetchone()[0]
        told = "2026-01-02T03:04:05+00:00"
        with c.transaction():
            conn.executemany(
                "UPDATE packages SET ready_to_ship_at = ? WHERE package_id = ?",
                [(told, scanned), (told, bare)],
            )
            cache_facts.rebuild_shop(conn, SHOP)
        got = dict(
            conn.execute(
                "SELECT package_id, rts_at FROM package_facts WHERE package_id IN (?, ?)",
                (scanned, bare),
            ).fetchall()
        )
        kept = dict(conn.execute("SELECT package_id, ready_to_ship_at FROM packages").fetchall())
    assert got[scanned] == rts  # the trace's own scan wins
    assert got[bare] == int(datetime.fromisoformat(told).timestamp())
    assert kept[scanned] == kept[bare] == told  # facts never write it
    assert {v for k, v in kept.items() if k not in (scanned, bare)} == {None}


def test_the_trace_plan_calls_a_parcel_final_as_the_facts_do(tmp_path: Path) -> None:
    """What the sync traces first (moving parcels) and last (history) follows the rules'
    ``parcel_final``: the same answer the Final column of the tracking sheet shows."""
    from xl_lazada.sync.plan import trace_plan
    from xl_lazada.sync.policy import TRACE_ONCE_STATUSES, TRACEABLE_STATUSES

    path = tmp_path / "untraced.sqlite3"
    with SandboxServer(orders=150, seed=5, clock_speed=0.0, qps=1000) as sb:
        days = int(sb.shop.params["days"]) + 5
        tok = sb.issue_token()
        opts = SyncOptions(lookback_days=days, traces=False, finance=False, daily_calls=0)
        with LazadaClient(sb.connection(tok), default_qps=1000) as client, Cache.open(path) as c:
            sync_shop(client, c, SHOP, options=opts)
            with c.transaction():  # one unit's status as Lazada might spell it one day
                c.connection.execute(
                    "UPDATE items SET status = 'Delivered ' WHERE rowid = (SELECT MIN(rowid)"
                    " FROM items WHERE status = 'delivered' AND package_id IS NOT NULL)"
                )
                cache_facts.rebuild_shop(c.connection, SHOP)
            plan = trace_plan(
                c,
                SHOP,
                stale_before=sb.clock.now(),
                traceable=TRACEABLE_STATUSES | {"Delivered "},
                trace_once=TRACE_ONCE_STATUSES,
            )
            final: dict[str, set[bool]] = {}
            for oid, is_final in c.connection.execute(
                "SELECT order_id, final FROM package_facts WHERE shop = ?", (SHOP,)
            ):
                final.setdefault(oid, set()).add(bool(is_final))
    assert plan.moving and plan.backfill and not plan.news
    assert all(final[o] == {True} for o in plan.backfill)  # every parcel's story ended
    assert all(False in final[o] for o in plan.moving)
