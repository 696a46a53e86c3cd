"""Client-side per-API rate limits, so a sync stays under Lazada's per-path QPS ban.

Lazada throttles each API path separately (``ApiCallLimit``) and does not publish most
limits, so every path gets its own token bucket. :class:`RateLimiter` holds fixed rates (a
configured rate and a default); :class:`LearnedRateLimiter` learns each path's rate from
Lazada's answers (start safe, grow while calls succeed, cut on a throttle) under a
configured ceiling, and hands back what it learned so the next run starts there. One
limiter is shared by all threads of a client. A caller *reserves* its slot under the lock
and sleeps outside it, so waiting threads neither spin nor block each other and the granted
times are spaced exactly ``1/rate`` apart once the burst is spent.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .errors import BudgetExhaustedError
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
        self._held_until: dict[str, float] = {}  # a ban Lazada stated, per path

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
        """Block until a call on ``path`` may be sent; return how long it waited.

        A caller that reserved its slot before a ban was announced would otherwise send into
        the ban: after sleeping it waits the ban out and takes a fresh slot.
        """
        path = api_path(path)
        waited = 0.0
        for _ in range(100):  # bounded: a ban cannot be announced forever
            wait = self.reserve(path)
            if wait > 0:
                self._sleep(wait)
                waited += wait
            with self._lock:
                held = self._held_until.get(path, 0.0) - self._clock()
            if held <= 0:
                break
            self._sleep(held)
            waited += held
        return waited

    def penalize(self, path: str, seconds: float) -> None:
        """Lazada banned ``path`` for ``seconds``: hold every thread's next call on it back."""
        path = api_path(path)
        with self._lock:
            now = self._clock()
            self._held_until[path] = max(self._held_until.get(path, 0.0), now + seconds)
            bucket = self._bucket(path, now)
            if bucket is None:
                return
            bucket.tokens = min(bucket.tokens, -seconds * bucket.rate)

    def succeeded(self, path: str) -> None:
        """A call on ``path`` was answered (not throttled). Fixed rates learn nothing."""

    def throttled(self, path: str, ban_seconds: float) -> None:
        """Lazada answered ``ApiCallLimit`` on ``path``: honour the ban it stated."""
        self.penalize(path, ban_seconds)


# ---- learned limits ----------------------------------------------------------------------
#: Where a path with nothing learned starts: slow enough for any Lazada API seen so far.
SAFE_START_QPS = 10.0
#: Never learn below this (a ban is honoured anyway; slower only stretches the sync).
MIN_QPS = 1.0
#: Without a configured ceiling, never go past this (keeps a runaway probe bounded).
DEFAULT_CEILING_QPS = 200.0


@dataclass
class _Learning:
    """What one path has learned: its rate and how it got there."""

    rate: float
    limit_seen: float | None = None  # what got through in the second before the last throttle
    probing: bool = True  # no throttle yet: grow fast (doubling) instead of a few % a second
    saturated_at: float = float("-inf")  # last time a caller had to wait for this path
    grown_at: float | None = None  # last time the rate was raised
    throttled_at: float = float("-inf")  # when the rate was last cut
    ban_until: float = float("-inf")  # when the ban behind the last cut ended
    throttles: int = 0
    settled: float | None = None  # the rate set by the last cut: what to start from next time
    proven: float = 0.0  # calls/s Lazada took while callers queued (>= 1 s), until a cut
    queued_answers: int = 0  # calls answered while callers queued ...
    queued_s: float = 0.0  # ... and for how long (what ``proven`` averages over)
    answered: deque[float] = field(default_factory=deque)  # when recent calls were answered


@dataclass(frozen=True, slots=True)
class LearnedRate:
    """A path's learned rate, as saved in the cache between runs."""

    qps: float
    limit_seen: float | None = None  # None: never throttled, ``qps`` is only a lower bound

    def to_text(self) -> str:
        seen = "" if self.limit_seen is None else f"{self.limit_seen:.3f}"
        return f"{self.qps:.3f};{seen}"

    @classmethod
    def from_text(cls, text: str | None) -> LearnedRate | None:
        """Parse what :meth:`to_text` wrote; anything unreadable counts as nothing learned."""
        if not text:
            return None
        head, _, tail = text.partition(";")
        try:
            qps = float(head)
            seen = float(tail) if tail.strip() else None
        except ValueError:
            return None
        if not (qps > 0 and qps < 1e6) or (seen is not None and not seen > 0):
            return None
        return cls(qps, seen)


