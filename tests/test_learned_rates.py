"""Learned per-API rates: start safe, grow while callers queue, cut once per ban, obey a
ceiling, and hand back what a later run should start from (fake clock, no waiting)."""

from __future__ import annotations

import pytest

from xl_lazada.lazada.errors import BudgetExhaustedError
from xl_lazada.lazada.ratelimit import (
    SAFE_START_QPS,
    CallBudget,
    LearnedRate,
    LearnedRateLimiter,
)

TRACE = "/logistic/order/trace"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def drive(limiter: LearnedRateLimiter, t: FakeTime, seconds: float, limit: float | None) -> int:
    """Callers always queueing; a server allowing ``limit`` calls/s in whole-second windows
    (``None``: unlimited). Returns how many throttles the limiter was told about."""
    end = t.now + seconds
    window, used, throttles = int(t.now), 0, 0
    while t.now < end:
        limiter.acquire(TRACE)
        if int(t.now) != window:
            window, used = int(t.now), 0
        if limit is not None and used >= limit:
            throttles += 1
            limiter.throttled(TRACE, 1.0)
            continue
        used += 1
        t.now += 0.001
        limiter.succeeded(TRACE)
    return throttles


def test_starts_safe_and_doubles_while_callers_queue() -> None:
    t = FakeTime()
    limiter = LearnedRateLimiter(clock=t.clock, sleep=t.sleep)
    assert limiter.rate(TRACE) == SAFE_START_QPS
    drive(limiter, t, 3.0, limit=None)
    assert 50 < limiter.rate(TRACE) < 130  # about 10 x 2**3


def test_an_idle_path_does_not_grow() -> None:
    t = FakeTime()
    limiter = LearnedRateLimiter(clock=t.clock, sleep=t.sleep)
    for _ in range(50):  # one call every 2 s: never queueing, nothing learned
        limiter.acquire(TRACE)
        limiter.succeeded(TRACE)
        t.now += 2.0
    assert limiter.rate(TRACE) == SAFE_START_QPS


def test_settles_under_the_server_limit_with_few_throttles() -> None:
    t = FakeTime()
    limiter = LearnedRateLimiter(clock=t.clock, sleep=t.sleep)
    throttles = drive(limiter, t, 60.0, limit=20)
    learned = limiter.learned()[TRACE]
    assert learned.limit_seen is not None
    assert 10 <= learned.qps <= 20.5
    assert limiter.throttle_counts()[TRACE] <= 12  # one cut per ban, not one per call
    assert throttles < 0.05 * 20 * 60


def test_one_cut_per_ban_however_many_calls_it_hit() -> None:
    t = FakeTime()
    limiter = LearnedRateLimiter(start_qps=20, clock=t.clock, sleep=t.sleep)
    for _ in range(5):
        limiter.throttled(TRACE, 1.0)
    assert limiter.throttle_counts()[TRACE] == 1
    # Nothing was answered before it: no measure of what Lazada takes, so a deep cut.
    assert limiter.rate(TRACE) == pytest.approx(20 / 4)
    t.now += 1.0  # the ban is over: the next throttle is a new ban
    limiter.throttled(TRACE, 1.0)
    assert limiter.throttle_counts()[TRACE] == 2


class BurstyServer:
    """Lazada-like limit with a burst allowance: ``qps`` calls a second, up to ``qps`` at once
    after a quiet spell (a token bucket), and a ``ban``-second ban when it runs dry."""

    def __init__(self, qps: float, ban: float = 1.0) -> None:
        self.qps, self.ban = qps, ban
        self.tokens, self.stamp, self.banned_until = qps, 0.0, -1.0

    def allow(self, now: float) -> bool:
        if now < self.banned_until:
            return False
        self.tokens = min(self.qps, self.tokens + (now - self.stamp) * self.qps)
        self.stamp = now
        if self.tokens < 1:
            self.banned_until = now + self.ban
            return False
        self.tokens -= 1
        return True


def drive_bursty(limiter: LearnedRateLimiter, t: FakeTime, server: BurstyServer, calls: int) -> int:
    """Callers always queueing, each answer 0.1 s after sending (one call in flight at a
    time, so the limiter paces them); returns the throttled answers."""
    throttled = 0
    while calls > 0:
        limiter.acquire(TRACE)
        sent = t.now
        t.now = sent + 0.001
        if server.allow(sent):
            calls -= 1
            limiter.succeeded(TRACE)
        else:
            throttled += 1
            limiter.throttled(TRACE, server.ban)
    return throttled


