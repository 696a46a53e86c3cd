"""Stages that overlap to keep each Lazada API busy, against the sandbox over real HTTP: the
shop profile lands before the orders that depend on it, parcels are traced while orders are
still listed (history ones too, never logged as news), and the early tracer's priorities."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import xl_lazada.sync.engine as engine
from xl_lazada.cache import Cache
from xl_lazada.cache.facts import stale_shops
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.dates import utcnow
from xl_lazada.lazada.errors import BudgetExhaustedError, NotFoundError
from xl_lazada.lazada.models import OrderItem, OrderTrace
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.sync import Progress, SyncOptions, sync_shop
from xl_lazada.sync.early import EarlyTraces
from xl_lazada.sync.plan import trace_plan
from xl_lazada.sync.policy import FINAL_STATUSES, TRACE_ONCE_STATUSES, TRACEABLE_STATUSES

pytestmark = pytest.mark.timeout(180)

TRACE = "/logistic/order/trace"


class SlowItemsClient(LazadaClient):
    """Items answered ``delay`` seconds late (a slow API), so traces started meanwhile run;
    remembers which orders' traces started while the orders stage was still running."""

    delay = 0.5

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.listing = True
        self.traced_while_listing: set[str] = set()

    def orders_items(self, order_ids: Iterable[str]) -> dict[str, list[OrderItem]]:
        time.sleep(self.delay)
        return super().orders_items(order_ids)

    def trace(self, order_id: str) -> OrderTrace:
        if self.listing:
            self.traced_while_listing.add(order_id)
        return super().trace(order_id)


@pytest.fixture
def cache(tmp_path: Path):
    c = Cache.open(tmp_path / "cache.sqlite3")
    yield c
    c.close()


def test_the_shop_profile_is_written_before_the_orders_that_depend_on_it(cache) -> None:
    with SandboxServer(orders=120, seed=5, clock_speed=0.0, qps=5000.0, latency_ms=30) as sb:
        with LazadaClient(sb.connection(sb.issue_token()), default_qps=5000.0) as client:
            # No budget: the profile is fetched in a thread beside the first order page.
            s = sync_shop(client, cache, "shop", options=SyncOptions(daily_calls=0))
        assert s.failed == [] and s.calls_by_stage["seller"] == 1
        assert [shop.cross_border for shop in cache.shops()] == [True]  # the sandbox seller
        # Every order's deadline was worked out with that profile: nothing to recompute.
        assert stale_shops(cache.connection, None) == []


def test_history_traced_while_orders_are_listed_never_goes_to_the_change_log(
    cache, monkeypatch
) -> None:
    with SandboxServer(orders=300, seed=7, clock_speed=0.0, qps=5000.0) as sb:
        token = sb.issue_token()
        opts = SyncOptions(lookback_days=4, daily_calls=0)
        with LazadaClient(sb.connection(token), default_qps=5000.0) as client:
            sync_shop(client, cache, "shop", options=opts)  # the baseline: a short look back
        known = {r["order_id"] for r in cache.orders("shop")}
        # Three days on, orders delivered meanwhile show up: new to the cache, already final.
        sb.clock.advance(timedelta(days=3))
        monkeypatch.setattr(engine, "utcnow", lambda: utcnow() + timedelta(days=3))
        ticks: list[Progress] = []
        before = sb.stats.by_api.get(TRACE, 0)
        client = SlowItemsClient(sb.connection(token), default_qps=5000.0)
        with client:

            def on_progress(p: Progress) -> None:
                ticks.append(p)
                if p.stage == "orders" and p.total is not None:  # the orders stage's last word
                    client.listing = False

            s = sync_shop(client, cache, "shop", options=opts, progress=on_progress)
        assert s.failed == []
        orders = {r["order_id"]: set(r["statuses"].split(",")) for r in cache.orders("shop")}
        new = orders.keys() - known
        # (delivered, returned ...: a parcel whose story ended; canceled ones have no trace)
        ended = {o for o in new if orders[o] <= FINAL_STATUSES and orders[o] & TRACEABLE_STATUSES}
        moving = {oid for oid in new if orders[oid] - FINAL_STATUSES}
        assert ended and moving
        # The items were slow: the ended parcels were traced while the orders were listed,
        # and the history stage found them done.
        assert ended <= client.traced_while_listing
        history = [p for p in ticks if p.stage == "history"]
        assert history and history[0].done >= 1 and history[-1].done == history[-1].total
        traced = {r["order_id"] for r in cache.checkpoints(shop="shop")}
        assert ended <= traced
        logged = {r["order_id"] for r in cache.history("shop") if r["kind"] == "checkpoint"}
        assert not logged & ended  # their checkpoints are history, not news
        assert logged & moving  # a new parcel on its way is news
        # Trace calls are split by parcel, whichever stage traced it.
        calls = sb.stats.by_api.get(TRACE, 0) - before
        assert s.calls_by_stage["traces"] + s.calls_by_stage["history"] == calls
        assert s.calls_by_stage["history"] >= len(ended & traced)


