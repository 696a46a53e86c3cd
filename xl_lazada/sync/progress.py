"""Progress reports and the run summary of a sync (what the CLI and Excel's status bar show)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STAGES: tuple[str, ...] = ("seller", "orders", "traces", "finance")


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress tick: ``done`` of ``total`` (``None`` when unknown in advance) in ``stage``."""

    stage: str  # seller | orders | traces | finance
    done: int
    total: int | None
    message: str = ""


@dataclass(slots=True)
class SyncSummary:
    """What a sync did. ``failed`` holds ``(ref, "stage: error")`` — ref is an order id, or
    the stage name when a whole stage failed; ``calls`` is the HTTP requests it sent."""

    new_orders: int = 0
    changed_orders: int = 0
    new_items: int = 0
    status_changes: int = 0
    new_checkpoints: int = 0
    new_transactions: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    calls: int = 0
    elapsed_s: float = 0.0
    traced_orders: int = 0
    paid_changes: int = 0
    new_statements: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["failed"] = [list(f) for f in self.failed]
        d["elapsed_s"] = round(self.elapsed_s, 3)
        return d
