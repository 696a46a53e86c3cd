"""How fast the sandbox serves a big shop: page every order of a 20,000-order shop over HTTP.

Target: 200 pages of 100 orders in well under a minute (the sync engine's full first sync
against the demo must feel quick). Run: ``python benchmarks/bench_sandbox_server.py [orders]``.
"""

from __future__ import annotations

import statistics
import sys
import time

import httpx

from xl_lazada.lazada.signing import encode_params, sign
from xl_lazada.sandbox.server import SandboxServer

EARLY = "2000-01-01T00:00:00+00:00"


def main(orders: int = 20_000) -> None:
    started = time.perf_counter()
    server = SandboxServer(orders=orders, seed=7, clock_speed=0.0, qps=0)
    built = time.perf_counter() - started
    with server as sb, httpx.Client(timeout=60) as client:
        token = sb.issue_token()["access_token"]

        def get(api: str, **biz: object) -> dict:
            params = encode_params(
                {
                    "app_key": sb.app_key,
                    "sign_method": "sha256",
                    "timestamp": int(time.time() * 1000),
                    "access_token": token,
                    **biz,
                }
            )
            params["sign"] = sign(sb.app_secret, api, params)
            body = client.get(sb.base_url + api, params=params).json()
            if body.get("code") != "0":
                raise SystemExit(f"{api} failed: {body.get('code')} {body.get('message')}")
            return body

        # Lazada caps offset at 5000, so page the way a client must: move the window on.
        page_times: list[float] = []
        ids: list[str] = []
        after = EARLY
        t0 = time.perf_counter()
        while True:
            offset, last_created = 0, None
            while True:
                t = time.perf_counter()
                data = get(
                    "/orders/get",
                    created_after=after,
                    sort_by="created_at",
                    sort_direction="ASC",
                    offset=offset,
                    limit=100,
                )["data"]
                page_times.append(time.perf_counter() - t)
                ids.extend(o["order_id"] for o in data["orders"])
                if data["orders"]:
                    last_created = data["orders"][-1]["created_at"]
                offset += 100
                if offset >= data["countTotal"] or offset > 5000 - 100:
                    break
            if offset >= data["countTotal"] or last_created is None:
                break
            after = _iso(last_created)
        paging = time.perf_counter() - t0
        unique = len(set(ids))

        t0 = time.perf_counter()
        unique_ids = list(dict.fromkeys(ids))
        for i in range(0, min(len(unique_ids), 5000), 50):
            get("/orders/items/get", order_ids=unique_ids[i : i + 50])
        items = time.perf_counter() - t0

    print(f"shop of {orders} orders built in {built:.2f} s")
    print(
        f"/orders/get: {len(page_times)} pages, {unique} distinct orders in {paging:.2f} s "
        f"(median {statistics.median(page_times) * 1000:.1f} ms, "
        f"p95 {sorted(page_times)[int(len(page_times) * 0.95)] * 1000:.1f} ms per page)"
    )
    batches = (min(len(unique_ids), 5000) + 49) // 50
    print(f"/orders/items/get: {batches} batches of 50 in {items:.2f} s")


def _iso(lazada_time: str) -> str:
    """``2026-11-03 18:36:05 +0800`` -> ``2026-11-03T18:36:05+08:00`` (the filter's format)."""
    from xl_lazada.lazada.dates import format_iso, parse_datetime

    parsed = parse_datetime(lazada_time)
    assert parsed is not None
    return format_iso(parsed)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
