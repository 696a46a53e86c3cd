"""The sync engine against the sandbox over real HTTP (frozen simulated clock).

Ground truth is the sandbox shop's own projection, ``sb.shop.snapshot(sb.clock.now())``: after
a sync the cache must hold exactly what it shows — every order, unit, parcel, checkpoint,
transaction and statement, nothing missing and nothing twice.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from xl_lazada.cache import Cache, answers
from xl_lazada.cache.codec import iso_utc
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.dates import parse_datetime, utcnow
from xl_lazada.lazada.ventures import venture
from xl_lazada.sandbox.catalog import WIRE_CODE
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.sync import Progress, SyncOptions, sync_shop

pytestmark = pytest.mark.timeout(120)

DAYS = 45  # Shop.generate's default history; the first sync must look back at least this far
OPTS = SyncOptions(lookback_days=DAYS + 5)


def make_client(sb: SandboxServer, transport: httpx.BaseTransport | None = None) -> LazadaClient:
    return LazadaClient(
        sb.connection(sb.issue_token()), transport=transport, default_qps=5000.0, max_workers=4
    )


def t(text: str, tz) -> str:
    """A wire time as the cache stores it (UTC ISO text)."""
    return iso_utc(parse_datetime(text, tz))


def assert_matches_ground_truth(cache: Cache, shop: str, sb: SandboxServer) -> None:
    """Every row of the shop's projection at sim time is in the cache, once, and nothing else."""
    snap = sb.shop.snapshot(sb.clock.now())
    tz = venture(sb.shop.venture.code).tz

    want_orders = {
        o["order_id"]: (t(o["updated_at"], tz), ",".join(sorted(set(o["statuses"]))))
        for o in snap["orders"]
    }
    got_orders = {r["order_id"]: (r["updated_at"], r["statuses"]) for r in cache.orders(shop)}
    assert got_orders == want_orders

    want_items = {
        i["order_item_id"]: (i["order_id"], i["status"], i["package_id"] or None)
        for o in snap["orders"]
        for i in o["items"]
    }
    got_items = {
        r["order_item_id"]: (r["order_id"], r["status"], r["package_id"])
        for r in cache.items(shop=shop)
    }
    assert got_items == want_items
    # Lazada drops tracking_code from delivered items: an item shows the number it was last
    # seen with (blank only if it was never seen before delivery) ...
    for r in cache.items(shop=shop):
        truth = next(
            i
            for o in snap["orders"]
            for i in o["items"]
            if i["order_item_id"] == r["order_item_id"]
        )
        assert r["tracking_code"] in (truth["tracking_code"] or None, None)
    # ... while every parcel keeps its tracking number (from the trace) and resolves by it.
    numbers = {
        p["ofc_package_id"]: p["tracking_number"]
        for packages in snap["traces"].values()
        for p in packages
    }
    for r in cache.packages(shop=shop):
        if r["package_id"] in numbers:
            assert r["tracking_number"] == numbers[r["package_id"]]
            assert cache.resolve(numbers[r["package_id"]], shop) == [(shop, r["order_id"])]

    want_pkgs = {i[2] for i in want_items.values() if i[2]}
    want_events: Counter[tuple[str, str, str]] = Counter()
    for packages in snap["traces"].values():
        for p in packages:
            want_pkgs.add(p["ofc_package_id"])
            for e in p["logistic_detail_info_list"]:
                code = WIRE_CODE[e["status_code"]]  # the trace API's numeric code
                want_events[(p["ofc_package_id"], code, t(e["event_time"], tz))] += 1
    assert {r["package_id"] for r in cache.packages(shop=shop)} == want_pkgs
    got_events = Counter(
        (r["package_id"], r["status_code"], r["event_time"]) for r in cache.checkpoints(shop=shop)
    )
    assert got_events == want_events

    want_tx = {
        x["transaction_number"]: (x["amount"], x["paid_status"], x["order_no"])
        for x in snap["transactions"]
    }
    assert len(want_tx) == len(snap["transactions"])
    got_tx = {
        r["transaction_number"]: (r["amount"], r["paid_status"], r["order_no"])
        for r in cache.transactions(shop=shop)
    }
    assert {k: (Decimal(a), p, o) for k, (a, p, o) in got_tx.items()} == {
        k: (Decimal(a), p, o) for k, (a, p, o) in want_tx.items()
    }
    want_st = {s["statement_number"]: int(s["paid"]) for s in snap["statements"]}
    assert {r["statement_number"]: r["paid"] for r in cache.statements(shop)} == want_st

    seller = snap["seller"]
    info = {s.name: s for s in cache.shops()}[shop]
    assert (info.seller_id, info.seller_name, info.venture) == (
        seller["seller_id"],
        seller["name"],
        sb.shop.venture.code,
    )
    for ref in list(want_orders)[:5] + [i[2] for i in want_items.values() if i[2]][:5]:
        assert cache.resolve(ref, shop)
    assert cache.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.fixture
