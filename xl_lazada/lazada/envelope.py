"""Unwrap Lazada's three response shapes: ``data``, ``result`` (trace, fulfilment) and top-level (auth)."""

from __future__ import annotations

import json
from dataclasses import dataclass
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
        body = json.loads(content)
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
    if "data" in body:
        return Envelope(body["data"], request_id, body)
    if "result" in body:
        result = body["result"]
        if isinstance(result, dict) and (
            result.get("success") is False or result.get("not_success") is True
        ):
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
