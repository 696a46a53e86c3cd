"""Lazada's signature: the published test vector, properties of the algorithm, and the wire.

The properties are what Lazada's gateway relies on: it re-sorts the parameters it receives,
ignores ``sign`` itself, hashes UTF-8 text, and any tampered value must break the signature.
"""

from __future__ import annotations

import importlib
import json
import os
from urllib.parse import parse_qsl

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_lazada.config import Connection
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.retry import NO_RETRY
from xl_lazada.lazada.signing import encode_params, sign, string_to_sign, verify
from xl_lazada.secret import Secret

VECTOR_PARAMS = {
    "app_key": "123456",
    "access_token": "test",
    "timestamp": "1517820392000",
    "sign_method": "sha256",
    "order_id": "1234",
}
VECTOR_STRING = (
    "/order/getaccess_tokentestapp_key123456order_id1234sign_methodsha256timestamp1517820392000"
)
VECTOR_SIGN = "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"


def test_lazada_published_vector() -> None:
    assert string_to_sign("/order/get", VECTOR_PARAMS) == VECTOR_STRING
    assert sign("helloworld", "/order/get", VECTOR_PARAMS) == VECTOR_SIGN
    # the path is signed without the /rest prefix, however the caller spells it
    assert sign("helloworld", "/rest/order/get", VECTOR_PARAMS) == VECTOR_SIGN
    assert sign("helloworld", "order/get/", VECTOR_PARAMS) == VECTOR_SIGN


names = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=12
)
values = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)
param_dicts = st.dictionaries(names.filter(lambda n: n != "sign"), values, min_size=1, max_size=8)
secrets = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)


@settings(max_examples=200, deadline=None)
@given(params=param_dicts, secret=secrets, data=st.data())
def test_order_of_parameters_does_not_matter(params, secret, data) -> None:
    shuffled = data.draw(st.permutations(list(params.items())))
    assert sign(secret, "/orders/get", dict(shuffled)) == sign(secret, "/orders/get", params)


@settings(max_examples=200, deadline=None)
@given(params=param_dicts, secret=secrets, junk=values)
def test_sign_parameter_is_excluded(params, secret, junk) -> None:
    assert sign(secret, "/orders/get", {**params, "sign": junk}) == sign(
        secret, "/orders/get", params
    )
    signed = {**params, "sign": sign(secret, "/orders/get", params)}
    assert verify(secret, "/orders/get", signed, signed["sign"])


@pytest.fixture(scope="module")
def lazop_sign(tmp_path_factory):
    """Lazada's official SDK signer, as an independent oracle (it writes logs under ~)."""
    home = os.environ.get("HOME")
    os.environ["HOME"] = str(tmp_path_factory.mktemp("home"))
    try:
        base = importlib.import_module("lazop_sdk.base")
    finally:
        if home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = home
    return base.sign


text_no_surrogates = st.text(
    alphabet=st.characters(min_codepoint=0x80, blacklist_categories=("Cs",)),
    min_size=1,
    max_size=20,
)


@settings(max_examples=200, deadline=None)
@given(params=param_dicts, secret=secrets, text=text_no_surrogates)
def test_non_ascii_values_sign_like_lazadas_sdk(lazop_sign, params, secret, text) -> None:
    params = {**params, "buyer_name": text, "remarks": "Đơn hàng 订单 ร้าน"}
    assert sign(secret, "/orders/get", params) == lazop_sign(secret, "/orders/get", params)


@settings(max_examples=300, deadline=None)
@given(params=param_dicts, secret=secrets, data=st.data())
def test_any_change_to_a_value_changes_the_signature(params, secret, data) -> None:
    name = data.draw(st.sampled_from(sorted(params)))
    new_value = data.draw(values.filter(lambda v: v != params[name]))
    changed = {**params, name: new_value}
    # a changed value could only collide if the concatenation were identical; rule that out
    if string_to_sign("/x", changed) != string_to_sign("/x", params):
        assert sign(secret, "/x", changed) != sign(secret, "/x", params)
    assert not verify(secret, "/x", changed, sign(secret, "/x", params))


@settings(max_examples=100, deadline=None)
@given(params=param_dicts, secret=secrets, other=secrets)
def test_a_different_secret_gives_a_different_signature(params, secret, other) -> None:
    if other != secret:
        assert sign(secret, "/x", params) != sign(other, "/x", params)


