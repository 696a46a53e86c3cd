"""Request checks the way Lazada's gateway does them, answering with Lazada's error envelopes.

Every check raises :class:`ApiFail`; nothing here echoes a parameter's value back (values
are untrusted and may be secrets), only its name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from ..lazada.signing import verify
from ..lazada.statuses import STATUS_FILTERS

TIMESTAMP_WINDOW_SECONDS = 7200


_ISO_WITH_OFFSET = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$"
)
_YMD = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DIGITS = re.compile(r"^\d{1,20}$")
_INT = re.compile(r"^[+-]?\d{1,9}$")


class ApiFail(Exception):
    """An error answer: Lazada's ``type``, ``code`` and ``message``."""

    def __init__(self, code: str, message: str, etype: str = "ISV") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.etype = etype

    def body(self) -> dict[str, Any]:
        return {"type": self.etype, "code": self.code, "message": self.message}


def missing(name: str) -> ApiFail:
    return ApiFail(
        "MissingParameter",
        f'The input parameter "{name}" that is mandatory for processing this request is not supplied.',
    )


def invalid(name: str, why: str = "") -> ApiFail:
    return ApiFail(
        "InvalidParameter",
        f'The specified parameter "{name}" is not valid.' + (f" {why}" if why else ""),
    )


def throttled() -> ApiFail:
    return ApiFail(
        "ApiCallLimit",
        "The request has exceeded the limit of API calls per second. This ban will last 1 seconds.",
        "ISP",
    )


# -- the gateway's common checks --------------------------------------------------------------
def check_common(
    params: Mapping[str, str],
    *,
    api: str,
    app_key: str,
    app_secret: str,
    now_seconds: float,
) -> None:
    """App key, sign method, timestamp window and signature, in Lazada's order."""
    key = params.get("app_key", "")
    if not key:
        raise missing("app_key")
    if key != app_key:
        raise ApiFail("InvalidAppKey", "The specified app key is invalid.")
    method = params.get("sign_method", "")
    if not method:
        raise missing("sign_method")
    if method.lower() != "sha256":
        raise invalid("sign_method", "Only sha256 is supported.")
    stamp = params.get("timestamp", "")
    if not stamp:
        raise missing("timestamp")
    if (
        not (stamp.isascii() and stamp.isdigit())
        or abs(int(stamp) / 1000.0 - now_seconds) > TIMESTAMP_WINDOW_SECONDS
    ):
        raise ApiFail(
            "IllegalTimestamp",
            "The specified timestamp is invalid or expired: it must be epoch milliseconds "
            f"within {TIMESTAMP_WINDOW_SECONDS} seconds of the current UTC time.",
        )
    signature = params.get("sign", "")
    if not signature:
        raise missing("sign")
    unsigned = {k: v for k, v in params.items() if k != "sign"}
    if not verify(app_secret, api, unsigned, signature):
        raise ApiFail(
            "IncompleteSignature", "The request signature does not conform to platform standards."
        )


# -- business parameters ----------------------------------------------------------------------
def text(params: Mapping[str, str], name: str, *, required: bool = False) -> str | None:
    """A parameter's value, ``None`` when absent or blank (Lazada treats blank as absent)."""
    value = params.get(name)
    if value is None or value.strip() == "":
        if required:
            raise missing(name)
        return None
    return value.strip()


def iso_datetime(params: Mapping[str, str], name: str) -> datetime | None:
    """ISO 8601 with a UTC offset (``2026-11-01T00:00:00+08:00``), else Lazada's code 17."""
    value = text(params, name)
    if value is None:
        return None
    bad = ApiFail("17", f'E017: "{name}" Invalid Datetime Format, use ISO 8601 with an offset.')
    if not _ISO_WITH_OFFSET.match(value):
        raise bad
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad from None
    if parsed.tzinfo is None:
        raise bad
    return parsed


def ymd_date(params: Mapping[str, str], name: str, *, required: bool = False) -> date | None:
    """``YYYY-MM-DD`` (finance APIs), else Lazada's code 17."""
    value = text(params, name, required=required)
    if value is None:
        return None
    bad = ApiFail("17", f'E017: "{name}" Invalid Date Format, use YYYY-MM-DD.')
    if not _YMD.match(value):
        raise bad
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad from None


def integer(params: Mapping[str, str], name: str, default: int) -> int:
    """A whole number; anything else is ``InvalidParameter``."""
    value = text(params, name)
    if value is None:
        return default
    if not _INT.match(value):
        raise invalid(name)
    return int(value)


def limit(params: Mapping[str, str], maximum: int, default: int) -> int:
    value = integer(params, "limit", default)
    if not 1 <= value <= maximum:
        raise ApiFail("19", f'E019: "limit" Invalid Limit, must be between 1 and {maximum}.')
    return value


def offset(params: Mapping[str, str], maximum: int | None) -> int:
    value = integer(params, "offset", 0)
    if value < 0 or (maximum is not None and value > maximum):
        top = f" and {maximum}" if maximum is not None else ""
        raise ApiFail("14", f'E014: "offset" Invalid Offset, must be between 0{top}.')
    return value


def order_id(params: Mapping[str, str], name: str = "order_id") -> str:
    value = text(params, name, required=True)
    assert value is not None
    if not _DIGITS.match(value):
        raise invalid(name)
    return value


def order_ids(params: Mapping[str, str], maximum: int = 50) -> list[str]:
    """A JSON list of order ids (numbers or digit strings), at most ``maximum``; duplicates dropped."""
    raw = text(params, "order_ids", required=True)
    assert raw is not None
    try:
        values = json.loads(raw)
    except ValueError:
        raise invalid("order_ids", "Send a JSON list such as [123,456].") from None
    if not isinstance(values, list) or not values:
        raise invalid("order_ids", "Send a JSON list such as [123,456].")
    out: list[str] = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, str)) or not _DIGITS.match(str(v)):
            raise invalid("order_ids")
        if str(v) not in out:
            out.append(str(v))
    if len(out) > maximum:
        raise ApiFail(
            "38", f'E038: "order_ids" Too many orders were requested (at most {maximum}).'
        )
    return out


def status(params: Mapping[str, str]) -> str | None:
    value = text(params, "status")
    if value is None or value.lower() == "all":
        return None
    value = value.lower()
    if value not in STATUS_FILTERS:
        raise ApiFail("36", 'E036: "status" Invalid status filter.')
    return value


def choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    """One of ``allowed`` (case-insensitive, answered in the allowed spelling)."""
    value = text(params, name)
    if value is None:
        return default
    for option in allowed:
        if value.lower() == option.lower():
            return option
    raise invalid(name)
