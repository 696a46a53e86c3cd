"""Lazada's request signature: HMAC-SHA256 over the API path and sorted name+value pairs."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any


def api_path(path: str) -> str:
    """Normalise an API name to what is signed: '/orders/get', never '/rest/orders/get'."""
    path = "/" + path.strip("/")
    if path.startswith("/rest/"):
        path = path[len("/rest") :]
    return path


def encode_value(value: Any) -> str:
    """Turn a parameter value into the text Lazada signs and receives.

    Lists and dicts travel as compact JSON text (``order_ids=[1,2]``); booleans as
    ``true``/``false``; everything else as ``str()``.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Encode values and drop empty ones: Lazada rejects (and mis-signs) empty parameters."""
    out: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        text = encode_value(value)
        if text == "":
            continue
        out[name] = text
    return out


def string_to_sign(path: str, params: Mapping[str, str]) -> str:
    """The canonical string: API path, then name+value for each parameter sorted by name."""
    body = "".join(f"{name}{params[name]}" for name in sorted(params) if name != "sign")
    return api_path(path) + body


def sign(secret: str, path: str, params: Mapping[str, str]) -> str:
    """Uppercase hex HMAC-SHA256 of :func:`string_to_sign` keyed with the app secret."""
    message = string_to_sign(path, params).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest().upper()


def verify(secret: str, path: str, params: Mapping[str, str], signature: str) -> bool:
    """Constant-time check of a received signature (used by the sandbox)."""
    expected = sign(secret, path, params).encode("ascii")
    # bytes: compare_digest raises TypeError on non-ASCII str, and the text is untrusted
    return hmac.compare_digest(expected, (signature or "").upper().encode("utf-8"))
