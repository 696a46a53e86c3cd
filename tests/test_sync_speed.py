"""Sync at the speed Lazada allows, against the sandbox over real HTTP: learned rates kept in
the cache, status news traced at once, what a seller needs first, a daily call budget kept
across runs, failed stages as a field, and a dead network ending a sync quickly."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from xl_lazada.cache import Cache
from xl_lazada.cache.codec import iso_utc
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.dates import parse_datetime, utcnow
from xl_lazada.lazada.errors import NetworkDownError
from xl_lazada.lazada.ventures import venture
from xl_lazada.sandbox.catalog import WIRE_CODE
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.sync import Progress, SyncOptions, engine, sync_shop
from xl_lazada.sync import budget as budgets
from xl_lazada.sync.plan import trace_plan
from xl_lazada.sync.policy import FINAL_STATUSES, TRACE_ONCE_STATUSES, TRACEABLE_STATUSES

pytestmark = pytest.mark.timeout(180)

DAYS = 45
OPTS = SyncOptions(lookback_days=DAYS + 5, daily_calls=0)
TRACE = "/logistic/order/trace"


def fast_client(sb: SandboxServer, **kw) -> LazadaClient:
    return LazadaClient(sb.connection(sb.issue_token()), default_qps=5000.0, **kw)


def last_events(cache: Cache, shop: str) -> dict[str, set[tuple[str, str]]]:
    """package -> its checkpoints (event time, status code) in the cache."""
    out: dict[str, set[tuple[str, str]]] = {}
    for r in cache.checkpoints(shop=shop):
        out.setdefault(r["package_id"], set()).add((r["event_time"], r["status_code"]))
    return out


def truth_last_events(sb: SandboxServer) -> dict[str, set[tuple[str, str]]]:
    """package -> its checkpoints as the trace API answers them now (the sandbox's truth)."""
    tz = venture(sb.shop.venture.code).tz
    out: dict[str, set[tuple[str, str]]] = {}
    for packages in sb.shop.snapshot(sb.clock.now())["traces"].values():
        for p in packages:
            events = out.setdefault(p["ofc_package_id"], set())
            for e in p["logistic_detail_info_list"]:
                at = iso_utc(parse_datetime(str(e["event_time"]), tz))
                events.add((at, WIRE_CODE[e["status_code"]]))
    return {k: v for k, v in out.items() if v}


@pytest.fixture
def cache(tmp_path: Path):
    c = Cache.open(tmp_path / "cache.sqlite3")
    yield c
    c.close()


# ---- learned rates ---------------------------------------------------------------------------
def test_rates_are_learned_saved_in_the_cache_and_the_next_run_starts_there(cache) -> None:
    with SandboxServer(orders=150, seed=5, clock_speed=0.0, qps=20.0) as sb:
        with LazadaClient(sb.connection(sb.issue_token())) as client:  # default: learning
            s = sync_shop(client, cache, "shop", options=OPTS)
        assert s.failed == [] and s.failed_stages == []
        # Lazada's throttle answers stay a small share of the calls
        assert s.throttled <= max(6, 0.08 * s.calls), (s.throttled, s.calls)
        saved = budgets.load_rates(cache, sb.app_key)
        assert TRACE in saved and saved[TRACE].qps <= 22
        assert saved[TRACE].limit_seen is not None or saved[TRACE].qps > 10
        with LazadaClient(sb.connection(sb.issue_token())) as again:
            sync_shop(again, cache, "shop", options=OPTS)
            # it started from the saved rate, not from the safe 10 calls/s
            assert again.learned_rates()[TRACE].limit_seen == saved[TRACE].limit_seen or (
                again.limiter.rate(TRACE) != 10.0
            )
        with LazadaClient(sb.connection(sb.issue_token()), max_qps=4.0) as capped:
            sync_shop(capped, cache, "shop", options=OPTS)
            assert capped.limiter.rate(TRACE) <= 4.0  # a configured ceiling still wins


# ---- news at once ----------------------------------------------------------------------------
def test_a_status_change_is_traced_in_the_same_run_whatever_its_staleness(cache) -> None:
    with SandboxServer(orders=300, seed=7, clock_speed=0.0, qps=5000.0) as sb:
        with fast_client(sb) as client:
            sync_shop(client, cache, "shop", options=OPTS)
            sb.clock.advance(timedelta(days=2))
            # This computer's clock did not move: every parcel was traced moments ago, well
            # inside the 2 h staleness window. Only news can make a parcel due.
            s = sync_shop(client, cache, "shop", options=OPTS)
        assert s.status_changes > 0 and s.failed == []
        changed = {h["order_id"] for h in cache.history("shop") if h["kind"] == "item_status"}
        pkgs_changed = {
            r["package_id"] for r in cache.packages(shop="shop") if r["order_id"] in changed
        }
        want, got = truth_last_events(sb), last_events(cache, "shop")
        assert pkgs_changed and all(got.get(p) == want.get(p) for p in pkgs_changed)
        delivered = [
            h
            for h in cache.history("shop")
            if h["kind"] == "item_status" and h["new_value"] == "delivered"
        ]
        assert delivered  # the delivered scan is there along with the delivered status
        for h in delivered:
            pkgs = {
                r["package_id"]
                for r in cache.packages(shop="shop")
                if r["order_id"] == h["order_id"]
            }
            assert all(got.get(p) == want.get(p) for p in pkgs)
        # parcels without news kept their trace (nothing was stale by this computer's clock):
        # only the changed ones, and new orders' parcels never traced, were traced
        news = changed & _traceable(cache)
        assert len(news) <= s.traced_orders <= len(news) + s.new_orders


def _traceable(cache: Cache) -> set[str]:
    return {r["order_id"] for r in cache.packages(shop="shop")}


# ---- what a seller needs first --------------------------------------------------------------
def test_first_sync_traces_moving_parcels_newest_first_then_finance_then_history(cache) -> None:
    with SandboxServer(orders=300, seed=7, clock_speed=0.0, qps=5000.0) as sb:
        with fast_client(sb) as client:
            sync_shop(
                client,
                cache,
                "shop",
                options=SyncOptions(
                    lookback_days=DAYS + 5, traces=False, finance=False, daily_calls=0
                ),
            )
            plan = trace_plan(
                cache,
                "shop",
                stale_before=sb.clock.now(),
                traceable=TRACEABLE_STATUSES,
                trace_once=TRACE_ONCE_STATUSES,
            )
            assert plan.moving and plan.backfill and not plan.news
            created = {r["order_id"]: r["created_at"] for r in cache.orders("shop")}
            moving_created = [created[o] for o in plan.moving]
            assert moving_created == sorted(moving_created, reverse=True)
            statuses = Counter()
            for r in cache.items(shop="shop"):
                if r["order_id"] in plan.backfill:
                    statuses[r["status"]] += 1
            assert set(statuses) <= FINAL_STATUSES  # history: only parcels whose story ended

            ticks: list[Progress] = []
            s = sync_shop(client, cache, "shop", options=OPTS, progress=ticks.append)
        stages = [p.stage for p in ticks]
        last_finance = max(i for i, st in enumerate(stages) if st == "finance")
        first_history = min(i for i, st in enumerate(stages) if st == "history")
        assert last_finance < first_history  # history back-fill only after finance is in
        trace_ticks = [p for p in ticks if p.stage == "traces"]
        assert trace_ticks[-1].total == len(plan.moving)
        assert s.calls_by_stage["traces"] >= len(plan.moving)
        assert all(p.calls >= 0 and (p.eta_s is None or p.eta_s >= 0) for p in ticks)


# ---- the daily call budget ------------------------------------------------------------------
def test_daily_budget_is_kept_across_runs_and_the_rest_continues_next_run(cache) -> None:
    with SandboxServer(orders=300, seed=7, clock_speed=0.0, qps=5000.0) as sb:
        opts = SyncOptions(lookback_days=DAYS + 5, daily_calls=120)
        with fast_client(sb) as client:
            first = sync_shop(client, cache, "shop", options=opts)
            assert first.calls <= 120 and first.budget_left == 120 - first.calls
            assert first.failed == [] and first.failed_stages == []
            # orders and items first, then moving parcels, with finance's share kept aside
            assert len(cache.orders("shop")) == len(sb.shop.snapshot(sb.clock.now())["orders"])
            assert first.calls_by_stage.get("finance", 0) >= 1 and first.new_transactions > 0
            assert first.deferred.get("history", 0) + first.deferred.get("traces", 0) > 0
            assert budgets.calls_today(cache, sb.app_key) == first.calls

            second = sync_shop(client, cache, "shop", options=opts)  # same Lazada day
            assert second.calls == 0 and second.budget_left == 0 and second.deferred

            more = SyncOptions(lookback_days=DAYS + 5, daily_calls=5000)
            third = sync_shop(client, cache, "shop", options=more)
            assert not third.deferred and third.failed == []
            assert budgets.calls_today(cache, sb.app_key) == first.calls + third.calls
        want, got = truth_last_events(sb), last_events(cache, "shop")
        assert got == want  # nothing lost: the next run finished what did not fit


@pytest.mark.parametrize(
    "opts",
    [
        SyncOptions(lookback_days=DAYS + 5, daily_calls=40, finance=False),
        SyncOptions(lookback_days=DAYS + 5, daily_calls=40, history=False),
        SyncOptions(lookback_days=DAYS + 5, daily_calls=3),
    ],
)
def test_the_budget_holds_whichever_stages_run(cache, sandbox, opts: SyncOptions) -> None:
    with fast_client(sandbox) as client:
        s = sync_shop(client, cache, "shop", options=opts)
        assert s.calls <= opts.daily_calls and s.deferred and s.failed_stages == []
        assert client.stats.calls == s.calls


def _count_prefetch(monkeypatch: pytest.MonkeyPatch) -> tuple[list[int], list[str]]:
    """Count what goes through the history prefetch alone (not the early history traces
    started while orders are listed): how often it is asked to start (``calls left`` each
    time) and the trace calls its own pool makes."""

    asked: list[int] = []
    traced: list[str] = []
    prefetch, pool = engine._prefetch_history, engine.EarlyTraces

    def counting_pool(trace, **kw):
        def counted(order_id: str):
            traced.append(order_id)
            return trace(order_id)

        return pool(counted, **kw)

    def counting_prefetch(run, finance, exclude) -> None:
        asked.append(run.left() or 0)
        monkeypatch.setattr(engine, "EarlyTraces", counting_pool)
        try:
            prefetch(run, finance, exclude)
        finally:
            monkeypatch.setattr(engine, "EarlyTraces", pool)

    monkeypatch.setattr(engine, "_prefetch_history", counting_prefetch)
    # A small shop never has the 2000 calls left that overlapping stages wait for.
    monkeypatch.setattr(engine, "EARLY_MIN_LEFT", 0)
    return asked, traced


@pytest.mark.parametrize(("daily_calls", "cut"), [(100, True), (400, False)])
def test_history_is_not_prefetched_while_the_budget_leaves_moving_parcels_waiting(
    cache, sandbox, monkeypatch: pytest.MonkeyPatch, daily_calls: int, cut: bool
) -> None:
    asked, traced = _count_prefetch(monkeypatch)
    opts = SyncOptions(lookback_days=DAYS + 5, daily_calls=daily_calls, finance=False)
    with fast_client(sandbox) as client:
        s = sync_shop(client, cache, "shop", options=opts)
    assert s.failed == [] and s.failed_stages == [] and s.calls <= daily_calls
    assert bool(s.deferred.get("traces")) == cut
    if cut:  # the calls left belong to the moving parcels cut off, in the next run
        assert asked == [] and traced == []
    else:  # the back-fill starts beside the last moving parcels
        assert len(asked) == 1 and traced


def test_no_history_back_fill_while_the_budget_leaves_moving_parcels_waiting(
    cache, sandbox
) -> None:
    """Finance's reserve (what it took last time) is kept while parcels are traced; when
    finance needs less this time, the calls left belong to the moving parcels the budget
    cut off (the next run traces them first), not to delivered parcels' history."""
    with cache.transaction():  # a run before this one: finance took 30 calls
        cache.set_watermark("shop", engine.WM_FINANCE_CALLS, "30", observed_at=utcnow())
    opts = SyncOptions(lookback_days=DAYS + 5, daily_calls=150)
    with fast_client(sandbox) as client:
        s = sync_shop(client, cache, "shop", options=opts)
    assert s.failed == [] and s.failed_stages == [] and s.calls <= 150
    assert s.deferred.get("traces")  # moving parcels were cut ...
    assert s.calls_by_stage.get("finance", 0) < 30  # ... while finance left calls unused
    assert s.calls_by_stage.get("history", 0) == 0
    assert s.deferred.get("history")  # and the summary says history waits too


def test_the_day_count_moves_with_lazadas_day(cache) -> None:
    from datetime import UTC, datetime

    day1 = datetime(2026, 12, 1, 15, 59, tzinfo=UTC)  # 23:59 in UTC+8
    with cache.transaction():
        budgets.add_calls(cache, "k", 40, day1)
    assert budgets.calls_today(cache, "k", day1) == 40
    assert budgets.calls_today(cache, "k", day1 + timedelta(minutes=2)) == 0


# ---- failed stages as a field ---------------------------------------------------------------
def test_failed_stages_is_a_field_of_the_summary(cache) -> None:
    with SandboxServer(orders=40, seed=3, clock_speed=0.0, qps=5000.0) as sb:
        conn = sb.connection(sb.issue_token())
        from dataclasses import replace

        bad = replace(conn, app_key="999")
        with LazadaClient(bad, default_qps=5000.0) as client:
            s = sync_shop(client, cache, "shop", options=OPTS)
    assert s.failed_stages == ["seller", "orders", "traces", "finance", "history"][
        : len(s.failed_stages)
    ] or set(s.failed_stages) >= {"seller", "orders"}
    d = s.to_dict()
    assert d["failed_stages"] == s.failed_stages and json.dumps(d)


# ---- a dead network ends a sync quickly -----------------------------------------------------
def _sync_until_the_sandbox_stops(
    path: Path, sb: SandboxServer, client: LazadaClient, stop_when: Callable[[Progress], bool]
) -> tuple[BaseException | None, float]:
    """Sync in a thread; stop the sandbox (in the sync's own thread, so nothing moves on
    meanwhile) at the first progress tick ``stop_when`` accepts. Returns the sync's error
    and the seconds from the stop to the sync's end."""
    stopped_at: list[float] = []
    outcome: list[BaseException | None] = []

    def on_progress(p: Progress) -> None:
        if not stopped_at and stop_when(p):
            stopped_at.append(time.monotonic())
            stopper = threading.Thread(target=sb.stop, daemon=True)
            stopper.start()
            stopper.join(timeout=30)

    def run() -> None:
        with Cache.open(path) as cache:
            try:
                sync_shop(client, cache, "shop", options=OPTS, progress=on_progress)
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001 - the test inspects it
                outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=150)
    ended = time.monotonic()
    client.close()
    assert not worker.is_alive() and stopped_at
    (exc,) = outcome
    return exc, ended - stopped_at[0]


