"""Thresholds: defaults are Seller Center's, a Settings sheet can override them, bad values fail."""

from __future__ import annotations

import pytest

from xl_lazada.rules.settings import DEFAULT_SETTINGS, RuleSettings


def test_defaults() -> None:
    s = DEFAULT_SETTINGS
    assert (
        s.rts_hours,
        s.at_risk_hours,
        s.sorting_center_days,
        s.stuck_days,
        s.unsettled_days,
    ) == (48, 12, 7, 5, 14)
    assert s.holiday_country_for(cross_border=True) == "CN"
    assert s.holiday_country_for(cross_border=False) is None


def test_from_settings_sheet_values() -> None:
    s = RuleSettings.from_mapping(
        {
            "At risk hours": "6",
            "stuck_days": 3,
            "Holiday country": "vn",
            "Count makeup workdays": "yes",
            "unknown": "x",
            "unsettled_days": "",
        }  # fmt: skip
    )
    assert s.at_risk_hours == 6.0 and s.stuck_days == 3.0 and s.unsettled_days == 14.0
    assert s.holiday_country_for(cross_border=True) == "VN"
    assert s.count_makeup_workdays is True


def test_negative_thresholds_rejected() -> None:
    with pytest.raises(ValueError, match="stuck_days"):
        RuleSettings(stuck_days=-1)
    with pytest.raises(ValueError):
        RuleSettings(rts_hours=0)


def test_holiday_country_and_threshold_bounds_checked_up_front() -> None:
    for known in ("CN", "cn", "CHN", "MY", ""):
        RuleSettings(holiday_country=known)
    with pytest.raises(ValueError, match="no holiday calendar for 'XX'"):
        RuleSettings(holiday_country="XX")
    with pytest.raises(ValueError, match="rts_hours must be at most"):
        RuleSettings(rts_hours=1e12)
    RuleSettings(rts_hours=87_600, stuck_days=3_650)  # ten years is still a setting
