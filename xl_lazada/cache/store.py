"""The :class:`Cache`: the only thing Excel formulas read, and what the sync engine writes.

Reads return ``sqlite3.Row`` lists in a stable order. Writes take the parsed models from
``xl_lazada.lazada.models``; each write method expects to run inside :meth:`Cache.transaction`
(the sync engine groups a whole chunk — orders, items, packages, refs, history and the
advanced watermark — into one), so a killed sync leaves either all of a batch or none of it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from operator import itemgetter
from typing import Any

from ..lazada.models import Order, OrderItem, OrderTrace, Seller, Statement, Transaction
from ..lazada.ventures import venture as lookup_venture
from . import db, facts
from .codec import (
    extra_fields,
    iso_date,
    iso_utc,
    money_text,
    raw_json,
    statuses_text,
)

TimeBound = datetime | date | str | None

#: Wire fields that have their own column: ``raw`` of these rows keeps only the others
#: (these tables are the big ones, and every field Lazada documents is a column).
CHECKPOINT_WIRE = frozenset(
    {"status_code", "detail_type", "title", "description", "event_time", "package_location_name"}
)
TRANSACTION_WIRE = frozenset(
    {
        "transaction_date",
        "transaction_type",
        "fee_name",
        "fee_type",
        "amount",
        "VAT_in_amount",
        "WHT_amount",
        "statement",
        "paid_status",
        "order_no",
        "orderItem_no",
        "orderItem_status",
        "shipping_provider",
        "transaction_number",
        "reference",
        "comment",
    }
)


@dataclass(frozen=True, slots=True)
class ShopInfo:
    """One synced shop. ``tz`` is the venture's fixed offset (Lazada shows times in it)."""

    name: str
    venture: str
    seller_id: str
    seller_name: str
    cross_border: bool
    tz: tzinfo


@dataclass(slots=True)
class OrderWrite:
    """What one :meth:`Cache.write_orders` call changed."""

    new_orders: int = 0
    changed_orders: int = 0
    new_items: int = 0
    status_changes: int = 0


@dataclass(slots=True)
class FinanceWrite:
    new: int = 0
    paid_changes: int = 0
    seen: int = 0
    extra: dict[str, int] = field(default_factory=dict)


_event_time = itemgetter(0)  # of a ``facts.CheckpointRow``


def _ids(values: Iterable[str]) -> str:
    """A list of ids as one JSON parameter (``IN (SELECT value FROM json_each(?))``): no
    variable-count limit however many refs a worksheet passes."""
    return json.dumps(sorted({str(v).strip() for v in values}))


