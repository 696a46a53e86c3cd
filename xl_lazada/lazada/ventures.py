"""Lazada's six ventures (countries): gateway, currency and timezone of each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone

from ..errors import InputError

#: Currencies Lazada shows without minor units (amounts are whole numbers).
ZERO_DECIMAL_CURRENCIES = frozenset({"VND", "IDR"})

AUTH_URL = "https://auth.lazada.com/rest"
AUTHORIZE_URL = "https://auth.lazada.com/oauth/authorize"


@dataclass(frozen=True, slots=True)
class Venture:
    code: str  # "MY", "SG", ...
    base_url: str
    currency: str
    utc_offset_hours: int

    @property
    def tz(self) -> timezone:
        """Lazada shows and accepts the venture's fixed offset (no DST in these countries)."""
        return timezone(timedelta(hours=self.utc_offset_hours), self.code)


VENTURES: dict[str, Venture] = {
    v.code: v
    for v in (
        Venture("MY", "https://api.lazada.com.my/rest", "MYR", 8),
        Venture("SG", "https://api.lazada.sg/rest", "SGD", 8),
        Venture("PH", "https://api.lazada.com.ph/rest", "PHP", 8),
        Venture("TH", "https://api.lazada.co.th/rest", "THB", 7),
        Venture("VN", "https://api.lazada.vn/rest", "VND", 7),
        Venture("ID", "https://api.lazada.co.id/rest", "IDR", 7),
    )
}


def venture(code: str) -> Venture:
    """Look a venture up by its two-letter code, case-insensitively."""
    try:
        return VENTURES[code.strip().upper()]
    except KeyError:
        known = ", ".join(VENTURES)
        raise InputError(f"unknown Lazada venture {code!r}; expected one of {known}") from None
