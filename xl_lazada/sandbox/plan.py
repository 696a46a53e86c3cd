"""The simulated shop's plan: every order's whole life, decided up front.

Times are integer epoch seconds (UTC); money is integer minor units of the venture
currency (sen, cents, whole dong). The plan holds no wire strings except names and
ids: :mod:`xl_lazada.sandbox.shop` projects it at a moment and renders Lazada's wire
form. Each class converts itself to/from plain JSON values for ``to_json``/``from_json``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

DAY = 86_400
HOUR = 3_600
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic GC while building millions of small long-lived objects.

    The plan has no reference cycles worth collecting; generation passes would only cost
    time (a 100k-order shop builds about twice as fast without them).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- local calendar arithmetic on epoch seconds (fixed offsets: no DST in these ventures)


def local_day(t: int, offset: int) -> int:
    """Days since 1970-01-01 in the venture's local calendar."""
    return (t + offset) // DAY


def local_date(t: int, offset: int) -> date:
    return date.fromordinal(EPOCH_ORDINAL + local_day(t, offset))


def week_start(day: int) -> int:
    """Local day number of the Monday starting the week that contains ``day``."""
    return day - (day + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)


def sla_deadline(created: int, offset: int, hours: int = 48) -> int:
    """``hours`` after ``created``, counting only Monday-Friday in local time (LGS rule)."""
    remaining = hours * HOUR
    t = created
    while True:
        day = local_day(t, offset)
        weekday = (day + 3) % 7
        day_end = (day + 1) * DAY - offset
        if weekday >= 5:  # Saturday/Sunday: the clock does not run
            t = day_end
            continue
        step = min(remaining, day_end - t)
        t += step
        remaining -= step
        if remaining == 0:
            return t


def week_label(monday: int) -> str:
    """Lazada's statement label, e.g. ``11 May 2026 - 17 May 2026``."""
    start = date.fromordinal(EPOCH_ORDINAL + monday)
    end = start + timedelta(days=6)
    return f"{_dmy(start)} - {_dmy(end)}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _dmy(d: date) -> str:
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


# --- plan records -----------------------------------------------------------------------


@dataclass(slots=True)
class Product:
    sku: str
    shop_sku: str
    name: str
    price: int
    ship_cost: int  # what LGS charges the seller per unit
    commission_bp: int  # basis points of the paid price

    def to_json(self) -> list[Any]:
        return [self.sku, self.shop_sku, self.name, self.price, self.ship_cost, self.commission_bp]

    @classmethod
    def from_json(cls, v: list[Any]) -> Product:
        return cls(str(v[0]), str(v[1]), str(v[2]), int(v[3]), int(v[4]), int(v[5]))


@dataclass(slots=True)
class ItemPlan:
    """One unit (Lazada sends one item row per unit) and its status history."""

    item_id: str
    product: int  # index into the shop's catalog
    item_price: int
    paid_price: int
    package: int = -1  # index into the order's packages; -1 if never packed
    packed_at: int = -1  # when tracking_code/package_id appear; -1 if never
    tr_t: list[int] = field(default_factory=list)  # transition times, non-decreasing
    tr_s: list[str] = field(default_factory=list)  # status entered at each time
    reason: str = ""
    initiator: str = ""

    def add(self, t: int, status: str) -> None:
        if self.tr_t and t < self.tr_t[-1]:
            raise AssertionError(f"status {status} at {t} before {self.tr_t[-1]}")
        if self.tr_s and self.tr_s[-1] == status:
            return
        self.tr_t.append(t)
        self.tr_s.append(status)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.item_id,
            "p": self.product,
            "price": self.item_price,
            "paid": self.paid_price,
            "pkg": self.package,
            "packed": self.packed_at,
            "t": self.tr_t,
            "s": self.tr_s,
        }
        if self.reason or self.initiator:
            d["reason"] = self.reason
            d["by"] = self.initiator
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ItemPlan:
        return cls(
            item_id=str(d["id"]),
            product=int(d["p"]),
            item_price=int(d["price"]),
            paid_price=int(d["paid"]),
            package=int(d["pkg"]),
            packed_at=int(d["packed"]),
            tr_t=[int(x) for x in d["t"]],
            tr_s=[str(x) for x in d["s"]],
            reason=str(d.get("reason", "")),
            initiator=str(d.get("by", "")),
        )


Event = tuple[int, str, str, str]  # (time, status_code, location, note)


@dataclass(slots=True)
class PackagePlan:
    package_id: str
    tracking_number: str
    events: list[Event] = field(default_factory=list)  # oldest first

    def to_json(self) -> list[Any]:
        return [self.package_id, self.tracking_number, [list(e) for e in self.events]]

    @classmethod
    def from_json(cls, v: list[Any]) -> PackagePlan:
        events = [(int(e[0]), str(e[1]), str(e[2]), str(e[3])) for e in v[2]]
        return cls(str(v[0]), str(v[1]), events)


