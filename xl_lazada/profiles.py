"""Saved shop profiles: the non-secret half of a shop's connection, plus a default shop.

``profiles.json`` in :func:`~xl_lazada.config.data_dir` holds name, venture, gateway, auth
host, app key and the seller's ids and name; the app secret and tokens live in the
:class:`~xl_lazada.lazada.token_store.TokenStore`. :func:`load_connection` is how every
command finds its shop: the ``XL_LAZADA_*`` environment first, else a saved profile.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .config import ConfigError, Connection, connection_from_env, data_dir
from .lazada.token_store import TokenStore
from .lazada.tokens import Token, TokenHealth, token_health_of
from .lazada.ventures import AUTH_URL

if TYPE_CHECKING:
    from .lazada.client import LazadaClient

FILE_NAME = "profiles.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class Profile:
    """One saved shop. Nothing here is secret."""

    name: str
    venture: str
    base_url: str
    app_key: str
    auth_url: str = AUTH_URL
    seller_id: str = ""
    short_code: str = ""
    seller_name: str = ""
    token_expires_at: str | None = None  # ISO 8601, for `xl-lazada shops`
    refresh_expires_at: str | None = None
    token_refreshable: bool = True  # False: Lazada said it cannot be refreshed

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Profile:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def note_token(self, token: Token) -> None:
        self.token_expires_at = token.expires_at.isoformat()
        self.refresh_expires_at = token.refresh_expires_at.isoformat()
        self.token_refreshable = token.refreshable


def check_name(name: str) -> str:
    """Profile names become keyring entries and CLI arguments: keep them plain."""
    name = (name or "").strip()
    if not _NAME.match(name):
        raise ConfigError(
            f"shop name {name!r} is not allowed: use letters, digits, '.', '_' or '-' (max 64)"
        )
    return name


def profiles_path() -> str:
    return os.path.join(data_dir(), FILE_NAME)


def _read() -> dict[str, Any]:
    path = profiles_path()
    if not os.path.exists(path):
        return {"default": None, "profiles": {}}
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path} is unreadable ({type(exc).__name__}); fix or delete it"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
        raise ConfigError(f"{path} is not an xl-lazada profiles file")
    return data


def _write(data: dict[str, Any]) -> None:
    path = profiles_path()
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".profiles-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def list_profiles() -> tuple[list[Profile], str | None]:
    """All saved profiles (sorted by name) and the default one's name."""
    data = _read()
    profiles = [Profile.from_dict(d) for _, d in sorted(data["profiles"].items())]
    return profiles, data.get("default")


def get_profile(name: str | None = None) -> Profile:
    """The named profile, else the default (or the only one)."""
    data = _read()
    saved = data["profiles"]
    if not saved:
        raise ConfigError(
            "no Lazada shop is set up: run `xl-lazada login` "
            "(or set XL_LAZADA_APP_KEY / XL_LAZADA_APP_SECRET / XL_LAZADA_ACCESS_TOKEN)"
        )
    if name is None:
        name = data.get("default") or (next(iter(saved)) if len(saved) == 1 else None)
        if name is None:
            raise ConfigError(
                f"several shops are saved ({', '.join(sorted(saved))}); pick one with --shop"
            )
    if name not in saved:
        raise ConfigError(f"no saved shop named {name!r} (saved: {', '.join(sorted(saved))})")
    return Profile.from_dict(saved[name])


def save_profile(profile: Profile, *, make_default: bool = False) -> None:
    check_name(profile.name)
    data = _read()
    data["profiles"][profile.name] = asdict(profile)
    if make_default or not data.get("default") or data["default"] not in data["profiles"]:
        data["default"] = profile.name
    _write(data)


def remove_profile(name: str, store: TokenStore | None = None) -> None:
    data = _read()
    data["profiles"].pop(name, None)
    if data.get("default") == name:
        data["default"] = next(iter(sorted(data["profiles"])), None)
    _write(data)
    (store or TokenStore()).delete(name)