class LearnedRateLimiter(RateLimiter):
    """Per-path rates learned from Lazada's answers: slow start, then additive increase and
    multiplicative cut, each cut measured against what Lazada actually let through.

    Lazada does not publish its per-API limits; it answers ``ApiCallLimit`` and bans the path
    for a second or so. Each path starts at what an earlier run learned (``learned``) or at
    ``start_qps``, and grows only while callers queue for it (an idle path never drifts up):

    * **slow start** — until the first throttle the rate doubles every ``probe_double_s``
      seconds. The throttle that ends it comes after an overshoot, and Lazada may have let a
      burst through before banning, so the calls it answered in the last second overstate
      what it sustains. The new rate is the steadiest estimate from what it answered: over
      the last ``window`` seconds, the most calls per second it let through counting the ban
      as part of the stretch (a limit that lets a burst through recovers it during the ban),
      and never less than ``probe_cut`` of what it answered in the last second nor than a
      quarter of the rate (a throttle with nothing answered just before it).
    * **steady** — after that the rate grows by ``steady_growth`` (a fraction) per second;
      each later throttle cuts it to ``cut`` of the rate, or of what got through in the last
      second if that was less (never below half the rate).

    One cut per ban, however many calls it hit; every thread is held back for the ban.
    A configured ceiling (``ceilings`` per path, ``ceiling`` for the rest) always wins.
    """

    def __init__(
        self,
        ceilings: Mapping[str, float] | None = None,
        *,
        ceiling: float = DEFAULT_CEILING_QPS,
        start_qps: float = SAFE_START_QPS,
        learned: Mapping[str, LearnedRate] | None = None,
        probe_double_s: float = 1.0,
        steady_growth: float = 0.015,
        cut: float = 0.85,
        probe_cut: float = 0.5,
        window: float = 4.0,
        min_qps: float = MIN_QPS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(None, default_qps=start_qps, clock=clock, sleep=sleep)
        if not (0 < cut < 1 and 0 < probe_cut < 1):
            raise ValueError("cut and probe_cut must be between 0 and 1")
        if window < 1:
            raise ValueError("window must be at least 1 second")
        self._probe_cut = float(probe_cut)
        self._ceilings = {api_path(k): float(v) for k, v in (ceilings or {}).items()}
        self._ceiling = float(ceiling)
        self._start = float(start_qps)
        self._learned = {api_path(k): v for k, v in (learned or {}).items()}
        self._probe_double_s = float(probe_double_s)
        self._growth = float(steady_growth)
        self._cut = float(cut)
        self._window = float(window)
        self._min = float(min_qps)
        self._paths: dict[str, _Learning] = {}

    def ceiling(self, path: str) -> float:
        """The configured most calls per second on ``path`` (``<= 0``: no ceiling)."""
        path = api_path(path)
        value = self._ceilings.get(path, self._ceiling)
        return value if value > 0 else float("inf")

    def _learning(self, path: str) -> _Learning:
        state = self._paths.get(path)
        if state is None:
            known = self._learned.get(path)
            if known is not None:
                state = _Learning(
                    rate=max(self._min, known.qps),
                    limit_seen=known.limit_seen,
                    probing=known.limit_seen is None,
                )
            else:
                state = _Learning(rate=self._start)
            state.rate = min(state.rate, self.ceiling(path))
            self._paths[path] = state
        return state

    def rate(self, path: str) -> float:
        """The calls per second ``path`` is held to now."""
        path = api_path(path)
        with self._lock:
            return self._learning(path).rate

    def _bucket(self, path: str, now: float) -> _Bucket | None:
        state = self._learning(path)
        bucket = self._buckets.get(path)
        if bucket is None:
            bucket = _Bucket(state.rate, self._burst, self._burst, now)
            self._buckets[path] = bucket
            return bucket
        elapsed = max(0.0, now - bucket.stamp)
        bucket.tokens = min(bucket.capacity, bucket.tokens + elapsed * bucket.rate)
        bucket.stamp = now
        bucket.rate = state.rate
        return bucket

    def reserve(self, path: str) -> float:
        path = api_path(path)
        with self._lock:
            now = self._clock()
            bucket = self._bucket(path, now)
            assert bucket is not None
            bucket.tokens -= 1.0
            if bucket.tokens < 0:
                self._paths[path].saturated_at = now
                return -bucket.tokens / bucket.rate
            return 0.0

    def succeeded(self, path: str) -> None:
        """A call on ``path`` was answered without a throttle: grow if callers are queueing."""
        path = api_path(path)
        with self._lock:
            now = self._clock()
            state = self._learning(path)
            answered = state.answered
            answered.append(now)
            while answered and answered[0] <= now - self._window:
                answered.popleft()
            last, state.grown_at = state.grown_at, now
            if last is None or now - state.saturated_at > 0.5:
                return  # not the bottleneck lately: nothing to learn from
            dt = min(max(0.0, now - last), 0.25)
            if state.settled is None:  # once cut, what is saved is the cut (see learned)
                _prove(state, dt)
            if now - state.throttled_at < 1.0:
                return  # just cut: let the new rate settle before growing again
            if state.probing:
                state.rate *= 2.0 ** (dt / self._probe_double_s)
            else:
                state.rate *= 1.0 + self._growth * dt
            state.rate = min(state.rate, self.ceiling(path))

    def throttled(self, path: str, ban_seconds: float) -> None:
        """Lazada banned ``path``: cut its rate (once per ban) and hold every caller back."""
        path = api_path(path)
        with self._lock:
            now = self._clock()
            state = self._learning(path)
            if now - state.throttled_at >= max(ban_seconds, 1.0):  # one cut per ban
                # Only what was answered since the last ban ended says anything about now.
                since = max(now - self._window, state.ban_until)
                recent = [t for t in state.answered if t > since]
                last_second = float(_count_after(recent, now - 1.0))
                if state.probing:
                    new = max(
                        _through_the_ban(recent, now, ban_seconds),
                        self._probe_cut * last_second,
                        0.25 * state.rate,
                    )
                else:
                    new = self._cut * max(min(state.rate, last_second), 0.5 * state.rate)
                state.limit_seen = last_second if last_second > 0 else state.rate
                state.rate = max(self._min, min(new, state.rate, self.ceiling(path)))
                state.settled = state.rate
                state.probing = False
                state.throttled_at = now
                state.ban_until = now + ban_seconds
                state.grown_at = None
                state.throttles += 1
        self.penalize(path, ban_seconds)

    def adopt(self, learned: Mapping[str, LearnedRate]) -> None:
        """Start paths not used yet from ``learned`` (what an earlier run saved)."""
        with self._lock:
            for path, rate in learned.items():
                path = api_path(path)
                if path not in self._paths:
                    self._learned[path] = rate

    def learned(self) -> dict[str, LearnedRate]:
        """What to remember for the next run: per path, the rate now and the last limit hit."""
        with self._lock:
            out = dict(self._learned)
            for path, state in self._paths.items():
                # After a throttle, the rate it settled at (growing since is still unproven);
                # never throttled, what Lazada took over a second (a short burst proves less),
                # or what an earlier run learned, which a light run does not undo.
                if state.settled is not None:
                    rate = min(state.rate, state.settled)
                else:
                    known = self._learned.get(path)
                    proven = max(self._start, state.proven, known.qps if known else 0.0)
                    rate = min(state.rate, proven)
                out[path] = LearnedRate(round(rate, 3), state.limit_seen)
            return out

    def throttle_counts(self) -> dict[str, int]:
        """Rate cuts per path in this client's life (one per ban, not per throttled call)."""
        with self._lock:
            return {p: s.throttles for p, s in self._paths.items() if s.throttles}


def _prove(state: _Learning, dt: float) -> None:
    """One more answer while callers queued, ``dt`` after the last: what a path never cut
    proved is averaged over all its queueing, not its best second (a burst proves less)."""
    state.queued_answers += 1
    state.queued_s += dt
    if state.queued_s >= 1.0:
        state.proven = max(state.proven, state.queued_answers / state.queued_s)


def _count_after(times: Iterable[float], start: float) -> int:
    """How many of ``times`` (ascending) are after ``start``."""
    return sum(1 for t in times if t > start)


def _through_the_ban(answered: Sequence[float], now: float, ban_seconds: float) -> float:
    """The most calls per second Lazada let through, counting the ban it then imposed as part
    of the stretch: over every stretch from an answer until now, answers / (stretch + ban).

    A limit that lets a burst through (a token bucket) refills it during the ban, so this is
    what it sustains; a strict per-second limit makes it an underestimate that the steady
    growth then closes.
    """
    ban = max(ban_seconds, 1.0)  # as the limiter counts a ban (Lazada's are a second or more)
    n = len(answered)
    return max(((n - i) / (now - t + ban) for i, t in enumerate(answered)), default=0.0)


class CallBudget:
    """At most ``calls`` more requests (retries included), shared by every thread.

    The client takes one before each request; once spent, calls fail at once with
    :class:`~xl_lazada.lazada.errors.BudgetExhaustedError` without reaching Lazada.
    """

    def __init__(self, calls: int) -> None:
        self._left = max(0, int(calls))
        self._lock = threading.Lock()

    @property
    def left(self) -> int:
        return self._left

    def take(self, path: str) -> None:
        with self._lock:
            if self._left <= 0:
                raise BudgetExhaustedError(
                    f"{api_path(path)}: today's call budget is spent", api=api_path(path)
                )
            self._left -= 1
