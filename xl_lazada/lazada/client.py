"""The Lazada Open Platform client: signed HTTP calls with retries, rate limits and tokens.

``LazadaClient.call`` is the single door to Lazada: it picks the host (gateway or auth),
the HTTP method, adds and signs the common parameters, waits for its rate-limit slot,
maps every failure to :mod:`~xl_lazada.lazada.errors`, retries what is transient,
refreshes the access token ahead of expiry (and once when Lazada says it expired), and
keeps secrets out of logs and exception texts. The typed calls come from
:class:`~xl_lazada.lazada.api.TypedCalls`.

By default each API path's rate is *learned* (:class:`~.ratelimit.LearnedRateLimiter`):
Lazada does not publish its limits, so the client starts safe and follows its throttle
answers. When every call has failed at the transport level for ``network_down_after``
seconds (across all worker threads), the client stops trying and raises
:class:`~.errors.NetworkDownError` at once, so a dead network ends a sync in under a minute
instead of retrying thousands of calls one by one.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from .. import __version__
from ..config import Connection
from ..secret import Secret
from .api import API_METHODS, UNSAFE_TO_REPEAT, TypedCalls, is_token_api
from .dates import utcnow
from .envelope import Envelope, parse_body
from .errors import (
    APIError,
    LazadaError,
    LoginRequiredError,
    NetworkDownError,
    RefreshUnsupportedError,
    ThrottledError,
    TokenExpiredError,
    TransportError,
)
from .ratelimit import (
    DEFAULT_CEILING_QPS,
    CallBudget,
    LearnedRate,
    LearnedRateLimiter,
    RateLimiter,
)
from .retry import RetryPolicy
from .signing import api_path, encode_params, sign
from .tokens import REFRESH_MARGIN, Token

log = logging.getLogger("xl_lazada.http")

COMMON_PARAMS = frozenset({"app_key", "timestamp", "sign_method", "access_token", "sign"})
SENSITIVE_PARAMS = frozenset({"access_token", "refresh_token", "code", "sign"})
_REFRESH_BACKOFF = timedelta(minutes=5)  # after a failed early refresh, wait before retrying
CONNECT_TIMEOUT = 10.0  # a gateway that takes longer to accept a connection is not there
DEFAULT_WORKERS = 8  # enough calls in flight for ~50 calls/s at 150 ms; the limiter paces them


@dataclass
class CallStats:
    """Counters of what the client sent. Live object; read it at any time, from any thread."""

    calls: int = 0  # HTTP requests sent, retries included
    retries: int = 0
    throttled: int = 0  # ApiCallLimit answers
    refreshes: int = 0  # token refreshes done
    transport_failures: int = 0  # requests that got no answer (network, time-out)
    by_api: dict[str, int] = field(default_factory=dict)
    throttled_by_api: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def _sent(self, path: str) -> None:
        with self._lock:
            self.calls += 1
            self.by_api[path] = self.by_api.get(path, 0) + 1

    def _throttled(self, path: str) -> None:
        with self._lock:
            self.throttled += 1
            self.throttled_by_api[path] = self.throttled_by_api.get(path, 0) + 1

    def _bump(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def snapshot(self) -> dict[str, Any]:
        """A consistent copy, e.g. to report the calls a sync made (``after - before``)."""
        with self._lock:
            return {
                "calls": self.calls,
                "retries": self.retries,
                "throttled": self.throttled,
                "refreshes": self.refreshes,
                "transport_failures": self.transport_failures,
                "by_api": dict(self.by_api),
                "throttled_by_api": dict(self.throttled_by_api),
            }


class _HideQueryStrings(logging.Filter):
    """httpx logs every request's full URL at INFO; a GET's query carries the token and sign.

    Installed on the ``httpx`` logger so no handler, at any level, ever receives them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(
                f"{a.copy_with(query=None)}?<parameters hidden>"
                if isinstance(a, httpx.URL) and a.query
                else a
                for a in record.args
            )
        return True


def _install_httpx_filter() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _HideQueryStrings) for f in logger.filters):
        logger.addFilter(_HideQueryStrings())


_install_httpx_filter()


