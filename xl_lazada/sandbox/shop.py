"""The sandbox's simulated shop: a generated plan, projected at a simulated moment.

Every order's whole life is planned up front (:mod:`.generate`); what the API shows at
time ``T`` is a projection: an order exists once ``created <= T``, an item's status is its
last transition ``<= T``, a parcel shows the checkpoints scanned by ``T``, and so on. So
advancing the clock moves orders on by themselves, and a frozen clock is a stable world.

These methods answer in a plain form (every value a string, events named by their
push-notification milestone): the ground truth tests compare against. The HTTP layer
renders Lazada's documented shapes from it (:mod:`.wire`). The HTTP server validates
parameters and calls these methods from several threads; the memoised projections are
guarded by a lock.
"""

from __future__ import annotations

import json
import math
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from ..lazada.ventures import Venture
from ..lazada.ventures import venture as find_venture
from . import catalog as C
from .generate import generate_plan
from .plan import (
    EPOCH_ORDINAL,
    ItemPlan,
    OrderPlan,
    PackagePlan,
    ShopPlan,
    StatementPlan,
    local_date,
    local_day,
    no_gc,
    week_label,
    week_start,
)

ORDER_STATUS_FILTERS = C.ORDER_STATUS_FILTERS
SORT_FIELDS = ("created_at", "updated_at")
SHIPMENT_PROVIDER = "LGS-FM40"
_CACHE_SIZE = 16

_PENALTY_COMMENTS = {
    C.FEE_PENALTY_LATE_CANCEL: "Order canceled: not ready to ship within the SLA",
    C.FEE_PENALTY_FAKE_RTS: "Set ready to ship but never scanned by the sorting centre",
}


@dataclass(frozen=True, slots=True)
class _Projection:
    """Per-item status and per-order ``updated_at`` of the visible orders at one second."""

    visible: int  # orders[:visible] are created by then
    status: np.ndarray  # status code per visible item
    updated: np.ndarray  # epoch seconds per visible order


