"""The incremental sync: decide what to fetch from Lazada and write it to the cache.

Stages, in order: seller profile → orders (by ``updated_at`` watermark, in chunks; items of
new/changed orders only) → traces (only parcels still moving and not traced recently) →
finance (transactions since the finance watermark minus an overlap, and payout statements).

Crash safety: every chunk's orders, items, packages, refs, history and the advanced
watermark are one transaction, so a sync killed at any point resumes from the last
committed chunk and ends with the same cache. One order that fails (items or trace) is
recorded in ``sync_failures`` and the summary; the orders watermark never passes an order
whose items failed, so the next run fetches it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from ..cache.codec import iso_utc, parse_utc, statuses_text
from ..cache.store import Cache
from ..lazada.dates import utcnow
from ..lazada.errors import AuthError, ClockSkewError, LazadaError, SignatureError
from ..lazada.models import Order, OrderItem, OrderTrace, Seller, Statement, Transaction
from .policy import FINAL_STATUSES, TRACE_ONCE_STATUSES, TRACEABLE_STATUSES
from .progress import Progress, SyncSummary

#: Errors no later call can recover from: stop the sync with a clear message.
FATAL = (AuthError, SignatureError, ClockSkewError)

WM_ORDERS = "orders_updated_at"
WM_FINANCE = "finance_date"
WM_FINANCE_DEEP = "finance_unpaid_checked_at"
BASELINE_ORDERS = "baseline_orders"
BASELINE_TRACES = "baseline_traces"

ProgressFn = Callable[[Progress], None]


class SyncClient(Protocol):
    """The part of :class:`~xl_lazada.lazada.client.LazadaClient` the sync uses."""

    conn: object

    @property
    def stats(self) -> object: ...

    def seller(self) -> Seller: ...

    def iter_orders(self, *, update_after: datetime | None = None) -> Iterable[Order]: ...

    def orders_items(self, order_ids: Iterable[str]) -> dict[str, list[OrderItem]]: ...

    def order_items(self, order_id: str) -> list[OrderItem]: ...

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


@dataclass
class _Run:
    client: SyncClient
    cache: Cache
    shop: str
    options: SyncOptions
    progress: ProgressFn | None
    summary: SyncSummary = field(default_factory=SyncSummary)

    def tick(self, stage: str, done: int, total: int | None, message: str = "") -> None:
        if self.progress is not None:
            self.progress(Progress(stage, done, total, message))

    def fail(self, stage: str, ref: str, exc: BaseException | str) -> None:
        """Record one failure (in the caller's transaction) and in the summary."""
        text = _one_line(exc)
        self.cache.record_failure(self.shop, stage, ref, text, observed_at=utcnow())
        self.summary.failed.append((ref, f"{stage}: {text}"))


def _one_line(exc: BaseException | str) -> str:
    text = exc if isinstance(exc, str) else (str(exc) or type(exc).__name__)
    return " ".join(text.split())[:300]


def sync_shop(
    client: SyncClient,
    cache: Cache,
    shop: str,
    *,
    options: SyncOptions = SyncOptions(),  # noqa: B008 - frozen dataclass, safe default
    progress: ProgressFn | None = None,
) -> SyncSummary:
    """Bring the cache's copy of ``shop`` up to date; returns what changed and what failed.

    Authorisation, signature and clock errors stop the sync (raised); any other Lazada error
    is confined to the order or stage it hit and reported in ``summary.failed``.
    """
    started = time.monotonic()
    calls_before = _calls(client)
    run = _Run(client, cache, shop, options, progress)
    with cache.transaction():
        run_id = cache.start_run(shop, utcnow())
    try:
        _sync_seller(run)
        if options.orders:
            _sync_orders(run)
        if options.traces:
            _sync_traces(run)
        if options.finance:
            _sync_finance(run)
    finally:
        run.summary.calls = _calls(client) - calls_before
        run.summary.elapsed_s = time.monotonic() - started
    with cache.transaction():
        cache.finish_run(run_id, utcnow(), run.summary.to_dict())
    return run.summary


def _calls(client: SyncClient) -> int:
    return int(getattr(client.stats, "calls", 0))


def _venture(client: SyncClient) -> str:
    return str(getattr(client.conn, "venture", "MY"))


# ---- seller ------------------------------------------------------------------------------
def _sync_seller(run: _Run) -> None:
    run.tick("seller", 0, 1)
    seller: Seller | None = None
    error: LazadaError | None = None
    try:
        seller = run.client.seller()
    except FATAL:
        raise
    except LazadaError as exc:
        error = exc
    with run.cache.transaction():
        run.cache.upsert_shop(run.shop, _venture(run.client), seller, observed_at=utcnow())
        if error is not None:
            run.fail("seller", "seller", error)
        else:
            run.cache.clear_failures(run.shop, "seller", ["seller"])
    run.tick("seller", 1, 1, seller.name if seller else "")


# ---- orders ------------------------------------------------------------------------------
def _sync_orders(run: _Run) -> None:
    cache, shop, opts = run.cache, run.shop, run.options
    record_new = cache.watermark(shop, BASELINE_ORDERS) is not None
    mark = parse_utc(cache.watermark(shop, WM_ORDERS))
    if mark is not None:
        start = mark - opts.update_overlap
    else:
        start = utcnow() - timedelta(days=opts.lookback_days)
    state = _OrderState(start=start)
    listed = 0
    chunk: list[Order] = []
    run.tick("orders", 0, None, "listing")
    try:
        for order in run.client.iter_orders(update_after=start):
            chunk.append(order)
            if len(chunk) >= max(1, opts.order_chunk):
                listed += len(chunk)
                _order_chunk(run, chunk, state, record_new)
                chunk = []
                run.tick("orders", listed, None, state.message())
        if chunk:
            listed += len(chunk)
            _order_chunk(run, chunk, state, record_new)
    except FATAL:
        raise
    except LazadaError as exc:
        with cache.transaction():
            run.fail("orders", "orders", exc)
        run.tick("orders", listed, None, f"stopped: {_one_line(exc)}")
        return
    with cache.transaction():
        if not record_new:
            cache.set_watermark(
                shop, BASELINE_ORDERS, iso_utc(utcnow()) or "", observed_at=utcnow()
            )
        cache.clear_failures(shop, "orders", ["orders"])
    run.tick("orders", listed, listed, state.message())


@dataclass
class _OrderState:
    start: datetime
    blocked: datetime | None = None  # earliest updated_at of an order whose items failed
    new: int = 0
    changed: int = 0

    def message(self) -> str:
        return f"{self.new} new, {self.changed} changed"


def _order_chunk(run: _Run, chunk: Sequence[Order], state: _OrderState, record_new: bool) -> None:
    """Fetch items of the chunk's new/changed orders, then write it all in one transaction."""
    cache, shop = run.cache, run.shop
    known = cache.order_states(shop, [o.order_id for o in chunk])
    todo: dict[str, Order] = {}
    for o in chunk:
        before = known.get(o.order_id)
        if before is None or before != (iso_utc(o.updated_at), statuses_text(o.statuses)):
            todo[o.order_id] = o  # last listing wins if an order shows up twice
    items: dict[str, list[OrderItem]] = {}
    errors: dict[str, LazadaError | str] = {}
    if run.options.items:
        # Also orders cached without items (stored by an items-disabled run): fetch them now.
        for oid in cache.orders_without_items(shop, [o.order_id for o in chunk]):
            todo.setdefault(oid, next(o for o in chunk if o.order_id == oid))
        if todo:
            items, errors = _fetch_items(run.client, list(todo))
    ok = [o for oid, o in todo.items() if oid not in errors]
    for oid in errors:
        when = todo[oid].updated_at
        state.blocked = when if state.blocked is None else min(state.blocked, when)
    newest = max(o.updated_at for o in chunk)
    mark = newest if state.blocked is None else min(newest, state.blocked)
    mark = max(mark, state.start)
    observed = utcnow()
    with cache.transaction():
        w = cache.write_orders(shop, ok, items, observed_at=observed, record_new=record_new)
        for oid, err in errors.items():
            run.fail("items", oid, err)
        cache.clear_failures(shop, "items", [o.order_id for o in ok])
        cache.set_watermark(shop, WM_ORDERS, iso_utc(mark) or "", observed_at=observed)
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
    except FATAL:
        raise
    except LazadaError:
        items = {}
        for i in range(0, len(order_ids), 50):
            batch = order_ids[i : i + 50]
            try:
                items.update(client.orders_items(batch))
            except FATAL:
                raise
            except LazadaError:
                for oid in batch:
                    try:
                        items[oid] = client.order_items(oid)
                    except FATAL:
                        raise
                    except LazadaError as exc:
                        errors[oid] = exc
    for oid in order_ids:
        if oid in errors or items.get(oid):
            continue
        try:  # left out of the batch answer: ask for this order alone once
            items[oid] = client.order_items(oid)
        except FATAL:
            raise
        except LazadaError as exc:
            errors[oid] = exc
            continue
        if not items[oid]:
            errors[oid] = "Lazada returned no items for this order"
    return {k: v for k, v in items.items() if k not in errors}, errors


# ---- traces ------------------------------------------------------------------------------
def _sync_traces(run: _Run) -> None:
    cache, shop, opts = run.cache, run.shop, run.options
    record_new = cache.watermark(shop, BASELINE_TRACES) is not None
    due = cache.due_trace_orders(
        shop,
        stale_before=utcnow() - opts.trace_stale_after,
        traceable=TRACEABLE_STATUSES,
        trace_once=TRACE_ONCE_STATUSES,
    )
    total = len(due)
    run.tick("traces", 0, total)
    done = 0
    buffer: list[tuple[str, OrderTrace | LazadaError]] = []
    fatal: LazadaError | None = None

    def flush() -> None:
        nonlocal done
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
                        final_statuses=FINAL_STATUSES,
                    )
                    ok.append(oid)
                else:
                    run.fail("trace", oid, result)
            cache.clear_failures(shop, "trace", ok)
        done += len(buffer)
        run.summary.traced_orders += len(ok)
        buffer.clear()
        run.tick("traces", done, total, f"{run.summary.new_checkpoints} new checkpoints")

    try:
        for oid, result in run.client.traces(due):
            if isinstance(result, FATAL):
                fatal = result
                break
            buffer.append((oid, result))
            if len(buffer) >= max(1, opts.trace_batch):
                flush()
    except FATAL:
        flush()
        raise
    except LazadaError as exc:
        flush()
        with cache.transaction():
            run.fail("traces", "traces", exc)
        return
    flush()
    if fatal is not None:
        raise fatal
    if not record_new:
        with cache.transaction():
            cache.set_watermark(
                shop, BASELINE_TRACES, iso_utc(utcnow()) or "", observed_at=utcnow()
            )