def test_parcels_traced_while_listing_are_written_with_their_orders_in_one_facts_pass(
    cache, monkeypatch
) -> None:
    """A trace answered before its order's chunk is stored goes into the same transaction:
    a seller's sheet shows the parcel during the orders stage, and the new order's facts are
    worked out once, with its checkpoints (not once without and again with them)."""
    from xl_lazada.cache import facts as cache_facts

    passes: list[tuple[str, str]] = []  # (pass, order id)
    for name in ("refresh_facts", "refresh_trace_facts"):
        real = getattr(cache_facts, name)

        def record(conn, shop, ids, *a, _real=real, _name=name, **kw):  # type: ignore[no-untyped-def]
            ids = list(ids)
            passes.extend((_name, oid) for oid in ids)
            return _real(conn, shop, ids, *a, **kw)

        monkeypatch.setattr(cache_facts, name, record)
    with SandboxServer(orders=120, seed=5, clock_speed=0.0, qps=5000.0) as sb:
        client = SlowItemsClient(sb.connection(sb.issue_token()), default_qps=5000.0)
        client.delay = 1.5  # every early trace of the one chunk is in before its items
        traced_when_listed: set[str] = set()

        def on_progress(p: Progress) -> None:
            if p.stage == "orders" and p.total is not None:  # the orders stage's last word
                traced_when_listed.update(r["order_id"] for r in cache.checkpoints(shop="shop"))

        with client:
            s = sync_shop(client, cache, "shop", options=SyncOptions(daily_calls=0),
                          progress=on_progress)  # fmt: skip
    assert s.failed == []
    traced = {r["order_id"] for r in cache.checkpoints(shop="shop")}
    assert traced_when_listed and traced_when_listed <= traced
    once = Counter(oid for _, oid in passes)
    assert all(once[oid] == 1 for oid in traced_when_listed)
    assert not {oid for name, oid in passes if name == "refresh_trace_facts"} & traced_when_listed


def test_a_changed_order_traced_ahead_of_its_chunk_is_not_left_due_again(
    cache, monkeypatch
) -> None:
    """A trace started for an order still waiting in the read-ahead is written only once
    its own chunk is: that chunk marks a changed order's parcels as news, which would undo
    a trace written before it (and leave the parcel due again, costing a call next run)."""
    with SandboxServer(orders=600, seed=7, clock_speed=0.0, qps=5000.0) as sb:
        token = sb.issue_token()
        with LazadaClient(sb.connection(token), default_qps=5000.0) as client:
            sync_shop(client, cache, "shop", options=SyncOptions(daily_calls=0))
        sb.clock.advance(timedelta(days=2))
        monkeypatch.setattr(engine, "utcnow", lambda: utcnow() + timedelta(days=2))
        client = SlowItemsClient(sb.connection(token), default_qps=5000.0)
        client.delay = 0.3  # traces of the chunks waiting ahead are answered meanwhile
        opts = SyncOptions(daily_calls=0, order_chunk=40)
        with client:
            s = sync_shop(client, cache, "shop", options=opts)
        assert s.failed == [] and s.changed_orders > 40  # changed orders in several chunks
        plan = trace_plan(
            cache,
            "shop",
            stale_before=utcnow() + timedelta(days=2) - opts.trace_stale_after,
            traceable=TRACEABLE_STATUSES,
            trace_once=TRACE_ONCE_STATUSES,
        )
        assert plan.news == []
        untraced = cache.connection.execute(
            "SELECT COUNT(*) FROM packages WHERE shop = 'shop' AND last_traced_at IS NULL"
            " AND last_event_at IS NOT NULL"
        ).fetchone()[0]
        assert untraced == 0


