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
thread that opened it, and reopened (once per thread) from any other.

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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from .cache import answers as packed
from .cache.codec import parse_utc
from .cache.refindex import ref_rows
from .gcpause import no_cycle_collection
from .refs import NormalizedRef, is_clean, normalize_ref
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


class _Source:
    """What a found reference's fields are worked out from: its order's answer
    (``ORDER_COLUMNS`` values, parcels' ``PARCEL_COLUMNS`` values; kept packed as read
    until a field needs it), the shop, and ``now``."""

    __slots__ = ("_packed", "_answer", "shop", "now")

    def __init__(self, answer: bytes | packed.Answer, shop: _Shop, now: datetime) -> None:
        if type(answer) is bytes:
            self._packed: bytes | None = answer
            self._answer: packed.Answer | None = None
        else:
            self._packed = None
            self._answer = answer  # type: ignore[assignment]
        self.shop = shop
        self.now = now

    def _load(self) -> packed.Answer:
        answer = self._answer
        if answer is None:
            answer = self._answer = packed.unpack(self._packed)
            self._packed = None  # (a remembered answer keeps one form, not both)
            if answer is None:
                from .cache.db import CacheError

                raise CacheError(
                    "an order's stored answer cannot be read (the cache file is damaged): "
                    "delete it and run `xl-lazada sync` again"
                )
        return answer

    @property
    def order(self) -> tuple[Any, ...]:
        return self._load()[0]

    @property
    def parcels(self) -> tuple[tuple[Any, ...], ...]:
        return self._load()[1]


def _dt(stamp: int | None) -> datetime | None:
    """A stored instant (Unix seconds) as an aware UTC datetime."""
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC)


def _stored(src: _Source) -> tuple[Any, ...]:
    """The fields that are the stored facts as they stand (no clock), worked out together:
    one read of any of them pays for all, and none for the rules' groups below."""
    o = src.order
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


def _rts(src: _Source) -> tuple[Any, ...]:
    o = src.order
    deadline = _dt(o[12])
    if deadline is None:
        return (None, None, False, False)
    return (deadline, *rts_now(deadline, bool(o[13]), bool(o[14]), src.now, src.shop.settings))


def _sorting(src: _Source) -> tuple[Any, ...]:
    """The parcel that speaks for the order's sorting centre (``rules.clock.parcel_rank``)."""
    best = None
    for p in src.parcels:
        if p[5]:
            arrived = _dt(p[6])
            sc = sorting_now(
                arrived, p[7], bool(p[8]), bool(p[9]), _dt(p[2]), src.now, src.shop.settings
            )
            key = parcel_rank(sc.rank, p[6], p[1])
            if best is None or key < best[0]:
                best = (key, sc, arrived)
    if best is None:
        return (None, None, False)
    return (best[1].label, best[2], best[1].late)


def _stuck(src: _Source) -> bool:
    """Any of the order's parcels stuck at ``now``."""
    for p in src.parcels:
        if p[4] and p[3] is not None and stuck_now(True, _dt(p[3]), src.now, src.shop.settings)[0]:
            return True
    return False


def _unsettled(src: _Source) -> bool:
    o = src.order
    if o[16] is None:
        return False
    return unsettled_now(o[17], _dt(o[16]), src.now, src.shop.settings)[0]


class _Derived:
    """A :class:`RefStatus` field that :func:`lookup` works out on first read. On the class
    it is the field's default (what ``RefStatus(...)`` uses, and an instance made that way
    holds every field itself); on an answer lookup made, the first read fills the field —
    and the fields worked out with it, ``names`` — into the instance from its ``_src``."""

    __slots__ = ("default", "fill", "names", "name")

    def __init__(
        self, default: Any, fill: Callable[[_Source], Any], names: tuple[str, ...] = ()
    ) -> None:
        self.default = default
        self.fill = fill
        self.names = names
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return self.default
        d = obj.__dict__
        src = d.get("_src")
        if src is None:
            return self.default
        value = self.fill(src)
        if self.names:
            d.update(zip(self.names, value, strict=True))
            return d[self.name]
        d[self.name] = value
        return value


