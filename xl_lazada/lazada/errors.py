"""A small, readable exception tree for everything that can go wrong talking to Lazada.

Lazada reports errors in the body (usually with HTTP 200), so the class is chosen from
the body's ``code``. Messages carry the API path, Lazada's code and request id — never a
parameter value, token, secret or signature.

    LazadaError
    ├── TransportError          network failure or time-out            (retried)
    │   └── NetworkDownError    every call failed for a while: stop, don't retry
    ├── BudgetExhaustedError    the day's call budget is spent: not sent
    ├── ResponseFormatError     HTML or non-JSON body (e.g. an IP block) (retried)
    └── APIError                Lazada answered with an error envelope
        ├── AuthError
        │   ├── TokenExpiredError    IllegalAccessToken: refresh once, then fail
        │   └── LoginRequiredError   IllegalRefreshToken, InvalidCode: log in again
        │       └── RefreshUnsupportedError  AUTH_TYPE_UNSUPPORTED: this app cannot refresh
        ├── SignatureError           IncompleteSignature: wrong app secret
        ├── ClockSkewError           IllegalTimestamp: the computer's clock is off
        ├── BadRequestError          MissingParameter, InvalidParameter, numeric codes
        │   └── NotFoundError        LD_INVOKE_DOWNSTREAM_RESPONSE_BLANK, LD_INPUT_PARAM_VALID:
        │                            not this shop's order (or no such order) — not retried
        ├── ThrottledError           ApiCallLimit, 901                      (retried)
        └── ServerError              ServiceTimeout, UnknownRuntimeException, 998 (retried)
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import XlLazadaError


class LazadaError(XlLazadaError):
    """Base of every error this client raises."""

    retryable: bool = False

    def __init__(self, message: str, *, api: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.api = api


class TransportError(LazadaError):
    """The request never got an answer: connection refused, reset, DNS, time-out."""

    retryable = True


class NetworkDownError(TransportError):
    """Lazada has been unreachable from every worker for a while: stop instead of retrying
    thousands of calls one by one (the next run resumes where this one stopped)."""

    retryable = False


class BudgetExhaustedError(LazadaError):
    """The daily call budget given to the client is spent; the call was not sent."""


class ResponseFormatError(LazadaError):
    """The answer was not Lazada's JSON (an HTML block page, a truncated body, ...)."""

    retryable = True

    def __init__(self, message: str, *, api: str | None = None, status_code: int | None = None):
        super().__init__(message, api=api)
        self.status_code = status_code


class APIError(LazadaError):
    """Lazada answered with an error envelope."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        api: str | None = None,
        type: str | None = None,
        request_id: str | None = None,
        lazada_message: str | None = None,
    ) -> None:
        super().__init__(message, api=api)
        self.code = code
        self.type = type
        self.request_id = request_id
        self.lazada_message = lazada_message


class AuthError(APIError):
    """The shop's authorisation is not usable."""


class TokenExpiredError(AuthError):
    """Access token invalid or expired; the client refreshes once and retries."""


class LoginRequiredError(AuthError):
    """Refresh token or OAuth code rejected: the seller must authorise again."""


class RefreshUnsupportedError(LoginRequiredError):
    """``AUTH_TYPE_UNSUPPORTED`` on refresh: this kind of app cannot refresh tokens at all, so
    the seller must log in again before the access token ends."""


class SignatureError(APIError):
    """Lazada could not verify the signature: almost always a wrong app secret."""


class ClockSkewError(APIError):
    """The timestamp was refused: this computer's clock is too far from UTC."""


