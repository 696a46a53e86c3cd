"""The Lazada APIs the sandbox serves: business parameters in, Lazada's success body out.

Each handler is synchronous (the app runs it in a worker thread, since projecting the shop is
CPU work) and reads the shop at one simulated instant. Gateway checks (signature, token,
throttle) happen before a handler runs; see :mod:`.app`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import validate as V
from .validate import ApiFail
from .wire import Wire

if TYPE_CHECKING:
    from .clock import SimClock
    from .shop import Shop
    from .tokens import TokenStore

ORDERS_MAX_LIMIT = 100
ORDERS_MAX_OFFSET = 5000
FINANCE_MAX_LIMIT = 500
FINANCE_MAX_DAYS = 180
MAX_ORDER_IDS = 50


@dataclass
class Backend:
    """What the handlers read: the shop, its clock and the token store."""

    shop: Shop
    clock: SimClock
    tokens: TokenStore
    wire: Wire = field(default_factory=Wire)
    # /orders/items/get with an unknown or another shop's id fails the whole batch (E037),
    # as Lazada documents it may; False answers for the known ids only.
    strict_batches: bool = True


Handler = Callable[[Backend, Mapping[str, str]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Api:
    method: str  # "GET" or "POST"
    handler: Handler
    needs_token: bool = True


def _unknown_order() -> ApiFail:
    return ApiFail("16", 'E016: "order_id" Invalid Order ID.')


def _bad_ids() -> ApiFail:
    return ApiFail("37", "E037: One or more order id in the list are incorrect")


def _trace_not_found() -> ApiFail:
    return ApiFail(
        "LD_INVOKE_DOWNSTREAM_RESPONSE_BLANK",
        "This order does not exist in the current country or store",
    )


# -- auth ---------------------------------------------------------------------------------
def token_create(b: Backend, p: Mapping[str, str]) -> dict[str, Any]:
    code = V.text(p, "code", required=True)
    assert code is not None
    answer = b.tokens.exchange_code(code)
    if answer is None:
        raise ApiFail("InvalidCode", "The specified authorization code is invalid or expired.")
    return answer


def token_refresh(b: Backend, p: Mapping[str, str]) -> dict[str, Any]:
    token = V.text(p, "refresh_token", required=True)
    assert token is not None
    answer = b.tokens.refresh(token)
    if answer is None:
        raise ApiFail("IllegalRefreshToken", "The specified refresh token is invalid or expired.")
    return answer


# -- seller and orders --------------------------------------------------------------------
def seller_get(b: Backend, p: Mapping[str, str]) -> dict[str, Any]:
    return {"code": "0", "data": b.shop.seller_profile()}


def orders_get(b: Backend, p: Mapping[str, str]) -> dict[str, Any]:
    created_after = V.iso_datetime(p, "created_after")
    update_after = V.iso_datetime(p, "update_after")
    if created_after is None and update_after is None:
        raise V.missing("created_after")
    created_before = V.iso_datetime(p, "created_before")
    update_before = V.iso_datetime(p, "update_before")
    status = V.status(p)
    sort_by = V.choice(p, "sort_by", ("created_at", "updated_at"), "created_at")
    direction = V.choice(p, "sort_direction", ("DESC", "ASC"), "DESC")
    offset = V.offset(p, ORDERS_MAX_OFFSET)
    limit = V.limit(p, ORDERS_MAX_LIMIT, ORDERS_MAX_LIMIT)
    total, orders = b.shop.list_orders(
        b.clock.now(),
        created_after=created_after,
        created_before=created_before,
        update_after=update_after,
        update_before=update_before,
        status=status,
        sort_by=sort_by,
        sort_direction=direction,
        offset=offset,
        limit=limit,
    )
    rendered = [b.wire.order(o) for o in orders]
    return {"code": "0", "data": {"count": len(orders), "countTotal": total, "orders": rendered}}


def order_get(b: Backend, p: Mapping[str, str]) -> dict[str, Any]:
    oid = V.order_id(p)
    order = b.shop.get_order(b.clock.now(), oid)
    if order is None:
        raise _unknown_order()
    return {"code": "0", "data": b.wire.order(order)}


def order_items_get(b: Backend, p: Mapping[str, str]) -> dict[str, Any]:
    oid = V.order_id(p)
    items = b.shop.order_items(b.clock.now(), [oid]).get(oid)
    if items is None:
        raise _unknown_order()
    return {"code": "0", "data": [b.wire.item(i) for i in items]}


def orders_items_get(b: Backend, p: Mapping[str, str]) -> dict[str, Any]:
    ids = V.order_ids(p, MAX_ORDER_IDS)
    found = b.shop.order_items(b.clock.now(), ids)
    if b.strict_batches and any(oid not in found for oid in ids):
        raise _bad_ids()
    # order_number carries the same digits as order_id (see the shop's wire form).
    data = [b.wire.batch_entry(oid, found[oid]) for oid in ids if oid in found]
    return {"code": "0", "data": data}


def order_trace(b: Backend, p: Mapping[str, str]) -> dict[str, Any]:
    oid = V.order_id(p)
    V.text(p, "locale")  # accepted, not used: the sandbox speaks English
    packages = b.shop.trace(b.clock.now(), oid)
    if packages is None:
        # Another shop's (or an unknown) order: Lazada answers an LD_ error, or success with
        # nothing in it; the varied representation gives either.
        if b.wire.varied and zlib.crc32(f"{b.wire.seed}|{oid}".encode()) % 2:
            return {"code": "0", "result": b.wire.trace_result([]) | {"module": []}}
        raise _trace_not_found()
    return {"code": "0", "result": b.wire.trace_result(packages)}


# -- finance ------------------------------------------------------------------------------
def transaction_details(b: Backend, p: Mapping[str, str]) -> dict[str, Any]:
    start = V.ymd_date(p, "start_time", required=True)
    end = V.ymd_date(p, "end_time", required=True)
    assert start is not None and end is not None
    if end < start:
        raise V.invalid("end_time", "It must not be before start_time.")
    if end - start >= timedelta(days=FINANCE_MAX_DAYS):
        raise V.invalid("end_time", f"The range must be under {FINANCE_MAX_DAYS} days.")
    trans_type = V.text(p, "trans_type") or "-1"
    if trans_type != "-1" and not trans_type.isdigit():
        raise V.invalid("trans_type")
    trade_order_id = V.text(p, "trade_order_id")
    if trade_order_id is not None:
        trade_order_id = V.order_id(p, "trade_order_id")
    # Lazada documents no offset cap here; only negatives are refused.
    offset = V.offset(p, None)
    limit = V.limit(p, FINANCE_MAX_LIMIT, FINANCE_MAX_LIMIT)
    at = b.clock.now()
    paged = getattr(b.shop, "transactions_page", None)
    if paged is not None:  # renders only the page asked for
        _, rows = paged(at, start, end, trans_type, trade_order_id, offset=offset, limit=limit)
        return {"code": "0", "data": [b.wire.transaction(r) for r in rows]}
    rows = b.shop.transactions(at, start, end, trans_type=trans_type, trade_order_id=trade_order_id)
    return {"code": "0", "data": [b.wire.transaction(r) for r in rows[offset : offset + limit]]}


def payout_status(b: Backend, p: Mapping[str, str]) -> dict[str, Any]:
    created_after = V.ymd_date(p, "created_after", required=True)
    assert created_after is not None
    statements = b.shop.payouts(b.clock.now(), created_after)
    return {"code": "0", "data": [b.wire.statement(s) for s in statements]}


APIS: dict[str, Api] = {
    "/auth/token/create": Api("POST", token_create, needs_token=False),
    "/auth/token/refresh": Api("POST", token_refresh, needs_token=False),
    "/seller/get": Api("GET", seller_get),
    "/orders/get": Api("GET", orders_get),
    "/order/get": Api("GET", order_get),
    "/order/items/get": Api("GET", order_items_get),
    "/orders/items/get": Api("GET", orders_items_get),
    "/logistic/order/trace": Api("GET", order_trace),
    "/finance/transaction/details/get": Api("GET", transaction_details),
    "/finance/payout/status/get": Api("GET", payout_status),
}


def visible_orders(b: Backend, at: datetime) -> int:
    """How many orders exist at ``at`` (for the admin info page)."""
    total, _ = b.shop.list_orders(at, created_after=datetime(1970, 1, 2, tzinfo=UTC), limit=1)
    return total
