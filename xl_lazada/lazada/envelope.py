"""Unwrap Lazada's three response shapes: ``data``, ``result`` (trace, fulfilment) and top-level (auth)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import ResponseFormatError, error_from_body


@dataclass(frozen=True, slots=True)
class Envelope:
    payload: Any  # body["data"], body["result"], or the whole body for auth calls
    request_id: str | None
    body: dict[str, Any]


def parse_body(api: str, status_code: int, content: bytes) -> Envelope:
    """Parse a raw HTTP body into an :class:`Envelope`, raising the mapped error if it is one."""
    try:
        # Ids arrive as JSON numbers (order ids have 15+ digits): json keeps integers exact,
        # and numbers with a point become Decimal, never a binary float (money).
        body = json.loads(content, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        snippet = content[:80].decode("utf-8", "replace").strip().replace("\n", " ")
        kind = (
            "an HTML page"
            if snippet.lower().startswith(("<!doctype", "<html"))
            else "a non-JSON body"
        )
        raise ResponseFormatError(
            f"{api}: Lazada answered HTTP {status_code} with {kind} "
            "(an IP block or a gateway error); try again later",
            api=api,
            status_code=status_code,
        ) from None
    if not isinstance(body, dict):
        raise ResponseFormatError(
            f"{api}: Lazada answered with JSON that is not an object", api=api
        )

    code = str(body.get("code", "0"))
    if code != "0":
        raise error_from_body(body, api=api)

    request_id = body.get("request_id")
    if "data" in body or "result" in body:
        result = body["data"] if "data" in body else body["result"]
        if _failed(result):
            err = {
                "code": result.get("error_code")
                or result.get("errorCode")
                or "UnknownRuntimeException",
                "message": result.get("error_msg") or result.get("errorMsg") or "",
                "type": "ISP",
                "request_id": request_id,
            }
            if isinstance(err["code"], dict):  # some APIs nest {displayMessage, key}
                err["message"] = err["code"].get("displayMessage", "")
                err["code"] = err["code"].get("key", "UnknownRuntimeException")
            raise error_from_body(err, api=api)
        return Envelope(result, request_id, body)
    if status_code >= 500:
        raise ResponseFormatError(
            f"{api}: Lazada answered HTTP {status_code}", api=api, status_code=status_code
        )
    return Envelope(body, request_id, body)


def _flag(value: Any) -> bool | None:
    """Lazada's booleans come as JSON booleans or as the strings "true"/"false"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _failed(result: Any) -> bool:
    """A ``result``/``data`` object that says it failed (``success`` false or ``not_success`` /
    ``notSuccess`` true), as trace answers do while the envelope's code is still "0"."""
    if not isinstance(result, dict):
        return False
    return (
        _flag(result.get("success")) is False
        or _flag(result.get("not_success")) is True
        or _flag(result.get("notSuccess")) is True
    )
