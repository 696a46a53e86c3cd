"""Build (once) a cache of a large sandbox shop through a real sync, and reuse it.

The sandbox runs in its own process (as Lazada would be another machine) with a frozen
clock; the sync engine fills the cache over loopback HTTP exactly as it would from Lazada.
A 100,000-order shop takes several minutes to sync, so the file is kept under the temp
directory and reused by later runs (``--rebuild`` makes a new one).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import tempfile
import time
from datetime import datetime
from multiprocessing.connection import Connection as Pipe

from _sandbox import connection, connection_info


def _serve(pipe: Pipe, orders: int, seed: int, limits: dict | None = None) -> None:
    from xl_lazada.sandbox.server import SandboxServer

    served = {"qps": 1_000_000.0} if limits is None else limits
    with SandboxServer(orders=orders, seed=seed, clock_speed=0.0, **served) as sb:
        pipe.send(
            {
                **connection_info(sb),
                "now": sb.clock.now().isoformat(),
                "days": int(sb.shop.params["days"]),
            }
        )
        pipe.recv()


def cache_path(orders: int, seed: int) -> str:
    root = os.path.join(tempfile.gettempdir(), "xl_lazada_bench")
    os.makedirs(root, exist_ok=True)
    return os.path.join(root, f"shop-{orders}-seed{seed}.sqlite3")


def sync_into(
    path: str, orders: int, seed: int = 7, *, keep_facts: bool = True, limits: dict | None = None
) -> dict:
    """Sync a fresh sandbox shop into ``path``; with ``keep_facts=False`` the cache's facts
    steps are switched off (to measure what keeping them costs). ``limits``: the sandbox's
    ``SandboxServer`` pacing (``qps``, ``api_qps``, ``latency_ms``, ``latency_spread_ms``),
    synced by the default client as a seller's would be; without it the sandbox answers
    as fast as it can and the client never waits (a sync bound by this machine's CPU).
    Returns timings: wall and
    this process's CPU for the sync, and the time spent keeping facts (every entry point
    of ``xl_lazada.cache.facts`` the cache calls while writing): wall (``facts_s``) and the
    writing thread's own CPU in it (``facts_cpu_s``; the rest is waiting: for a CPU, or for the
    interpreter lock while the client's threads parse responses)."""
    from xl_lazada.cache import Cache
    from xl_lazada.cache import facts as cache_facts
    from xl_lazada.lazada.client import LazadaClient
    from xl_lazada.sync import SyncOptions, sync_shop

    entry_points = ("refresh_facts", "refresh_trace_facts", "refresh_settlements")
    # (getattr with a default: an older checkout, measured for a before/after, has fewer)
    real = {n: getattr(cache_facts, n) for n in entry_points if hasattr(cache_facts, n)}
    spent = [0.0, 0.0]

    def timed(fn):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            t, c = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs) if keep_facts else 0
            finally:
                spent[0] += time.perf_counter() - t
                spent[1] += time.thread_time() - c

        return run

    parent, child = mp.Pipe()
    server = mp.Process(target=_serve, args=(child, orders, seed, limits), daemon=True)
    server.start()
    for name, fn in real.items():
        setattr(cache_facts, name, timed(fn))
    try:
        srv = parent.recv()
        conn = connection(srv)
        t1, c1 = time.perf_counter(), time.process_time()
        unpaced = {"default_qps": 1_000_000, "max_workers": 4} if limits is None else {}
        with Cache.open(path) as cache, LazadaClient(conn, **unpaced) as client:
            # No daily call budget: a benchmark shop is traced whole (a 10,000-call test-app
            # budget would leave most parcels of a 100,000-order shop without checkpoints).
            options = SyncOptions(lookback_days=srv["days"] + 5, daily_calls=0)
            summary = sync_shop(client, cache, "bench", options=options)
            version = cache.schema_version
        return {
            "orders": orders,
            "seed": seed,
            "now": srv["now"],
            "schema_version": version,
            "sync_s": round(time.perf_counter() - t1, 2),
            "sync_cpu_s": round(time.process_time() - c1, 2),
            "facts_s": round(spent[0], 2),
            "facts_cpu_s": round(spent[1], 2),
            "failed": len(summary.failed),
        }
    finally:
        for name, fn in real.items():
            setattr(cache_facts, name, fn)
        parent.send("stop")
        server.join(timeout=30)
        if server.is_alive():
            server.terminate()


def shop_cache(orders: int, seed: int = 7, *, rebuild: bool = False) -> tuple[str, dict]:
    """``(path, info)``: the cache of an ``orders``-order sandbox shop synced as "bench";
    ``info`` says how and when it was made (stored beside it as JSON)."""
    path = cache_path(orders, seed)
    meta = path + ".json"
    if not rebuild and os.path.exists(path) and os.path.exists(meta):
        with open(meta, encoding="utf-8") as fh:
            info = json.load(fh)
        info["reused"] = True
        return path, info
    for p in (path, path + "-wal", path + "-shm", meta):
        if os.path.exists(p):
            os.remove(p)
    info = sync_into(path, orders, seed)
    info.update(
        made="sandbox shop synced over loopback HTTP by xl_lazada.sync.sync_shop",
        made_at=datetime.now().isoformat(timespec="seconds"),
        reused=False,
    )
    with open(meta, "w", encoding="utf-8") as fh:
        json.dump(info, fh)
    return path, info


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rebuild", action="store_true")
    a = ap.parse_args()
    print(shop_cache(a.orders, a.seed, rebuild=a.rebuild))
