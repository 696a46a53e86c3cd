"""The incremental sync: decide what to fetch from Lazada and write it to the cache.

Stages, in the order a seller needs them: seller profile → orders (by ``updated_at``
watermark, in chunks; items of new/changed orders only) → traces of the parcels that matter
now (status news at once, then parcels still moving, newest first; see
:mod:`~xl_lazada.sync.plan`) → finance (transactions since the finance watermark minus an
overlap, and payout statements) → history (back-fill of parcels already delivered/closed).

Overlap, because each Lazada API has its own rate limit: the seller profile is fetched while
the first order page is listed (and written before any order); the listing pages ahead in a
thread while items are fetched; parcels the listing already shows are traced meanwhile, news
and moving ones first, history with the trace API's spare capacity
(:mod:`~xl_lazada.sync.early`); finance is read in a thread while parcels are traced. All
cache writes stay on the calling thread, in the same transactions as before.

Calls: the client learns each API's rate (the rates learned are saved in the cache and
adopted by the next run), and a daily call budget (:mod:`~xl_lazada.sync.budget`) is kept
across runs: each stage gets what is left after reserving finance's share, and what does not
fit is counted in ``summary.deferred`` and done by the next run. A dead network
(:class:`~xl_lazada.lazada.errors.NetworkDownError`) stops the sync after writing what was
fetched.

Crash safety: every chunk's orders, items, packages, refs, history and the advanced
watermark are one transaction, so a sync killed at any point resumes from the last
committed chunk and ends with the same cache. One order that fails (items or trace) is
recorded in ``sync_failures`` and the summary; the orders watermark never passes an order
whose items failed, so the next run fetches it again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from ..cache.codec import iso_utc, parse_utc, statuses_text
from ..cache.store import Cache
from ..lazada.dates import utcnow
from ..lazada.errors import (
    AuthError,
    BudgetExhaustedError,
    ClockSkewError,
    LazadaError,
    NetworkDownError,
    SignatureError,
    one_line,
)
from ..lazada.models import Order, OrderItem, OrderTrace, Seller, Statement, Transaction
from ..lazada.ratelimit import CallBudget
from . import budget as budgets
from .early import (
    EARLY_EVERY,
    Candidates,
    EarlyResult,
    EarlyTraces,
    Started,
    early_candidates,
)
from .plan import changed_orders, item_statuses, mark_news, trace_plan
from .policy import TRACE_ONCE_STATUSES, TRACEABLE_STATUSES
from .progress import Progress, SyncSummary

log = logging.getLogger("xl_lazada.sync")

#: Errors no later call can recover from: stop the sync with a clear message.
FATAL = (AuthError, SignatureError, ClockSkewError, NetworkDownError)
#: What a per-order error handler must never swallow: FATAL, and the spent call budget.
HALT = (*FATAL, BudgetExhaustedError)

WM_ORDERS = "orders_updated_at"
WM_FINANCE = "finance_date"
WM_FINANCE_DEEP = "finance_unpaid_checked_at"
WM_FINANCE_CALLS = "finance_calls"  # calls the last finance stage made: its budget reserve
BASELINE_ORDERS = "baseline_orders"
BASELINE_TRACES = "baseline_traces"

ProgressFn = Callable[[Progress], None]


class SyncClient(Protocol):
    """The part of :class:`~xl_lazada.lazada.client.LazadaClient` the sync uses."""

    @property
    def conn(self) -> object: ...

    @property
    def stats(self) -> object: ...

    def seller(self) -> Seller: ...

    def iter_orders(self, *, update_after: datetime | None = None) -> Iterable[Order]: ...

    def orders_items(self, order_ids: Iterable[str]) -> dict[str, list[OrderItem]]: ...

    def order_items(self, order_id: str) -> list[OrderItem]: ...

    def trace(self, order_id: str) -> OrderTrace: ...

    def traces(
        self, order_ids: Iterable[str]
    ) -> Iterable[tuple[str, OrderTrace | LazadaError]]: ...

    def transactions(self, start: date, end: date) -> Iterable[Transaction]: ...

    def payouts(self, created_after: date) -> list[Statement]: ...


@dataclass(frozen=True)
class SyncOptions:
    """What to sync and how far back. The first run reads orders updated in the last
    ``lookback_days``; later runs continue from the watermark (minus ``update_overlap``)."""

    lookback_days: int = 30
    trace_stale_after: timedelta = timedelta(hours=2)
    # Every run re-reads finance from ``finance_overlap_days`` before the last one (lines
    # posted late); once per ``finance_unpaid_every`` a deep run re-reads ``finance_deep_days``
    # and back to the oldest unpaid line (paid flags flip weeks later). Each 500 lines is a
    # call, and Lazada caps calls per day, so frequent syncs must stay shallow.
    finance_overlap_days: int = 2
    finance_deep_days: int = 14
    orders: bool = True
    items: bool = True
    traces: bool = True
    finance: bool = True
    order_chunk: int = 200
    update_overlap: timedelta = timedelta(minutes=2)  # guards against late-indexed orders
    finance_unpaid_days: int = 60  # re-read unpaid lines up to this far back (paid flips)
    finance_unpaid_every: timedelta = timedelta(hours=24)  # ... at most this often
    trace_batch: int = 100  # traced orders per write transaction
    finance_batch: int = 1000  # transaction rows per write transaction
    # Calls per Lazada day for the app, counted across runs in the cache. ``None``: the
    # default for the app's kind (budget.DAILY_CALLS); ``0``: no budget.
    daily_calls: int | None = None
    history: bool = True  # back-fill the checkpoints of parcels already delivered/closed


#: The APIs each stage calls (to count a stage's calls while stages overlap).
STAGE_APIS: dict[str, tuple[str, ...]] = {
    "seller": ("/seller/get",),
    "orders": ("/orders/get", "/orders/items/get", "/order/items/get"),
    "traces": ("/logistic/order/trace",),
    "history": ("/logistic/order/trace",),
    "finance": ("/finance/transaction/details/get", "/finance/payout/status/get"),
}


@dataclass(frozen=True, slots=True)
class _StageMark:
    started: float
    calls: int
    throttled: int


@dataclass
class _Run:
    client: SyncClient
    cache: Cache
    shop: str
    options: SyncOptions
    progress: ProgressFn | None
    summary: SyncSummary = field(default_factory=SyncSummary)
    app_key: str = ""
    budget_left: int | None = None  # calls left today when the run started (None: no budget)
    recorded_calls: int = 0  # calls already added to today's count in the cache
    calls_at_start: int = 0
    stages: dict[str, _StageMark] = field(default_factory=dict)
    # each stage's counts when the run started: a stage ticking before it begins (traces
    # started while the orders are listed) counts from here, not from the client's birth
    at_start: dict[str, _StageMark] = field(default_factory=dict)
    early: EarlyTraces | None = None  # parcels traced while the orders are listed
    prefetch: EarlyTraces | None = None  # history traced while the last moving ones finish
    trace_calls0: int = 0  # trace API calls made before this run
    history_traced: int = 0  # history parcels traced (or failed) so far, in any stage
    seller: _SellerFetch | None = None  # the seller profile, fetched beside the first page

    # -- calls, throttles and the budget ---------------------------------------------------
    def calls(self) -> int:
        return _stat(self.client, "calls")

    def left(self) -> int | None:
        """Calls left today (``None``: no budget)."""
        if self.budget_left is None:
            return None
        unsent = self.seller.unsent() if self.seller is not None else 0  # (read before calls)
        return max(0, self.budget_left - unsent - (self.calls() - self.calls_at_start))

    def limit_calls(self, reserve: int = 0) -> int | None:
        """Give the client a budget of what is left minus ``reserve``; returns that number."""
        left = self.left()
        if left is None:
            return None
        allowed = max(0, left - reserve)
        _set_budget(self.client, CallBudget(allowed))
        return allowed

    def record_calls(self) -> None:
        """Add the calls made since the last record to today's count (in a transaction)."""
        now_calls = self.calls()
        delta = now_calls - self.calls_at_start - self.recorded_calls
        if delta > 0 and self.app_key:
            budgets.add_calls(self.cache, self.app_key, delta)
            self.recorded_calls += delta

    # -- stages and progress ---------------------------------------------------------------
    def _api_counts(self, stage: str) -> tuple[int, int]:
        stats = self.client.stats
        by_api = getattr(stats, "by_api", {})
        throttled = getattr(stats, "throttled_by_api", {})
        paths = STAGE_APIS.get(stage, ())
        return sum(by_api.get(p, 0) for p in paths), sum(throttled.get(p, 0) for p in paths)

    def begin(self, stage: str) -> None:
        calls, throttled = self._api_counts(stage)
        self.stages[stage] = _StageMark(time.monotonic(), calls, throttled)

    def end(self, stage: str) -> None:
        mark = self.stages.get(stage)
        if mark is not None:
            calls = self._api_counts(stage)[0] - mark.calls
            by_stage = self.summary.calls_by_stage
            by_stage[stage] = by_stage.get(stage, 0) + calls

    def tick(self, stage: str, done: int, total: int | None, message: str = "") -> None:
        if self.progress is None:
            return
        mark = (
            self.stages.get(stage) or self.at_start.get(stage) or _StageMark(time.monotonic(), 0, 0)
        )
        elapsed = time.monotonic() - mark.started
        calls, throttled = self._api_counts(stage)
        eta: float | None = None
        if total is not None and done >= total:
            eta = 0.0
        elif total is not None and done > 0 and elapsed >= 1.0:
            eta = (total - done) * elapsed / done
        self.progress(
            Progress(
                stage,
                done,
                total,
                message,
                calls=calls - mark.calls,
                throttled=throttled - mark.throttled,
                eta_s=eta,
                elapsed_s=elapsed,
            )
        )

    def fail(self, stage: str, ref: str, exc: BaseException | str) -> None:
        """Record one failure (in the caller's transaction) and in the summary."""
        text = one_line(exc)
        self.cache.record_failure(self.shop, stage, ref, text, observed_at=utcnow())
        self.summary.failed.append((ref, f"{stage}: {text}"))
        if ref == stage:
            self.summary.stage_failed(stage)

    def defer(self, stage: str, count: int) -> None:
        """``count`` pieces of ``stage`` left for the next run (the call budget ran out)."""
        if count > 0:
            self.summary.deferred[stage] = self.summary.deferred.get(stage, 0) + count


