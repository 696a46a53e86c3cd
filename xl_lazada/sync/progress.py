"""Progress reports and the run summary of a sync (what the CLI and Excel's status bar show)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Stages in the order a sync runs them. ``traces`` are the parcels a seller acts on (status
#: news and parcels still moving); ``history`` back-fills parcels already delivered/closed.
STAGES: tuple[str, ...] = ("seller", "orders", "traces", "finance", "history")


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress tick: ``done`` of ``total`` (``None`` when unknown in advance) in ``stage``.

    ``calls`` and ``throttled`` count this stage's HTTP requests and ``ApiCallLimit``
    answers so far; ``eta_s`` is the estimated seconds left in the stage (``None`` until
    there is enough to go on); ``elapsed_s`` the seconds since the stage started.
    """

    stage: str  # one of STAGES
    done: int
    total: int | None
    message: str = ""
    calls: int = 0
    throttled: int = 0
    eta_s: float | None = None
    elapsed_s: float = 0.0


@dataclass(slots=True)
class SyncSummary:
    """What a sync did. ``failed`` holds ``(ref, "stage: error")`` — ref is an order id, or
    the stage name when a whole stage failed; ``failed_stages`` lists those stages (they mean
    the cache did not get that update). ``calls`` is the HTTP requests it sent, ``throttled``
    how many Lazada answered with ``ApiCallLimit``. ``deferred`` counts work left for the
    next run because the daily call budget ran out (per stage), ``budget_left`` the calls
    left today (``None``: no budget)."""

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
    failed_stages: list[str] = field(default_factory=list)
    throttled: int = 0
    deferred: dict[str, int] = field(default_factory=dict)
    budget_left: int | None = None
    daily_budget: int | None = None
    calls_by_stage: dict[str, int] = field(default_factory=dict)

    def stage_failed(self, stage: str) -> None:
        if stage not in self.failed_stages:
            self.failed_stages.append(stage)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["failed"] = [list(f) for f in self.failed]
        d["elapsed_s"] = round(self.elapsed_s, 3)
        return d
