"""Injected failures, so the client's retry, back-off and parsing paths run against real HTTP.

Each request draws once from a seeded RNG; the rates partition [0, 1), so at most one fault
hits a request and a run with the same seed and the same call order fails the same calls.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, fields
from typing import Any

RATE_FIELDS = ("throttle_rate", "error_rate", "timeout_rate", "malformed_rate")

# Server-side failures Lazada reports (type ISP); the client should retry them with back-off.
SERVER_ERRORS: tuple[tuple[str, str], ...] = (
    ("ServiceTimeout", "The service timed out, please try again later."),
    ("UnknownRuntimeException", "An unknown runtime exception occurred, please try again."),
    ("998", "This API is temporarily unavailable during the campaign period."),
)

ACCESS_DENIED_HTML = (
    "<!DOCTYPE html>\n<html><head><title>Access denied</title></head>\n"
    "<body><h1>Access denied</h1><p>Sorry, your request has been blocked.</p></body></html>\n"
)


@dataclass
class Faults:
    """Fault rates (each 0..1, summing to at most 1) and the RNG seed; mutable while serving."""

    throttle_rate: float = 0.0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    malformed_rate: float = 0.0
    timeout_seconds: float = 10.0
    seed: int = 0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Refuse rates outside 0..1 or summing above 1: the draw could not honour them."""
        for name in RATE_FIELDS:
            value = float(getattr(self, name))
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
            setattr(self, name, value)
        if sum(getattr(self, n) for n in RATE_FIELDS) > 1.0 + 1e-9:
            raise ValueError("fault rates must add up to at most 1")
        self.timeout_seconds = float(self.timeout_seconds)
        if self.timeout_seconds < 0:
            raise ValueError("timeout_seconds must not be negative")
        self.seed = int(self.seed)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def updated(self, changes: dict[str, Any]) -> Faults:
        """A validated copy with ``changes`` applied; unknown names raise ``ValueError``."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}")
        merged = self.to_dict()
        merged.update(changes)
        return Faults(**merged)


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do to one request: ``kind`` is throttle, error, timeout or malformed."""

    kind: str
    variant: int = 0  # which server error / which malformed shape


class FaultInjector:
    """Draws faults for requests from one seeded RNG (thread-safe)."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self._faults = faults if faults is not None else Faults()
        self._seed = self._faults.seed
        self._rng = random.Random(self._seed)

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        value.validate()
        with self._lock:
            self._faults = value
            self._seed = value.seed
            self._rng = random.Random(value.seed)

    def draw(self) -> Fault | None:
        """One uniform draw per request, mapped onto the cumulative rates."""
        f = self._faults
        rates = [getattr(f, n) for n in RATE_FIELDS]
        if not any(rates):
            return None
        with self._lock:
            if f.seed != self._seed:  # the seed was changed in place: restart the sequence
                self._seed = f.seed
                self._rng = random.Random(f.seed)
            u = self._rng.random()
            variant = self._rng.randrange(len(SERVER_ERRORS) * 2)
        edge = 0.0
        for name, rate in zip(RATE_FIELDS, rates, strict=True):
            edge += rate
            if u < edge:
                kind = name.removesuffix("_rate")
                if kind == "error":
                    return Fault(kind, variant % len(SERVER_ERRORS))
                return Fault(kind, variant % 2)
        return None
