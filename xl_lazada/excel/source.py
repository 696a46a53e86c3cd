"""Where every formula gets its answers: :mod:`xl_lazada.lookup`, remembered per sync.

Excel recalculates often (opening the book, editing a cell the formula reads, Ctrl+Alt+F9)
and the same references come back again and again — in ten formulas side by side, in
10,000-row ranges. Answers are kept per reference and dropped as soon as the cache's sync
generation changes (a refresh committed) or the minute turns (deadlines count down), so a
repeat costs a dictionary lookup and a refresh is always seen.

:func:`find` is the one place that calls ``lookup`` (so the formulas and ``xl-lazada status``
read the same facts), and the one place that triggers an on-demand fetch.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..lazada.dates import utcnow
from ..refs import value_key
from . import fetch as fetching
from .messages import NOT_SYNCED

MEMO_LIMIT = 200_000  # answers kept per cache; a refresh or the next minute drops them


def cache_path(cache: Any) -> str:
    """The cache file a ``cache`` argument means (``None``: ``XL_LAZADA_CACHE``/default)."""
    if cache is None:
        from ..cache.db import default_path

        return default_path()
    path = getattr(cache, "path", None)
    return str(path) if path is not None else os.fspath(cache)


@dataclass
class Memo:
    """One cache's remembered answers for one sync generation and minute. A formula call
    looks it up once (:func:`memo`) and passes it along."""

    key: tuple[Any, ...] = ()
    # shop argument → value → RefStatus
    answers: dict[str | None, dict[Hashable, Any]] = field(default_factory=dict)
    results: dict[Hashable, list[Any]] = field(default_factory=dict)  # formula → its cells
    size: int = 0

    def recall(self, key: Hashable | None, shop: str | None) -> list[Any] | None:
        """The cells this formula gave since the last sync commit (and in this minute)."""
        return None if key is None else self.results.get((shop, key))

    def remember(self, key: Hashable | None, shop: str | None, cells: list[Any]) -> None:
        if key is None:
            return
        with _lock:
            if len(self.results) >= RESULTS_LIMIT:
                self.results.clear()
            self.results[(shop, key)] = cells


RESULTS_LIMIT = 5_000  # whole formula results kept (a recalculated range answers at once)


_memos: dict[str, Memo] = {}
_lock = threading.Lock()


def clear() -> None:
    """Forget every remembered answer (tests; the next call asks the cache again)."""
    with _lock:
        _memos.clear()


@dataclass(frozen=True, slots=True)
class Found:
    """Answers for a batch: one ``RefStatus`` per value, and the reason to show for the
    ones the cache does not know (depends on whether Lazada was asked)."""

    statuses: list[Any]
    not_found: str
    memo: Memo  # the memo these answers are in (a fetch that wrote to the cache renews it)


def _lookup(values: Sequence[Any], shop: str | None, cache: Any, now: datetime | None) -> list[Any]:
    from ..lookup import lookup

    return list(lookup(values, shop=shop, cache=cache, now=now))


def _generation(cache: Any) -> str:
    from ..lookup import generation

    return str(generation(cache))


def memo(cache: Any, now: datetime | None) -> Memo:
    """This cache's memo, emptied when a sync has committed or the minute has turned (one
    read of the cache's generation: call it once per formula call)."""
    moment = now or utcnow()
    path = cache_path(cache)
    key = (_generation(cache), int(moment.timestamp() // 60), now is None)
    with _lock:
        memo = _memos.get(path)
        if memo is None or memo.key != key or memo.size > MEMO_LIMIT:
            memo = _memos[path] = Memo(key)
    return memo


def result_key(name: Hashable, values: Sequence[Any]) -> Hashable | None:
    """A formula's identity for the result memo: its name/options and every input value
    with its type (``None`` when a value cannot be hashed: not remembered)."""
    try:
        key = (name, tuple(values), tuple(map(type, values)))
        hash(key)
    except TypeError:
        return None
    return key


def _cached(
    values: Sequence[Any], shop: str | None, cache: Any, now: datetime | None, memo: Memo
) -> list[Any]:
    with _lock:
        answers = memo.answers.setdefault(shop, {})
        keys = [
            v if type(v) is str else (float, v) if type(v) is float and v else value_key(v)
            for v in values
        ]  # (value_key, with its two common cases inline: a range is text or floats)
        missing: dict[Hashable, Any] = {}
        unhashable: list[int] = []
        for i, (k, v) in enumerate(zip(keys, values, strict=True)):
            if k is None:
                unhashable.append(i)
            elif k not in answers and k not in missing:
                missing[k] = v
    fresh: dict[Hashable, Any] = {}
    if missing or unhashable:
        asked = list(missing.values()) + [values[i] for i in unhashable]
        got = _lookup(asked, shop, cache, now)
        fresh = dict(zip(missing.keys(), got[: len(missing)], strict=True))
        odd = dict(zip(unhashable, got[len(missing) :], strict=True))
        with _lock:  # (into this memo even if a newer one replaced it: then unused)
            answers.update(fresh)
            memo.size += len(fresh)
    else:
        odd = {}
    out: list[Any] = []
    for i, k in enumerate(keys):
        if k is None:
            out.append(odd[i])
        else:
            out.append(fresh[k] if k in fresh else answers[k])
    return out


def find(
    values: Sequence[Any],
    shop: str | None = None,
    *,
    cache: Any = None,
    now: datetime | None = None,
    fetch_missing: bool = True,
    in_memo: Memo | None = None,
) -> Found:
    """``RefStatus`` for each value; references the cache does not know are fetched once
    per batch when a shop is connected and the budget allows (see :mod:`.fetch`).
    ``in_memo``: the caller's :func:`memo` of this cache, if it has it already."""
    current = in_memo or memo(cache, now)
    statuses = _cached(values, shop, cache, now, current)
    unknown = [i for i, s in enumerate(statuses) if s.kind == "not_found"]
    if not unknown or not fetch_missing:
        return Found(statuses, NOT_SYNCED, current)
    outcome = fetching.fetch(shop, cache_path(cache))
    if outcome.fetched:  # the fetch committed to the cache: a new generation, a new memo
        current = memo(cache, now)
        again = _cached([values[i] for i in unknown], shop, cache, now, current)
        for i, s in zip(unknown, again, strict=True):
            statuses[i] = s
    return Found(statuses, outcome.reason, current)


def checkpoints(ref: str, shop: str | None, cache: Any) -> list[Any]:
    """The parcel history of one cleaned reference, oldest first."""
    from ..lookup import checkpoints as history

    return list(history(ref, shop=shop, cache=cache))