def _stat(client: SyncClient, name: str) -> int:
    return int(getattr(client.stats, name, 0))


def _set_budget(client: SyncClient, budget: CallBudget | None) -> None:
    if hasattr(client, "call_budget"):
        client.call_budget = budget


def sync_shop(
    client: SyncClient,
    cache: Cache,
    shop: str,
    *,
    options: SyncOptions = SyncOptions(),  # noqa: B008 - frozen dataclass, safe default
    progress: ProgressFn | None = None,
) -> SyncSummary:
    """Bring the cache's copy of ``shop`` up to date; returns what changed and what failed.

    Authorisation, signature and clock errors, and a dead network, stop the sync (raised,
    after writing what was fetched); any other Lazada error is confined to the order or
    stage it hit and reported in ``summary.failed`` (a whole stage also in
    ``summary.failed_stages``). Work the daily call budget did not cover is in
    ``summary.deferred`` and continues on the next run.
    """
    started = time.monotonic()
    run = _Run(client, cache, shop, options, progress)
    run.calls_at_start = run.calls()
    run.at_start = {st: _StageMark(started, *run._api_counts(st)) for st in STAGE_APIS}
    run.trace_calls0 = run._api_counts("traces")[0]
    throttled_before = _stat(client, "throttled")
    run.app_key = str(getattr(client.conn, "app_key", "") or "")
    _adopt_rates(run)
    network = getattr(client, "network", None)
    if network is not None and hasattr(network, "reset"):
        network.reset()
    limit = options.daily_calls
    if limit is None:
        token = getattr(client, "token", None)
        limit = budgets.DAILY_CALLS[budgets.app_kind(getattr(token, "lifetime", None))]
    if limit > 0 and run.app_key:
        run.summary.daily_budget = limit
        run.budget_left = max(0, limit - budgets.calls_today(cache, run.app_key))
    with cache.transaction():
        run_id = cache.start_run(shop, utcnow())
    try:
        run.seller = _SellerFetch.start(run)
        try:
            if options.orders:
                if options.traces and options.items:
                    run.early = _start_early(run)
                try:
                    _stage(run, "orders", _sync_orders, keep_budget=run.early is not None)
                except Exception:
                    _keep_early(run)
                    raise
        finally:
            _finish_seller(run)
        # Finance is read in the background while the parcels a seller acts on are traced
        # (a different API, with its own limit); delivered parcels' history comes last.
        finance = _FinanceRun.start(run) if options.finance else None
        try:
            if options.traces:
                _stage(run, "traces", lambda r: _sync_traces(r, finance), keep_budget=True)
        finally:
            if finance is not None:
                finance.finish()
        if options.traces and options.history:
            if run.summary.deferred.get("traces"):
                # The budget cut moving parcels: calls finance left unused are theirs (the
                # next run traces them first), not delivered parcels' history.
                _skip_history(run)
            else:
                _stage(run, "history", _sync_history)
    finally:
        if run.seller is not None:
            run.seller.close()
        for early in (run.early, run.prefetch):
            if early is not None:
                early.close()
        _set_budget(client, None)
        _split_trace_calls(run)
        run.summary.calls = run.calls() - run.calls_at_start
        run.summary.throttled = _stat(client, "throttled") - throttled_before
        run.summary.elapsed_s = time.monotonic() - started
        run.summary.budget_left = run.left()
        with cache.transaction():
            run.record_calls()
            _save_rates(run)
    with cache.transaction():
        cache.finish_run(run_id, utcnow(), run.summary.to_dict())
    return run.summary