def test_structured_values_are_json_and_empty_values_dropped() -> None:
    encoded = encode_params(
        {"order_ids": [1, 2], "req": {"a": "é"}, "empty": "", "none": None, "flag": True}
    )
    assert encoded == {"order_ids": "[1,2]", "req": '{"a":"é"}', "flag": "true"}


def _capture(requests: list[httpx.Request]):
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path.endswith("/auth/token/create"):
            return httpx.Response(
                200,
                json={
                    "code": "0",
                    "access_token": "acc-123456",
                    "refresh_token": "ref-123456",
                    "expires_in": 3600,
                    "refresh_expires_in": 7200,
                },
            )
        return httpx.Response(200, json={"code": "0", "data": {}, "request_id": "r"})

    return handler


def _conn() -> Connection:
    return Connection(
        base_url="https://api.lazada.com.my/rest",
        app_key="123456",
        app_secret=Secret("helloworld"),
        access_token=Secret("test-token"),
        venture="MY",
        auth_url="https://auth.lazada.com/rest",
    )


def test_client_signs_get_in_query_and_post_in_form_body() -> None:
    seen: list[httpx.Request] = []
    client = LazadaClient(_conn(), transport=httpx.MockTransport(_capture(seen)), retry=NO_RETRY)
    with client:
        client.call("/orders/items/get", {"order_ids": ["1", "2"], "status": "", "x": None})
        client.call("/auth/token/create", {"code": "abc"})

    get, post = seen
    assert get.method == "GET" and get.url.host == "api.lazada.com.my"
    assert get.url.path == "/rest/orders/items/get"
    q = dict(get.url.params)
    assert q["order_ids"] == '["1","2"]' and "status" not in q and "x" not in q
    assert q["sign_method"] == "sha256" and q["app_key"] == "123456"
    assert q["access_token"] == "test-token" and len(q["timestamp"]) == 13
    assert verify("helloworld", "/orders/items/get", q, q["sign"])

    assert post.method == "POST" and post.url.host == "auth.lazada.com"
    assert post.url.path == "/rest/auth/token/create" and not post.url.query
    assert post.headers["content-type"].startswith("application/x-www-form-urlencoded")
    form = dict(parse_qsl(post.content.decode()))
    assert "access_token" not in form  # never on /auth/token/*
    assert form["code"] == "abc"
    assert verify("helloworld", "/auth/token/create", form, form["sign"])
    assert json.dumps(form)  # plain strings only


def test_unknown_api_needs_an_explicit_method() -> None:
    seen: list[httpx.Request] = []
    with LazadaClient(_conn(), transport=httpx.MockTransport(_capture(seen))) as client:
        with pytest.raises(ValueError, match="method="):
            client.call("/product/item/get")
        client.call("/product/item/get", {"item_id": 1}, method="get")
        with pytest.raises(ValueError, match="added by the client"):
            client.call("/orders/get", {"sign": "x", "created_after": "2026-01-01T00:00:00+08:00"})
    assert [r.method for r in seen] == ["GET"]


@pytest.mark.parametrize("code", ["MY", "SG", "PH", "TH", "VN", "ID"])
def test_every_venture_gateway_and_the_auth_host(code: str) -> None:
    from xl_lazada.lazada.ventures import AUTH_URL, VENTURES

    seen: list[httpx.Request] = []
    gateway = VENTURES[code].base_url
    conn = Connection(
        base_url=gateway,
        app_key="123456",
        app_secret=Secret("helloworld"),
        access_token=Secret("t0k"),
        venture=code,
        auth_url=AUTH_URL,
    )
    with LazadaClient(conn, transport=httpx.MockTransport(_capture(seen)), default_qps=0) as client:
        client.call("/seller/get")
        client.call("/auth/token/refresh", {"refresh_token": "r"})
    assert str(seen[0].url).startswith(gateway + "/seller/get?")
    assert str(seen[1].url) == AUTH_URL + "/auth/token/refresh"


def test_any_base_url_with_a_path_prefix() -> None:
    seen: list[httpx.Request] = []
    conn = Connection(
        base_url="http://127.0.0.1:8765/proxy/rest/",
        app_key="1",
        app_secret=Secret("s"),
        access_token=Secret("t0k"),
        auth_url="http://127.0.0.1:8765/proxy/rest",
    )
    with LazadaClient(conn, transport=httpx.MockTransport(_capture(seen)), default_qps=0) as client:
        client.call("rest/order/get", {"order_id": 5})
    q = dict(seen[0].url.params)
    assert seen[0].url.path == "/proxy/rest/order/get"
    assert verify("s", "/order/get", q, q["sign"])  # signed over the API path, not the URL path
