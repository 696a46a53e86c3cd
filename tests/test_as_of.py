"""How fresh the data is: the last sync whose stages all worked, on the shop's clock.

The refresh command and the ribbon both say "data as of ..." when a sync fails; a seller
reads it against Seller Center, so it is the shop's local time, with its offset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from xl_lazada.cache import Cache
from xl_lazada.sync.progress import SyncSummary
from xl_lazada.workbook.as_of import NEVER, NOTHING_YET, data_as_of, freshness, stamp

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _run(cache: Cache, shop: str, finished: datetime, summary: dict | None = None) -> None:
    with cache.transaction():
        run = cache.start_run(shop, finished - timedelta(minutes=2))
        cache.finish_run(run, finished, summary if summary is not None else {"failed": []})


def _stage_failed(stage: str) -> dict:
    s = SyncSummary()
    s.failed.append((stage, f"{stage}: Lazada could not be reached"))
    s.stage_failed(stage)
    return s.to_dict()


def test_last_good_sync_skips_runs_whose_stage_failed(tmp_path: Path) -> None:
    with Cache.open(tmp_path / "c.sqlite3") as cache:
        assert cache.last_good_sync() is None and cache.last_good_sync("my") is None
        with cache.transaction():
            cache.start_run("my", T0)  # never finished (killed): does not count
        assert cache.last_good_sync("my") is None
        _run(cache, "my", T0)
        # one order failing is not the cache falling behind; a whole stage failing is
        one_order = SyncSummary()
        one_order.failed.append(("4001", "items: bad record"))
        _run(cache, "my", T0 + timedelta(hours=1), one_order.to_dict())
        _run(cache, "my", T0 + timedelta(hours=2), _stage_failed("orders"))
        # an older summary without failed_stages: a stage name in `failed` says the same
        _run(cache, "my", T0 + timedelta(hours=3), {"failed": [["traces", "traces: down"]]})
        _run(cache, "my", T0 + timedelta(hours=4))  # its summary then damaged: not trusted
        cache.connection.execute(
            "UPDATE sync_runs SET summary = 'junk' WHERE id = (SELECT max(id) FROM sync_runs)"
        )
        _run(cache, "th", T0 + timedelta(minutes=30))

        mine = cache.last_good_sync("my")
        assert mine == T0 + timedelta(hours=1) and mine.tzinfo is not None
        assert mine.utcoffset() == timedelta(0)
        assert cache.last_good_sync("th") == T0 + timedelta(minutes=30)
        assert cache.last_good_sync() == T0 + timedelta(hours=1)  # the latest of any shop
        assert cache.last_good_sync("nobody") is None


def test_data_as_of_is_the_shops_local_time_with_its_offset(tmp_path: Path) -> None:
    with Cache.open(tmp_path / "c.sqlite3") as cache:
        assert data_as_of(cache) == NEVER
        with cache.transaction():
            cache.upsert_shop("my", "MY", None, observed_at=T0)  # UTC+08:00
            cache.upsert_shop("th", "TH", None, observed_at=T0)  # UTC+07:00
        _run(cache, "my", T0)
        _run(cache, "th", T0 - timedelta(hours=1))
        assert data_as_of(cache, "my") == "2026-12-01 17:00 UTC+08:00"
        assert data_as_of(cache, "th") == "2026-12-01 15:00 UTC+07:00"
        # shops of two time zones together: this computer's clock, still with its offset
        assert data_as_of(cache) == stamp(T0.astimezone())
        with cache.transaction():
            cache.connection.execute("DELETE FROM shops WHERE shop = 'th'")
        assert data_as_of(cache) == "2026-12-01 17:00 UTC+08:00"


def test_freshness_says_when_a_first_sync_did_not_finish(tmp_path: Path) -> None:
    """Before any whole sync the cache may still hold what a cut-off first sync saved: the
    status lines say so (and how much), not that nothing was synced."""

    class Saved(Cache):  # (orders counted as a first sync cut off after writing some)
        saved = 0

        def order_count(self, shop: str | None = None) -> int:
            return self.saved

    with Saved.open(tmp_path / "c.sqlite3") as cache:
        assert isinstance(cache, Saved)
        assert freshness(cache, "my") == NOTHING_YET
        cache.saved = 1
        assert freshness(cache, "my") == "the first sync has not finished (1 order saved so far)"
        cache.saved = 2556
        assert freshness(cache) == "the first sync has not finished (2,556 orders saved so far)"
        with cache.transaction():
            cache.upsert_shop("my", "MY", None, observed_at=T0)
        _run(cache, "my", T0)
        assert freshness(cache, "my") == "data as of 2026-12-01 17:00 UTC+08:00"


def test_stamp_names_the_offset_only_when_it_knows_it() -> None:
    assert stamp(datetime(2026, 12, 1, 17, 5)) == "2026-12-01 17:05"
    west = datetime(2026, 12, 1, 17, 5, tzinfo=UTC).astimezone(
        timezone(-timedelta(hours=3, minutes=30))
    )
    assert stamp(west) == "2026-12-01 13:35 UTC-03:30"
