"""Simulated time for the sandbox: real time, sped up, frozen, or pushed forward by hand.

The shop is a plan projected at a moment; this clock chooses the moment. Tests freeze it
(``speed=0``) and ``advance`` it explicitly; the demo runs it fast so parcels move on
while the seller watches.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SimClock:
    """Thread-safe ``now() = start + real elapsed x speed + manual advances`` (aware UTC)."""

    def __init__(self, start: datetime | None = None, speed: float = 1.0) -> None:
        if start is None:
            start = datetime.now(UTC)
        elif start.tzinfo is None:
            raise ValueError("SimClock start must be timezone-aware")
        _check_speed(speed)
        self._lock = threading.Lock()
        self._base = start.astimezone(UTC)
        self._mark = time.monotonic()
        self._speed = float(speed)

    def _now_locked(self) -> datetime:
        elapsed = time.monotonic() - self._mark
        return self._base + timedelta(seconds=elapsed * self._speed)

    def now(self) -> datetime:
        """The simulated moment, aware UTC."""
        with self._lock:
            return self._now_locked()

    def advance(self, delta: timedelta) -> datetime:
        """Jump forward by ``delta`` (never backwards: the sync engine relies on time moving on)."""
        if delta < timedelta(0):
            raise ValueError("SimClock can only advance forwards")
        with self._lock:
            self._base += delta
            return self._now_locked()

    def set_speed(self, speed: float) -> None:
        """Change the rate from now on; the simulated time so far is kept (no jump)."""
        _check_speed(speed)
        with self._lock:
            self._base = self._now_locked()
            self._mark = time.monotonic()
            self._speed = float(speed)

    @property
    def speed(self) -> float:
        with self._lock:
            return self._speed

    def __repr__(self) -> str:
        return f"SimClock(now={self.now().isoformat()}, speed={self.speed:g})"


def _check_speed(speed: float) -> None:
    if not (speed >= 0 and speed != float("inf")):  # also rejects NaN
        raise ValueError(f"clock speed must be a finite number >= 0, got {speed!r}")
