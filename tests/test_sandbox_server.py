"""The sandbox server speaks Lazada: real HTTP on 127.0.0.1 against the real simulated shop.

What a seller's tools depend on: signed calls get the shop's data unchanged and paged
exactly once; every gateway check answers with Lazada's envelope (so the client maps it to
the right error); OAuth, refresh and expiry behave; the throttle and injected faults look
like Lazada's; the official SDK works against it; the CLI hands out usable credentials.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from xl_lazada.lazada import errors as E
from xl_lazada.lazada.envelope import parse_body
from xl_lazada.lazada.signing import encode_params, sign
from xl_lazada.sandbox.app import _json_bytes
from xl_lazada.sandbox.faults import Faults
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.sandbox.shop import Shop
from xl_lazada.sandbox.tokens import Account, TokenStore

NOW = datetime(2026, 5, 20, 4, 0, tzinfo=UTC)
EARLY = "2020-01-01T00:00:00+08:00"

MISSING = 'The input parameter "{}" that is mandatory for processing this request is not supplied.'
INVALID = 'The specified parameter "{}" is not valid.'


# -- fixtures and helpers ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def shop() -> Shop:
    return Shop.generate(seed=11, orders=150, venture="MY", now=NOW)


@contextmanager
def serve(shop: Shop, **kw: Any) -> Iterator[SandboxServer]:
    kw.setdefault("clock_speed", 0.0)
    kw.setdefault("qps", 0)
    with SandboxServer(shop=shop, **kw) as server:
        yield server


@pytest.fixture(scope="module")
def sb(shop: Shop) -> Iterator[SandboxServer]:
    """A frozen, unthrottled server that no test mutates (tests that do use their own)."""
    with serve(shop) as server:
        yield server


@pytest.fixture(scope="module")
def token(sb: SandboxServer) -> str:
    return sb.issue_token()["access_token"]


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def signed(
    sb: SandboxServer,
    api: str,
    token: str | None = None,
    *,
    secret: str | None = None,
    timestamp_ms: int | None = None,
    **params: Any,
) -> dict[str, str]:
    """Common parameters plus ``params``, signed the way Lazada documents it."""
    base: dict[str, Any] = {
        "app_key": sb.app_key,
        "sign_method": "sha256",
        "timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
    }
    if token:
        base["access_token"] = token
    base.update(params)
    out = encode_params(base)
    out["sign"] = sign(secret or sb.app_secret, api, out)
    return out


def send(
    http: httpx.Client, sb: SandboxServer, api: str, params: dict[str, str], method: str = "GET"
) -> httpx.Response:
    url = sb.base_url + api
    if method == "GET":
        return http.get(url, params=params)
    return http.request(method, url, data=params)


def call(
    http: httpx.Client,
    sb: SandboxServer,
    api: str,
    token: str | None = None,
    method: str = "GET",
    **params: Any,
) -> dict[str, Any]:
    r = send(http, sb, api, signed(sb, api, token, **params), method)
    assert r.status_code == 200
    return r.json()


def assert_error(body: dict[str, Any], code: str, etype: str = "ISV") -> None:
    assert body.get("code") == code, body
    assert body.get("type") == etype, body
    assert body.get("message")
    assert body.get("request_id")


def all_orders(http: httpx.Client, sb: SandboxServer, token: str, limit: int) -> list[dict]:
    out: list[dict] = []
    offset = 0
    while True:
        body = call(http, sb, "/orders/get", token, created_after=EARLY, offset=offset, limit=limit)
        data = body["data"]
        out.extend(data["orders"])
        assert data["count"] == len(data["orders"])
        offset += limit
        if offset >= data["countTotal"]:
            return out


def without_items(order: dict) -> dict:
    return {k: v for k, v in order.items() if k != "items"}


def sent(value: Any) -> Any:
    """What the sandbox sends for ``value`` (its JSON encoder), as ``r.json()`` reads it back."""
    return json.loads(_json_bytes(value))


# -- signed calls return the shop's data --------------------------------------------------------
def test_seller_and_orders_match_the_shop(http, sb, token) -> None:
    truth = sb.shop.snapshot(sb.clock.now())
    assert call(http, sb, "/seller/get", token)["data"] == sb.shop.seller_profile()

    orders = all_orders(http, sb, token, limit=40)
    ids = [o["order_id"] for o in orders]
    assert all(isinstance(i, int) for i in ids), "ids are JSON numbers, as Lazada sends them"
    assert len(ids) == len(set(ids)), "an order appeared on two pages"
    by_id = {int(o["order_id"]): sent(sb.wire.order(without_items(o))) for o in truth["orders"]}
    assert set(ids) == set(by_id)
    for order in orders:
        assert order == by_id[order["order_id"]]

    some = orders[len(orders) // 2]
    assert call(http, sb, "/order/get", token, order_id=some["order_id"])["data"] == some


def test_order_items_single_and_batch(http, sb, token) -> None:
    truth = sb.shop.snapshot(sb.clock.now())
    items = {o["order_id"]: o["items"] for o in truth["orders"]}
    oid = next(iter(items))
    body = call(http, sb, "/order/items/get", token, order_id=oid)
    assert body["data"] == sent([sb.wire.item(i) for i in items[oid]])

    wanted = list(items)[:3]
    body = call(http, sb, "/orders/items/get", token, order_ids=[int(i) for i in wanted])
    got = {str(row["order_id"]): row for row in body["data"]}
    assert set(got) == set(wanted), "known ones all present"
    for oid in wanted:
        assert got[oid]["order_items"] == sent([sb.wire.item(i) for i in items[oid]])
        assert str(got[oid]["order_number"]) == oid

    # One unknown (or another shop's) id fails the whole list, as Lazada may (E037) ...
    ids = [int(i) for i in wanted] + [999]
    assert_error(call(http, sb, "/orders/items/get", token, order_ids=ids), "37")
    # ... or, answering leniently, the unknown id is just left out.
    sb.strict_batches = False
    try:
        body = call(http, sb, "/orders/items/get", token, order_ids=ids)
    finally:
        sb.strict_batches = True
    assert {str(row["order_id"]) for row in body["data"]} == set(wanted)


def test_trace_known_and_unknown_order(http, sb, token) -> None:
    truth = sb.shop.snapshot(sb.clock.now())
    oid, packages = next((k, v) for k, v in truth["traces"].items() if v)
    body = call(http, sb, "/logistic/order/trace", token, order_id=oid)
    assert body["code"] == "0"
    assert "data" not in body
    result = body["result"]
    # Lazada's documented sample: flags as strings, numeric codes, "null" for missing text
    assert result["success"] == "true" and result["not_success"] == "false"
    assert result == sent(sb.wire.trace_result(packages))
    event = result["module"][0]["package_detail_info_list"][0]["logistic_detail_info_list"][0]
    assert event["status_code"] == "1200" and event["detail_type"] == "ready_to"
    assert parse_body("/logistic/order/trace", 200, json.dumps(body).encode()).payload == result

    # Another shop's (or an unknown) order: Lazada's LD_ answer, not a server fault
    other = call(http, sb, "/logistic/order/trace", token, order_id="123456789012345")
    assert_error(other, "LD_INVOKE_DOWNSTREAM_RESPONSE_BLANK")


def test_finance_pages_and_filters(http, sb, token) -> None:
    at = sb.clock.now()
    start, end = (at - timedelta(days=60)).date(), at.date()
    expected = [sb.wire.transaction(t) for t in sb.shop.transactions(at, start, end)]
    assert expected, "the shop should have settled something in 60 days"
    got: list[dict] = []
    offset = 0
    while True:
        body = call(
            http,
            sb,
            "/finance/transaction/details/get",
            token,
            start_time=start.isoformat(),
            end_time=end.isoformat(),
            offset=offset,
            limit=50,
        )
        got.extend(body["data"])
        if len(body["data"]) < 50:
            break
        offset += 50
    assert got == expected

    oid = expected[0]["order_no"]
    body = call(
        http,
        sb,
        "/finance/transaction/details/get",
        token,
        start_time=start.isoformat(),
        end_time=end.isoformat(),
        trans_type="13",
        trade_order_id=oid,
    )
    plain = sb.shop.transactions(at, start, end, trans_type="13", trade_order_id=oid)
    assert body["data"] == [sb.wire.transaction(t) for t in plain]
    assert all(re.fullmatch(r"\d{2} [A-Z][a-z]{2} \d{4}", t["transaction_date"]) for t in got)

    since = (at - timedelta(days=40)).date()
    body = call(http, sb, "/finance/payout/status/get", token, created_after=since.isoformat())
    assert body["data"] == [sb.wire.statement(s) for s in sb.shop.payouts(at, since)]
    assert all(s["payout"].endswith(" MYR") for s in body["data"])


def test_post_form_body_and_unknown_signed_extras_are_accepted(http, sb, token) -> None:
    # The official SDK adds partner_id and signs it; the sandbox must sign over it too.
    params = signed(sb, "/seller/get", token, partner_id="lazop-sdk-python-20181207")
    assert send(http, sb, "/seller/get", params).json()["code"] == "0"
    code = http.get(sb.url + "/_sandbox/code").json()["code"]
    body = send(http, sb, "/auth/token/create", signed(sb, "/auth/token/create", code=code), "POST")
    assert body.json()["code"] == "0"


# -- gateway checks -----------------------------------------------------------------------------
def test_unknown_path_and_wrong_method(http, sb, token) -> None:
    body = call(http, sb, "/orders/list", token, created_after=EARLY)
    assert_error(body, "InvalidApiPath")
    body = call(http, sb, "/orders/get", token, "POST", created_after=EARLY)
    assert_error(body, "UnsupportedHTTPMethod")
    body = call(http, sb, "/auth/token/create", None, "GET", code="x")
    assert_error(body, "UnsupportedHTTPMethod")


def test_app_key_sign_method_and_signature(http, sb, token) -> None:
    params = signed(sb, "/seller/get", token)
    params["app_key"] = "999999"
    params["sign"] = sign(
        sb.app_secret, "/seller/get", {k: v for k, v in params.items() if k != "sign"}
    )
    assert_error(send(http, sb, "/seller/get", params).json(), "InvalidAppKey")

    body = send(http, sb, "/seller/get", signed(sb, "/seller/get", token, sign_method="md5")).json()
    assert_error(body, "InvalidParameter")
    assert '"sign_method"' in body["message"]

    wrong_secret = signed(sb, "/seller/get", token, secret="not-the-secret")
    body = send(http, sb, "/seller/get", wrong_secret).json()
    assert_error(body, "IncompleteSignature")
    with pytest.raises(E.SignatureError) as info:
        parse_body("/seller/get", 200, json.dumps(body).encode())
    assert wrong_secret["sign"] not in str(info.value)
    assert token not in str(info.value)

    tampered = signed(sb, "/orders/get", token, created_after=EARLY, limit=10)
    tampered["limit"] = "11"  # changed after signing
    assert_error(send(http, sb, "/orders/get", tampered).json(), "IncompleteSignature")
    unsigned_extra = signed(sb, "/seller/get", token)
    unsigned_extra["partner_id"] = "added-after-signing"
    assert_error(send(http, sb, "/seller/get", unsigned_extra).json(), "IncompleteSignature")
    path_swap = signed(sb, "/order/get", token, order_id="1")
    assert_error(send(http, sb, "/order/items/get", path_swap).json(), "IncompleteSignature")

    for name in ("app_key", "timestamp", "sign"):
        params = signed(sb, "/seller/get", token)
        del params[name]
        body = send(http, sb, "/seller/get", params).json()
        assert_error(body, "MissingParameter")
        assert body["message"] == MISSING.format(name)


def test_timestamp_window(http, sb, token) -> None:
    now_ms = int(time.time() * 1000)
    ok = signed(sb, "/seller/get", token, timestamp_ms=now_ms - 7000 * 1000)
    assert send(http, sb, "/seller/get", ok).json()["code"] == "0"
    for skew in (-7300, 7300):
        params = signed(sb, "/seller/get", token, timestamp_ms=now_ms + skew * 1000)
        body = send(http, sb, "/seller/get", params).json()
        assert_error(body, "IllegalTimestamp")
        assert "invalid" in body["message"] and "expired" in body["message"]
        with pytest.raises(E.ClockSkewError):
            parse_body("/seller/get", 200, json.dumps(body).encode())
    seconds_not_ms = signed(sb, "/seller/get", token, timestamp_ms=now_ms // 1000)
    assert_error(send(http, sb, "/seller/get", seconds_not_ms).json(), "IllegalTimestamp")


def test_garbage_sign_or_timestamp_is_lazadas_error_not_a_server_fault(http, sb, token) -> None:
    """Untrusted non-ASCII text in ``sign``/``timestamp`` is refused like any bad value.

    (It used to crash the check and answer UnknownRuntimeException, which clients retry.)
    """
    params = signed(sb, "/seller/get", token)
    params["sign"] = "\u00e9" * 64
    assert_error(send(http, sb, "/seller/get", params).json(), "IncompleteSignature")
    params = signed(sb, "/seller/get", token)
    params["timestamp"] = "\u00b2"  # str.isdigit() is true for it, int() refuses it
    params["sign"] = sign(
        sb.app_secret, "/seller/get", {k: v for k, v in params.items() if k != "sign"}
    )
    assert_error(send(http, sb, "/seller/get", params).json(), "IllegalTimestamp")


def test_access_token_missing_unknown(http, sb) -> None:
    body = call(http, sb, "/seller/get", None)
    assert_error(body, "MissingParameter")
    assert '"access_token"' in body["message"]
    bogus = "50000" + "x" * 55
    body = call(http, sb, "/seller/get", bogus)
    assert_error(body, "IllegalAccessToken")
    assert bogus not in body["message"]
    with pytest.raises(E.TokenExpiredError):
        parse_body("/seller/get", 200, json.dumps(body).encode())


@pytest.mark.parametrize(
    ("api", "params", "missing"),
    [
        ("/orders/get", {}, "created_after"),
        ("/order/get", {}, "order_id"),
        ("/order/items/get", {}, "order_id"),
        ("/orders/items/get", {}, "order_ids"),
        ("/logistic/order/trace", {}, "order_id"),
        ("/finance/transaction/details/get", {"end_time": "2026-05-01"}, "start_time"),
        ("/finance/transaction/details/get", {"start_time": "2026-05-01"}, "end_time"),
        ("/finance/payout/status/get", {}, "created_after"),
    ],
)
def test_missing_business_parameter(http, sb, token, api, params, missing) -> None:
    body = call(http, sb, api, token, **params)
    assert_error(body, "MissingParameter")
    assert body["message"] == MISSING.format(missing)
    with pytest.raises(E.BadRequestError) as info:
        parse_body(api, 200, json.dumps(body).encode())
    assert info.value.parameter == missing


def test_auth_calls_need_their_parameter(http, sb) -> None:
    body = call(http, sb, "/auth/token/create", None, "POST")
    assert body["message"] == MISSING.format("code")
    body = call(http, sb, "/auth/token/refresh", None, "POST")
    assert body["message"] == MISSING.format("refresh_token")


@pytest.mark.parametrize(
    ("api", "params", "name"),
    [
        ("/order/get", {"order_id": "12ab"}, "order_id"),
        ("/logistic/order/trace", {"order_id": "-5"}, "order_id"),
        ("/orders/items/get", {"order_ids": "1,2"}, "order_ids"),
        ("/orders/items/get", {"order_ids": '{"a": 1}'}, "order_ids"),
        ("/orders/items/get", {"order_ids": '["x1"]'}, "order_ids"),
        ("/orders/get", {"created_after": EARLY, "limit": "ten"}, "limit"),
        ("/orders/get", {"created_after": EARLY, "sort_by": "price"}, "sort_by"),
        ("/orders/get", {"created_after": EARLY, "sort_direction": "UP"}, "sort_direction"),
        (
            "/finance/transaction/details/get",
            {"start_time": "2026-05-01", "end_time": "2026-05-02", "trans_type": "fee"},
            "trans_type",
        ),
    ],
)
def test_malformed_parameter(http, sb, token, api, params, name) -> None:
    body = call(http, sb, api, token, **params)
    assert_error(body, "InvalidParameter")
    assert body["message"].startswith(INVALID.format(name))


@pytest.mark.parametrize(
    ("api", "params", "code"),
    [
        ("/orders/get", {"created_after": EARLY, "limit": 0}, "19"),
        ("/orders/get", {"created_after": EARLY, "limit": 101}, "19"),
        ("/orders/get", {"created_after": EARLY, "offset": -1}, "14"),
        ("/orders/get", {"created_after": EARLY, "offset": 5001}, "14"),
        ("/orders/get", {"created_after": "2026-05-01"}, "17"),
        ("/orders/get", {"created_after": "2026-05-01 10:00:00"}, "17"),
        ("/orders/get", {"created_after": "2026-05-01T10:00:00"}, "17"),
        ("/orders/get", {"update_after": "yesterday"}, "17"),
        (
            "/orders/get",
            {"created_after": EARLY, "created_before": "2026-13-01T00:00:00+08:00"},
            "17",
        ),
        ("/orders/get", {"created_after": EARLY, "status": "on_the_moon"}, "36"),
        ("/orders/items/get", {"order_ids": list(range(1, 52))}, "38"),
        (
            "/finance/transaction/details/get",
            {"start_time": "2026-05-01", "end_time": "2026-05-02", "limit": 501},
            "19",
        ),
        (
            "/finance/transaction/details/get",
            {"start_time": "2026-05-01", "end_time": "2026-05-02", "offset": -1},
            "14",
        ),
        (
            "/finance/transaction/details/get",
            {"start_time": "2026/05/01", "end_time": "2026-05-02"},
            "17",
        ),
        (
            "/finance/transaction/details/get",
            {"start_time": "2026-05-01", "end_time": "2026-02-30"},
            "17",
        ),
        ("/finance/payout/status/get", {"created_after": "2026-05-01T00:00:00+08:00"}, "17"),
    ],
)
def test_numeric_business_codes(http, sb, token, api, params, code) -> None:
    body = call(http, sb, api, token, **params)
    assert_error(body, code)
    with pytest.raises(E.BadRequestError):
        parse_body(api, 200, json.dumps(body).encode())


def test_parameters_at_the_limits_are_accepted(http, sb, token) -> None:
    for params in (
        {"created_after": EARLY, "limit": 100, "offset": 5000},
        {"update_after": "2026-05-01T00:00:00Z", "limit": 1},
        {"created_after": "2026-05-01T00:00:00+0800", "status": "toship", "sort_by": "updated_at"},
        {"created_after": EARLY, "status": "delivered", "sort_direction": "asc"},
    ):
        assert call(http, sb, "/orders/get", token, **params)["code"] == "0", params
    known = [int(o["order_id"]) for o in sb.shop.snapshot(sb.clock.now())["orders"][:50]]
    assert len(known) == 50
    body = call(http, sb, "/orders/items/get", token, order_ids=known)
    assert body["code"] == "0" and len(body["data"]) == 50
    body = call(
        http,
        sb,
        "/finance/transaction/details/get",
        token,
        start_time="2026-01-01",
        end_time="2026-06-29",  # 179 days: allowed
        limit=500,
    )
    assert body["code"] == "0"


@pytest.mark.parametrize(
    ("start", "end"), [("2026-01-01", "2026-06-30"), ("2026-05-02", "2026-05-01")]
)
def test_finance_range_rules(http, sb, token, start, end) -> None:
    body = call(http, sb, "/finance/transaction/details/get", token, start_time=start, end_time=end)
    assert_error(body, "InvalidParameter")
    assert body["message"].startswith(INVALID.format("end_time"))


def test_unknown_order_id(http, sb, token) -> None:
    for api in ("/order/get", "/order/items/get"):
        body = call(http, sb, api, token, order_id="123456789012345")
        assert body["code"] != "0" and body["type"] == "ISV", body
        with pytest.raises(E.BadRequestError):
            parse_body(api, 200, json.dumps(body).encode())


def test_orders_not_created_yet_are_invisible(shop) -> None:
    """Orders planned after the simulated now do not exist yet, through any API."""
    with serve(shop) as server, httpx.Client(timeout=10) as client:
        tok = server.issue_token()["access_token"]
        now_ids = {o["order_id"] for o in shop.snapshot(NOW)["orders"]}
        later = shop.snapshot(NOW + timedelta(days=10))["orders"]
        future = [o["order_id"] for o in later if o["order_id"] not in now_ids]
        assert future, "the shop plans orders after its generation time"
        body = call(client, server, "/order/get", tok, order_id=future[0])
        assert body["code"] != "0"
        before = call(client, server, "/orders/get", tok, created_after=EARLY, limit=1)
        r = client.post(server.url + "/_sandbox/clock", json={"advance_seconds": 10 * 86400})
        assert r.status_code == 200
        assert datetime.fromisoformat(r.json()["sim_time"]) == NOW + timedelta(days=10)
        assert call(client, server, "/order/get", tok, order_id=future[0])["code"] == "0"
        after = call(client, server, "/orders/get", tok, created_after=EARLY, limit=1)
        assert after["data"]["countTotal"] == before["data"]["countTotal"] + len(future)


# -- OAuth and tokens ---------------------------------------------------------------------------
def test_oauth_code_token_refresh(shop) -> None:
    with serve(shop) as server, httpx.Client(timeout=10) as client:
        r = client.get(
            server.authorize_url("https://seller.example/cb?x=1", state="s1"),
            follow_redirects=False,
        )
        assert r.status_code == 302
        where = urlsplit(r.headers["location"])
        assert where.netloc == "seller.example" and where.path == "/cb"
        q = parse_qs(where.query)
        assert q["x"] == ["1"] and q["state"] == ["s1"]
        code = q["code"][0]

        body = call(client, server, "/auth/token/create", None, "POST", code=code)
        assert body["code"] == "0" and "data" not in body
        for key in ("access_token", "refresh_token", "expires_in", "refresh_expires_in", "account"):
            assert body[key], key
        assert body["country"] == "cb" and body["account_platform"] == "seller_center"
        seller_id = shop.seller_profile()["seller_id"]
        info = body["country_user_info"]
        assert info[0]["country"] == "my" and info[0]["seller_id"] == seller_id
        assert int(body["expires_in"]) == int(server.token_ttl)
        first = body["access_token"]
        assert call(client, server, "/seller/get", first)["code"] == "0"

        again = call(client, server, "/auth/token/create", None, "POST", code=code)
        assert_error(again, "InvalidCode")
        with pytest.raises(E.LoginRequiredError):
            parse_body("/auth/token/create", 200, json.dumps(again).encode())
        assert_error(
            call(client, server, "/auth/token/create", None, "POST", code="nope"), "InvalidCode"
        )

        refreshed = call(
            client, server, "/auth/token/refresh", None, "POST", refresh_token=body["refresh_token"]
        )
        assert refreshed["code"] == "0"
        assert refreshed["country_user_info_list"][0]["seller_id"] == seller_id
        assert refreshed["access_token"] != first
        assert call(client, server, "/seller/get", refreshed["access_token"])["code"] == "0"
        assert call(client, server, "/seller/get", first)["code"] == "0", "old token still valid"

        bad = call(client, server, "/auth/token/refresh", None, "POST", refresh_token="50001nope")
        assert_error(bad, "IllegalRefreshToken")
        with pytest.raises(E.LoginRequiredError):
            parse_body("/auth/token/refresh", 200, json.dumps(bad).encode())

        r = client.get(
            server.url + "/oauth/authorize",
            params={"response_type": "code", "client_id": "other", "redirect_uri": "https://x/"},
            follow_redirects=False,
        )
        assert r.status_code == 400


def test_expired_tokens_then_refresh(shop) -> None:
    with serve(shop) as server, httpx.Client(timeout=10) as client:
        tok = server.issue_token()
        assert call(client, server, "/seller/get", tok["access_token"])["code"] == "0"
        assert client.post(server.url + "/_sandbox/expire-tokens").json()["expired"] >= 1
        assert_error(call(client, server, "/seller/get", tok["access_token"]), "IllegalAccessToken")
        new = call(
            client, server, "/auth/token/refresh", None, "POST", refresh_token=tok["refresh_token"]
        )
        assert call(client, server, "/seller/get", new["access_token"])["code"] == "0"
        server.expire_tokens()
        assert_error(call(client, server, "/seller/get", new["access_token"]), "IllegalAccessToken")


def test_token_lifetime_runs_on_the_real_clock(shop) -> None:
    with serve(shop, token_ttl=1) as server, httpx.Client(timeout=10) as client:
        tok = server.issue_token()
        assert tok["expires_in"] == 1
        assert call(client, server, "/seller/get", tok["access_token"])["code"] == "0"
        time.sleep(1.2)
        assert_error(call(client, server, "/seller/get", tok["access_token"]), "IllegalAccessToken")


def test_codes_are_single_use_and_expire_after_30_minutes() -> None:
    now = [1000.0]
    store = TokenStore(Account("a@b", "my", "1", "2", "MY1"), clock=lambda: now[0])
    fresh, stale = store.new_code(), store.new_code()
    now[0] += 29 * 60
    assert store.exchange_code(fresh) is not None
    assert store.exchange_code(fresh) is None
    now[0] += 2 * 60
    assert store.exchange_code(stale) is None


def test_connection_for_the_sandbox_hides_secrets(sb) -> None:
    tok = sb.issue_token()
    conn = sb.connection(tok)
    assert conn.base_url == sb.base_url and conn.auth_url == sb.base_url
    assert conn.app_secret.reveal() == sb.app_secret
    assert conn.access_token.reveal() == tok["access_token"]
    for text in (repr(conn), repr(sb)):
        assert sb.app_secret not in text and tok["access_token"] not in text


# -- throttle, latency and faults ---------------------------------------------------------------
def test_throttle_bans_the_path_for_a_second_for_every_caller(shop) -> None:
    with serve(shop, qps=5) as server, httpx.Client(timeout=10) as client:
        a, b = server.issue_token()["access_token"], server.issue_token()["access_token"]
        for _ in range(5):
            assert (
                call(client, server, "/orders/get", a, created_after=EARLY, limit=1)["code"] == "0"
            )
        body = call(client, server, "/orders/get", b, created_after=EARLY, limit=1)
        assert_error(body, "ApiCallLimit", "ISP")
        assert body["message"] == (
            "The request has exceeded the limit of API calls per second. "
            "This ban will last 1 seconds."
        )
        with pytest.raises(E.ThrottledError) as info:
            parse_body("/orders/get", 200, json.dumps(body).encode())
        assert info.value.retry_after >= 1
        assert call(client, server, "/seller/get", a)["code"] == "0", "other paths are not banned"
        time.sleep(0.5)  # the bucket has refilled, but the ban still holds
        body = call(client, server, "/orders/get", a, created_after=EARLY, limit=1)
        assert_error(body, "ApiCallLimit", "ISP")
        time.sleep(0.7)
        assert call(client, server, "/orders/get", a, created_after=EARLY, limit=1)["code"] == "0"
        assert server.stats.errors["ApiCallLimit"] == 2


def test_latency_is_added_without_blocking_other_calls(shop) -> None:
    with serve(shop, latency_ms=300) as server:
        tok = server.issue_token()["access_token"]
        started = time.perf_counter()
        with httpx.Client(timeout=10) as client:
            assert call(client, server, "/seller/get", tok)["code"] == "0"
        assert time.perf_counter() - started >= 0.3

        results: list[str] = []

        def one() -> None:
            with httpx.Client(timeout=10) as c:
                results.append(call(c, server, "/seller/get", tok)["code"])

        threads = [threading.Thread(target=one) for _ in range(4)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == ["0"] * 4
        assert time.perf_counter() - started < 0.9, "latency sleeps must not serialise calls"


def outcomes(client: httpx.Client, server: SandboxServer, tok: str, n: int) -> list[str]:
    out = []
    for _ in range(n):
        r = send(client, server, "/seller/get", signed(server, "/seller/get", tok))
        try:
            out.append(r.json()["code"])
        except ValueError:
            out.append(f"bad-{r.status_code}")
    return out


def test_throttle_and_error_faults(shop) -> None:
    with (
        serve(shop, faults=Faults(throttle_rate=1.0)) as server,
        httpx.Client(timeout=10) as client,
    ):
        tok = server.issue_token()["access_token"]
        body = call(client, server, "/seller/get", tok)
        assert_error(body, "ApiCallLimit", "ISP")
        assert "ban will last 1 seconds" in body["message"]

        server.faults = Faults(error_rate=1.0, seed=5)
        seen = set()
        for _ in range(30):
            body = call(client, server, "/seller/get", tok)
            assert body["type"] == "ISP"
            with pytest.raises(E.ServerError) as info:
                parse_body("/seller/get", 200, json.dumps(body).encode())
            assert info.value.retryable
            seen.add(body["code"])
        assert seen == {"ServiceTimeout", "UnknownRuntimeException", "998"}


def test_faults_are_seeded_and_repeatable(shop) -> None:
    with serve(shop) as server, httpx.Client(timeout=10) as client:
        tok = server.issue_token()["access_token"]
        server.faults = Faults(error_rate=0.3, throttle_rate=0.2, seed=42)
        first = outcomes(client, server, tok, 40)
        server.faults = Faults(error_rate=0.3, throttle_rate=0.2, seed=42)
        assert outcomes(client, server, tok, 40) == first
        assert "0" in first and "ApiCallLimit" in first and len(set(first)) >= 3
        server.faults = Faults()
        assert outcomes(client, server, tok, 10) == ["0"] * 10


def test_malformed_faults_look_like_a_block_page_or_a_cut_body(shop) -> None:
    with (
        serve(shop, faults=Faults(malformed_rate=1.0, seed=1)) as server,
        httpx.Client(timeout=10) as client,
    ):
        tok = server.issue_token()["access_token"]
        kinds = set()
        for _ in range(20):
            r = send(client, server, "/seller/get", signed(server, "/seller/get", tok))
            if r.status_code == 403:
                assert r.headers["content-type"].startswith("text/html")
                assert "Access denied" in r.text
                kinds.add("html")
            else:
                assert r.status_code == 200
                with pytest.raises(ValueError):
                    json.loads(r.content)
                assert r.content.startswith(b"{")
                kinds.add("cut")
            with pytest.raises(E.ResponseFormatError):
                parse_body("/seller/get", r.status_code, r.content)
        assert kinds == {"html", "cut"}


def test_timeout_fault_answers_only_after_the_delay(shop) -> None:
    faults = Faults(timeout_rate=1.0, timeout_seconds=0.6)
    with serve(shop, faults=faults) as server:
        tok = server.issue_token()["access_token"]
        with httpx.Client(timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
            send(impatient, server, "/seller/get", signed(server, "/seller/get", tok))
        with httpx.Client(timeout=5) as patient:
            started = time.perf_counter()
            assert call(patient, server, "/seller/get", tok)["code"] == "0"
            assert time.perf_counter() - started >= 0.6


def test_faults_never_hit_admin_endpoints_and_can_be_set_over_http(shop) -> None:
    with serve(shop) as server, httpx.Client(timeout=10) as client:
        r = client.post(server.url + "/_sandbox/faults", json={"malformed_rate": 1.0, "seed": 9})
        assert r.status_code == 200 and r.json()["malformed_rate"] == 1.0
        assert server.faults.malformed_rate == 1.0
        for path in ("/_sandbox/info", "/_sandbox/stats", "/_sandbox/code", "/_sandbox/faults"):
            assert client.get(server.url + path).status_code == 200, path
        assert client.get(server.url + "/_sandbox/info").json()["app_key"] == server.app_key
        bad = client.post(server.url + "/_sandbox/faults", json={"error_rate": 2})
        assert bad.status_code == 400
        bad = client.post(
            server.url + "/_sandbox/faults", json={"error_rate": 0.6, "throttle_rate": 0.6}
        )
        assert bad.status_code == 400
        bad = client.post(server.url + "/_sandbox/faults", json={"explode": 1})
        assert bad.status_code == 400
        r = client.post(
            server.url + "/_sandbox/faults", json={"malformed_rate": 0, "qps": 3, "latency_ms": 5}
        )
        assert r.status_code == 200 and server.qps == 3 and server.latency_ms == 5


# -- admin ------------------------------------------------------------------------------------
def test_info_stats_and_clock(shop) -> None:
    with serve(shop) as server, httpx.Client(timeout=10) as client:
        tok = server.issue_token()["access_token"]
        info = client.get(server.url + "/_sandbox/info")
        assert server.app_secret not in info.text
        data = info.json()
        assert data["venture"] == "MY" and data["app_key"] == server.app_key
        assert data["base_url"] == server.base_url
        assert data["orders"] == len(shop.snapshot(NOW)["orders"])
        assert datetime.fromisoformat(data["sim_time"]) == NOW

        server.stats.reset()
        for _ in range(3):
            call(client, server, "/orders/get", tok, created_after=EARLY, limit=5)
        call(client, server, "/seller/get", tok)
        call(client, server, "/no/such/api", tok)
        assert server.stats.by_api["/orders/get"] == 3
        assert server.stats.by_api["/seller/get"] == 1
        assert server.stats.by_api["/order/get"] == 0
        assert server.stats.total == 5
        over_http = client.get(server.url + "/_sandbox/stats").json()
        assert over_http["by_api"]["/orders/get"] == 3 and over_http["total"] == 5
        assert over_http["errors"] == {"InvalidApiPath": 1}
        assert client.post(server.url + "/_sandbox/stats/reset").json()["total"] == 0
        assert server.stats.total == 0

        r = client.post(server.url + "/_sandbox/clock", json={"advance_seconds": 3600, "speed": 0})
        assert datetime.fromisoformat(r.json()["sim_time"]) == NOW + timedelta(hours=1)
        assert (
            client.post(server.url + "/_sandbox/clock", json={"advance_seconds": -1}).status_code
            == 400
        )
        assert (
            client.post(server.url + "/_sandbox/clock", json={"speed": "fast"}).status_code == 400
        )
        assert client.post(server.url + "/_sandbox/clock", content=b"[1]").status_code == 400
        r = client.post(server.url + "/_sandbox/clock", json={"speed": 3600})
        assert r.json()["clock_speed"] == 3600 and server.clock.speed == 3600
        time.sleep(0.05)
        assert server.clock.now() > NOW + timedelta(hours=1, seconds=60)


def test_admin_answers_loopback_only(sb) -> None:
    """Run the same app in-process as if called from another machine: admin refuses it."""

    async def from_elsewhere() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=sb.app, client=("10.1.2.3", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as remote:
            return [
                await remote.get("/_sandbox/info"),
                await remote.post("/_sandbox/expire-tokens"),
                await remote.get("/rest/seller/get"),
            ]

    info, expire, api = asyncio.run(from_elsewhere())
    assert info.status_code == 403 and expire.status_code == 403
    assert api.json()["code"] == "MissingParameter", "the API itself still answers"


def test_export_then_load_answers_the_same(shop, tmp_path) -> None:
    with serve(shop) as server, httpx.Client(timeout=30) as client:
        tok = server.issue_token()["access_token"]
        r = client.get(server.url + "/_sandbox/export")
        assert r.status_code == 200
        path = tmp_path / "shop.json"
        path.write_bytes(r.content)
        json.loads(r.content)
        page = call(client, server, "/orders/get", tok, created_after=EARLY, limit=30, offset=7)
    with (
        SandboxServer(load=path, clock_speed=0.0, qps=0) as loaded,
        httpx.Client(timeout=10) as client,
    ):
        tok = loaded.issue_token()["access_token"]
        again = call(client, loaded, "/orders/get", tok, created_after=EARLY, limit=30, offset=7)
        assert again["data"] == page["data"]
        assert loaded.clock.now() == NOW


def test_no_secret_reaches_the_logs(shop, caplog) -> None:
    caplog.set_level("DEBUG")
    with serve(shop) as server, httpx.Client(timeout=10) as client:
        tok = server.issue_token()
        params = signed(server, "/orders/get", tok["access_token"], created_after=EARLY)
        send(client, server, "/orders/get", params)
        call(client, server, "/seller/get", "50000" + "y" * 55)
        call(
            client, server, "/auth/token/refresh", None, "POST", refresh_token=tok["refresh_token"]
        )
    # Only the server's own loggers: httpx (the test's client) logs full URLs at INFO level.
    server_side = ("uvicorn", "starlette", "xl_lazada")
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(server_side))
    for secret in (server.app_secret, tok["access_token"], tok["refresh_token"], params["sign"]):
        assert secret not in text


# -- the official SDK ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lazop(tmp_path_factory) -> Iterator[types.ModuleType]:
    """lazop_sdk writes ``~/logs/...`` at import time: point HOME at a temporary directory."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("USERPROFILE", str(home))
        import lazop_sdk
        import lazop_sdk.base

        yield lazop_sdk