def test_the_listing_read_ahead_shows_what_it_holds_without_taking_it() -> None:
    """What lets traces start for orders listed but not chunked yet."""

    def pages():  # type: ignore[no-untyped-def]
        yield from range(6)
        raise RuntimeError("the listing broke")

    ahead = engine._ReadAhead(pages(), 4)
    _wait_for(lambda: len(ahead.ahead()) == 4)
    assert ahead.ahead() == [0, 1, 2, 3]
    assert next(ahead) == 0
    _wait_for(lambda: ahead.ahead() == [1, 2, 3, 4])
    assert [next(ahead) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert ahead.ahead() == []  # the error waiting in line is not a value
    with pytest.raises(RuntimeError, match="the listing broke"):
        next(ahead)
    ahead.close()


def test_early_tracer_hands_over_answers_once() -> None:
    gate = Gate()
    gate.open.set()
    early = EarlyTraces(gate, workers=2, halt=(BudgetExhaustedError,))
    early.add(urgent=["a", "b", "c"])
    _wait_for(lambda: early.done() == 3)
    assert sorted(r.order_id for r in early.take(but={"b", "x"})) == ["a", "c"]
    assert early.take(but={"b"}) == [] and early.done() == 3  # answered count is unchanged
    early.give_back(early.take())  # its transaction failed: not written, kept
    assert [r.order_id for r in early.finish()] == ["b"]


def test_a_second_run_on_the_same_client_counts_only_its_own_calls(cache, monkeypatch) -> None:
    """The demo and the ribbon sync twice through one client: progress of traces started
    while the orders are listed must count this run's calls, not every call since the
    client was made (it showed 1,673 calls in a run of 79)."""
    with SandboxServer(orders=300, seed=7, clock_speed=0.0, qps=5000.0) as sb:
        # small chunks: the orders listing goes on while early traces are answered
        opts = SyncOptions(lookback_days=50, daily_calls=0, order_chunk=10)
        client = SlowItemsClient(sb.connection(sb.issue_token()), default_qps=5000.0)
        client.delay = 0.2
        with client:
            first = sync_shop(client, cache, "shop", options=opts)
            assert first.calls > 200
            sb.clock.advance(timedelta(days=1))
            monkeypatch.setattr(engine, "utcnow", lambda: utcnow() + timedelta(days=1))
            ticks: list[Progress] = []
            second = sync_shop(client, cache, "shop", options=opts, progress=ticks.append)
    assert second.failed == [] and 0 < second.calls < first.calls
    early = [p for p in ticks if p.message == "while orders are listed"]
    assert early, "no trace started while the orders were listed"
    assert all(0 <= p.calls <= second.calls for p in ticks), [
        (p.stage, p.calls) for p in ticks if p.calls > second.calls
    ]


# ---- the early tracer on its own (a fake trace call, no HTTP) ---------------------------------
class Gate:
    """A trace call that records the order it was asked for and waits to be let through."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.open = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, order_id: str) -> OrderTrace:
        with self.lock:
            self.asked.append(order_id)
        self.open.wait(10)
        if order_id == "missing":
            raise NotFoundError("not this shop's order", code="LD_INPUT_PARAM_VALID", api=TRACE)
        if order_id == "spent":
            raise BudgetExhaustedError("budget spent", api=TRACE)
        return OrderTrace(order_id, ())


def test_early_tracer_puts_urgent_parcels_first_and_caps_history() -> None:
    gate = Gate()
    early = EarlyTraces(gate, workers=1, history_limit=2, halt=(BudgetExhaustedError,))
    early.add(history=["h1", "h2", "h3"])
    _wait_for(lambda: gate.asked == ["h1"])
    early.add(urgent=["u1", "u2", "h1"])  # h1 is queued once, as history
    gate.open.set()
    _wait_for(lambda: early.done() == 4)
    results = early.finish()
    # One worker: the first history call was already running; then urgent, then history
    # up to its cap.
    assert gate.asked == ["h1", "u1", "u2", "h2"]
    assert {r.order_id: r.history for r in results} == {
        "h1": True,
        "u1": False,
        "u2": False,
        "h2": True,
    }


def test_early_tracer_stop_reports_what_started_and_a_halt_stops_it() -> None:
    gate = Gate()
    early = EarlyTraces(gate, workers=2, limit=10, halt=(BudgetExhaustedError,))
    early.add(urgent=["a", "missing", "spent", "b", "c"])
    _wait_for(lambda: len(gate.asked) == 2)
    started = early.stop()
    assert started.ids == {"a", "missing"} and started.urgent == 2
    gate.open.set()
    results = early.finish()
    assert [r.order_id for r in results if isinstance(r.result, OrderTrace)] == ["a"]
    assert [r.order_id for r in results if isinstance(r.result, NotFoundError)] == ["missing"]

    open_gate = Gate()
    open_gate.open.set()
    halted = EarlyTraces(open_gate, workers=1, halt=(BudgetExhaustedError,))
    halted.add(urgent=["spent", "x", "y"])
    assert halted.finish() == [] and isinstance(halted.halt, BudgetExhaustedError)
    assert open_gate.asked == ["spent"]  # nothing more was started after the halt


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)