def test_slow_start_ends_near_the_limit_even_after_a_burst_it_was_let_through() -> None:
    t = FakeTime()
    limiter = LearnedRateLimiter(clock=t.clock, sleep=t.sleep)
    server = BurstyServer(20)
    while not limiter.throttle_counts():
        drive_bursty(limiter, t, server, 1)
    # Doubling went well past 20/s before the burst allowance ran dry, and Lazada answered
    # far more than 20 calls in the last second: the cut lands at what it sustains.
    assert limiter.learned()[TRACE].limit_seen > 25  # type: ignore[operator]
    assert 16 <= limiter.rate(TRACE) <= 21
    start = t.now
    throttled = drive_bursty(limiter, t, server, 200)
    assert throttled == 0  # ... and holds it: no second ban in the next 10 s
    assert t.now - start < 200 / 20 * 1.05


def test_a_later_throttle_cuts_to_what_got_through() -> None:
    t = FakeTime()
    limiter = LearnedRateLimiter(
        learned={TRACE: LearnedRate(30.0, 30.0)}, clock=t.clock, sleep=t.sleep
    )
    for _ in range(12):  # 12 answers a second while the limiter allows 30/s
        limiter.acquire(TRACE)
        limiter.succeeded(TRACE)
        t.now += 1 / 12
    limiter.throttled(TRACE, 1.0)
    assert limiter.rate(TRACE) == pytest.approx(0.85 * 15)  # never below half the rate
    assert limiter.learned()[TRACE].qps == pytest.approx(0.85 * 15, abs=1e-3)


def test_a_ban_holds_callers_that_reserved_before_it() -> None:
    t = FakeTime()
    limiter = LearnedRateLimiter(start_qps=10, clock=t.clock, sleep=t.sleep)
    limiter.acquire(TRACE)
    limiter.throttled(TRACE, 2.0)
    t0 = t.now
    limiter.acquire(TRACE)
    assert t.now - t0 >= 2.0


def test_a_configured_ceiling_wins() -> None:
    t = FakeTime()
    limiter = LearnedRateLimiter({TRACE: 4.0}, ceiling=50, clock=t.clock, sleep=t.sleep)
    assert limiter.rate(TRACE) == 4.0  # even the safe start is above it
    drive(limiter, t, 5.0, limit=None)
    assert limiter.rate(TRACE) == 4.0
    drive(limiter, t, 5.0, limit=None)
    other = LearnedRateLimiter(ceiling=15, clock=t.clock, sleep=t.sleep)
    drive(other, t, 5.0, limit=None)
    assert other.rate(TRACE) == 15


def test_a_later_run_starts_from_what_was_learned() -> None:
    t = FakeTime()
    first = LearnedRateLimiter(clock=t.clock, sleep=t.sleep)
    drive(first, t, 30.0, limit=20)
    saved = {path: LearnedRate.from_text(r.to_text()) for path, r in first.learned().items()}
    second = LearnedRateLimiter(clock=t.clock, sleep=t.sleep)
    second.adopt({p: r for p, r in saved.items() if r is not None})
    assert second.rate(TRACE) == pytest.approx(saved[TRACE].qps, rel=1e-3)  # type: ignore[union-attr]
    assert second.rate("/orders/get") == SAFE_START_QPS  # nothing learned there


@pytest.mark.parametrize("limit_seen", [45.0, None])
def test_a_light_run_keeps_what_earlier_runs_learned(limit_seen: float | None) -> None:
    """A run that never queued a full second (a small incremental sync) proved nothing new:
    it saves the rate it started from, not the safe start, so the next big run is not slow."""
    t = FakeTime()
    limiter = LearnedRateLimiter(
        learned={TRACE: LearnedRate(40.0, limit_seen)}, clock=t.clock, sleep=t.sleep
    )
    for _ in range(5):
        limiter.acquire(TRACE)
        limiter.succeeded(TRACE)
        t.now += 0.05
    assert limiter.learned()[TRACE] == LearnedRate(40.0, limit_seen)
    fresh = LearnedRateLimiter(clock=t.clock, sleep=t.sleep)
    fresh.acquire(TRACE)
    fresh.succeeded(TRACE)
    assert fresh.learned()[TRACE].qps == SAFE_START_QPS  # nothing learned, nothing claimed


@pytest.mark.parametrize("text", ["", "abc", "-3;", "1e9;", "12;-1", ";"])
def test_unreadable_saved_rates_count_as_nothing_learned(text: str) -> None:
    assert LearnedRate.from_text(text) is None
    assert LearnedRate.from_text("12.5;20") == LearnedRate(12.5, 20.0)
    assert LearnedRate.from_text("12.5;") == LearnedRate(12.5, None)


def test_call_budget_refuses_once_spent() -> None:
    budget = CallBudget(2)
    budget.take("/orders/get")
    budget.take("/orders/get")
    with pytest.raises(BudgetExhaustedError, match="budget"):
        budget.take("/orders/get")
