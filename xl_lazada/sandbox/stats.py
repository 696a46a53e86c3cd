"""Call counters, so tests and benchmarks can check how many API calls a sync really made."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    """Calls received per API path (``/orders/get``), and error answers per Lazada code.

    Every call that reached ``/rest/...`` counts, whether it succeeded or not; the admin
    endpoints and the OAuth page do not.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()

    def record_call(self, api: str) -> None:
        with self._lock:
            self._calls[api[:200]] += 1

    def record_error(self, code: str) -> None:
        with self._lock:
            self._errors[code] += 1

    @property
    def by_api(self) -> Counter[str]:
        """A copy; missing paths read as 0."""
        with self._lock:
            return Counter(self._calls)

    @property
    def errors(self) -> Counter[str]:
        with self._lock:
            return Counter(self._errors)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._calls.values())

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._errors.clear()

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "by_api": dict(sorted(self._calls.items())),
                "total": sum(self._calls.values()),
                "errors": dict(sorted(self._errors.items())),
            }
