"""A shop's time zone from what the cache (or a workbook) holds."""

from __future__ import annotations

import re
from datetime import UTC, timedelta, timezone, tzinfo
from typing import Any

from ..lazada.ventures import VENTURES, ZERO_DECIMAL_CURRENCIES

__all__ = ["ZERO_DECIMAL_CURRENCIES", "parse_tz"]
_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{1,2}):?(\d{2})?$")


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
