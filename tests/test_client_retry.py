"""Retries, throttling and transport failures: the cases a live server cannot produce on cue.

Uses ``httpx.MockTransport`` for exact timing (injected sleep/random/clock), HTML 5xx pages
and dropped connections. The sandbox-backed tests cover the same paths over real HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from xl_lazada.config import Connection
from xl_lazada.lazada import errors as E
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.retry import RetryPolicy
from xl_lazada.secret import Secret

OK = {"code": "0", "data": {"seller_id": "1", "name": "Shop"}, "request_id": "ok"}
THROTTLE = {
    "type": "ISP",
    "code": "ApiCallLimit",
    "message": "The request has exceeded the limit of API calls per second. This ban will last 1 seconds.",
    "request_id": "t",
}


def conn() -> Connection:
    return Connection(
        base_url="https://api.lazada.com.my/rest",
        app_key="100100",
        app_secret=Secret("s3cret-app"),
        access_token=Secret("tok-access-1"),
        venture="MY",
    )


class FakeTime:
    """A clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def policy(t: FakeTime, rnd: float = 0.5, **kw) -> RetryPolicy:
    return RetryPolicy(sleep=t.sleep, clock=t.clock, random=lambda: rnd, **kw)


def scripted(
    answers: list,
) -> tuple[Callable[[httpx.Request], httpx.Response], list[httpx.Request]]:
    """Answer each request with the next item: a dict (JSON 200), a Response, or an exception."""
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        if isinstance(item, httpx.Response):
            return item
        return httpx.Response(200, json=item)

    return handler, seen


def make(answers: list, t: FakeTime, **kw) -> tuple[LazadaClient, list[httpx.Request]]:
    handler, seen = scripted(answers)
    retry = kw.pop("retry", None) or policy(t)
    client = LazadaClient(
        conn(), transport=httpx.MockTransport(handler), retry=retry, default_qps=0, **kw
    )
    return client, seen


def test_throttle_waits_at_least_one_second_then_succeeds() -> None:
    t = FakeTime()
    client, seen = make([THROTTLE, THROTTLE, OK], t, retry=policy(t, rnd=0.0))
    with client:
        assert client.seller().name == "Shop"
    assert len(seen) == 3
    assert len(t.sleeps) == 2 and all(s >= 1.0 for s in t.sleeps)
    assert client.stats.throttled == 2 and client.stats.retries == 2 and client.stats.calls == 3


def test_throttle_honours_a_longer_ban_and_901() -> None:
    t = FakeTime()
    longer = dict(THROTTLE, message="This ban will last 3 seconds.")
    code901 = {"type": "ISP", "code": "901", "message": "App call limit", "request_id": "x"}
    client, _ = make([longer, code901, OK], t)
    with client:
        client.seller()
    assert t.sleeps[0] >= 3.0 and t.sleeps[1] >= 1.0
    # jitter stays bounded above the ban
    assert t.sleeps[0] <= 3.0 + client.retry.throttle_jitter


def test_server_errors_back_off_exponentially_with_full_jitter() -> None:
    t = FakeTime()
    codes = ["ServiceTimeout", "UnknownRuntimeException", "998", "ServiceTimeout"]
    answers = [{"type": "ISP", "code": c, "message": "busy", "request_id": c} for c in codes]
    client, seen = make([*answers, OK], t, retry=policy(t, rnd=1.0, base_delay=0.5, max_delay=3.0))
    with client:
        client.seller()
    assert len(seen) == 5
    assert t.sleeps == [0.5, 1.0, 2.0, 3.0]  # base * 2**n, capped at max_delay (random()=1)

    t2 = FakeTime()
    client, _ = make([answers[0], OK], t2, retry=policy(t2, rnd=0.25, base_delay=2.0))
    with client:
        client.seller()
    assert t2.sleeps == [0.5]  # full jitter: random() * ceiling


def test_retries_are_bounded_by_attempts(caplog) -> None:
    t = FakeTime()
    busy = {"type": "ISP", "code": "ServiceTimeout", "message": "busy", "request_id": "b"}
    client, seen = make([busy], t, retry=policy(t, max_attempts=4))
    with (
        caplog.at_level("INFO", logger="xl_lazada.http"),
        client,
        pytest.raises(E.ServerError) as info,
    ):
        client.seller()
    assert len(seen) == 4 and len(t.sleeps) == 3
    assert info.value.code == "ServiceTimeout"
    assert client.stats.calls == 4 and client.stats.retries == 3
    # Giving up is in the log for -v, not a warning: the error raised is what is reported
    # (a network going down mid-sync printed one warning per call in flight).
    (gave_up,) = [r for r in caplog.records if "giving up after 4 attempts" in r.getMessage()]
    assert gave_up.levelname == "INFO"
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_retries_are_bounded_by_total_time() -> None:
    t = FakeTime()
    client, seen = make([THROTTLE], t, retry=policy(t, rnd=0.0, max_attempts=100, max_elapsed=5.0))
    with client, pytest.raises(E.ThrottledError):
        client.seller()
    assert sum(t.sleeps) <= 5.0
    assert 3 <= len(seen) <= 6


