"""Fetch what the cache does not know yet, on demand, within a time budget.

A formula that meets an order number the cache has never seen (an order placed since the
last refresh) may ask Lazada — but only through one incremental sync of the shop per batch
(a 10,000-row range makes one sync, not 10,000 calls), only when the shop is connected (a
profile with a token, or the ``XL_LAZADA_*`` environment), at most once per
``min_interval`` per shop, and never for longer than the budget: the sync runs in a
background thread and the formula answers when it finishes or when the budget is spent,
whichever comes first. A sync still running then finishes on its own (every chunk it
commits is safe), and the next Refresh or recalculation shows the rest.

The budget is ``XL_LAZADA_FETCH_BUDGET`` seconds (default 5; ``0`` turns fetching off), or
:func:`configure`.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from ..lazada.dates import utcnow
from .messages import NOT_CONNECTED, error_text

ENV_BUDGET = "XL_LAZADA_FETCH_BUDGET"
DEFAULT_BUDGET_S = 5.0
DEFAULT_MIN_INTERVAL_S = 60.0


@dataclass
class FetchSettings:
    """``budget_s``: longest a formula waits (0 = never fetch); ``min_interval_s``: at most
    one on-demand sync per shop this often (the rest answer from the cache)."""

    budget_s: float | None = None  # None: read the environment each time
    min_interval_s: float = DEFAULT_MIN_INTERVAL_S

    def budget(self) -> float:
        if self.budget_s is not None:
            return max(0.0, self.budget_s)
        raw = os.environ.get(ENV_BUDGET, "").strip()
        if not raw:
            return DEFAULT_BUDGET_S
        try:
            return max(0.0, float(raw))
        except ValueError:
            return DEFAULT_BUDGET_S


SETTINGS = FetchSettings()


def configure(
    *, budget_s: float | None = None, min_interval_s: float | None = None
) -> FetchSettings:
    """Change the fetch settings for this process (the Settings sheet, tests)."""
    if budget_s is not None:
        SETTINGS.budget_s = budget_s
    if min_interval_s is not None:
        SETTINGS.min_interval_s = min_interval_s
    return SETTINGS


@dataclass
class Attempt:
    """The last on-demand fetch of one shop: what a not-found cell says about it."""

    shop: str
    started: float  # time.monotonic()
    started_at: datetime
    thread: threading.Thread | None = None
    finished: bool = False
    error: str = ""
    new_orders: int = 0
    tz: tzinfo | None = None  # the shop's clock, from the cache once synced
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        return not self.done.is_set()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What fetching did for a batch: ``fetched`` if a sync finished within the budget (so
    the cache is worth asking again); ``reason`` is the text for references still unknown."""

    fetched: bool
    reason: str


_lock = threading.Lock()
_attempts: dict[str, Attempt] = {}

_connected: dict[str | None, tuple[float, str | None]] = {}
CONNECTED_TTL_S = 30.0  # reading profiles and the keyring per formula call would be slow


def connected_shop(shop: str | None) -> str | None:
    """The profile name a fetch for ``shop`` would use, or ``None`` when no shop with a
    token is set up (reads the profiles and keyring, no network; remembered 30 s)."""
    from .. import profiles

    now = time.monotonic()
    known = _connected.get(shop)
    if known is not None and now - known[0] < CONNECTED_TTL_S:
        return known[1]
    try:
        conn = profiles.load_connection(shop)
        name: str | None = shop or conn.shop
        if conn.access_token is None and conn.refresh_token is None:
            name = None
    except Exception:  # noqa: BLE001 - not set up, unreadable profiles: simply not connected
        name = None
    _connected[shop] = (now, name)
    return name


def _run(attempt: Attempt, cache_path: str, profile: str | None) -> None:
    from .. import profiles
    from ..cache import Cache
    from ..sync import SyncOptions, sync_shop

    try:
        with profiles.open_client(profile) as opened, Cache.open(cache_path) as cache:
            client: Any = opened  # the sync's SyncClient protocol, structurally
            # Orders and their parcels are what a reference resolves to; checkpoints follow,
            # finance (the slow part) waits for the next Refresh.
            summary = sync_shop(client, cache, attempt.shop, options=SyncOptions(finance=False))
            attempt.tz = next((s.tz for s in cache.shops() if s.name == attempt.shop), None)
        attempt.new_orders = summary.new_orders
        stages = [ref for ref, _ in summary.failed if ref in ("seller", "orders")]
        if stages:
            attempt.error = "Lazada did not answer the order list — press Refresh later"
    except BaseException as exc:  # noqa: BLE001 - a background thread must never raise
        attempt.error = error_text(exc)
    finally:
        attempt.finished = True
        attempt.done.set()


def fetch(
    shop: str | None,
    cache_path: str,
    *,
    settings: FetchSettings | None = None,
) -> Outcome:
    """Sync ``shop`` once (if allowed now) and wait for it at most the budget."""
    settings = settings or SETTINGS
    budget = settings.budget()
    if budget <= 0:
        return Outcome(False, "not synced yet — press Refresh")
    name = connected_shop(shop)
    if name is None:
        return Outcome(False, f"not synced yet — press Refresh ({NOT_CONNECTED})")
    key = f"{cache_path}\x00{name}"
    with _lock:
        attempt = _attempts.get(key)
        now = time.monotonic()
        if attempt is None or (
            not attempt.running and now - attempt.started >= settings.min_interval_s
        ):
            attempt = Attempt(shop=name, started=now, started_at=utcnow())
            attempt.thread = threading.Thread(
                target=_run,
                args=(attempt, cache_path, shop),
                name=f"xl-lazada-fetch-{name}",
                daemon=True,
            )
            _attempts[key] = attempt
            attempt.thread.start()
            waited_for_new = True
        else:
            waited_for_new = False
    left = budget - (time.monotonic() - attempt.started)
    if attempt.running and left > 0:
        attempt.done.wait(left)
    if attempt.running:
        return Outcome(False, "still fetching from Lazada — press Refresh in a moment")
    if attempt.error:
        return Outcome(waited_for_new, f"not found — {attempt.error}")
    return Outcome(waited_for_new, f"not found in shop {name} (asked Lazada at {_stamp(attempt)})")


def _stamp(attempt: Attempt) -> str:
    """When Lazada was asked, on the shop's clock like every time in the workbook (UTC only
    for a shop the cache does not know)."""
    if attempt.tz is None:
        return attempt.started_at.strftime("%H:%M UTC")
    local = attempt.started_at.astimezone(attempt.tz)
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"{local:%H:%M} UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def reset() -> None:
    """Forget past attempts (tests; a new workbook session)."""
    with _lock:
        for attempt in _attempts.values():
            if attempt.thread is not None and attempt.running:
                attempt.done.wait(30)
        _attempts.clear()
        _connected.clear()
