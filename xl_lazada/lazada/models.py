"""Typed views of what Lazada returns, parsed once at the edge.

Every value Lazada sends is untrusted text; these classes keep it as ``str`` (ids,
tracking numbers — never numbers, they exceed a double's 15 digits), ``Decimal`` for
money and aware ``datetime`` for times. ``raw`` keeps the full wire dict for fields not
modelled here.

Real answers are less tidy than the reference's tables (see docs/lazada-notes.md): ids and
money arrive as JSON numbers or strings, booleans as ``true`` or ``"true"``, optional
fields as ``""``, ``"null"`` or missing, amounts as ``"1,152.00"`` or ``"3962.41 EUR"``,
and trace fields in snake_case or camelCase. Each reader here accepts all of those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from .dates import parse_date, parse_datetime, parse_period

Raw = dict[str, Any]

_NULLS = frozenset({"null", "none", "undefined"})


def _s(value: Any) -> str:
    """Text of a wire value: JSON numbers (ints exact), Decimals and booleans included."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # A float only gets here if a caller parsed JSON without exact ints; a 15+ digit id
        # would already be wrong, so refuse rather than store a rounded number.
        if value.is_integer() and abs(value) >= 2**53:
            raise ValueError(f"a number too large for a float arrived as one: {value!r}")
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value).strip()


def _text(value: Any) -> str:
    """Like :func:`_s` but Lazada's literal ``"null"`` (seen in trace samples) is blank."""
    text = _s(value)
    return "" if text.lower() in _NULLS else text


def _opt(value: Any) -> str | None:
    text = _text(value)
    return text or None


def _pick(d: Raw, *names: str) -> Any:
    """The first present, non-blank value among ``names`` (snake_case and camelCase)."""
    for name in names:
        value = d.get(name)
        if value is not None and _text(value) != "":
            return value
    return None


_AMOUNT = re.compile(
    r"^(?P<pre>[A-Za-z]{3}|RM|Rp|[$€£¥₱฿₫])?\s*(?P<num>[-+]?[\d,]*\.?\d+)\s*(?P<post>[A-Za-z]{3})?$"
)


def money_and_currency(value: Any) -> tuple[Decimal | None, str]:
    """Parse an amount and the currency written with it: ``"3962.41 EUR"`` →
    ``(Decimal("3962.41"), "EUR")``; ``"1,152.00"``, ``-0.62`` or ``66000.00`` → no currency.
    ``None`` for blanks; a ``ValueError`` naming the text for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, (int, Decimal)):
        return Decimal(value), ""
    if isinstance(value, float):
        return Decimal(repr(value)), ""
    text = _text(value)
    if not text:
        return None, ""
    m = _AMOUNT.match(text)
    if m is None:
        raise ValueError(f"not an amount: {text!r}")
    number = m.group("num").replace(",", "")
    try:
        amount = Decimal(number)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None
    currency = (m.group("post") or m.group("pre") or "").upper()
    return amount, currency


def money(value: Any) -> Decimal | None:
    """Parse a money amount (text or JSON number; ``"1,234.50"`` and a currency code beside it
    tolerated); ``None`` for blanks."""
    return money_and_currency(value)[0]


def _flag(value: Any) -> bool:
    return _s(value).lower() in ("1", "true", "yes", "y")


def _dt(value: Any, tz: tzinfo | None) -> datetime | None:
    return parse_datetime(value, tz) if _text(value) else None


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
            cross_border=_flag(cb),
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
            items_count = int(Decimal(_text(d.get("items_count")) or 0))
        except (ValueError, ArithmeticError):
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
            promised_shipping_times=_text(d.get("promised_shipping_times")),
            customer_name=name,
            warehouse_code=_s(d.get("warehouse_code")),
            remarks=_text(d.get("remarks")),
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
            reason=_text(d.get("reason")),
            cancel_return_initiator=_text(d.get("cancel_return_initiator")),
            order_flag=_text(d.get("order_flag")),
            raw=dict(d),
        )


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One checkpoint. ``status_code`` is Lazada's numeric code as text (``"1200"``), or an
    UPPER_CASE push-notification name in caches from older versions; what it *means* is
    looked up in :mod:`xl_lazada.rules.milestones`, never here."""

    status_code: str
    detail_type: str
    title: str
    description: str
    event_time: datetime
    location: str
    raw: Raw = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_wire(cls, d: Raw) -> TraceEvent:
        stamp = _pick(d, "event_time", "eventTime")
        if stamp is None or _s(stamp) in ("0", ""):
            stamp = _pick(d, "receive_time", "receiveTime")  # older payloads
            if _s(stamp) == "0":
                stamp = None
        when = parse_datetime(stamp)
        if when is None:
            raise ValueError("trace event without event_time")
        return cls(
            status_code=_text(_pick(d, "status_code", "statusCode", "code")),
            detail_type=_text(_pick(d, "detail_type", "detailType")),
            title=_text(d.get("title")),
            description=_text(d.get("description")),
            event_time=when,
            location=_text(_pick(d, "package_location_name", "packageLocationName")),
            raw=dict(d),
        )


