"""Each cached shop's context for the rules: time zone, holiday calendar, currency."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..lazada.ventures import VENTURES
from ..rules.deadline import WorkCalendar, calendar_for
from ..rules.settings import DEFAULT_SETTINGS, RuleSettings
from .select import field_of

#: Currencies without minor units on Lazada.
ZERO_DECIMAL_CURRENCIES = frozenset({"VND", "IDR"})
_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{1,2}):?(\d{2})?$")


@dataclass(frozen=True, slots=True)
class ShopContext:
    """What the rules need to know about a shop: its clock, calendar and currency."""

    name: str
    venture: str
    tz: tzinfo
    cross_border: bool
    currency: str
    calendar: WorkCalendar

    @property
    def tz_label(self) -> str:
        offset = datetime.now(UTC).astimezone(self.tz).utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    def local(self, dt: datetime | None) -> datetime | None:
        """Shop-local, timezone-naive (what a sheet shows)."""
        return None if dt is None else dt.astimezone(self.tz).replace(tzinfo=None)

    def money(self, value: Decimal | None, currency: str | None = None) -> float | None:
        """Rounded to the currency's decimals, as a float for the frame."""
        if value is None:
            return None
        places = 0 if (currency or self.currency) in ZERO_DECIMAL_CURRENCIES else 2
        q = Decimal(1).scaleb(-places)
        return float(value.quantize(q, rounding=ROUND_HALF_UP))


def parse_tz(value: Any, venture: str | None = None) -> tzinfo:
    """A shop's timezone from what the cache holds (tzinfo, "+08:00", a zone name, or the venture)."""
    if isinstance(value, tzinfo):
        return value
    text = str(value or "").strip()
    m = _OFFSET.match(text)
    if m:
        sign, hh, mm = m.groups()
        minutes = int(hh) * 60 + int(mm or 0)
        return timezone(timedelta(minutes=-minutes if sign == "-" else minutes))
    if text:
        try:
            from zoneinfo import ZoneInfo

            return ZoneInfo(text)
        except Exception:  # noqa: BLE001 - unknown zone name: fall back to the venture
            pass
    v = VENTURES.get(str(venture or "").upper())
    return v.tz if v else UTC


def shop_contexts(cache: Any, settings: RuleSettings = DEFAULT_SETTINGS) -> dict[str, ShopContext]:
    """Every cached shop's context, by profile name."""
    out: dict[str, ShopContext] = {}
    for info in cache.shops():
        name = str(field_of(info, "name", "shop"))
        venture = str(field_of(info, "venture", default="") or "")
        tz = parse_tz(field_of(info, "tz", "timezone"), venture)
        cb = bool(field_of(info, "cross_border", default=False))
        v = VENTURES.get(venture.upper())
        out[name] = ShopContext(
            name=name,
            venture=venture,
            tz=tz,
            cross_border=cb,
            currency=v.currency if v else "",
            calendar=calendar_for(tz, cross_border=cb, settings=settings),
        )
    return out


def fallback_shop(name: str, settings: RuleSettings) -> ShopContext:
    """For rows of a shop missing from ``shops`` (should not happen): UTC, local rules."""
    return ShopContext(
        name, "", UTC, False, "", calendar_for(UTC, cross_border=False, settings=settings)
    )
