"""Envelopes, error mapping, date parsing, wire models and config: the protocol edge."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from xl_lazada.config import ConfigError, connection_from_env
from xl_lazada.lazada import errors as E
from xl_lazada.lazada.dates import format_iso, format_lazada, parse_date, parse_datetime
from xl_lazada.lazada.envelope import parse_body
from xl_lazada.lazada.models import Order, OrderTrace, Statement, Transaction
from xl_lazada.lazada.ventures import VENTURES, venture
from xl_lazada.secret import Secret

MYT = timezone(timedelta(hours=8))


def body(**kw) -> bytes:
    return json.dumps(kw).encode()


@pytest.mark.parametrize(
    ("code", "etype", "cls"),
    [
        ("IncompleteSignature", "ISV", E.SignatureError),
        ("MissingParameter", "ISV", E.BadRequestError),
        ("InvalidParameter", "ISV", E.BadRequestError),
        ("IllegalAccessToken", "ISV", E.TokenExpiredError),
        ("IllegalRefreshToken", "ISV", E.LoginRequiredError),
        ("InvalidCode", "ISV", E.LoginRequiredError),
        ("ApiCallLimit", "ISP", E.ThrottledError),
        ("901", "ISP", E.ThrottledError),
        ("ServiceTimeout", "ISP", E.ServerError),
        ("UnknownRuntimeException", "SYSTEM", E.ServerError),
        ("998", "ISP", E.ServerError),
        ("IllegalTimestamp", "ISV", E.ClockSkewError),
        ("14", "ISV", E.BadRequestError),
        ("19", "ISV", E.BadRequestError),
        ("38", "ISV", E.BadRequestError),
        ("SomethingNew", "ISP", E.ServerError),
        ("SomethingNew", "ISV", E.BadRequestError),
    ],
)
def test_error_codes_map_to_classes(code: str, etype: str, cls: type) -> None:
    with pytest.raises(cls) as info:
        parse_body("/orders/get", 200, body(type=etype, code=code, message="m", request_id="r1"))
    err = info.value
    assert err.code == code and err.request_id == "r1" and err.api == "/orders/get"
    assert "/orders/get" in str(err) and code in str(err)


def test_only_transient_errors_are_retryable() -> None:
    assert E.ThrottledError.retryable and E.ServerError.retryable and E.TransportError.retryable
    assert E.ResponseFormatError.retryable
    for cls in (E.SignatureError, E.BadRequestError, E.TokenExpiredError, E.ClockSkewError):
        assert not cls.retryable


def test_bad_request_names_the_parameter() -> None:
    msg = 'The input parameter "order_id" that is mandatory for processing this request is not supplied.'
    with pytest.raises(E.BadRequestError) as info:
        parse_body("/order/get", 200, body(type="ISV", code="MissingParameter", message=msg))
    assert info.value.parameter == "order_id"


def test_throttle_reads_ban_length_and_never_waits_under_a_second() -> None:
    msg = (
        "The request has exceeded the limit of API calls per second. This ban will last 3 seconds."
    )
    with pytest.raises(E.ThrottledError) as info:
        parse_body("/orders/get", 200, body(type="ISP", code="ApiCallLimit", message=msg))
    assert info.value.retry_after == 3.0
    with pytest.raises(E.ThrottledError) as info:
        parse_body(
            "/orders/get", 200, body(type="ISP", code="901", message="ban will last 0 seconds")
        )
    assert info.value.retry_after == 1.0


@pytest.mark.parametrize(
    "content",
    [b"<html><body>Access denied</body></html>", b'{"code": "0", "data": {', b"", b"[1,2]"],
)
def test_non_json_bodies_are_format_errors(content: bytes) -> None:
    with pytest.raises(E.ResponseFormatError) as info:
        parse_body("/orders/get", 403, content)
    assert "/orders/get" in str(info.value)


def test_three_envelope_shapes() -> None:
    data = parse_body("/orders/get", 200, body(code="0", data={"count": "1"}, request_id="a"))
    assert data.payload == {"count": "1"} and data.request_id == "a"
    result = parse_body(
        "/logistic/order/trace", 200, body(code="0", result={"success": True, "module": []})
    )
    assert result.payload == {"success": True, "module": []}
    auth = parse_body("/auth/token/create", 200, body(code="0", access_token="x", expires_in=10))
    assert auth.payload["expires_in"] == 10


def test_result_envelope_failure_is_an_error() -> None:
    raw = body(
        code="0", result={"success": False, "error_code": "ServiceTimeout", "error_msg": "slow"}
    )
    with pytest.raises(E.ServerError):
        parse_body("/logistic/order/trace", 200, raw)


def test_both_lazada_date_formats_parse_to_the_same_instant() -> None:
    a = parse_datetime("2026-11-03 18:36:05 +0800")
    b = parse_datetime("2026-11-03T18:36:05+08:00")
    c = parse_datetime("2026-11-03T10:36:05Z")
    assert a == b == c and a.utcoffset() == timedelta(hours=8)
    naive = parse_datetime("2026-11-03 18:36:05", MYT)
    assert naive == a
    assert parse_datetime("1762166165000") == datetime(2025, 11, 3, 10, 36, 5, tzinfo=UTC)
    assert parse_datetime("") is None and parse_datetime(None) is None
    with pytest.raises(ValueError):
        parse_datetime("2026-11-03 18:36:05")  # naive without a venture timezone
    with pytest.raises(ValueError):
        parse_datetime("03/11/2026")


def test_formats_round_trip() -> None:
    dt = datetime(2026, 11, 1, 0, 0, tzinfo=MYT)
    assert format_iso(dt) == "2026-11-01T00:00:00+08:00"
    assert format_iso(dt.astimezone(UTC), MYT) == "2026-11-01T00:00:00+08:00"
    assert parse_datetime(format_lazada(dt)) == dt
    assert parse_date("2026-05-11") == date(2026, 5, 11)
    with pytest.raises(ValueError):
        format_iso(datetime(2026, 1, 1))


def test_ventures() -> None:
    assert set(VENTURES) == {"MY", "SG", "PH", "TH", "VN", "ID"}
    assert venture("th").tz.utcoffset(None) == timedelta(hours=7)
    assert venture("VN").currency == "VND"
    with pytest.raises(ValueError, match="unknown Lazada venture"):
        venture("US")


def test_order_model_keeps_ids_as_text_and_money_exact() -> None:
    o = Order.from_wire(
        {
            "order_id": "318927481230123456",
            "order_number": "318927481230123456",
            "created_at": "2026-11-03 18:36:05 +0800",
            "updated_at": "2026-11-04 09:00:00 +0800",
            "price": "1,234.50",
            "statuses": ["pending", "canceled"],
            "customer_first_name": '=HYPERLINK("http://x")',
            "items_count": "2",
        },
        MYT,
    )
    assert o.order_id == "318927481230123456"
    assert o.price == Decimal("1234.50")
    assert o.statuses == ("pending", "canceled")
    assert o.customer_name.startswith(
        "=HYPERLINK"
    )  # kept as text; writers must not make it a formula


def test_trace_model_accepts_module_or_data_and_sorts_events() -> None:
    pkg = {
        "ofc_package_id": "FP1",
        "tracking_number": "LGS1",
        "logistic_detail_info_list": [
            {"status_code": "1400", "detail_type": "delivered", "event_time": 1762300000000},
            {"status_code": "1200", "detail_type": "ready_to", "event_time": "1762100000000"},
        ],
    }
    for key in ("module", "data"):
        t = OrderTrace.from_result("9", {key: [{"package_detail_info_list": [pkg]}]})
        assert [e.status_code for e in t.packages[0].events] == ["1200", "1400"]


def test_finance_models() -> None:
    t = Transaction.from_wire(
        {
            "transaction_number": "T1",
            "amount": "-12.30",
            "paid_status": "Paid",
            "transaction_date": "2026-05-12",
            "fee_type": "16",
        }
    )
    assert t.amount == Decimal("-12.30") and t.paid and t.transaction_date == date(2026, 5, 12)
    s = Statement.from_wire({"statement_number": "S1", "subtotal1": "10", "paid": "0"})
    assert not s.paid and s.subtotal1 == Decimal("10")


def test_secret_never_prints() -> None:
    s = Secret("hunter2")
    assert "hunter2" not in f"{s} {s!r} {[s]} {s:>10}"
    assert s.reveal() == "hunter2"


def test_connection_from_env() -> None:
    assert connection_from_env({}) is None
    conn = connection_from_env(
        {
            "XL_LAZADA_BASE_URL": "http://127.0.0.1:9/rest/",
            "XL_LAZADA_APP_KEY": "100100",
            "XL_LAZADA_APP_SECRET": "s3cr3t",
            "XL_LAZADA_ACCESS_TOKEN": "tok",
            "XL_LAZADA_VENTURE": "th",
        }
    )
    assert conn is not None
    assert conn.base_url == "http://127.0.0.1:9/rest" and conn.auth_url == conn.base_url
    assert conn.venture == "TH" and conn.access_token and conn.access_token.reveal() == "tok"
    assert "s3cr3t" not in repr(conn) and "tok" not in repr(conn)
    real = connection_from_env(
        {"XL_LAZADA_APP_KEY": "1", "XL_LAZADA_APP_SECRET": "2", "XL_LAZADA_VENTURE": "SG"}
    )
    assert real is not None and real.base_url == "https://api.lazada.sg/rest"
    assert real.auth_url == "https://auth.lazada.com/rest"
    with pytest.raises(ConfigError, match="XL_LAZADA_APP_SECRET"):
        connection_from_env({"XL_LAZADA_APP_KEY": "1"})
    with pytest.raises(ConfigError, match="not a Lazada venture"):
        connection_from_env(
            {"XL_LAZADA_APP_KEY": "1", "XL_LAZADA_APP_SECRET": "2", "XL_LAZADA_VENTURE": "XX"}
        )


def test_lazada_error_text_stays_on_one_line() -> None:
    msg = "line one\nline two\r\n\x1b[31mred\x1b[0m " + "x" * 1000
    with pytest.raises(E.BadRequestError) as info:
        parse_body(
            "/orders/get",
            200,
            body(type="ISV", code="InvalidParameter", message=msg, request_id="r\n1"),
        )
    text = str(info.value)
    assert "\n" not in text and "\r" not in text and "\x1b" not in text
    assert len(text) < 450 and "line one line two" in text


@pytest.mark.parametrize(
    "url", ["not-a-url", "ftp://x/rest", "127.0.0.1:8765/rest", "http:///rest"]
)
def test_a_base_url_that_is_not_http_is_refused_up_front(url: str) -> None:
    env = {"XL_LAZADA_APP_KEY": "1", "XL_LAZADA_APP_SECRET": "2", "XL_LAZADA_BASE_URL": url}
    with pytest.raises(ConfigError, match="XL_LAZADA_BASE_URL=.*not an http"):
        connection_from_env(env)
