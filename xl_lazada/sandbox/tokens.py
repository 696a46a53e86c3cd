"""The sandbox's OAuth state: authorisation codes, access tokens and refresh tokens.

Lifetimes run on the real clock (not the simulated one), like Lazada's, so a test can expire
tokens without moving the shop's world. Values are random; they never leave this module
except in the answers that hand them out.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CODE_TTL_SECONDS = 30 * 60
_ALPHABET = string.ascii_letters + string.digits


def _token(prefix: str, length: int) -> str:
    """Lazada-looking opaque token: digits prefix, then random letters and digits."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True, slots=True)
class Account:
    """Who the tokens belong to (from the shop's seller profile)."""

    account: str  # the seller's login email
    country: str  # venture code in lower case, e.g. "my"
    user_id: str
    seller_id: str
    short_code: str

    def country_user_info(self) -> list[dict[str, str]]:
        return [
            {
                "country": self.country,
                "user_id": self.user_id,
                "seller_id": self.seller_id,
                "short_code": self.short_code,
            }
        ]


class TokenStore:
    """Issues and checks codes and tokens; thread-safe."""

    def __init__(
        self,
        account: Account,
        *,
        token_ttl: float = 7 * 86400,
        refresh_ttl: float = 30 * 86400,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account = account
        self.token_ttl = float(token_ttl)
        self.refresh_ttl = float(refresh_ttl)
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, float] = {}  # code -> expiry
        self._access: dict[str, float] = {}  # access token -> expiry
        self._refresh: dict[str, float] = {}  # refresh token -> expiry

    # -- codes -----------------------------------------------------------------------------
    def new_code(self) -> str:
        """A single-use authorisation code, valid for 30 minutes."""
        code = _token("0_", 32)
        with self._lock:
            self._codes[code] = self._clock() + CODE_TTL_SECONDS
        return code

    def exchange_code(self, code: str) -> dict[str, Any] | None:
        """Trade a code for tokens (``/auth/token/create``); ``None`` if bad, used or stale."""
        with self._lock:
            expiry = self._codes.pop(code, None)
            if expiry is None or expiry < self._clock():
                return None
            return self._issue_locked(list_key="country_user_info")

    def issue(self) -> dict[str, Any]:
        """Tokens without the OAuth dance (what ``SandboxServer.issue_token`` hands out)."""
        with self._lock:
            return self._issue_locked(list_key="country_user_info")

    def refresh(self, refresh_token: str) -> dict[str, Any] | None:
        """A new access token (older ones stay valid until they expire); ``None`` if refused."""
        with self._lock:
            expiry = self._refresh.get(refresh_token)
            if expiry is None or expiry < self._clock():
                return None
            # Refreshing does not extend the login: the new refresh token ends when the old
            # one would have (Lazada's refresh_expires_in counts down to the original end).
            return self._issue_locked(list_key="country_user_info_list", refresh_until=expiry)

    # -- checks ----------------------------------------------------------------------------
    def access_ok(self, token: str) -> bool:
        with self._lock:
            expiry = self._access.get(token)
        return expiry is not None and expiry > self._clock()

    def expire_access_tokens(self) -> int:
        """Make every issued access token expired; refresh tokens keep working."""
        now = self._clock()
        with self._lock:
            for token in self._access:
                self._access[token] = now - 1.0
            return len(self._access)

    # -- internals -------------------------------------------------------------------------
    def _issue_locked(self, *, list_key: str, refresh_until: float | None = None) -> dict[str, Any]:
        now = self._clock()
        access = _token("50000", 55)
        refresh = _token("50001", 55)
        refresh_end = now + self.refresh_ttl if refresh_until is None else refresh_until
        # An access token never outlives the login it belongs to.
        access_end = min(now + self.token_ttl, max(refresh_end, now))
        self._access[access] = access_end
        self._refresh[refresh] = refresh_end
        self._prune_locked(now)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": max(1, int(access_end - now)),
            "refresh_expires_in": max(0, int(refresh_end - now)),
            "country": "cb",
            "account": self.account.account,
            "account_platform": "seller_center",
            list_key: self.account.country_user_info(),
            "code": "0",
        }

    def _prune_locked(self, now: float) -> None:
        """Forget long-dead tokens so a long-running server does not grow without bound."""
        grace = 86400.0
        for table in (self._codes, self._access, self._refresh):
            if len(table) > 1000:
                for key in [k for k, exp in table.items() if exp < now - grace]:
                    del table[key]