def _traced_packages(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute(
            "SELECT COUNT(*) FROM packages WHERE last_traced_at IS NOT NULL"
        ).fetchone()[0]
    finally:
        conn.close()


def _resume(path: Path, shop_data, port: int) -> None:
    """The sandbox is back: the next sync finishes and the cache holds its truth."""
    with (
        SandboxServer(shop=shop_data, clock_speed=0.0, qps=5000.0, port=port) as again,
        Cache.open(path) as cache,
        fast_client(again) as client,
    ):
        s = sync_shop(client, cache, "shop", options=OPTS)
        assert s.failed == [] and s.traced_orders > 0
        assert last_events(cache, "shop") == truth_last_events(again)


def test_a_sandbox_stopped_mid_sync_ends_the_sync_within_a_minute_and_it_resumes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cache.sqlite3"
    with SandboxServer(orders=400, seed=11, clock_speed=0.0, qps=5000.0, latency_ms=20) as sb:
        client = LazadaClient(sb.connection(sb.issue_token()), default_qps=40.0)
        # In the trace stage proper (every order listed): 44 parcels answered, of which at
        # most the early pool's 4 calls still running at the stage's start may be lost.
        exc, took = _sync_until_the_sandbox_stops(
            path, sb, client, lambda p: p.stage == "traces" and p.total is not None and p.done >= 44
        )
    assert took < 60  # not 13 minutes of retrying every parcel
    assert isinstance(exc, NetworkDownError)
    assert "could not be reached" in str(exc) and "saved" in str(exc)
    assert _traced_packages(path) >= 40  # what was fetched before the network died is kept
    _resume(path, sb.shop, sb.port)


def test_a_network_dying_while_orders_are_listed_keeps_the_parcels_traced_early(
    tmp_path: Path,
) -> None:
    """The trace pool runs beside the listing: what it brought for the orders already
    stored is written when the orders stage stops the sync, not thrown away."""
    path = tmp_path / "cache.sqlite3"
    with SandboxServer(orders=400, seed=11, clock_speed=0.0, qps=5000.0, latency_ms=20) as sb:
        client = LazadaClient(sb.connection(sb.issue_token()), default_qps=40.0)

        def after_the_first_chunk_and_30_early_traces(p: Progress) -> bool:
            # The first chunk of 200 orders is stored; every parcel traced early so far is
            # one of its orders'. Wait (holding the sync) until 30 trace calls have gone out.
            if not (p.stage == "orders" and p.total is None and p.done >= 200):
                return False
            deadline = time.monotonic() + 60
            while client.stats.by_api.get(TRACE, 0) < 30 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)  # their answers arrive (20 ms each)
            return True

        exc, took = _sync_until_the_sandbox_stops(
            path, sb, client, after_the_first_chunk_and_30_early_traces
        )
    assert took < 60
    assert isinstance(exc, NetworkDownError)
    conn = sqlite3.connect(path)
    orders = conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    conn.close()
    assert orders == 200  # the first chunk; the second's items never came
    assert _traced_packages(path) >= 20
    _resume(path, sb.shop, sb.port)


