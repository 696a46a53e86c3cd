"""The per-API rate limiter holds its configured rate across threads."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from xl_lazada.config import Connection
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.ratelimit import RateLimiter
from xl_lazada.secret import Secret


def max_in_window(times: list[float], window: float) -> int:
    """The largest number of events inside any half-open window ``[t, t + window)``."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


class SharedClock:
    """A fake monotonic clock that moves a little every time any thread reads it."""

    def __init__(self, step: float) -> None:
        self._now = 0.0
        self._step = step
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self._now += self._step
            return self._now


def run_threads(n: int, fn) -> None:
    threads = [threading.Thread(target=fn) for _ in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


@pytest.mark.parametrize("step", [0.0, 0.003, 0.05])
def test_rate_holds_across_threads_with_a_fake_clock(step: float) -> None:
    clock = SharedClock(step)
    limiter = RateLimiter(
        {"/orders/get": 5.0}, default_qps=100.0, clock=clock, sleep=lambda s: None
    )
    grants: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            now = clock()
            wait = limiter.reserve("/orders/get")
            with lock:
                grants.append(now + wait)

    run_threads(8, worker)
    assert len(grants) == 200
    assert max_in_window(grants, 1.0) <= 5 + 1  # rate x window + burst
    assert max_in_window(grants, 10.0) <= 50 + 1
    if step == 0.0:  # all arrived at once: the 200th call waits (200 - 1) / 5 s
        assert max(grants) == pytest.approx(199 / 5.0)


def test_each_path_has_its_own_bucket_and_a_default() -> None:
    now = [0.0]
    limiter = RateLimiter(
        {"/orders/get": 2.0, "rest/order/get/": 4.0},
        default_qps=10.0,
        clock=lambda: now[0],
        sleep=lambda s: None,
    )
    assert limiter.rate("/order/get") == 4.0  # path spelling is normalised
    assert limiter.rate("/finance/payout/status/get") == 10.0
    waits = [limiter.reserve("/orders/get") for _ in range(3)]
    assert waits == [0.0, 0.5, 1.0]
    assert limiter.reserve("/order/get") == 0.0  # another path is not held back
    assert limiter.reserve("/order/get") == 0.25
    now[0] = 10.0  # after idling, only the burst (1) is available again
    assert limiter.reserve("/orders/get") == 0.0
    assert limiter.reserve("/orders/get") == 0.5


def test_zero_rate_means_unlimited() -> None:
    limiter = RateLimiter(default_qps=0, clock=lambda: 0.0, sleep=lambda s: None)
    assert all(limiter.reserve("/orders/get") == 0.0 for _ in range(100))


def test_client_threads_share_the_limit_over_http() -> None:
    """Real time: 4 threads x 10 calls at 20/s take ~2 s, the limiter hands out slots 1/20 s
    apart across the threads, and no call reaches the server before its slot. (Arrival
    times alone bunch up when a loaded machine wakes a thread late, so the spacing is
    checked on the slots, and each arrival against its own slot.)"""
    arrivals: dict[int, list[float]] = {}
    slots: dict[int, list[float]] = {}
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            arrivals.setdefault(threading.get_ident(), []).append(time.monotonic())
        return httpx.Response(200, json={"code": "0", "data": {"seller_id": "1"}})

    conn = Connection(
        base_url="http://127.0.0.1:9/rest",
        app_key="k",
        app_secret=Secret("s"),
        access_token=Secret("t"),
    )
    client = LazadaClient(
        conn, transport=httpx.MockTransport(handler), qps={"/seller/get": 20.0}, default_qps=1.0
    )
    reserve = client.limiter.reserve

    def recorded(path: str) -> float:
        before = time.monotonic()  # (no later than the limiter's own now)
        wait = reserve(path)
        with lock:
            slots.setdefault(threading.get_ident(), []).append(before + wait)
        return wait

    client.limiter.reserve = recorded  # type: ignore[method-assign]

    def worker() -> None:
        for _ in range(10):
            client.seller()

    start = time.monotonic()
    with client:
        run_threads(4, worker)
    elapsed = time.monotonic() - start
    assert sorted(map(len, arrivals.values())) == [10] * 4 and arrivals.keys() == slots.keys()
    assert elapsed >= 39 / 20.0 - 0.05
    every_slot = [t for each in slots.values() for t in each]
    assert max_in_window(every_slot, 0.5) <= 20 * 0.5 + 1  # (+1: float edges of the window)
    for thread, sent in arrivals.items():
        assert all(a >= s for a, s in zip(sent, slots[thread], strict=True)), thread
    assert client.stats.by_api == {"/seller/get": 40}