class Shop:
    """A simulated cross-border shop. Build it with :meth:`generate` or :meth:`from_json`."""

    def __init__(self, plan: ShopPlan) -> None:
        with no_gc():
            self._setup(plan)

    def _setup(self, plan: ShopPlan) -> None:
        plan.orders.sort(key=lambda o: (o.created, int(o.order_id)))
        self._plan = plan
        self.venture: Venture = find_venture(str(plan.params["venture"]))
        self.generated_at: datetime = datetime.fromisoformat(str(plan.params["now"]))
        self._tz = self.venture.tz
        self._offset = self.venture.utc_offset_hours * 3600
        self._decimals = C.LOCALES[self.venture.code].decimals
        self._orders: list[OrderPlan] = plan.orders
        self._by_id = {o.order_id: i for i, o in enumerate(self._orders)}
        self._statements: list[StatementPlan] = sorted(plan.statements, key=lambda s: s.created)
        self._statement_by_monday = {s.monday: s for s in self._statements}
        self._lock = threading.Lock()
        self._projections: OrderedDict[int, _Projection] = OrderedDict()
        self._matches: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._index_orders()
        self._index_transactions()

    # --- construction / persistence --------------------------------------------------------

    @classmethod
    def generate(
        cls,
        *,
        seed: int = 7,
        orders: int = 3000,
        venture: str = "MY",
        now: datetime | None = None,
        days: int = 45,
        future_days: float = 3.0,
    ) -> Shop:
        """Plan a shop deterministically: same arguments, same shop, byte for byte."""
        if now is None:
            now = datetime.now(UTC).replace(microsecond=0)
        plan = generate_plan(
            seed=seed,
            orders=orders,
            venture=find_venture(venture),
            now=now,
            days=days,
            future_days=future_days,
        )
        return cls(plan)

    def to_dict(self) -> dict[str, Any]:
        """The full plan as JSON-ready values (what ``to_json`` writes)."""
        with no_gc():
            return self._plan.to_json()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shop:
        with no_gc():
            return cls(ShopPlan.from_json(data))

    def to_json(self, path: str | Path) -> None:
        """Write the full plan (parameters, format version, every order's life) as UTF-8 JSON."""
        data = self.to_dict()
        with no_gc():
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        Path(path).write_text(text, encoding="utf-8")

    @classmethod
    def from_json(cls, path: str | Path) -> Shop:
        """Load a shop written by :meth:`to_json`; it answers exactly like the original."""
        text = Path(path).read_text(encoding="utf-8")
        with no_gc():
            data = json.loads(text)
        return cls.from_dict(data)

    @property
    def order_count(self) -> int:
        """Orders in the plan, including those not yet created at any given moment."""
        return len(self._orders)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._plan.params)

    def __repr__(self) -> str:
        return (
            f"Shop(venture={self.venture.code}, orders={len(self._orders)}, "
            f"generated_at={self.generated_at.isoformat()})"
        )

    # --- indexes ---------------------------------------------------------------------------

    def _index_orders(self) -> None:
        orders = self._orders
        n = len(orders)
        items = [it for o in orders for it in o.items]
        self._created = np.fromiter((o.created for o in orders), np.int64, n)
        self._oid = np.fromiter((int(o.order_id) for o in orders), np.int64, n)
        self._item_off = np.zeros(n + 1, np.int64)
        self._item_off[1:] = np.cumsum([len(o.items) for o in orders])
        self._tr_off = np.zeros(len(items) + 1, np.int64)
        self._tr_off[1:] = np.cumsum([len(it.tr_t) for it in items])
        total = int(self._tr_off[-1])
        self._tr_t = np.fromiter(chain.from_iterable(it.tr_t for it in items), np.int64, total)
        codes = C.STATUS_CODE
        self._tr_s = np.fromiter((codes[s] for it in items for s in it.tr_s), np.int8, total)

    def _index_transactions(self) -> None:
        refs = sorted(
            (t[0], int(t[5]), oi, ri)
            for oi, o in enumerate(self._orders)
            for ri, t in enumerate(o.txns)
        )
        self._txn_ref: list[tuple[int, int]] = [(oi, ri) for _t, _n, oi, ri in refs]
        self._txn_t: list[int] = [t for t, _n, _oi, _ri in refs]
        self._txn_day: list[int] = [local_day(t, self._offset) for t in self._txn_t]
        self._txn_by_order: dict[str, list[int]] = {}
        for k, (oi, _ri) in enumerate(self._txn_ref):
            self._txn_by_order.setdefault(self._orders[oi].order_id, []).append(k)

    # --- projection --------------------------------------------------------------------------

    def _project(self, ts: int) -> _Projection:
        with self._lock:
            hit = self._projections.get(ts)
            if hit is not None:
                self._projections.move_to_end(ts)
                return hit
        n = int(np.searchsorted(self._created, ts, side="right"))
        if n == 0:
            proj = _Projection(0, np.zeros(0, np.int8), np.zeros(0, np.int64))
        else:
            m = int(self._item_off[n])
            starts = self._tr_off[:m]
            seen = self._tr_t[: int(self._tr_off[m])] <= ts
            current = starts + np.add.reduceat(seen, starts, dtype=np.int64) - 1
            updated = np.maximum.reduceat(self._tr_t[current], self._item_off[:n])
            proj = _Projection(n, self._tr_s[current], updated)
        with self._lock:
            self._projections[ts] = proj
            while len(self._projections) > _CACHE_SIZE:
                self._projections.popitem(last=False)
        return proj

    def _matching(
        self,
        ts: int,
        bounds: tuple[int | None, int | None, int | None, int | None],
        status: str | None,
        sort_by: str,
        descending: bool,
    ) -> np.ndarray:
        """Indexes of matching orders, sorted; memoised so paging a frozen world is cheap."""
        key = (ts, bounds, status, sort_by, descending)
        with self._lock:
            hit = self._matches.get(key)
            if hit is not None:
                self._matches.move_to_end(key)
                return hit
        proj = self._project(ts)
        n = proj.visible
        created = self._created[:n]
        keep = np.ones(n, bool)
        created_after, created_before, update_after, update_before = bounds
        if created_after is not None:
            keep &= created >= created_after
        if created_before is not None:
            keep &= created <= created_before
        if update_after is not None:
            keep &= proj.updated >= update_after
        if update_before is not None:
            keep &= proj.updated <= update_before
        if status is not None and n:
            wanted = [C.STATUS_CODE[s] for s in ORDER_STATUS_FILTERS[status]]
            hit_items = np.isin(proj.status, wanted)
            keep &= np.logical_or.reduceat(hit_items, self._item_off[:n])
        idx = np.nonzero(keep)[0]
        keys = created[idx] if sort_by == "created_at" else proj.updated[idx]
        idx = idx[np.lexsort((self._oid[idx], keys))]
        if descending:
            idx = idx[::-1]
        with self._lock:
            self._matches[key] = idx
            while len(self._matches) > _CACHE_SIZE:
                self._matches.popitem(last=False)
        return idx

    # --- seller and orders -----------------------------------------------------------------

    def seller_profile(self) -> dict:
        return dict(self._plan.seller)

    def list_orders(
        self,
        at: datetime,
        *,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        update_after: datetime | None = None,
        update_before: datetime | None = None,
        status: str | None = None,
        sort_by: str = "created_at",
        sort_direction: str = "DESC",
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[int, list[dict]]:
        """``(countTotal, page)``; "after" is ``>=``, "before" is ``<=``; ties sort by order_id."""
        ts = _seconds(at)
        if status is not None:
            status = status.strip().lower() or None
            if status is not None and status not in ORDER_STATUS_FILTERS:
                raise ValueError(f"unknown order status filter {status!r}")
        if sort_by not in SORT_FIELDS:
            raise ValueError(f"sort_by must be one of {SORT_FIELDS}, got {sort_by!r}")
        direction = sort_direction.strip().upper()
        if direction not in ("ASC", "DESC"):
            raise ValueError(f"sort_direction must be ASC or DESC, got {sort_direction!r}")
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must be >= 0")
        bounds = (
            _ceil(created_after),
            _floor(created_before),
            _ceil(update_after),
            _floor(update_before),
        )
        idx = self._matching(ts, bounds, status, sort_by, direction == "DESC")
        page = idx[offset : offset + limit]
        return len(idx), [self._order_dict(self._orders[int(i)], ts) for i in page]

    def _visible(self, order_id: str | int, ts: int) -> OrderPlan | None:
        i = self._by_id.get(str(order_id).strip())
        if i is None:
            return None
        o = self._orders[i]
        return o if o.created <= ts else None

    def get_order(self, at: datetime, order_id: str) -> dict | None:
        """The order as /order/get shows it; ``None`` if unknown or not yet created."""
        ts = _seconds(at)
        o = self._visible(order_id, ts)
        return None if o is None else self._order_dict(o, ts)

    def order_items(self, at: datetime, order_ids: Sequence[str]) -> dict[str, list[dict]]:
        """Item rows (one per unit) per order; unknown or not-yet-created ids are absent."""
        ts = _seconds(at)
        out: dict[str, list[dict]] = {}
        for order_id in order_ids:
            o = self._visible(order_id, ts)
            if o is not None and o.order_id not in out:
                out[o.order_id] = [self._item_dict(o, it, ts) for it in o.items]
        return out

    def trace(self, at: datetime, order_id: str) -> list[dict] | None:
        """``package_detail_info_list`` entries: packages set ready-to-ship by ``at``."""
        ts = _seconds(at)
        o = self._visible(order_id, ts)
        if o is None:
            return None
        return [p for p in (self._package_dict(pkg, ts) for pkg in o.packages) if p]

    # --- finance ---------------------------------------------------------------------------

    def _txn_indexes(
        self, ts: int, start: date, end: date, trans_type: str, trade_order_id: str | None
    ) -> Sequence[int]:
        lo = bisect_left(self._txn_day, start.toordinal() - EPOCH_ORDINAL)
        hi = bisect_right(self._txn_day, end.toordinal() - EPOCH_ORDINAL)
        hi = min(hi, bisect_right(self._txn_t, ts))
        if lo >= hi:
            return []
        picked: Sequence[int] = range(lo, hi)
        if trade_order_id is not None and str(trade_order_id).strip():
            rows = self._txn_by_order.get(str(trade_order_id).strip(), [])
            picked = [k for k in rows if lo <= k < hi]
        fee = str(trans_type).strip() if trans_type is not None else "-1"
        if fee not in ("", "-1"):
            picked = [k for k in picked if self._txn(k)[2] == fee]
        return picked

    def _txn(self, k: int) -> tuple[int, int, str, int, int, str]:
        oi, ri = self._txn_ref[k]
        return self._orders[oi].txns[ri]

    def transactions(
        self,
        at: datetime,
        start: date,
        end: date,
        trans_type: str = "-1",
        trade_order_id: str | None = None,
    ) -> list[dict]:
        """Rows dated ``start..end`` (inclusive, local dates) that exist at ``at``, oldest first."""
        ts = _seconds(at)
        return [
            self._txn_dict(k, ts)
            for k in self._txn_indexes(ts, start, end, trans_type, trade_order_id)
        ]

    def transactions_page(
        self,
        at: datetime,
        start: date,
        end: date,
        trans_type: str = "-1",
        trade_order_id: str | None = None,
        *,
        offset: int = 0,
        limit: int = 500,
    ) -> tuple[int, list[dict]]:
        """Like :meth:`transactions` but renders only one page: ``(total, rows)``."""
        ts = _seconds(at)
        picked = self._txn_indexes(ts, start, end, trans_type, trade_order_id)
        page = picked[max(offset, 0) : max(offset, 0) + max(limit, 0)]
        return len(picked), [self._txn_dict(k, ts) for k in page]

    def payouts(self, at: datetime, created_after: date) -> list[dict]:
        """Statements created by ``at`` on or after the local date ``created_after``."""
        ts = _seconds(at)
        return [
            self._statement_dict(s, ts)
            for s in self._statements
            if s.created <= ts and local_date(s.created, self._offset) >= created_after
        ]

    # --- ground truth ----------------------------------------------------------------------

    def snapshot(self, at: datetime) -> dict:
        """Everything visible at ``at``, in wire form (tests compare client results to it)."""
        ts = _seconds(at)
        n = int(np.searchsorted(self._created, ts, side="right"))
        orders, traces = [], {}
        for o in self._orders[:n]:
            d = self._order_dict(o, ts)
            d["items"] = [self._item_dict(o, it, ts) for it in o.items]
            orders.append(d)
            traces[o.order_id] = [
                p for p in (self._package_dict(pkg, ts) for pkg in o.packages) if p
            ]
        n_txn = bisect_right(self._txn_t, ts)
        return {
            "seller": self.seller_profile(),
            "orders": orders,
            "traces": traces,
            "transactions": [self._txn_dict(k, ts) for k in range(n_txn)],
            "statements": [
                self._statement_dict(s, ts) for s in self._statements if s.created <= ts
            ],
        }

    # --- wire rendering ----------------------------------------------------------------------

    def _time(self, t: int) -> str:
        return datetime.fromtimestamp(t, self._tz).strftime("%Y-%m-%d %H:%M:%S %z")

    def _money(self, minor: int) -> str:
        if self._decimals == 0:
            return str(minor)
        sign = "-" if minor < 0 else ""
        whole, frac = divmod(abs(minor), 10**self._decimals)
        return f"{sign}{whole}.{frac:0{self._decimals}d}"

    def _order_dict(self, o: OrderPlan, ts: int) -> dict:
        statuses: list[str] = []
        updated = o.created
        for it in o.items:
            k = bisect_right(it.tr_t, ts) - 1
            if it.tr_s[k] not in statuses:
                statuses.append(it.tr_s[k])
            updated = max(updated, it.tr_t[k])
        return {
            "order_id": o.order_id,
            "order_number": o.order_id,
            "created_at": self._time(o.created),
            "updated_at": self._time(updated),
            "price": self._money(sum(it.item_price for it in o.items)),
            "payment_method": o.payment_method,
            "items_count": str(len(o.items)),
            "statuses": statuses,
            "promised_shipping_times": self._time(o.sla),
            "customer_first_name": o.first_name,
            "customer_last_name": o.last_name,
            "address_shipping": {
                "first_name": o.first_name,
                "last_name": o.last_name,
                "address1": o.address1,
                "city": o.city,
                "post_code": o.post_code,
                "country": C.LOCALES[self.venture.code].country,
                "phone": o.phone,
            },
            "shipping_fee": self._money(o.shipping_fee),
            "voucher": self._money(o.voucher),
            "warehouse_code": "dropshipping",
            "remarks": o.remarks,
            "gift_option": "1" if o.gift else "0",
            "gift_message": "",
            "national_registration_number": "",
        }

    def _item_dict(self, o: OrderPlan, it: ItemPlan, ts: int) -> dict:
        k = bisect_right(it.tr_t, ts) - 1
        status = it.tr_s[k]
        pkg = o.packages[it.package] if 0 <= it.packed_at <= ts else None
        product = self._plan.catalog[it.product]
        explained = status in ("canceled", "returned")
        return {
            "order_item_id": it.item_id,
            "order_id": o.order_id,
            "status": status,
            "name": product.name,
            "sku": product.sku,
            "shop_sku": product.shop_sku,
            "item_price": self._money(it.item_price),
            "paid_price": self._money(it.paid_price),
            "currency": self.venture.currency,
            "shipping_type": "Dropshipping",
            "shipment_provider": SHIPMENT_PROVIDER,
            "shipping_provider_type": "standard",
            "tracking_code": pkg.tracking_number if pkg else "",
            "package_id": pkg.package_id if pkg else "",
            "promised_shipping_time": self._time(o.sla),
            "sla_time_stamp": self._time(o.sla),
            "created_at": self._time(o.created),
            "updated_at": self._time(it.tr_t[k]),
            "reason": it.reason if explained else "",
            "cancel_return_initiator": it.initiator if explained else "",
            "order_flag": "GLOBAL_COLLECTION",
        }

    def _package_dict(self, pkg: PackagePlan, ts: int) -> dict | None:
        n = bisect_right(pkg.events, ts, key=lambda e: e[0])
        if n == 0:
            return None
        events = []
        for t, code, where, note in pkg.events[:n]:
            _wire_code, detail_type, title, template = C.CHECKPOINTS[code]
            events.append(
                {
                    "status_code": code,
                    "detail_type": detail_type,
                    "title": title,
                    "description": template.format(loc=where, note=note).strip(),
                    "event_time": str(t * 1000),
                    "package_location_name": where,
                }
            )
        return {
            "ofc_package_id": pkg.package_id,
            "tracking_number": pkg.tracking_number,
            "logistic_detail_info_list": events,
        }

    def _txn_dict(self, k: int, ts: int) -> dict:
        oi, ri = self._txn_ref[k]
        o = self._orders[oi]
        t, u, fee, amount, tax, number = o.txns[ri]
        it = o.items[u]
        day = self._txn_day[k]
        monday = week_start(day)
        statement = self._statement_by_monday.get(monday)
        paid = statement is not None and statement.paid_at <= ts
        fee_name, transaction_type = C.FEE_TYPES[fee]
        return {
            "transaction_date": date.fromordinal(EPOCH_ORDINAL + day).isoformat(),
            "transaction_type": transaction_type,
            "fee_name": fee_name,
            "fee_type": fee,
            "amount": self._money(amount),
            "VAT_in_amount": self._money(tax),
            "WHT_amount": self._money(0),
            "statement": week_label(monday),
            "paid_status": "Paid" if paid else "Not paid",
            "order_no": o.order_id,
            "orderItem_no": it.item_id,
            "orderItem_status": it.tr_s[bisect_right(it.tr_t, ts) - 1],
            "shipping_provider": SHIPMENT_PROVIDER,
            "transaction_number": number,
            "reference": "",
            "comment": _PENALTY_COMMENTS.get(fee, ""),
        }

    def _statement_dict(self, s: StatementPlan, ts: int) -> dict:
        paid = s.paid_at <= ts
        m = self._money
        return {
            "statement_number": s.number,
            "created_at": self._time(s.created),
            "updated_at": self._time(s.paid_at if paid else s.created),
            "opening_balance": m(s.opening),
            "item_revenue": m(s.item_revenue),
            "other_revenue_total": m(s.other_revenue),
            "fees_total": m(s.fees),
            "subtotal1": m(s.subtotal1),
            "refunds": m(s.refunds),
            "subtotal2": m(s.subtotal2),
            "closing_balance": m(s.closing),
            "payout": m(s.payout),
            "paid": "1" if paid else "0",
            # Documented fields the plan does not break out (shipping sits in fees_total).
            "shipment_fee": m(0),
            "shipment_fee_credit": m(0),
            "guarantee_deposit": m(0),
            "fees_on_refunds_total": m(0),
        }


# --- time arguments --------------------------------------------------------------------------


def _aware(dt: datetime) -> datetime:
    if not isinstance(dt, datetime) or dt.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime, got {dt!r}")
    return dt


def _seconds(at: datetime) -> int:
    """The projection moment: whole seconds (plan times are whole seconds)."""
    return math.floor(_aware(at).timestamp())


def _ceil(dt: datetime | None) -> int | None:
    return None if dt is None else math.ceil(_aware(dt).timestamp())


def _floor(dt: datetime | None) -> int | None:
    return None if dt is None else math.floor(_aware(dt).timestamp())
