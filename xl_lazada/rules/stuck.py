"""Is a parcel stuck: handed over, not finished, and no new scan for ``stuck_days``?

A parcel that stops moving is usually lost in the first mile or held at customs; sellers
want to chase it before Lazada's claim windows close.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from . import milestones as M
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


@lru_cache(maxsize=64)
def _days(days: float) -> timedelta:
    return timedelta(days=days)


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
    statuses = [normalize(s) for s in item_statuses]
    events = scans(checkpoints, settings)
    last = events.events[-1] if events else None
    last_at = last.event_time if last is not None else rts_at
    last_code = code(last) if last is not None else ""
    idle = (now - last_at).total_seconds() / 86400.0 if last_at is not None else None
    final = last is not None and events.kinds[-1] in M.FINAL
    if not in_transit(statuses) or final or last_at is None:
        return StuckInfo(False, last_at, idle, last_code)
    stuck = now - last_at >= _days(settings.stuck_days)
    return StuckInfo(stuck, last_at, idle, last_code)