def _stage(
    run: _Run, stage: str, step: Callable[[_Run], None], *, keep_budget: bool = False
) -> None:
    run.begin(stage)
    try:
        step(run)
    finally:
        run.end(stage)
        if not keep_budget:  # (finance may still be reading under the shared budget)
            _set_budget(run.client, None)


def _split_trace_calls(run: _Run) -> None:
    """Trace calls by stage: history parcels are traced in several stages (while the orders
    are listed, beside the last moving parcels, in their own), so count them by parcel."""
    by_stage = run.summary.calls_by_stage
    if "traces" not in by_stage and "history" not in by_stage:
        return
    calls = run._api_counts("traces")[0] - run.trace_calls0
    history = min(run.history_traced, calls)
    by_stage["traces"] = calls - history
    if "history" in by_stage or history:
        by_stage["history"] = history


def _adopt_rates(run: _Run) -> None:
    adopt = getattr(getattr(run.client, "limiter", None), "adopt", None)
    if callable(adopt) and run.app_key:
        adopt(budgets.load_rates(run.cache, run.app_key))


def _save_rates(run: _Run) -> None:
    learned = getattr(run.client, "learned_rates", None)
    if callable(learned) and run.app_key:
        budgets.save_rates(run.cache, run.app_key, learned())


def _venture(client: SyncClient) -> str:
    return str(getattr(client.conn, "venture", "MY"))


def _out_of_calls(run: _Run, stage: str, pieces: int = 1) -> bool:
    """True (and ``pieces`` deferred) when no call is left today for ``stage``."""
    left = run.left()
    if left is not None and left <= 0:
        run.defer(stage, pieces)
        run.tick(stage, 0, None, "daily call budget spent: continues next run")
        return True
    return False


