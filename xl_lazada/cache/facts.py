"""Keep each order's clock-free facts in the cache, computed by the rules at write time.

``refresh_facts(conn, shop, order_ids)`` reads the orders' rows (by index), turns them into
the rules' typed inputs, runs :func:`xl_lazada.rules.facts.order_facts` and stores the result
in ``order_facts`` / ``package_facts``. The cache's write methods call it inside their own
transaction, so facts never lag the data they come from; the sync engine knows nothing of
it. Instants in the facts tables are integer Unix seconds (UTC), so the sheet tables convert
whole columns at once (:func:`xl_lazada.cache.codec.from_epoch` for one value).

Facts that depend on settings (the 48 h window, holiday calendar, sorting-centre days) are
made with the shop's *stored* settings (``facts_settings``) and record their fingerprint;
:func:`ensure_settings` recomputes a shop's facts when a front end brings other settings
(the workbook's Settings sheet), and later syncs keep using those.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

from ..gcpause import no_cycle_collection
from ..lazada.ventures import VENTURES, ZERO_DECIMAL_CURRENCIES
from ..rules.deadline import calendar_for
from ..rules.events import Checkpoint
from ..rules.facts import (
    ItemInput,
    OrderFacts,
    ParcelFacts,
    ParcelInput,
    ShopRules,
    TraceFacts,
    count_text,
    order_facts,
    trace_facts,
    tracking_numbers,
)
from ..rules.settings import DEFAULT_SETTINGS, RuleSettings
from ..rules.settlement import KINDS, Line, settled
from . import answers
from .codec import epoch, iso_utc, parse_utc

#: Bump when the rules change what a stored fact means: every cache recomputes on next open.
FACTS_VERSION = 1
#: Settings the stored facts depend on (the others are applied at read time).
STORED_SETTINGS = (
    "rts_hours",
    "holiday_country",
    "count_makeup_workdays",
    "sorting_center_days",
    "extra_milestones",  # which trace codes mean ready to ship, sorting centre, delivered...
)
_WHOLE, _CENTS, _ZERO = Decimal(1), Decimal("0.01"), Decimal(0)
_BATCH = 500


@functools.lru_cache(maxsize=256)
def fingerprint(settings: RuleSettings, shop_profile: tuple[Any, ...] = ()) -> str:
    """Which settings, shop profile (cross-border, time zone) and version of the rules made
    a shop's facts."""
    data: dict[str, Any] = {k: getattr(settings, k) for k in STORED_SETTINGS}
    data["facts_version"] = FACTS_VERSION
    data["shop"] = list(shop_profile)
    text = json.dumps(data, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def stored_settings(conn: sqlite3.Connection, shop: str) -> tuple[RuleSettings, str | None]:
    """The settings a shop's facts were made with, and their fingerprint (None: none yet)."""
    row = conn.execute(
        "SELECT settings, fingerprint FROM facts_settings WHERE shop = ?", (shop,)
    ).fetchone()
    if row is None:
        return DEFAULT_SETTINGS, None
    return settings_from_json(row[0]), row[1]


@functools.lru_cache(maxsize=64)
def settings_from_json(text: str | None) -> RuleSettings:
    """Stored settings text → settings (defaults for anything missing or unreadable)."""
    if not text:
        return DEFAULT_SETTINGS
    try:
        values = json.loads(text)
        return RuleSettings(**{k: v for k, v in values.items() if k in STORED_SETTINGS})
    except (ValueError, TypeError):
        return DEFAULT_SETTINGS


def _ids(values: Iterable[str]) -> str:
    return json.dumps(list(values))


def _dec(text: Any) -> Decimal | None:
    if text is None or text == "":
        return None
    try:
        return Decimal(str(text).replace(",", ""))
    except InvalidOperation:
        return None


def _money(value: Decimal | None, currency: str) -> float | None:
    """As the sheets show money: rounded half-up to the currency's decimals."""
    if value is None:
        return None
    q = _WHOLE if currency in ZERO_DECIMAL_CURRENCIES else _CENTS
    return float(value.quantize(q, rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class _Shop:
    rules: ShopRules
    currency: str


def _shop(conn: sqlite3.Connection, shop: str, settings: RuleSettings) -> _Shop:
    row = conn.execute(
        "SELECT venture, cross_border, utc_offset_minutes FROM shops WHERE shop = ?", (shop,)
    ).fetchone()
    if row is None:
        tz, cb, currency = UTC, False, ""
    else:
        tz = timezone(timedelta(minutes=int(row[2])), row[0])
        cb = bool(row[1])
        v = VENTURES.get(str(row[0]).upper())
        currency = v.currency if v else ""
    return _Shop(
        ShopRules(
            cross_border=cb,
            calendar=calendar_for(tz, cross_border=cb, settings=settings),
            currency=currency,
        ),
        currency,
    )


def _by(conn: sqlite3.Connection, sql: str, shop: str, values: Sequence[str]) -> list[tuple]:
    """Rows whose key is in ``values``, driven from the value list (each an index search),
    as plain tuples (the connection's ``sqlite3.Row`` costs more per row and per field)."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur.execute(sql, (_ids(values), shop)).fetchall()


#: One order's facts with what they were made from: (order row, facts, finance rows, item names).
FactsRow = tuple[tuple[Any, ...], OrderFacts, list[tuple[Any, ...]], list[str]]


_ORDERS_SQL = (
    "SELECT o.order_id, o.order_number, o.created_at, o.statuses, o.price, o.items_count,"
    " o.updated_at, o.buyer_name, o.payment_method, o.remarks, o.synced_at"
    " FROM json_each(?) j CROSS JOIN orders o WHERE o.shop = ? AND o.order_id = j.value"
)
_ITEMS_SQL = (
    "SELECT i.order_id, i.status, i.package_id, i.tracking_code, i.shipment_provider,"
    " i.promised_shipping_time, i.sla_time_stamp, i.updated_at, i.currency,"
    " COALESCE(NULLIF(i.name, ''), i.sku, '')"
    " FROM json_each(?) j CROSS JOIN items i WHERE i.shop = ? AND i.order_id = j.value"
    " ORDER BY i.order_id, i.order_item_id"
)
_PACKAGES_SQL = (
    "SELECT p.order_id, p.package_id, p.tracking_number, p.shipment_provider,"
    " p.ready_to_ship_at, p.last_event_at, p.last_status_code, p.final"
    " FROM json_each(?) j CROSS JOIN packages p"
    " WHERE p.shop = ? AND p.order_id = j.value ORDER BY p.order_id, p.package_id"
)
_CHECKPOINTS_SQL = (
    "SELECT c.package_id, c.event_time, c.status_code, c.title, c.location, c.detail_type"
    " FROM json_each(?) j CROSS JOIN checkpoints c"
    " WHERE c.shop = ? AND c.package_id = j.value ORDER BY c.event_time, c.id"
)
#: What the facts read of a stored checkpoint: event_time, status_code, title, location,
#: detail_type (the ``checkpoints`` columns as stored).
CheckpointRow = tuple[str | None, str | None, str | None, str | None, str | None]
#: Every stored checkpoint of some packages, by package id, oldest first and, at equal
#: times, in the order they were stored (``ORDER BY event_time, id``): what the cache's
#: trace writer has just read and written, so the facts need not read it again.
HeldCheckpoints = Mapping[str, Sequence[CheckpointRow]]
_FINANCE_SQL = (
    "SELECT t.order_no, t.fee_type, t.fee_name, t.amount, t.paid, t.statement,"
    " t.transaction_date FROM json_each(?) j CROSS JOIN transactions t"
    " WHERE t.shop = ? AND t.order_no = j.value"
    " ORDER BY t.order_no, t.transaction_date, t.transaction_number"
)


@dataclass(slots=True)
class _Inputs:
    """What the rules read of a batch of orders, by order id (checkpoints by package id)."""

    items: dict[str, list[ItemInput]]
    names: dict[str, list[str]]
    packages: dict[str, list[tuple[Any, ...]]]
    checkpoints: dict[str, list[Checkpoint]]

    def parcels(self, oid: str) -> list[ParcelInput]:
        """The order's parcels: its packages rows, then packages only its items name."""
        parse, checkpoints, no_cps = parse_utc, self.checkpoints, ()
        parcels = [
            ParcelInput(
                p[1],
                p[2] or "",
                p[3] or "",
                tuple(checkpoints.get(p[1], no_cps)),
                parse(p[4]),  # what Lazada sent, if anything: the trace's own scan wins
            )
            for p in self.packages.get(oid, ())
        ]
        known = {p.package_id for p in parcels}
        for it in self.items.get(oid, ()):
            if it.package_id and it.package_id not in known:
                known.add(it.package_id)
                parcels.append(
                    ParcelInput(
                        it.package_id, checkpoints=tuple(checkpoints.get(it.package_id, no_cps))
                    )
                )
        return parcels


def _read(
    conn: sqlite3.Connection, shop: str, ids: list[str], held: HeldCheckpoints | None = None
) -> _Inputs:
    """Items, packages and checkpoints of the orders ``ids`` (each an index search); the
    checkpoints of packages in ``held`` are taken from there instead of read again."""
    parse = parse_utc
    items: dict[str, list[ItemInput]] = {}
    names: dict[str, list[str]] = {}
    package_ids: set[str] = set()
    for oid, status, pkg, tracking, carrier, promised, sla, updated, cur, name in _by(
        conn, _ITEMS_SQL, shop, ids
    ):
        if oid not in items:
            items[oid], names[oid] = [], []
        items[oid].append(
            ItemInput(
                status or "",
                pkg or "",
                tracking or "",
                carrier or "",
                parse(promised) or parse(sla),
                parse(updated),
                cur or "",
                name,
            )
        )
        names[oid].append(name)
        if pkg:
            package_ids.add(pkg)
    packages: dict[str, list[tuple[Any, ...]]] = {}
    for r in _by(conn, _PACKAGES_SQL, shop, ids):
        packages.setdefault(r[0], []).append(r)
        package_ids.add(r[1])
    checkpoints: dict[str, list[Checkpoint]] = {}
    if held:
        for pkg in package_ids & held.keys():
            checkpoints[pkg] = _checkpoints(held[pkg])
        package_ids -= held.keys()
    if package_ids:
        for pkg, when, code, title, location, dtype in _by(
            conn, _CHECKPOINTS_SQL, shop, sorted(package_ids)
        ):
            cp = _checkpoint(when, code, title, location, dtype)
            if cp is not None:
                if pkg in checkpoints:
                    checkpoints[pkg].append(cp)
                else:
                    checkpoints[pkg] = [cp]
    return _Inputs(items, names, packages, checkpoints)


def _checkpoint(
    when: str | None, code: str | None, title: str | None, location: str | None, dtype: str | None
) -> Checkpoint | None:
    """The rules' checkpoint of a stored row (``CheckpointRow``); None without a time."""
    at = parse_utc(when)
    if at is None:
        return None
    return Checkpoint(code or "", at, location or "", title or "", "", dtype or "")


def _checkpoints(rows: Iterable[CheckpointRow]) -> list[Checkpoint]:
    """:func:`_checkpoint` of each row, in the stored order."""
    return [cp for cp in (_checkpoint(*r) for r in rows) if cp is not None]


def _compute(
    conn: sqlite3.Connection,
    shop: str,
    order_ids: Collection[str],
    settings: RuleSettings | None,
    held: HeldCheckpoints | None = None,
) -> tuple[dict[str, FactsRow], _Inputs | None]:
    if settings is None:
        settings, _ = stored_settings(conn, shop)
    ctx = _shop(conn, shop, settings)
    ids = sorted({str(o) for o in order_ids})
    orders = _by(conn, _ORDERS_SQL, shop, ids)
    if not orders:
        return {}, None
    inputs = _read(conn, shop, ids, held)
    finance: dict[str, list[tuple]] = {}
    for r in _by(conn, _FINANCE_SQL, shop, sorted({str(o[1] or o[0]) for o in orders})):
        finance.setdefault(r[0], []).append(r)
    out: dict[str, FactsRow] = {}
    for o in orders:
        oid = o[0]
        lines = finance.get(str(o[1] or oid), [])
        facts = order_facts(
            created_at=parse_utc(o[2]) or datetime.now(UTC),
            items=inputs.items.get(oid, []),
            parcels=inputs.parcels(oid),
            lines=[_line(t) for t in lines],
            shop=ctx.rules,
            order_statuses=[s for s in str(o[3] or "").split(",") if s],
            settings=settings,
        )
        out[oid] = (o, facts, lines, inputs.names.get(oid, []))
    return out, inputs


ORDER_FACT_COLUMNS = (
    "shop", "order_id", "order_number", "created_at", "status", "delayed_after",
    "item_statuses", "item_counts", "items", "products", "total", "currency", "promised_at",
    "rts_deadline", "rts_open", "rts_late", "rts_at", "tracking_numbers", "package_ids",
    "packages", "last_time", "last_title", "last_code", "last_location", "last_package",
    "delivered_at", "settlement_lines", "settlement_state", "settlement_net",
    "settlement_paid", "settlement_components", "net", "paid", "item_price", "commission",
    "payment_fee", "shipping", "reversals", "penalties", "other", "statements",
    "last_transaction", "updated_at", "buyer_name", "payment_method", "remarks", "synced_at",
)  # fmt: skip
PACKAGE_FACT_COLUMNS = (
    "shop", "order_id", "position", "package_id", "tracking_number", "carrier",
    "item_counts", "rts_at", "last_time", "last_title", "last_code", "last_location",
    "checkpoints", "idle_since", "can_stick", "sorting_applies", "sc_arrived_at",
    "sc_location", "sc_inferred", "sc_handed_over", "sc_days", "sc_late", "delivered_at",
    "final",
)  # fmt: skip
#: Where each of an answer's values sits in a facts row (:mod:`.answers`).
_ANSWER_OF_ORDER = itemgetter(*(ORDER_FACT_COLUMNS.index(c) for c in answers.ORDER_COLUMNS))
_ANSWER_OF_PARCEL = itemgetter(*(PACKAGE_FACT_COLUMNS.index(c) for c in answers.PARCEL_COLUMNS))


def _products(items: Sequence[str]) -> str:
    counts: dict[str, int] = {}
    for name in items:
        if name:
            counts[name] = counts.get(name, 0) + 1
    return "; ".join(f"{n}× {name}" for name, n in counts.items())


def _ts(value: datetime | None) -> int | None:
    """:func:`~.codec.epoch` of a rule's answer (always aware: made from the cache's UTC times)."""
    return None if value is None else int(value.timestamp())


#: The order facts a trace decides (:class:`~xl_lazada.rules.facts.TraceFacts`), in
#: ``ORDER_FACT_COLUMNS`` order: all an order's trace can change.
TRACE_COLUMNS = (
    "rts_late", "rts_at", "tracking_numbers", "package_ids", "packages", "last_time",
    "last_title", "last_code", "last_location", "last_package", "delivered_at",
)  # fmt: skip


def _answer_positions(columns: Sequence[str]) -> dict[int, int]:
    """Where ``columns``' values go in an answer: {answer position: position in columns}."""
    return {
        answers.ORDER_COLUMNS.index(c): i
        for i, c in enumerate(columns)
        if c in answers.ORDER_COLUMNS
    }


def _patched(
    blob: bytes | None, at: dict[int, int], values: Sequence[Any], parcels: Any = None
) -> answers.Answer | None:
    """:func:`answers.patch` with ``values`` (in the order of the columns ``at`` was made of)."""
    return answers.patch(blob, {a: values[i] for a, i in at.items()}, parcels)


def _parcel_rows(
    shop: str, oid: str, trace: TraceFacts | OrderFacts, out: list[tuple[Any, ...]]
) -> tuple[Any, ...]:
    """Append the order's ``package_facts`` rows to ``out``; returns its ``TRACE_COLUMNS``."""
    ts = _ts
    last = None
    last_pkg = None
    for pos, p in enumerate(trace.parcels):
        pl = p.last
        if pl is not None and (last is None or pl.event_time > last.event_time):
            last, last_pkg = pl, p.package_id
        out.append(
            (
                shop,
                oid,
                pos,
                p.package_id,
                p.tracking_number or None,
                p.carrier or None,
                count_text(p.item_statuses),
                ts(p.rts_at),
                None if pl is None else int(pl.event_time.timestamp()),
                None if pl is None else (pl.title or pl.status_code),
                None if pl is None else pl.status_code,
                None if pl is None else (pl.location or None),
                p.checkpoints,
                ts(p.idle_since),
                int(p.can_stick),
                int(p.sorting_applies),
                ts(p.sc_arrived_at),
                p.sc_location or None,
                int(p.sc_inferred),
                int(p.sc_handed_over),
                p.sc_days,
                int(p.sc_late),
                ts(p.delivered_at),
                int(p.final),
            )
        )
    return (
        int(trace.rts_late),
        ts(trace.rts_at),
        ", ".join(tracking_numbers(trace.parcels)),
        ",".join(p.package_id for p in trace.parcels),
        len(trace.parcels),
        None if last is None else int(last.event_time.timestamp()),
        None if last is None else (last.title or last.status_code),
        None if last is None else last.status_code,
        None if last is None else (last.location or None),
        last_pkg,
        ts(trace.delivered_at),
    )


def fact_rows(
    conn: sqlite3.Connection,
    shop: str,
    order_ids: Collection[str],
    settings: RuleSettings | None = None,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], dict[str, OrderFacts]]:
    """The ``order_facts`` and ``package_facts`` rows of the given orders (not written)."""
    return _rows(conn, shop, order_ids, settings)[:3]


def answers_in_memory(
    conn: sqlite3.Connection, shop: str, order_ids: Collection[str], settings: RuleSettings
) -> dict[str, answers.Answer]:
    """The answers of ``order_ids`` computed with ``settings`` and not stored (a read-only
    cache whose facts were made with other settings), as they would be stored."""
    order_rows, package_rows, _ = fact_rows(conn, shop, order_ids, settings)
    return dict(_answers_of(order_rows, package_rows))


def _answers_of(
    order_rows: Sequence[tuple[Any, ...]], package_rows: Sequence[tuple[Any, ...]]
) -> list[tuple[str, answers.Answer]]:
    """``(order id, answer)`` of freshly computed facts rows (no read back)."""
    by_order: dict[str, list[tuple[Any, ...]]] = {}
    for p in package_rows:
        by_order.setdefault(p[1], []).append(_ANSWER_OF_PARCEL(p))
    return [(o[1], answers.make(_ANSWER_OF_ORDER(o), by_order.get(o[1], ()))) for o in order_rows]


def _rows(
    conn: sqlite3.Connection,
    shop: str,
    order_ids: Collection[str],
    settings: RuleSettings | None,
    held: HeldCheckpoints | None = None,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], dict[str, OrderFacts], _Inputs | None]:
    computed, inputs = _compute(conn, shop, order_ids, settings, held)
    if not computed:
        return [], [], {}, None
    order_rows: list[tuple[Any, ...]] = []
    package_rows: list[tuple[Any, ...]] = []
    ts = _ts
    for oid, (o, f, lines, item_names) in computed.items():
        cur = f.currency
        traced = _parcel_rows(shop, oid, f, package_rows)
        if f.settlement_lines or lines:
            settlement = _settlement_values(
                f.settlement_lines,
                f.settlement_state,
                f.settlement_net,
                f.settlement_paid,
                f.settlement_components,
                cur,
                lines,
            )
        else:
            settlement = _NO_SETTLEMENT[:1] + (f.settlement_state,) + _NO_SETTLEMENT[2:]
        order_rows.append(
            (
                shop,
                oid,
                str(o[1] or oid),
                epoch(parse_utc(o[2])),
                f.status,
                ts(f.delayed_after),
                ",".join(f.item_statuses),
                count_text(f.item_statuses),
                len(item_names) if item_names else o[5],
                _products(item_names),
                _money(_dec(o[4]), cur),
                cur,
                ts(f.promised_at),
                ts(f.rts_deadline),
                int(f.rts_open),
                *traced,
                *settlement,
                epoch(parse_utc(o[6])),
                o[7],
                o[8],
                o[9],
                o[10],
            )
        )
    return order_rows, package_rows, {oid: v[1] for oid, v in computed.items()}, inputs


SETTLEMENT_COLUMNS = (
    "settlement_lines", "settlement_state", "settlement_net", "settlement_paid",
    "settlement_components", "net", "paid", *KINDS, "statements", "last_transaction",
)  # fmt: skip


def _settlement_values(
    count: int,
    state: str,
    net: Decimal,
    paid: Decimal,
    comps: dict[str, Decimal],
    currency: str,
    lines: Sequence[tuple[Any, ...]],
) -> tuple[Any, ...]:
    """The stored settlement columns (``SETTLEMENT_COLUMNS``) of one order."""
    if count == 0 and not lines:
        return _NO_SETTLEMENT[:1] + (state,) + _NO_SETTLEMENT[2:]
    has = count > 0
    dates = [str(t[6]) for t in lines if t[6]]
    statements = list(dict.fromkeys(str(t[5]) for t in lines if t[5]))
    return (
        count,
        state,
        str(net),
        str(paid),
        _components_json(comps),
        _money(net, currency) if has else None,
        _money(paid, currency) if has else None,
        *[_money(comps.get(k, Decimal(0)), currency) if has else None for k in KINDS],
        "; ".join(statements) or None,
        max(dates) if dates else None,
    )


def _components_json(comps: dict[str, Decimal]) -> str:
    """``json.dumps({kind: str(amount)})``, written out: decimal text needs no escaping."""
    return "{" + ", ".join(f'"{k}": "{v}"' for k, v in comps.items()) + "}"


_SETTLEMENT_IN_ANSWER = _answer_positions(SETTLEMENT_COLUMNS)
_NO_SETTLEMENT: tuple[Any, ...] = (
    0,
    "",
    "0",
    "0",
    json.dumps({k: "0" for k in KINDS}),
    None,
    None,
    *[None for _ in KINDS],
    None,
    None,
)


def refresh_settlements(conn: sqlite3.Connection, shop: str, order_ids: Collection[str]) -> int:
    """Recompute only the settlement facts of ``order_ids`` (new or changed finance lines:
    nothing else of the order depends on them). Same rule (``settled``) and same columns as
    :func:`refresh_facts`; orders without facts yet get them when the order is written."""
    ids = sorted({str(o) for o in order_ids if o})
    if not ids:
        return 0
    with no_cycle_collection():
        return _refresh_settlements(conn, shop, ids)


def _refresh_settlements(conn: sqlite3.Connection, shop: str, ids: list[str]) -> int:
    rows = _by(
        conn,
        "SELECT f.order_id, f.order_number, f.currency, a.answer FROM json_each(?) j"
        " CROSS JOIN order_facts f LEFT JOIN order_answers a"
        " ON a.shop = f.shop AND a.order_id = f.order_id"
        " WHERE f.shop = ? AND f.order_id = j.value",
        shop,
        ids,
    )
    finance: dict[str, list[tuple]] = {}
    for r in _by(conn, _FINANCE_SQL, shop, sorted({r[1] for r in rows})):
        finance.setdefault(r[0], []).append(r)
    updates = []
    packed: list[tuple[str, answers.Answer]] = []
    unpacked: list[str] = []
    for oid, number, currency, answer in rows:
        lines = finance.get(number, [])
        s = settled([_line(t) for t in lines])
        comps = {k: s.totals.get(k, Decimal(0)) for k in KINDS}
        values = _settlement_values(
            s.lines, s.state, s.net, s.paid_amount, comps, currency or "", lines
        )
        updates.append((*values, shop, oid))
        new = _patched(answer, _SETTLEMENT_IN_ANSWER, values)
        if new is None:
            unpacked.append(oid)
        else:
            packed.append((oid, new))
    sets = ", ".join(f"{c} = ?" for c in SETTLEMENT_COLUMNS)
    conn.executemany(f"UPDATE order_facts SET {sets} WHERE shop = ? AND order_id = ?", updates)
    answers.write(conn, shop, packed)
    if unpacked:
        answers.repack(conn, shop, unpacked)
    if updates:
        bump_generation(conn)
    return len(updates)


def _line(t: tuple[Any, ...]) -> Line:
    return Line(
        fee_type=str(t[1] or "").strip(),
        fee_name=str(t[2] or "").strip(),
        amount=_dec(t[3]) or Decimal(0),
        paid=bool(t[4]),
    )


_INSERT_ORDER = (
    f"INSERT OR REPLACE INTO order_facts ({', '.join(ORDER_FACT_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(ORDER_FACT_COLUMNS))})"
)
_INSERT_PACKAGE = (
    f"INSERT INTO package_facts ({', '.join(PACKAGE_FACT_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(PACKAGE_FACT_COLUMNS))})"
)


def refresh_facts(
    conn: sqlite3.Connection,
    shop: str,
    order_ids: Collection[str],
    *,
    traced_at: datetime | None = None,
    checkpoints: HeldCheckpoints | None = None,
) -> int:
    """Recompute and store the facts of ``order_ids`` (call inside the write transaction).

    Also mirrors each parcel's latest checkpoint into ``packages`` (last_event_at,
    last_status_code: the sync's trace plan reads them); with ``traced_at`` (a trace was
    just stored) the sync's ``packages.final`` flag is set from the same rule the sheets
    show. The rules' ready-to-ship time stays in the facts (``package_facts.rts_at``):
    ``packages.ready_to_ship_at`` holds only what Lazada sent, an input of the rules.
    ``checkpoints``: every stored checkpoint of some packages, as the caller (the cache's
    trace writer) has just read and written them; the others are read.
    Returns the number of orders written; the cache generation counts one change.
    """
    ids = sorted({str(o) for o in order_ids if o})
    if not ids:
        return 0
    with no_cycle_collection():
        written = _refresh_facts(conn, shop, ids, traced=traced_at is not None, held=checkpoints)
        bump_generation(conn)
        return written


def _refresh_facts(
    conn: sqlite3.Connection,
    shop: str,
    ids: list[str],
    *,
    traced: bool,
    held: HeldCheckpoints | None = None,
) -> int:
    """:func:`refresh_facts` without counting a generation (the caller counts one)."""
    settings, fp = stored_settings(conn, shop)
    if fp is None:
        set_settings(conn, shop, settings)
    written = 0
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        order_rows, package_rows, facts, inputs = _rows(conn, shop, chunk, settings, held)
        conn.executemany(_INSERT_ORDER, order_rows)
        answers.write(conn, shop, _answers_of(order_rows, package_rows))
        parcels = [f.parcels for f in facts.values()]
        _write_parcels(conn, shop, chunk, package_rows, parcels, inputs, traced=traced)
        written += len(order_rows)
    return written


def refresh_trace_facts(
    conn: sqlite3.Connection,
    shop: str,
    order_ids: Collection[str],
    *,
    checkpoints: HeldCheckpoints | None = None,
) -> int:
    """Recompute what a trace decides of ``order_ids`` (``TRACE_COLUMNS`` and the package
    facts; call inside the write transaction that stored only their traces). The same
    rules as :func:`refresh_facts` (``trace_facts`` is part of ``order_facts``), without
    reading or rewriting what a trace cannot change (finance lines, item names, status).
    Sets ``packages.final`` as ``refresh_facts(traced_at=...)`` does; orders without facts
    yet get all of theirs. ``checkpoints`` as for :func:`refresh_facts`. Returns the number
    of orders written; the cache generation counts one change, however many batches."""
    ids = sorted({str(o) for o in order_ids if o})
    if not ids:
        return 0
    with no_cycle_collection():
        written = _refresh_trace(conn, shop, ids, checkpoints)
        bump_generation(conn)
        return written


_TRACE_ORDERS_SQL = (
    "SELECT o.order_id, o.created_at, o.statuses, a.answer FROM json_each(?) j"
    " CROSS JOIN orders o JOIN order_facts f ON f.shop = o.shop AND f.order_id = o.order_id"
    " LEFT JOIN order_answers a ON a.shop = o.shop AND a.order_id = o.order_id"
    " WHERE o.shop = ? AND o.order_id = j.value"
)
_TRACE_IN_ANSWER = _answer_positions(TRACE_COLUMNS)
_UPDATE_TRACE = (
    f"UPDATE order_facts SET {', '.join(f'{c} = ?' for c in TRACE_COLUMNS)}"
    " WHERE shop = ? AND order_id = ?"
)


def _refresh_trace(
    conn: sqlite3.Connection, shop: str, ids: list[str], held: HeldCheckpoints | None
) -> int:
    settings, fp = stored_settings(conn, shop)
    if fp is None:  # no facts kept for this shop yet: make all of them
        return _refresh_facts(conn, shop, ids, traced=True, held=held)
    rules = _shop(conn, shop, settings).rules
    written = 0
    without: list[str] = []  # orders with no facts yet
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        orders = _by(conn, _TRACE_ORDERS_SQL, shop, chunk)
        found = sorted(o[0] for o in orders)
        without += sorted(set(chunk) - set(found))
        if not orders:
            continue
        inputs = _read(conn, shop, found, held)
        package_rows: list[tuple[Any, ...]] = []
        updates = []
        parcels = []
        packed: list[tuple[str, answers.Answer]] = []
        unpacked: list[str] = []
        for oid, created, statuses, answer in orders:
            trace = trace_facts(
                created_at=parse_utc(created) or datetime.now(UTC),
                items=inputs.items.get(oid, []),
                parcels=inputs.parcels(oid),
                shop=rules,
                order_statuses=[s for s in str(statuses or "").split(",") if s],
                settings=settings,
            )
            first = len(package_rows)
            values = _parcel_rows(shop, oid, trace, package_rows)
            updates.append((*values, shop, oid))
            parcels.append(trace.parcels)
            own = map(_ANSWER_OF_PARCEL, package_rows[first:])
            new = _patched(answer, _TRACE_IN_ANSWER, values, own)
            if new is None:
                unpacked.append(oid)
            else:
                packed.append((oid, new))
        conn.executemany(_UPDATE_TRACE, updates)
        answers.write(conn, shop, packed)
        _write_parcels(conn, shop, found, package_rows, parcels, inputs, traced=True)
        if unpacked:
            answers.repack(conn, shop, unpacked)
        written += len(orders)
    if without:
        written += _refresh_facts(conn, shop, without, traced=True, held=held)
    return written


def _write_parcels(
    conn: sqlite3.Connection,
    shop: str,
    order_ids: list[str],
    package_rows: list[tuple[Any, ...]],
    parcels: Iterable[tuple[ParcelFacts, ...]],
    inputs: _Inputs | None,
    *,
    traced: bool,
) -> None:
    """Replace the orders' ``package_facts`` rows, and update their ``packages`` rows where
    the mirrored latest checkpoint (and, after a trace, the final flag) changed."""
    conn.execute(
        "DELETE FROM package_facts WHERE shop = ? AND order_id IN (SELECT value FROM json_each(?))",
        (shop, _ids(order_ids)),
    )
    conn.executemany(_INSERT_PACKAGE, package_rows)
    stored = {r[1]: r for rows in (inputs.packages.values() if inputs else ()) for r in rows}
    updates = []
    for group in parcels:
        for p in group:
            last_at = iso_utc(p.last.event_time) if p.last else None
            code = p.last.status_code if p.last else None
            row = stored.get(p.package_id)
            final = int(p.final) if traced else (row[7] if row is not None else None)
            if row is None or (last_at, code, final) != (row[5], row[6], row[7]):
                updates.append((last_at, code, final, shop, p.package_id))
    conn.executemany(
        "UPDATE packages SET last_event_at = ?, last_status_code = ?,"
        " final = COALESCE(?, final) WHERE shop = ? AND package_id = ?",
        updates,
    )


def bump_generation(conn: sqlite3.Connection) -> None:
    """Count one more change of the facts (``xl_lazada.lookup.generation`` reads it)."""
    conn.execute("UPDATE cache_generation SET value = value + 1 WHERE id = 1")


def order_ids_for_numbers(conn: sqlite3.Connection, shop: str, numbers: Iterable[str]) -> list[str]:
    """Order ids of cached orders with these order numbers (through the reference index)."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT r.order_id FROM json_each(?) j CROSS JOIN refs r"
            " WHERE r.ref = j.value AND r.shop = ? AND r.kind = 'order_number'",
            (_ids(sorted({n for n in numbers if n})), shop),
        )
    ]


def _profile(conn: sqlite3.Connection, shop: str) -> tuple[Any, ...]:
    row = conn.execute(
        "SELECT cross_border, utc_offset_minutes FROM shops WHERE shop = ?", (shop,)
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else ()


def set_settings(conn: sqlite3.Connection, shop: str, settings: RuleSettings) -> None:
    conn.execute(
        "INSERT INTO facts_settings (shop, fingerprint, settings, observed_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (shop) DO UPDATE SET fingerprint = excluded.fingerprint,"
        " settings = excluded.settings, observed_at = excluded.observed_at",
        (
            shop,
            fingerprint(settings, _profile(conn, shop)),
            json.dumps({k: getattr(settings, k) for k in STORED_SETTINGS}),
            iso_utc(datetime.now(UTC)),
        ),
    )


def rebuild_shop(conn: sqlite3.Connection, shop: str, settings: RuleSettings | None = None) -> int:
    """Recompute every fact of ``shop`` (with ``settings``, stored for later syncs)."""
    if settings is None:
        settings, _ = stored_settings(conn, shop)
    set_settings(conn, shop, settings)
    ids = [r[0] for r in conn.execute("SELECT order_id FROM orders WHERE shop = ?", (shop,))]
    conn.execute("DELETE FROM order_facts WHERE shop = ?", (shop,))
    conn.execute("DELETE FROM package_facts WHERE shop = ?", (shop,))
    conn.execute("DELETE FROM order_answers WHERE shop = ?", (shop,))
    return refresh_facts(conn, shop, ids)


def backfill(conn: sqlite3.Connection) -> None:
    """Migration step: facts for every cached order (inside the migration's transaction).
    Also makes the table of packed answers they are written with (schema v6's; a cache made
    before v3 gets it here)."""
    conn.execute(answers.DDL)
    for (shop,) in conn.execute("SELECT shop FROM shops ORDER BY shop").fetchall():
        rebuild_shop(conn, shop)


def stale_shops(conn: sqlite3.Connection, settings: RuleSettings | None) -> list[str]:
    """Shops whose stored facts were made with other settings (or an older rules version)
    than ``settings`` (``None``: each shop's own stored settings)."""
    out = []
    for shop, fp, cb, minutes in conn.execute(
        "SELECT s.shop, f.fingerprint, s.cross_border, s.utc_offset_minutes FROM shops s"
        " LEFT JOIN facts_settings f ON f.shop = s.shop ORDER BY s.shop"
    ).fetchall():
        own = settings if settings is not None else stored_settings(conn, shop)[0]
        if fp != fingerprint(own, (int(cb), int(minutes))):
            out.append(shop)
    return out


def ensure_settings(
    conn: sqlite3.Connection,
    shops: Iterable[str],
    settings: RuleSettings | None,
    *,
    known_stale: Iterable[str] | None = None,
) -> set[str]:
    """Make the stored facts of ``shops`` match ``settings`` (``None``: each shop's stored
    ones) and the shop's profile: recompute a shop's facts when they were made otherwise,
    and keep the settings for later syncs. A cache that cannot be written returns those
    shops instead: the caller computes their facts in memory. ``known_stale``: the caller
    has just compared the fingerprints (:func:`stale_shops`) and these differed."""
    wanted = set(shops)
    candidates = stale_shops(conn, settings) if known_stale is None else sorted(known_stale)
    stale = [s for s in candidates if s in wanted]
    if not stale:
        return set()
    # A reader must not wait for a running sync (a worksheet would freeze): if the write
    # lock is not free at once, compute in memory this time.
    timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 200")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return set(stale)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")
    try:
        for shop in stale:
            rebuild_shop(conn, shop, settings)
    except sqlite3.OperationalError as exc:
        conn.execute("ROLLBACK")
        if "readonly" in str(exc) or "read-only" in str(exc):
            return set(stale)
        raise
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return set()
