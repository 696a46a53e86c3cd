"""A sandbox shop synced over real HTTP into a fresh cache: what the ``synced`` fixture
(``conftest.py``) hands a test module."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from xl_lazada.cache import Cache


@dataclass
class SyncedShop:
    sb: Any  # the SandboxServer, still running for the module
    cache: Cache
    path: Path
    shop: str
    now: datetime  # the sandbox's frozen clock at the sync
    today: date  # shop-local

    @cached_property
    def truth(self) -> dict[str, Any]:
        """The sandbox shop's own projection at ``now`` (the ground truth)."""
        return self.sb.shop.snapshot(self.now)

    def table(self, name: str, **kw: Any) -> pd.DataFrame:
        """The sheet table ``name`` (orders, tracking, checkpoints, settlements) at ``now``."""
        from xl_lazada import tables

        return getattr(tables, f"{name}_table")(self.cache, now=self.now, **kw)
