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
