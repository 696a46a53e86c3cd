"""Secrets (app secret, access/refresh tokens, signatures) never reach logs, errors or reprs."""

from __future__ import annotations

import logging
import threading
import traceback
from datetime import timedelta
from urllib.parse import parse_qsl

import httpx
import pytest

from xl_lazada.lazada import errors as E
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.retry import RetryPolicy
from xl_lazada.sandbox.server import Faults, SandboxServer
from xl_lazada.secret import Secret


class Recorder(httpx.HTTPTransport):
    """Real HTTP that remembers every credential value it carried."""

    def __init__(self) -> None:
        super().__init__()
        self.values: set[str] = set()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        if request.method == "POST":
            params.update(parse_qsl(request.content.decode()))
        with self._lock:
            for name in ("sign", "access_token", "refresh_token", "code"):
                if params.get(name):
                    self.values.add(params[name])
        response = super().handle_request(request)
        if request.url.path.endswith("/auth/token/refresh"):
            response.read()
            import json

            body = json.loads(response.content)
            with self._lock:
                self.values.update(str(body.get(k)) for k in ("access_token", "refresh_token"))
        return response


def test_a_failing_run_leaks_no_secret(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with SandboxServer(orders=120, seed=5, clock_speed=0.0, qps=1000) as sb:
        tok = sb.issue_token()
        conn = sb.connection(tok)
        rec = Recorder()
        retry = RetryPolicy(max_attempts=3, sleep=lambda s: None)
        with LazadaClient(conn, transport=rec, retry=retry, default_qps=0) as client:
            texts.append(repr(client) + repr(conn) + str(conn))
            sb.faults = Faults(error_rate=0.3, malformed_rate=0.3, seed=2)
            start = sb.clock.now() - timedelta(days=400)
            try:
                list(client.iter_orders(created_after=start, page_size=10))
            except E.LazadaError as exc:  # may exhaust its retries: that is a failing call too
                texts.append(str(exc) + repr(exc) + "".join(traceback.format_exception(exc)))
            sb.faults = Faults()
            sb.expire_tokens()  # forces a refresh: new tokens travel too
            client.seller()
            texts.append(repr(client.token))
            for bad in (
                lambda: client.call("/orders/get", {"created_after": "bad"}),
                lambda: client.call("/seller/get", method="POST"),
                lambda: client.call("/orders/items/get", {"order_ids": list(range(60))}),
            ):
                with pytest.raises(E.LazadaError) as info:
                    bad()
                texts.append(str(info.value) + repr(info.value))
                texts.append("".join(traceback.format_exception(info.value)))
        # a wrong secret and a forged token
        from dataclasses import replace

        for broken in (
            replace(conn, app_secret=Secret("wrong-app-secret")),
            replace(conn, access_token=Secret("forged-access-token"), refresh_token=None),
        ):
            with LazadaClient(broken, transport=rec, retry=retry, default_qps=0) as other:
                with pytest.raises(E.LazadaError) as info:
                    other.seller()
                texts.append(str(info.value) + repr(info.value))
                texts.append("".join(traceback.format_exception(info.value)))
        app_secret = sb.app_secret

    logs = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "/orders/get" in logs and "request_id" in logs  # the client did log its calls
    assert "retry" in logs  # and the retries
    secrets = {app_secret, "wrong-app-secret", "forged-access-token"}
    secrets |= {tok["access_token"], tok["refresh_token"]}
    secrets |= rec.values  # every sign, every access/refresh token actually sent or received
    assert len(rec.values) > 20
    haystack = logs + "\n".join(texts)
    leaked = [s for s in secrets if s and s in haystack]
    assert leaked == []


def test_secrets_echoed_by_lazada_are_blanked_in_errors() -> None:
    """If Lazada quotes a credential in its message, the exception still does not show it."""

    def handler(request: httpx.Request) -> httpx.Response:
        q = dict(request.url.params)
        msg = f'Bad "access_token" {q["access_token"]} with sign {q["sign"]} key s3cret-app-key'
        return httpx.Response(
            200,
            json={
                "type": "ISV",
                "code": "InvalidParameter",
                "message": msg,
                "request_id": q["sign"],
            },
        )

    from xl_lazada.config import Connection

    conn = Connection(
        base_url="https://api.lazada.sg/rest",
        app_key="1",
        app_secret=Secret("s3cret-app-key"),
        access_token=Secret("the-access-token"),
        venture="SG",
    )
    client = LazadaClient(conn, transport=httpx.MockTransport(handler))
    with client, pytest.raises(E.BadRequestError) as info:
        client.seller()
    err = info.value
    text = str(err) + repr(err) + str(err.lazada_message) + str(err.request_id)
    assert "the-access-token" not in text and "s3cret-app-key" not in text
    assert "***" in text and err.parameter == "access_token"
    import re

    assert not re.search(r"[0-9A-F]{64}", text)  # no signature either
