"""Lazada's per-API call limit: over the limit, the API is banned for a second for everyone.

Every API gets ``qps`` unless ``per_api`` names its own limit (Lazada's differ per API and
are not published, which is what a client has to cope with).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping


class ApiThrottle:
    """A token bucket per API path, shared by all callers, with a ban once it runs dry.

    ``qps`` calls per second may burst up to ``qps`` at once; the call that finds the bucket
    empty starts a ``ban_seconds`` ban, and every call to that path during the ban fails too
    (it does not extend the ban). ``qps <= 0`` disables the limit.
    """

    def __init__(
        self,
        qps: float = 20.0,
        ban_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        per_api: Mapping[str, float] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.per_api: dict[str, float] = {k: float(v) for k, v in (per_api or {}).items()}
        self._clock = clock
        self._qps = float(qps)
        self.ban_seconds = float(ban_seconds)
        self._tokens: dict[str, float] = {}
        self._stamp: dict[str, float] = {}
        self._banned_until: dict[str, float] = {}

    @property
    def qps(self) -> float:
        return self._qps

    @qps.setter
    def qps(self, value: float) -> None:
        with self._lock:
            self._qps = float(value)
            self._tokens.clear()
            self._stamp.clear()
            self._banned_until.clear()

    def allow(self, path: str) -> bool:
        """Take one call for ``path``; ``False`` means answer ``ApiCallLimit``."""
        qps = self.per_api.get(path, self._qps)
        if qps <= 0:
            return True
        now = self._clock()
        with self._lock:
            if now < self._banned_until.get(path, 0.0):
                return False
            capacity = max(1.0, qps)
            last = self._stamp.get(path)
            tokens = capacity if last is None else self._tokens[path]
            if last is not None:
                tokens = min(capacity, tokens + (now - last) * qps)
            self._stamp[path] = now
            if tokens < 1.0:
                self._tokens[path] = tokens
                self._banned_until[path] = now + self.ban_seconds
                return False
            self._tokens[path] = tokens - 1.0
            return True

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._stamp.clear()
            self._banned_until.clear()
