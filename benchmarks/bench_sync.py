"""Benchmark: a first and a second sync of a large sandbox shop (calls, seconds, orders/s).

    python benchmarks/bench_sync.py [--orders 20000] [--workers 4] [--qps 1000]

The sandbox runs in its own process (as Lazada would be another machine), on loopback with a
frozen clock, so the second sync sees no changes: it shows the incremental cost (the
watermark listing, the finance overlap, no items and no fresh traces). ``sync CPU`` is this
process's CPU time: the sync's own cost, apart from the server's.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sqlite3
import tempfile
import time
from datetime import timedelta
from multiprocessing.connection import Connection as Pipe

from _sandbox import connection, connection_info

from xl_lazada.cache import Cache
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.sync import SyncOptions, SyncSummary, sync_shop


def _serve(pipe: Pipe, orders: int, seed: int) -> None:
    """Child process: run the sandbox until the parent says stop."""
    from xl_lazada.sandbox.server import SandboxServer

    t0 = time.perf_counter()
    with SandboxServer(orders=orders, seed=seed, clock_speed=0.0, qps=1_000_000.0) as sb:
        pipe.send({**connection_info(sb), "generated_s": time.perf_counter() - t0})
        pipe.recv()


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _report(label: str, s: SyncSummary, cpu: float, by_api: dict[str, int]) -> None:
    written = s.new_orders + s.changed_orders
    rate = written / s.elapsed_s if s.elapsed_s else 0.0
    print(
        f"{label}: {s.calls} calls, {s.elapsed_s:.1f} s (sync CPU {cpu:.1f} s), "
        f"{rate:,.0f} orders/s ({s.new_orders} new, {s.changed_orders} changed, "
        f"{s.traced_orders} traced, {s.new_checkpoints} checkpoints, "
        f"{s.new_transactions} transactions, {len(s.failed)} failed)"
    )
    print("   calls by API: " + ", ".join(f"{k} {v}" for k, v in sorted(by_api.items())))


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--orders", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=45, help="the shop's history (lookback covers it)")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--qps", type=float, default=1000.0, help="client calls/s per API path")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    parent, child = mp.Pipe()
    server = mp.Process(target=_serve, args=(child, args.orders, args.seed), daemon=True)
    server.start()
    info = parent.recv()
    print(f"sandbox: {args.orders} orders generated and served in {info['generated_s']:.1f} s")
    conn = connection(info)
    options = SyncOptions(lookback_days=args.days + 5)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bench.sqlite3")
            cache = Cache.open(path)
            with LazadaClient(conn, default_qps=args.qps, max_workers=args.workers) as client:
                runs = [
                    ("first sync", options),
                    ("second sync", options),
                    (
                        "third sync (every non-final parcel re-traced, no finance)",
                        SyncOptions(
                            lookback_days=args.days + 5,
                            trace_stale_after=timedelta(0),
                            finance=False,
                        ),
                    ),
                ]
                for label, opts in runs:
                    before = client.stats.snapshot()["by_api"]
                    cpu0 = time.process_time()
                    s = sync_shop(client, cache, "bench", options=opts)
                    cpu = time.process_time() - cpu0
                    after = client.stats.snapshot()["by_api"]
                    by_api = {k: v - before.get(k, 0) for k, v in after.items()}
                    _report(label, s, cpu, {k: v for k, v in by_api.items() if v})
            c = cache.connection
            counts = ", ".join(
                f"{t} {_count(c, t)}"
                for t in ("orders", "items", "packages", "checkpoints", "transactions")
            )
            cache.close()
            print(f"cache: {counts}; {os.path.getsize(path) / 1e6:.1f} MB")
    finally:
        parent.send("stop")
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()


if __name__ == "__main__":
    main()
