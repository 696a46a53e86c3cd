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
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from itertools import chain, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

from .cache.codec import parse_utc
from .cache.refindex import ref_rows
from .gcpause import no_cycle_collection
from .refs import NormalizedRef, normalize_ref
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
    order_number: str | None = None
    order_id: str | None = None
    shop: str | None = None
    status: str | None = None  # Seller Center's words (rules.status)
    item_statuses: tuple[str, ...] = ()  # Lazada's status of every unit
    tracking_numbers: tuple[str, ...] = ()
    package_ids: tuple[str, ...] = ()
    last_checkpoint_time: datetime | None = None
    last_checkpoint_title: str | None = None
    last_checkpoint_code: str | None = None
    last_checkpoint_location: str | None = None
    rts_deadline: datetime | None = None
    rts_hours_left: float | None = None  # None once set ready-to-ship, canceled or unpaid
    rts_at_risk: bool = False
    rts_late: bool = False
    ready_to_ship_at: datetime | None = None
    sorting_centre: str | None = None  # Arrived, Arrived late, Not arrived, ... (None: local shop)
    sorting_centre_arrival: datetime | None = None
    sorting_centre_late: bool = False
    stuck: bool = False
    delivered_at: datetime | None = None
    settlement_net: Decimal | None = None  # None while the order has no finance line
    settlement_state: str | None = None  # Paid, Unpaid, Partially paid, Not settled
    settlement_components: Mapping[str, Decimal] = field(default_factory=dict)
    unsettled: bool = False  # delivered, nothing settled, more than the unsettled days ago
    currency: str | None = None
    synced_at: datetime | None = None  # when a sync last wrote the order
    shop_tz: tzinfo | None = None
    matches: tuple[RefStatus, ...] = ()


_new = object.__new__
_set = object.__setattr__


def _status(ref: Any, kind: str, fields: dict[str, Any], **changes: Any) -> RefStatus:
    """``RefStatus(ref, kind, **fields)`` without the frozen ``__init__``'s 33 guarded
    attribute writes: one copy of the order's field dict (from :func:`_answer`) becomes the
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
_ORDER_SQL = (
    "SELECT f.shop, f.order_id, f.order_number, f.status, f.delayed_after, f.item_statuses,"
    " f.tracking_numbers, f.package_ids, f.last_time, f.last_title, f.last_code,"
    " f.last_location, f.rts_deadline, f.rts_open, f.rts_late, f.rts_at, f.delivered_at,"
    " f.settlement_lines, f.settlement_state, f.settlement_net, f.settlement_components,"
    " f.currency, f.synced_at FROM json_each(?) j CROSS JOIN order_facts f"
    " WHERE f.shop = ? AND f.order_id = j.value"
)
_PACKAGE_SQL = (
    "SELECT p.order_id, p.position, p.rts_at, p.idle_since, p.can_stick, p.sorting_applies,"
    " p.sc_arrived_at, p.sc_days, p.sc_late, p.sc_handed_over FROM json_each(?) j"
    " CROSS JOIN package_facts p WHERE p.shop = ? AND p.order_id = j.value"
)


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


def _tuples(conn: sqlite3.Connection, sql: str, params: Any) -> list[tuple]:
    """Rows as plain tuples (the connection's ``sqlite3.Row`` costs more per row and per
    index than the answer does)."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur.execute(sql, params).fetchall()


def _order_rows(
    conn: sqlite3.Connection, shop: str, ids: list[str], settings: RuleSettings, in_memory: bool
) -> tuple[list[tuple], list[tuple]]:
    if not in_memory:
        ids_json = json.dumps(ids)
        orders = _tuples(conn, _ORDER_SQL, (ids_json, shop))
        packages = _tuples(conn, _PACKAGE_SQL, (ids_json, shop))
        return orders, packages
    from .cache import facts

    order_rows, package_rows, _ = facts.fact_rows(conn, shop, ids, settings)
    col = {c: i for i, c in enumerate(facts.ORDER_FACT_COLUMNS)}
    pcol = {c: i for i, c in enumerate(facts.PACKAGE_FACT_COLUMNS)}
    names = [
        "shop", "order_id", "order_number", "status", "delayed_after", "item_statuses",
        "tracking_numbers", "package_ids", "last_time", "last_title", "last_code",
        "last_location", "rts_deadline", "rts_open", "rts_late", "rts_at", "delivered_at",
        "settlement_lines", "settlement_state", "settlement_net", "settlement_components",
        "currency", "synced_at",
    ]  # fmt: skip
    pnames = [
        "order_id", "position", "rts_at", "idle_since", "can_stick", "sorting_applies",
        "sc_arrived_at", "sc_days", "sc_late", "sc_handed_over",
    ]  # fmt: skip
    orders = [tuple(r[col[n]] for n in names) for r in order_rows]
    packages = [tuple(r[pcol[n]] for n in pnames) for r in package_rows]
    return orders, packages


def _aware(now: datetime | None, tz: tzinfo) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now if now.tzinfo is not None else now.replace(tzinfo=tz)


_ORDER_STAMPS = itemgetter(4, 8, 12, 15, 16)  # delayed_after, last_time, rts_deadline, ...
_PARCEL_STAMPS = itemgetter(2, 3, 6)  # rts_at, idle_since, sc_arrived_at


