"""The client against the sandbox over real HTTP: typed calls, batching, windows, errors.

Ground truth is ``sb.shop.snapshot(sb.clock.now())`` (the sandbox's clock is frozen).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from xl_lazada.lazada import errors as E
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.models import OrderTrace
from xl_lazada.lazada.retry import RetryPolicy
from xl_lazada.secret import Secret


class Recorder(httpx.HTTPTransport):
    """A real HTTP transport that also keeps each request's parameters (to check windows)."""

    def __init__(self) -> None:
        super().__init__()
        self.params: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.params.append((request.url.path.removeprefix("/rest"), dict(request.url.params)))
        return super().handle_request(request)


def local_today(sandbox) -> date:
    return sandbox.clock.now().astimezone(sandbox.shop.venture.tz).date()


@pytest.fixture(scope="module")
def truth(sandbox):
    return sandbox.shop.snapshot(sandbox.clock.now())


@pytest.fixture
def client(sandbox):
    with LazadaClient(sandbox.connection(), default_qps=0, max_workers=4) as c:
        yield c


def test_seller_profile(client, truth) -> None:
    seller = client.seller()
    assert seller.seller_id == str(truth["seller"]["seller_id"])
    assert seller.name == truth["seller"]["name"]
    assert seller.cross_border


def test_iter_orders_returns_every_visible_order_once(sandbox, client, truth) -> None:
    sandbox.stats.reset()
    start = sandbox.clock.now() - timedelta(days=400)
    orders = list(client.iter_orders(created_after=start))
    ids = [o.order_id for o in orders]
    assert Counter(ids) == Counter(str(o["order_id"]) for o in truth["orders"])
    assert [o.created_at for o in orders] == sorted(o.created_at for o in orders)
    assert all(o.created_at.utcoffset() == timedelta(hours=8) for o in orders)  # MY time
    assert sandbox.stats.by_api["/orders/get"] == len(ids) // 100 + 1

    by_update = list(client.iter_orders(update_after=start, page_size=37))
    assert sorted(o.order_id for o in by_update) == sorted(ids)
    assert [o.updated_at for o in by_update] == sorted(o.updated_at for o in by_update)


def test_iter_orders_filters_by_status_and_before(client, sandbox, truth) -> None:
    start = sandbox.clock.now() - timedelta(days=400)
    pending = {o.order_id for o in client.iter_orders(created_after=start, status="pending")}
    expected = {
        str(o["order_id"])
        for o in truth["orders"]
        if "pending" in {i["status"] for i in o["items"]}
    }
    assert pending == expected and pending
    cut = sandbox.clock.now() - timedelta(days=10)
    early = list(client.iter_orders(created_after=start, created_before=cut))
    assert early and all(o.created_at <= cut for o in early)


def test_get_order_and_items(client, truth) -> None:
    wire = truth["orders"][0]
    order = client.get_order(str(wire["order_id"]))
    assert order is not None and order.order_id == str(wire["order_id"])
    assert order.price == Decimal(str(wire["price"]).replace(",", ""))
    items = client.order_items(order.order_id)
    assert sorted(i.order_item_id for i in items) == sorted(
        str(i["order_item_id"]) for i in wire["items"]
    )
    assert client.get_order("999999999999999") is None


