"""Where a command gets its Lazada connection: the environment, or a saved shop profile."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import XlLazadaError
from .lazada.ventures import AUTH_URL, VENTURES, venture
from .secret import Secret

ENV_BASE_URL = "XL_LAZADA_BASE_URL"
ENV_AUTH_URL = "XL_LAZADA_AUTH_URL"
ENV_APP_KEY = "XL_LAZADA_APP_KEY"
ENV_APP_SECRET = "XL_LAZADA_APP_SECRET"
ENV_ACCESS_TOKEN = "XL_LAZADA_ACCESS_TOKEN"
ENV_REFRESH_TOKEN = "XL_LAZADA_REFRESH_TOKEN"
ENV_VENTURE = "XL_LAZADA_VENTURE"
ENV_CACHE = "XL_LAZADA_CACHE"
ENV_HOME = "XL_LAZADA_HOME"  # overrides the data directory (profiles, token file, cache)


class ConfigError(XlLazadaError, ValueError):
    """The connection settings are missing or wrong; the message says which."""


@dataclass(frozen=True)
class Connection:
    """Everything needed to call Lazada for one shop. Secrets are :class:`Secret`."""

    base_url: str
    app_key: str
    app_secret: Secret = field(repr=False)
    access_token: Secret | None = field(default=None, repr=False)
    refresh_token: Secret | None = field(default=None, repr=False)
    venture: str = "MY"
    auth_url: str = AUTH_URL
    shop: str = "default"  # the profile name this connection belongs to

    @property
    def tz(self):
        return venture(self.venture).tz


def connection_from_env(env: Mapping[str, str] | None = None) -> Connection | None:
    """Build a connection from ``XL_LAZADA_*`` variables, or ``None`` if none are set.

    The gateway defaults to the venture's; the auth host defaults to Lazada's, except for a
    custom base URL (the sandbox), where auth calls go to the same server.
    """
    env = os.environ if env is None else env
    key = env.get(ENV_APP_KEY, "").strip()
    secret = env.get(ENV_APP_SECRET, "").strip()
    base = env.get(ENV_BASE_URL, "").strip()
    if not (key or secret or base):
        return None
    missing = [n for n, v in ((ENV_APP_KEY, key), (ENV_APP_SECRET, secret)) if not v]
    if missing:
        raise ConfigError(
            f"set {' and '.join(missing)} (the app's key and secret from Lazada Open Platform)"
        )
    code = (env.get(ENV_VENTURE) or "MY").strip().upper()
    if code not in VENTURES:
        raise ConfigError(f"{ENV_VENTURE}={code!r} is not a Lazada venture ({', '.join(VENTURES)})")
    base_url = check_url(ENV_BASE_URL, (base or VENTURES[code].base_url).rstrip("/"))
    auth_url = check_url(
        ENV_AUTH_URL, env.get(ENV_AUTH_URL, "").strip() or (base_url if base else AUTH_URL)
    )
    token = env.get(ENV_ACCESS_TOKEN, "").strip()
    refresh = env.get(ENV_REFRESH_TOKEN, "").strip()
    return Connection(
        base_url=base_url,
        app_key=key,
        app_secret=Secret(secret),
        access_token=Secret(token) if token else None,
        refresh_token=Secret(refresh) if refresh else None,
        venture=code,
        auth_url=auth_url.rstrip("/"),
        shop=env.get("XL_LAZADA_SHOP", "").strip() or "env",
    )


def check_url(name: str, url: str) -> str:
    """An API address must be http(s)://host...; say which setting is wrong, not the URL's
    query (it could hold a token someone pasted)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        shown = (
            f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else url.split("?")[0]
        )
        raise ConfigError(f"{name}={shown!r} is not an http(s):// address")
    return url


def data_dir() -> str:
    """The user's data directory for xl_lazada (``XL_LAZADA_HOME`` overrides)."""
    home = os.environ.get(ENV_HOME, "").strip()
    if home:
        return home
    import platformdirs

    return platformdirs.user_data_dir("xl-lazada", appauthor=False)