# ---- seller ------------------------------------------------------------------------------
class _SellerFetch:
    """The seller stage. Its answer must be in the cache before the first orders are written
    (their deadlines depend on the shop being cross-border), not before they are listed: with
    calls to spare it is fetched in a thread while the first order page is listed, and
    :meth:`finish` (on the sync's thread) waits for it and writes it."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self._outcome: Seller | BaseException | None = None
        self._thread: threading.Thread | None = None
        self._sent0 = self._sent()
        self._finished = False

    @classmethod
    def start(cls, run: _Run) -> _SellerFetch | None:
        run.begin("seller")
        if _out_of_calls(run, "seller"):
            run.end("seller")
            return None
        run.limit_calls()
        run.tick("seller", 0, 1)
        self = cls(run)
        left = run.left()
        if left is None or left >= EARLY_MIN_LEFT:
            self._thread = threading.Thread(target=self._fetch, name="xl-lazada-seller")
            self._thread.start()
        else:  # a tight budget is counted call by call: one stage at a time
            self._fetch()
        return self

    def _sent(self) -> int:
        by_api = getattr(self.run.client.stats, "by_api", {})
        return int(by_api.get("/seller/get", 0))

    def _fetch(self) -> None:
        try:
            self._outcome = self.run.client.seller()
        except BaseException as exc:  # handed to the sync's thread by finish()
            self._outcome = exc

    def unsent(self) -> int:
        """1 while the call is running but not yet in the client's count (budget it)."""
        thread = self._thread
        return int(thread is not None and thread.is_alive() and self._sent() == self._sent0)

    def finish(self) -> None:
        """Wait for the answer and write it (once); raises a fatal error."""
        if self._finished:
            return
        self._finished = True
        self.close()
        run, outcome = self.run, self._outcome
        try:
            if isinstance(outcome, FATAL):
                raise outcome
            if isinstance(outcome, BudgetExhaustedError):
                run.defer("seller", 1)
                return
            if isinstance(outcome, BaseException) and not isinstance(outcome, LazadaError):
                raise outcome
            seller = outcome if isinstance(outcome, Seller) else None
            with run.cache.transaction():
                run.record_calls()
                run.cache.upsert_shop(run.shop, _venture(run.client), seller, observed_at=utcnow())
                if isinstance(outcome, LazadaError):
                    run.fail("seller", "seller", outcome)
                else:
                    run.cache.clear_failures(run.shop, "seller", ["seller"])
            run.tick("seller", 1, 1, seller.name if seller else "")
        finally:
            run.end("seller")

    def close(self) -> None:
        if self._thread is not None:
            self._thread.join()


def _finish_seller(run: _Run) -> None:
    """Write the seller stage's answer before anything else is written (idempotent)."""
    if run.seller is not None:
        run.seller.finish()


# ---- orders ------------------------------------------------------------------------------
def _sync_orders(run: _Run) -> None:
    cache, shop, opts = run.cache, run.shop, run.options
    record_new = cache.watermark(shop, BASELINE_ORDERS) is not None
    new_traces = _traces_logged(run)
    mark = parse_utc(cache.watermark(shop, WM_ORDERS))
    if mark is not None:
        start = mark - opts.update_overlap
    else:
        start = utcnow() - timedelta(days=opts.lookback_days)
    if _out_of_calls(run, "orders"):
        return
    run.limit_calls()
    state = _OrderState(start=start)
    listed = 0
    chunk: list[Order] = []
    # The listing pages ahead (in a thread, from now on) while each chunk's items are fetched.
    listing = _ReadAhead(run.client.iter_orders(update_after=start), 2 * opts.order_chunk)
    try:
        _finish_seller(run)  # fetched beside the first page; written before any order
        run.tick("orders", 0, None, "listing")
        for order in listing:
            chunk.append(order)
            state.ahead.discard(order.order_id)  # (the set holds only what waits ahead)
            if run.early is not None:
                if len(chunk) % EARLY_EVERY == 0:  # a page in: start tracing what it shows
                    fresh = chunk[-EARLY_EVERY:]
                    known = cache.order_states(shop, [o.order_id for o in fresh])
                    _add_early(run, early_candidates(fresh, known))
                _tick_early(run)
            if len(chunk) >= max(1, opts.order_chunk):
                listed += len(chunk)
                _trace_ahead(run, listing, state.ahead)
                _order_chunk(run, chunk, state, record_new, new_traces)
                chunk = []
                run.tick("orders", listed, None, state.message())
        if chunk:
            listed += len(chunk)
            _order_chunk(run, chunk, state, record_new, new_traces)
    except FATAL:
        raise
    except BudgetExhaustedError:
        # The watermark stands at the last chunk written: the next run lists on from there.
        run.defer("orders", 1)
        run.tick("orders", listed, None, "daily call budget spent: continues next run")
        return
    except LazadaError as exc:
        with cache.transaction():
            run.fail("orders", "orders", exc)
        run.tick("orders", listed, None, f"stopped: {one_line(exc)}")
        return
    finally:
        listing.close()
    with cache.transaction():
        if not record_new:
            cache.set_watermark(
                shop, BASELINE_ORDERS, iso_utc(utcnow()) or "", observed_at=utcnow()
            )
        cache.clear_failures(shop, "orders", ["orders"])
    run.tick("orders", listed, listed, state.message())


T = TypeVar("T")


