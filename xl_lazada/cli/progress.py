"""A rich progress bar on stderr fed by the sync engine's progress callback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

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

from ..sync.progress import Progress as SyncProgress

_STAGE_LABELS = {
    "seller": "Shop profile",
    "orders": "Orders",
    "traces": "Tracking",
    "finance": "Finance",
}


class _RateColumn(ProgressColumn):
    """Items per second of the stage."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")


@contextmanager
def progress_bar() -> Iterator[Callable[[SyncProgress], None]]:
    """Yield a progress callback; one bar per sync stage, drawn only when stderr is a terminal."""
    err = Console(stderr=True)
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<13}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )
    tasks: dict[str, Any] = {}

    def on_progress(p: SyncProgress) -> None:
        if p.stage not in tasks:
            tasks[p.stage] = bar.add_task(
                _STAGE_LABELS.get(p.stage, p.stage), total=p.total, note=""
            )
        bar.update(tasks[p.stage], completed=p.done, total=p.total, note=p.message)

    with bar:
        yield on_progress