def _derived(default: Any, fill: Callable[[_Source], Any], names: tuple[str, ...] = ()) -> Any:
    return _Derived(default, fill, names)


def _group(fill: Callable[[_Source], tuple[Any, ...]], **defaults: Any) -> list[Any]:
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


_new = object.__new__
_set = object.__setattr__


def _status(ref: Any, kind: str, fields: dict[str, Any], **changes: Any) -> RefStatus:
    """``RefStatus(ref, kind, **fields)`` without the frozen ``__init__``'s 33 guarded
    attribute writes: one copy of the order's field dict (from :func:`_base`) becomes the
    instance's ``__dict__``. A range of 10,000 formulas builds 10,000 of these; this is why
    RefStatus keeps a ``__dict__`` rather than slots. Same object, same equality."""
    obj = _new(RefStatus)
    d = fields.copy()
    d["ref"] = ref
    d["kind"] = kind
    if changes:
        d.update(changes)
    _set(obj, "__dict__", d)
    return obj


def _own(ref: Any, kind: str, fields: dict[str, Any]) -> RefStatus:
    """:func:`_status` for an order's first reference: the field dict itself becomes the
    instance's ``__dict__`` (no copy; later references of the order copy it)."""
    obj = _new(RefStatus)
    fields["ref"] = ref
    fields["kind"] = kind
    _set(obj, "__dict__", fields)
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
    from .cache.store import Cache

    if isinstance(cache, Cache):
        if cache.thread_id == threading.get_ident():
            return cache.connection, cache.path
        path = cache.path
    else:
        from .cache.db import default_path

        path = os.fspath(cache) if cache is not None else default_path()
    opened: dict[str, Cache] = getattr(_local, "caches", None) or {}
    _local.caches = opened
    hit = opened.get(path)
    if hit is None:
        hit = Cache.open(path, must_exist=True)
        opened[path] = hit
    return hit.connection, hit.path


def close_thread_caches() -> None:
    """Close this thread's cached connections (tests; a front end shutting down)."""
    for c in (getattr(_local, "caches", None) or {}).values():
        c.close()
    _local.caches = {}


def generation(cache: Cache | str | os.PathLike[str] | None = None) -> str:
    """Changes whenever a sync commits new facts (for a front end's result cache). Answers
    also change with the clock: a cache keyed on this must also expire with time."""
    conn, path = _connection(cache)
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


