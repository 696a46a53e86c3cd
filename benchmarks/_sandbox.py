"""What a benchmark needs to reach a sandbox running in another process.

The sandbox runs in its own process (as Lazada would be another machine): it sends
:func:`connection_info` (plain, picklable values) through a pipe, and the benchmark makes
the client's :class:`~xl_lazada.config.Connection` from it with :func:`connection`.
"""

from __future__ import annotations

from typing import Any


def connection_info(sb: Any) -> dict[str, Any]:
    """The running ``SandboxServer``'s address, app credentials and a fresh access token."""
    token = sb.issue_token()
    return {
        "base_url": sb.base_url,
        "app_key": sb.app_key,
        "app_secret": sb.app_secret,
        "venture": sb.venture,
        "access_token": token["access_token"],
    }


def connection(info: dict[str, Any], shop: str = "bench") -> Any:
    """The client's Connection for :func:`connection_info`'s dict."""
    from xl_lazada.config import Connection
    from xl_lazada.secret import Secret

    return Connection(
        base_url=info["base_url"],
        app_key=info["app_key"],
        app_secret=Secret(info["app_secret"]),
        access_token=Secret(info["access_token"]),
        venture=info["venture"],
        auth_url=info["base_url"],
        shop=shop,
    )
