"""The 48 h ready-to-ship deadline: local shops, weekends and CN holidays for LGS sellers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from xl_lazada.rules.deadline import WorkCalendar, calendar_for, rts_deadline, rts_status
from xl_lazada.rules.settings import RuleSettings

MY = timezone(timedelta(hours=8), "MY")
TH = timezone(timedelta(hours=7), "TH")
CAL = WorkCalendar(tz=MY, holiday_country="CN")


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, tz=MY) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=tz)


def cb(created: datetime, cal: WorkCalendar = CAL) -> datetime:
    return rts_deadline(created, cross_border=True, calendar=cal)


def test_local_shop_gets_plain_48_hours_even_over_a_weekend() -> None:
    created = at(2026, 5, 15, 10)  # Friday
    assert rts_deadline(created, cross_border=False) == at(2026, 5, 17, 10)


def test_cross_border_midweek_is_48_hours() -> None:
    assert cb(at(2026, 5, 12, 10)) == at(2026, 5, 14, 10)  # Tue → Thu


def test_cross_border_skips_the_weekend() -> None:
    # Friday 10:00: 14 h Friday, Sat+Sun skipped, 24 h Monday, 10 h Tuesday.
    assert cb(at(2026, 5, 15, 10)) == at(2026, 5, 19, 10)
    # Thursday 10:00: 14 h Thu + 24 h Fri + 10 h Mon.
    assert cb(at(2026, 5, 14, 10)) == at(2026, 5, 18, 10)


def test_created_on_a_weekend_starts_counting_monday_midnight() -> None:
    assert cb(at(2026, 5, 16, 15)) == at(2026, 5, 20, 0)  # Saturday → Wed 00:00
    assert cb(at(2026, 5, 17, 23, 59)) == at(2026, 5, 20, 0)  # Sunday too


def test_exactly_filling_friday_ends_at_midnight_not_after_the_weekend() -> None:
    # Thursday 00:00 + 48 working hours = Saturday 00:00 (end of Friday).
    assert cb(at(2026, 5, 14, 0)) == at(2026, 5, 16, 0)


def test_chinese_new_year_2026() -> None:
    # Thu 12 Feb 10:00: 14 h Thu, 24 h Fri 13th; Sat 14 – Mon 23 off (weekend, Spring
    # Festival 16–20 and the substituted 23rd); 10 h on Tue 24th.
    assert cb(at(2026, 2, 12, 10)) == at(2026, 2, 24, 10)
    assert CAL.holiday_name(date(2026, 2, 17)) is not None


def test_national_day_2026() -> None:
    # Wed 30 Sep 09:00: 15 h Wed; 1–7 Oct off; 24 h Thu 8th; 9 h Fri 9th.
    assert cb(at(2026, 9, 30, 9)) == at(2026, 10, 9, 9)


def test_makeup_workday_counts_only_when_asked() -> None:
    makeup = WorkCalendar(tz=MY, holiday_country="CN", count_makeup_workdays=True)
    assert not CAL.is_working_day(date(2026, 2, 14))  # Saturday make-up day
    assert makeup.is_working_day(date(2026, 2, 14))
    assert cb(at(2026, 2, 13, 10), makeup) == at(2026, 2, 24, 10)  # 14 Fri + 24 Sat + 10 Tue


def test_no_holiday_country_only_skips_weekends() -> None:
    plain = WorkCalendar(tz=MY, holiday_country=None)
    assert cb(at(2026, 9, 30, 9), plain) == at(2026, 10, 2, 9)


def test_days_are_the_shops_local_days() -> None:
    # Friday 23:30 in Thailand is Saturday 00:30 in Malaysia: different deadlines.
    created = datetime(2026, 5, 15, 16, 30, tzinfo=UTC)
    th = cb(created, WorkCalendar(tz=TH, holiday_country=None))
    my = cb(created, WorkCalendar(tz=MY, holiday_country=None))
    assert th == at(2026, 5, 19, 23, 30, tz=TH)
    assert my == at(2026, 5, 20, 0)
    assert th.utcoffset() == timedelta(hours=7)


def test_calendar_for_picks_cn_only_for_cross_border() -> None:
    assert calendar_for(MY, cross_border=True).holiday_country == "CN"
    assert calendar_for(MY, cross_border=False).holiday_country is None
    assert calendar_for(MY, cross_border=True, settings=RuleSettings(holiday_country="my"))
    s = RuleSettings(holiday_country="")
    assert calendar_for(MY, cross_border=True, settings=s).holiday_country is None


def test_naive_datetime_rejected() -> None:
    with pytest.raises(ValueError):
        rts_deadline(datetime(2026, 5, 12, 10), cross_border=True, calendar=CAL)


class TestRtsStatus:
    created = at(2026, 5, 12, 10)  # deadline Thu 14 May 10:00
    deadline = at(2026, 5, 14, 10)

    def info(self, now: datetime, rts_at: datetime | None = None, **kw):
        return rts_status(self.created, rts_at, now, cross_border=True, calendar=CAL, **kw)

    def test_plenty_of_time(self) -> None:
        i = self.info(self.deadline - timedelta(hours=30))
        assert i.deadline == self.deadline
        assert i.hours_left == pytest.approx(30)
        assert (i.at_risk, i.late) == (False, False)

    def test_exactly_12_hours_left_is_not_at_risk_a_second_less_is(self) -> None:
        assert not self.info(self.deadline - timedelta(hours=12)).at_risk
        i = self.info(self.deadline - timedelta(hours=12) + timedelta(seconds=1))
        assert i.at_risk and not i.late

    def test_at_deadline_is_at_risk_not_late_after_is_late(self) -> None:
        i = self.info(self.deadline)
        assert (i.hours_left, i.at_risk, i.late) == (0.0, True, False)
        i = self.info(self.deadline + timedelta(hours=2))
        assert i.late and not i.at_risk
        assert i.hours_left == pytest.approx(-2)

    def test_set_in_time_is_done(self) -> None:
        i = self.info(self.deadline + timedelta(days=3), rts_at=self.deadline)
        assert (i.hours_left, i.at_risk, i.late) == (None, False, False)

    def test_set_after_deadline_is_late(self) -> None:
        i = self.info(
            self.deadline + timedelta(days=3), rts_at=self.deadline + timedelta(minutes=1)
        )
        assert i.late and i.hours_left is None

    def test_done_without_known_time(self) -> None:
        i = self.info(self.deadline + timedelta(days=3), done=True)
        assert (i.hours_left, i.at_risk, i.late) == (None, False, False)

    def test_custom_threshold(self) -> None:
        s = RuleSettings(at_risk_hours=24)
        assert self.info(self.deadline - timedelta(hours=20), settings=s).at_risk

    def test_window_length_is_a_setting(self) -> None:
        s = RuleSettings(rts_hours=24)
        i = self.info(self.created + timedelta(hours=1), settings=s)
        assert i.deadline == at(2026, 5, 13, 10)  # Tue 10:00 + 24 working hours
        assert i.hours_left == pytest.approx(23)


def test_cross_border_working_days_are_chinas_even_for_a_plus7_venture() -> None:
    """A TH order placed Friday 23:30 (+07:00) is already Saturday in China: no time counts
    until Monday 00:00 China time, so the 48 h end Tuesday 23:00 Bangkok time, not 23:30."""
    from datetime import datetime, timedelta, timezone

    bangkok = timezone(timedelta(hours=7))
    created = datetime(2026, 11, 20, 23, 30, tzinfo=bangkok)
    cal = calendar_for(bangkok, cross_border=True)
    deadline = rts_deadline(created, cross_border=True, calendar=cal)
    assert deadline == datetime(2026, 11, 24, 23, 0, tzinfo=bangkok)