Txn = tuple[int, int, str, int, int, str]  # (appears at, item index, fee_type, amount, tax, number)


@dataclass(slots=True)
class OrderPlan:
    order_id: str
    created: int
    sla: int
    path: str  # the life story this order was generated from (for tests and debugging)
    payment_method: str
    first_name: str
    last_name: str
    address1: str
    city: str
    post_code: str
    phone: str
    remarks: str
    shipping_fee: int
    voucher: int
    gift: bool
    items: list[ItemPlan] = field(default_factory=list)
    packages: list[PackagePlan] = field(default_factory=list)
    txns: list[Txn] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.order_id,
            "created": self.created,
            "sla": self.sla,
            "path": self.path,
            "pay": self.payment_method,
            "buyer": [
                self.first_name,
                self.last_name,
                self.address1,
                self.city,
                self.post_code,
                self.phone,
            ],
            "remarks": self.remarks,
            "ship": self.shipping_fee,
            "voucher": self.voucher,
            "gift": self.gift,
            "items": [i.to_json() for i in self.items],
            "packages": [p.to_json() for p in self.packages],
            "txns": [list(t) for t in self.txns],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> OrderPlan:
        b = [str(x) for x in d["buyer"]]
        return cls(
            order_id=str(d["id"]),
            created=int(d["created"]),
            sla=int(d["sla"]),
            path=str(d["path"]),
            payment_method=str(d["pay"]),
            first_name=b[0],
            last_name=b[1],
            address1=b[2],
            city=b[3],
            post_code=b[4],
            phone=b[5],
            remarks=str(d["remarks"]),
            shipping_fee=int(d["ship"]),
            voucher=int(d["voucher"]),
            gift=bool(d["gift"]),
            items=[ItemPlan.from_json(i) for i in d["items"]],
            packages=[PackagePlan.from_json(p) for p in d["packages"]],
            txns=[
                (int(t[0]), int(t[1]), str(t[2]), int(t[3]), int(t[4]), str(t[5]))
                for t in d["txns"]
            ],
        )


@dataclass(slots=True)
class StatementPlan:
    """One weekly (Monday-Sunday) payout statement, built from that week's transactions."""

    number: str
    monday: int  # local day number of the week's Monday
    created: int  # after the week closes
    paid_at: int  # some days later
    opening: int  # negative balance carried from the previous week, else 0
    item_revenue: int
    other_revenue: int
    fees: int  # positive: what Lazada charged
    refunds: int  # positive: item price reversed

    @property
    def subtotal1(self) -> int:
        return self.item_revenue + self.other_revenue - self.fees

    @property
    def subtotal2(self) -> int:
        return self.subtotal1 - self.refunds

    @property
    def closing(self) -> int:
        return self.opening + self.subtotal2

    @property
    def payout(self) -> int:
        return max(self.closing, 0)

    def to_json(self) -> list[Any]:
        return [
            self.number,
            self.monday,
            self.created,
            self.paid_at,
            self.opening,
            self.item_revenue,
            self.other_revenue,
            self.fees,
            self.refunds,
        ]

    @classmethod
    def from_json(cls, v: list[Any]) -> StatementPlan:
        return cls(str(v[0]), *(int(x) for x in v[1:9]))


FORMAT = "xl_lazada.sandbox.shop/1"


@dataclass(slots=True)
class ShopPlan:
    """Everything a shop is: generation parameters, seller, catalog, orders, statements."""

    params: dict[str, Any]  # seed, orders, venture, now (ISO), days, future_days
    seller: dict[str, str]
    catalog: list[Product]
    orders: list[OrderPlan]  # sorted by (created, order_id)
    statements: list[StatementPlan]  # sorted by created

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "params": self.params,
            "seller": self.seller,
            "catalog": [p.to_json() for p in self.catalog],
            "orders": [o.to_json() for o in self.orders],
            "statements": [s.to_json() for s in self.statements],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ShopPlan:
        if d.get("format") != FORMAT:
            raise ValueError(
                f"not a sandbox shop file (format {d.get('format')!r}, want {FORMAT!r})"
            )
        return cls(
            params=dict(d["params"]),
            seller={str(k): str(v) for k, v in d["seller"].items()},
            catalog=[Product.from_json(p) for p in d["catalog"]],
            orders=[OrderPlan.from_json(o) for o in d["orders"]],
            statements=[StatementPlan.from_json(s) for s in d["statements"]],
        )