class BadRequestError(APIError):
    """The request itself is wrong; retrying cannot help."""

    def __init__(self, message: str, *, parameter: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.parameter = parameter


class NotFoundError(BadRequestError):
    """Lazada does not know the order in this shop and country (trace's ``LD_...`` codes).

    It is an answer, not a fault: retrying cannot help, and the caller decides whether an
    unknown order is an error (a typo in a worksheet) or just nothing to show.
    """


class ThrottledError(APIError):
    """Per-API call limit hit; wait ``retry_after`` seconds (at least 1) and retry."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float = 1.0, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(APIError):
    """Lazada failed on its side (or switched the API off during a campaign)."""

    retryable = True


_AUTH_EXPIRED = {"IllegalAccessToken", "InvalidAccessToken", "AccessTokenExpired"}
_LOGIN_REQUIRED = {"IllegalRefreshToken", "InvalidCode", "InvalidRefreshToken"}
_REFRESH_UNSUPPORTED = {"AUTH_TYPE_UNSUPPORTED"}
#: Trace's answers for an order that is not this shop's (or does not exist), per Lazada's
#: GetOrderTrace reference: "order does not exist in the current country or store".
NOT_FOUND_CODES = frozenset(
    {"LD_INVOKE_DOWNSTREAM_RESPONSE_BLANK", "LD_INPUT_PARAM_VALID", "INPUT_PARAM_VALID"}
)
#: /orders/items/get: "E037: One or more order id in the list are incorrect" fails the batch.
BAD_ORDER_IDS_CODES = frozenset({"37", "E037", "E37"})
_SIGNATURE = {"IncompleteSignature", "InvalidSignature"}
_CLOCK = {"IllegalTimestamp", "InvalidTimestamp"}
_THROTTLED = {"ApiCallLimit", "901", "AppCallLimit"}
_SERVER = {
    "ServiceTimeout",
    "UnknownRuntimeException",
    "998",
    "ServiceUnavailable",
    "InternalError",
}
_BAD_REQUEST = {
    "MissingParameter",
    "InvalidParameter",
    "UnsupportedHTTPMethod",
    "InvalidApiPath",
    "InvalidAppKey",
}

_QUOTED = re.compile(r"[\"“'‘]([A-Za-z_][A-Za-z0-9_]*)[\"”'’]")
_BAN_SECONDS = re.compile(r"ban will last (\d+(?:\.\d+)?) second", re.IGNORECASE)


def one_line(value: Any, limit: int = 300) -> str:
    """Text (Lazada's, or an error's) made safe for one line of output: printable,
    whitespace folded, bounded. An error without text is named by its type, so a failure
    never reads as blank."""
    if isinstance(value, BaseException) and not str(value).strip():
        value = type(value).__name__
    text = " ".join(str(value or "").split())
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parameter_from_message(message: str) -> str | None:
    """Lazada names the offending parameter in quotes inside the message text."""
    m = _QUOTED.search(message or "")
    return m.group(1) if m else None


def error_from_body(body: dict[str, Any], *, api: str | None = None) -> APIError:
    """Map an error envelope (``type``, ``code``, ``message``, ``request_id``) to an exception."""
    code = str(body.get("code", "")).strip() or "Unknown"
    etype = body.get("type")
    lazada_message = one_line(body.get("message"))
    request_id = one_line(body.get("request_id"), limit=64) or None
    code = one_line(code, limit=64) or "Unknown"
    where = f"{api}: " if api else ""
    text = f"{where}Lazada error {code}" + (f": {lazada_message}" if lazada_message else "")
    if request_id:
        text += f" (request_id {request_id})"
    kw: dict[str, Any] = dict(
        code=code, api=api, type=etype, request_id=request_id, lazada_message=lazada_message
    )
    if code in _AUTH_EXPIRED:
        return TokenExpiredError(text, **kw)
    if code in _REFRESH_UNSUPPORTED:
        return RefreshUnsupportedError(
            text + " — this app cannot refresh tokens; log in to Lazada again before the "
            "access token expires",
            **kw,
        )
    if code in _LOGIN_REQUIRED:
        return LoginRequiredError(text + " — log in to Lazada again", **kw)
    if code in NOT_FOUND_CODES:
        return NotFoundError(text, parameter="order_id", **kw)
    if code in _SIGNATURE:
        return SignatureError(text + " — check the app secret", **kw)
    if code in _CLOCK:
        return ClockSkewError(text + " — check this computer's clock and time zone", **kw)
    if code in _THROTTLED:
        m = _BAN_SECONDS.search(lazada_message)
        wait = max(1.0, float(m.group(1))) if m else 1.0
        return ThrottledError(text, retry_after=wait, **kw)
    if code in _SERVER or (code not in _BAD_REQUEST and etype in ("ISP", "SYSTEM")):
        return ServerError(text, **kw)
    return BadRequestError(text, parameter=parameter_from_message(lazada_message), **kw)


def is_bad_order_ids(exc: BaseException) -> bool:
    """Lazada refused a list of order ids because at least one is wrong (E037)."""
    if not isinstance(exc, BadRequestError):
        return False
    if exc.code.upper() in BAD_ORDER_IDS_CODES:
        return True
    text = (exc.lazada_message or "").lower()
    return "e037" in text or ("order id" in text and "incorrect" in text)