# ---- finance -----------------------------------------------------------------------------
def _sync_finance(run: _Run) -> None:
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
    start = min(start, today)
    run.tick("finance", 0, None, f"transactions since {start.isoformat()}")
    seen = 0
    batch: list[Transaction] = []
    # The watermark is the newest line *Lazada* dated, not this computer's today: a clock
    # running ahead must not push the next run's window past lines still to be posted.
    newest_line = date.fromisoformat(mark) if mark else None

    def flush() -> None:
        nonlocal seen, newest_line
        if not batch:
            return
        dates = [tx.transaction_date for tx in batch if tx.transaction_date is not None]
        if dates:
            newest_line = max([*dates, newest_line] if newest_line else dates)
        with cache.transaction():
            w = cache.write_transactions(shop, batch, observed_at=utcnow())
        run.summary.new_transactions += w.new
        run.summary.paid_changes += w.paid_changes
        seen += len(batch)
        batch.clear()
        run.tick("finance", seen, None, f"{run.summary.new_transactions} new transactions")

    try:
        for tx in run.client.transactions(start, today):
            batch.append(tx)
            if len(batch) >= max(1, opts.finance_batch):
                flush()
        flush()
        statements = run.client.payouts(start - timedelta(days=7))
    except FATAL:
        raise
    except LazadaError as exc:
        flush()
        with cache.transaction():
            run.fail("finance", "finance", exc)
        return
    with cache.transaction():
        w = cache.write_statements(shop, statements, observed_at=utcnow(), tz=tz)
        if newest_line is not None:
            cache.set_watermark(shop, WM_FINANCE, newest_line.isoformat(), observed_at=utcnow())
        if deep:
            cache.set_watermark(
                shop, WM_FINANCE_DEEP, iso_utc(lazada_now) or "", observed_at=utcnow()
            )
        cache.clear_failures(shop, "finance", ["finance"])
    run.summary.new_statements += w.new
    run.summary.paid_changes += w.paid_changes
    run.tick("finance", seen, seen, f"{run.summary.new_transactions} new transactions")
