"""Over real HTTP against a sandbox with more than 5000 orders: paging past Lazada's offset
limit, and a token that expires in the middle of the run."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.tokens import Token
from xl_lazada.sandbox.server import SandboxServer


@pytest.fixture(scope="module")
def big():
    with SandboxServer(orders=6000, seed=11, clock_speed=0.0, qps=1000) as sb:
        yield sb


@pytest.fixture(scope="module")
def truth_ids(big) -> Counter:
    snap = big.shop.snapshot(big.clock.now())
    ids = Counter(str(o["order_id"]) for o in snap["orders"])
    assert len(ids) > 5000, "the sandbox must show more than 5000 orders for this test"
    return ids


def test_paging_past_5000_yields_every_order_exactly_once(big, truth_ids) -> None:
    big.stats.reset()
    start = big.clock.now() - timedelta(days=400)
    with LazadaClient(big.connection(), default_qps=0) as client:
        ids = Counter(o.order_id for o in client.iter_orders(created_after=start))
    assert ids == truth_ids
    assert big.stats.errors.get("14", 0) == 0  # never sent an offset past 5000
    pages = big.stats.by_api["/orders/get"]
    assert len(truth_ids) // 100 + 1 <= pages <= len(truth_ids) // 100 + 3


def test_token_expiring_mid_run_is_refreshed_and_saved(big, truth_ids) -> None:
    saved: list[Token] = []
    conn = big.connection()
    big.stats.reset()
    seen: Counter = Counter()
    with LazadaClient(conn, default_qps=0, on_token=saved.append) as client:
        for n, order in enumerate(
            client.iter_orders(update_after=big.clock.now() - timedelta(days=400))
        ):
            seen[order.order_id] += 1
            if n == len(truth_ids) // 2:
                assert big.expire_tokens() >= 1
        assert seen == truth_ids
        assert len(saved) == 1 and client.stats.refreshes == 1
        assert saved[0].access_token != conn.access_token
        assert big.stats.by_api["/auth/token/refresh"] == 1
        # the refreshed token keeps working for the rest of the client's life
        assert client.seller().seller_id


def test_concurrent_batches_refresh_only_once(big, truth_ids) -> None:
    saved: list[Token] = []
    ids = list(truth_ids)[:1000]  # 20 batches on 4 threads
    with LazadaClient(
        big.connection(), default_qps=0, max_workers=4, on_token=saved.append
    ) as client:
        big.expire_tokens()
        big.stats.reset()
        items = client.orders_items(ids)
    assert set(items) == set(ids)
    assert len(saved) == 1 and big.stats.by_api["/auth/token/refresh"] == 1


def test_rate_limit_is_shared_by_the_worker_threads(big, truth_ids) -> None:
    """20 batches at 10 calls/s on 4 threads take about 2 s and all succeed."""
    import time

    ids = list(truth_ids)[:1000]
    with LazadaClient(big.connection(), qps={"/orders/items/get": 10.0}, max_workers=4) as client:
        started = time.monotonic()
        items = client.orders_items(ids)
        elapsed = time.monotonic() - started
    assert set(items) == set(ids)
    assert elapsed >= 19 / 10.0 - 0.05


def test_traces_are_bounded_by_max_workers(big, truth_ids) -> None:
    active = 0
    peak = 0
    lock = threading.Lock()
    with LazadaClient(big.connection(), default_qps=0, max_workers=3) as client:
        original = client.trace

        def counting_trace(order_id: str):
            nonlocal active, peak
            with lock:
                active += 1
                peak = max(peak, active)
            try:
                return original(order_id)
            finally:
                with lock:
                    active -= 1

        client.trace = counting_trace  # type: ignore[method-assign]
        results = list(client.traces(list(truth_ids)[:60]))
    assert len(results) == 60 and 1 <= peak <= 3
