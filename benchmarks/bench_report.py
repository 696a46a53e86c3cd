"""Benchmark: build and write the tracking report for about 10,000 parcels.

Syncs a sandbox shop into a temporary cache first (not timed; see bench_sync.py), then times,
for a 30-day creation-date range and for a list of 10,000 tracking numbers:

- ``all_tables`` alone (the sheet tables the report reads: the floor under the report);
- ``build_report`` (the tables plus the report's join, summary, attention lists, per-day);
- each writer: the standalone ``.xlsx``, the ``.csv`` and the ``Report output`` SheetSpec.

    python benchmarks/bench_report.py [--orders 16000] [--refs 10000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import timedelta

from xl_lazada.cache import Cache
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.report import build_report, parse_report_inputs
from xl_lazada.report.csv import write_csv
from xl_lazada.report.sheet import report_sheetspec
from xl_lazada.report.xlsx import write_xlsx
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.sync import SyncOptions, sync_shop
from xl_lazada.tables import all_tables


def _timed(label: str, fn, *args, **kw):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    result = fn(*args, **kw)
    print(f"  {label:<34} {time.perf_counter() - t:6.2f} s")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--orders", type=int, default=16_000, help="orders in the sandbox shop")
    ap.add_argument("--refs", type=int, default=10_000, help="tracking numbers in the list run")
    args = ap.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxServer(orders=args.orders, seed=7, clock_speed=0.0, qps=0) as sb,
    ):
        path = os.path.join(tmp, "bench.sqlite3")
        now = sb.clock.now()
        days = int(sb.shop.params["days"]) + 5
        t0 = time.perf_counter()
        with (
            Cache.open(path) as cache,
            LazadaClient(sb.connection(sb.issue_token()), default_qps=100_000) as client,
        ):
            sync_shop(
                client, cache, "bench", options=SyncOptions(lookback_days=days, daily_calls=0)
            )
        print(f"synced {args.orders:,} sandbox orders in {time.perf_counter() - t0:.1f} s (setup)")

        with Cache.open(path) as cache:
            tz = cache.shops()[0].tz
            hi = now.astimezone(tz).date()
            lo = hi - timedelta(days=29)
            refs = [
                r[0]
                for r in cache.connection.execute(
                    "SELECT tracking_number FROM packages WHERE tracking_number IS NOT NULL"
                    " ORDER BY package_id LIMIT ?",
                    (args.refs,),
                )
            ]
            runs = (
                (f"30 days ({lo} – {hi})", parse_report_inputs(lo, hi, None, None, None), {}),
                (
                    f"{len(refs):,} tracking numbers",
                    parse_report_inputs(None, None, None, None, refs),
                    {"refs": refs},
                ),
            )
            for title, inputs, selection in runs:
                kw = selection or {"date_from": lo, "date_to": hi}
                print(title)
                _timed("all_tables (floor)", all_tables, cache, now=now, **kw)
                report = _timed("build_report", build_report, cache, inputs, now=now)
                parcels = int(report.table["Package id"].notna().sum())
                print(f"  -> {len(report.table):,} rows, {parcels:,} parcels")
                _timed("write_xlsx", write_xlsx, report, os.path.join(tmp, "r.xlsx"))
                _timed("write_csv", write_csv, report, os.path.join(tmp, "r.csv"))
                _timed("report_sheetspec", report_sheetspec, report)


if __name__ == "__main__":
    main()
