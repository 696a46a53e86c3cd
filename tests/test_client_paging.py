"""Offset paging past 5000 with many orders on one timestamp, and finance windowing.

The sandbox rarely puts two orders on the same second, so the boundary logic (skip ids
already yielded at the window's first timestamp) is exercised here with a fake
``/orders/get`` that behaves like Lazada's: ``>=`` filters, stable sort, offset <= 5000.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from xl_lazada.config import Connection
from xl_lazada.lazada.api import OrderWindowError, finance_windows
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.dates import format_lazada, parse_datetime
from xl_lazada.lazada.retry import NO_RETRY
from xl_lazada.lazada.ventures import venture
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.secret import Secret

START = datetime(2026, 3, 1, tzinfo=UTC)


class FakeOrders:
    """Just enough of /orders/get: filters, ascending/descending sort, offset/limit bounds."""

    def __init__(self, stamps: list[tuple[int, int]], tz, *, exclusive_after: bool = False) -> None:
        # stamps: (created second, updated second) offsets from START, one per order.
        # Lazada's docs say "after or on"; ``exclusive_after`` plays a Lazada that means ">".
        self.tz = tz
        self.exclusive_after = exclusive_after
        self.orders = [
            {
                "order_id": str(100000000000000 + i),
                "order_number": str(100000000000000 + i),
                "created_at": format_lazada(START + timedelta(seconds=c), tz),
                "updated_at": format_lazada(START + timedelta(seconds=u), tz),
                "statuses": ["pending"],
                "price": "10.00",
            }
            for i, (c, u) in enumerate(stamps)
        ]
        # per order: its times as epoch seconds; and the orders pre-sorted by each field
        self.when = {
            o["order_id"]: {
                k: parse_datetime(o[k]).timestamp() for k in ("created_at", "updated_at")
            }
            for o in self.orders
        }
        self.by = {
            f: sorted(self.orders, key=lambda o, f=f: (self.when[o["order_id"]][f], o["order_id"]))
            for f in ("created_at", "updated_at")
        }
        self.keys = {f: [self.when[o["order_id"]][f] for o in rows] for f, rows in self.by.items()}
        self.requests: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        q = dict(request.url.params)
        self.requests.append(q)
        offset, limit = int(q.get("offset", "0")), int(q.get("limit", "100"))
        if not 0 <= offset <= 5000:
            return httpx.Response(200, json={"type": "ISV", "code": "14", "message": "offset"})
        if not 1 <= limit <= 100:
            return httpx.Response(200, json={"type": "ISV", "code": "19", "message": "limit"})
        field = q.get("sort_by", "created_at")
        rows = self.by[field]
        filters = []
        for name, key, lower in (
            ("created_after", "created_at", True),
            ("created_before", "created_at", False),
            ("update_after", "updated_at", True),
            ("update_before", "updated_at", False),
        ):
            if name in q:
                bound = parse_datetime(q[name]).timestamp()
                if key == field and lower:  # the usual case: cut the sorted list
                    cut = bisect_right if self.exclusive_after else bisect_left
                    rows = rows[cut(self.keys[field], bound) :]
                else:
                    filters.append((key, bound, lower))
        if filters:
            rows = [
                r
                for r in rows
                if all(
                    (
                        self.when[r["order_id"]][k] > b
                        if self.exclusive_after
                        else self.when[r["order_id"]][k] >= b
                    )
                    if lo
                    else (self.when[r["order_id"]][k] <= b)
                    for k, b, lo in filters
                )
            ]
        if q.get("sort_direction", "DESC") == "DESC":
            rows = rows[::-1]
        page = rows[offset : offset + limit]
        return httpx.Response(
            200,
            json={
                "code": "0",
                "data": {"count": len(page), "countTotal": len(rows), "orders": page},
            },
        )


def client_for(fake: FakeOrders, code: str = "MY") -> LazadaClient:
    conn = Connection(
        base_url="https://api.example/rest",
        app_key="k",
        app_secret=Secret("s"),
        access_token=Secret("t"),
        venture=code,
    )
    return LazadaClient(conn, transport=httpx.MockTransport(fake), retry=NO_RETRY, default_qps=0)


@pytest.mark.parametrize("exclusive_after", [False, True], ids=["after-or-on", "strictly-after"])
def test_paging_past_5000_with_ties_yields_each_order_once(exclusive_after: bool) -> None:
    # 5,600 orders, 7 per second: every window boundary falls inside a group of ties.
    # Whether Lazada's after-filter includes its boundary second or not, none is lost.
    stamps = [(i // 7, i // 7) for i in range(5600)]
    fake = FakeOrders(stamps, venture("MY").tz, exclusive_after=exclusive_after)
    with client_for(fake) as client:
        ids = [o.order_id for o in client.iter_orders(created_after=START - timedelta(days=1))]
    assert len(ids) == 5600 and len(set(ids)) == 5600
    assert set(ids) == {o["order_id"] for o in fake.orders}
    offsets = [int(q["offset"]) for q in fake.requests]
    assert max(offsets) <= 5000
    assert len({q["created_after"] for q in fake.requests}) > 1  # the window moved on
    assert all(q["sort_direction"] == "ASC" and q["sort_by"] == "created_at" for q in fake.requests)
    assert all(q["created_after"].endswith("+08:00") for q in fake.requests)  # venture offset


def test_update_after_sorts_by_updated_at_and_keeps_other_filters() -> None:
    # created in order, updated in reverse: the watermark must follow updated_at
    n = 5300
    stamps = [(i, 2 * (n - i) // 3) for i in range(n)]
    fake = FakeOrders(stamps, venture("TH").tz)
    with client_for(fake, "TH") as client:
        got = list(
            client.iter_orders(
                update_after=START,
                created_after=START,
                update_before=START + timedelta(days=10),
                status="pending",
                page_size=100,
            )
        )
    assert len({o.order_id for o in got}) == len(got) == n
    assert [o.updated_at for o in got] == sorted(o.updated_at for o in got)
    first = fake.requests[0]
    assert first["sort_by"] == "updated_at" and first["status"] == "pending"
    assert first["update_after"].endswith("+07:00") and first["created_after"].endswith("+07:00")
    assert "update_before" in first


def test_small_page_size_still_respects_the_offset_limit() -> None:
    stamps = [(i // 3, i // 3) for i in range(5200)]
    fake = FakeOrders(stamps, venture("MY").tz)
    with client_for(fake) as client:
        ids = [o.order_id for o in client.iter_orders(created_after=START, page_size=70)]
    assert len(ids) == len(set(ids)) == 5200
    assert max(int(q["offset"]) for q in fake.requests) <= 5000


def test_more_than_5000_orders_on_one_timestamp_is_a_clear_error() -> None:
    fake = FakeOrders([(5, 5)] * 5200, venture("MY").tz)
    with client_for(fake) as client, pytest.raises(OrderWindowError) as info:
        for _ in client.iter_orders(created_after=START):
            pass
    assert "5000" in str(info.value) and "timestamp" in str(info.value)


def test_iter_orders_needs_an_after_filter_and_aware_datetimes() -> None:
    fake = FakeOrders([], venture("MY").tz)
    with client_for(fake) as client:
        with pytest.raises(ValueError, match="update_after or created_after"):
            next(client.iter_orders())
        with pytest.raises(ValueError, match="naive"):
            next(client.iter_orders(created_after=datetime(2026, 1, 1)))
        assert list(client.iter_orders(created_after=START)) == []
    assert len(fake.requests) == 1


def test_update_paging_on_a_live_shop_misses_no_order() -> None:
    """Orders updated mid-read jump to the end of an ``updated_at`` sort; offset paging then
    steps over an order never yielded, which an incremental sync would lose for good."""
    with SandboxServer(orders=1500, seed=11, clock_speed=0.0, qps=10_000) as sb:
        start = sb.clock.now()
        before = {str(o["order_id"]) for o in sb.shop.snapshot(start)["orders"]}
        seen: set[str] = set()
        with LazadaClient(sb.connection(), default_qps=0) as client:
            orders = client.iter_orders(update_after=start - timedelta(days=3650), page_size=25)
            for n, order in enumerate(orders, 1):
                seen.add(order.order_id)
                if n % 25 == 0:  # between pages, orders already read move on
                    sb.clock.advance(timedelta(hours=3))
        assert sb.clock.now() > start + timedelta(days=1)
    assert before - seen == set()


def test_finance_windows_are_under_180_days_and_cover_the_range() -> None:
    start, end = date(2025, 1, 1), date(2025, 1, 1) + timedelta(days=400)
    windows = finance_windows(start, end)
    assert len(windows) == 3
    assert windows[0][0] == start and windows[-1][1] == end
    for (lo, hi), nxt in zip(windows, [*windows[1:], None], strict=True):
        assert (hi - lo).days < 180 and hi >= lo
        if nxt:
            assert nxt[0] == hi + timedelta(days=1)
    assert finance_windows(start, start) == [(start, start)]
    with pytest.raises(ValueError):
        finance_windows(end, start)
