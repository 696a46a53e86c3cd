"""Seller-tunable thresholds for the rules, with Seller Center's defaults.

One frozen object is passed down to every rule so the Settings sheet, the CLI and the
tests all mean the same numbers. Edge conventions (tested):

- ``at_risk_hours``: at risk while *fewer than* this many hours remain (exactly 12 h left
  is not yet at risk); late once ``now`` is *after* the deadline.
- ``sorting_center_days``: flagged when the sorting-centre scan came *more than* this many
  days after ready-to-ship (exactly 7.0 days is on time), or has not come and more than this
  many days have passed.
- ``stuck_days``: stuck once *at least* this many days passed without a new checkpoint.
- ``unsettled_days``: delivered-but-unsettled once *more than* this many days passed since
  delivery with no transaction line for the order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from functools import cache
from typing import Any

from ..errors import InputError

#: Largest threshold the rules can count to: dates and deadlines further out overflow the
#: calendar arithmetic, and no seller rule spans more than ten years.
_MOST = {
    "rts_hours": 87_600,
    "at_risk_hours": 87_600,
    "sorting_center_days": 3_650,
    "stuck_days": 3_650,
    "unsettled_days": 3_650,
}


@cache
def _has_holidays(country: str) -> bool:
    """Whether the maintained holiday calendar knows ``country`` (a two- or three-letter
    code): a typo is caught when the setting is read, not half-way through a refresh."""
    import holidays

    try:
        holidays.country_holidays(country)
    except NotImplementedError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Thresholds for the seller-facing rules (hours/days may be fractional)."""

    rts_hours: float = 48.0  # Lazada's ready-to-ship window, counted in working time for LGS
    at_risk_hours: float = 12.0
    sorting_center_days: float = 7.0
    stuck_days: float = 5.0
    unsettled_days: float = 14.0
    # Holiday calendar for the cross-border 48 h (the seller's country, not the venture's).
    # ``None`` means "CN" for cross-border shops; "" disables holidays (weekends still skipped).
    holiday_country: str | None = None
    # China moves some weekends to working days around long holidays. Lazada's rule text says
    # "skip Saturdays and Sundays", so by default those make-up days are skipped too.
    count_makeup_workdays: bool = False
    # More trace codes and what they mean, without a release: a JSON file path (or JSON text)
    # shaped like rules/milestones.json; its entries win over the shipped table.
    extra_milestones: str = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float | int) and not isinstance(value, bool) and value < 0:
                raise InputError(f"{f.name} must not be negative (got {value!r})")
        if self.rts_hours <= 0:
            raise InputError("rts_hours must be positive")
        for name, most in _MOST.items():
            if getattr(self, name) > most:
                unit = "hours" if name.endswith("_hours") else "days"
                raise InputError(f"{name} must be at most {most:,} {unit} (ten years)")
        country = (self.holiday_country or "").strip().upper()
        if country and not _has_holidays(country):
            raise InputError(
                f"holiday_country: no holiday calendar for {self.holiday_country!r}"
                " (a two-letter country code such as CN, or - for none)"
            )

    def holiday_country_for(self, cross_border: bool) -> str | None:
        """The holiday calendar to use, or ``None`` for none (local shops count plain hours)."""
        if self.holiday_country is not None:
            return self.holiday_country.strip().upper() or None
        return "CN" if cross_border else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> RuleSettings:
        """Build from a Settings-sheet style mapping; unknown keys and blanks are ignored."""
        known = {f.name: f for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, raw in values.items():
            name = str(key).strip().lower().replace(" ", "_")
            if name not in known or raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            default = known[name].default
            if isinstance(default, bool):
                kwargs[name] = str(raw).strip().lower() in ("1", "true", "yes", "y")
            elif isinstance(default, float):
                kwargs[name] = float(raw)
            else:
                kwargs[name] = str(raw).strip()
        return replace(cls(), **kwargs)


DEFAULT_SETTINGS = RuleSettings()
