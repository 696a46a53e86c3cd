"""Shared fixtures: one sandbox server (real HTTP on 127.0.0.1) for the whole test session.

The sandbox's clock is frozen (``clock_speed=0``) so the shop is a stable world; a test that
advances time or changes faults must put them back, or start its own ``SandboxServer``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def sandbox() -> Iterator:
    """A running ``SandboxServer(orders=500, seed=7, clock_speed=0.0, qps=1000)``."""
    from xl_lazada.sandbox.server import SandboxServer

    with SandboxServer(orders=500, seed=7, clock_speed=0.0, qps=1000) as sb:
        yield sb


@pytest.fixture(scope="module")
def synced(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A sandbox shop synced over HTTP into a fresh cache (a ``synced_shop.SyncedShop``), once
    per test module: each module has its own, so one that edits its cache disturbs no other.
    The module's ``SHOP`` names the shop (default ``"shop"``) and ``SYNCED_ORDERS`` sizes it
    (default 500). The sandbox (seed 11, frozen clock) runs until the module is done."""
    from synced_shop import SyncedShop

    from xl_lazada.cache import Cache
    from xl_lazada.lazada.client import LazadaClient
    from xl_lazada.sandbox.server import SandboxServer
    from xl_lazada.sync import SyncOptions, sync_shop

    shop = getattr(request.module, "SHOP", "shop")
    orders = getattr(request.module, "SYNCED_ORDERS", 500)
    path = tmp_path_factory.mktemp("synced") / "cache.sqlite3"
    with SandboxServer(orders=orders, seed=11, clock_speed=0.0, qps=100_000) as sb:
        days = int(sb.shop.params["days"]) + 5
        with (
            LazadaClient(sb.connection(sb.issue_token()), default_qps=100_000) as client,
            Cache.open(path) as cache,
        ):
            summary = sync_shop(client, cache, shop, options=SyncOptions(lookback_days=days))
        assert not summary.failed, summary.failed
        now = sb.clock.now()
        with Cache.open(path) as cache:
            today = now.astimezone(cache.shops()[0].tz).date()
            yield SyncedShop(sb, cache, path, shop, now, today)
