"""``xl-lazada demo``: the one command a new user runs must work end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from xl_lazada.cache import Cache
from xl_lazada.cli import cli


def test_demo_syncs_the_sandbox_shows_what_matters_and_refreshes_cheaply(tmp_path: Path) -> None:
    cache_path = tmp_path / "demo.sqlite3"
    result = CliRunner().invoke(
        cli,
        ["demo", "--orders", "150", "--cache", str(cache_path), "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    out = result.output
    for heading in (
        "Orders by Seller Center status",
        "Delayed (past the promised shipping time)",
        "Stuck parcels",
        "Delivered but not yet settled",
    ):
        assert heading in out
    summary = json.loads(next(line for line in out.splitlines() if line.startswith('{"first"')))
    first, second = summary["first"], summary["second"]
    assert first["new_orders"] > 100 and first["new_checkpoints"] > 0
    assert second["calls"] < first["calls"] / 5  # the second refresh fetches only what changed
    with Cache.open(cache_path) as cache:
        assert len(cache.orders(shop="demo")) == first["new_orders"] + second["new_orders"]


def test_demo_refuses_to_wipe_a_real_cache(tmp_path: Path) -> None:
    cache_path = tmp_path / "mine.sqlite3"
    with Cache.open(cache_path) as cache:
        cache.upsert_shop("my-shop", "MY", None, observed_at=datetime.now(UTC))
    result = CliRunner().invoke(cli, ["demo", "--orders", "20", "--cache", str(cache_path)])
    assert result.exit_code != 0
    assert "not a demo cache" in result.output
    with Cache.open(cache_path) as cache:
        assert [s.name for s in cache.shops()] == ["my-shop"]