def _profile_connection(profile: Profile, store: TokenStore) -> tuple[Connection, Token | None]:
    secrets = store.load(profile.name)
    if secrets is None:
        raise ConfigError(
            f"the app secret of shop {profile.name!r} is not in the {store.backend} store: "
            f"run `xl-lazada login --name {profile.name}` again"
        )
    token = secrets.token
    conn = Connection(
        base_url=profile.base_url,
        app_key=profile.app_key,
        app_secret=secrets.app_secret,
        access_token=token.access_token if token else None,
        refresh_token=token.refresh_token if token else None,
        venture=profile.venture,
        auth_url=profile.auth_url,
        shop=profile.name,
    )
    return conn, token


def load_connection(profile: str | None = None, *, store: TokenStore | None = None) -> Connection:
    """The connection for a command: ``XL_LAZADA_*`` variables if set, else a saved profile."""
    conn = connection_from_env()
    if conn is not None:
        return conn
    return _profile_connection(get_profile(profile), store or TokenStore())[0]


def persist_token(name: str, token: Token, store: TokenStore | None = None) -> None:
    """Save a refreshed token and note its expiry in the profile (for `xl-lazada shops`)."""
    (store or TokenStore()).save_token(name, token)
    data = _read()
    if name in data["profiles"]:
        prof = Profile.from_dict(data["profiles"][name])
        prof.note_token(token)
        data["profiles"][name] = asdict(prof)
        _write(data)


def open_client(
    profile: str | None = None,
    *,
    store: TokenStore | None = None,
    on_token: Callable[[Token], None] | None = None,
    **client_kwargs: Any,
) -> LazadaClient:
    """A :class:`LazadaClient` for a command, wired to save refreshed tokens.

    With ``XL_LAZADA_*`` variables the token comes from the environment and a refreshed one
    lives only for this run; with a saved profile it refreshes ahead of expiry and is saved.
    """
    from .lazada.client import LazadaClient

    env = connection_from_env()
    if env is not None:
        return LazadaClient(env, on_token=on_token, **client_kwargs)
    store = store or TokenStore()
    prof = get_profile(profile)
    conn, token = _profile_connection(prof, store)

    def saved(new: Token) -> None:
        persist_token(prof.name, new, store)
        if on_token is not None:
            on_token(new)

    return LazadaClient(conn, token=token, on_token=saved, **client_kwargs)


def expiry_text(value: str | None, now: datetime | None = None) -> str:
    """``2026-12-01 10:00 UTC (in 6 days)`` or ``expired`` for a profile's ISO timestamp."""
    if not value:
        return "unknown"
    from .lazada.dates import utcnow

    when = datetime.fromisoformat(value)
    left = when - (now or utcnow())
    stamp = when.strftime("%Y-%m-%d %H:%M %Z").strip()
    if left.total_seconds() <= 0:
        return f"{stamp} (expired)"
    days = left.days
    span = (
        f"{days} day{'s' if days != 1 else ''}"
        if days
        else f"{int(left.total_seconds() // 3600)} h"
    )
    return f"{stamp} (in {span})"


def _iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def profile_health(prof: Profile, now: datetime | None = None) -> TokenHealth:
    """:class:`TokenHealth` of a saved profile, from its non-secret expiry fields."""
    return token_health_of(
        prof.name,
        _iso(prof.token_expires_at),
        _iso(prof.refresh_expires_at),
        can_refresh=prof.token_refreshable,
        now=now,
    )


def token_health(shop: str | None = None, *, now: datetime | None = None) -> TokenHealth:
    """How long shop ``shop``'s Lazada login lasts (default: the default shop), and what the
    seller must do — for ``xl-lazada shops``/``doctor`` and the workbook. Reads only the
    profile file (no keyring, no network), so it is cheap to call from Excel."""
    if connection_from_env() is not None:
        name = (os.environ.get("XL_LAZADA_SHOP") or "env").strip() or "env"
        return token_health_of(name, None, None, now=now)
    return profile_health(get_profile(shop), now)
