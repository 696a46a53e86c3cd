"""Is a parcel stuck: handed over, not finished, and no new scan for ``stuck_days``?

A parcel that stops moving is usually lost in the first mile or held at customs; sellers
want to chase it before Lazada's claim windows close.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from . import milestones as M
from .clock import stuck_now
from .events import CheckpointLike, code, scans
from .settings import DEFAULT_SETTINGS, RuleSettings
from .status import IN_TRANSIT, normalize


class StuckInfo(NamedTuple):
    """``last_event_at``: the newest scan (or ready-to-ship time if none); ``days_idle`` since.
    (The rules' answers are named tuples: the cache makes them for every parcel it keeps.)"""

    stuck: bool
    last_event_at: datetime | None
    days_idle: float | None
    last_code: str = ""


class StuckFacts(NamedTuple):
    """What decides whether a parcel is stuck, without the clock: it is stuck once
    ``stuck_days`` pass after ``idle_since`` if ``can_stick`` (see :func:`.clock.stuck_now`)."""

    can_stick: bool  # in transit, and its last scan is not a final one
    idle_since: datetime | None  # the newest scan, else the ready-to-ship time
    last_code: str


def in_transit(item_statuses: Iterable[str]) -> bool:
    """Any unit handed over and not final (ready_to_ship, shipped, failed_delivery, shipped_back)."""
    statuses = {normalize(s) for s in item_statuses}
    return bool(statuses & IN_TRANSIT)


def stuck_status(
    item_statuses: Iterable[str],
    checkpoints: Iterable[CheckpointLike],
    *,
    now: datetime,
    rts_at: datetime | None = None,
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> StuckInfo:
    """Stuck when in transit, the last scan is not final, and ≥ ``stuck_days`` have passed."""
    facts = stuck_facts(item_statuses, checkpoints, rts_at=rts_at, settings=settings)
    stuck, idle = stuck_now(facts.can_stick, facts.idle_since, now, settings)
    return StuckInfo(stuck, facts.idle_since, idle, facts.last_code)


def stuck_facts(
    item_statuses: Iterable[str],
    checkpoints: Iterable[CheckpointLike],
    *,
    rts_at: datetime | None = None,
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> StuckFacts:
    """The clock-free half of :func:`stuck_status` (what the cache keeps per parcel)."""
    events = scans(checkpoints, settings)
    last = events.events[-1] if events else None
    last_at = last.event_time if last is not None else rts_at
    final = last is not None and events.kinds[-1] in M.FINAL
    return StuckFacts(
        in_transit(item_statuses) and not final and last_at is not None,
        last_at,
        code(last) if last is not None else "",
    )