def test_cli_sync_against_a_closed_port_stops_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    from xl_lazada.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for k in ("XL_LAZADA_SHOP", "XL_LAZADA_REFRESH_TOKEN", "XL_LAZADA_AUTH_URL"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("XL_LAZADA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XL_LAZADA_BASE_URL", f"http://127.0.0.1:{port}/rest")
    monkeypatch.setenv("XL_LAZADA_APP_KEY", "100100")
    monkeypatch.setenv("XL_LAZADA_APP_SECRET", "secret-secret")
    monkeypatch.setenv("XL_LAZADA_ACCESS_TOKEN", "token-token")
    t0 = time.monotonic()
    code = main(["sync", "--cache", str(tmp_path / "c.sqlite3")])
    took = time.monotonic() - t0
    err = capsys.readouterr().err
    assert code == 1 and took < 60
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "could not be reached" in lines[0], err
    assert "Traceback" not in err


# ---- progress a person can trust ------------------------------------------------------------
def test_progress_lines_every_few_seconds_when_not_a_terminal() -> None:
    import io

    from xl_lazada.cli.progress import LinePrinter, progress_line

    now = [0.0]
    out = io.StringIO()
    printer = LinePrinter(out, every=5.0, clock=lambda: now[0])
    for done in range(0, 1001, 10):  # 100 ticks over 50 s of tracing
        now[0] += 0.5
        printer(
            Progress(
                "traces",
                done,
                1000,
                "",
                calls=done + done // 50,
                throttled=done // 200,
                eta_s=(1000 - done) * 0.05,
                elapsed_s=now[0],
            )
        )
    # The stage's summary comes as one more update once it is complete: one line for both.
    printer(Progress("traces", 1000, 1000, "299 new checkpoints", calls=1020, elapsed_s=50))
    printer(Progress("finance", 0, None, "transactions since 2026-11-01"))
    printer.close()
    lines = out.getvalue().splitlines()
    assert 9 <= len(lines) <= 13  # one every 5 s, the stage's end, and the next stage
    assert lines[0].startswith("Tracking: ") and "calls" in lines[0] and "left" in lines[0]
    assert [x for x in lines if "1,000/1,000" in x] == [lines[-2]]
    assert lines[-2].endswith("— 299 new checkpoints") and lines[-1].startswith("Finance: 0")
    line = progress_line(
        Progress("history", 1200, 16500, "", calls=1251, throttled=3, eta_s=680, elapsed_s=60)
    )
    assert (
        line == "Delivered history: 1,200/16,500 (7%), 1,251 calls, 3 throttled, ~11 min 20 s left"
    )


def test_progress_lines_stay_few_while_stages_run_side_by_side() -> None:
    # Orders are listed while their parcels are traced: the two stages' updates alternate.
    # A log still gets each stage's latest line every few seconds, not a line per update.
    import io

    from xl_lazada.cli.progress import LinePrinter

    now = [0.0]
    out = io.StringIO()
    printer = LinePrinter(out, every=5.0, clock=lambda: now[0])
    for page in range(1, 201):  # 200 pages of orders over 20 s, a trace after each
        now[0] += 0.1
        printer(Progress("orders", page * 100, None, f"{page * 100:,} new, 0 changed"))
        printer(Progress("traces", page, None, "while orders are listed"))
    printer(Progress("orders", 20000, 20000, ""))
    printer(Progress("orders", 20000, 20000, "20,000 new, 0 changed"))
    printer.close()
    lines = out.getvalue().splitlines()
    assert 8 <= len(lines) <= 12, lines  # both stages every 5 s, the end of each
    assert lines.count("Orders: 20,000/20,000 (100%), 0 calls — 20,000 new, 0 changed") == 1
    assert lines[-1] == "Tracking: 200, 0 calls — while orders are listed"

    # A stage that ends with no summary is printed as soon as the next update shows none is
    # coming (not minutes later at the next flush, nor lost when the sync then fails).
    out = io.StringIO()
    printer = LinePrinter(out, every=5.0, clock=lambda: now[0])
    printer(Progress("traces", 40, 40, ""))
    printer(Progress("finance", 900, 900, "900 new transactions"))
    assert out.getvalue().splitlines() == [
        "Tracking: 40/40 (100%), 0 calls",
        "Finance: 900/900 (100%), 0 calls — 900 new transactions",
    ]


def test_cli_sync_json_has_failed_stages_and_logs_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from xl_lazada.cli import main
    from xl_lazada.cli import progress as cli_progress

    monkeypatch.setattr(cli_progress, "LINE_EVERY_S", 0.0)
    with SandboxServer(orders=60, seed=3, clock_speed=0.0, qps=5000.0) as sb:
        for k in ("XL_LAZADA_SHOP", "XL_LAZADA_REFRESH_TOKEN", "XL_LAZADA_AUTH_URL"):
            monkeypatch.delenv(k, raising=False)
        monkeypatch.setenv("XL_LAZADA_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("XL_LAZADA_BASE_URL", sb.base_url)
        monkeypatch.setenv("XL_LAZADA_APP_KEY", sb.app_key)
        monkeypatch.setenv("XL_LAZADA_APP_SECRET", sb.app_secret)
        monkeypatch.setenv("XL_LAZADA_ACCESS_TOKEN", sb.issue_token()["access_token"])
        code = main(
            [
                "sync",
                "--json",
                "--lookback-days",
                "50",
                "--daily-calls",
                "30",
                "--cache",
                str(tmp_path / "c.sqlite3"),
            ]
        )
    out = capsys.readouterr()
    assert code == 0, out.err
    summary = json.loads(out.out)
    assert summary["failed_stages"] == [] and summary["calls"] <= 30
    assert summary["deferred"] and summary["budget_left"] == 30 - summary["calls"]
    assert "daily call budget reached (30 calls a day)" in out.err
    assert "left for the next run" in out.err
    assert any(ln.startswith("Orders: ") for ln in out.err.splitlines())