class _ReadAhead(Iterator[T]):
    """Iterate ``source`` in a background thread, started at once, up to ``size`` values
    ahead of the caller. Its exception is raised by ``next``, in order; :meth:`close` stops
    the reader (also when nothing was read yet)."""

    _DONE = object()

    def __init__(self, source: Iterable[T], size: int) -> None:
        self._source = source
        self._box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=max(1, size))
        self._stop = threading.Event()
        self._ended = False
        self._thread = threading.Thread(target=self._read, name="xl-lazada-read-ahead", daemon=True)
        self._thread.start()

    def _put(self, item: tuple[bool, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._box.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> None:
        try:
            for value in self._source:
                if not self._put((True, value)):
                    return
            self._put((True, self._DONE))
        except BaseException as exc:  # raised in the caller's thread
            self._put((False, exc))

    def __next__(self) -> T:
        if self._ended:
            raise StopIteration
        ok, value = self._box.get()
        if not ok:
            self._ended = True
            raise value
        if value is self._DONE:
            self._ended = True
            raise StopIteration
        return value

    def ahead(self) -> list[T]:
        """The values read and not taken yet (a snapshot)."""
        with self._box.mutex:
            return [v for ok, v in self._box.queue if ok and v is not self._DONE]

    def close(self) -> None:
        self._ended = True
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass
class _OrderState:
    start: datetime
    blocked: datetime | None = None  # earliest updated_at of an order whose items failed
    # orders read ahead (not chunked yet) that early tracing has looked at: their traces
    # wait until their own chunk is written (it may mark their parcels as news again)
    ahead: set[str] = field(default_factory=set)
    new: int = 0
    changed: int = 0

    def message(self) -> str:
        return f"{self.new:,} new, {self.changed:,} changed"


def _order_chunk(
    run: _Run, chunk: Sequence[Order], state: _OrderState, record_new: bool, new_traces: bool
) -> None:
    """Fetch items of the chunk's new/changed orders, then write it all in one transaction,
    with the early traces already answered for orders written so far (``new_traces``: their
    checkpoints go to the change log)."""
    cache, shop = run.cache, run.shop
    known = cache.order_states(shop, [o.order_id for o in chunk])
    todo: dict[str, Order] = {}
    for o in chunk:
        before = known.get(o.order_id)
        if before is None or before != (iso_utc(o.updated_at), statuses_text(o.statuses)):
            todo[o.order_id] = o  # last listing wins if an order shows up twice
    if run.early is not None:
        _add_early(run, early_candidates(todo.values(), known))
    items: dict[str, list[OrderItem]] = {}
    errors: dict[str, LazadaError | str] = {}
    if run.options.items:
        # Also orders cached without items (stored by an items-disabled run): fetch them now.
        for oid in cache.orders_without_items(shop, [o.order_id for o in chunk]):
            todo.setdefault(oid, next(o for o in chunk if o.order_id == oid))
        if todo:
            items, errors = _fetch_items(run.client, list(todo))
    before_items = item_statuses(cache, shop, list(items))
    news = changed_orders(before_items, items)
    ok = [o for oid, o in todo.items() if oid not in errors]
    for oid in errors:
        when = todo[oid].updated_at
        state.blocked = when if state.blocked is None else min(state.blocked, when)
    newest = max(o.updated_at for o in chunk)
    mark = newest if state.blocked is None else min(newest, state.blocked)
    mark = max(mark, state.start)
    observed = utcnow()
    taken: list[EarlyResult] = []
    try:
        with cache.transaction():
            w = cache.write_orders(shop, ok, items, observed_at=observed, record_new=record_new)
            mark_news(cache, shop, news)  # traced in this run, whatever their staleness window
            run.record_calls()
            for oid, err in errors.items():
                run.fail("items", oid, err)
            cache.clear_failures(shop, "items", [o.order_id for o in ok])
            cache.set_watermark(shop, WM_ORDERS, iso_utc(mark) or "", observed_at=observed)
            taken = _take_early(run, state.ahead)
            traced = _write_traces(run, taken, new_traces)
    except BaseException:
        if taken and run.early is not None:
            run.early.give_back(taken)  # not written: left for the trace stage or _keep_early
        raise
    traced.count(run)
    s = run.summary
    s.new_orders += w.new_orders
    s.changed_orders += w.changed_orders
    s.new_items += w.new_items
    s.status_changes += w.status_changes
    state.new += w.new_orders
    state.changed += w.changed_orders


def _fetch_items(
    client: SyncClient, order_ids: list[str]
) -> tuple[dict[str, list[OrderItem]], dict[str, LazadaError | str]]:
    """Items of ``order_ids`` (batched, concurrent); a failing batch is retried per order so
    one bad order cannot sink the other 49."""
    errors: dict[str, LazadaError | str] = {}
    try:
        items = client.orders_items(order_ids)
    except HALT:
        raise
    except LazadaError:
        items = {}
        for i in range(0, len(order_ids), 50):
            batch = order_ids[i : i + 50]
            try:
                items.update(client.orders_items(batch))
            except HALT:
                raise
            except LazadaError:
                for oid in batch:
                    try:
                        items[oid] = client.order_items(oid)
                    except HALT:
                        raise
                    except LazadaError as exc:
                        errors[oid] = exc
    for oid in order_ids:
        if oid in errors or items.get(oid):
            continue
        try:  # left out of the batch answer: ask for this order alone once
            items[oid] = client.order_items(oid)
        except HALT:
            raise
        except LazadaError as exc:
            errors[oid] = exc
            continue
        if not items[oid]:
            errors[oid] = "Lazada returned no items for this order"
    return {k: v for k, v in items.items() if k not in errors}, errors


# ---- traces ------------------------------------------------------------------------------
def _plan(run: _Run) -> Any:
    return trace_plan(
        run.cache,
        run.shop,
        stale_before=utcnow() - run.options.trace_stale_after,
        traceable=TRACEABLE_STATUSES,
        trace_once=TRACE_ONCE_STATUSES,
    )


def _finance_reserve(run: _Run) -> int:
    """Calls to keep for finance while tracing: what it took last time (at least 3)."""
    if not run.options.finance:
        return 0
    try:
        return max(3, int(run.cache.watermark(run.shop, WM_FINANCE_CALLS) or 0))
    except ValueError:
        return 3


def _sync_traces(run: _Run, finance: _FinanceRun | None = None) -> None:
    """News and moving parcels: what a seller acts on, before history (finance may be read
    meanwhile; its batches are written between trace batches)."""
    cache, shop = run.cache, run.shop
    record_new = _traces_logged(run)
    # The early traces still running finish beside this stage (no gap on the trace API);
    # what they started is not planned again, and their results are written at the end.
    started = run.early.stop() if run.early is not None else Started()
    due = [oid for oid in _plan(run).first if oid not in started.ids]
    reserve = finance.reserve if finance is not None else 0
    early, run.early = run.early, None
    try:
        complete = _trace_orders(
            run,
            "traces",
            due,
            record_new,
            reserve=reserve,
            between=finance,
            shared_budget=finance is not None,  # finance set the budget both share
            already=started.urgent,
            on_fed=lambda: _prefetch_history(run, finance, started.ids),
        )
    finally:
        _write_early(run, early, record_new)
    if complete and not record_new:
        with cache.transaction():
            cache.set_watermark(
                shop, BASELINE_TRACES, iso_utc(utcnow()) or "", observed_at=utcnow()
            )


def _sync_history(run: _Run) -> None:
    """Back-fill parcels already delivered or closed: their checkpoints are history, not
    news, so they never go to the change log. Those traced while the orders were listed or
    beside the last moving parcels count as done; the ones still running finish meanwhile."""
    prefetch, run.prefetch = run.prefetch, None
    started = prefetch.stop() if prefetch is not None else Started()
    due = [oid for oid in _plan(run).backfill if oid not in started.ids]
    already = run.history_traced + len(started.ids)
    try:
        _trace_orders(run, "history", due, record_new=False, reserve=0, already=already)
    finally:
        _write_early(run, prefetch, record_new=False)


def _skip_history(run: _Run) -> None:
    """History waits for the next run: say how many parcels (and let those already traced
    beside the orders be written)."""
    prefetch, run.prefetch = run.prefetch, None
    started = prefetch.stop() if prefetch is not None else Started()
    try:
        run.defer("history", sum(1 for o in _plan(run).backfill if o not in started.ids))
    finally:
        _write_early(run, prefetch, record_new=False)


def _prefetch_history(run: _Run, finance: _FinanceRun | None, exclude: frozenset[str]) -> None:
    """Every moving parcel is on its way to the trace API and finance has been read: start
    the history back-fill now, so the trace API has no gap between the two stages."""
    if not (run.options.history and (finance is None or finance.read())):
        return
    left = run.left()
    if left is not None and left < EARLY_MIN_LEFT:
        return
    backfill = [oid for oid in _plan(run).backfill if oid not in exclude]
    if not backfill:
        return
    run.prefetch = EarlyTraces(
        run.client.trace,
        workers=max(1, int(getattr(run.client, "max_workers", 4))),
        limit=None if left is None else left // 4,
        halt=HALT,
    )
    run.prefetch.add(history=backfill)


def _trace_orders(
    run: _Run,
    stage: str,
    due: Sequence[str],
    record_new: bool,
    *,
    reserve: int,
    between: _FinanceRun | None = None,
    shared_budget: bool = False,
    already: int = 0,
    on_fed: Callable[[], None] | None = None,
) -> bool:
    """Trace ``due`` (in order) within the call budget; True when every one was traced.

    ``reserve`` calls are left for others; with ``shared_budget`` the client's budget is
    already set (shared with finance) and only the list is cut to fit. ``between`` is
    drained (written) after each batch of traces. ``on_fed`` is called once every one of
    ``due`` has been handed to the trace calls, unless the budget cut the list or stopped
    them: then the calls left are for the parcels cut off (in the next run), not for more.
    """
    cache, shop, opts = run.cache, run.shop, run.options
    total = len(due)
    if shared_budget:
        left = run.left()
        allowed = None if left is None else max(0, left - reserve)
    else:
        allowed = run.limit_calls(reserve)
    if allowed is not None and allowed < total:
        run.defer(stage, total - allowed)
        due = due[:allowed]
        on_fed = None
    total += already  # traced while the orders were listed (see _EarlyTraces)
    run.tick(stage, already, total)
    done = already
    buffer: list[tuple[str, OrderTrace | LazadaError]] = []
    halt: LazadaError | None = None

    def flush() -> None:
        nonlocal done
        if between is not None:
            between.drain()
        if not buffer:
            return
        observed = utcnow()
        ok: list[str] = []
        with cache.transaction():
            for oid, result in buffer:
                if isinstance(result, OrderTrace):
                    run.summary.new_checkpoints += cache.write_trace(
                        shop,
                        result,
                        observed_at=observed,
                        record_new=record_new,
                    )
                    ok.append(oid)
                else:
                    run.fail("trace", oid, result)
            cache.clear_failures(shop, "trace", ok)
            run.record_calls()
        done += len(buffer)
        run.summary.traced_orders += len(ok)
        if stage == "history":
            run.history_traced += len(buffer)
        buffer.clear()
        run.tick(stage, done, total, f"{run.summary.new_checkpoints:,} new checkpoints")

    def feed() -> Iterator[str]:
        for oid in due:
            if halt is not None:
                return
            yield oid
        if on_fed is not None and halt is None:
            on_fed()

    try:
        # On a halt (dead network, spent budget) stop feeding, but keep what is in flight.
        for oid, result in run.client.traces(feed()):
            if isinstance(result, HALT):
                halt = halt or result
                continue
            buffer.append((oid, result))
            if len(buffer) >= max(1, opts.trace_batch) or (between and between.ready()):
                flush()
            else:
                run.tick(stage, done + len(buffer), total, "")
    except FATAL:
        flush()
        raise
    except LazadaError as exc:
        flush()
        with cache.transaction():
            run.fail(stage, stage, exc)
        return False
    flush()
    if isinstance(halt, FATAL):
        raise halt
    if halt is not None:  # the budget: what was not sent waits for the next run
        run.defer(stage, len(due) + already - done)
        run.tick(stage, done, total, "daily call budget spent: continues next run")
        return False
    return done == total


# ---- traces started while the orders are listed -------------------------------------------
EARLY_MIN_LEFT = 2000  # calls left today below which stages run one at a time


def _start_early(run: _Run) -> EarlyTraces | None:
    """Trace from the first order page on (see :mod:`~xl_lazada.sync.early`). With a daily
    budget, early traces take at most a quarter of what is left (history a tenth), and none
    when less than :data:`EARLY_MIN_LEFT` calls are left (orders and items come first)."""
    left = run.left()
    if left is not None and left < EARLY_MIN_LEFT:
        return None
    history_limit = None if left is None else left // 10
    if not run.options.history:
        history_limit = 0
    return EarlyTraces(
        run.client.trace,
        workers=max(1, int(getattr(run.client, "max_workers", 4))),
        limit=None if left is None else left // 4,
        history_limit=history_limit,
        halt=HALT,
    )


def _trace_ahead(run: _Run, listing: _ReadAhead[Order], ahead: set[str]) -> None:
    """Before a chunk's items are fetched and written: start tracing what the pages read
    ahead show, so the next chunks' traces are mostly answered by the time their orders are
    written (and go into the same transaction: one facts pass per new order)."""
    if run.early is None:
        return
    fresh = [o for o in listing.ahead() if o.order_id not in ahead]
    if fresh:
        ahead.update(o.order_id for o in fresh)
        known = run.cache.order_states(run.shop, [o.order_id for o in fresh])
        _add_early(run, early_candidates(fresh, known))


def _add_early(run: _Run, found: Candidates) -> None:
    if run.early is not None:
        run.early.add(found.urgent, found.history)


def _tick_early(run: _Run) -> None:
    if run.early is not None and run.progress is not None:
        done = run.early.done()
        if done:
            run.tick("traces", done, None, "while orders are listed")


def _traces_logged(run: _Run) -> bool:
    """Do new checkpoints go to the change log? Not until the shop's first full trace pass
    (before it, every checkpoint is history)."""
    return run.cache.watermark(run.shop, BASELINE_TRACES) is not None


def _keep_early(run: _Run) -> None:
    """The orders stage stopped the sync (a dead network, a revoked token): the parcels
    traced while the orders were listed are written for the orders already stored, as the
    sync promises, not thrown away. The stage's own error is the one raised, so a failure
    here is only logged."""
    early, run.early = run.early, None
    if early is None:
        return
    record_new = _traces_logged(run)
    try:
        _write_early(run, early, record_new, raise_halt=False)
    except Exception as exc:  # noqa: BLE001 - the orders stage's error is what a seller sees
        log.warning("traces fetched before the sync stopped were not saved: %s", one_line(exc))


def _write_early(
    run: _Run, early: EarlyTraces | None, record_new: bool, *, raise_halt: bool = True
) -> None:
    """Write what traces started ahead of their stage brought (history never goes to the
    change log) for the orders stored (an order the orders stage did not reach is traced
    again next run); raises a fatal error that stopped them, after writing, unless not
    ``raise_halt``."""
    if early is None:
        return
    results = early.finish()
    if results:
        with run.cache.transaction():
            traced = _write_traces(run, results, record_new)
        traced.count(run)
    if raise_halt and isinstance(early.halt, FATAL):
        raise early.halt


def _take_early(run: _Run, ahead: Collection[str]) -> list[EarlyResult]:
    """Inside an order chunk's transaction: the early traces already answered for orders
    this run has written (all but those still waiting ``ahead``: their chunk may yet mark
    their parcels as news), to be written with the chunk — a new order then gets one facts
    pass with its parcels, instead of one now and another when the trace stage writes it."""
    early = run.early
    if early is None:
        return []
    return early.take(but=ahead)


@dataclass
class _Traced:
    """What writing early traces added to the run, counted once its transaction commits."""

    orders: int = 0
    checkpoints: int = 0
    history_calls: int = 0

    def count(self, run: _Run) -> None:
        run.summary.traced_orders += self.orders
        run.summary.new_checkpoints += self.checkpoints
        run.history_traced += self.history_calls


def _write_traces(run: _Run, results: list[EarlyResult], record_new: bool) -> _Traced:
    """Early trace answers, inside the caller's transaction, for the orders stored (an
    order the orders stage did not reach is traced again next run)."""
    traced = _Traced(history_calls=sum(1 for r in results if r.history))
    if results:
        stored = run.cache.order_states(run.shop, [r.order_id for r in results])
        results = [r for r in results if r.order_id in stored]
    if not results:
        return traced
    observed = utcnow()
    ok: list[str] = []
    for r in results:
        if isinstance(r.result, OrderTrace):
            traced.checkpoints += run.cache.write_trace(
                run.shop,
                r.result,
                observed_at=observed,
                record_new=record_new and not r.history,
            )
            ok.append(r.order_id)
        else:
            run.fail("trace", r.order_id, r.result)
    run.cache.clear_failures(run.shop, "trace", ok)
    run.record_calls()
    traced.orders = len(ok)
    return traced


# ---- finance -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _FinanceWindow:
    start: date
    today: date
    deep: bool
    lazada_now: datetime
    mark: str | None


def _finance_window(run: _Run) -> _FinanceWindow:
    """Which days to read: from the watermark minus an overlap (deeper once a day)."""
    cache, shop, opts = run.cache, run.shop, run.options
    tz = getattr(run.client.conn, "tz", None)
    today = utcnow().astimezone(tz).date() if tz is not None else utcnow().date()
    # Lazada's clock is at least as far on as the newest order update it showed us: if this
    # computer's clock lags, still read up to Lazada's today.
    newest = parse_utc(cache.newest_order_update(shop))
    if newest is not None:
        today = max(today, newest.astimezone(tz).date() if tz is not None else newest.date())
    # "Now" as Lazada sees it (see ``today`` above), so a deep run is due by Lazada's clock.
    lazada_now = max(utcnow(), newest) if newest is not None else utcnow()
    deep_at = parse_utc(cache.watermark(shop, WM_FINANCE_DEEP))
    deep = deep_at is None or lazada_now - deep_at >= opts.finance_unpaid_every
    mark = cache.watermark(shop, WM_FINANCE)
    if mark:
        overlap = opts.finance_deep_days if deep else opts.finance_overlap_days
        start = date.fromisoformat(mark) - timedelta(days=overlap)
    else:
        start = today - timedelta(days=opts.lookback_days)
    # Paid flags can flip later than the overlap reaches: on a deep run (not every run, each
    # re-read costs a call per 500 lines) read back to the oldest line still unpaid.
    unpaid = cache.oldest_unpaid_date(shop) if deep else None
    if unpaid is not None and unpaid < start:
        start = max(unpaid, today - timedelta(days=opts.finance_unpaid_days))
    return _FinanceWindow(min(start, today), today, deep, lazada_now, mark)


class _FinanceRun:
    """The finance stage: Lazada is read in a background thread (its calls go to other APIs
    than the traces running meanwhile); the main thread writes what arrived, in batches."""

    def __init__(self, run: _Run, window: _FinanceWindow) -> None:
        self.run = run
        self.window = window
        self.reserve = _finance_reserve(run)
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=16)
        self._stop = threading.Event()
        self._ended = False
        self._error: BaseException | None = None
        self._statements: list[Statement] | None = None
        self._calls0 = run.calls()
        self.seen = 0
        # The watermark is the newest line *Lazada* dated, not this computer's today: a
        # clock running ahead must not push the next run's window past lines to be posted.
        self.newest_line = date.fromisoformat(window.mark) if window.mark else None
        self._thread: threading.Thread | None = None

    @classmethod
    def start(cls, run: _Run) -> _FinanceRun | None:
        run.begin("finance")
        if _out_of_calls(run, "finance"):
            run.end("finance")
            return None
        run.limit_calls()  # one budget for finance and the traces running beside it
        self = cls(run, _finance_window(run))
        run.tick("finance", 0, None, f"transactions since {self.window.start.isoformat()}")
        self._thread = threading.Thread(target=self._read, name="xl-lazada-finance", daemon=True)
        self._thread.start()
        return self

    def _put(self, kind: str, value: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put((kind, value), timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> None:
        client, w, size = self.run.client, self.window, max(1, self.run.options.finance_batch)
        try:
            batch: list[Transaction] = []
            for tx in client.transactions(w.start, w.today):
                batch.append(tx)
                if len(batch) >= size:
                    if not self._put("tx", batch):
                        return
                    batch = []
            if batch and not self._put("tx", batch):
                return
            self._put("statements", client.payouts(w.start - timedelta(days=7)))
        except BaseException as exc:  # handed to the main thread, which decides
            self._put("error", exc)
        finally:
            self._put("end", None)

    def read(self) -> bool:
        """Lazada has been read (whatever is left is writing)."""
        return self._thread is not None and not self._thread.is_alive()

    def ready(self) -> bool:
        return not self._queue.empty()

    def drain(self, block: bool = False) -> None:
        """Write what the reader has handed over (all of it, waiting, when ``block``)."""
        while not self._ended:
            try:
                kind, value = self._queue.get(block=block, timeout=0.5 if block else None)
            except queue.Empty:
                if block and self._thread is not None and not self._thread.is_alive():
                    self._ended = True  # the reader died without a word (cannot happen)
                if not block:
                    return
                continue
            if kind == "tx":
                self._write(value)
            elif kind == "statements":
                self._statements = value
            elif kind == "error":
                self._error = value
            else:
                self._ended = True

    def _write(self, batch: list[Transaction]) -> None:
        run = self.run
        dates = [tx.transaction_date for tx in batch if tx.transaction_date is not None]
        if dates:
            newest = self.newest_line
            self.newest_line = max([*dates, newest] if newest else dates)
        with run.cache.transaction():
            w = run.cache.write_transactions(run.shop, batch, observed_at=utcnow())
            run.record_calls()
        run.summary.new_transactions += w.new
        run.summary.paid_changes += w.paid_changes
        self.seen += len(batch)
        run.tick("finance", self.seen, None, f"{run.summary.new_transactions:,} new transactions")

    def finish(self) -> None:
        """Wait for the reader, write the rest, move the watermarks (or record the failure)."""
        run, cache, shop, w = self.run, self.run.cache, self.run.shop, self.window
        try:
            self.drain(block=True)
        finally:
            self._stop.set()
            run.end("finance")
        exc = self._error
        if isinstance(exc, FATAL):
            raise exc
        if isinstance(exc, BudgetExhaustedError):  # no watermark moves: read again next run
            run.defer("finance", 1)
            run.tick("finance", self.seen, None, "daily call budget spent: continues next run")
            return
        if isinstance(exc, LazadaError):
            with cache.transaction():
                run.fail("finance", "finance", exc)
            return
        if exc is not None:
            raise exc
        with cache.transaction():
            ws = cache.write_statements(
                shop, self._statements or [], observed_at=utcnow(), tz=_tz(run)
            )
            if self.newest_line is not None:
                cache.set_watermark(
                    shop, WM_FINANCE, self.newest_line.isoformat(), observed_at=utcnow()
                )
            if w.deep:
                cache.set_watermark(
                    shop, WM_FINANCE_DEEP, iso_utc(w.lazada_now) or "", observed_at=utcnow()
                )
            cache.clear_failures(shop, "finance", ["finance"])
            calls = run.summary.calls_by_stage.get("finance", 0)
            cache.set_watermark(shop, WM_FINANCE_CALLS, str(calls), observed_at=utcnow())
            run.record_calls()
        run.summary.new_statements += ws.new
        run.summary.paid_changes += ws.paid_changes
        run.tick(
            "finance", self.seen, self.seen, f"{run.summary.new_transactions:,} new transactions"
        )


def _tz(run: _Run) -> Any:
    return getattr(run.client.conn, "tz", None)
