"""Did the parcel reach the LGS sorting centre in time (about 7 days after ready-to-ship)?

Cross-border sellers drop parcels at a first-mile hub (Shenzhen, Yiwu, Guangzhou...). If
the hub never scans a parcel, Lazada does not ship it and the seller finds out weeks later;
this rule flags it early.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from . import milestones as M
from .events import CheckpointLike, scans
from .settings import DEFAULT_SETTINGS, RuleSettings

ARRIVED = "Arrived"
ARRIVED_LATE = "Arrived late"
NOT_ARRIVED = "Not arrived"
OVERDUE = "Not arrived (overdue)"
NOT_HANDED_OVER = "Not handed over"


class SortingInfo(NamedTuple):
    """``days`` is RTS → scan (arrived) or RTS → now (not yet); ``None`` if RTS time unknown.

    ``inferred`` means no inbound scan was seen and ``arrived_at`` is the first later
    milestone (the parcel must have passed the hub by then). ``handed_over`` is false only
    when nothing says the parcel was set ready-to-ship yet.
    """

    arrived_at: datetime | None
    location: str
    days: float | None
    flagged: bool
    inferred: bool = False
    handed_over: bool = True

    @property
    def label(self) -> str:
        if self.arrived_at is not None:
            return ARRIVED_LATE if self.flagged else ARRIVED
        if not self.handed_over:
            return NOT_HANDED_OVER
        return OVERDUE if self.flagged else NOT_ARRIVED


@lru_cache(maxsize=64)
def _limit(days: float) -> timedelta:
    return timedelta(days=days)


def _location(cp: CheckpointLike) -> str:
    for attr in ("location", "package_location_name"):
        value = getattr(cp, attr, None)
        if value:
            return str(value)
    return ""


def sorting_center(
    checkpoints: Iterable[CheckpointLike],
    *,
    rts_at: datetime | None,
    now: datetime,
    settings: RuleSettings = DEFAULT_SETTINGS,
    handed_over: bool | None = None,
) -> SortingInfo:
    """Arrival at the sorting centre and whether it is late (> ``sorting_center_days``).

    ``handed_over`` (default: ``rts_at is not None``) lets a caller that knows the units
    are ready-to-ship, but not when, say "Not arrived" rather than "Not handed over".
    """
    from .clock import sorting_now  # (the clock module reads this one's labels)

    info = sorting_facts(checkpoints, rts_at=rts_at, settings=settings, handed_over=handed_over)
    if info.arrived_at is not None or rts_at is None:
        return info
    at_now = sorting_now(None, None, False, True, rts_at, now, settings)
    return SortingInfo(None, "", at_now.days, at_now.late)


def sorting_facts(
    checkpoints: Iterable[CheckpointLike],
    *,
    rts_at: datetime | None,
    settings: RuleSettings = DEFAULT_SETTINGS,
    handed_over: bool | None = None,
) -> SortingInfo:
    """The clock-free half of :func:`sorting_center` (what the cache keeps per parcel): the
    arrival (when, where, how long after ready-to-ship, late or not), or, for a parcel not
    arrived yet, only whether it was handed over (``days``/``flagged`` then depend on the
    clock: :func:`.clock.sorting_now`)."""
    classified = scans(checkpoints, settings)
    events, kinds = classified.events, classified.kinds
    scan = next(
        (cp for cp, k in zip(events, kinds, strict=True) if k == M.SORT_CENTRE_INBOUND), None
    )
    inferred = False
    if scan is None:
        scan = next(
            (cp for cp, k in zip(events, kinds, strict=True) if k in M.AFTER_SORT_CENTRE), None
        )
        inferred = scan is not None
    if scan is not None:
        if rts_at is None:
            return SortingInfo(scan.event_time, _location(scan), None, False, inferred)
        waited = scan.event_time - rts_at
        limit = _limit(settings.sorting_center_days)
        return SortingInfo(
            scan.event_time, _location(scan), _days(waited), waited > limit, inferred
        )
    return SortingInfo(None, "", None, False, handed_over=rts_at is not None or bool(handed_over))


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400.0
