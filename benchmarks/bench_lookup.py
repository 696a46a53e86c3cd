"""Benchmark: lookup() and the sheet tables on large synced shops, each beside its floor.

    python benchmarks/bench_lookup.py [--big 100000] [--mid 20000] [--sync-orders 5000]
        [--sync-repeat 3] [--sync-at-limits]

Prints, for the targets of the one-lookup design:

- one reference, ``lookup([ref])`` (median of many calls, warm connection);
- a range of 10,000 mixed order and tracking numbers from the ``--big`` cache: ``lookup``
  alone, with each answer's status read (what ``=LAZADA_STATUS`` over a range reads:
  ``lookup`` works a field out when it is first read), and with every field read;
- all four tables from the ``--mid`` and the ``--big`` shop (each in a fresh process, with
  that process's own peak memory);
- the sync time added by keeping the facts (a ``--sync-orders`` shop synced with facts off
  and on, ``--sync-repeat`` times each: the fastest of each side and the median of the
  back-to-back pairs; and the time spent in the cache's facts steps): by default against a sandbox that answers as fast as it can, so
  the sync is bound by this machine's CPU (the worst case for the facts' share); with
  ``--sync-at-limits`` paced as Lazada paces a seller's sync (per-API limits, 80-150 ms).

``lookup`` is called as the formulas call it, with the cache's path: it reads through its
own connection for this thread, which maps the file (``cache.db.map_for_reads``); the
floor's connection is mapped the same way.

Each is printed beside a **floor** measured in the same run: the same rows fetched with
bare indexed SELECTs (refs and orders tables for lookups; the facts and checkpoints tables
for the sheets), as plain tuples — what any reader of this cache pays before doing anything
with the rows.
Caches are built once through a real sync against the sandbox and kept under the temp
directory (see ``_shop_cache.py``); the output says how each was made.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import fields
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _shop_cache import shop_cache, sync_into  # noqa: E402
from bench_sync_speed import DEFAULT_LIMITS  # noqa: E402

from xl_lazada.cache import Cache  # noqa: E402
from xl_lazada.cache.db import map_for_reads  # noqa: E402
from xl_lazada.lookup import RefStatus, lookup  # noqa: E402


def _describe(path: str, info: dict) -> str:
    how = "reused" if info.get("reused") else "built now"
    return (
        f"{path} ({how}; {info.get('made', 'sandbox sync')} at {info.get('made_at')}, "
        f"{info['orders']:,} sandbox orders, seed {info['seed']}, sync {info.get('sync_s')} s, "
        f"schema v{info.get('schema_version')} when made)"
    )


def _open(path: str) -> Cache:
    t = time.perf_counter()
    cache = Cache.open(path)
    dt = time.perf_counter() - t
    if dt > 1:
        print(f"  opened (and migrated to schema v{cache.schema_version}) in {dt:.1f} s")
    return cache


def _refs(cache: Cache, n: int, seed: int = 1) -> list[str]:
    conn = cache.connection
    numbers = [r[0] for r in conn.execute("SELECT order_number FROM orders WHERE shop = 'bench'")]
    tracking = [
        r[0]
        for r in conn.execute(
            "SELECT tracking_number FROM packages WHERE shop = 'bench' AND tracking_number IS NOT NULL"
        )
    ]
    rng = random.Random(seed)
    refs = rng.sample(numbers, n // 2) + rng.sample(tracking, n - n // 2)
    rng.shuffle(refs)
    return refs


def _bare(conn):  # type: ignore[no-untyped-def]
    """A cursor returning plain tuples (no ``sqlite3.Row``): the floor pays nothing extra."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur


def _floor_refs(conn, refs: list[str]) -> int:  # type: ignore[no-untyped-def]
    """The bare minimum: refs → order ids through the reference index, then those orders'
    key columns by primary key."""
    cur = _bare(conn)
    rows = cur.execute(
        "SELECT r.order_id FROM json_each(?) j CROSS JOIN refs r WHERE r.ref = j.value",
        (json.dumps(refs),),
    ).fetchall()
    ids = json.dumps(sorted({r[0] for r in rows}))
    got = cur.execute(
        "SELECT o.order_id, o.order_number, o.statuses, o.created_at, o.updated_at"
        " FROM json_each(?) j CROSS JOIN orders o WHERE o.shop = 'bench' AND o.order_id = j.value",
        (ids,),
    ).fetchall()
    return len(got)


