"""The sandbox's ASGI app: Lazada's gateway (``/rest/...``), the OAuth page, and admin endpoints.

A ``/rest`` call goes through the gateway in this order: count it, wait ``latency_ms``, resolve
the API path and HTTP method, draw an injected fault, apply the per-API throttle, check app
key / sign method / timestamp / signature / access token, then run the API handler in a worker
thread. Errors are Lazada's envelopes with HTTP 200. Admin endpoints (``/_sandbox/...``) only
answer loopback callers and are never hit by faults.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..lazada.signing import api_path
from . import validate as V
from .apis import APIS, Backend, visible_orders
from .faults import ACCESS_DENIED_HTML, SERVER_ERRORS, Fault, FaultInjector, Faults
from .stats import Stats
from .throttle import ApiThrottle
from .validate import ApiFail

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
MAX_BODY_BYTES = 1 << 20
JSON_TYPE = "application/json;charset=UTF-8"

log = logging.getLogger(__name__)


@dataclass
class SandboxState:
    """Everything the app serves from; the server object owns it and tweaks it live."""

    backend: Backend
    app_key: str
    app_secret: str = field(repr=False)
    venture: str
    throttle: ApiThrottle
    injector: FaultInjector
    stats: Stats
    latency_ms: float = 0.0


def _request_id() -> str:
    return "0b" + os.urandom(11).hex()


_DECIMAL_MARK = "\x00D"
_DECIMAL_TOKEN = re.compile(r'"\\u0000D(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')


def _decimal_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_DECIMAL_MARK}{value}\x00"
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _json_bytes(body: Any) -> bytes:
    """JSON text; a ``Decimal`` becomes a JSON number written exactly (``12.50``, not 12.5),
    as Lazada writes money numbers."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_decimal_default)
    if _DECIMAL_MARK[0] in text or "\\u0000D" in text:
        text = _DECIMAL_TOKEN.sub(r"\1", text)
    return text.encode("utf-8")


def _lazada(body: dict[str, Any], status: int = 200) -> Response:
    return Response(_json_bytes(body), status_code=status, media_type=JSON_TYPE)


async def _read_params(request: Request) -> dict[str, str]:
    """Query string for every method, plus a form-encoded body for POST (later values win)."""
    params = dict(parse_qsl(request.url.query, keep_blank_values=True))
    if request.method == "POST":
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            raw = await request.body()
            if len(raw) > MAX_BODY_BYTES:
                raise V.invalid("body", "The request body is too large.")
            params.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def _fault_body(fault: Fault) -> dict[str, Any]:
    if fault.kind == "throttle":
        return V.throttled().body()
    code, message = SERVER_ERRORS[fault.variant]
    return ApiFail(code, message, "ISP").body()


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    return host == "::1" or host.startswith("127.") or host == "localhost"