@pytest.mark.parametrize(
    ("body", "cls"),
    [
        ({"type": "ISV", "code": "IncompleteSignature", "message": "sig"}, E.SignatureError),
        (
            {
                "type": "ISV",
                "code": "InvalidParameter",
                "message": 'The specified parameter "created_after" is not valid.',
            },
            E.BadRequestError,
        ),
        ({"type": "ISV", "code": "MissingParameter", "message": "x"}, E.BadRequestError),
        ({"type": "ISV", "code": "IllegalTimestamp", "message": "expired"}, E.ClockSkewError),
        ({"type": "ISV", "code": "19", "message": "limit"}, E.BadRequestError),
        ({"type": "ISV", "code": "IllegalRefreshToken", "message": "x"}, E.LoginRequiredError),
    ],
)
def test_no_retry_for_signature_or_bad_requests(body: dict, cls: type) -> None:
    t = FakeTime()
    client, seen = make([dict(body, request_id="rq-1"), OK], t)
    with client, pytest.raises(cls) as info:
        client.seller()
    assert len(seen) == 1 and t.sleeps == []
    assert info.value.request_id == "rq-1"
    if body["code"] == "InvalidParameter":
        assert info.value.parameter == "created_after"
        assert "created_after" in str(info.value)


def test_html_5xx_page_is_retried_then_reported_clearly() -> None:
    t = FakeTime()
    html = httpx.Response(
        502,
        content=b"<!DOCTYPE html><html><body>Bad Gateway</body></html>",
        headers={"content-type": "text/html"},
    )
    client, seen = make([html, OK], t)
    with client:
        assert client.seller().seller_id == "1"
    assert len(seen) == 2 and len(t.sleeps) == 1

    t = FakeTime()
    client, seen = make([html], t, retry=policy(t, max_attempts=3))
    with client, pytest.raises(E.ResponseFormatError) as info:
        client.seller()
    assert "HTML" in str(info.value) and "502" in str(info.value)
    assert len(seen) == 3


def test_truncated_json_and_non_object_json_are_format_errors() -> None:
    t = FakeTime()
    truncated = httpx.Response(200, content=b'{"code": "0", "data": {"sel')
    client, seen = make([truncated, httpx.Response(200, content=b"[1,2]"), OK], t)
    with client:
        client.seller()
    assert len(seen) == 3

    client, _ = make([httpx.Response(200, content=b"null")], t, retry=policy(t, max_attempts=1))
    with client, pytest.raises(E.ResponseFormatError):
        client.seller()


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ReadError("Connection reset by peer"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ReadTimeout("timed out"),
    ],
)
def test_transport_failures_map_to_transport_error_and_retry(exc: Exception) -> None:
    t = FakeTime()
    client, seen = make([exc, OK], t)
    with client:
        client.seller()
    assert len(seen) == 2 and client.stats.retries == 1

    t = FakeTime()
    client, seen = make([exc], t, retry=policy(t, max_attempts=2))
    with client, pytest.raises(E.TransportError) as info:
        client.seller()
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "/seller/get" in str(info.value) and "tok-access-1" not in str(info.value)


def test_code_exchange_is_not_repeated_once_the_request_may_have_arrived() -> None:
    t = FakeTime()
    token_ok = {"code": "0", "access_token": "a" * 8, "refresh_token": "r" * 8, "expires_in": 60}
    client, seen = make([httpx.ReadError("reset"), token_ok], t)
    with client, pytest.raises(E.TransportError):
        client.call("/auth/token/create", {"code": "single-use"})
    assert len(seen) == 1  # the code may be spent; repeating would only say InvalidCode

    client, seen = make([httpx.ConnectError("refused"), token_ok], t)
    with client:
        client.call("/auth/token/create", {"code": "single-use"})
    assert len(seen) == 2  # never connected: safe to try again


def test_throttle_penalises_the_path_for_every_thread() -> None:
    """After ApiCallLimit the shared limiter holds the next call on that path back."""
    t = FakeTime()
    limiter_sleeps: list[float] = []
    from xl_lazada.lazada.ratelimit import RateLimiter

    limiter = RateLimiter(default_qps=10, clock=t.clock, sleep=limiter_sleeps.append)
    client, _ = make([THROTTLE], t, retry=policy(t, max_attempts=1), limiter=limiter)
    with client, pytest.raises(E.ThrottledError):
        client.seller()
    assert limiter.reserve("/seller/get") >= 1.0  # another thread would wait out the ban
    assert limiter.reserve("/orders/get") == 0.0  # other paths are not affected


def test_error_envelope_with_http_500_json_maps_from_body() -> None:
    t = FakeTime()
    body = {
        "type": "ISV",
        "code": "InvalidParameter",
        "message": 'The "limit" is bad',
        "request_id": "z",
    }
    client, seen = make([httpx.Response(500, content=json.dumps(body).encode())], t)
    with client, pytest.raises(E.BadRequestError) as info:
        client.seller()
    assert info.value.parameter == "limit" and len(seen) == 1


def test_retry_log_line_keeps_lazadas_code_on_one_line(caplog) -> None:
    t = FakeTime()
    forged = {"type": "ISP", "code": "X\nINFO forged: token accepted", "message": "m"}
    client, seen = make([forged, OK], t)
    with caplog.at_level("INFO", logger="xl_lazada.http"), client:
        client.seller()
    assert len(seen) == 2
    lines = [r.getMessage() for r in caplog.records if r.name == "xl_lazada.http"]
    assert lines and all("\n" not in line for line in lines)
