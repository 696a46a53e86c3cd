"""``lookup(refs)``: where each order or parcel stands — the one read every front end uses.

Worksheet formulas (one cell or a 10,000-row range), the report's pasted list and
``xl-lazada status`` all call :func:`lookup`, so a reference means the same thing
everywhere. It reads only the facts the cache keeps at sync time (``order_facts`` /
``package_facts``, by index) and applies the clock-dependent rules (:mod:`xl_lazada.rules.clock`)
at ``now``: no pandas, no network, microseconds per reference.

Threads: Excel calls worksheet functions on whatever thread it likes, and a SQLite
connection belongs to the thread that opened it. The rule is **one connection per thread
and cache file**, opened on first use in that thread and reused (``cache`` given as a
path or ``None``); a :class:`~xl_lazada.cache.Cache` passed in is used directly from the
thread that opened it, and reopened (once per thread) from any other. The connections
``lookup`` opens itself read a writable cache through a memory map
(:func:`xl_lazada.cache.db.map_for_reads`).

Times: every time in a :class:`RefStatus` is an aware UTC datetime; ``shop_tz`` converts
to the shop's clock. A naive ``now`` means the shop's local time (what Excel passes).

Speed: each order's answer is read as one packed value (:mod:`xl_lazada.cache.answers`),
and a found reference's fields are worked out from it when first read, at the ``now`` of
the call: a range formula that shows one field pays for that one. Nothing is read from the
cache after :func:`lookup` returns, so an answer never mixes two syncs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

from .cache import answers as packed
from .cache.codec import parse_utc
from .cache.refindex import ref_rows
from .gcpause import no_cycle_collection
from .refs import (
    EXACT_FLOATS,
    NormalizedRef,
    is_plain,
    normalize_ref,
    plain_texts,
    value_key,
)
from .rules.clock import parcel_rank, rts_now, sorting_now, status_at, stuck_now, unsettled_now
from .rules.settings import RuleSettings

if TYPE_CHECKING:
    from .cache.store import Cache

__all__ = ["CheckpointRow", "RefStatus", "checkpoints", "generation", "lookup", "normalize_ref"]

Kind = Literal[
    "order_number",
    "order_id",
    "tracking_number",
    "package_id",
    "blank",
    "invalid",
    "rounded",
    "not_found",
    "unknown_shop",
]

NOT_FOUND = "not found in the cache (check the number, or run `xl-lazada sync` first)"
#: When one text is several kinds of reference, the one reported.
_KIND_ORDER = {"order_number": 0, "order_id": 1, "tracking_number": 2, "package_id": 3}


class _Components(Mapping[str, Decimal]):
    """Settlement sums by kind, parsed from the stored JSON on first use (a range of
    10,000 formulas rarely asks for them)."""

    __slots__ = ("_text", "_data")

    def __init__(self, text: str | None) -> None:
        self._text = text
        self._data: dict[str, Decimal] | None = None

    def _load(self) -> dict[str, Decimal]:
        if self._data is None:
            raw = json.loads(self._text) if self._text else {}
            self._data = {k: Decimal(v) for k, v in raw.items()}
        return self._data

    def __getitem__(self, key: str) -> Decimal:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __hash__(self) -> int:
        return hash(self._text)

    def __repr__(self) -> str:
        return repr(self._load())


_EMPTY = _Components(None)


@dataclass(frozen=True, slots=True)
class _Context:
    """What every found answer of one shop in one call shares: the shop and ``now``."""

    shop: _Shop
    now: datetime


def _unpacked(obj: RefStatus) -> packed.Answer:
    """The answer (``ORDER_COLUMNS`` values, parcels' ``PARCEL_COLUMNS`` values) of a found
    reference, unpacked on first need (the unpacked form replaces the bytes)."""
    answer = obj._src  # type: ignore[attr-defined]  # (a slot, set by _found)
    if type(answer) is bytes:
        answer = packed.unpack(answer)
        if answer is None:
            from .cache.db import CacheError

            raise CacheError(
                "an order's stored answer cannot be read (the cache file is damaged): "
                "delete it and run `xl-lazada sync` again"
            )
        _set(obj, "_src", answer)
    return answer


def _dt(stamp: int | None) -> datetime | None:
    """A stored instant (Unix seconds) as an aware UTC datetime."""
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC)


def _stored(answer: packed.Answer, ctx: _Context) -> tuple[Any, ...]:
    """The fields that are the stored facts as they stand (no clock), worked out together:
    one read of any of them pays for all, and none for the rules' groups below."""
    o = answer[0]
    lines = o[17]
    return (
        o[2],
        tuple(o[5].split(",")) if o[5] else (),
        tuple(o[6].split(", ")) if o[6] else (),
        tuple(o[7].split(",")) if o[7] else (),
        _dt(o[8]),
        o[9],
        o[10],
        o[11],
        _dt(o[15]),
        _dt(o[16]),
        Decimal(o[19]) if lines else None,
        o[18],
        _Components(o[20]) if lines else _EMPTY,
        o[21] or None,
        parse_utc(o[22]),
    )


def _rts(answer: packed.Answer, ctx: _Context) -> tuple[Any, ...]:
    o = answer[0]
    deadline = _dt(o[12])
    if deadline is None:
        return (None, None, False, False)
    return (deadline, *rts_now(deadline, bool(o[13]), bool(o[14]), ctx.now, ctx.shop.settings))


def _sorting(answer: packed.Answer, ctx: _Context) -> tuple[Any, ...]:
    """The parcel that speaks for the order's sorting centre (``rules.clock.parcel_rank``)."""
    best = None
    for p in answer[1]:
        if p[5]:
            arrived = _dt(p[6])
            sc = sorting_now(
                arrived, p[7], bool(p[8]), bool(p[9]), _dt(p[2]), ctx.now, ctx.shop.settings
            )
            key = parcel_rank(sc.rank, p[6], p[1])
            if best is None or key < best[0]:
                best = (key, sc, arrived)
    if best is None:
        return (None, None, False)
    return (best[1].label, best[2], best[1].late)


def _stuck(answer: packed.Answer, ctx: _Context) -> bool:
    """Any of the order's parcels stuck at ``now``."""
    for p in answer[1]:
        if p[4] and p[3] is not None and stuck_now(True, _dt(p[3]), ctx.now, ctx.shop.settings)[0]:
            return True
    return False


def _unsettled(answer: packed.Answer, ctx: _Context) -> bool:
    o = answer[0]
    if o[16] is None:
        return False
    return unsettled_now(o[17], _dt(o[16]), ctx.now, ctx.shop.settings)[0]


_Fill = Callable[["packed.Answer", _Context], Any]


class _Derived:
    """A :class:`RefStatus` field that :func:`lookup` works out on first read. On the class
    it is the field's default (what ``RefStatus(...)`` uses, and an instance made that way
    holds every field itself); on an answer lookup made, the first read fills the field —
    and the fields worked out with it, ``names`` — into the instance from its ``_src``
    (the answer) and ``_ctx`` (slots: see :class:`RefStatus`)."""

    __slots__ = ("default", "fill", "names", "name")

    def __init__(self, default: Any, fill: _Fill, names: tuple[str, ...] = ()) -> None:
        self.default = default
        self.fill = fill
        self.names = names
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return self.default
        ctx = getattr(obj, "_ctx", None)
        if ctx is None:
            return self.default
        value = self.fill(_unpacked(obj), ctx)  # type: ignore[arg-type]
        d = obj.__dict__
        if self.names:
            d.update(zip(self.names, value, strict=True))
            return d[self.name]
        d[self.name] = value
        return value


def _derived(default: Any, fill: _Fill, names: tuple[str, ...] = ()) -> Any:
    return _Derived(default, fill, names)


def _group(fill: _Fill, **defaults: Any) -> list[Any]:
    """Descriptors for fields worked out together (``defaults``: each one's name and
    default, in the order ``fill`` returns them)."""
    names = tuple(defaults)
    return [_derived(d, fill, names) for d in defaults.values()]


_STORED = _group(
    _stored,
    order_number=None,
    item_statuses=(),
    tracking_numbers=(),
    package_ids=(),
    last_checkpoint_time=None,
    last_checkpoint_title=None,
    last_checkpoint_code=None,
    last_checkpoint_location=None,
    ready_to_ship_at=None,
    delivered_at=None,
    settlement_net=None,
    settlement_state=None,
    settlement_components=_EMPTY,
    currency=None,
    synced_at=None,
)
_RTS = _group(_rts, rts_deadline=None, rts_hours_left=None, rts_at_risk=False, rts_late=False)
_SC = _group(_sorting, sorting_centre=None, sorting_centre_arrival=None, sorting_centre_late=False)


@dataclass(frozen=True)
class RefStatus:
    """What one reference means now. ``found`` is false for blank, invalid, rounded,
    unknown references and an unknown shop, and ``message`` says why in a few words a
    seller can act on. A tracking number shared by several orders answers for the first
    and lists every order in ``matches``. Times are aware UTC datetimes (``shop_tz``
    converts them to the shop's clock); money is exact ``Decimal``."""

    # What :func:`lookup` works the other fields out from (unset on an instance made by
    # ``RefStatus(...)``, which holds every field itself): see :func:`_found`.
    __slots__ = ("__dict__", "__weakref__", "_src", "_ctx")

    ref: Any
    kind: Kind
    found: bool = False
    message: str = ""
    order_number: str | None = _STORED[0]
    order_id: str | None = None
    shop: str | None = None
    status: str | None = None  # Seller Center's words (rules.status); set with the answer
    item_statuses: tuple[str, ...] = _STORED[1]  # Lazada's status of every unit
    tracking_numbers: tuple[str, ...] = _STORED[2]
    package_ids: tuple[str, ...] = _STORED[3]
    last_checkpoint_time: datetime | None = _STORED[4]
    last_checkpoint_title: str | None = _STORED[5]
    last_checkpoint_code: str | None = _STORED[6]
    last_checkpoint_location: str | None = _STORED[7]
    rts_deadline: datetime | None = _RTS[0]
    rts_hours_left: float | None = _RTS[1]  # None once set ready-to-ship, canceled or unpaid
    rts_at_risk: bool = _RTS[2]
    rts_late: bool = _RTS[3]
    ready_to_ship_at: datetime | None = _STORED[8]
    sorting_centre: str | None = _SC[0]  # Arrived, Arrived late, Not arrived, ... (None: local)
    sorting_centre_arrival: datetime | None = _SC[1]
    sorting_centre_late: bool = _SC[2]
    stuck: bool = _derived(False, _stuck)
    delivered_at: datetime | None = _STORED[9]
    settlement_net: Decimal | None = _STORED[10]  # None while the order has no finance line
    settlement_state: str | None = _STORED[11]  # Paid, Unpaid, Partially paid, Not settled
    settlement_components: Mapping[str, Decimal] = _STORED[12]
    # delivered, nothing settled, more than the unsettled days ago
    unsettled: bool = _derived(False, _unsettled)
    currency: str | None = _STORED[13]
    synced_at: datetime | None = _STORED[14]  # when a sync last wrote the order
    shop_tz: tzinfo | None = None
    matches: tuple[RefStatus, ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (and copied) with every field worked out: the copy needs no context."""
        return (_rebuilt, ({f.name: getattr(self, f.name) for f in fields(self)},))


def _rebuilt(values: dict[str, Any]) -> RefStatus:
    return RefStatus(**values)


_new = object.__new__
_set = object.__setattr__


def _status(ref: Any, kind: str, like: RefStatus, **changes: Any) -> RefStatus:
    """A copy of another answer (its fields, answer and context) as ``ref``'s, of ``kind``,
    without the frozen ``__init__``'s 33 guarded attribute writes (see :func:`_found`)."""
    obj = _new(RefStatus)
    d = like.__dict__.copy()
    d["ref"] = ref
    d["kind"] = kind
    if changes:
        d.update(changes)
    _set(obj, "__dict__", d)
    _set(obj, "_src", getattr(like, "_src", None))
    _set(obj, "_ctx", getattr(like, "_ctx", None))
    return obj


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    """One tracking event (for ``=LAZADA_CHECKPOINTS``); ``time`` is aware UTC."""

    time: datetime
    status_code: str
    title: str
    description: str
    location: str
    tracking_number: str
    package_id: str
    shop: str
    order_number: str
    detail_type: str = ""


# ---- which cache ----------------------------------------------------------------------
_local = threading.local()


def _connection(cache: Cache | str | os.PathLike[str] | None) -> tuple[sqlite3.Connection, str]:
    """A connection usable from this thread (one per thread and file, reused)."""
    from .cache.db import map_for_reads
    from .cache.store import Cache

    if isinstance(cache, Cache) and cache.thread_id == threading.get_ident():
        return cache.connection, cache.path
    path = _path_of(cache)
    opened: dict[str, Cache] = getattr(_local, "caches", None) or {}
    _local.caches = opened
    hit = opened.get(path)
    if hit is None:
        hit = Cache.open(path, must_exist=True)
        if not hit.readonly:  # (our own reader: a caller's connection is left as is)
            map_for_reads(hit.connection)
        opened[path] = hit
    return hit.connection, hit.path


def _path_of(cache: Cache | str | os.PathLike[str] | None) -> str:
    """The cache file ``cache`` names (``None``: the one the CLI uses)."""
    from .cache.db import default_path
    from .cache.store import Cache

    if isinstance(cache, Cache):
        return cache.path
    return os.fspath(cache) if cache is not None else default_path()


@contextmanager
def _reading(cache: Cache | str | os.PathLike[str] | None) -> Iterator[None]:
    """Turn a SQLite error met while reading (a page damaged after the file opened, a lock
    held too long) into the cache's one-line :class:`~xl_lazada.cache.db.CacheError`; one
    that is a bug is raised as it is."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        from .cache.db import failure

        err = failure(exc, _path_of(cache))
        if err is None:
            raise
        raise err from exc


def close_thread_caches() -> None:
    """Close this thread's cached connections (tests; a front end shutting down)."""
    for c in (getattr(_local, "caches", None) or {}).values():
        c.close()
    _local.caches = {}


def generation(cache: Cache | str | os.PathLike[str] | None = None) -> str:
    """Changes whenever a sync commits new facts (for a front end's result cache). Answers
    also change with the clock: a cache keyed on this must also expire with time."""
    conn, path = _connection(cache)
    with _reading(cache):
        row = conn.execute("SELECT value FROM cache_generation WHERE id = 1").fetchone()
    return f"{os.path.abspath(path)}#{row[0] if row else 0}"


# ---- lookup ---------------------------------------------------------------------------
@dataclass(slots=True)
class _Shop:
    name: str
    tz: tzinfo
    settings: RuleSettings


def _shops(
    conn: sqlite3.Connection, settings: RuleSettings | None
) -> tuple[dict[str, _Shop], set[str]]:
    """Every shop's clock and settings, and the shops whose stored facts were made with
    other settings (one query: this runs on every formula call)."""
    from .cache.facts import fingerprint, settings_from_json

    out = {}
    stale = set()
    for name, venture, minutes, cb, fp, text in conn.execute(
        "SELECT s.shop, s.venture, s.utc_offset_minutes, s.cross_border, f.fingerprint,"
        " f.settings FROM shops s LEFT JOIN facts_settings f ON f.shop = s.shop"
    ).fetchall():
        own = settings if settings is not None else settings_from_json(text)
        if fp != fingerprint(own, (int(cb), int(minutes))):
            stale.add(name)
        out[name] = _Shop(name, timezone(timedelta(minutes=int(minutes)), venture), own)
    return out, stale


def _prepare_facts(
    conn: sqlite3.Connection,
    shops: Iterable[str],
    settings: RuleSettings | None,
    stale: set[str],
) -> set[str]:
    from .cache.facts import ensure_settings

    return ensure_settings(conn, shops, settings, known_stale=stale)


def _from_columns(
    conn: sqlite3.Connection, shop: str, ids: list[str], settings: RuleSettings, in_memory: bool
) -> dict[str, packed.Answer]:
    """Answers made from the facts columns: orders whose packed answer is missing, or
    (``in_memory``) a read-only cache whose facts were made with other
    settings, computed here without being stored."""
    if not in_memory:
        return packed.read_columns(conn, shop, ids)
    from .cache import facts

    return facts.answers_in_memory(conn, shop, ids, settings)


def _aware(now: datetime | None, tz: tzinfo) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now if now.tzinfo is not None else now.replace(tzinfo=tz)


def _found(
    ref: str,
    kind: str,
    ctx: _Context,
    order_id: str,
    status: str,
    delayed_after: int | None,
    answer: bytes | packed.Answer,
) -> RefStatus:
    """A found reference's answer, built without the frozen ``__init__``'s 33 guarded
    attribute writes: the fields every reference reads at once (its status: what a range
    formula shows most) become its ``__dict__``; the others are worked out from the answer
    and the context when first read (:class:`_Derived`). A range of 10,000 formulas builds
    10,000 of these: the answer and context sit in slots so that the ``__dict__`` holds
    only plain values, which the cycle collector then leaves alone. Same object, same
    equality as ``RefStatus(...)``."""
    shop = ctx.shop
    obj = _new(RefStatus)
    _set(obj, "_src", answer)
    _set(obj, "_ctx", ctx)
    _set(
        obj,
        "__dict__",
        {
            "ref": ref,
            "kind": kind,
            "found": True,
            "order_id": order_id,
            "shop": shop.name,
            "status": status
            if delayed_after is None
            else status_at(status, _dt(delayed_after), ctx.now),
            "shop_tz": shop.tz,
        },
    )
    return obj


def lookup(
    refs: Iterable[Any],
    *,
    shop: str | None = None,
    cache: Cache | str | os.PathLike[str] | None = None,
    now: datetime | None = None,
    settings: RuleSettings | None = None,
) -> list[RefStatus]:
    """One :class:`RefStatus` per reference, in input order (duplicates and blanks
    included). ``refs`` are order numbers, order ids, tracking numbers or package ids, as
    text or numbers (Excel's floats and scientific notation are read back; see
    :mod:`xl_lazada.refs`). ``shop`` limits the search to one synced shop; ``settings``
    (default: each shop's stored settings) also become the shop's stored settings."""
    values = list(refs)
    with _reading(cache):
        if len(values) <= 64:
            return _lookup(values, shop, cache, now, settings)
        # A range builds tens of thousands of short-lived objects, none in cycles: the cyclic
        # collector would walk them again and again (a third of a 10,000-row range at times).
        with no_cycle_collection():
            return _lookup(values, shop, cache, now, settings)


def _lookup(
    values: list[Any],
    shop: str | None,
    cache: Cache | str | os.PathLike[str] | None,
    now: datetime | None,
    settings: RuleSettings | None,
) -> list[RefStatus]:
    conn, _ = _connection(cache)
    shops, stale = _shops(conn, settings)
    if shop is not None and shop not in shops:
        known = ", ".join(sorted(shops)) or "none synced yet"
        msg = f"shop {shop!r} is not in the cache (shops: {known})"
        return [
            _unmatched(n, "unknown_shop", msg)
            if n.kind == "text"
            else _unmatched(n, n.kind, n.message)
            for n in map(normalize_ref, values)
        ]
    # Excel ranges repeat values: each distinct value is answered once. A plain text (clean,
    # digits or upper case: most of a range) is its own key and its own one text to look up;
    # any other value is cleaned first, and keyed with its type (1, 1.0 and True differ).
    # A whole float below 1e15 (Excel's column of numbers) has its digits as its one text.
    plain: set[str]
    floats: dict[Any, tuple[float, str]]  # key -> (the float, its digits)
    odd: dict[Any, NormalizedRef]
    keys: list[Any]
    cells = _cells(values)
    if cells is not None:  # what Excel hands over: each value is its own key (C loops)
        keys, (distinct, strs, floats) = values, cells
        plain = plain_texts(strs)
        odd = {v: normalize_ref(v) for v in strs.difference(plain)}
        if None in distinct:
            odd[None] = normalize_ref(None)
    else:
        plain, keys, floats, odd = set(), [], {}, {}
        _keyed(values, keys, plain, floats, odd)
        distinct = set(keys)
    digits = map(itemgetter(1), floats.values())
    texts = sorted(plain.union(digits, *(n.candidates for n in odd.values())))
    rows = ref_rows(conn, texts, shop, answers=True) if texts else []
    in_memory: set[str] = set()
    if stale and rows:
        named = {r[1] for r in rows}
        if stale & named:  # made with other settings: rebuilt (then read again) or in memory
            in_memory = _prepare_facts(conn, named, settings, stale)
            rows = ref_rows(conn, texts, shop, answers=True)
    # One answer per row, built here (:func:`_found`). ``found``: text -> its answer;
    # ``several``: text -> every answer, for a text that names more than one order (or one
    # order as two kinds).
    found: dict[str, RefStatus] = {}
    several: dict[str, list[RefStatus]] = {}
    contexts: dict[str, _Context] = {}
    missing: list[tuple[Any, ...]] = []
    found_ = _found
    for row in rows:
        text, s, kind, oid, status, delayed_after, blob = row
        if blob is None or (in_memory and s in in_memory):
            missing.append(row)  # answered below, from the facts columns
            continue
        ctx = contexts.get(s)
        if ctx is None:
            ctx = contexts[s] = _context(s, shops, settings, now)
        obj = found_(text, kind, ctx, oid, status, delayed_after, blob)
        if text in found:
            several.setdefault(text, [found[text]]).append(obj)
        else:
            found[text] = obj
    if missing:
        _answer_missing(conn, missing, shops, settings, now, contexts, in_memory, found, several)
    # Plain texts naming several orders, then every other value (read before ``found``
    # takes their answers: a cleaned value's texts are looked up as found).
    for text, each in several.items():
        found[text] = _pick(text, each)
    taken: set[str] = set(plain)  # texts whose answer a plain key already returns
    other = {key: _resolve(n, found, several, taken) for key, n in odd.items()}
    for key, (number, text) in floats.items():
        other[key] = _take(number, text, found, several, taken)
    found.update(other)
    for key in distinct.difference(found):
        found[key] = _not_found(key)  # (only plain texts: every other key is in ``other``)
    return list(map(found.__getitem__, keys))


_CELL_TYPES = frozenset({str, float, type(None)})


def _cells(
    values: list[Any],
) -> tuple[set[Any], set[str], dict[Any, tuple[float, str]]] | None:
    """A range as Excel hands it over (text, whole numbers below 1e15 as floats, blanks as
    None) split in C-level passes: its distinct values, its texts, and each number with
    its digits. Such values are their own keys: no two of them are equal unless they are
    the same reference. None for any other range (:func:`_keyed` keys it value by value)."""
    kinds = set(map(type, values))  # (over values: 1 == 1.0 in a set)
    if not kinds <= _CELL_TYPES:
        return None
    distinct = set(values)
    if len(kinds) == 1 and str in kinds:  # all text, the common range: nothing to split
        return distinct, distinct, {}
    strs = set(filter(str.__instancecheck__, distinct))
    numbers = distinct.difference(strs)
    numbers.discard(None)
    if numbers and not (
        all(map(float.is_integer, numbers))  # (False for NaN and infinities)
        and min(numbers) >= 1.0  # (a zero keeps its sign in _keyed)
        and max(numbers) < EXACT_FLOATS
    ):
        return None
    digits = map(str, map(int, numbers))
    return distinct, strs, dict(zip(numbers, zip(numbers, digits, strict=True), strict=True))


def _keyed(
    values: list[Any],
    keys: list[Any],
    plain: set[str],
    floats: dict[Any, tuple[float, str]],
    odd: dict[Any, NormalizedRef],
) -> None:
    """Each value's key into ``keys``, and what it looks up into ``plain`` (text that is its
    own one candidate), ``floats`` (a whole float below 1e15: it and its digits) or ``odd``
    (any other value, cleaned)."""
    is_plain_text = is_plain
    for v in values:
        if type(v) is str:
            key: Any = v
            if is_plain_text(v):
                plain.add(v)
            elif v not in odd:
                odd[v] = normalize_ref(v)
        elif type(v) is float and v.is_integer() and 0 <= v < EXACT_FLOATS:
            key = (float, v) if v else value_key(v)  # (value_key, inline: -0.0 is its own)
            if key not in floats:
                floats[key] = (v, str(int(v)))
        else:
            key = value_key(v)
            if key is None:  # unhashable: its own entry
                key = (type(v), id(v))
            if key not in odd:
                odd[key] = normalize_ref(v)
        keys.append(key)


def _context(
    shop: str, shops: dict[str, _Shop], settings: RuleSettings | None, now: datetime | None
) -> _Context:
    info = shops.get(shop) or _Shop(shop, UTC, settings or RuleSettings())
    return _Context(info, _aware(now, info.tz))


def _answer_missing(
    conn: sqlite3.Connection,
    rows: list[tuple[Any, ...]],
    shops: dict[str, _Shop],
    settings: RuleSettings | None,
    now: datetime | None,
    contexts: dict[str, _Context],
    in_memory: set[str],
    found: dict[str, RefStatus],
    several: dict[str, list[RefStatus]],
) -> None:
    """Rows whose order has no packed answer yet (or whose shop's stored one was made with
    other settings, in a read-only cache): answered from the facts columns."""
    ids: dict[str, set[str]] = {}
    for row in rows:
        ids.setdefault(row[1], set()).add(row[3])
    got: dict[tuple[str, str], packed.Answer] = {}
    for s, oids in ids.items():
        ctx = contexts.get(s)
        if ctx is None:
            ctx = contexts[s] = _context(s, shops, settings, now)
        made = _from_columns(conn, s, sorted(oids), ctx.shop.settings, s in in_memory)
        got.update(((s, oid), answer) for oid, answer in made.items())
    for text, s, kind, oid, *_ in rows:
        answer = got.get((s, oid))
        if answer is None:  # (no facts: an order not synced whole yet)
            continue
        o = answer[0]
        obj = _found(text, kind, contexts[s], oid, o[3], o[4], answer)
        if text in found:
            several.setdefault(text, [found[text]]).append(obj)
        else:
            found[text] = obj


def _pick(value: Any, answers: list[RefStatus]) -> RefStatus:
    """One value's answer from every answer its texts found: each order once (as the kind
    that ranks first), in (shop, order id) order; several orders answer for the first and
    list all in ``matches``."""
    best: dict[tuple[str, str], RefStatus] = {}
    for a in answers:
        d = a.__dict__
        k = (d["shop"], d["order_id"])
        prev = best.get(k)
        if prev is None or _KIND_ORDER[d["kind"]] < _KIND_ORDER[prev.__dict__["kind"]]:
            best[k] = a
    each = tuple(_status(value, a.__dict__["kind"], a) for _, a in sorted(best.items()))
    if len(each) == 1:
        return each[0]
    first = each[0]
    return _status(
        value,
        first.kind,
        first,
        message=f"matches {len(each)} orders",
        matches=each,
    )


def _resolve(
    n: NormalizedRef,
    found: dict[str, RefStatus],
    several: dict[str, list[RefStatus]],
    taken: set[str],
) -> RefStatus:
    """The answer for a value that was not plain text: not a usable reference, or its
    cleaned texts' answers (a lower-case tracking number is looked up as typed and in
    upper case). The common case — one text naming one order, as Excel's floats are — takes
    the row's answer itself when no other value returns it (``taken``), else a copy."""
    if n.kind != "text":
        return _unmatched(n, n.kind, n.message)
    cands = n.candidates
    if len(cands) == 1:
        return _take(n.value, cands[0], found, several, taken)
    each: list[RefStatus] = []
    for c in n.candidates:
        if c in several:
            each.extend(several[c])
        elif c in found:
            each.append(found[c])
    if not each:
        return _unmatched(n, "not_found", NOT_FOUND)
    return _pick(n.value, each)


def _take(
    value: Any,
    text: str,
    found: dict[str, RefStatus],
    several: dict[str, list[RefStatus]],
    taken: set[str],
) -> RefStatus:
    """The answer for a value whose one cleaned text is ``text``: the row's answer itself
    when no other value returns it (``taken``), else a copy with ``value`` as its ref."""
    if text in several:
        return _pick(value, several[text])
    hit = found.get(text)
    if hit is None:
        return _not_found(value)
    d = hit.__dict__
    if text in taken:
        return _status(value, d["kind"], hit)
    # Nobody else returns this row's answer: it becomes this value's (sound because
    # ``taken`` starts with every plain key, this is the only place a row's answer is handed
    # to a cleaned value, and ``_lookup`` reads ``found`` by text only before it takes
    # these answers in).
    taken.add(text)
    d["ref"] = value
    return hit


def _not_found(value: Any) -> RefStatus:
    return RefStatus(value, "not_found", found=False, message=NOT_FOUND)


def _unmatched(n: NormalizedRef, kind: str, message: str) -> RefStatus:
    return RefStatus(n.value, kind, found=False, message=message)  # type: ignore[arg-type]


def checkpoints(
    ref: Any,
    *,
    shop: str | None = None,
    cache: Cache | str | os.PathLike[str] | None = None,
) -> list[CheckpointRow]:
    """Every tracking event of the reference's parcels, oldest first: all of an order's
    parcels for an order number or id, just that parcel for a tracking number or package
    id. Unknown or unusable references give an empty list (ask :func:`lookup` why)."""
    n = normalize_ref(ref)
    if not n.candidates:
        return []
    with _reading(cache):
        return _checkpoints(n, shop, cache)


def _checkpoints(
    n: NormalizedRef, shop: str | None, cache: Cache | str | os.PathLike[str] | None
) -> list[CheckpointRow]:
    conn, _ = _connection(cache)
    rows: list[CheckpointRow] = []
    seen: set[tuple[str, str]] = set()
    for text, s, kind, oid in ref_rows(conn, n.candidates, shop):
        pkgs = conn.execute(
            "SELECT p.package_id, p.tracking_number, f.order_number FROM package_facts p"
            " JOIN order_facts f ON f.shop = p.shop AND f.order_id = p.order_id"
            " WHERE p.shop = ? AND p.order_id = ? ORDER BY p.position",
            (s, oid),
        ).fetchall()
        for pid, tracking, number in pkgs:
            if kind in ("tracking_number", "package_id") and text not in (pid, tracking):
                continue
            if (s, pid) in seen:
                continue
            seen.add((s, pid))
            for t, code, title, desc, loc, detail in conn.execute(
                "SELECT event_time, status_code, title, description, location, detail_type"
                " FROM checkpoints"
                " WHERE shop = ? AND package_id = ? ORDER BY event_time, id",
                (s, pid),
            ):
                when = parse_utc(t)
                if when is None:
                    continue
                rows.append(
                    CheckpointRow(
                        when,
                        code or "",
                        title or "",
                        desc or "",
                        loc or "",
                        tracking or "",
                        pid,
                        s,
                        number,
                        detail or "",
                    )
                )
    rows.sort(key=lambda r: r.time)
    return rows


class _CallableModule(types.ModuleType):
    """``xl_lazada.lookup`` is both this module and its main function: once the module is
    imported, Python's import system makes ``from xl_lazada import lookup`` return the
    module, so the module itself answers calls the same way."""

    def __call__(
        self,
        refs: Iterable[Any],
        *,
        shop: str | None = None,
        cache: Cache | str | os.PathLike[str] | None = None,
        now: datetime | None = None,
        settings: RuleSettings | None = None,
    ) -> list[RefStatus]:
        return lookup(refs, shop=shop, cache=cache, now=now, settings=settings)


sys.modules[__name__].__class__ = _CallableModule
