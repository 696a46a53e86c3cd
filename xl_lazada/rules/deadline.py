"""The 48-hour ready-to-ship deadline, and how much of it is left.

Lazada cancels (and fines) an order not set ready-to-ship within 48 hours of creation. For
cross-border (LGS) sellers those 48 hours only run on working days: Saturdays, Sundays and
the seller's public holidays (``holidays``, "CN" by default) do not count. Days are the
shop's local days (its timezone), and the clock stops at midnight and restarts at the next
working day's midnight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import NamedTuple

from .clock import rts_now
from .settings import DEFAULT_SETTINGS, RuleSettings

_MAX_DAYS = 400  # no calendar has a year without a working day; guards against bad input
_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0)

# Where the seller's working days are counted, for the holiday countries we know the offset of.
HOLIDAY_COUNTRY_TZ: dict[str, tzinfo] = {
    "CN": timezone(timedelta(hours=8), "UTC+08:00"),
    "HK": timezone(timedelta(hours=8), "UTC+08:00"),
}


@lru_cache(maxsize=16)
def _country_holidays(country: str):
    import holidays

    return holidays.country_holidays(country)  # lazily fills years on lookup


@lru_cache(maxsize=8192)
def _holiday_name(country: str, day: date) -> str | None:
    return _country_holidays(country).get(day)


@lru_cache(maxsize=8192)
def _is_working_day(country: str, day: date, weekend: frozenset[int], makeup: bool) -> bool:
    if country and _holiday_name(country, day) is not None:
        return False
    if day.weekday() in weekend:
        if makeup and country:
            return day in getattr(_country_holidays(country), "weekend_workdays", ())
        return False
    return True


@dataclass(frozen=True)
class WorkCalendar:
    """Which local days count towards the cross-border deadline."""

    tz: tzinfo
    holiday_country: str | None = "CN"
    weekend: frozenset[int] = field(default=frozenset({5, 6}))  # Monday=0
    count_makeup_workdays: bool = False
    # Days already looked up (every order's deadline walks a few of the same days).
    _days: dict[date, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    def holiday_name(self, day: date) -> str | None:
        if not self.holiday_country:
            return None
        return _holiday_name(self.holiday_country, day)

    def is_working_day(self, day: date) -> bool:
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = _is_working_day(
                self.holiday_country or "", day, self.weekend, self.count_makeup_workdays
            )
        return known

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """``start`` plus ``duration`` of time that falls on working days (aware in, aware out)."""
        if start.tzinfo is None:
            raise ValueError("naive datetime; give it a timezone")
        tz = self.tz
        # A fixed offset (every venture's zone) needs no round trip through UTC: local
        # differences and sums are exact (the general case stays for zones with DST).
        fixed = isinstance(tz, timezone)
        remaining = duration
        cursor = start.astimezone(tz)
        day = cursor.date()
        for _ in range(_MAX_DAYS + int(duration / _ONE_DAY) + 1):
            next_day = day + _ONE_DAY
            next_midnight = datetime.combine(next_day, _MIDNIGHT, tz)
            if not self.is_working_day(day):
                cursor, day = next_midnight, next_day
                continue
            if fixed:
                available = next_midnight - cursor
                if remaining <= available:
                    return cursor + remaining
            else:
                available = next_midnight.astimezone(UTC) - cursor.astimezone(UTC)
                if remaining <= available:
                    return (cursor.astimezone(UTC) + remaining).astimezone(tz)
            remaining -= available
            cursor, day = next_midnight, next_day
        raise ValueError(f"no working days within {_MAX_DAYS} days of {start.isoformat()}")


def calendar_for(
    tz: tzinfo, *, cross_border: bool, settings: RuleSettings = DEFAULT_SETTINGS
) -> WorkCalendar:
    """The seller's working calendar: the holiday country the settings pick, counted in that
    country's own days (a cross-border seller in China works China's days whatever the
    venture's timezone)."""
    country = settings.holiday_country_for(cross_border)
    return WorkCalendar(
        tz=HOLIDAY_COUNTRY_TZ.get(country or "", tz) if cross_border else tz,
        holiday_country=country,
        count_makeup_workdays=settings.count_makeup_workdays,
    )


def rts_deadline(
    created_at: datetime,
    *,
    cross_border: bool,
    calendar: WorkCalendar | None = None,
    hours: float = DEFAULT_SETTINGS.rts_hours,
) -> datetime:
    """When the order must be ready-to-ship: creation + 48 h (working hours if cross-border).

    Returned in the calendar's timezone (or ``created_at``'s for local shops without one).
    """
    if created_at.tzinfo is None:
        raise ValueError("naive datetime; give it a timezone")
    window = timedelta(hours=hours)
    if not cross_border:
        end = created_at.astimezone(UTC) + window
        return end.astimezone(calendar.tz if calendar else created_at.tzinfo)
    if calendar is None:
        calendar = WorkCalendar(tz=created_at.tzinfo)
    return calendar.add_working_time(created_at, window)


class RtsInfo(NamedTuple):
    """Deadline state. ``hours_left`` is ``None`` once nothing is left to do (set or closed)."""

    deadline: datetime
    hours_left: float | None
    at_risk: bool
    late: bool


def rts_status(
    created_at: datetime,
    rts_at: datetime | None,
    now: datetime,
    *,
    cross_border: bool,
    calendar: WorkCalendar | None = None,
    settings: RuleSettings = DEFAULT_SETTINGS,
    done: bool | None = None,
    deadline: datetime | None = None,
) -> RtsInfo:
    """Deadline, hours left, at-risk (< ``at_risk_hours`` left) and late (past the deadline).

    ``rts_at`` is when the order was set ready-to-ship (``None`` if not, or not known).
    ``done`` says the deadline no longer applies (set ready-to-ship at an unknown time, or
    canceled); it defaults to ``rts_at is not None``. A done order is late only if its known
    ``rts_at`` came after the deadline. ``deadline``: :func:`rts_deadline`'s answer for these
    inputs, when the caller already has it (it depends on nothing else).
    """
    if deadline is None:
        deadline = rts_deadline(
            created_at, cross_border=cross_border, calendar=calendar, hours=settings.rts_hours
        )
    if done is None:
        done = rts_at is not None
    late_closed = rts_at is not None and rts_at > deadline
    hours_left, at_risk, late = rts_now(deadline, not done, late_closed, now, settings)
    return RtsInfo(deadline=deadline, hours_left=hours_left, at_risk=at_risk, late=late)
