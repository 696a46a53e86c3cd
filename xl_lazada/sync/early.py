"""Traces started while the orders are still being listed.

The trace API has its own rate limit, idle while orders and items are read, and on a first
sync it is the one that takes longest (a call per parcel). So parcels the listing already
shows are traced from the first order page on, in a small pool kept full from its own
threads (not only when the listing hands over the next order), and their results wait in
memory until their orders are stored: each order chunk's transaction takes the answers
already in for the orders stored so far (a new order written with its trace gets one facts
pass, not two), and the trace stage writes the rest when it ends.

Two priorities: what a seller acts on (a changed status set, a new parcel on its way), then
history (a new order whose parcels are already delivered or closed), which only fills the
trace API's idle capacity and has its own cap under a daily call budget.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..cache.codec import statuses_text
from ..lazada.errors import LazadaError
from ..lazada.models import Order, OrderTrace
from ..rules.status import parcel_final
from .policy import TRACEABLE_STATUSES

#: Listed orders between looks for parcels to trace early (one page).
EARLY_EVERY = 100


@dataclass(frozen=True, slots=True)
class Candidates:
    """Order ids worth tracing now (``urgent``: news and moving parcels, newest first) and
    ``history`` (new orders whose story has ended)."""

    urgent: list[str]
    history: list[str]


def early_candidates(orders: Iterable[Order], known: dict[str, tuple[str, str]]) -> Candidates:
    """What the listing already shows is worth tracing: a changed status set (news) or a new
    order with a parcel on its way (urgent, newest first), or a new order already delivered
    or closed (history). Orders not yet ready to ship have no trace."""
    urgent: list[Order] = []
    history: list[Order] = []
    for o in orders:
        statuses = set(o.statuses)
        if not statuses & TRACEABLE_STATUSES:
            continue
        before = known.get(o.order_id)
        if before is None:
            (history if parcel_final(statuses) else urgent).append(o)
        elif before[1] != statuses_text(o.statuses):
            urgent.append(o)
    urgent.sort(key=lambda o: (o.created_at, o.order_id), reverse=True)
    return Candidates([o.order_id for o in urgent], [o.order_id for o in history])


@dataclass(frozen=True, slots=True)
class Started:
    """The order ids early tracing started (answered or still running), and how many of
    them were urgent."""

    ids: frozenset[str] = frozenset()
    urgent: int = 0


@dataclass(frozen=True, slots=True)
class EarlyResult:
    order_id: str
    result: OrderTrace | LazadaError
    history: bool


class EarlyTraces:
    """Trace calls with two priorities, at most ``workers`` at once: each worker takes the
    next order as soon as its call is answered. ``limit`` caps all calls started,
    ``history_limit`` the history ones (``None``: no cap). An error of a ``halt`` type stops
    starting more (see :attr:`halt`)."""

    def __init__(
        self,
        trace: Callable[[str], OrderTrace],
        *,
        workers: int,
        limit: int | None = None,
        history_limit: int | None = None,
        halt: tuple[type[LazadaError], ...] = (),
    ) -> None:
        self._trace = trace
        self._workers = max(1, workers)
        self._limit = limit
        self._history_limit = history_limit
        self._halt_types = halt
        self._pool = ThreadPoolExecutor(
            max_workers=self._workers, thread_name_prefix="xl-lazada-early"
        )
        self._lock = threading.Lock()
        self._urgent: deque[str] = deque()
        self._history: deque[str] = deque()
        self._seen: set[str] = set()
        self._results: list[EarlyResult] = []  # answered, not yet taken
        self._answered = 0
        self._started: list[tuple[str, bool]] = []  # (order id, history) in start order
        self._history_started = 0
        self._running = 0
        self._stopped = False
        self._crash: BaseException | None = None  # not a Lazada error: a bug, raised by finish
        self.halt: LazadaError | None = None

    def add(self, urgent: Iterable[str] = (), history: Iterable[str] = ()) -> None:
        """Queue order ids (each at most once, whichever list it came in first)."""
        with self._lock:
            for waiting, ids in ((self._urgent, urgent), (self._history, history)):
                for oid in ids:
                    if oid not in self._seen:
                        self._seen.add(oid)
                        waiting.append(oid)
            if self._stopped:
                return
            starting = min(self._workers - self._running, self._available())
            self._running += max(0, starting)
        for _ in range(starting):
            self._pool.submit(self._work)

    def done(self) -> int:
        """How many traces have been answered so far."""
        with self._lock:
            return self._answered

    def take(self, *, but: Collection[str] = ()) -> list[EarlyResult]:
        """Hand over the answers already in (to be written now, with their orders) except
        those for the order ids in ``but``: they stay for a later :meth:`take` or
        :meth:`finish`."""
        with self._lock:
            taken = [r for r in self._results if r.order_id not in but]
            if taken:
                self._results = [r for r in self._results if r.order_id in but]
            return taken

    def give_back(self, results: Iterable[EarlyResult]) -> None:
        """Answers taken but not written (their transaction failed): kept for later."""
        with self._lock:
            self._results.extend(results)

    def _available(self) -> int:  # with the lock held
        if self._stopped or self.halt is not None:
            return 0
        history = len(self._history)
        if self._history_limit is not None:
            history = min(history, max(0, self._history_limit - self._history_started))
        n = len(self._urgent) + history
        if self._limit is not None:
            n = min(n, max(0, self._limit - len(self._started)))
        return n

    def _next(self) -> tuple[str, bool] | None:  # with the lock held
        if self._available() <= 0:
            return None
        if self._urgent:
            nxt = self._urgent.popleft(), False
        else:
            self._history_started += 1
            nxt = self._history.popleft(), True
        self._started.append(nxt)
        return nxt

    def _work(self) -> None:
        while True:
            with self._lock:
                nxt = self._next()
                if nxt is None:
                    self._running -= 1
                    return
            oid, history = nxt
            try:
                result: OrderTrace | LazadaError = self._trace(oid)
            except self._halt_types as exc:
                with self._lock:
                    self.halt = self.halt or exc
                continue  # (starts nothing more)
            except LazadaError as exc:
                result = exc
            except BaseException as exc:
                with self._lock:
                    self._crash = self._crash or exc
                    self._stopped = True
                continue
            with self._lock:
                self._results.append(EarlyResult(oid, result, history))
                self._answered += 1

    def stop(self) -> Started:
        """Start nothing more (the calls running go on); returns what was started."""
        with self._lock:
            self._stopped = True
            return Started(
                frozenset(oid for oid, _ in self._started),
                sum(1 for _, history in self._started if not history),
            )

    def finish(self) -> list[EarlyResult]:
        """Start nothing more, wait for the calls running and return every answer not taken
        (errors of a ``halt`` type are left out: see :attr:`halt`)."""
        self.close()
        if self._crash is not None:
            raise self._crash
        return list(self._results)

    def close(self) -> None:
        with self._lock:
            self._stopped = True
        self._pool.shutdown(wait=True)