def test_official_sdk_signed_calls(lazop, sb) -> None:
    from lazop_sdk import LazopClient, LazopRequest

    client = LazopClient(sb.base_url, sb.app_key, sb.app_secret)
    code = httpx.get(sb.url + "/_sandbox/code").json()["code"]
    req = LazopRequest("/auth/token/create")
    req.add_api_param("code", code)
    created = client.execute(req)
    assert created.code == "0", created.body
    token = created.body["access_token"]

    req = LazopRequest("/orders/get", "GET")
    req.add_api_param("created_after", EARLY)
    req.add_api_param("limit", "5")
    resp = client.execute(req, token)
    assert resp.code == "0", resp.body
    truth = sb.shop.snapshot(sb.clock.now())
    assert resp.body["data"]["countTotal"] == len(truth["orders"])
    assert len(resp.body["data"]["orders"]) == 5

    oids = [o["order_id"] for o in resp.body["data"]["orders"]]
    req = LazopRequest("/orders/items/get", "GET")
    req.add_api_param("order_ids", json.dumps([int(o) for o in oids]))
    resp = client.execute(req, token)
    assert resp.code == "0" and {r["order_id"] for r in resp.body["data"]} == set(oids)

    req = LazopRequest("/logistic/order/trace", "GET")
    req.add_api_param("order_id", oids[0])
    resp = client.execute(req, token)
    assert resp.code == "0" and "module" in resp.body["result"]

    req = LazopRequest("/auth/token/refresh")
    req.add_api_param("refresh_token", created.body["refresh_token"])
    resp = client.execute(req)
    assert resp.code == "0" and resp.body["country_user_info_list"]


