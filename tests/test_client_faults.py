"""Sandbox faults over real HTTP: throttling, server errors, garbled bodies, time-outs.

The client must come through transient faults with the right answers, wait at least a
second after ``ApiCallLimit``, and give up in bounded time when a fault never clears.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest

from xl_lazada.lazada import errors as E
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.retry import RetryPolicy
from xl_lazada.sandbox.server import Faults, SandboxServer


@pytest.fixture(scope="module")
def sb():
    with SandboxServer(orders=300, seed=3, clock_speed=0.0, qps=1000) as server:
        yield server


@pytest.fixture(autouse=True)
def clean(sb):
    sb.faults = Faults()
    sb.qps = 1000
    yield
    sb.faults = Faults()
    sb.qps = 1000


class Sleeps:
    """Records waits, and really waits (scaled), so the server's ban can pass."""

    def __init__(self, scale: float = 1.0) -> None:
        self.waits: list[float] = []
        self.scale = scale

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds * self.scale)


def test_server_errors_and_garbled_bodies_are_retried_to_the_right_answer(sb) -> None:
    truth = sb.shop.snapshot(sb.clock.now())
    want = Counter(str(o["order_id"]) for o in truth["orders"])
    sb.faults = Faults(error_rate=0.25, malformed_rate=0.2, seed=5)
    sleeps = Sleeps(scale=0.0)
    retry = RetryPolicy(max_attempts=10, sleep=sleeps)
    with LazadaClient(sb.connection(), default_qps=0, retry=retry) as client:
        got = Counter(
            o.order_id
            for o in client.iter_orders(
                created_after=sb.clock.now() - timedelta(days=400), page_size=20
            )
        )
        items = client.orders_items(list(want))
        stats = client.stats.snapshot()
    assert got == want and set(items) == set(want)
    pages, batches = len(want) // 20 + 1, -(-len(want) // 50)
    assert stats["retries"] > 0 and stats["calls"] == stats["retries"] + pages + batches
    assert sb.stats.errors  # the server really answered with faults


def test_api_call_limit_waits_at_least_a_second_then_succeeds(sb) -> None:
    sb.qps = 3  # the sandbox bans a path for 1 s past 3 calls/s
    sleeps = Sleeps()
    retry = RetryPolicy(max_attempts=6, sleep=sleeps)
    with LazadaClient(sb.connection(), default_qps=0, retry=retry, max_workers=4) as client:
        ids = [str(o["order_id"]) for o in sb.shop.snapshot(sb.clock.now())["orders"]][:300]
        items = client.orders_items(ids)  # 6 batches at once: more than 3/s
        throttled = client.stats.throttled
    assert len(items) == len(set(ids))
    assert throttled > 0 and sb.stats.errors.get("ApiCallLimit", 0) > 0
    assert sleeps.waits and all(w >= 1.0 for w in sleeps.waits)


def test_a_throttle_that_never_lifts_gives_up_in_bounded_attempts(sb) -> None:
    sb.faults = Faults(throttle_rate=1.0)
    sleeps = Sleeps(scale=0.0)
    with LazadaClient(
        sb.connection(), default_qps=0, retry=RetryPolicy(max_attempts=4, sleep=sleeps)
    ) as client:
        sb.stats.reset()
        with pytest.raises(E.ThrottledError) as info:
            client.seller()
    assert sb.stats.total == 4 and len(sleeps.waits) == 3
    assert all(w >= 1.0 for w in sleeps.waits)
    assert info.value.retry_after >= 1.0


def test_time_outs_become_transport_errors(sb) -> None:
    sb.faults = Faults(timeout_rate=1.0, timeout_seconds=2.0)
    sleeps = Sleeps(scale=0.0)
    with LazadaClient(
        sb.connection(),
        default_qps=0,
        timeout=0.3,
        retry=RetryPolicy(max_attempts=2, sleep=sleeps),
    ) as client:
        started = time.monotonic()
        with pytest.raises(E.TransportError) as info:
            client.seller()
        elapsed = time.monotonic() - started
    assert "no answer within 0.3 s" in str(info.value)
    assert len(sleeps.waits) == 1 and elapsed < 1.9
    assert client.stats.calls == 2


def test_the_html_block_page_is_a_format_error_after_retries(sb) -> None:
    sb.faults = Faults(malformed_rate=1.0, seed=1)
    with (
        LazadaClient(
            sb.connection(), default_qps=0, retry=RetryPolicy(max_attempts=3, sleep=lambda s: None)
        ) as client,
        pytest.raises(E.ResponseFormatError) as info,
    ):
        client.seller()
    assert "try again later" in str(info.value)
    assert client.stats.calls == 3
