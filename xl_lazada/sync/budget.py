"""The daily call budget: how many Lazada calls an app may still make today, across runs.

Lazada caps the calls an app makes per day (a test app about 10,000) and may disable an
app that hammers it, so a sync counts its calls per *Lazada day* in the cache and stops
before the day's budget is spent; what did not fit continues on the next run.

Where the count lives: the cache's ``watermarks`` table (a key/value table with an update
time, no migration needed), under the pseudo-shop ``app:<app_key>`` — the budget belongs to
the app, shared by every shop synced with it — with one row per day, ``calls:YYYY-MM-DD``.
The learned per-API rates live there too (``rate:<api path>``, see
:class:`~xl_lazada.lazada.ratelimit.LearnedRate`), so the next run starts at them.

The day boundary: Lazada does not document when its daily count resets **(unsure)**; this
counts days in UTC+8 (Lazada's home time, and most ventures'), a setting if that is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone

from ..cache.store import Cache
from ..lazada.dates import utcnow
from ..lazada.ratelimit import LearnedRate

#: Default calls per day by app kind. Test apps: Lazada's guide says about 10,000. Online
#: apps get more; Lazada does not publish how much **(unsure)**: a setting.
DAILY_CALLS = {"test": 10_000, "online": 100_000}
LAZADA_DAY_TZ = timezone(timedelta(hours=8))
_CALLS = "calls:"
_RATE = "rate:"
_KEEP_DAYS = 7


def app_key_row(app_key: str) -> str:
    """The pseudo-shop under which an app's counts and rates are kept."""
    return f"app:{app_key}"


def lazada_day(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(LAZADA_DAY_TZ).date()


def app_kind(token_lifetime: timedelta | None) -> str:
    """``test`` or ``online``: Lazada gives test apps 7-day access tokens, online apps 30.

    Unknown (a token from the environment) counts as ``test``, the smaller budget.
    """
    if token_lifetime is not None and token_lifetime > timedelta(days=10):
        return "online"
    return "test"


def calls_today(cache: Cache, app_key: str, now: datetime | None = None) -> int:
    value = cache.watermark(app_key_row(app_key), _CALLS + lazada_day(now).isoformat())
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


def add_calls(cache: Cache, app_key: str, calls: int, now: datetime | None = None) -> int:
    """Count ``calls`` more for today (inside the caller's transaction); returns the total."""
    now = now or utcnow()
    total = calls_today(cache, app_key, now) + max(0, calls)
    row = app_key_row(app_key)
    cache.set_watermark(row, _CALLS + lazada_day(now).isoformat(), str(total), observed_at=now)
    old = (lazada_day(now) - timedelta(days=_KEEP_DAYS)).isoformat()
    cache.connection.execute(
        "DELETE FROM watermarks WHERE shop = ? AND name LIKE 'calls:%' AND name < ?",
        (row, _CALLS + old),
    )
    return total


def load_rates(cache: Cache, app_key: str) -> dict[str, LearnedRate]:
    rows = cache.connection.execute(
        "SELECT name, value FROM watermarks WHERE shop = ? AND name LIKE 'rate:%'",
        (app_key_row(app_key),),
    ).fetchall()
    out = {}
    for name, value in rows:
        learned = LearnedRate.from_text(value)
        if learned is not None:
            out[str(name)[len(_RATE) :]] = learned
    return out


def save_rates(cache: Cache, app_key: str, rates: Mapping[str, LearnedRate]) -> None:
    """Remember learned rates (inside the caller's transaction)."""
    now = utcnow()
    for path, learned in rates.items():
        cache.set_watermark(app_key_row(app_key), _RATE + path, learned.to_text(), observed_at=now)