def _bound(value: TimeBound) -> tuple[str, str] | None:
    """A date filter as ('instant', UTC ISO), ('local', a naive time in the shop's timezone)
    or ('day', YYYY-MM-DD in the shop's timezone). A naive datetime means the shop's local
    time, as everywhere in xl_lazada (Excel has no time zones)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return ("local", value.replace(microsecond=0).isoformat())
        return ("instant", iso_utc(value) or "")
    if isinstance(value, date):
        return ("day", value.isoformat())
    text = str(value).strip()
    if len(text) == 10:
        return ("day", date.fromisoformat(text).isoformat())
    return _bound(datetime.fromisoformat(text.replace("Z", "+00:00")))


class Cache:
    """The local SQLite cache. Open with :meth:`open`; close with :meth:`close` or ``with``."""

    def __init__(
        self, connection: sqlite3.Connection, path: str, *, readonly: bool = False
    ) -> None:
        self.connection = connection
        self.path = path
        self.readonly = readonly
        #: A SQLite connection serves the thread that opened it (see ``xl_lazada.lookup``).
        self.thread_id = threading.get_ident()
        #: Orders written in the open transaction whose facts are still to be recomputed:
        #: ``{shop: (order ids, order ids just traced, order ids with new finance lines)}``;
        #: None outside a transaction.
        self._dirty: dict[str, tuple[set[str], set[str], set[str]]] | None = None
        #: Every stored checkpoint of the packages traced in the open transaction, as
        #: :meth:`write_trace` read and wrote them (``{shop: {package id: rows}}``): the
        #: facts take them from here instead of reading them back.
        self._held: dict[str, dict[str, Sequence[facts.CheckpointRow]]] = {}

    # ---- lifecycle -------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        must_exist: bool = False,
        readonly: bool | None = None,
    ) -> Cache:
        """Open the cache at ``path`` (``None``: ``XL_LAZADA_CACHE`` or the default location).

        ``must_exist``: a missing file is a :class:`~.db.CacheError` ("no cache yet") instead
        of a new empty cache (readers). ``readonly`` (default: when the file or its folder
        cannot be written) opens without writing or migrating.
        """
        target = os.fspath(path) if path is not None else db.default_path()
        if must_exist and target != ":memory:" and not os.path.exists(target):
            raise db.CacheError(f"{target}: no cache yet (run `xl-lazada sync` first)")
        if readonly is None:
            readonly = target != ":memory:" and not db._writable(target)
        return cls(db.connect(target, readonly=readonly), target, readonly=readonly)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Cache({self.path!r})"

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write batch. A file that cannot be written (read-only, disk full, locked
        past the busy timeout) is a :class:`~.db.CacheError` naming the file, not a raw
        ``sqlite3`` error; the batch is rolled back either way."""
        try:
            with db.transaction(self.connection) as conn:
                outer = self._dirty is None
                if outer:
                    self._dirty = {}
                try:
                    yield conn
                    if outer:
                        self._flush_facts()
                finally:
                    if outer:
                        self._dirty = None
                        self._held = {}
        except sqlite3.OperationalError as exc:
            raise db.CacheError(f"{self.path}: cannot write the cache ({exc})") from None

    def _changed(
        self,
        shop: str,
        order_ids: Iterable[str],
        *,
        traced: bool = False,
        finance: bool = False,
        checkpoints: facts.HeldCheckpoints | None = None,
    ) -> None:
        """Orders whose facts must be recomputed. Inside :meth:`transaction` they are
        recomputed once, in one batch, just before it commits (a batch of 100 traces is one
        facts pass, not 100); outside one, at once. ``checkpoints``: see
        :func:`~.facts.refresh_trace_facts` (a trace's, just written)."""
        ids = [o for o in order_ids if o]
        if not ids:
            return
        if self._dirty is None:
            if finance:
                facts.refresh_settlements(self.connection, shop, ids)
            elif traced:
                facts.refresh_trace_facts(self.connection, shop, ids, checkpoints=checkpoints)
            else:
                facts.refresh_facts(self.connection, shop, ids)
            return
        plain, traced_ids, finance_ids = self._dirty.setdefault(shop, (set(), set(), set()))
        (finance_ids if finance else traced_ids if traced else plain).update(ids)
        if checkpoints:
            # A later trace of the same package read the earlier one's rows: it wins.
            self._held.setdefault(shop, {}).update(checkpoints)

    def _pending(self, shop: str, order_id: str) -> bool:
        """Is the order waiting, in this transaction, for its facts to be recomputed?"""
        if self._dirty is None or shop not in self._dirty:
            return False
        return any(order_id in ids for ids in self._dirty[shop])

    def _flush_facts(self) -> None:
        dirty, self._dirty = self._dirty or {}, {}
        held, self._held = self._held, {}
        for shop, (plain, traced_ids, finance_ids) in dirty.items():
            # Each order once, as little as its changes need: written whole → all its facts;
            # only traced → what a trace decides; only new finance lines → its settlement.
            cps = held.get(shop)
            both = plain & traced_ids
            if both:
                facts.refresh_facts(
                    self.connection, shop, both, traced_at=datetime.now(UTC), checkpoints=cps
                )
            if traced_ids - plain:
                facts.refresh_trace_facts(
                    self.connection, shop, traced_ids - plain, checkpoints=cps
                )
            if plain - traced_ids:
                facts.refresh_facts(self.connection, shop, plain - traced_ids, checkpoints=cps)
            money = finance_ids - plain  # a whole recompute read the lines too
            if money:
                facts.refresh_settlements(self.connection, shop, money)

    @property
    def schema_version(self) -> int:
        return db.schema_version(self.connection)

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.connection.execute(sql, params).fetchall()

    # ---- reads (the contract other modules use) --------------------------------------
    def shops(self) -> list[ShopInfo]:
        rows = self._all("SELECT * FROM shops ORDER BY shop")
        return [
            ShopInfo(
                name=r["shop"],
                venture=r["venture"],
                seller_id=r["seller_id"] or "",
                seller_name=r["name"] or "",
                cross_border=bool(r["cross_border"]),
                tz=timezone(timedelta(minutes=r["utc_offset_minutes"]), r["venture"]),
            )
            for r in rows
        ]

    def resolve(self, ref: str, shop: str | None = None) -> list[tuple[str, str]]:
        """``[(shop, order_id)]`` for an order number, order id, tracking number or package id."""
        text = str(ref).strip()
        if not text:
            return []
        sql = "SELECT DISTINCT shop, order_id FROM refs WHERE ref = ?"
        params: list[Any] = [text]
        if shop is not None:
            # "+shop": keep SQLite on the primary key (ref first); without statistics it
            # would otherwise scan the whole shop through refs_order (1000x slower).
            sql += " AND +shop = ?"
            params.append(shop)
        return [(r[0], r[1]) for r in self._all(sql + " ORDER BY shop, order_id", params)]

    def orders(
        self,
        shop: str | None = None,
        *,
        created_from: TimeBound = None,
        created_to: TimeBound = None,
        order_ids: Collection[str] | None = None,
    ) -> list[sqlite3.Row]:
        """Orders, oldest first. Bounds are inclusive; a ``date`` means that whole day in the
        shop's timezone, an aware ``datetime`` an exact instant, a naive one the shop's local time."""
        if order_ids is not None:
            # Driven from the id list, each a primary-key search (not a scan by date).
            sql = (
                "SELECT o.* FROM json_each(?) j CROSS JOIN orders o JOIN shops s"
                " ON s.shop = o.shop WHERE o.order_id = j.value"
            )
            params: list[Any] = [_ids(order_ids)]
            if shop is not None:
                sql += " AND o.shop = ?"
                params.append(shop)
            else:
                sql += " AND o.shop IN (SELECT shop FROM shops)"
        else:
            sql = "SELECT o.* FROM orders o JOIN shops s ON s.shop = o.shop WHERE 1 = 1"
            params = []
            if shop is not None:
                sql += " AND o.shop = ?"
                params.append(shop)
        lo, hi = _bound(created_from), _bound(created_to)
        if lo is not None:
            if lo[0] == "instant":
                sql += " AND o.created_at >= ?"
            elif lo[0] == "local":
                sql += (
                    " AND o.created_at >= strftime('%Y-%m-%dT%H:%M:%S+00:00', ?,"
                    " (-s.utc_offset_minutes) || ' minutes')"
                )
            else:
                sql += (
                    " AND o.created_at >= strftime('%Y-%m-%dT%H:%M:%S+00:00', ?,"
                    " (-s.utc_offset_minutes) || ' minutes')"
                )
            params.append(lo[1])
        if hi is not None:
            if hi[0] == "instant":
                sql += " AND o.created_at <= ?"
            elif hi[0] == "local":
                sql += (
                    " AND o.created_at <= strftime('%Y-%m-%dT%H:%M:%S+00:00', ?,"
                    " (-s.utc_offset_minutes) || ' minutes')"
                )
            else:
                sql += (
                    " AND o.created_at < strftime('%Y-%m-%dT%H:%M:%S+00:00', ?, '+1 day',"
                    " (-s.utc_offset_minutes) || ' minutes')"
                )
            params.append(hi[1])
        return self._all(sql + " ORDER BY o.shop, o.created_at, o.order_id", params)

    def _rows(
        self,
        table: str,
        column: str,
        values: Collection[str] | None,
        shop: str | None,
        order_by: str,
    ) -> list[sqlite3.Row]:
        """Rows of ``table`` (constant names only), optionally one shop's, with ``column`` in
        ``values`` (passed as one JSON parameter, so any number of ids is one query)."""
        if values is None:
            sql = f"SELECT * FROM {table} t WHERE 1 = 1"
            params: list[Any] = []
        else:
            # Driven from the value list: one index search per value, never a table scan.
            sql = f"SELECT t.* FROM json_each(?) j CROSS JOIN {table} t WHERE t.{column} = j.value"
            params = [_ids(values)]
            if shop is None:
                sql += " AND t.shop IN (SELECT shop FROM shops)"
        if shop is not None:
            sql += " AND t.shop = ?"
            params.append(shop)
        order = ", ".join(f"t.{c.strip()}" for c in order_by.split(","))
        return self._all(f"{sql} ORDER BY {order}", params)

    def items(
        self, order_ids: Collection[str] | None = None, shop: str | None = None
    ) -> list[sqlite3.Row]:
        return self._rows("items", "order_id", order_ids, shop, "shop, order_id, order_item_id")

    def packages(
        self, order_ids: Collection[str] | None = None, shop: str | None = None
    ) -> list[sqlite3.Row]:
        return self._rows("packages", "order_id", order_ids, shop, "shop, order_id, package_id")

    def checkpoints(
        self, package_ids: Collection[str] | None = None, shop: str | None = None
    ) -> list[sqlite3.Row]:
        """Tracking events, oldest first (by event time, then arrival)."""
        return self._rows("checkpoints", "package_id", package_ids, shop, "event_time, id")

    def transactions(
        self, order_numbers: Collection[str] | None = None, shop: str | None = None
    ) -> list[sqlite3.Row]:
        order_by = "shop, transaction_date, transaction_number"
        return self._rows("transactions", "order_no", order_numbers, shop, order_by)

    def statements(self, shop: str | None = None) -> list[sqlite3.Row]:
        sql = "SELECT * FROM statements"
        params: list[Any] = []
        if shop is not None:
            sql += " WHERE shop = ?"
            params.append(shop)
        return self._all(sql + " ORDER BY shop, created_at, statement_number", params)

    def history(self, shop: str | None = None, since: TimeBound = None) -> list[sqlite3.Row]:
        """Changes in the order they were observed (``since`` is inclusive, on observed_at)."""
        sql = "SELECT * FROM history WHERE 1 = 1"
        params: list[Any] = []
        if shop is not None:
            sql += " AND shop = ?"
            params.append(shop)
        b = _bound(since)
        if b is not None:
            if b[0] == "instant":
                sql += " AND observed_at >= ?"
                params.append(b[1])
            else:  # a shop-local time or day
                sql += (
                    " AND observed_at >= strftime('%Y-%m-%dT%H:%M:%S+00:00', ?,"
                    " (-(SELECT utc_offset_minutes FROM shops WHERE shops.shop = history.shop))"
                    " || ' minutes')"
                )
                params.append(b[1] if b[0] == "local" else f"{b[1]}T00:00:00")
        return self._all(sql + " ORDER BY id", params)

    def failures(self, shop: str | None = None) -> list[sqlite3.Row]:
        sql = "SELECT * FROM sync_failures"
        params: list[Any] = []
        if shop is not None:
            sql += " WHERE shop = ?"
            params.append(shop)
        return self._all(sql + " ORDER BY shop, stage, ref", params)

    def last_sync(self, shop: str) -> sqlite3.Row | None:
        """The latest finished sync run of ``shop`` (its ``summary`` is JSON)."""
        return self.connection.execute(
            "SELECT * FROM sync_runs WHERE shop = ? AND finished_at IS NOT NULL"
            " ORDER BY id DESC LIMIT 1",
            (shop,),
        ).fetchone()

    def last_good_sync(self, shop: str | None = None) -> datetime | None:
        """When ``shop`` (``None``: any shop) last finished a sync in which no stage failed
        as a whole (aware, UTC): how fresh the cache's data is. A run whose orders or
        traces stage failed did not bring the cache up to date, so it does not count."""
        from ..sync.progress import STAGES
        from .codec import parse_utc

        sql = "SELECT finished_at, summary FROM sync_runs WHERE finished_at IS NOT NULL"
        params: tuple[str, ...] = ()
        if shop is not None:
            sql += " AND shop = ?"
            params = (shop,)
        for finished_at, summary in self.connection.execute(
            sql + " ORDER BY finished_at DESC, id DESC", params
        ):
            try:
                run = json.loads(summary or "{}")
            except ValueError:
                continue
            failed = run.get("failed_stages") or [
                f[0] for f in run.get("failed", []) if f and f[0] in STAGES
            ]
            when = None if failed else parse_utc(finished_at)
            if when is not None:
                return when
        return None

    # ---- shop, watermarks, runs --------------------------------------------------------
    def upsert_shop(
        self, shop: str, venture_code: str, seller: Seller | None, *, observed_at: datetime
    ) -> None:
        """Record the shop; ``seller`` None keeps whatever profile was stored before."""
        v = lookup_venture(venture_code)
        offset = v.utc_offset_hours * 60
        sign = "+" if offset >= 0 else "-"
        tz_text = f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
        now = iso_utc(observed_at)
        self.connection.execute(
            "INSERT INTO shops (shop, venture, timezone, utc_offset_minutes, first_seen_at,"
            " synced_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (shop) DO UPDATE SET venture = excluded.venture,"
            " timezone = excluded.timezone, utc_offset_minutes = excluded.utc_offset_minutes,"
            " synced_at = excluded.synced_at",
            (shop, v.code, tz_text, offset, now, now),
        )
        if seller is not None:
            self.connection.execute(
                "UPDATE shops SET seller_id = ?, name = ?, short_code = ?, location = ?,"
                " email = ?, cross_border = ?, raw = ? WHERE shop = ?",
                (
                    seller.seller_id,
                    seller.name,
                    seller.short_code,
                    seller.location,
                    seller.email,
                    int(seller.cross_border),
                    raw_json(seller.raw),
                    shop,
                ),
            )

    def order_count(self, shop: str | None = None) -> int:
        """How many orders the cache holds for ``shop`` (``None``: every shop)."""
        sql = "SELECT COUNT(*) FROM orders"
        params: tuple[str, ...] = ()
        if shop is not None:
            sql, params = sql + " WHERE shop = ?", (shop,)
        return int(self.connection.execute(sql, params).fetchone()[0])

    def has_shop(self, shop: str) -> bool:
        return (
            self.connection.execute("SELECT 1 FROM shops WHERE shop = ?", (shop,)).fetchone()
            is not None
        )

    def watermark(self, shop: str, name: str) -> str | None:
        row = self.connection.execute(
            "SELECT value FROM watermarks WHERE shop = ? AND name = ?", (shop, name)
        ).fetchone()
        return row[0] if row else None

    def set_watermark(self, shop: str, name: str, value: str, *, observed_at: datetime) -> None:
        self.connection.execute(
            "INSERT INTO watermarks (shop, name, value, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (shop, name) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            (shop, name, value, iso_utc(observed_at)),
        )

    def start_run(self, shop: str, started_at: datetime) -> int:
        cur = self.connection.execute(
            "INSERT INTO sync_runs (shop, started_at) VALUES (?, ?)", (shop, iso_utc(started_at))
        )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, finished_at: datetime, summary: Mapping[str, Any]) -> None:
        self.connection.execute(
            "UPDATE sync_runs SET finished_at = ?, summary = ? WHERE id = ?",
            (iso_utc(finished_at), json.dumps(summary, ensure_ascii=False), run_id),
        )

    # ---- failures --------------------------------------------------------------------
    def record_failure(
        self, shop: str, stage: str, ref: str, error: str, *, observed_at: datetime
    ) -> None:
        now = iso_utc(observed_at)
        line = " ".join(str(error).split())[:500]
        self.connection.execute(
            "INSERT INTO sync_failures (shop, stage, ref, error, first_failed_at, last_failed_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (shop, stage, ref) DO UPDATE SET"
            " error = excluded.error, last_failed_at = excluded.last_failed_at,"
            " attempts = attempts + 1",
            (shop, stage, ref, line, now, now),
        )

    def clear_failures(self, shop: str, stage: str, refs: Iterable[str]) -> None:
        self.connection.execute(
            "DELETE FROM sync_failures WHERE shop = ? AND stage = ?"
            " AND ref IN (SELECT value FROM json_each(?))",
            (shop, stage, _ids(refs)),
        )

    # ---- orders and items ------------------------------------------------------------
    def order_states(self, shop: str, order_ids: Collection[str]) -> dict[str, tuple[str, str]]:
        """``{order_id: (updated_at, statuses)}`` of the given orders already cached."""
        rows = self._all(
            "SELECT order_id, updated_at, statuses FROM orders WHERE shop = ?"
            " AND order_id IN (SELECT value FROM json_each(?))",
            (shop, _ids(order_ids)),
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    def orders_without_items(self, shop: str, order_ids: Collection[str]) -> list[str]:
        """Those of ``order_ids`` cached with no item rows (their items were never fetched)."""
        rows = self._all(
            "SELECT o.order_id FROM orders o WHERE o.shop = ?"
            " AND o.order_id IN (SELECT value FROM json_each(?))"
            " AND NOT EXISTS (SELECT 1 FROM items i WHERE i.shop = o.shop"
            " AND i.order_id = o.order_id) ORDER BY o.order_id",
            (shop, _ids(order_ids)),
        )
        return [r[0] for r in rows]

    def _history(
        self,
        shop: str,
        observed: str | None,
        kind: str,
        order_id: str | None,
        entity_id: str | None,
        old: str | None,
        new: str | None,
        event_time: str | None = None,
    ) -> None:
        self.connection.execute(
            "INSERT INTO history (shop, observed_at, kind, order_id, entity_id, old_value,"
            " new_value, event_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (shop, observed, kind, order_id, entity_id, old, new, event_time),
        )

    def write_orders(
        self,
        shop: str,
        orders: Sequence[Order],
        items: Mapping[str, Sequence[OrderItem]],
        *,
        observed_at: datetime,
        record_new: bool,
    ) -> OrderWrite:
        """Upsert orders with their items, packages and refs, recording changes in history.

        Each order's item list replaces the cached one (units that vanished are removed).
        ``record_new`` also logs first sightings (after the shop's baseline sync).
        """
        out = OrderWrite()
        now = iso_utc(observed_at)
        conn = self.connection
        prev = self.order_states(shop, [o.order_id for o in orders])
        for o in orders:
            statuses = statuses_text(o.statuses)
            before = prev.get(o.order_id)
            conn.execute(
                "INSERT INTO orders (shop, order_id, order_number, created_at, updated_at,"
                " statuses, price, shipping_fee, voucher, payment_method, items_count,"
                " promised_shipping_times, buyer_name, warehouse_code, remarks, raw,"
                " first_seen_at, synced_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (shop, order_id) DO UPDATE SET"
                " order_number = excluded.order_number, created_at = excluded.created_at,"
                " updated_at = excluded.updated_at, statuses = excluded.statuses,"
                " price = excluded.price, shipping_fee = excluded.shipping_fee,"
                " voucher = excluded.voucher, payment_method = excluded.payment_method,"
                " items_count = excluded.items_count,"
                " promised_shipping_times = excluded.promised_shipping_times,"
                " buyer_name = excluded.buyer_name, warehouse_code = excluded.warehouse_code,"
                " remarks = excluded.remarks, raw = excluded.raw, synced_at = excluded.synced_at",
                (
                    shop,
                    o.order_id,
                    o.order_number,
                    iso_utc(o.created_at),
                    iso_utc(o.updated_at),
                    statuses,
                    money_text(o.price),
                    money_text(o.shipping_fee),
                    money_text(o.voucher),
                    o.payment_method,
                    o.items_count,
                    o.promised_shipping_times,
                    o.customer_name,
                    o.warehouse_code,
                    o.remarks,
                    raw_json(o.raw),
                    now,
                    now,
                ),
            )
            if before is None:
                out.new_orders += 1
                if record_new:
                    self._history(shop, now, "order_new", o.order_id, o.order_id, None, statuses)
            else:
                if before != (iso_utc(o.updated_at), statuses):
                    out.changed_orders += 1
                if before[1] != statuses:
                    self._history(
                        shop, now, "order_statuses", o.order_id, o.order_id, before[1], statuses
                    )
            self._add_order_refs(shop, o.order_id, o.order_number, known=before is not None)
            if o.order_id in items:
                self._write_items(shop, o.order_id, items[o.order_id], now, out)
        self._changed(shop, [o.order_id for o in orders])
        return out

    def _add_order_refs(self, shop: str, order_id: str, number: str | None, known: bool) -> None:
        """An order's id and number in the reference index: one row, as the number, when
        they are the same text (Lazada's usual case; an order indexed before under another
        number keeps that number's row and loses its ``order_id`` one)."""
        oid = order_id.strip()
        if oid != (number or "").strip():
            self._add_refs(shop, order_id, [("order_id", order_id), ("order_number", number)])
            return
        if known:
            self.connection.execute(
                "DELETE FROM refs WHERE ref = ? AND shop = ? AND kind = 'order_id'"
                " AND order_id = ?",
                (oid, shop, order_id),
            )
        self._add_refs(shop, order_id, [("order_number", number)])

    def _add_refs(self, shop: str, order_id: str, refs: Iterable[tuple[str, str | None]]) -> None:
        rows = [(ref.strip(), shop, kind, order_id) for kind, ref in refs if ref and ref.strip()]
        self.connection.executemany(
            "INSERT OR IGNORE INTO refs (ref, shop, kind, order_id) VALUES (?, ?, ?, ?)", rows
        )

    def _write_items(
        self, shop: str, order_id: str, items: Sequence[OrderItem], now: str | None, out: OrderWrite
    ) -> None:
        conn = self.connection
        prev = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT order_item_id, status FROM items WHERE shop = ? AND order_id = ?",
                (shop, order_id),
            )
        }
        # Lazada drops tracking_code (and may drop package_id) from an item once delivered:
        # a number seen once is kept, so lookups by it keep working (refs keep it too).
        kept = {
            r[0]: r[1]
            for r in conn.execute(
                # COALESCE keeps SQLite on items_order: on package_id it would pick
                # items_package and scan every packed item of the shop, for every order.
                "SELECT order_item_id, package_id FROM items WHERE shop = ? AND order_id = ?"
                " AND COALESCE(package_id, '') != ''",
                (shop, order_id),
            )
        }
        seen: set[str] = set()
        changed_packages: set[str] = set()
        for it in items:
            if not it.order_item_id:
                continue
            seen.add(it.order_item_id)
            conn.execute(
                "INSERT INTO items (shop, order_item_id, order_id, status, sku, shop_sku, name,"
                " item_price, paid_price, currency, shipping_type, shipment_provider,"
                " shipping_provider_type, tracking_code, package_id, promised_shipping_time,"
                " sla_time_stamp, created_at, updated_at, reason, cancel_return_initiator,"
                " order_flag, raw, first_seen_at, synced_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (shop, order_item_id) DO UPDATE SET order_id = excluded.order_id,"
                " status = excluded.status, sku = excluded.sku, shop_sku = excluded.shop_sku,"
                " name = excluded.name, item_price = excluded.item_price,"
                " paid_price = excluded.paid_price, currency = excluded.currency,"
                " shipping_type = excluded.shipping_type,"
                " shipment_provider = excluded.shipment_provider,"
                " shipping_provider_type = excluded.shipping_provider_type,"
                " tracking_code = COALESCE(NULLIF(excluded.tracking_code, ''), tracking_code),"
                " package_id = COALESCE(NULLIF(excluded.package_id, ''), package_id),"
                " promised_shipping_time = excluded.promised_shipping_time,"
                " sla_time_stamp = excluded.sla_time_stamp, created_at = excluded.created_at,"
                " updated_at = excluded.updated_at, reason = excluded.reason,"
                " cancel_return_initiator = excluded.cancel_return_initiator,"
                " order_flag = excluded.order_flag, raw = excluded.raw,"
                " synced_at = excluded.synced_at",
                (
                    shop,
                    it.order_item_id,
                    order_id,
                    it.status,
                    it.sku,
                    it.shop_sku,
                    it.name,
                    money_text(it.item_price),
                    money_text(it.paid_price),
                    it.currency,
                    it.shipping_type,
                    it.shipment_provider,
                    it.shipping_provider_type,
                    it.tracking_code,
                    it.package_id,
                    iso_utc(it.promised_shipping_time),
                    iso_utc(it.sla_time_stamp),
                    iso_utc(it.created_at),
                    iso_utc(it.updated_at),
                    it.reason,
                    it.cancel_return_initiator,
                    it.order_flag,
                    raw_json(it.raw),
                    now,
                    now,
                ),
            )
            old = prev.get(it.order_item_id)
            if old is None:
                out.new_items += 1
            elif old != it.status:
                out.status_changes += 1
                self._history(shop, now, "item_status", order_id, it.order_item_id, old, it.status)
                package = it.package_id or kept.get(it.order_item_id)
                if package:
                    changed_packages.add(package)
            if it.package_id:
                conn.execute(
                    "INSERT INTO packages (shop, package_id, order_id, tracking_number,"
                    " shipment_provider, first_seen_at) VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (shop, package_id) DO UPDATE SET order_id = excluded.order_id,"
                    " tracking_number = COALESCE(NULLIF(excluded.tracking_number, ''),"
                    " tracking_number),"
                    " shipment_provider = COALESCE(NULLIF(excluded.shipment_provider, ''),"
                    " shipment_provider)",
                    (shop, it.package_id, order_id, it.tracking_code, it.shipment_provider, now),
                )
            self._add_refs(
                shop,
                order_id,
                [("tracking_number", it.tracking_code), ("package_id", it.package_id)],
            )
        gone = set(prev) - seen
        if gone:
            conn.executemany(
                "DELETE FROM items WHERE shop = ? AND order_item_id = ?",
                [(shop, g) for g in sorted(gone)],
            )
        # A parcel no unit points at any more (repacked into a new one) and with no events
        # was never shipped: drop it. One with events stays, as history of the order.
        conn.execute(
            "DELETE FROM packages WHERE shop = ? AND order_id = ?"
            " AND NOT EXISTS (SELECT 1 FROM items i WHERE i.shop = packages.shop"
            " AND i.package_id = packages.package_id)"
            " AND NOT EXISTS (SELECT 1 FROM checkpoints c WHERE c.shop = packages.shop"
            " AND c.package_id = packages.package_id)",
            (shop, order_id),
        )
        if changed_packages:
            # An item moved on (e.g. delivered → returned): the parcel may have news again.
            conn.executemany(
                "UPDATE packages SET final = 0 WHERE shop = ? AND package_id = ?",
                [(shop, p) for p in sorted(changed_packages)],
            )

    # ---- traces ----------------------------------------------------------------------
    def due_trace_orders(
        self,
        shop: str,
        *,
        stale_before: datetime,
        traceable: Collection[str],
        trace_once: Collection[str],
    ) -> list[str]:
        """Orders with a non-final package worth tracing now.

        A package is due when it is not final, was never traced or last traced at or before
        ``stale_before``, and has an item in a ``traceable`` status — or, if never traced,
        in a ``trace_once`` status (e.g. canceled after ready-to-ship: fetch its events once).
        """
        rows = self._all(
            "SELECT DISTINCT p.order_id FROM packages p WHERE p.shop = ? AND p.final = 0"
            " AND (p.last_traced_at IS NULL OR p.last_traced_at <= ?)"
            " AND EXISTS (SELECT 1 FROM items i WHERE i.shop = p.shop"
            "   AND i.package_id = p.package_id AND (i.status IN (SELECT value FROM json_each(?))"
            "   OR (p.last_traced_at IS NULL AND i.status IN (SELECT value FROM json_each(?)))))"
            " ORDER BY p.order_id",
            (shop, iso_utc(stale_before), _ids(traceable), _ids(trace_once)),
        )
        return [r[0] for r in rows]

    def write_trace(
        self,
        shop: str,
        trace: OrderTrace,
        *,
        observed_at: datetime,
        record_new: bool,
    ) -> int:
        """Store an order's trace: new checkpoints (deduplicated), latest event, final flag.

        Returns the number of checkpoints not seen before. Every cached package of the order
        counts as traced now; it turns final when the rules say so (``parcel_final``: every unit
        final).
        """
        conn = self.connection
        now = iso_utc(observed_at)
        order_id = trace.order_id
        if (
            conn.execute(
                "SELECT 1 FROM orders WHERE shop = ? AND order_id = ?", (shop, order_id)
            ).fetchone()
            is None
        ):
            return 0
        parcels_sql = (
            "SELECT package_id, tracking_number FROM packages WHERE shop = ? AND order_id = ?"
        )
        parcels_before = set(conn.execute(parcels_sql, (shop, order_id)).fetchall())
        new = 0
        held: dict[str, list[facts.CheckpointRow]] = {}  # each package's checkpoints, all
        bare = conn.cursor()
        bare.row_factory = None  # plain tuples, as the facts read them
        for pkg in trace.packages:
            package_id = pkg.package_id or pkg.tracking_number
            if not package_id:
                continue
            conn.execute(
                "INSERT INTO packages (shop, package_id, order_id, tracking_number, first_seen_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (shop, package_id) DO UPDATE SET"
                " tracking_number = COALESCE(NULLIF(tracking_number, ''), excluded.tracking_number)",
                (shop, package_id, order_id, pkg.tracking_number or None, now),
            )
            self._add_refs(
                shop,
                order_id,
                [("package_id", package_id), ("tracking_number", pkg.tracking_number)],
            )
            # As the facts read them (``facts.CheckpointRow``, in their order), so the facts
            # of this trace need not read them back.
            stored: list[facts.CheckpointRow] = bare.execute(
                "SELECT event_time, status_code, title, location, detail_type FROM checkpoints"
                " WHERE shop = ? AND package_id = ? ORDER BY event_time, id",
                (shop, package_id),
            ).fetchall()
            have: set[tuple[str | None, str | None]] = {(r[0], r[1]) for r in stored}
            rows = []
            for ev in pkg.events:
                key = (iso_utc(ev.event_time), ev.status_code)
                if key in have:
                    continue
                have.add(key)
                rows.append(
                    (
                        shop,
                        package_id,
                        order_id,
                        key[0],
                        ev.status_code,
                        ev.detail_type,
                        ev.title,
                        ev.description,
                        ev.location,
                        raw_json(extra_fields(ev.raw, CHECKPOINT_WIRE)),
                        now,
                    )
                )
            conn.executemany(
                "INSERT INTO checkpoints (shop, package_id, order_id, event_time, status_code,"
                " detail_type, title, description, location, raw, first_seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            new += len(rows)
            # New rows get higher ids: after the stored ones at equal times (a stable sort).
            stored += [(r[3], r[4], r[6], r[8], r[5]) for r in rows]
            held[package_id] = sorted(stored, key=_event_time) if rows else stored
            if record_new and rows:
                conn.executemany(
                    "INSERT INTO history (shop, observed_at, kind, order_id, entity_id,"
                    " old_value, new_value, event_time) VALUES (?, ?, 'checkpoint', ?, ?, NULL, ?, ?)",
                    [(shop, now, order_id, package_id, r[4], r[3]) for r in rows],
                )
        conn.execute(
            "UPDATE packages SET last_traced_at = ? WHERE shop = ? AND order_id = ?",
            (now, shop, order_id),
        )
        # Ready-to-ship time, latest event and the final flag come from the rules.
        unchanged = (
            new == 0
            and set(conn.execute(parcels_sql, (shop, order_id)).fetchall()) == parcels_before
            and not self._pending(shop, order_id)
        )
        if unchanged:
            # Nothing new (most re-traces of parcels on their way): the stored facts stand;
            # record the rules' stored final flag as seen at this trace.
            conn.execute(
                "UPDATE packages SET final = COALESCE((SELECT pf.final FROM package_facts pf"
                " WHERE pf.shop = packages.shop AND pf.package_id = packages.package_id), final)"
                " WHERE shop = ? AND order_id = ?",
                (shop, order_id),
            )
        else:
            self._changed(shop, [order_id], traced=True, checkpoints=held)
        return new

    # ---- finance ---------------------------------------------------------------------
    def write_transactions(
        self, shop: str, txs: Iterable[Transaction], *, observed_at: datetime
    ) -> FinanceWrite:
        """Upsert finance lines by transaction number; paid-status changes go to history."""
        conn = self.connection
        now = iso_utc(observed_at)
        out = FinanceWrite()
        batch = [t for t in txs if t.transaction_number]
        # What the settlement facts read of each line: only orders with a line that is new
        # or differs there get their settlement recomputed (every sync re-reads days of lines).
        rows = conn.execute(
            "SELECT transaction_number, paid_status, transaction_date, fee_name, fee_type,"
            " amount, statement, paid, order_no FROM transactions WHERE shop = ?"
            " AND transaction_number IN (SELECT value FROM json_each(?))",
            (shop, _ids(t.transaction_number for t in batch)),
        ).fetchall()
        known: dict[str, str] = {r[0]: r[1] for r in rows}
        stored: dict[str, tuple[Any, ...]] = {r[0]: tuple(r[2:]) for r in rows}
        touched: set[str] = set()  # order numbers whose lines changed
        for t in batch:
            out.seen += 1
            before = known.get(t.transaction_number)
            line = (
                iso_date(t.transaction_date),
                t.fee_name,
                t.fee_type,
                money_text(t.amount),
                t.statement,
                int(t.paid),
                t.order_no,
            )
            was = stored.get(t.transaction_number)
            if was != line:
                touched.update(n for n in (t.order_no, was[-1] if was else None) if n)
                stored[t.transaction_number] = line
            period = t.statement_period
            conn.execute(
                "INSERT INTO transactions (shop, transaction_number, transaction_date,"
                " transaction_type, fee_name, fee_type, amount, vat_in_amount, wht_amount,"
                " statement, paid_status, paid, order_no, order_item_no, order_item_status,"
                " shipping_provider, reference, comment, raw, first_seen_at, synced_at,"
                " statement_start, statement_end)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (shop, transaction_number) DO UPDATE SET"
                " transaction_date = excluded.transaction_date,"
                " transaction_type = excluded.transaction_type, fee_name = excluded.fee_name,"
                " fee_type = excluded.fee_type, amount = excluded.amount,"
                " vat_in_amount = excluded.vat_in_amount, wht_amount = excluded.wht_amount,"
                " statement = excluded.statement, paid_status = excluded.paid_status,"
                " paid = excluded.paid, order_no = excluded.order_no,"
                " order_item_no = excluded.order_item_no,"
                " order_item_status = excluded.order_item_status,"
                " shipping_provider = excluded.shipping_provider,"
                " reference = excluded.reference, comment = excluded.comment,"
                " raw = excluded.raw, synced_at = excluded.synced_at,"
                " statement_start = excluded.statement_start,"
                " statement_end = excluded.statement_end",
                (
                    shop,
                    t.transaction_number,
                    iso_date(t.transaction_date),
                    t.transaction_type,
                    t.fee_name,
                    t.fee_type,
                    money_text(t.amount),
                    money_text(t.vat_in_amount),
                    money_text(t.wht_amount),
                    t.statement,
                    t.paid_status,
                    int(t.paid),
                    t.order_no,
                    t.order_item_no,
                    t.order_item_status,
                    t.shipping_provider,
                    t.reference,
                    t.comment,
                    raw_json(extra_fields(t.raw, TRANSACTION_WIRE)),
                    now,
                    now,
                    iso_date(period[0]) if period else None,
                    iso_date(period[1]) if period else None,
                ),
            )
            if t.transaction_number not in known:
                out.new += 1
                known[t.transaction_number] = t.paid_status  # a repeat in the same batch
            elif before != t.paid_status:
                out.paid_changes += 1
                known[t.transaction_number] = t.paid_status
                self._history(
                    shop,
                    now,
                    "paid_status",
                    None,
                    t.transaction_number,
                    before,
                    t.paid_status,
                )
        if touched:
            self._changed(shop, facts.order_ids_for_numbers(conn, shop, touched), finance=True)
        return out

    def write_statements(
        self,
        shop: str,
        statements: Iterable[Statement],
        *,
        observed_at: datetime,
        tz: tzinfo | None = None,
    ) -> FinanceWrite:
        """Upsert payout statements; a statement turning paid is recorded in history."""
        conn = self.connection
        now = iso_utc(observed_at)
        out = FinanceWrite()
        for s in statements:
            if not s.statement_number:
                continue
            out.seen += 1
            row = conn.execute(
                "SELECT paid FROM statements WHERE shop = ? AND statement_number = ?",
                (shop, s.statement_number),
            ).fetchone()
            raw = s.raw
            conn.execute(
                "INSERT INTO statements (shop, statement_number, created_at, updated_at,"
                " opening_balance, item_revenue, other_revenue_total, fees_total, subtotal1,"
                " refunds, subtotal2, closing_balance, payout, paid, raw, first_seen_at,"
                " synced_at, payout_currency, shipment_fee, shipment_fee_credit,"
                " guarantee_deposit, fees_on_refunds_total)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (shop, statement_number) DO UPDATE SET"
                " created_at = excluded.created_at, updated_at = excluded.updated_at,"
                " opening_balance = excluded.opening_balance,"
                " item_revenue = excluded.item_revenue,"
                " other_revenue_total = excluded.other_revenue_total,"
                " fees_total = excluded.fees_total, subtotal1 = excluded.subtotal1,"
                " refunds = excluded.refunds, subtotal2 = excluded.subtotal2,"
                " closing_balance = excluded.closing_balance, payout = excluded.payout,"
                " paid = excluded.paid, raw = excluded.raw, synced_at = excluded.synced_at,"
                " payout_currency = excluded.payout_currency,"
                " shipment_fee = excluded.shipment_fee,"
                " shipment_fee_credit = excluded.shipment_fee_credit,"
                " guarantee_deposit = excluded.guarantee_deposit,"
                " fees_on_refunds_total = excluded.fees_on_refunds_total",
                (
                    shop,
                    s.statement_number,
                    iso_utc(s.created_at),
                    iso_utc(s.updated_at or s.created_at),
                    money_text(s.opening_balance),
                    money_text(s.item_revenue),
                    money_text(s.other_revenue_total),
                    money_text(s.fees_total),
                    money_text(s.subtotal1),
                    money_text(s.refunds),
                    money_text(s.subtotal2),
                    money_text(s.closing_balance),
                    money_text(s.payout),
                    int(s.paid),
                    raw_json(raw),
                    now,
                    now,
                    s.payout_currency,
                    money_text(s.shipment_fee),
                    money_text(s.shipment_fee_credit),
                    money_text(s.guarantee_deposit),
                    money_text(s.fees_on_refunds_total),
                ),
            )
            if row is None:
                out.new += 1
            elif bool(row[0]) != s.paid:
                out.paid_changes += 1
                self._history(
                    shop,
                    now,
                    "statement_paid",
                    None,
                    s.statement_number,
                    str(row[0]),
                    str(int(s.paid)),
                )
        return out

    def newest_order_update(self, shop: str) -> str | None:
        """The latest ``updated_at`` among the shop's cached orders (UTC text)."""
        row = self.connection.execute(
            "SELECT MAX(updated_at) FROM orders WHERE shop = ?", (shop,)
        ).fetchone()
        return row[0] if row else None

    def oldest_unpaid_date(self, shop: str) -> date | None:
        """The earliest transaction date still not paid (finance re-reads from there)."""
        row = self.connection.execute(
            "SELECT MIN(transaction_date) FROM transactions WHERE shop = ? AND paid = 0",
            (shop,),
        ).fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None
