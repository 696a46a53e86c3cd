"""Sync progress on stderr, fed by the sync engine's progress callback.

On a terminal: a live bar per stage (done/total, calls, throttles, time left). Anywhere
else (cron, Task Scheduler logs, a pipe) a bar would be silent until the end, so plain lines
are printed instead: each moving stage's latest every ``every`` seconds, and one line when a
stage finishes — a log shows the sync is alive and how far it got.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from ..lazada.errors import one_line
from ..sync.progress import Progress as SyncProgress

STAGE_LABELS = {
    "seller": "Shop profile",
    "orders": "Orders",
    "traces": "Tracking",
    "finance": "Finance",
    "history": "Delivered history",
}
LINE_EVERY_S = 5.0


def duration(seconds: float) -> str:
    """``45 s``, ``12 min 05 s``, ``1 h 20 min``."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def progress_line(p: SyncProgress) -> str:
    """One plain line: ``Tracking: 1,200/16,500 (7%), 1,251 calls, 3 throttled, ~11 min left``."""
    label = STAGE_LABELS.get(p.stage, p.stage)
    if p.total is not None:
        pct = f" ({100 * p.done / p.total:.0f}%)" if p.total else ""
        head = f"{label}: {p.done:,}/{p.total:,}{pct}"
    else:
        head = f"{label}: {p.done:,}"
    parts = [head, f"{p.calls:,} calls"]
    if p.throttled:
        parts.append(f"{p.throttled:,} throttled")
    if p.eta_s is not None and p.total is not None and p.done < p.total:
        parts.append(f"~{duration(p.eta_s)} left")
    elif p.elapsed_s >= 1:
        parts.append(f"{duration(p.elapsed_s)}")
    line = ", ".join(parts)
    return f"{line} — {one_line(p.message)}" if p.message else line


class _RateColumn(ProgressColumn):
    """Items per second of the stage."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")


class _CallsColumn(ProgressColumn):
    """Calls (and throttled answers) of the stage, and the time left."""

    def render(self, task: Task) -> Text:
        calls = task.fields.get("calls", 0)
        throttled = task.fields.get("throttled", 0)
        eta = task.fields.get("eta")
        text = f"{calls:,} calls"
        if throttled:
            text += f", {throttled:,} throttled"
        if eta is not None and not task.finished:
            text += f", ~{duration(eta)} left"
        return Text(text, style="progress.data.speed")


class LinePrinter:
    """Prints :func:`progress_line` at most every ``every`` seconds — the latest line of each
    stage that moved, since stages run side by side — and once at each stage's end (its last
    update, which carries what the stage found)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        every: float = LINE_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self.every = every
        self._clock = clock
        self._last = clock()  # the first lines come after ``every`` seconds
        self._pending: dict[str, SyncProgress] = {}  # stage -> its latest, not yet printed
        self._held: SyncProgress | None = None  # a stage just complete, before its summary

    def _write(self, p: SyncProgress) -> None:
        stream = self._stream or sys.stderr
        stream.write(progress_line(p) + "\n")
        stream.flush()

    def _flush(self) -> None:
        for p in self._pending.values():
            self._write(p)
        self._pending.clear()
        self._last = self._clock()

    def __call__(self, p: SyncProgress) -> None:
        finished = p.total is not None and p.done >= p.total and p.total > 0
        held, self._held = self._held, None
        if held is not None and held.stage != p.stage:  # its summary did not come next
            self._write(held)
        if finished and p.message:  # the stage's last word
            self._pending.pop(p.stage, None)
            self._write(p)
            return
        if finished:  # its summary, if it has one, is the next update: wait for it
            self._pending.pop(p.stage, None)
            self._held = p
            return
        self._pending[p.stage] = p
        if self._clock() - self._last >= self.every:
            self._flush()

    def close(self) -> None:
        if self._held is not None:
            self._write(self._held)
            self._held = None
        self._flush()


@contextmanager
def progress_bar(every: float | None = None) -> Iterator[Callable[[SyncProgress], None]]:
    """Yield a progress callback: bars on a terminal, a line every ``every`` s otherwise
    (default :data:`LINE_EVERY_S`)."""
    err = Console(stderr=True)
    if not err.is_terminal:
        printer = LinePrinter(every=LINE_EVERY_S if every is None else every)
        yield printer  # on an error, the error is the last word, not a stale progress line
        printer.close()
        return
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<17}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        _CallsColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}", markup=False),  # Lazada's text: never markup
        console=err,
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def on_progress(p: SyncProgress) -> None:
        if p.stage not in tasks:
            tasks[p.stage] = bar.add_task(
                STAGE_LABELS.get(p.stage, p.stage),
                total=p.total,
                note="",
                calls=0,
                throttled=0,
                eta=None,
            )
        bar.update(
            tasks[p.stage],
            completed=p.done,
            total=p.total,
            note=one_line(p.message),
            calls=p.calls,
            throttled=p.throttled,
            eta=p.eta_s,
        )

    with bar:
        yield on_progress
