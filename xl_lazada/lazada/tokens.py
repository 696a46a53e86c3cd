"""OAuth for Lazada sellers: the authorize URL, code exchange, refresh, and the Token model.

A token belongs to one shop (a cross-border ``cb`` token to every country it lists). Lazada's
pages disagree on lifetimes, so we trust ``expires_in`` and refresh well ahead of expiry:
48 hours before (Lazada's own warning), or half-way through a shorter-lived token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ..errors import InputError
from ..secret import Secret
from .dates import utcnow
from .errors import ResponseFormatError
from .ventures import AUTHORIZE_URL

if TYPE_CHECKING:
    from ..config import Connection
    from .client import LazadaClient

REFRESH_MARGIN = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class SellerAccount:
    """One entry of ``country_user_info``: the shop's ids in one country."""

    country: str
    user_id: str
    seller_id: str
    short_code: str

    def to_dict(self) -> dict[str, str]:
        return {
            "country": self.country,
            "user_id": self.user_id,
            "seller_id": self.seller_id,
            "short_code": self.short_code,
        }

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> SellerAccount:
        def s(key: str) -> str:
            value = d.get(key)
            return "" if value is None else str(value).strip()

        return cls(s("country"), s("user_id"), s("seller_id"), s("short_code"))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Token:
    """An access/refresh token pair and what Lazada said about it. Secrets print as ``***``."""

    access_token: Secret = field(repr=False)
    refresh_token: Secret = field(repr=False)
    expires_at: datetime
    refresh_expires_at: datetime
    country: str = ""
    account: str = ""
    sellers: tuple[SellerAccount, ...] = ()
    issued_at: datetime = field(default_factory=utcnow)
    # False when Lazada said ``refresh_expires_in: 0`` or refused to refresh with
    # AUTH_TYPE_UNSUPPORTED: the seller must log in again before ``expires_at``.
    refreshable: bool = True

    @property
    def lifetime(self) -> timedelta:
        return self.expires_at - self.issued_at

    def refresh_due_at(self, margin: timedelta = REFRESH_MARGIN) -> datetime:
        """When to refresh: ``margin`` before expiry, but no earlier than half-way through."""
        lead = min(margin, max(self.lifetime, timedelta(0)) / 2)
        return self.expires_at - lead

    def needs_refresh(
        self, now: datetime | None = None, margin: timedelta = REFRESH_MARGIN
    ) -> bool:
        return (now or utcnow()) >= self.refresh_due_at(margin)

    def expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.expires_at

    def refresh_expired(self, now: datetime | None = None) -> bool:
        return not self.refreshable or (now or utcnow()) >= self.refresh_expires_at

    @property
    def login_ends_at(self) -> datetime:
        """When the seller must have logged in again: refreshing never extends the refresh
        token's lifetime, so this is the refresh token's end (the access token's if it
        cannot be refreshed)."""
        if not self.refreshable:
            return self.expires_at
        return max(self.expires_at, self.refresh_expires_at)

    def seller_for(self, country: str) -> SellerAccount | None:
        """The seller entry for a venture code (``MY``...), if the token lists it."""
        code = country.strip().upper()
        for s in self.sellers:
            if s.country.strip().upper() == code:
                return s
        return None

    @classmethod
    def from_wire(cls, body: Mapping[str, Any], now: datetime | None = None) -> Token:
        """Parse ``/auth/token/create`` or ``/auth/token/refresh`` (top-level fields)."""
        now = _aware(now or utcnow())
        access = str(body.get("access_token") or "").strip()
        refresh = str(body.get("refresh_token") or "").strip()
        if not access or not refresh:
            raise ResponseFormatError("Lazada's token answer has no access_token/refresh_token")
        try:
            expires_in = float(body.get("expires_in") or 0)
            refresh_in = float(body.get("refresh_expires_in") or 0)
        except (TypeError, ValueError):
            raise ResponseFormatError("Lazada's token answer has a non-numeric lifetime") from None
        if expires_in <= 0:
            raise ResponseFormatError("Lazada's token answer has no expires_in")
        refreshable = True
        if "refresh_expires_in" in body and str(body.get("refresh_expires_in")).strip() in (
            "0",
            "0.0",
        ):
            # Lazada: 0 means this token cannot be refreshed at all.
            refreshable, refresh_in = False, 0.0
        elif refresh_in <= 0:  # not sent: assume it lasts as long as the access token
            refresh_in = expires_in
        users = body.get("country_user_info")
        if users is None:
            users = body.get("country_user_info_list")
        sellers = tuple(SellerAccount.from_wire(u) for u in (users or []) if isinstance(u, Mapping))
        return cls(
            access_token=Secret(access),
            refresh_token=Secret(refresh),
            expires_at=now + timedelta(seconds=expires_in),
            refresh_expires_at=now + timedelta(seconds=refresh_in),
            country=str(body.get("country") or "").strip(),
            account=str(body.get("account") or "").strip(),
            sellers=sellers,
            issued_at=now,
            refreshable=refreshable,
        )

    def to_dict(self) -> dict[str, Any]:
        """Storage form, *with the secrets revealed*: only for the token store."""
        return {
            "access_token": self.access_token.reveal(),
            "refresh_token": self.refresh_token.reveal(),
            "expires_at": self.expires_at.isoformat(),
            "refresh_expires_at": self.refresh_expires_at.isoformat(),
            "issued_at": self.issued_at.isoformat(),
            "country": self.country,
            "account": self.account,
            "sellers": [s.to_dict() for s in self.sellers],
            "refreshable": self.refreshable,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Token:
        """Inverse of :meth:`to_dict`."""
        expires = _aware(datetime.fromisoformat(d["expires_at"]))
        return cls(
            access_token=Secret(d["access_token"]),
            refresh_token=Secret(d["refresh_token"]),
            expires_at=expires,
            refresh_expires_at=_aware(
                datetime.fromisoformat(d.get("refresh_expires_at") or d["expires_at"])
            ),
            country=str(d.get("country") or ""),
            account=str(d.get("account") or ""),
            sellers=tuple(SellerAccount.from_wire(s) for s in d.get("sellers") or []),
            issued_at=_aware(
                datetime.fromisoformat(d["issued_at"])
                if d.get("issued_at")
                else expires - timedelta(days=7)
            ),
            refreshable=bool(d.get("refreshable", True)),
        )


#: Warn the seller this many days before they must log in again.
LOGIN_WARN_DAYS = 7.0

OK = "ok"
WARN = "warn"
EXPIRED = "expired"
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TokenHealth:
    """How long a shop's Lazada login lasts, in words a seller acts on.

    ``days_left`` counts to :attr:`Token.login_ends_at` (when a new ``xl-lazada login`` is
    needed: refreshing does not extend it); ``level`` is "ok", "warn" (less than
    ``LOGIN_WARN_DAYS`` left, or it cannot be refreshed), "expired" or "unknown".
    """

    shop: str
    expires_at: datetime | None
    refresh_expires_at: datetime | None
    days_left: float | None
    can_refresh: bool
    level: str
    message: str

    @property
    def needs_login(self) -> bool:
        return self.level in (WARN, EXPIRED)


def _when(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _span(days: float) -> str:
    if days >= 1:
        n = int(days)
        return f"{n} day{'s' if n != 1 else ''}"
    hours = max(0, int(days * 24))
    return f"{hours} h"


def token_health_of(
    shop: str,
    expires_at: datetime | None,
    refresh_expires_at: datetime | None,
    *,
    can_refresh: bool = True,
    now: datetime | None = None,
    warn_days: float = LOGIN_WARN_DAYS,
) -> TokenHealth:
    """Judge a login from its two expiry times (pure: no keyring, no network)."""
    now = _aware(now or utcnow())
    relogin = f"run `xl-lazada login --name {shop}` again"
    if expires_at is None:
        return TokenHealth(
            shop, None, refresh_expires_at, None, can_refresh, UNKNOWN,
            f"shop {shop!r}: token expiry unknown (a token from the environment or an old profile)",
        )  # fmt: skip
    expires_at = _aware(expires_at)
    refresh_end = _aware(refresh_expires_at) if refresh_expires_at else expires_at
    if can_refresh and refresh_end <= now:
        can_refresh = False
    ends = max(expires_at, refresh_end) if can_refresh else expires_at
    days = (ends - now).total_seconds() / 86400.0
    if days <= 0:
        level = EXPIRED
        message = f"shop {shop!r}: the Lazada login has expired — {relogin}"
    elif not can_refresh:
        level = WARN
        message = (
            f"shop {shop!r}: the token cannot be refreshed; it ends {_when(ends)} "
            f"(in {_span(days)}) — {relogin} before then"
        )
    elif days < warn_days:
        level = WARN
        message = (
            f"shop {shop!r}: the Lazada login ends {_when(ends)} (in {_span(days)}); "
            f"refreshing does not extend it — {relogin} before then"
        )
    else:
        level = OK
        message = f"shop {shop!r}: Lazada login valid until {_when(ends)} (in {_span(days)})"
    return TokenHealth(shop, expires_at, refresh_end, days, can_refresh, level, message)


def authorize_url(app_key: str, redirect_uri: str, *, base: str = AUTHORIZE_URL) -> str:
    """The page where the seller approves the app; Lazada then redirects with ``?code=``."""
    query = urlencode(
        {
            "response_type": "code",
            "force_auth": "true",
            "redirect_uri": redirect_uri,
            "client_id": app_key,
        }
    )
    return f"{base}?{query}"


def authorize_base(auth_url: str) -> str:
    """The OAuth page for an auth host: ``https://auth.lazada.com/rest`` -> ``.../oauth/authorize``.

    The sandbox serves both on one server, so the same rule points at it.
    """
    root = auth_url.rstrip("/")
    if root.endswith("/rest"):
        root = root[: -len("/rest")]
    return f"{root}/oauth/authorize"


def code_from_redirect(text: str) -> str:
    """Accept what the seller pastes: the redirected URL (``...?code=X``) or the bare code."""
    text = text.strip()
    if not text:
        raise InputError("no code given")
    if "://" in text or text.startswith("?") or "code=" in text:
        query = urlsplit(text).query if "://" in text else text.lstrip("?")
        codes = parse_qs(query).get("code") or []
        if not codes or not codes[0].strip():
            raise InputError("the pasted URL has no code= parameter; paste the whole address")
        return codes[0].strip()
    if any(c.isspace() for c in text):
        raise InputError("a code has no spaces; paste the redirected URL or just the code")
    return text


def _client_for(target: LazadaClient | Connection) -> tuple[LazadaClient, bool]:
    from .client import LazadaClient

    if isinstance(target, LazadaClient):
        return target, False
    return LazadaClient(target), True


def exchange_code(target: LazadaClient | Connection, code: str) -> Token:
    """Trade the single-use OAuth code for a token (``POST /auth/token/create``)."""
    client, own = _client_for(target)
    try:
        now = utcnow()
        env = client.call("/auth/token/create", {"code": code.strip()})
        return Token.from_wire(env.body, now)
    finally:
        if own:
            client.close()


def refresh(target: LazadaClient | Connection, refresh_token: Secret | str) -> Token:
    """Get a fresh token pair (``POST /auth/token/refresh``)."""
    client, own = _client_for(target)
    try:
        now = utcnow()
        value = refresh_token.reveal() if isinstance(refresh_token, Secret) else refresh_token
        env = client.call("/auth/token/refresh", {"refresh_token": value})
        return Token.from_wire(env.body, now)
    finally:
        if own:
            client.close()