def cache(tmp_path):
    c = Cache.open(tmp_path / "cache.sqlite3")
    yield c
    c.close()


def test_first_sync_second_sync_and_time_passing(cache):
    # The shop's present is 3 days ago, so moving its clock on stays in the real past (as
    # Lazada's clock is never ahead of the real one).
    past = utcnow().replace(microsecond=0) - timedelta(days=3)
    with (
        SandboxServer(orders=300, seed=7, clock_speed=0.0, qps=5000.0, now=past) as sb,
        make_client(sb) as client,
    ):
        ticks: list[Progress] = []
        first = sync_shop(client, cache, "my", options=OPTS, progress=ticks.append)
        assert first.failed == []
        assert first.new_orders == len(sb.shop.snapshot(sb.clock.now())["orders"]) > 200
        assert first.calls == client.stats.calls
        assert_matches_ground_truth(cache, "my", sb)
        assert {p.stage for p in ticks} == {"seller", "orders", "traces", "finance", "history"}
        assert cache.history("my") == []  # the initial load is not "change"

        newest = max(r["updated_at"] for r in cache.orders("my"))
        assert cache.watermark("my", "orders_updated_at") == newest
        sb.stats.reset()
        second = sync_shop(client, cache, "my", options=OPTS)
        assert second.failed == []
        # from the watermark: one page of orders, not the whole look-back again
        assert sb.stats.by_api["/orders/get"] == 1
        assert (second.new_orders, second.changed_orders, second.new_checkpoints) == (0, 0, 0)
        assert second.calls <= max(5, first.calls // 20), (second.calls, first.calls)
        assert_matches_ground_truth(cache, "my", sb)
        assert cache.history("my") == []

        sb.clock.advance(timedelta(days=2))
        third = sync_shop(
            client,
            cache,
            "my",
            options=SyncOptions(lookback_days=DAYS + 5, trace_stale_after=timedelta(0)),
        )
        assert third.failed == []
        assert third.status_changes > 0 and third.new_checkpoints > 0
        assert_matches_ground_truth(cache, "my", sb)
        kinds = Counter(h["kind"] for h in cache.history("my"))
        assert kinds["item_status"] == third.status_changes
        assert kinds["checkpoint"] == third.new_checkpoints
        assert kinds["order_new"] == third.new_orders
        # an item status change in history matches the unit's current status
        change = next(h for h in cache.history("my") if h["kind"] == "item_status")
        (row,) = [
            i
            for i in cache.items([change["order_id"]], "my")
            if i["order_item_id"] == change["entity_id"]
        ]
        assert row["status"] == change["new_value"] != change["old_value"]
        runs = cache.connection.execute("SELECT summary FROM sync_runs WHERE shop='my'").fetchall()
        assert [json.loads(r[0])["new_orders"] for r in runs] == [
            first.new_orders,
            0,
            third.new_orders,
        ]


class FailFor(httpx.BaseTransport):
    """Real HTTP to the sandbox, except Lazada-style errors for chosen orders (what the
    sandbox's random faults cannot aim at: one order failing while the rest succeed)."""

    def __init__(
        self,
        items: set[str] = frozenset(),
        traces: set[str] = frozenset(),
        paths: set[str] = frozenset(),
    ) -> None:
        self.inner = httpx.HTTPTransport()
        self.items, self.traces, self.paths = set(items), set(traces), set(paths)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        q = request.url.params
        bad = (
            (
                path.endswith("/orders/items/get")
                and any(b in q.get("order_ids", "") for b in self.items)
            )
            or (path.endswith("/order/items/get") and q.get("order_id") in self.items)
            or (path.endswith("/logistic/order/trace") and q.get("order_id") in self.traces)
            or any(path.endswith(p) for p in self.paths)
        )
        if bad:
            body = {
                "type": "ISV",
                "code": "InvalidParameter",
                "message": 'The specified parameter "order_id" is not valid.',
                "request_id": "fail-for",
            }
            return httpx.Response(200, json=body, request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_one_failing_order_is_reported_and_the_rest_synced(cache, sandbox):
    # The shared session sandbox (conftest): this test only reads it.
    sb = sandbox
    snap = sb.shop.snapshot(sb.clock.now())
    by_update = sorted(snap["orders"], key=lambda o: parse_datetime(o["updated_at"]))
    bad_items = by_update[len(by_update) // 3]["order_id"]
    traced = [
        oid for oid, pk in snap["traces"].items() if any(p["logistic_detail_info_list"] for p in pk)
    ]
    bad_trace = next(oid for oid in traced if oid != bad_items)
    transport = FailFor(items={bad_items}, traces={bad_trace}, paths={"/finance/payout/status/get"})
    with make_client(sb, transport) as client:
        s = sync_shop(client, cache, "my", options=OPTS)
    failed = dict(s.failed)
    assert set(failed) == {bad_items, bad_trace, "finance"}
    assert failed[bad_items].startswith("items:") and "InvalidParameter" in failed[bad_items]
    assert failed[bad_trace].startswith("trace:")
    assert failed["finance"].startswith("finance:")
    assert {(f["stage"], f["ref"]) for f in cache.failures("my")} == {
        ("items", bad_items),
        ("trace", bad_trace),
        ("finance", "finance"),
    }
    assert cache.transactions(shop="my")  # fetched before the payouts call failed
    assert cache.watermark("my", "finance_date") is None  # so finance is redone
    assert bad_items not in {r["order_id"] for r in cache.orders("my")}
    assert len(cache.orders("my")) == len(snap["orders"]) - 1
    assert cache.checkpoints(shop="my")  # the other orders' traces are in
    # the watermark did not pass the order whose items failed
    mark = cache.watermark("my", "orders_updated_at")
    failed_at = next(o for o in snap["orders"] if o["order_id"] == bad_items)["updated_at"]
    assert mark <= t(failed_at, sb.shop.venture.tz)

    # next run, the problem gone: both orders are fetched and the failures cleared
    with make_client(sb) as client:
        again = sync_shop(client, cache, "my", options=OPTS)
    assert again.failed == []
    assert again.new_orders == 1
    assert cache.failures("my") == []
    assert_matches_ground_truth(cache, "my", sb)


def test_two_shops_side_by_side(cache):
    with (
        SandboxServer(orders=120, seed=21, venture="MY", clock_speed=0.0, qps=5000.0) as a,
        SandboxServer(orders=120, seed=22, venture="VN", clock_speed=0.0, qps=5000.0) as b,
    ):
        with make_client(a) as ca, make_client(b) as cb:
            assert sync_shop(ca, cache, "my-shop", options=OPTS).failed == []
            assert sync_shop(cb, cache, "vn-shop", options=OPTS).failed == []
        assert_matches_ground_truth(cache, "my-shop", a)
        assert_matches_ground_truth(cache, "vn-shop", b)
        shops = {s.name: s for s in cache.shops()}
        assert shops["vn-shop"].venture == "VN" and shops["vn-shop"].tz.utcoffset(
            None
        ) == timedelta(hours=7)
        assert shops["my-shop"].venture == "MY"
        vn_order = cache.orders("vn-shop")[0]["order_id"]
        assert ("vn-shop", vn_order) in cache.resolve(vn_order)
        assert cache.resolve(vn_order, "vn-shop") == [("vn-shop", vn_order)]
        assert {r["currency"] for r in cache.items(shop="vn-shop")} == {"VND"}


# ---- the CLI, and a sync killed half-way ---------------------------------------------------
OBSERVED = {
    "first_seen_at",
    "synced_at",
    "last_traced_at",
    "observed_at",
    "id",
    "first_failed_at",
    "last_failed_at",
}

OBSERVED_MARKS = {"baseline_orders", "baseline_traces", "finance_unpaid_checked_at"}


def _unobserved(blob: bytes) -> tuple:
    answer = answers.unpack(blob)
    assert answer is not None
    order = list(answer[0])
    order[answers.ORDER_COLUMNS.index("synced_at")] = None
    return (tuple(order), answer[1])


def table_contents(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows minus observation timestamps (what this computer saw, and when)."""
    conn = sqlite3.connect(path)
    out: dict[str, list[tuple]] = {}
    tables = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        # (cache_generation counts commits: a resumed sync makes more of them)
        if r[0] not in ("sync_runs", "schema_version", "sqlite_sequence", "cache_generation")
    ]
    for table in tables:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in OBSERVED]
        if table == "watermarks":  # the app's call count and learned rates are observations
            cols = ["name", "value"]
            rows = conn.execute(
                "SELECT name, value FROM watermarks WHERE shop NOT LIKE 'app:%'"
            ).fetchall()
        else:
            rows = conn.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
        if table == "watermarks":  # some markers hold observation times
            rows = [(n, "set" if n in OBSERVED_MARKS else v) for n, v in rows]
        if table == "order_answers":  # packed: the answer's copy of synced_at is observed too
            rows = [(*r[:-1], _unobserved(r[-1])) for r in rows]
        out[table] = sorted(rows, key=repr)
    conn.close()
    return out


def cli_env(sb: SandboxServer, home: Path, cache_path: Path) -> dict[str, str]:
    tok = sb.issue_token()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XL_LAZADA_")}
    env.update(
        XL_LAZADA_BASE_URL=sb.base_url,
        XL_LAZADA_APP_KEY=sb.app_key,
        XL_LAZADA_APP_SECRET=sb.app_secret,
        XL_LAZADA_ACCESS_TOKEN=tok["access_token"],
        XL_LAZADA_VENTURE=sb.shop.venture.code,
        XL_LAZADA_SHOP="cli-shop",
        XL_LAZADA_HOME=str(home),
        XL_LAZADA_CACHE=str(cache_path),
    )
    return env


CLI = [sys.executable, "-c", "import sys; from xl_lazada.cli import main; sys.exit(main())"]
SYNC_ARGS = ["sync", "--json", "--lookback-days", str(DAYS + 5), "--qps", "2000"]


def run_cli(env: dict[str, str], *extra: str) -> dict:
    done = subprocess.run(
        [*CLI, *SYNC_ARGS, *extra], env=env, capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def count_orders(path: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_sync_killed_mid_run_resumes_to_the_same_cache(tmp_path):
    with SandboxServer(orders=400, seed=11, clock_speed=0.0, qps=5000.0, latency_ms=25) as sb:
        total = len(sb.shop.snapshot(sb.clock.now())["orders"])
        killed = tmp_path / "killed.sqlite3"
        env = cli_env(sb, tmp_path / "home", killed)
        proc = subprocess.Popen(
            [*CLI, *SYNC_ARGS, "--order-chunk", "20"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while count_orders(killed) == 0:
                assert proc.poll() is None, "sync finished before it could be killed"
                assert time.monotonic() < deadline
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        at_kill = count_orders(killed)
        assert 0 < at_kill < total  # really killed half-way through the orders
        conn = sqlite3.connect(killed)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] % 20 == 0  # whole chunks
        assert (
            conn.execute(
                "SELECT COUNT(*) FROM orders o WHERE NOT EXISTS"
                " (SELECT 1 FROM items i WHERE i.shop = o.shop AND i.order_id = o.order_id)"
            ).fetchone()[0]
            == 0
        )  # no order without its items
        conn.close()

        resumed = run_cli(env, "--order-chunk", "20")
        assert resumed["failed"] == [] and resumed["new_orders"] == total - at_kill

        clean = tmp_path / "clean.sqlite3"
        summary = run_cli(cli_env(sb, tmp_path / "home2", clean))
        assert summary["new_orders"] == total and summary["shop"] == "cli-shop"

        got, want = table_contents(killed), table_contents(clean)
        assert set(got) == set(want)
        for table in want:
            assert got[table] == want[table], table
        with Cache.open(killed) as c:
            assert_matches_ground_truth(c, "cli-shop", sb)


def test_cli_sync_flags_output_and_a_fatal_error(tmp_path, monkeypatch, capsys):
    from xl_lazada.cli import main

    with SandboxServer(orders=80, seed=5, clock_speed=0.0, qps=5000.0) as sb:
        path = tmp_path / "c.sqlite3"
        for k, v in cli_env(sb, tmp_path / "home", path).items():
            if k.startswith("XL_LAZADA_"):
                monkeypatch.setenv(k, v)
        sb.stats.reset()
        args = ["sync", "--no-traces", "--no-finance", "--lookback-days", str(DAYS + 5)]
        assert main([*args, "--qps", "2000"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("cli-shop: ") and " new orders" in out and out.count("\n") == 1
        assert sb.stats.by_api.get("/logistic/order/trace", 0) == 0
        assert not any(k.startswith("/finance") for k, v in sb.stats.by_api.items() if v)
        with Cache.open(path) as c:
            assert len(c.orders("cli-shop")) == len(sb.shop.snapshot(sb.clock.now())["orders"])
            assert c.checkpoints() == [] and c.transactions() == []

        # A token Lazada refuses stops the sync: one line, exit 1, the token never shown.
        bad = "bogus-token-0123456789abcdef"
        monkeypatch.setenv("XL_LAZADA_ACCESS_TOKEN", bad)
        monkeypatch.delenv("XL_LAZADA_REFRESH_TOKEN", raising=False)
        assert main(["sync", "--json"]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
        assert bad not in captured.err and sb.app_secret not in captured.err


def test_frequent_syncs_reread_only_a_short_finance_window(cache):
    """Lazada caps calls per day: a sync every 15 minutes must not re-read two weeks of
    finance lines each time. Only a daily deep run goes back 14 days (and to unpaid lines)."""
    with (
        SandboxServer(orders=200, seed=5, clock_speed=0.0, qps=5000.0) as sb,
        make_client(sb) as client,
    ):
        windows: list[tuple] = []
        real = client.transactions

        def spy(start, end, **kw):
            windows.append((start, end))
            return real(start, end, **kw)

        client.transactions = spy  # type: ignore[method-assign]
        sync_shop(client, cache, "my", options=OPTS)
        newest = max(r["transaction_date"] for r in cache.transactions(shop="my"))
        assert (
            cache.watermark("my", "finance_date") == newest
        )  # Lazada's newest line, not our clock
        sync_shop(client, cache, "my", options=OPTS)
        start, _ = windows[-1]
        assert (date_of(newest) - start).days == OPTS.finance_overlap_days
        sb.clock.advance(timedelta(days=1, hours=1))  # a day on by Lazada's clock: deep run due
        sync_shop(client, cache, "my", options=OPTS)
        start, _ = windows[-1]
        assert (date_of(newest) - start).days >= OPTS.finance_deep_days


def date_of(text: str):
    from datetime import date

    return date.fromisoformat(text)