def _clean(value: Any, limit: int = 64) -> str:
    """Untrusted text for a log line: printable, one line, bounded."""
    text = "" if value is None else str(value)
    return "".join(c if c.isprintable() else "?" for c in text[:limit])


class NetworkWatch:
    """Consecutive transport failures across every thread of a client.

    Trips once ``min_failures`` calls in a row got no answer *and* nothing has answered for
    ``quiet_seconds`` (or nothing has answered at all since :meth:`reset`: there is no sign
    the network ever worked): then every call fails at once with :class:`NetworkDownError`
    for ``cooldown`` seconds (after which one more failure trips it again). Any answer from
    Lazada, even an error, resets it. A brief blip in a working sync never trips it.
    """

    def __init__(
        self,
        *,
        quiet_seconds: float = 20.0,
        min_failures: int = 6,
        cooldown: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quiet_seconds = quiet_seconds
        self.min_failures = min_failures
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._last_answer = clock()
        self._failures = 0
        self._tripped_at: float | None = None
        self._ever_answered = False
        self._quiet_since = self._last_answer
        self._reason = ""

    def answered(self) -> None:
        with self._lock:
            self._last_answer = self._clock()
            self._failures = 0
            self._tripped_at = None
            self._ever_answered = True

    def failed(self, reason: str = "") -> None:
        with self._lock:
            self._failures += 1
            self._reason = reason
            now = self._clock()
            if self._failures == 1:
                self._quiet_since = now
            if (
                self._tripped_at is None
                and self._failures >= self.min_failures
                and (not self._ever_answered or now - self._last_answer >= self.quiet_seconds)
            ):
                self._tripped_at = now

    def reset(self) -> None:
        """Start afresh (a new sync run): the quiet spell counts from now."""
        with self._lock:
            self._last_answer = self._clock()
            self._failures = 0
            self._tripped_at = None
            self._ever_answered = False

    def check(self, path: str) -> None:
        """Raise :class:`NetworkDownError` while tripped."""
        with self._lock:
            tripped = self._tripped_at
            if tripped is None:
                return
            now = self._clock()
            if now - tripped >= self.cooldown:  # let calls try again; one failure re-trips
                self._tripped_at = None
                self._failures = self.min_failures - 1
                self._last_answer = now - self.quiet_seconds
                return
            quiet = now - min(self._last_answer, self._quiet_since)
            failures, reason = self._failures, self._reason
        why = f" ({reason})" if reason else ""
        raise NetworkDownError(
            f"Lazada could not be reached{why}: {failures} calls in a row got no answer over "
            f"{quiet:.0f} s (the network or Lazada's gateway is down). The sync stopped; "
            "everything fetched so far is saved: run it again when the connection is back",
            api=path,
        )


class LazadaClient(TypedCalls):
    """A client for one shop (one :class:`~xl_lazada.config.Connection`). Thread-safe.

    Rates, shared by every thread using this client: by default each API path's rate is
    learned from Lazada's answers (starting from ``learned``, what an earlier run saved, or a
    safe 10 calls/s), never above ``qps[path]`` or ``max_qps``. Giving ``default_qps`` turns
    learning off: ``qps`` and ``default_qps`` are then fixed rates (``0`` = unlimited).
    ``max_workers`` bounds concurrent batch work. ``token`` (the
    full :class:`Token`, with its expiry) enables refresh ahead of expiry; without it the
    client refreshes only when Lazada reports the token expired. ``on_token`` is called
    with each new token so the caller can persist it.
    """

    def __init__(
        self,
        conn: Connection,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        qps: Mapping[str, float] | None = None,
        default_qps: float | None = None,
        max_qps: float | None = None,
        learned: Mapping[str, LearnedRate] | None = None,
        retry: RetryPolicy | None = None,
        max_workers: int = DEFAULT_WORKERS,
        on_token: Callable[[Token], None] | None = None,
        token: Token | None = None,
        refresh_margin: timedelta = REFRESH_MARGIN,
        limiter: RateLimiter | None = None,
        network_down_after: float = 20.0,
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.conn = conn
        self.max_workers = max_workers
        self.retry = retry or RetryPolicy()
        if limiter is None:
            if default_qps is not None:
                limiter = RateLimiter(qps, default_qps=default_qps)
            else:
                limiter = LearnedRateLimiter(
                    qps, ceiling=max_qps or DEFAULT_CEILING_QPS, learned=learned
                )
        self.limiter = limiter
        self.network = NetworkWatch(quiet_seconds=network_down_after)
        # Set by a caller that must not pass a call budget (the sync's daily budget).
        self.call_budget: CallBudget | None = None
        self.on_token = on_token
        self.refresh_margin = refresh_margin
        self._timeout = timeout
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
            follow_redirects=False,
            headers={"User-Agent": f"xl-lazada/{__version__}"},
        )
        self._stats = CallStats()
        self._token = token
        access = token.access_token if token else conn.access_token
        refresh = token.refresh_token if token else conn.refresh_token
        self._access: Secret | None = access if access else None
        self._refresh_token: Secret | None = refresh if refresh else None
        self._secrets: set[str] = {
            s.reveal() for s in (conn.app_secret, access, refresh) if s and len(s.reveal()) >= 4
        }
        self._refresh_lock = threading.Lock()
        self._early_refresh_failed_at: datetime | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._closed = False
        # The clock behind the ``timestamp`` parameter (Lazada refuses one off by > 7200 s).
        self.timestamp_ms: Callable[[], int] = lambda: int(time.time() * 1000)

    # -- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> LazadaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker threads and close the HTTP connections."""
        self._closed = True
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()

    def __repr__(self) -> str:
        return f"LazadaClient(shop={self.conn.shop!r}, base_url={self.conn.base_url!r})"

    def _executor(self) -> Executor:
        with self._pool_lock:
            if self._closed:
                raise RuntimeError("the LazadaClient is closed")
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.max_workers, thread_name_prefix="xl-lazada"
                )
            return self._pool

    @property
    def stats(self) -> CallStats:
        return self._stats

    def learned_rates(self) -> dict[str, LearnedRate]:
        """Per API path, the rate learned so far (empty with fixed rates): save it for the
        next run, which passes it back as ``learned=``."""
        learned = getattr(self.limiter, "learned", None)
        return learned() if callable(learned) else {}

    @property
    def token(self) -> Token | None:
        """The current token, if the client was given one or has refreshed."""
        return self._token

    # -- the one door -------------------------------------------------------------------
    def call(
        self, api: str, params: Mapping[str, Any] | None = None, *, method: str | None = None
    ) -> Envelope:
        """Call a Lazada API and return its envelope; raises a :class:`LazadaError`.

        ``params`` are the business parameters (lists/dicts are sent as JSON text, ``None``
        and empty values are dropped, :class:`Secret` values are revealed only on the wire).
        ``method`` is required for APIs not in :data:`~xl_lazada.lazada.api.API_METHODS`.
        """
        path = api_path(api)
        verb = self._method(path, method)
        business = self._business(params or {})
        try:
            if is_token_api(path):
                return self._attempts(path, verb, business, None)
            access = self._access_for_call()
            try:
                return self._attempts(path, verb, business, access)
            except TokenExpiredError:
                if self._refresh_token is None:
                    raise
                fresh = self._refresh(stale=access, reason="Lazada reported it expired")
                return self._attempts(path, verb, business, fresh)
        except LazadaError as exc:
            self._redact(exc, business)
            raise

    def _method(self, path: str, method: str | None) -> str:
        if method:
            verb = method.strip().upper()
            if verb not in ("GET", "POST"):
                raise ValueError(f"HTTP method must be GET or POST, not {method!r}")
            return verb
        try:
            return API_METHODS[path]
        except KeyError:
            raise ValueError(
                f"{path} is not in the API table; pass method='GET' or method='POST'"
            ) from None

    def _business(self, params: Mapping[str, Any]) -> dict[str, str]:
        clash = COMMON_PARAMS.intersection(params)
        if clash:
            raise ValueError(f"{', '.join(sorted(clash))} is added by the client; do not pass it")
        plain = {k: (v.reveal() if isinstance(v, Secret) else v) for k, v in params.items()}
        return encode_params(plain)

    # -- attempts and retries -----------------------------------------------------------
    def _attempts(
        self, path: str, verb: str, business: dict[str, str], access: Secret | None
    ) -> Envelope:
        policy = self.retry
        started = policy.clock()
        attempt = 0
        while True:
            attempt += 1
            self.network.check(path)
            self.limiter.acquire(path)
            self.network.check(path)  # it may have tripped while this call waited its turn
            budget = self.call_budget
            if budget is not None:
                budget.take(path)
            try:
                envelope = self._send(path, verb, business, access)
                self.limiter.succeeded(path)
                return envelope
            except LazadaError as exc:
                if isinstance(exc, ThrottledError):
                    self._stats._throttled(path)
                    self.limiter.throttled(path, exc.retry_after)
                if not self._may_retry(path, exc):
                    raise
                # Retries are routine (throttling, a flaky gateway), and what finally fails
                # is raised and reported by the caller (a sync lists it once; a dead network
                # is one error): these lines stay out of the default output, or a network
                # going down mid-sync would print one per call in flight.
                if attempt >= policy.max_attempts:
                    log.info("%s %s: giving up after %d attempts", verb, path, attempt)
                    raise
                delay = policy.delay(exc, attempt - 1)
                if policy.clock() - started + delay > policy.max_elapsed:
                    log.info(
                        "%s %s: giving up, retrying would pass %.0f s",
                        verb,
                        path,
                        policy.max_elapsed,
                    )
                    raise
                log.info(
                    "%s %s: %s, retry %d/%d in %.2f s",
                    verb,
                    path,
                    _clean(_code_of(exc)),  # Lazada's text: keep the log line one line
                    attempt,
                    policy.max_attempts - 1,
                    delay,
                )
                self._stats._bump("retries")
                policy.sleep(delay)

    def _may_retry(self, path: str, exc: LazadaError) -> bool:
        if not self.retry.should_retry(exc):
            return False
        if path in UNSAFE_TO_REPEAT:  # only when it surely did not run on Lazada's side
            return isinstance(exc, ThrottledError) or (
                isinstance(exc, TransportError) and not getattr(exc, "request_sent", True)
            )
        return True

    def _send(
        self, path: str, verb: str, business: dict[str, str], access: Secret | None
    ) -> Envelope:
        """One signed HTTP request, its answer parsed or mapped to an error."""
        params = dict(business)
        params["app_key"] = self.conn.app_key
        params["timestamp"] = str(self.timestamp_ms())
        params["sign_method"] = "sha256"
        if access is not None:
            params["access_token"] = access.reveal()
        params["sign"] = sign(self.conn.app_secret.reveal(), path, params)
        host = self.conn.auth_url if is_token_api(path) else self.conn.base_url
        url = host.rstrip("/") + path

        self._stats._sent(path)
        t0 = time.perf_counter()
        try:
            if verb == "GET":
                response = self._http.get(url, params=params)
            else:
                response = self._http.post(url, data=params)
        except httpx.RequestError as exc:
            ms = (time.perf_counter() - t0) * 1000
            self._stats._bump("transport_failures")
            err = _transport_error(path, exc, self._timeout)
            self.network.failed(getattr(err, "reason", ""))
            log.info("%s %s -> %s after %.0f ms", verb, path, type(exc).__name__, ms)
            raise err from None
        ms = (time.perf_counter() - t0) * 1000
        self.network.answered()
        try:
            envelope = parse_body(path, response.status_code, response.content)
        except LazadaError as exc:
            self._redact(exc, params)
            log.info(
                "%s %s -> HTTP %d in %.0f ms code=%s request_id=%s",
                verb,
                path,
                response.status_code,
                ms,
                _clean(_code_of(exc)),
                _clean(getattr(exc, "request_id", None)),
            )
            raise
        log.debug(
            "%s %s -> HTTP %d in %.0f ms code=0 request_id=%s",
            verb,
            path,
            response.status_code,
            ms,
            _clean(envelope.request_id),
        )
        return envelope

    def _redact(self, exc: LazadaError, params: Mapping[str, str]) -> None:
        """Blank any secret or credential value Lazada may have echoed into an error text."""
        values = set(self._secrets)
        values.update(v for k, v in params.items() if k in SENSITIVE_PARAMS and len(v) >= 4)
        if not values:
            return

        def scrub(text: Any) -> Any:
            if not isinstance(text, str):
                return text
            for v in values:
                if v in text:
                    text = text.replace(v, "***")
            return text

        exc.args = tuple(scrub(a) for a in exc.args)
        exc.message = scrub(exc.message)
        if isinstance(exc, APIError):
            exc.lazada_message = scrub(exc.lazada_message)
            exc.request_id = scrub(exc.request_id)

    # -- tokens -------------------------------------------------------------------------
    def _access_for_call(self) -> Secret:
        """The access token to sign with, refreshed first if it is due (48 h / half-life)."""
        token = self._token
        if token is not None and token.needs_refresh(utcnow(), self.refresh_margin):
            self._refresh_early(token)
        access = self._access
        if access is None:
            raise LoginRequiredError(
                f"no access token for shop {self.conn.shop!r}: run `xl-lazada login`",
                code="MissingAccessToken",
            )
        return access

    def _refresh_early(self, token: Token) -> None:
        now = utcnow()
        failed = self._early_refresh_failed_at
        if failed is not None and now - failed < _REFRESH_BACKOFF and not token.expired(now):
            return
        if token.refresh_expired(now):
            if token.expired(now):
                raise LoginRequiredError(
                    f"the Lazada authorisation of shop {self.conn.shop!r} has expired: "
                    "run `xl-lazada login` again",
                    code="RefreshTokenExpired",
                )
            return  # cannot refresh, but the access token still works for now
        try:
            self._refresh(stale=token.access_token, reason="it expires soon")
            self._early_refresh_failed_at = None
        except LazadaError as exc:
            if token.expired(utcnow()):
                raise
            self._early_refresh_failed_at = utcnow()
            log.warning(
                "token refresh ahead of expiry failed (%s); using the current token",
                _clean(_code_of(exc)),
            )

    def _refresh(self, *, stale: Secret | None, reason: str) -> Secret:
        """Refresh once across threads; a thread arriving after another refreshed reuses it."""
        from . import tokens

        with self._refresh_lock:
            current = self._access
            if current is not None and current != stale:
                return current  # another thread already refreshed
            refresh_token = self._refresh_token
            if refresh_token is None:
                raise LoginRequiredError(
                    f"shop {self.conn.shop!r} has no refresh token: run `xl-lazada login`",
                    code="MissingRefreshToken",
                )
            log.info("refreshing the access token of shop %r: %s", self.conn.shop, reason)
            try:
                new = tokens.refresh(self, refresh_token)
            except RefreshUnsupportedError:
                # This kind of app cannot refresh: remember it (no more attempts, and the
                # seller is told to log in again before the access token ends).
                if self._token is not None and self._token.refreshable:
                    self._token = dataclasses.replace(self._token, refreshable=False)
                    self._notify_token(self._token)
                raise
            self._secrets.update(
                s.reveal() for s in (new.access_token, new.refresh_token) if len(s.reveal()) >= 4
            )
            self._token = new
            self._refresh_token = new.refresh_token
            self._access = new.access_token
            self._stats._bump("refreshes")
            self._notify_token(new)
            return new.access_token

    def _notify_token(self, token: Token) -> None:
        if self.on_token is not None:
            try:
                self.on_token(token)
            except Exception as exc:  # the run can go on with the token in memory
                log.error("could not save the refreshed token (%s)", type(exc).__name__)


def _code_of(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    return str(code) if code else type(exc).__name__


def _transport_error(path: str, exc: httpx.RequestError, timeout: float) -> TransportError:
    """Map an httpx failure; the text names the kind only (httpx's may carry the URL)."""
    if isinstance(exc, httpx.ConnectTimeout):
        text, sent = f"could not connect within {timeout:g} s", False
    elif isinstance(exc, httpx.TimeoutException):
        text, sent = f"no answer within {timeout:g} s", True
    elif isinstance(exc, httpx.ConnectError):
        text, sent = "could not connect (network down, DNS, or the server refused)", False
    elif isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        text, sent = "the connection was dropped", True
    else:
        text, sent = f"request failed ({type(exc).__name__})", True
    err = TransportError(f"{path}: {text}; check the network and try again", api=path)
    err.request_sent = sent  # type: ignore[attr-defined]
    err.reason = text  # type: ignore[attr-defined]
    return err