def _list(value: Any) -> list[Raw]:
    """A list of objects; a single object counts as a list of one."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


@dataclass(frozen=True, slots=True)
class PackageTrace:
    package_id: str  # ofc_package_id
    tracking_number: str
    events: tuple[TraceEvent, ...]  # oldest first

    @classmethod
    def from_wire(cls, d: Raw) -> PackageTrace:
        raw_events = _list(_pick(d, "logistic_detail_info_list", "logisticDetailInfoList"))
        events = [TraceEvent.from_wire(e) for e in raw_events]
        events.sort(key=lambda e: e.event_time)
        return cls(
            package_id=_text(_pick(d, "ofc_package_id", "ofcPackageId", "package_id")),
            tracking_number=_text(_pick(d, "tracking_number", "trackingNumber")),
            events=tuple(events),
        )


@dataclass(frozen=True, slots=True)
class OrderTrace:
    """Every package of one order. ``found`` is false when Lazada said the order is not this
    shop's (or does not exist): an answer, kept so the order is not asked again at once."""

    order_id: str
    packages: tuple[PackageTrace, ...]
    found: bool = True

    @classmethod
    def from_result(cls, order_id: str, result: Any) -> OrderTrace:
        """Parse ``result`` of /logistic/order/trace: ``module[]`` as documented, ``data[]`` as
        a public integration saw it, a single object instead of a list, camelCase keys."""
        modules: list[Raw] = []
        if isinstance(result, dict):
            inner = _pick(result, "module", "data")
            modules = _list(inner)
            if not modules and _pick(result, "package_detail_info_list", "packageDetailInfoList"):
                modules = [result]
        elif isinstance(result, list):
            modules = _list(result)
        packages = [
            PackageTrace.from_wire(p)
            for m in modules
            for p in _list(_pick(m, "package_detail_info_list", "packageDetailInfoList"))
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
        when = _text(d.get("transaction_date"))
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
            reference=_text(d.get("reference")),
            comment=_text(d.get("comment")),
            raw=dict(d),
        )

    @property
    def paid(self) -> bool:
        return self.paid_status.strip().lower() in ("paid", "1", "true", "yes")

    @property
    def statement_period(self) -> tuple[date, date] | None:
        """The statement's first and last day (``"11 May 2016 - 17 May 2016"``), if readable."""
        return parse_period(self.statement)


@dataclass(frozen=True, slots=True)
class Statement:
    """A payout statement. ``payout`` is documented with its currency (``"3962.41 EUR"``):
    the amount lands in ``payout``, the code in ``payout_currency`` ("" when not given)."""

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
    payout_currency: str = ""
    updated_at: datetime | None = None
    opening_balance: Decimal | None = None
    shipment_fee: Decimal | None = None
    shipment_fee_credit: Decimal | None = None
    guarantee_deposit: Decimal | None = None
    fees_on_refunds_total: Decimal | None = None

    @classmethod
    def from_wire(cls, d: Raw, tz: tzinfo | None = None) -> Statement:
        payout, currency = money_and_currency(d.get("payout"))
        return cls(
            statement_number=_text(d.get("statement_number")),
            created_at=_dt(d.get("created_at"), tz),
            item_revenue=money(d.get("item_revenue")),
            other_revenue_total=money(d.get("other_revenue_total")),
            fees_total=money(d.get("fees_total")),
            subtotal1=money(d.get("subtotal1")),
            refunds=money(d.get("refunds")),
            subtotal2=money(d.get("subtotal2")),
            closing_balance=money(d.get("closing_balance")),
            payout=payout,
            paid=_flag(d.get("paid")),
            raw=dict(d),
            payout_currency=currency,
            updated_at=_dt(d.get("updated_at"), tz),
            opening_balance=money(d.get("opening_balance")),
            shipment_fee=money(d.get("shipment_fee")),
            shipment_fee_credit=money(d.get("shipment_fee_credit")),
            guarantee_deposit=money(d.get("guarantee_deposit")),
            fees_on_refunds_total=money(d.get("fees_on_refunds_total")),
        )
