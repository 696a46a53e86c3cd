"""Client-side per-API rate limits, so a sync stays under Lazada's per-path QPS ban.

Lazada throttles each API path separately (``ApiCallLimit``) and does not publish most
limits, so every path gets its own token bucket with a configurable rate and a default.
One :class:`RateLimiter` is shared by all threads of a client. A caller *reserves* its slot
under the lock and sleeps outside it, so waiting threads neither spin nor block each other
and the granted times are spaced exactly ``1/rate`` apart once the burst is spent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .signing import api_path


@dataclass
class _Bucket:
    rate: float  # tokens per second
    capacity: float  # burst size
    tokens: float
    stamp: float  # clock value when ``tokens`` was last brought up to date


class RateLimiter:
    """Thread-safe token buckets keyed by API path.

    ``qps`` maps paths (``"/orders/get"``) to calls per second; others use ``default_qps``.
    A rate of ``0`` or less means unlimited. ``burst`` is how many calls may go at once after
    an idle spell (1 = evenly spaced, the safest against an unknown server-side window).
    """

    def __init__(
        self,
        qps: Mapping[str, float] | None = None,
        *,
        default_qps: float = 10.0,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._rates = {api_path(k): float(v) for k, v in (qps or {}).items()}
        self._default = float(default_qps)
        self._burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def rate(self, path: str) -> float:
        """The configured calls per second for ``path`` (``<= 0``: unlimited)."""
        return self._rates.get(api_path(path), self._default)

    def _bucket(self, path: str, now: float) -> _Bucket | None:
        bucket = self._buckets.get(path)
        if bucket is None:
            rate = self.rate(path)
            if rate <= 0:
                return None
            bucket = _Bucket(rate, self._burst, self._burst, now)
            self._buckets[path] = bucket
        else:
            elapsed = max(0.0, now - bucket.stamp)
            bucket.tokens = min(bucket.capacity, bucket.tokens + elapsed * bucket.rate)
            bucket.stamp = now
        return bucket

    def reserve(self, path: str) -> float:
        """Take a slot for one call on ``path``; return the seconds to wait before sending."""
        path = api_path(path)
        with self._lock:
            now = self._clock()
            bucket = self._bucket(path, now)
            if bucket is None:
                return 0.0
            bucket.tokens -= 1.0
            return 0.0 if bucket.tokens >= 0 else -bucket.tokens / bucket.rate

    def acquire(self, path: str) -> float:
        """Block until a call on ``path`` may be sent; return how long it waited."""
        wait = self.reserve(path)
        if wait > 0:
            self._sleep(wait)
        return wait

    def penalize(self, path: str, seconds: float) -> None:
        """Lazada banned ``path`` for ``seconds``: hold every thread's next call on it back."""
        path = api_path(path)
        with self._lock:
            bucket = self._bucket(path, self._clock())
            if bucket is None:
                return
            bucket.tokens = min(bucket.tokens, -seconds * bucket.rate)
