"""How long the sandbox takes to generate a shop, and how much memory it holds.

Targets (docs/brief): 3,000 orders in about 1-2 s; 100,000 in well under a minute and a
few GB at most. Each size runs in a fresh interpreter so peak memory is that size's own.

    python benchmarks/bench_sandbox_generate.py            # 3k, 20k, 100k
    python benchmarks/bench_sandbox_generate.py 3000 50000
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)


def _peak_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def measure(orders: int) -> dict[str, float]:
    """Generate one shop in this process and time a few reads on it."""
    from xl_lazada.sandbox.shop import Shop

    base_mb = _peak_mb()
    t0 = time.perf_counter()
    shop = Shop.generate(seed=7, orders=orders, now=NOW)
    generate_s = time.perf_counter() - t0
    peak_mb = _peak_mb()

    t0 = time.perf_counter()
    total, _ = shop.list_orders(NOW, update_after=NOW - timedelta(days=30), limit=100)
    first_page_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pages = 0
    for offset in range(0, min(total, 5000), 100):
        shop.list_orders(NOW, update_after=NOW - timedelta(days=30), offset=offset, limit=100)
        pages += 1
    page_ms = (time.perf_counter() - t0) / max(pages, 1) * 1000
    return {
        "orders": orders,
        "generate_s": round(generate_s, 2),
        "peak_mb": round(peak_mb, 1),
        "peak_over_import_mb": round(peak_mb - base_mb, 1),
        "first_page_s": round(first_page_s, 3),
        "next_page_ms": round(page_ms, 2),
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        print(json.dumps(measure(int(argv[1]))))
        return 0
    sizes = [int(a) for a in argv] or [3_000, 20_000, 100_000]
    print(f"{'orders':>8} {'generate s':>11} {'peak MB':>8} {'1st page s':>11} {'page ms':>8}")
    for n in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n)],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['orders']:>8} {r['generate_s']:>11} {r['peak_mb']:>8} "
            f"{r['first_page_s']:>11} {r['next_page_ms']:>8}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