def create_app(state: SandboxState) -> Starlette:
    """Build the Starlette app serving ``state``."""

    async def gateway(request: Request) -> Response:
        api = api_path(request.path_params.get("path", ""))
        state.stats.record_call(api)
        if state.latency_ms > 0:
            await asyncio.sleep(state.latency_ms / 1000.0)
        body, fault = await _answer(request, api)
        body["request_id"] = _request_id()
        code = str(body.get("code", "0"))
        if code != "0":
            state.stats.record_error(code)
        if fault is not None and fault.kind == "malformed":
            state.stats.record_error("malformed")
            if fault.variant == 0:
                return Response(ACCESS_DENIED_HTML, status_code=403, media_type="text/html")
            raw = _json_bytes(body)
            return Response(raw[: max(1, len(raw) // 2)], media_type=JSON_TYPE)
        return _lazada(body)

    async def _answer(request: Request, api: str) -> tuple[dict[str, Any], Fault | None]:
        spec = APIS.get(api)
        if spec is None:
            return ApiFail("InvalidApiPath", "The specified API path is invalid.").body(), None
        if request.method != spec.method:
            return ApiFail(
                "UnsupportedHTTPMethod",
                f"The HTTP method is not supported by this API; use {spec.method}.",
            ).body(), None
        fault = state.injector.draw()
        if fault is not None:
            if fault.kind in ("throttle", "error"):
                return _fault_body(fault), fault
            if fault.kind == "timeout":
                state.stats.record_error("timeout")
                await asyncio.sleep(state.injector.faults.timeout_seconds)
        if not state.throttle.allow(api):
            return V.throttled().body(), fault
        if fault is not None and fault.kind == "malformed" and fault.variant == 0:
            return {}, fault  # the HTML block page replaces any answer
        try:
            params = await _read_params(request)
            V.check_common(
                params,
                api=api,
                app_key=state.app_key,
                app_secret=state.app_secret,
                now_seconds=time.time(),
            )
            if spec.needs_token:
                token = V.text(params, "access_token")
                if token is None:
                    raise V.missing("access_token")
                if not state.backend.tokens.access_ok(token):
                    raise ApiFail(
                        "IllegalAccessToken", "The specified access token is invalid or expired."
                    )
            body = await run_in_threadpool(spec.handler, state.backend, params)
            body = state.backend.wire.finish(api, body, params)
        except ApiFail as fail:
            return fail.body(), fault
        except Exception:  # a sandbox bug: answer like Lazada, log without any parameter
            log.exception("sandbox handler for %s failed", api)
            return ApiFail("UnknownRuntimeException", "Internal error.", "ISP").body(), fault
        return body, fault

    # -- OAuth without a browser ----------------------------------------------------------
    async def authorize(request: Request) -> Response:
        q = request.query_params
        if q.get("response_type") != "code":
            return JSONResponse({"error": "response_type must be code"}, status_code=400)
        if q.get("client_id") != state.app_key:
            return JSONResponse({"error": "unknown client_id"}, status_code=400)
        redirect = q.get("redirect_uri", "")
        if urlsplit(redirect).scheme not in ("http", "https"):
            return JSONResponse({"error": "redirect_uri must be an http(s) URL"}, status_code=400)
        extra = {"code": state.backend.tokens.new_code()}
        if q.get("state"):
            extra["state"] = q["state"]
        joiner = "&" if urlsplit(redirect).query else "?"
        return RedirectResponse(redirect + joiner + urlencode(extra), status_code=302)

    # -- admin ----------------------------------------------------------------------------
    def admin(handler):
        async def guarded(request: Request) -> Response:
            if not _is_loopback(request):
                return JSONResponse({"error": "admin endpoints answer loopback only"}, 403)
            try:
                return await handler(request)
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)

        return guarded

    async def _json_body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise ValueError("body too large")
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise ValueError("send a JSON object") from None
        if not isinstance(data, dict):
            raise ValueError("send a JSON object")
        return data

    def _number(data: dict[str, Any], name: str) -> float | None:
        if name not in data:
            return None
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite")
        return float(value)

    def _clock_info() -> dict[str, Any]:
        clock = state.backend.clock
        return {"sim_time": clock.now().isoformat(), "clock_speed": clock.speed}

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def info(request: Request) -> Response:
        at = state.backend.clock.now()
        orders = await run_in_threadpool(visible_orders, state.backend, at)
        return JSONResponse(
            {
                **_clock_info(),
                "orders": orders,
                "orders_planned": getattr(state.backend.shop, "order_count", None),
                "venture": state.venture,
                "app_key": state.app_key,
                "base_url": str(request.base_url).rstrip("/") + "/rest",
                "qps": state.throttle.qps,
                "latency_ms": state.latency_ms,
                "faults": state.injector.faults.to_dict(),
                "token_ttl": state.backend.tokens.token_ttl,
            }
        )

    async def clock(request: Request) -> Response:
        data = await _json_body(request)
        unknown = sorted(set(data) - {"advance_seconds", "speed"})
        if unknown:
            raise ValueError(f"unknown clock setting(s): {', '.join(unknown)}")
        advance = _number(data, "advance_seconds")
        speed = _number(data, "speed")
        if advance is not None and advance < 0:
            raise ValueError("advance_seconds must not be negative")
        if speed is not None and speed < 0:
            raise ValueError("speed must not be negative")
        if speed is not None:
            state.backend.clock.set_speed(speed)
        if advance:
            state.backend.clock.advance(timedelta(seconds=advance))
        return JSONResponse(_clock_info())

    async def export(request: Request) -> Response:
        fd, path = tempfile.mkstemp(prefix="xl-lazada-sandbox-", suffix=".json")
        os.close(fd)
        try:
            await run_in_threadpool(state.backend.shop.to_json, path)
        except BaseException:
            os.unlink(path)
            raise
        return FileResponse(
            path,
            media_type="application/json",
            filename="sandbox-shop.json",
            background=BackgroundTask(os.unlink, path),
        )

    async def expire_tokens(request: Request) -> Response:
        return JSONResponse({"expired": state.backend.tokens.expire_access_tokens()})

    async def stats(request: Request) -> Response:
        return JSONResponse(state.stats.to_dict())

    async def stats_reset(request: Request) -> Response:
        state.stats.reset()
        return JSONResponse(state.stats.to_dict())

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            data = await _json_body(request)
            knobs: dict[str, Any] = {k: data.pop(k) for k in ("qps", "latency_ms") if k in data}
            qps = _number(knobs, "qps")
            latency = _number(knobs, "latency_ms")
            if latency is not None and latency < 0:
                raise ValueError("latency_ms must not be negative")
            updated: Faults = state.injector.faults.updated(data)
            state.injector.faults = updated
            if qps is not None:
                state.throttle.qps = qps
            if latency is not None:
                state.latency_ms = latency
        return JSONResponse(
            {
                **state.injector.faults.to_dict(),
                "qps": state.throttle.qps,
                "latency_ms": state.latency_ms,
            }
        )

    async def code(request: Request) -> Response:
        return JSONResponse({"code": state.backend.tokens.new_code()})

    async def not_found(request: Request) -> Response:
        return JSONResponse({"error": "not found"}, status_code=404)

    routes = [
        Route("/rest/{path:path}", gateway, methods=ALL_METHODS),
        Route("/oauth/authorize", authorize, methods=["GET"]),
        Route("/_sandbox/health", admin(health), methods=["GET"]),
        Route("/_sandbox/info", admin(info), methods=["GET"]),
        Route("/_sandbox/clock", admin(clock), methods=["POST"]),
        Route("/_sandbox/export", admin(export), methods=["GET"]),
        Route("/_sandbox/expire-tokens", admin(expire_tokens), methods=["POST"]),
        Route("/_sandbox/stats", admin(stats), methods=["GET"]),
        Route("/_sandbox/stats/reset", admin(stats_reset), methods=["POST"]),
        Route("/_sandbox/faults", admin(faults), methods=["GET", "POST"]),
        Route("/_sandbox/code", admin(code), methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.add_route("/{path:path}", not_found, methods=ALL_METHODS)
    return app