def test_official_sdk_gets_lazadas_errors(lazop, sb, token, monkeypatch) -> None:
    from lazop_sdk import LazopClient, LazopRequest

    def orders() -> LazopRequest:
        req = LazopRequest("/orders/get", "GET")
        req.add_api_param("created_after", EARLY)
        return req

    client = LazopClient(sb.base_url, sb.app_key, sb.app_secret)
    real_sign = lazop.base.sign

    def tampered(secret: str, api: str, params: dict) -> str:
        good = real_sign(secret, api, params)
        return good[:-1] + ("1" if good[-1] == "0" else "0")

    monkeypatch.setattr(lazop.base, "sign", tampered)
    resp = client.execute(orders(), token)
    assert (resp.type, resp.code) == ("ISV", "IncompleteSignature")
    monkeypatch.setattr(lazop.base, "sign", real_sign)

    assert LazopClient(sb.base_url, sb.app_key, "wrong").execute(orders(), token).code == (
        "IncompleteSignature"
    )

    real_time = lazop.base.time
    stale = types.SimpleNamespace(
        time=lambda: real_time.time() - 3 * 3600,
        strftime=real_time.strftime,
        localtime=real_time.localtime,
    )
    monkeypatch.setattr(lazop.base, "time", stale)
    resp = client.execute(orders(), token)
    assert resp.code == "IllegalTimestamp", resp.body
    monkeypatch.setattr(lazop.base, "time", real_time)

    req = LazopRequest("/orders/get", "POST")
    req.add_api_param("created_after", EARLY)
    assert client.execute(req, token).code == "UnsupportedHTTPMethod"
    assert client.execute(orders(), token).code == "0"


