"""Benchmark: the worksheet formulas, in-process, against a large synced cache.

What one ``=LAZADA_STATUS(A2)`` cell and one ``=LAZADA_STATUS(A2:A10001)`` range cost in
Python: the UDF function itself (argument handling, the answer memo, ``lookup``, shaping the
result). **Excel's own call overhead is excluded**: every cell formula is a COM round trip
from Excel to the Python process (typically far slower than the Python below, and the
reason the range form is the documented way for long lists); that cannot be measured
without Excel.

Targets: a cell <= 1 ms, a 10,000-row range <= 100 ms. Printed with the floor measured in
the same run: ``lookup()`` of the same references with no UDF layer, and ``generation()``
(one read every formula call makes to notice a refresh).

    python benchmarks/bench_udfs.py [--orders 100000] [--rebuild]

The cache is a sandbox shop synced over loopback HTTP once and reused
(see ``benchmarks/_shop_cache.py``; building the 100,000-order one takes minutes).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1e3:8.3f} ms  best {min(values) * 1e3:8.3f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()

    from _shop_cache import shop_cache

    path, info = shop_cache(args.orders, rebuild=args.rebuild)
    os.environ["XL_LAZADA_CACHE"] = path
    os.environ["XL_LAZADA_FETCH_BUDGET"] = "0"  # every ref below is in the cache anyway
    os.environ["XL_LAZADA_HOME"] = tempfile.mkdtemp(prefix="xl-lazada-bench-")

    from xl_lazada.cache import Cache
    from xl_lazada.excel import source, udfs
    from xl_lazada.lookup import generation, lookup

    with Cache.open(path) as cache:
        numbers = [
            r[0]
            for r in cache.connection.execute(
                "SELECT order_number FROM orders WHERE shop = 'bench' ORDER BY order_id"
            )
        ]
    rnd = random.Random(5)
    refs = rnd.sample(numbers, min(args.rows, len(numbers)))
    column = [[float(r)] for r in refs]  # what Excel hands over for a column of numbers
    print(
        f"cache: {info['orders']:,}-order sandbox shop ({'reused' if info.get('reused') else 'built'}), "
        f"{len(refs):,} distinct order numbers; python {sys.version.split()[0]}"
    )
    print("in-process; Excel's per-call COM overhead excluded (see the docstring)\n")

    generation()  # open this thread's connection once (Excel's process keeps it)
    lookup(refs[:10])

    # Floor: the library read alone.
    g = timed(generation, 200)
    print(f"floor  generation()                       {ms(g)}")
    one = timed(lambda: lookup([refs[rnd.randrange(len(refs))]]), 300)
    print(f"floor  lookup() of 1 ref                  {ms(one)}")
    many = timed(lambda: lookup(refs), 5)
    print(f"floor  lookup() of {len(refs):,} refs            {ms(many)}\n")

    # One cell, first time (the memo cleared each call) and repeated.
    def cold_cell() -> None:
        source.clear()
        udfs.LAZADA_STATUS(float(refs[rnd.randrange(len(refs))]))

    c = timed(cold_cell, 300)
    print(f"cell   =LAZADA_STATUS(A2) first time      {ms(c)}   target <= 1 ms")
    source.clear()
    udfs.LAZADA_STATUS(float(refs[0]))
    w = timed(lambda: udfs.LAZADA_STATUS(float(refs[0])), 1000)
    print(f"cell   =LAZADA_STATUS(A2) repeated        {ms(w)}")

    # A range of N rows in one call.
    def cold_range() -> None:
        source.clear()
        udfs.LAZADA_STATUS(column)

    r = timed(cold_range, 5)
    print(f"range  =LAZADA_STATUS(A2:A{len(refs) + 1}) first time {ms(r)}   target <= 100 ms")
    layer = (statistics.median(r) - statistics.median(many)) * 1e3
    print(f"       of which the formula layer (range - lookup floor): ~{layer:.0f} ms")
    source.clear()
    udfs.LAZADA_STATUS(column)
    rw = timed(lambda: udfs.LAZADA_STATUS(column), 5)
    print(f"range  the same range recalculated        {ms(rw)}")
    # Other formulas over the same column: answers per reference come from the memo.
    other = []
    for part in ("deadline", "hours_left", "at_risk", "late"):
        t = time.perf_counter()
        udfs.LAZADA_RTS_DEADLINE(column, part)
        other.append(time.perf_counter() - t)
    print(f"range  =LAZADA_RTS_DEADLINE(range, part)  {ms(other)}   (4 parts, first time each)")
    out = udfs.LAZADA_STATUS(column)
    assert len(out) == len(refs) and all(isinstance(row[0], str) and row[0] for row in out)
    bad = [row[0] for row in out if row[0].startswith(("not ", "error", "invalid"))]
    print(f"\n{len(refs) - len(bad):,} of {len(refs):,} answered with a status")


if __name__ == "__main__":
    main()
