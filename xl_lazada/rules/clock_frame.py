""":mod:`.clock` on whole columns: the same comparisons, on NumPy arrays of Unix seconds.

Inputs are float arrays with ``nan`` for "no time"; ``now`` is Unix seconds. The sheet
tables use these so that 100,000 orders are judged in a few vectorised steps; a test runs
both versions over the same facts and checks they agree.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .settings import DEFAULT_SETTINGS, RuleSettings
from .sorting import ARRIVED, ARRIVED_LATE, NOT_ARRIVED, NOT_HANDED_OVER, OVERDUE
from .status import DELAYED

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
_DAY = 86400.0


def status_frame(
    status: npt.NDArray[np.object_], delayed_after: Floats, now: float
) -> npt.NDArray[np.object_]:
    """``status_at`` per row."""
    delayed = ~np.isnan(delayed_after) & (now > np.nan_to_num(delayed_after, nan=np.inf))
    return np.where(delayed, DELAYED, status)


def rts_frame(
    deadline: Floats,
    open_: Bools,
    late_closed: Bools,
    now: float,
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> tuple[Floats, Bools, Bools]:
    """``rts_now`` per row: hours left (nan when closed), at risk, late."""
    has = ~np.isnan(deadline) & open_
    hours = np.where(has, (deadline - now) / 3600.0, np.nan)
    late_open = has & (now > np.nan_to_num(deadline, nan=np.inf))
    late = np.where(has, late_open, late_closed & ~np.isnan(deadline))
    at_risk = has & ~late_open & (np.nan_to_num(hours, nan=np.inf) < settings.at_risk_hours)
    return hours, at_risk, late


def stuck_frame(
    can_stick: Bools, idle_since: Floats, now: float, settings: RuleSettings = DEFAULT_SETTINGS
) -> tuple[Bools, Floats]:
    """``stuck_now`` per row: stuck, days idle (nan without any time)."""
    idle = now - idle_since
    stuck = (
        can_stick
        & ~np.isnan(idle_since)
        & (np.nan_to_num(idle, nan=-np.inf) >= settings.stuck_days * _DAY)
    )
    return stuck, idle / _DAY


def sorting_frame(
    arrived_at: Floats,
    arrived_days: Floats,
    arrived_late: Bools,
    handed_over: Bools,
    rts_at: Floats,
    now: float,
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> tuple[npt.NDArray[np.object_], Floats, Bools, npt.NDArray[np.int64]]:
    """``sorting_now`` per row: label, days, late, rank (0 flagged, 1 on its way, 2 arrived)."""
    arrived = ~np.isnan(arrived_at)
    has_rts = ~np.isnan(rts_at)
    waited = now - rts_at
    overdue = (
        ~arrived
        & has_rts
        & (np.nan_to_num(waited, nan=-np.inf) > settings.sorting_center_days * _DAY)
    )
    label = np.select(
        [arrived & arrived_late, arrived, ~has_rts & ~handed_over, overdue],
        [ARRIVED_LATE, ARRIVED, NOT_HANDED_OVER, OVERDUE],
        default=NOT_ARRIVED,
    ).astype(object)
    days = np.where(arrived, arrived_days, np.where(has_rts, waited / _DAY, np.nan))
    late = np.where(arrived, arrived_late, overdue)
    rank = np.where(late, 0, np.where(arrived, 2, 1)).astype(np.int64)
    return label, days, late, rank


def unsettled_frame(
    lines: npt.NDArray[np.int64],
    delivered_at: Floats,
    now: float,
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> tuple[Bools, Floats]:
    """``unsettled_now`` per row: overdue, days since delivery (nan if not delivered)."""
    waited = now - delivered_at
    overdue = (
        (lines == 0)
        & ~np.isnan(delivered_at)
        & (np.nan_to_num(waited, nan=-np.inf) > settings.unsettled_days * _DAY)
    )
    return overdue, waited / _DAY


def parcel_rank(rank: npt.NDArray[np.int64], arrived_at: Floats, position: Floats) -> Floats:
    """The tie-break of :func:`.clock.parcel_rank` per parcel (sort by ``rank``, then by
    this): the latest arrival among arrived parcels, else the first parcel."""
    return np.where(rank == 2, -np.nan_to_num(arrived_at, nan=0.0), position)
