"""The typed Lazada calls (orders, items, traces, finance, seller) and the API method table.

:class:`TypedCalls` is mixed into :class:`~xl_lazada.lazada.client.LazadaClient`; it only
uses ``self.call``, ``self.conn`` and the client's bounded thread pool, so paging and
batching rules live here and the wire protocol lives in ``client.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from .dates import format_iso
from .envelope import Envelope
from .errors import (
    BadRequestError,
    LazadaError,
    NotFoundError,
    ResponseFormatError,
    is_bad_order_ids,
)
from .models import Order, OrderItem, OrderTrace, Seller, Statement, Transaction
from .signing import api_path

if TYPE_CHECKING:
    from ..config import Connection

# GET or POST for every API this project knows (Lazada answers the wrong one with
# UnsupportedHTTPMethod). Anything else needs an explicit ``method=``.
API_METHODS: dict[str, str] = {
    "/auth/token/create": "POST",
    "/auth/token/refresh": "POST",
    "/seller/get": "GET",
    "/orders/get": "GET",
    "/order/get": "GET",
    "/order/items/get": "GET",
    "/orders/items/get": "GET",
    "/logistic/order/trace": "GET",
    "/finance/transaction/details/get": "GET",
    "/finance/payout/status/get": "GET",
    # Fulfilment (write actions, not used yet). Lazada's reference lists them as POST;
    # document/get as POST is (unsure) — pass method= to override.
    "/order/fulfill/pack": "POST",
    "/order/package/repack": "POST",
    "/order/package/rts": "POST",
    "/order/package/document/get": "POST",
}

# Calls that change something on Lazada's side or consume a single-use code: never repeated
# after the request may have reached Lazada (only a throttle or a refused connection is safe).
UNSAFE_TO_REPEAT: frozenset[str] = frozenset(
    {"/auth/token/create", "/order/fulfill/pack", "/order/package/repack", "/order/package/rts"}
)


def is_token_api(path: str) -> bool:
    """``/auth/token/*``: sent to the auth host, signed without an access token."""
    return api_path(path).startswith("/auth/")


MAX_OFFSET = 5000  # /orders/get refuses a larger offset (code 14)
ORDERS_PAGE = 100  # /orders/get limit <= 100 (code 19)
ITEMS_BATCH = 50  # /orders/items/get takes at most 50 ids (code 38)
FINANCE_PAGE = 500  # /finance/transaction/details/get limit <= 500
FINANCE_WINDOW_DAYS = 179  # the range must be under 180 days; windows of 179 calendar days

_END = object()
T = TypeVar("T")
R = TypeVar("R")


class OrderWindowError(LazadaError):
    """More orders share one timestamp than ``/orders/get`` can page through (offset 5000)."""


def _parse(what: str, api: str, fn: Callable[[], T]) -> T:
    """Run a model parser; malformed data from Lazada becomes a :class:`ResponseFormatError`."""
    try:
        return fn()
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ResponseFormatError(f"{api}: cannot read {what} ({exc})", api=api) from None


def _rows(payload: Any, *keys: str) -> list[dict[str, Any]]:
    """A list payload, or the first list found under ``keys`` of a dict payload."""
    if isinstance(payload, list):
        return [r for r in payload if isinstance(r, dict)]
    if isinstance(payload, dict):
        for key in keys:
            value = payload.get(key)
            if isinstance(value, list):
                return [r for r in value if isinstance(r, dict)]
    return []


def _id_value(order_id: str) -> int | str:
    """Order ids go into ``order_ids=[...]`` as JSON numbers (as Lazada documents) when numeric."""
    return int(order_id) if order_id.isdigit() else order_id


def finance_windows(
    start: date, end: date, days: int = FINANCE_WINDOW_DAYS
) -> list[tuple[date, date]]:
    """Split ``[start, end]`` (inclusive) into consecutive windows of at most ``days`` days."""
    if end < start:
        raise ValueError(f"end date {end} is before start date {start}")
    out: list[tuple[date, date]] = []
    cursor = start
    while cursor <= end:
        stop = min(end, cursor + timedelta(days=days - 1))
        out.append((cursor, stop))
        cursor = stop + timedelta(days=1)
    return out


class TypedCalls:
    """Lazada's read APIs as Python calls returning :mod:`~xl_lazada.lazada.models` objects."""

    conn: Connection
    max_workers: int

    def call(
        self, api: str, params: Mapping[str, Any] | None = None, *, method: str | None = None
    ) -> Envelope:  # pragma: no cover - provided by LazadaClient
        raise NotImplementedError

    def _executor(self) -> Executor:  # pragma: no cover - provided by LazadaClient
        raise NotImplementedError

    # -- seller -------------------------------------------------------------------------
    def seller(self) -> Seller:
        """The shop profile (``/seller/get``)."""
        payload = self.call("/seller/get").payload
        if not isinstance(payload, dict):
            raise ResponseFormatError(
                "/seller/get: no seller profile in the answer", api="/seller/get"
            )
        return _parse("the seller profile", "/seller/get", lambda: Seller.from_wire(payload))

    # -- orders -------------------------------------------------------------------------
    def iter_orders(
        self,
        *,
        update_after: datetime | None = None,
        created_after: datetime | None = None,
        update_before: datetime | None = None,
        created_before: datetime | None = None,
        status: str | None = None,
        page_size: int = ORDERS_PAGE,
    ) -> Iterator[Order]:
        """Every matching order exactly once, oldest watermark first.

        Sorted ascending by ``updated_at`` when ``update_after`` is given (else
        ``created_at``). After each full page the after-filter moves to the last timestamp
        seen and the offset restarts at 0 (so offset 5000 is never reached unless one
        timestamp holds a whole page); orders on that boundary timestamp already yielded
        are skipped (only their ids are kept, so memory stays flat). On a live shop an
        order updated during the read is yielded again with its newer data; none is missed.
        """
        if update_after is None and created_after is None:
            raise ValueError("give update_after or created_after (Lazada requires one)")
        if not 1 <= page_size <= ORDERS_PAGE:
            raise ValueError(f"page_size must be 1..{ORDERS_PAGE}")
        for name, value in (
            ("update_after", update_after),
            ("created_after", created_after),
            ("update_before", update_before),
            ("created_before", created_before),
        ):
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} is a naive datetime; give it a timezone")
        tz = self.conn.tz
        by_update = update_after is not None
        after_name = "update_after" if by_update else "created_after"
        window_start: datetime = update_after if by_update else created_after  # type: ignore[assignment]
        fixed: dict[str, Any] = {
            "sort_by": "updated_at" if by_update else "created_at",
            "sort_direction": "ASC",
            "limit": page_size,
            "status": status,
            "update_before": format_iso(update_before, tz) if update_before else None,
            "created_before": format_iso(created_before, tz) if created_before else None,
        }
        if by_update and created_after is not None:
            fixed["created_after"] = format_iso(created_after, tz)

        def mark(order: Order) -> datetime:
            return order.updated_at if by_update else order.created_at

        boundary: set[str] = set()  # ids yielded at window_start (skip them in this window)
        last_ts: datetime | None = None
        at_last: set[str] = set()  # ids yielded at last_ts
        offset = 0
        while True:
            # Ask from one second early: Lazada documents "after or on", but if a gateway
            # meant "strictly after", orders on the boundary second would be lost. The extra
            # second's orders were yielded before and are skipped below.
            asked_from = window_start - timedelta(seconds=1)
            params = {**fixed, after_name: format_iso(asked_from, tz), "offset": offset}
            payload = self.call("/orders/get", params).payload
            raw_orders = _rows(payload, "orders")
            for raw in raw_orders:
                order = _parse("an order", "/orders/get", partial(Order.from_wire, raw, tz))
                ts = mark(order)
                if ts < window_start or (ts == window_start and order.order_id in boundary):
                    continue  # already yielded in an earlier window (or before the filter)
                if last_ts is None or ts > last_ts:
                    last_ts, at_last = ts, {order.order_id}
                else:
                    at_last.add(order.order_id)
                yield order
            if len(raw_orders) < page_size:
                return
            if last_ts is not None and last_ts > window_start:
                # Re-anchor after every page rather than growing the offset: on a live shop
                # an order updated mid-read leaves its place, shifting the rest down, and an
                # offset would then step over an order never yielded (lost to the watermark).
                window_start, boundary, offset = last_ts, set(at_last), 0
                continue
            offset += len(raw_orders)  # a whole page on one timestamp: page within it
            if offset > MAX_OFFSET:  # Lazada would refuse it
                raise OrderWindowError(
                    f"/orders/get: more than {MAX_OFFSET} orders share the timestamp "
                    f"{format_iso(window_start, tz)}; narrow the query (status, a before-filter)",
                    api="/orders/get",
                )

    def get_order(self, order_id: str) -> Order | None:
        """One order by id, or ``None`` when Lazada does not know it (another shop's, a typo)."""
        try:
            payload = self.call("/order/get", {"order_id": str(order_id)}).payload
        except BadRequestError as exc:
            # Lazada: E016 '"order_id" Invalid Order ID' (or InvalidParameter naming order_id)
            if exc.code == "16" or exc.parameter == "order_id":
                return None
            raise
        if not isinstance(payload, dict) or not payload:
            return None
        return _parse("the order", "/order/get", lambda: Order.from_wire(payload, self.conn.tz))

    def order_items(self, order_id: str) -> list[OrderItem]:
        """The items of one order (one row per unit)."""
        payload = self.call("/order/items/get", {"order_id": str(order_id)}).payload
        tz = self.conn.tz
        return [
            _parse("an order item", "/order/items/get", partial(OrderItem.from_wire, r, tz))
            for r in _rows(payload, "order_items", "items")
        ]

    def _items_batch(self, ids: list[str]) -> dict[str, list[OrderItem]]:
        api = "/orders/items/get"
        payload = self.call(api, {"order_ids": [_id_value(i) for i in ids]}).payload
        tz = self.conn.tz
        out: dict[str, list[OrderItem]] = {}
        for entry in _rows(payload, "orders", "data"):
            oid = str(entry.get("order_id") or "").strip()
            if not oid:
                continue
            items = [
                _parse("an order item", api, partial(OrderItem.from_wire, r, tz))
                for r in _rows(entry.get("order_items"))
            ]
            out.setdefault(oid, []).extend(items)
        return out

    def _items_split(self, ids: list[str]) -> dict[str, list[OrderItem]]:
        """One batch; if Lazada refuses it because an id is wrong (E037 fails the whole list),
        halve it until the bad ids stand alone, so the good orders are still read. A bad id
        is left out of the answer (the caller may ask for it alone and record why)."""
        try:
            return self._items_batch(ids)
        except BadRequestError as exc:
            if not is_bad_order_ids(exc):
                raise
            if len(ids) == 1:
                return {}
        mid = len(ids) // 2
        out = self._items_split(ids[:mid])
        out.update(self._items_split(ids[mid:]))
        return out

    def orders_items(self, order_ids: Iterable[str]) -> dict[str, list[OrderItem]]:
        """Items of many orders: batches of 50 ids per call, run concurrently (bounded).

        Keys are the order ids Lazada answered for: an unknown id is absent, whether Lazada
        skipped it or refused the batch for it (E037, then the batch is bisected so one bad
        id costs about 2·log2(50) extra calls, not the other 49 orders). The first failing
        batch's other errors are raised once the others have stopped.
        """
        ids = list(dict.fromkeys(s for s in (str(i).strip() for i in order_ids) if s))
        batches = [ids[i : i + ITEMS_BATCH] for i in range(0, len(ids), ITEMS_BATCH)]
        out: dict[str, list[OrderItem]] = {}
        if len(batches) == 1:
            out.update(self._items_split(batches[0]))
            return out
        for part in self._executor().map(self._items_split, batches):
            out.update(part)
        return out

    # -- tracking -----------------------------------------------------------------------
    def trace(self, order_id: str) -> OrderTrace:
        """Checkpoints of every package of an order (empty before ready-to-ship, and
        ``found=False`` when Lazada says the order is not this shop's)."""
        api = "/logistic/order/trace"
        try:
            payload = self.call(api, {"order_id": str(order_id)}).payload
        except NotFoundError:
            # LD_INVOKE_DOWNSTREAM_RESPONSE_BLANK / LD_INPUT_PARAM_VALID: not this shop's order
            # (or none at all). An answer, not a fault: nothing to show, nothing to retry.
            return OrderTrace(str(order_id), (), found=False)
        return _parse("the trace", api, lambda: OrderTrace.from_result(str(order_id), payload))

    def traces(self, order_ids: Iterable[str]) -> Iterator[tuple[str, OrderTrace | LazadaError]]:
        """Trace many orders concurrently (at most ``max_workers`` at once), as they finish.

        A failing order is yielded with its error instead of stopping the others.
        """
        yield from self._each_concurrently(order_ids, self.trace)

    def _each_concurrently(
        self, keys: Iterable[str], fn: Callable[[str], R]
    ) -> Iterator[tuple[str, R | LazadaError]]:
        pool = self._executor()
        source = iter(keys)
        window = max(1, self.max_workers) * 2  # keep the queue short: ids may be a huge stream
        pending: dict[Future[R], str] = {}

        def fill() -> None:
            while len(pending) < window:
                key = next(source, _END)
                if key is _END:
                    return
                pending[pool.submit(fn, str(key))] = str(key)

        try:
            fill()
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    key = pending.pop(fut)
                    try:
                        result: R | LazadaError = fut.result()
                    except LazadaError as exc:
                        result = exc
                    yield key, result
                fill()
        finally:
            for fut in pending:
                fut.cancel()

    # -- finance ------------------------------------------------------------------------
    def transactions(
        self,
        start: date,
        end: date,
        *,
        trans_type: int = -1,
        order_number: str | None = None,
    ) -> Iterator[Transaction]:
        """Finance rows from ``start`` to ``end`` (inclusive dates), windowed and paged.

        Lazada refuses ranges of 180 days or more, so the range is cut into windows of at
        most 179 days; each is paged by 500 rows until a short page.
        """
        api = "/finance/transaction/details/get"
        for lo, hi in finance_windows(start, end):
            offset = 0
            while True:
                params = {
                    "start_time": lo.isoformat(),
                    "end_time": hi.isoformat(),
                    "trans_type": trans_type,
                    "trade_order_id": order_number,
                    "offset": offset,
                    "limit": FINANCE_PAGE,
                }
                rows = _rows(self.call(api, params).payload, "data", "transactions", "list")
                for row in rows:
                    yield _parse("a transaction", api, partial(Transaction.from_wire, row))
                if len(rows) < FINANCE_PAGE:
                    break
                offset += len(rows)

    def payouts(self, created_after: date) -> list[Statement]:
        """Payout statements created on or after ``created_after``."""
        api = "/finance/payout/status/get"
        day = created_after.date() if isinstance(created_after, datetime) else created_after
        payload = self.call(api, {"created_after": day.isoformat()}).payload
        tz = self.conn.tz
        return [
            _parse("a statement", api, partial(Statement.from_wire, r, tz))
            for r in _rows(payload, "statements", "data", "list")
        ]