def _base(
    shop: _Shop,
    order_id: str,
    status: str,
    delayed_after: int | None,
    answer: bytes | packed.Answer,
    now: datetime,
) -> dict[str, Any]:
    """A found order's answer: the fields every reference reads at once (its status: what
    a range formula shows most), and the answer the others are worked out from when first
    read (:class:`_Derived`)."""
    return {
        "ref": None,  # set per reference (keeps the fields in declaration order)
        "kind": None,
        "found": True,
        "order_id": order_id,
        "shop": shop.name,
        "status": status_at(status, _dt(delayed_after), now),
        "shop_tz": shop.tz,
        "_src": _Source(answer, shop, now),
    }


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
    # Excel ranges repeat values: clean and answer each distinct value once.
    # Text is its own key; any other value keeps its type (1, 1.0 and True differ).
    # A clean upper-case or all-digit text (most of a range) is its own one candidate.
    distinct: dict[Any, NormalizedRef | None] = {}
    keys: list[Any] = []
    for v in values:
        if type(v) is str:
            key: Any = v
            if key not in distinct:
                plain = is_clean(v) and (v.isdigit() or v.isupper())
                distinct[key] = None if plain else normalize_ref(v)
        else:
            key = (type(v), v)
            try:
                hash(key)
            except TypeError:  # unhashable: its own entry
                key = (type(v), id(v))
            if key not in distinct:
                distinct[key] = normalize_ref(v)
        keys.append(key)
    texts = sorted(
        {key for key, n in distinct.items() if n is None}.union(
            *(n.candidates for n in distinct.values() if n is not None)
        )
    )
    # text -> its one order (shop, kind, order id), or every row when it names several
    one: dict[str, tuple[str, str, str]] = {}
    several: dict[str, list[tuple[str, str, str]]] = {}
    rows = ref_rows(conn, texts, shop, answers=True) if texts else []
    in_memory: set[str] = set()
    if stale and rows:
        named = {r[1] for r in rows}
        if stale & named:  # made with other settings: rebuilt (then read again) or in memory
            in_memory = _prepare_facts(conn, named, settings, stale)
            rows = ref_rows(conn, texts, shop, answers=True)
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    unpacked: dict[str, list[str]] = {}
    contexts: dict[str, tuple[_Shop, datetime]] = {}
    rank = _KIND_ORDER.__getitem__
    for text, s, kind, oid, status, delayed_after, blob in rows:
        if (s, oid) not in answers:
            ctx = contexts.get(s)
            if ctx is None:
                info = shops.get(s) or _Shop(s, UTC, settings or RuleSettings())
                ctx = contexts[s] = (info, _aware(now, info.tz))
            if blob is None or s in in_memory:
                unpacked.setdefault(s, []).append(oid)
            else:
                answers[(s, oid)] = _base(ctx[0], oid, status, delayed_after, blob, ctx[1])
        prev = one.get(text)
        if prev is None:
            if text in several:
                several[text].append((s, kind, oid))
            else:
                one[text] = (s, kind, oid)
        elif prev[0] == s and prev[2] == oid:  # one order, as both its id and its number
            if rank(kind) < rank(prev[1]):
                one[text] = (s, kind, oid)
        else:
            several[text] = [prev, (s, kind, oid)]
            del one[text]
    for s, ids in unpacked.items():
        info, when = contexts[s]
        got = _from_columns(conn, s, sorted(set(ids)), info.settings, s in in_memory)
        for oid, answer in got.items():
            o = answer[0]
            answers[(s, oid)] = _base(info, oid, o[3], o[4], answer, when)
    # Each order's field dict is copied only for its second and later references (a range
    # usually names each order once).
    used: set[int] = set()
    done: dict[Any, RefStatus] = {}
    for key, n in distinct.items():
        if n is None:
            hit = one.get(key)
        else:
            cands = n.candidates
            hit = one.get(cands[0]) if len(cands) == 1 else None
        fields = None if hit is None else answers.get((hit[0], hit[2]))
        if hit is None or fields is None:  # (no facts: an order not synced whole yet)
            full = normalize_ref(key) if n is None else n
            done[key] = _several(full, one, several, answers)
            continue
        value = key if n is None else n.value
        if id(fields) in used:
            done[key] = _status(value, hit[1], fields)
        else:
            used.add(id(fields))
            done[key] = _own(value, hit[1], fields)
    return [done[key] for key in keys]


def _several(
    n: NormalizedRef,
    one: dict[str, tuple[str, str, str]],
    several: dict[str, list[tuple[str, str, str]]],
    answers: dict[tuple[str, str], dict[str, Any]],
) -> RefStatus:
    """The uncommon answers: not a usable reference, not found, a lower-case tracking
    number (looked up as typed and in upper case), or a text naming several orders."""
    if n.kind != "text":
        return _unmatched(n, n.kind, n.message)
    found: dict[tuple[str, str], str] = {}
    for c in n.candidates:
        rows = several.get(c) or ([one[c]] if c in one else [])
        for s, kind, oid in rows:
            prev = found.get((s, oid))
            if prev is None or _KIND_ORDER[kind] < _KIND_ORDER[prev]:
                found[(s, oid)] = kind
    matched = [(k, found[k]) for k in sorted(found) if k in answers]
    if not matched:
        return _unmatched(n, "not_found", NOT_FOUND)
    each = tuple(_status(n.value, kind, answers[k]) for k, kind in matched)
    if len(each) == 1:
        return each[0]
    return _status(
        n.value,
        matched[0][1],
        answers[matched[0][0]],
        message=f"matches {len(each)} orders",
        matches=each,
    )


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
