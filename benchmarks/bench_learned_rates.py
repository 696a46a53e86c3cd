"""Benchmark: how fast the learned rate limiter gets through calls to an API whose limit it
is not told, against three ways a server may count (simulated time, so it runs in a second).

    python benchmarks/bench_learned_rates.py [--workers 8] [--latency 0.1] [--seeds 4]

Each run is ``workers`` callers, always queueing, sending one API's calls through the real
:class:`~xl_lazada.lazada.ratelimit.LearnedRateLimiter` (a virtual clock: nothing sleeps).
Every answer comes ``latency`` seconds (plus up to 20 ms) after its call, and the server
decides then, as the sandbox does. A throttled call waits out the ban (1 s plus up to
0.5 s, as the client's retry policy does) and goes again. Server models, each banning the
API for 1 s when its limit is passed:

* **bucket** — the sandbox's: ``limit`` calls a second, with up to ``limit`` at once after a
  quiet spell (a token bucket whose burst is one second's calls);
* **window** — at most ``limit`` calls in each whole clock second;
* **sliding** — at most ``limit`` calls in any second.

Lazada does not say which it is, so the limiter is measured against all three. **Floor**:
the calls at exactly the limit, ``calls / limit + latency``. Runs of 13 s (a 300-order
sync's traces) and 60 s of calls at limits of 5, 10, 20 and 50 calls/s; the *judged* line is
the issue's sync as the trace API sees it: 269 calls at 20/s from 0.15 s on, bucket model.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from xl_lazada.lazada.ratelimit import LearnedRateLimiter

PATH = "/logistic/order/trace"
BAN = 1.0


class Bucket:
    def __init__(self, limit: float) -> None:
        self.limit, self.tokens, self.stamp, self.until = limit, limit, 0.0, -1.0

    def allow(self, now: float) -> bool:
        if now < self.until:
            return False
        self.tokens = min(self.limit, self.tokens + (now - self.stamp) * self.limit)
        self.stamp = now
        if self.tokens < 1:
            self.until = now + BAN
            return False
        self.tokens -= 1
        return True


class Window:
    def __init__(self, limit: float, phase: float = 0.0) -> None:
        self.limit, self.phase, self.second, self.used, self.until = limit, phase, -1, 0, -1.0

    def allow(self, now: float) -> bool:
        if now < self.until:
            return False
        second = math.floor(now + self.phase)
        if second != self.second:
            self.second, self.used = second, 0
        if self.used >= self.limit:
            self.until = now + BAN
            return False
        self.used += 1
        return True


class Sliding:
    def __init__(self, limit: float) -> None:
        self.limit, self.log, self.until = limit, deque[float](), -1.0

    def allow(self, now: float) -> bool:
        if now < self.until:
            return False
        while self.log and self.log[0] <= now - 1.0:
            self.log.popleft()
        if len(self.log) >= self.limit:
            self.until = now + BAN
            return False
        self.log.append(now)
        return True


Server = Bucket | Window | Sliding


@dataclass
class Result:
    end: float  # when the last call was answered
    sent: int
    throttled: int


def simulate(
    server: Server, calls: int, *, workers: int, latency: float, start: float, seed: int
) -> Result:
    """Discrete events: a worker reserves its slot, waits it (and any ban) out, sends, and
    takes the next call when the answer comes."""
    rnd = random.Random(seed)
    now = [start]
    limiter = LearnedRateLimiter(clock=lambda: now[0], sleep=lambda s: None)
    events: list[tuple[float, int, str]] = []
    seq = 0

    def at(t: float, kind: str) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind))

    held_until = -1.0  # the ban the limiter was told of (it holds every caller until then)
    left, sent, throttled, end = calls, 0, 0, start
    for _ in range(min(workers, calls)):
        left -= 1
        at(start, "reserve")
    while events:
        t, _, kind = heapq.heappop(events)
        now[0] = t
        if kind == "reserve":
            at(t + limiter.reserve(PATH), "send")
        elif kind == "send":
            if t < held_until:
                at(held_until, "reserve")  # as acquire() does after a ban was announced
                continue
            sent += 1
            at(t + latency + 0.02 * rnd.random(), "answer")
        elif server.allow(t):
            limiter.succeeded(PATH)
            end = t
            if left > 0:
                left -= 1
                at(t, "reserve")
        else:
            throttled += 1
            limiter.throttled(PATH, BAN)
            held_until = max(held_until, t + BAN)
            at(t + BAN + 0.5 * rnd.random(), "reserve")
    return Result(end, sent, throttled)


def _row(
    make: Callable[[float, random.Random], Server],
    limit: float,
    seconds: float,
    args: argparse.Namespace,
) -> tuple[float, float]:
    calls = int(seconds * limit)
    ratios, shares = [], []
    for seed in range(args.seeds):
        server = make(limit, random.Random(seed))
        r = simulate(
            server, calls, workers=args.workers, latency=args.latency, start=0.0, seed=seed
        )
        ratios.append(r.end / (calls / limit + args.latency))
        shares.append(r.throttled / r.sent)
    return statistics.mean(ratios), statistics.mean(shares)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--latency", type=float, default=0.1, help="seconds before each answer")
    ap.add_argument("--seeds", type=int, default=4, help="runs per cell (answer jitter, phase)")
    args = ap.parse_args()
    models: dict[str, Callable[[float, random.Random], Server]] = {
        "bucket": lambda limit, rnd: Bucket(limit),
        "window": lambda limit, rnd: Window(limit, phase=rnd.random()),
        "sliding": lambda limit, rnd: Sliding(limit),
    }
    print(f"{args.workers} workers, {args.latency * 1000:.0f} ms answers; time / floor (throttled)")
    print("model     limit    13 s of calls        60 s of calls")
    for name, make in models.items():
        for limit in (5.0, 10.0, 20.0, 50.0):
            cells = [_row(make, limit, seconds, args) for seconds in (13.0, 60.0)]
            text = "   ".join(f"{ratio:.3f}x ({share:4.1%})" for ratio, share in cells)
            print(f"{name:8s} {limit:5.0f}/s    {text}")
    ends, thr = [], []
    for seed in range(max(8, args.seeds)):
        r = simulate(
            Bucket(20.0), 269, workers=args.workers, latency=args.latency, start=0.15, seed=seed
        )
        ends.append(r.end)
        thr.append(r.throttled)
    floor = 0.15 + 269 / 20 + args.latency
    print(
        f"judged (bucket 20/s, 269 calls from 0.15 s): {statistics.mean(ends):.2f} s "
        f"(max {max(ends):.2f}) = {statistics.mean(ends) / floor:.3f}x the floor {floor:.2f} s, "
        f"{statistics.mean(thr):.1f} throttled"
    )


if __name__ == "__main__":
    main()
