"""Typed views of what Lazada returns, parsed once at the edge.

Every value Lazada sends is untrusted text; these classes keep it as ``str`` (ids,
tracking numbers — never numbers, they exceed a double's 15 digits), ``Decimal`` for
money and aware ``datetime`` for times. ``raw`` keeps the full wire dict for fields not
modelled here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from .dates import parse_date, parse_datetime

Raw = dict[str, Any]


def _s(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _opt(value: Any) -> str | None:
    text = _s(value)
    return text or None


def money(value: Any) -> Decimal | None:
    """Parse a money amount sent as text ("1,234.50" tolerated); ``None`` for blanks."""
    text = _s(value).replace(",", "")
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None


def _dt(value: Any, tz: tzinfo | None) -> datetime | None:
    return parse_datetime(value, tz) if _s(value) else None


@dataclass(frozen=True, slots=True)
class Seller:
    seller_id: str
    name: str
    short_code: str
    location: str
    email: str
    cross_border: bool
    raw: Raw = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_wire(cls, d: Raw) -> Seller:
        cb = d.get("cb")
        return cls(
            seller_id=_s(d.get("seller_id")),
            name=_s(d.get("name")),
            short_code=_s(d.get("short_code")),
            location=_s(d.get("location")),
            email=_s(d.get("email")),
            cross_border=str(cb).lower() in ("true", "1", "yes"),
            raw=dict(d),
        )


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    order_number: str
    created_at: datetime
    updated_at: datetime
    statuses: tuple[str, ...]  # distinct item statuses; Lazada has no order-level status
    price: Decimal | None
    shipping_fee: Decimal | None
    voucher: Decimal | None
    payment_method: str
    items_count: int
    promised_shipping_times: str  # free text from Lazada, kept as sent
    customer_name: str
    warehouse_code: str
    remarks: str
    raw: Raw = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_wire(cls, d: Raw, tz: tzinfo | None = None) -> Order:
        created = _dt(d.get("created_at"), tz)
        updated = _dt(d.get("updated_at"), tz) or created
        if created is None or updated is None:
            raise ValueError(f"order {_s(d.get('order_id'))!r} has no created_at")
        name = " ".join(
            p for p in (_s(d.get("customer_first_name")), _s(d.get("customer_last_name"))) if p
        )
        try:
            items_count = int(_s(d.get("items_count")) or 0)
        except ValueError:
            items_count = 0
        return cls(
            order_id=_s(d.get("order_id")),
            order_number=_s(d.get("order_number")) or _s(d.get("order_id")),
            created_at=created,
            updated_at=updated,
            statuses=tuple(_s(s) for s in (d.get("statuses") or []) if _s(s)),
            price=money(d.get("price")),
            shipping_fee=money(d.get("shipping_fee")),
            voucher=money(d.get("voucher")),
            payment_method=_s(d.get("payment_method")),
            items_count=items_count,
            promised_shipping_times=_s(d.get("promised_shipping_times")),
            customer_name=name,
            warehouse_code=_s(d.get("warehouse_code")),
            remarks=_s(d.get("remarks")),
            raw=dict(d),
        )


@dataclass(frozen=True, slots=True)
class OrderItem:
    order_item_id: str
    order_id: str
    status: str
    name: str
    sku: str
    shop_sku: str
    item_price: Decimal | None
    paid_price: Decimal | None
    currency: str
    shipping_type: str
    shipment_provider: str
    shipping_provider_type: str
    tracking_code: str | None  # only once packed
    package_id: str | None
    promised_shipping_time: datetime | None
    sla_time_stamp: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    reason: str
    cancel_return_initiator: str
    order_flag: str
    raw: Raw = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_wire(cls, d: Raw, tz: tzinfo | None = None) -> OrderItem:
        return cls(
            order_item_id=_s(d.get("order_item_id")),
            order_id=_s(d.get("order_id")),
            status=_s(d.get("status")),
            name=_s(d.get("name")),
            sku=_s(d.get("sku")),
            shop_sku=_s(d.get("shop_sku")),
            item_price=money(d.get("item_price")),
            paid_price=money(d.get("paid_price")),
            currency=_s(d.get("currency")),
            shipping_type=_s(d.get("shipping_type")),
            shipment_provider=_s(d.get("shipment_provider")),
            shipping_provider_type=_s(d.get("shipping_provider_type")),
            tracking_code=_opt(d.get("tracking_code")),
            package_id=_opt(d.get("package_id")),
            promised_shipping_time=_dt(d.get("promised_shipping_time"), tz),
            sla_time_stamp=_dt(d.get("sla_time_stamp"), tz),
            created_at=_dt(d.get("created_at"), tz),
            updated_at=_dt(d.get("updated_at"), tz),
            reason=_s(d.get("reason")),
            cancel_return_initiator=_s(d.get("cancel_return_initiator")),
            order_flag=_s(d.get("order_flag")),
            raw=dict(d),
        )


@dataclass(frozen=True, slots=True)
class TraceEvent:
    status_code: str  # e.g. IB_SUCCESS_FIRST_MILE_HUB, DELIVERED
    detail_type: str
    title: str
    description: str
    event_time: datetime
    location: str
    raw: Raw = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_wire(cls, d: Raw) -> TraceEvent:
        when = parse_datetime(d.get("event_time"))
        if when is None:
            raise ValueError("trace event without event_time")
        return cls(
            status_code=_s(d.get("status_code")),
            detail_type=_s(d.get("detail_type")),
            title=_s(d.get("title")),
            description=_s(d.get("description")),
            event_time=when,
            location=_s(d.get("package_location_name")),
            raw=dict(d),
        )


@dataclass(frozen=True, slots=True)
class PackageTrace:
    package_id: str  # ofc_package_id
    tracking_number: str
    events: tuple[TraceEvent, ...]  # oldest first

    @classmethod
    def from_wire(cls, d: Raw) -> PackageTrace:
        events = [TraceEvent.from_wire(e) for e in d.get("logistic_detail_info_list") or []]
        events.sort(key=lambda e: e.event_time)
        return cls(
            package_id=_s(d.get("ofc_package_id") or d.get("package_id")),
            tracking_number=_s(d.get("tracking_number")),
            events=tuple(events),
        )


@dataclass(frozen=True, slots=True)
class OrderTrace:
    order_id: str
    packages: tuple[PackageTrace, ...]

    @classmethod
    def from_result(cls, order_id: str, result: Any) -> OrderTrace:
        """Parse ``result`` of /logistic/order/trace (``module[]``, or ``data[]`` on some clients)."""
        modules = []
        if isinstance(result, dict):
            modules = result.get("module") or result.get("data") or []
        elif isinstance(result, list):
            modules = result
        packages = [
            PackageTrace.from_wire(p)
            for m in modules
            if isinstance(m, dict)
            for p in (m.get("package_detail_info_list") or [])
        ]
        return cls(order_id=str(order_id), packages=tuple(packages))


@dataclass(frozen=True, slots=True)
class Transaction:
    transaction_number: str
    transaction_date: date | None
    transaction_type: str
    fee_name: str
    fee_type: str
    amount: Decimal
    vat_in_amount: Decimal | None
    wht_amount: Decimal | None
    statement: str
    paid_status: str
    order_no: str
    order_item_no: str
    order_item_status: str
    shipping_provider: str
    reference: str
    comment: str
    raw: Raw = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_wire(cls, d: Raw) -> Transaction:
        when = _s(d.get("transaction_date"))
        return cls(
            transaction_number=_s(d.get("transaction_number")),
            transaction_date=parse_date(when) if when else None,
            transaction_type=_s(d.get("transaction_type")),
            fee_name=_s(d.get("fee_name")),
            fee_type=_s(d.get("fee_type")),
            amount=money(d.get("amount")) or Decimal(0),
            vat_in_amount=money(d.get("VAT_in_amount")),
            wht_amount=money(d.get("WHT_amount")),
            statement=_s(d.get("statement")),
            paid_status=_s(d.get("paid_status")),
            order_no=_s(d.get("order_no")),
            order_item_no=_s(d.get("orderItem_no")),
            order_item_status=_s(d.get("orderItem_status")),
            shipping_provider=_s(d.get("shipping_provider")),
            reference=_s(d.get("reference")),
            comment=_s(d.get("comment")),
            raw=dict(d),
        )

    @property
    def paid(self) -> bool:
        return self.paid_status.strip().lower() in ("paid", "1", "true", "yes")


@dataclass(frozen=True, slots=True)
class Statement:
    statement_number: str
    created_at: datetime | None
    item_revenue: Decimal | None
    other_revenue_total: Decimal | None
    fees_total: Decimal | None
    subtotal1: Decimal | None
    refunds: Decimal | None
    subtotal2: Decimal | None
    closing_balance: Decimal | None
    payout: Decimal | None
    paid: bool
    raw: Raw = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_wire(cls, d: Raw, tz: tzinfo | None = None) -> Statement:
        return cls(
            statement_number=_s(d.get("statement_number")),
            created_at=_dt(d.get("created_at"), tz),
            item_revenue=money(d.get("item_revenue")),
            other_revenue_total=money(d.get("other_revenue_total")),
            fees_total=money(d.get("fees_total")),
            subtotal1=money(d.get("subtotal1")),
            refunds=money(d.get("refunds")),
            subtotal2=money(d.get("subtotal2")),
            closing_balance=money(d.get("closing_balance")),
            payout=money(d.get("payout")),
            paid=_s(d.get("paid")) in ("1", "true", "True"),
            raw=dict(d),
        )
