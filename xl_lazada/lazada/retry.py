"""When and how long to wait before trying a Lazada call again.

Transient failures (throttling, Lazada's server-side codes, network errors, a garbled or
HTML body) are retried with exponential backoff and *full jitter* so many threads or
machines do not retry in lock-step. Throttling waits at least Lazada's ban (``retry_after``,
never under 1 s). Attempts and total time are both bounded so a sync never hangs forever.
``sleep``, ``random`` and ``clock`` are injectable so tests assert on waits instead of waiting.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import LazadaError, ThrottledError

MIN_THROTTLE_WAIT = 1.0  # Lazada's ban is "1 seconds"; never come back sooner


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds and timing of retries.

    ``max_attempts`` counts the first try; ``max_elapsed`` caps the seconds spent waiting
    and calling (a retry whose wait would cross it is not made). A throttled call waits
    ``max(retry_after, 1) + jitter`` where jitter is at most ``throttle_jitter``; other
    transient errors wait ``random() * min(max_delay, base_delay * 2**retry_index)``.
    """

    max_attempts: int = 5
    max_elapsed: float = 120.0
    base_delay: float = 0.5
    max_delay: float = 30.0
    throttle_jitter: float = 0.5
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_elapsed < 0:
            raise ValueError("retry delays must not be negative")

    def should_retry(self, error: BaseException) -> bool:
        """Only transient Lazada errors are retried; signature, bad request, auth never."""
        return isinstance(error, LazadaError) and error.retryable

    def delay(self, error: BaseException, retry_index: int) -> float:
        """Seconds to wait before retry number ``retry_index`` (0 for the first retry)."""
        if isinstance(error, ThrottledError):
            ban = max(float(error.retry_after or 0.0), MIN_THROTTLE_WAIT)
            return ban + self.random() * self.throttle_jitter
        ceiling = min(self.max_delay, self.base_delay * (2**retry_index))
        return self.random() * ceiling


NO_RETRY = RetryPolicy(max_attempts=1)