def test_orders_items_batches_by_50(sandbox, client, truth) -> None:
    ids = [str(o["order_id"]) for o in truth["orders"]]
    assert len(ids) > 100
    sandbox.stats.reset()
    before = client.stats.snapshot()["by_api"].get("/orders/items/get", 0)
    got = client.orders_items(ids + ids[:10])  # duplicates are asked for once
    calls = -(-len(ids) // 50)
    assert sandbox.stats.by_api["/orders/items/get"] == calls
    assert client.stats.by_api["/orders/items/get"] - before == calls
    assert set(got) == set(ids)
    for wire in truth["orders"]:
        assert sorted(i.order_item_id for i in got[str(wire["order_id"])]) == sorted(
            str(i["order_item_id"]) for i in wire["items"]
        )
    packed = [i for items in got.values() for i in items if i.tracking_code]
    assert packed and all(i.package_id for i in packed)


def test_traces_concurrently_with_per_order_results(sandbox, client, truth) -> None:
    traced = [oid for oid, pkgs in truth["traces"].items() if pkgs][:40]
    assert traced
    unknown = "999999999999998"
    results = dict(client.traces([*traced, unknown]))
    assert set(results) == {*traced, unknown}
    for oid in traced:
        trace = results[oid]
        assert isinstance(trace, OrderTrace)
        want = truth["traces"][oid]
        assert sorted(p.package_id for p in trace.packages) == sorted(
            p["ofc_package_id"] for p in want
        )
        assert sum(len(p.events) for p in trace.packages) == sum(
            len(p["logistic_detail_info_list"]) for p in want
        )
        for p in trace.packages:
            assert [e.event_time for e in p.events] == sorted(e.event_time for e in p.events)
    assert results[unknown].packages == ()


def test_traces_yield_failures_instead_of_raising(sandbox) -> None:
    tok = sandbox.issue_token()
    bad = sandbox.connection(dict(tok, access_token="not-a-token", refresh_token=None))
    with LazadaClient(bad, default_qps=0) as c:
        results = dict(c.traces(["1", "2"]))
    assert all(isinstance(r, E.TokenExpiredError) for r in results.values())


def test_transactions_are_windowed_and_paged(sandbox, truth) -> None:
    rec = Recorder()
    end = local_today(sandbox)  # finance dates are the venture's calendar days
    start = end - timedelta(days=400)
    with LazadaClient(sandbox.connection(), transport=rec, default_qps=0) as c:
        rows = list(c.transactions(start, end))
    finance = [p for path, p in rec.params if path == "/finance/transaction/details/get"]
    windows = sorted({(p["start_time"], p["end_time"]) for p in finance})
    assert len(windows) == 3
    for lo, hi in windows:
        assert (date.fromisoformat(hi) - date.fromisoformat(lo)).days < 180
    assert windows[0][0] == start.isoformat() and windows[-1][1] == end.isoformat()
    assert all(p["limit"] == "500" and p["trans_type"] == "-1" for p in finance)
    expected = Counter(str(t["transaction_number"]) for t in truth["transactions"])
    assert Counter(r.transaction_number for r in rows) == expected
    assert len(rows) > 500  # so paging by offset really happened
    assert any(p["offset"] != "0" for p in finance)


def test_transactions_for_one_order(client, truth) -> None:
    row = truth["transactions"][0]
    day = date.fromisoformat(row["transaction_date"][:10])
    got = list(client.transactions(day, day, order_number=str(row["order_no"])))
    assert got and {t.order_no for t in got} == {str(row["order_no"])}


def test_payouts(client, truth, sandbox) -> None:
    since = local_today(sandbox) - timedelta(days=400)
    statements = client.payouts(since)
    assert sorted(s.statement_number for s in statements) == sorted(
        str(s["statement_number"]) for s in truth["statements"]
    )
    for s in statements:
        assert s.subtotal1 == s.item_revenue + s.other_revenue_total - s.fees_total
        assert s.subtotal2 == s.subtotal1 - s.refunds


# -- error paths over HTTP -------------------------------------------------------------------
def count_calls(sandbox, fn) -> tuple[BaseException, int]:
    sandbox.stats.reset()
    with pytest.raises(E.LazadaError) as info:
        fn()
    return info.value, sandbox.stats.total


def test_wrong_app_secret_is_a_signature_error_without_retry(sandbox) -> None:
    from dataclasses import replace

    conn = replace(sandbox.connection(), app_secret=Secret("wrong-secret"))
    with LazadaClient(conn, default_qps=0) as c:
        err, calls = count_calls(sandbox, c.seller)
    assert isinstance(err, E.SignatureError) and err.code == "IncompleteSignature"
    assert calls == 1 and "app secret" in str(err)


@pytest.mark.parametrize(
    ("params", "code", "parameter"),
    [
        ({}, "MissingParameter", "created_after"),
        ({"created_after": "yesterday"}, "17", "created_after"),
        ({"created_after": "2026-01-01T00:00:00+08:00", "limit": 101}, "19", None),
        ({"created_after": "2026-01-01T00:00:00+08:00", "offset": 5001}, "14", None),
        ({"created_after": "2026-01-01T00:00:00+08:00", "status": "nonsense"}, "36", "status"),
        (
            {"created_after": "2026-01-01T00:00:00+08:00", "sort_by": "price"},
            "InvalidParameter",
            "sort_by",
        ),
    ],
)
def test_bad_requests_name_the_parameter_and_are_not_retried(
    sandbox, client, params, code, parameter
) -> None:
    err, calls = count_calls(sandbox, lambda: client.call("/orders/get", params))
    assert isinstance(err, E.BadRequestError) and err.code == code
    assert calls == 1
    if parameter:
        assert err.parameter == parameter and parameter in str(err)


def test_too_many_order_ids_and_wrong_method_and_unknown_api(sandbox, client) -> None:
    err, _ = count_calls(
        sandbox, lambda: client.call("/orders/items/get", {"order_ids": list(range(1, 52))})
    )
    assert isinstance(err, E.BadRequestError) and err.code == "38"
    err, _ = count_calls(sandbox, lambda: client.call("/seller/get", method="POST"))
    assert isinstance(err, E.BadRequestError) and err.code == "UnsupportedHTTPMethod"
    err, _ = count_calls(sandbox, lambda: client.call("/no/such/api", method="GET"))
    assert isinstance(err, E.BadRequestError) and err.code == "InvalidApiPath"


def test_finance_range_of_180_days_is_refused_by_lazada(sandbox, client) -> None:
    err, _ = count_calls(
        sandbox,
        lambda: client.call(
            "/finance/transaction/details/get",
            {"start_time": "2026-01-01", "end_time": "2026-06-30"},
        ),
    )
    assert isinstance(err, E.BadRequestError) and err.parameter == "end_time"


def test_auth_errors(sandbox) -> None:
    from xl_lazada.lazada.tokens import exchange_code, refresh

    conn = sandbox.connection({})
    with LazadaClient(conn, default_qps=0) as c:
        err, calls = count_calls(sandbox, lambda: exchange_code(c, "not-a-code"))
        assert isinstance(err, E.LoginRequiredError) and err.code == "InvalidCode" and calls == 1
        err, _ = count_calls(sandbox, lambda: refresh(c, Secret("not-a-refresh-token")))
        assert isinstance(err, E.LoginRequiredError) and err.code == "IllegalRefreshToken"
        err, _ = count_calls(sandbox, c.seller)  # no access token at all
        assert isinstance(err, E.LoginRequiredError)
        code = sandbox.new_code()
        tok = exchange_code(c, code)
        assert tok.expires_at > tok.issued_at and tok.sellers
        err, _ = count_calls(sandbox, lambda: exchange_code(c, code))  # single use
        assert isinstance(err, E.LoginRequiredError)
        new = refresh(c, tok.refresh_token)
        assert new.access_token != tok.access_token


def test_illegal_access_token_without_refresh_token(sandbox) -> None:
    conn = sandbox.connection({"access_token": "forged-token-123"})
    with LazadaClient(conn, default_qps=0) as c:
        err, calls = count_calls(sandbox, c.seller)
    assert isinstance(err, E.TokenExpiredError) and err.code == "IllegalAccessToken" and calls == 1


def test_stale_timestamp_is_reported_as_clock_skew(sandbox) -> None:
    with LazadaClient(sandbox.connection(), default_qps=0, retry=RetryPolicy(max_attempts=3)) as c:
        c.timestamp_ms = lambda: int((time.time() - 3 * 3600) * 1000)  # a computer 3 h behind
        err, calls = count_calls(sandbox, c.seller)
    assert isinstance(err, E.ClockSkewError) and calls == 1
    assert "clock" in str(err)
