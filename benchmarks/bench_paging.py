"""Benchmark: read every order of a 20,000-order sandbox shop with ``iter_orders``.

Prints orders/s, HTTP calls made (client and server side; the client re-anchors its time
window after every page, so Lazada's 5000-offset cap is never reached),
and whether every visible order appeared exactly once. Run:

    python benchmarks/bench_paging.py [--orders 20000] [--page-size 100] [--by-update]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import timedelta

from xl_lazada.lazada.client import LazadaClient
from xl_lazada.sandbox.server import SandboxServer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--by-update", action="store_true", help="page by updated_at instead")
    args = ap.parse_args()

    t0 = time.perf_counter()
    with SandboxServer(orders=args.orders, seed=args.seed, clock_speed=0.0, qps=10_000) as sb:
        setup_s = time.perf_counter() - t0
        truth = Counter(str(o["order_id"]) for o in sb.shop.snapshot(sb.clock.now())["orders"])
        after = sb.clock.now() - timedelta(days=3650)
        sb.stats.reset()
        with LazadaClient(sb.connection(), default_qps=0) as client:
            started = time.perf_counter()
            if args.by_update:
                orders = client.iter_orders(update_after=after, page_size=args.page_size)
            else:
                orders = client.iter_orders(created_after=after, page_size=args.page_size)
            seen = Counter(o.order_id for o in orders)
            elapsed = time.perf_counter() - started
            stats = client.stats.snapshot()
        server_calls = sb.stats.by_api["/orders/get"]
        errors = dict(sb.stats.errors)

    dupes = sum(1 for n in seen.values() if n > 1)
    missing = len(set(truth) - set(seen))
    extra = len(set(seen) - set(truth))
    exact = seen == truth
    print(f"sandbox: {args.orders} orders generated, {len(truth)} visible (setup {setup_s:.1f} s)")
    print(
        f"read:    {sum(seen.values())} orders in {elapsed:.2f} s = {sum(seen.values()) / elapsed:,.0f} orders/s"
    )
    print(
        f"calls:   {stats['calls']} client / {server_calls} server /orders/get "
        f"(retries {stats['retries']}, throttled {stats['throttled']}, server errors {errors or 'none'})"
    )
    print(
        f"exactly once: {'YES' if exact else 'NO'} "
        f"(duplicates {dupes}, missing {missing}, unexpected {extra})"
    )
    return 0 if exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
