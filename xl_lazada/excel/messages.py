"""Every failure a seller can meet in Excel, as a short line of text for a cell or status bar.

A formula must never show a Python traceback and a macro must never leave Excel with a
dialog full of one: whatever goes wrong becomes one readable line saying what to do.
"""

from __future__ import annotations

import sqlite3

from ..cache.db import CacheError, failure
from ..config import ConfigError
from ..errors import XlLazadaError
from ..lazada.errors import (
    AuthError,
    ClockSkewError,
    LazadaError,
    SignatureError,
    TransportError,
    one_line,
)

NOT_SYNCED = "not synced yet — press Refresh"
NO_CACHE = "no data yet — press Refresh (or run xl-lazada sync)"
NOT_CONNECTED = "no shop connected — run xl-lazada login"
LIMIT = 200  # a cell shows ~100 characters comfortably; keep the reason on one line


def error_text(exc: BaseException) -> str:
    """One short line for ``exc``: what went wrong and, where we know, what to do."""
    if isinstance(exc, CacheError):
        text = str(exc)
        if "no cache yet" in text:
            return NO_CACHE
        return f"cache problem: {text}"
    if isinstance(exc, sqlite3.DatabaseError):
        known = failure(exc)  # damaged, busy, a full disk: each says what to do
        if known is not None:
            return f"cache problem: {known}"
        return f"cache unreadable ({exc}) — press Refresh, or delete the cache file"
    if isinstance(exc, ConfigError):
        return f"shop not set up: {exc}"
    if isinstance(exc, SignatureError):
        return "Lazada refused the app secret — run xl-lazada login again"
    if isinstance(exc, AuthError):
        return "Lazada login expired — run xl-lazada login"
    if isinstance(exc, ClockSkewError):
        return "this computer's clock is off — Lazada refused the request; fix the time"
    if isinstance(exc, TransportError):
        return "Lazada unreachable (network) — try again later"
    if isinstance(exc, LazadaError):
        return f"Lazada error: {exc}"
    if isinstance(exc, XlLazadaError):
        return str(exc) or type(exc).__name__  # each promises one line a seller can act on
    if isinstance(exc, ModuleNotFoundError):
        return f"a Python package is missing ({exc.name}) — run: pip install -U xl-lazada"
    if isinstance(exc, MemoryError):
        return "out of memory — use a smaller range"
    detail = str(exc) or type(exc).__name__
    return f"error: {detail}"


def cell_text(exc: BaseException) -> str:
    """``error_text`` bounded and on one line, for a cell."""
    return one_line(error_text(exc), limit=LIMIT)