def _times(orders: list[tuple], packages: list[tuple]) -> dict[Any, datetime | None]:
    """Every stored time of these rows → an aware UTC datetime, each distinct value once
    and in one C-level pass (Unix seconds; ``synced_at`` is ISO text; ``None`` stays
    ``None``). Datetimes are immutable, so answers share them."""
    stamps = set(chain.from_iterable(map(_ORDER_STAMPS, orders)))
    stamps.update(chain.from_iterable(map(_PARCEL_STAMPS, packages)))
    stamps.discard(None)
    out: dict[Any, datetime | None] = dict(
        zip(stamps, map(datetime.fromtimestamp, stamps, repeat(UTC)), strict=True)
    )
    for text in {r[22] for r in orders}:
        out[text] = parse_utc(text)
    out[None] = None
    return out


def _answer(
    row: tuple,
    parcels: Iterable[tuple],
    shop: _Shop,
    now: datetime,
    times: dict[Any, datetime | None],
) -> dict[str, Any]:
    """One order's answer at ``now``: RefStatus's fields but ``ref`` and ``kind``."""
    s = shop.settings
    deadline = times[row[12]]
    if deadline is not None:
        hours, at_risk, late = rts_now(deadline, bool(row[13]), bool(row[14]), now, s)
    else:
        hours, at_risk, late = None, False, False
    stuck = False
    best = None
    for p in parcels:
        if p[4] and not stuck and p[3] is not None:
            stuck = stuck_now(True, times[p[3]], now, s)[0]
        if p[5]:
            arrived = times[p[6]]
            sc = sorting_now(arrived, p[7], bool(p[8]), bool(p[9]), times[p[2]], now, s)
            key = parcel_rank(sc.rank, p[6], p[1])
            if best is None or key < best[0]:
                best = (key, sc, arrived)
    delivered = times[row[16]]
    lines = row[17]
    return {
        "ref": None,  # set per reference (keeps the fields in declaration order)
        "kind": None,
        "found": True,
        "message": "",
        "order_number": row[2],
        "order_id": row[1],
        "shop": row[0],
        "status": status_at(row[3], times[row[4]], now),
        "item_statuses": tuple(row[5].split(",")) if row[5] else (),
        "tracking_numbers": tuple(row[6].split(", ")) if row[6] else (),
        "package_ids": tuple(row[7].split(",")) if row[7] else (),
        "last_checkpoint_time": times[row[8]],
        "last_checkpoint_title": row[9],
        "last_checkpoint_code": row[10],
        "last_checkpoint_location": row[11],
        "rts_deadline": deadline,
        "rts_hours_left": hours,
        "rts_at_risk": at_risk,
        "rts_late": late,
        "ready_to_ship_at": times[row[15]],
        "sorting_centre": best[1].label if best else None,
        "sorting_centre_arrival": best[2] if best else None,
        "sorting_centre_late": best[1].late if best else False,
        "stuck": stuck,
        "delivered_at": delivered,
        "settlement_net": Decimal(row[19]) if lines else None,
        "settlement_state": row[18],
        "settlement_components": _Components(row[20]) if lines else _EMPTY,
        "unsettled": (
            unsettled_now(lines, delivered, now, s)[0] if delivered is not None else False
        ),
        "currency": row[21] or None,
        "synced_at": times[row[22]],
        "shop_tz": shop.tz,
        "matches": (),
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
    distinct: dict[Any, NormalizedRef] = {}
    keys: list[Any] = []
    for v in values:
        if type(v) is str:
            key: Any = v
        else:
            key = (type(v), v)
            try:
                hash(key)
            except TypeError:  # unhashable: its own entry
                key = (type(v), id(v))
        n = distinct.get(key)
        if n is None:
            n = distinct[key] = normalize_ref(v)
        keys.append(key)
    texts = sorted({c for n in distinct.values() for c in n.candidates})
    # text -> its one order (shop, kind, order id), or every row when it names several
    one: dict[str, tuple[str, str, str]] = {}
    several: dict[str, list[tuple[str, str, str]]] = {}
    wanted: dict[str, set[str]] = {}
    if texts:
        rank = _KIND_ORDER.__getitem__
        for text, s, kind, oid in ref_rows(conn, texts, shop):
            ids = wanted.get(s)
            if ids is None:
                ids = wanted[s] = set()
            ids.add(oid)
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
    in_memory: set[str] = set()
    if wanted and stale & set(wanted):
        in_memory = _prepare_facts(conn, wanted, settings, stale)
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    for s, ids in wanted.items():
        info = shops.get(s) or _Shop(s, UTC, settings or RuleSettings())
        orders, packages = _order_rows(conn, s, sorted(ids), info.settings, s in in_memory)
        by_order: dict[str, list[tuple]] = {}
        for p in packages:
            by_order.setdefault(p[0], []).append(p)
        when = _aware(now, info.tz)
        times = _times(orders, packages)
        for row in orders:
            answers[(s, row[1])] = _answer(row, by_order.get(row[1], ()), info, when, times)
    # Each order's field dict is copied only for its second and later references (a range
    # usually names each order once).
    used: set[int] = set()
    done: dict[Any, RefStatus] = {}
    for key, n in distinct.items():
        cands = n.candidates
        hit = one.get(cands[0]) if len(cands) == 1 else None
        if hit is None:
            done[key] = _several(n, one, several, answers)
            continue
        answer = answers.get((hit[0], hit[2]))
        if answer is None:  # its facts vanished between the two reads (a sync rebuilt them)
            done[key] = _unmatched(n, "not_found", NOT_FOUND)
        elif id(answer) in used:
            done[key] = _status(n.value, hit[1], answer)
        else:
            used.add(id(answer))
            done[key] = _own(n.value, hit[1], answer)
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
