"""Benchmark: build the four sheet tables and resolve references from a synced cache.

What a refresh of the workbook's sheets and a column of formulas will cost once the data is
local. Syncs a sandbox shop first (not timed here; see bench_sync.py), then prints seconds
and rows/s per table, and lookups/s for ``Cache.resolve`` on tracking numbers.

    python benchmarks/bench_tables.py [--orders 5000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from xl_lazada.cache import Cache
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.sync import SyncOptions, sync_shop
from xl_lazada.tables import (
    all_tables,
    checkpoints_table,
    orders_table,
    settlements_table,
    tracking_table,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--orders", type=int, default=5_000)
    args = ap.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxServer(orders=args.orders, seed=7, clock_speed=0.0, qps=0) as sb,
    ):
        path = os.path.join(tmp, "bench.sqlite3")
        now = sb.clock.now()
        t0 = time.perf_counter()
        with (
            Cache.open(path) as cache,
            LazadaClient(sb.connection(sb.issue_token()), default_qps=100_000) as client,
        ):
            sync_shop(client, cache, "bench", options=SyncOptions(lookback_days=60, daily_calls=0))
        print(f"synced {args.orders} sandbox orders in {time.perf_counter() - t0:.1f} s (setup)")

        with Cache.open(path) as cache:
            for name, build in (
                ("orders", orders_table),
                ("tracking", tracking_table),
                ("checkpoints", checkpoints_table),
                ("settlements", settlements_table),
            ):
                t = time.perf_counter()
                frame = build(cache, shop="bench", now=now)
                dt = time.perf_counter() - t
                print(
                    f"{name:<12} {len(frame):>7,} rows in {dt:6.2f} s ({len(frame) / dt:,.0f} rows/s)"
                )

            t = time.perf_counter()
            frames = all_tables(cache, shop="bench", now=now)
            dt = time.perf_counter() - t
            rows = sum(len(f) for f in frames.values())
            print(f"all four in one pass: {rows:,} rows in {dt:.2f} s")

            refs = [
                r[0]
                for r in cache.connection.execute(
                    "SELECT tracking_number FROM packages WHERE tracking_number IS NOT NULL"
                )
            ]
            t = time.perf_counter()
            found = sum(1 for r in refs if cache.resolve(r))
            dt = time.perf_counter() - t
            print(
                f"resolve      {len(refs):>7,} tracking numbers in {dt:6.2f} s "
                f"({len(refs) / dt:,.0f} lookups/s, {found} found)"
            )
            t = time.perf_counter()
            frame = orders_table(cache, shop="bench", refs=refs[:10_000], now=now)
            dt = time.perf_counter() - t
            print(
                f"orders by refs: {min(len(refs), 10_000):,} refs -> {len(frame):,} rows in {dt:.2f} s"
            )


if __name__ == "__main__":
    main()