# -- the CLI -----------------------------------------------------------------------------------
def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    code = "import sys; from xl_lazada.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(proc.stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        proc.kill()
        raise AssertionError("the sandbox CLI printed nothing") from None


def test_cli_json_line_gives_working_credentials(tmp_path: Path) -> None:
    env = {**os.environ, "XL_LAZADA_HOME": str(tmp_path)}
    proc = _cli("sandbox", "--port", "0", "--orders", "40", "--json", env=env)
    try:
        line = _read_line(proc, timeout=40)
        info = json.loads(line)
        assert set(info) == {"base_url", "app_key", "app_secret", "access_token", "refresh_token"}
        assert info["base_url"].startswith("http://127.0.0.1:") and info["base_url"].endswith(
            "/rest"
        )
        params = {
            "app_key": info["app_key"],
            "sign_method": "sha256",
            "timestamp": str(int(time.time() * 1000)),
            "access_token": info["access_token"],
        }
        params["sign"] = sign(info["app_secret"], "/seller/get", params)
        body = httpx.get(info["base_url"] + "/seller/get", params=params, timeout=10).json()
        assert body["code"] == "0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, proc.stderr.read()


def test_cli_export_writes_a_loadable_dataset(tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    env = {**os.environ, "XL_LAZADA_HOME": str(tmp_path)}
    proc = _cli("sandbox", "--orders", "30", "--seed", "3", "--export", str(out), env=env)
    assert proc.wait(timeout=40) == 0, proc.stderr.read()
    loaded = Shop.from_json(out)
    assert loaded.venture.code == "MY"
    at = loaded.generated_at
    twin = Shop.generate(seed=3, orders=30, venture="MY", now=loaded.generated_at)
    assert loaded.list_orders(
        at, created_after=datetime(2000, 1, 1, tzinfo=UTC)
    ) == twin.list_orders(at, created_after=datetime(2000, 1, 1, tzinfo=UTC))


def test_sandbox_dates_and_orders_use_the_venture_clock(http, sb, token) -> None:
    """Date filters with any offset select the same orders (the server compares instants)."""
    at = sb.clock.now()
    cut = at - timedelta(days=5)
    in_my = cut.astimezone(sb.shop.venture.tz).isoformat()
    in_utc = cut.astimezone(UTC).isoformat()
    a = call(http, sb, "/orders/get", token, created_after=in_my, limit=100)["data"]
    b = call(http, sb, "/orders/get", token, created_after=in_utc, limit=100)["data"]
    assert a == b
    assert a["countTotal"] == sb.shop.list_orders(at, created_after=cut)[0]
