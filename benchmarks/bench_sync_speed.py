"""Benchmark: sync wall time and calls against limits the client is not told, vs the lazop SDK.

    python benchmarks/bench_sync_speed.py --judged              # 300 orders, 100 ms, 20/s
    python benchmarks/bench_sync_speed.py --sizes 1000,5000,20000 --lazop-sizes 1000,5000

The sandbox runs in its own process with a frozen clock, answering after ``--latency`` ms
(plus up to ``--spread`` ms) and banning an API for a second past its own calls-per-second
limit (``--limits``; the client is never told them, it learns them). For each shop size:

* **first sync** — ``sync_shop`` with the default client (learned rates, default workers) in a
  fresh process and cache; its wall time, calls per API, throttled share, peak memory;
* **incremental sync** — the sandbox clock moves a day (and so does the sync's idea of now,
  which decides which parcels are stale), a new process syncs again (it starts from the
  rates the first one saved in the cache);
* **lazop** — the official SDK (``lazop-sdk``) read sequentially, as a plain script would:
  order pages, one ``/order/items/get`` per order, one trace per order with a parcel, finance
  pages and payouts (with a 1 s pause and retry on ``ApiCallLimit``).

The **minimum calls** the API allows come from the sandbox's ground truth: order pages of 100,
item batches of 50, one trace per order that has a parcel with checkpoints (incremental: one
that got new checkpoints that day), finance pages of 500, plus seller and payouts. The
**floor** is the time those calls take at the sandbox's limits: ``floor`` (stages one after
another, the issue's definition) = sum over APIs of ``calls / limit`` with order pages at
least one latency each (each page depends on the last); ``overlap floor`` (stricter: every
API busy at once) = the largest single API's ``calls / limit``, plus one latency.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from multiprocessing.connection import Connection as Pipe
from typing import Any

from _sandbox import connection, connection_info

LOOKBACK_DAYS = 50  # the sandbox shop's history is 45 days: the first sync reads all of it
DEFAULT_LIMITS = {
    "/seller/get": 5.0,
    "/orders/get": 10.0,
    "/orders/items/get": 15.0,
    "/logistic/order/trace": 25.0,
    "/finance/transaction/details/get": 12.0,
    "/finance/payout/status/get": 5.0,
}
SHORT = {
    "/seller/get": "seller",
    "/orders/get": "orders",
    "/orders/items/get": "items",
    "/order/items/get": "items1",
    "/logistic/order/trace": "trace",
    "/finance/transaction/details/get": "finance",
    "/finance/payout/status/get": "payouts",
}
FINANCE_OVERLAP_DAYS = 14  # the first incremental run of a day re-reads two weeks


# ---- the sandbox process -----------------------------------------------------------------
def _truth(sb: Any, since: Any | None) -> dict[str, Any]:
    """Minimum calls by API for a sync of everything (``since`` None) or of what changed."""
    from xl_lazada.lazada.dates import parse_datetime
    from xl_lazada.lazada.ventures import venture

    tz = venture(sb.shop.venture.code).tz
    now = sb.clock.now()
    snap = sb.shop.snapshot(now)
    orders = snap["orders"]
    if since is None:
        changed = orders
        traced = [
            oid
            for oid, pkgs in snap["traces"].items()
            if any(p["logistic_detail_info_list"] for p in pkgs)
        ]
        tx = snap["transactions"]
    else:
        changed = [o for o in orders if parse_datetime(o["updated_at"], tz) > since]
        traced = [
            oid
            for oid, pkgs in snap["traces"].items()
            if any(
                parse_datetime(str(e["event_time"]), tz) > since
                if not str(e["event_time"]).isdigit()
                else int(e["event_time"]) / 1000 > since.timestamp()
                for p in pkgs
                for e in p["logistic_detail_info_list"]
            )
        ]
        start = (now - timedelta(days=FINANCE_OVERLAP_DAYS)).date().isoformat()
        tx = [x for x in snap["transactions"] if _tx_date(x) >= start]
    n = len(changed)
    calls = {
        "/seller/get": 1,
        "/orders/get": max(1, math.ceil(n / 100)),
        "/orders/items/get": math.ceil(n / 50),
        "/logistic/order/trace": len(traced),
        "/finance/transaction/details/get": max(1, math.ceil(len(tx) / 500)),
        "/finance/payout/status/get": 1,
    }
    return {"orders": len(orders), "changed": n, "calls": calls, "at": now.isoformat()}


def _tx_date(x: dict[str, Any]) -> str:
    from datetime import datetime

    text = str(x.get("transaction_date", ""))
    for fmt in ("%d %b %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text[:11].strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return text[:10]


def _serve(pipe: Pipe, cfg: dict[str, Any]) -> None:
    from xl_lazada.sandbox.server import SandboxServer

    t0 = time.perf_counter()
    with SandboxServer(
        orders=cfg["orders"],
        seed=cfg["seed"],
        clock_speed=0.0,
        qps=cfg["qps"],
        api_qps=cfg["limits"],
        latency_ms=cfg["latency"],
        latency_spread_ms=cfg["spread"],
    ) as sb:
        pipe.send({**connection_info(sb), "generated_s": time.perf_counter() - t0})
        since = None
        while True:
            cmd, arg = pipe.recv()
            if cmd == "stop":
                return
            if cmd == "truth":
                pipe.send(_truth(sb, since))
            elif cmd == "advance":
                since = sb.clock.now()
                sb.clock.advance(timedelta(seconds=arg))
                pipe.send(sb.clock.now().isoformat())


# ---- our sync (a fresh process per run, as cron would start it) --------------------------
def _our_sync(
    pipe: Pipe, info: dict[str, Any], cache_path: str, daily_calls: int, days_later: int
) -> None:
    if days_later:  # this computer's clock moves with the sandbox's (trace staleness, finance)
        import xl_lazada.sync.engine as engine
        from xl_lazada.lazada.dates import utcnow

        engine.utcnow = lambda: utcnow() + timedelta(days=days_later)  # type: ignore[assignment]
    from xl_lazada.cache import Cache
    from xl_lazada.lazada.client import LazadaClient
    from xl_lazada.sync import SyncOptions, sync_shop

    conn = connection(info)
    options = SyncOptions(lookback_days=LOOKBACK_DAYS, daily_calls=daily_calls)
    with Cache.open(cache_path) as cache, LazadaClient(conn) as client:
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        s = sync_shop(client, cache, "bench", options=options)
        wall = time.perf_counter() - t0
        stats = client.stats.snapshot()
        rates = {SHORT.get(k, k): round(v.qps, 1) for k, v in client.learned_rates().items()}
    pipe.send(
        {
            "wall": wall,
            "cpu": time.process_time() - cpu0,
            "calls": s.calls,
            "throttled": s.throttled,
            "by_api": stats["by_api"],
            "failed": len(s.failed),
            "failed_stages": s.failed_stages,
            "deferred": s.deferred,
            "new_orders": s.new_orders,
            "traced": s.traced_orders,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rates": rates,
            "stage_calls": s.calls_by_stage,
        }
    )


def _run_in_child(target: Any, *args: Any) -> dict[str, Any]:
    parent, child = mp.Pipe()
    p = mp.Process(target=target, args=(child, *args))
    p.start()
    result = parent.recv()
    p.join()
    return result


# ---- the lazop-SDK script ----------------------------------------------------------------
def _lazop(pipe: Pipe, info: dict[str, Any], home: str) -> None:
    os.environ["HOME"] = home  # lazop_sdk writes ~/logs at import time
    os.environ["USERPROFILE"] = home
    from datetime import datetime, timezone

    from lazop_sdk import LazopClient, LazopRequest

    client = LazopClient(info["base_url"], info["app_key"], info["app_secret"])
    token = info["access_token"]
    calls = {"n": 0, "throttled": 0}

    def call(api: str, **params: Any) -> dict[str, Any]:
        while True:
            req = LazopRequest(api, "GET")
            for k, v in params.items():
                req.add_api_param(k, str(v))
            calls["n"] += 1
            body = client.execute(req, token).body
            if body.get("code") == "ApiCallLimit":
                calls["throttled"] += 1
                time.sleep(1.0)
                continue
            return body

    t0 = time.perf_counter()
    tz = timezone(timedelta(hours=8))
    since = (datetime.now(tz) - timedelta(days=400)).isoformat(timespec="seconds")
    call("/seller/get")
    order_ids: list[str] = []
    offset = 0
    while True:
        data = call("/orders/get", created_after=since, limit=100, offset=offset)["data"]
        page = data.get("orders", [])
        order_ids += [str(o["order_id"]) for o in page]
        if len(page) < 100:
            break
        offset += 100
    traced = 0
    for oid in order_ids:
        items = call("/order/items/get", order_id=oid).get("data") or []
        if any(i.get("package_id") or i.get("tracking_code") for i in items):
            call("/logistic/order/trace", order_id=oid)
            traced += 1
    end = datetime.now(tz).date()
    start = end - timedelta(days=LOOKBACK_DAYS)
    offset = 0
    while True:
        rows = (
            call(
                "/finance/transaction/details/get",
                start_time=start.isoformat(),
                end_time=end.isoformat(),
                trans_type=-1,
                offset=offset,
                limit=500,
            ).get("data")
            or []
        )
        if len(rows) < 500:
            break
        offset += 500
    call("/finance/payout/status/get", created_after=start.isoformat())
    pipe.send(
        {
            "wall": time.perf_counter() - t0,
            "calls": calls["n"],
            "throttled": calls["throttled"],
            "orders": len(order_ids),
            "traced": traced,
        }
    )


# ---- reporting ---------------------------------------------------------------------------
def _floors(
    calls: dict[str, int], limits: dict[str, float], latency_s: float
) -> tuple[float, float]:
    per_api = {}
    for api, n in calls.items():
        t = n / limits[api] if limits.get(api, 0) > 0 else 0.0
        if api == "/orders/get":
            t = max(t, n * latency_s)  # each page waits for the last one
        per_api[api] = t
    serial = sum(per_api.values()) + latency_s
    overlap = max(per_api.values()) + latency_s
    return serial, overlap


def _fmt_api(by_api: dict[str, int]) -> str:
    return ", ".join(f"{SHORT.get(k, k)} {v:,}" for k, v in sorted(by_api.items()) if v)


def _limits_for(args: argparse.Namespace) -> dict[str, float]:
    if args.limits:
        return {k: float(v) for k, v in (p.split("=") for p in args.limits.split(","))}
    return dict(DEFAULT_LIMITS)


def _size(args: argparse.Namespace, n: int, run_lazop: bool) -> dict[str, Any]:
    limits = _limits_for(args)
    cfg = {
        "orders": n,
        "seed": args.seed,
        "qps": args.qps,
        "limits": limits,
        "latency": args.latency,
        "spread": args.spread,
    }
    parent, child = mp.Pipe()
    server = mp.Process(target=_serve, args=(child, cfg), daemon=True)
    server.start()
    info = parent.recv()
    mean_latency = (args.latency + args.spread / 2) / 1000
    full_limits = {api: limits.get(api, args.qps) for api in SHORT}
    out: dict[str, Any] = {"size": n}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            parent.send(("truth", None))
            truth = parent.recv()
            cache_path = os.path.join(tmp, "bench.sqlite3")
            first = _run_in_child(_our_sync, info, cache_path, args.daily_calls, 0)
            floor, overlap = _floors(truth["calls"], full_limits, mean_latency)
            minimum = sum(truth["calls"].values())
            out["first"] = {
                **first,
                "minimum": minimum,
                "floor": floor,
                "overlap": overlap,
                "truth": truth,
            }
            _print_first(n, truth, first, minimum, floor, overlap)

            parent.send(("advance", 86400))
            parent.recv()
            parent.send(("truth", None))
            inc_truth = parent.recv()
            inc = _run_in_child(_our_sync, info, cache_path, args.daily_calls, 1)
            inc_min = sum(inc_truth["calls"].values())
            out["incremental"] = {**inc, "minimum": inc_min, "truth": inc_truth}
            print(
                f"  incremental (clock +1 day, {inc_truth['changed']:,} orders changed): "
                f"{inc['calls']:,} calls ({1000 * inc['calls'] / truth['orders']:.0f} per 1,000 "
                f"orders; {inc['calls'] / first['calls']:.1%} of the first sync), "
                f"{inc['wall']:.1f} s; minimum {inc_min:,} "
                f"({_fmt_api(inc_truth['calls'])}); ours: {_fmt_api(inc['by_api'])}"
            )
            if run_lazop:
                lz = _run_in_child(_lazop, info, tmp)
                out["lazop"] = lz
                print(
                    f"  lazop SDK script: {lz['calls']:,} calls "
                    f"({1000 * lz['calls'] / truth['orders']:,.0f} per 1,000 orders), "
                    f"{lz['wall']:.1f} s ({lz['throttled']} throttled); "
                    f"xl-lazada: {lz['wall'] / first['wall']:.1f}x faster with "
                    f"{first['calls'] / lz['calls']:.0%} of its calls"
                )
    finally:
        parent.send(("stop", None))
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()
    return out


def _print_first(
    n: int, truth: dict[str, Any], r: dict[str, Any], minimum: int, floor: float, overlap: float
) -> None:
    orders = truth["orders"]
    print(
        f"{n:,}-order shop ({orders:,} orders visible): first sync {r['wall']:.1f} s "
        f"= {r['wall'] / floor:.2f}x floor {floor:.1f} s ({r['wall'] / overlap:.2f}x overlap "
        f"floor {overlap:.1f} s); {r['calls']:,} calls ({1000 * r['calls'] / orders:,.0f} per "
        f"1,000 orders) = {r['calls'] / minimum:.3f}x minimum {minimum:,}; throttled "
        f"{r['throttled']} ({r['throttled'] / max(1, r['calls']):.1%}); peak RSS "
        f"{r['rss_mb']:.0f} MB; sync CPU {r['cpu']:.1f} s; failed {r['failed']}"
    )
    print(f"  minimum: {_fmt_api(truth['calls'])}")
    print(f"  ours:    {_fmt_api(r['by_api'])}")
    print(f"  learned rates (calls/s): {r['rates']}")


def _judged(args: argparse.Namespace) -> None:
    """300 orders, 100 ms, 20 calls/s per API: `xl-lazada sync` vs the lazop script."""
    latency = 100.0 if args.judged_latency is None else args.judged_latency
    cfg = {
        "orders": args.orders,
        "seed": args.seed,
        "qps": 20.0,
        "limits": {},
        "latency": latency,
        "spread": 0.0,
    }
    parent, child = mp.Pipe()
    server = mp.Process(target=_serve, args=(child, cfg), daemon=True)
    server.start()
    info = parent.recv()
    try:
        parent.send(("truth", None))
        truth = parent.recv()
        with tempfile.TemporaryDirectory() as tmp:
            env = {k: v for k, v in os.environ.items() if not k.startswith("XL_LAZADA_")}
            env.update(
                XL_LAZADA_BASE_URL=info["base_url"],
                XL_LAZADA_APP_KEY=info["app_key"],
                XL_LAZADA_APP_SECRET=info["app_secret"],
                XL_LAZADA_ACCESS_TOKEN=info["access_token"],
                XL_LAZADA_VENTURE=info["venture"],
                XL_LAZADA_HOME=os.path.join(tmp, "home"),
                XL_LAZADA_CACHE=os.path.join(tmp, "cache.sqlite3"),
            )
            cmd = [
                sys.executable,
                "-c",
                "import sys; from xl_lazada.cli import main; sys.exit(main())",
                "sync",
                "--json",
                "--lookback-days",
                str(LOOKBACK_DAYS),
            ]
            t0 = time.perf_counter()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            wall = time.perf_counter() - t0
            if done.returncode != 0:
                raise SystemExit(f"xl-lazada sync failed: {done.stderr[-500:]}")
            ours = json.loads(done.stdout)
            lz = None if args.no_lazop else _run_in_child(_lazop, info, tmp)
    finally:
        parent.send(("stop", None))
        server.join(timeout=10)
    limits = {api: 20.0 for api in SHORT}
    floor, overlap = _floors(truth["calls"], limits, latency / 1000)
    minimum = sum(truth["calls"].values())
    print(
        f"judged run: {truth['orders']} orders, {latency:g} ms latency, 20 calls/s per API\n"
        f"  xl-lazada sync (default settings, a fresh cache): {wall:.1f} s wall "
        f"({ours['elapsed_s']:.1f} s in the sync), {ours['calls']} calls, "
        f"{ours['throttled']} throttled ({ours['throttled'] / max(1, ours['calls']):.1%}); "
        f"{wall / floor:.2f}x the floor {floor:.1f} s ({wall / overlap:.2f}x the overlap floor "
        f"{overlap:.1f} s); calls {ours['calls'] / minimum:.3f}x the minimum {minimum}"
    )
    print(f"  summary line: {done.stderr.strip().splitlines()[-1]}")
    if lz is not None:
        print(
            f"  lazop SDK script: {lz['wall']:.1f} s, {lz['calls']} calls\n"
            f"  => xl-lazada {lz['wall'] / wall:.2f}x faster, with {ours['calls'] / lz['calls']:.0%} "
            "of its calls"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--judged", action="store_true", help="the issue's 300-order comparison")
    ap.add_argument("--orders", type=int, default=300, help="shop size for --judged")
    ap.add_argument("--judged-latency", type=float, help="ms for --judged (default 100)")
    ap.add_argument("--no-lazop", action="store_true", help="--judged without the lazop script")
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--lazop-sizes", default="1000", help="sizes to run the lazop script for")
    ap.add_argument("--latency", type=float, default=80.0, help="ms before each answer")
    ap.add_argument("--spread", type=float, default=70.0, help="plus up to this many ms")
    ap.add_argument("--qps", type=float, default=20.0, help="limit of APIs not in --limits")
    ap.add_argument("--limits", default="", help="path=qps,... (default: per-API, see source)")
    ap.add_argument("--daily-calls", type=int, default=0, help="0: no daily budget")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", dest="json_out", help="also write the results here")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    if args.judged:
        _judged(args)
        return
    lazop_sizes = {int(x) for x in args.lazop_sizes.split(",") if x}
    print(
        f"sandbox: {args.latency:.0f}-{args.latency + args.spread:.0f} ms latency, limits "
        f"(calls/s, not told to the client): "
        + ", ".join(f"{SHORT[k]} {v:g}" for k, v in _limits_for(args).items())
    )
    results = [_size(args, int(n), int(n) in lazop_sizes) for n in args.sizes.split(",") if n]
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