def _best(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_lookups(path: str, now: datetime) -> None:
    with _open(path) as cache:
        conn = cache.connection
        map_for_reads(conn)  # as lookup's own reader (below: cache=path, as a formula)
        one = _refs(cache, 2000, seed=2)
        lookup(one[:5], cache=path, now=now)  # warm
        per: list[float] = []
        floor: list[float] = []
        for ref in one:
            t = time.perf_counter()
            lookup([ref], cache=path, now=now)
            per.append(time.perf_counter() - t)
            t = time.perf_counter()
            _floor_refs(conn, [ref])
            floor.append(time.perf_counter() - t)
        print(
            f"one reference, lookup([ref]): median {statistics.median(per) * 1e3:.3f} ms, "
            f"p90 {statistics.quantiles(per, n=10)[-1] * 1e3:.3f} ms over {len(one):,} refs "
            f"(floor: {statistics.median(floor) * 1e3:.3f} ms)   target <= 1 ms"
        )
        refs = _refs(cache, 10_000, seed=3)
        found = sum(a.found for a in lookup(refs, cache=path, now=now))
        names = [f.name for f in fields(RefStatus)]
        for _ in range(3):  # three rounds: the machine's load moves between them
            fl = _best(lambda: _floor_refs(conn, refs), 5)
            dt = _best(lambda: lookup(refs, cache=path, now=now), 5)
            st = _best(lambda: [a.status for a in lookup(refs, cache=path, now=now)], 5)
            every = _best(
                lambda: [[getattr(a, n) for n in names] for a in lookup(refs, cache=path, now=now)]
            )
            print(
                f"range of {len(refs):,} mixed order/tracking numbers ({found:,} found; floor "
                f"{fl * 1e3:.0f} ms): lookup {dt * 1e3:.0f} ms ({dt / fl:.1f}x); with each "
                f"answer's status read (=LAZADA_STATUS over the range) {st * 1e3:.0f} ms "
                f"({st / fl:.1f}x); with all {len(names)} fields read {every * 1e3:.0f} ms "
                f"({every / fl:.1f}x)   target <= 100 ms"
            )


_TABLES_CHILD = r"""
import json, resource, sys, time
from datetime import datetime
from xl_lazada.cache import Cache
from xl_lazada.tables import all_tables
from xl_lazada.tables.read import ORDER_COLUMNS, PACKAGE_COLUMNS
_ORDER_COLS = ", ".join(f"f.{c}" for c in ("shop", *ORDER_COLUMNS))
_PACKAGE_COLS = ", ".join(f"p.{c}" for c in ("shop", *PACKAGE_COLUMNS))
path, now = sys.argv[1], datetime.fromisoformat(sys.argv[2])
with Cache.open(path) as cache:
    all_tables(cache, shop="bench", now=now)  # warm the file cache like a second refresh
    t = time.perf_counter()
    frames = all_tables(cache, shop="bench", now=now)
    dt = time.perf_counter() - t
    rows = {k: len(v) for k, v in frames.items()}
    del frames
    # This process's own peak (Linux): ru_maxrss also counts the parent's resident set at
    # the spawn (vfork), which after the mapped 100k range reads is larger than ours.
    try:
        with open("/proc/self/status") as fh:
            peak = next(int(ln.split()[1]) for ln in fh if ln.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    conn = cache.connection
    conn.row_factory = None  # plain tuples: the floor pays nothing extra
    t = time.perf_counter()
    conn.execute(f"SELECT {_ORDER_COLS} FROM order_facts f WHERE f.shop = 'bench'").fetchall()
    conn.execute(f"SELECT {_PACKAGE_COLS} FROM package_facts p WHERE p.shop = 'bench'").fetchall()
    conn.execute("SELECT package_id, event_time, status_code, title, description, location"
                 " FROM checkpoints NOT INDEXED WHERE shop = 'bench'").fetchall()
    floor = time.perf_counter() - t
print(json.dumps({"s": dt, "rows": rows, "peak_mb": peak, "floor_s": floor}))
"""


def bench_tables(path: str, now: datetime, target: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _TABLES_CHILD, path, now.isoformat()],
        capture_output=True,
        text=True,
        check=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    rows = ", ".join(f"{k} {v:,}" for k, v in r["rows"].items())
    print(
        f"all four tables: {r['s']:.2f} s ({rows}); peak memory {r['peak_mb']:,.0f} MB "
        f"(floor: {r['floor_s']:.2f} s, {r['s'] / r['floor_s']:.1f}x)   target {target}"
    )


#: Lazada-like pacing for ``--sync-at-limits`` (what ``bench_sync_speed.py`` uses): per-API
#: limits the client is not told, and 80-150 ms before each answer.
AT_LIMITS = {
    "qps": 20.0,
    "api_qps": DEFAULT_LIMITS,
    "latency_ms": 80.0,
    "latency_spread_ms": 70.0,
}


def bench_sync(orders: int, repeat: int, limits: dict | None = None) -> None:
    """Sync the same shop with facts off and on, alternately ``repeat`` times; each side's
    fastest run is compared (the least disturbed by whatever else the machine runs).
    ``limits``: paced as Lazada paces (see ``AT_LIMITS``); else as fast as this machine goes."""
    offs, ons = [], []
    how = "at Lazada-like limits and latency" if limits else "unpaced: bound by this machine's CPU"
    print(f"sync measure, {how}:")
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            for keep, runs in ((False, offs), (True, ons)):
                path = os.path.join(tmp, f"{'on' if keep else 'off'}-{i}.sqlite3")
                runs.append(sync_into(path, orders, seed=11, keep_facts=keep, limits=limits))
    for off, on in zip(offs, ons, strict=True):
        print(
            f"  run: {off['sync_s']:.1f} s without facts (CPU {off['sync_cpu_s']:.1f} s), "
            f"{on['sync_s']:.1f} s with (CPU {on['sync_cpu_s']:.1f} s, facts {on['facts_s']:.2f} s,"
            f" of it {on['facts_cpu_s']:.2f} s CPU)"
        )
    # Each pair ran back to back, so a pair's difference is the least moved by the machine's
    # speed drifting from minute to minute (the fastest of each side may come from
    # different minutes): the median pair, and the facts' own CPU against the median sync.
    wall = sorted((b["sync_s"] / a["sync_s"] - 1) * 100 for a, b in zip(offs, ons, strict=True))
    cpu = sorted(
        (b["sync_cpu_s"] / a["sync_cpu_s"] - 1) * 100 for a, b in zip(offs, ons, strict=True)
    )
    own = statistics.median(r["facts_cpu_s"] for r in ons)
    base = statistics.median(r["sync_cpu_s"] for r in offs)
    print(
        f"  pairs: median {statistics.median(wall):+.1f}% wall ({wall[0]:+.1f}% to "
        f"{wall[-1]:+.1f}%), {statistics.median(cpu):+.1f}% CPU ({cpu[0]:+.1f}% to "
        f"{cpu[-1]:+.1f}%); the facts' own CPU {own:.2f} s = {own / base * 100:.1f}% of a "
        f"sync's CPU without them (medians)"
    )
    off = min(offs, key=lambda r: r["sync_s"])
    on = min(ons, key=lambda r: r["sync_s"])
    off_cpu = min(r["sync_cpu_s"] for r in offs)
    on_cpu = min(r["sync_cpu_s"] for r in ons)
    added = on["sync_s"] - off["sync_s"]
    print(
        f"sync of a {orders:,}-order shop (fastest of {repeat}): {on['sync_s']:.1f} s with facts "
        f"({on['facts_s']:.2f} s of it keeping facts = "
        f"{on['facts_s'] / on['sync_s'] * 100:.1f}% of the sync, {on['facts_cpu_s']:.2f} s of"
        f" that the writing thread's CPU), {off['sync_s']:.1f} s without: "
        f"{added / off['sync_s'] * 100:+.1f}% wall; CPU {on_cpu:.1f} s vs {off_cpu:.1f} s: "
        f"{(on_cpu - off_cpu) / off_cpu * 100:+.1f}% CPU   target <= 10%"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--big", type=int, default=100_000, help="orders in the big shop (0 skips)")
    ap.add_argument("--mid", type=int, default=20_000, help="orders in the mid-size shop (0 skips)")
    ap.add_argument("--sync-orders", type=int, default=5_000, help="0 skips the sync measure")
    ap.add_argument(
        "--sync-repeat", type=int, default=3, help="facts off/on sync pairs (fastest compared)"
    )
    ap.add_argument(
        "--sync-at-limits",
        action="store_true",
        help="pace the sync measure's sandbox as Lazada would (limits, latency)",
    )
    ap.add_argument("--rebuild", action="store_true", help="sync new caches even if kept")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    if args.big:
        big, big_info = shop_cache(args.big, rebuild=args.rebuild)
        print("big cache: " + _describe(big, big_info))
        now = datetime.fromisoformat(big_info["now"])
        bench_lookups(big, now)
    if args.mid:
        mid, mid_info = shop_cache(args.mid, rebuild=args.rebuild)
        print("mid cache: " + _describe(mid, mid_info))
        bench_tables(mid, datetime.fromisoformat(mid_info["now"]), f"<= 1.5 s at {args.mid:,}")
    if args.big:
        bench_tables(big, now, f"<= 8 s and 1.5 GB at {args.big:,}")
    if args.sync_orders:
        limits = AT_LIMITS if args.sync_at_limits else None
        bench_sync(args.sync_orders, max(1, args.sync_repeat), limits)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
