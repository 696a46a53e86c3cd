"""The clock-dependent half of the rules: stored facts (:mod:`.facts`) judged at ``now``.

Only these change while nothing is synced — hours left, at risk, late, Delayed, stuck, the
sorting centre overdue, delivered-but-unsettled — so a formula recalculating reads the
stored facts and applies these few comparisons. The scalar rules judge ``now`` through
these too (``deadline.rts_status``, ``stuck.stuck_status``, ``sorting.sorting_center``,
``settlement.settle`` = their clock-free half + one of these), so each comparison is written
once here and once, on whole columns, in :mod:`.clock_frame`; a test checks both agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from .settings import DEFAULT_SETTINGS, RuleSettings
from .sorting import ARRIVED, ARRIVED_LATE, NOT_ARRIVED, NOT_HANDED_OVER, OVERDUE
from .status import status_at

__all__ = [
    "SortingNow",
    "parcel_rank",
    "rts_now",
    "sorting_now",
    "status_at",
    "stuck_now",
    "unsettled_now",
]


@lru_cache(maxsize=64)
def _days(days: float) -> timedelta:
    """A settings' day count as a timedelta, made once (these run per order in a range)."""
    return timedelta(days=days)


def rts_now(
    deadline: datetime,
    open_: bool,
    late_closed: bool,
    now: datetime,
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> tuple[float | None, bool, bool]:
    """``(hours_left, at_risk, late)`` of a deadline (see ``deadline.rts_status``)."""
    if not open_:
        return None, False, late_closed
    hours_left = (deadline - now).total_seconds() / 3600.0
    late = now > deadline
    return hours_left, (not late and hours_left < settings.at_risk_hours), late


def stuck_now(
    can_stick: bool,
    idle_since: datetime | None,
    now: datetime,
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> tuple[bool, float | None]:
    """``(stuck, days_idle)`` of a parcel (see ``stuck.stuck_status``)."""
    if idle_since is None:
        return False, None
    idle = now - idle_since
    return (can_stick and idle >= _days(settings.stuck_days)), idle.total_seconds() / 86400.0


class SortingNow(NamedTuple):
    label: str
    days: float | None
    late: bool
    rank: int  # 0 flagged, 1 still on its way, 2 arrived: which parcel speaks for the order


def sorting_now(
    arrived_at: datetime | None,
    arrived_days: float | None,
    arrived_late: bool,
    handed_over: bool,
    rts_at: datetime | None,
    now: datetime,
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> SortingNow:
    """The sorting-centre answer of a parcel at ``now`` (see ``sorting.sorting_center``)."""
    if arrived_at is not None:
        return SortingNow(
            ARRIVED_LATE if arrived_late else ARRIVED,
            arrived_days,
            arrived_late,
            0 if arrived_late else 2,
        )
    if rts_at is None:
        return SortingNow(NOT_ARRIVED if handed_over else NOT_HANDED_OVER, None, False, 1)
    waited = now - rts_at
    late = waited > _days(settings.sorting_center_days)
    return SortingNow(
        OVERDUE if late else NOT_ARRIVED, waited.total_seconds() / 86400.0, late, 0 if late else 1
    )


def parcel_rank(rank: int, arrived_at: float | None, position: int) -> tuple[int, float]:
    """Sort key of the parcel that speaks for an order's sorting centre (smallest wins): a
    flagged parcel first, then one still on its way, then the latest arrival; ties go to
    the first parcel. ``arrived_at`` is the stored arrival (Unix seconds). The tables' column
    form is :func:`.clock_frame.parcel_rank`."""
    return (rank, -(arrived_at or 0) if rank == 2 else position)


def unsettled_now(
    lines: int,
    delivered_at: datetime | None,
    now: datetime,
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> tuple[bool, float | None]:
    """``(overdue, days_since_delivery)`` (see ``settlement.settle``)."""
    if delivered_at is None:
        return False, None
    waited = now - delivered_at
    return (not lines and waited > _days(settings.unsettled_days)), waited.total_seconds() / 86400.0
