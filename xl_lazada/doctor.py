"""Health checks a seller can read: logins about to end, trace codes nobody knows, failures.

``xl-lazada doctor`` prints these; the library functions stay free of click so the workbook
can show the same facts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .rules.milestones import MilestoneTable, table_for


@dataclass(frozen=True, slots=True)
class CodeCount:
    """Checkpoints sharing one (status_code, detail_type, title)."""

    status_code: str
    detail_type: str
    title: str
    events: int
    milestone: str | None  # None: nothing matched (shown by its title)
    by: str  # how it matched: "code", "code_pattern", "title", "detail_type" or ""


@dataclass(slots=True)
class CodeReport:
    """What the cached checkpoints' codes mean under the current milestone table."""

    events: int = 0
    listed: int = 0  # events whose code is in the table
    unlisted: list[CodeCount] = field(default_factory=list)  # matched by title/type only
    unmatched: list[CodeCount] = field(default_factory=list)  # no milestone at all

    @property
    def unmatched_events(self) -> int:
        return sum(c.events for c in self.unmatched)

    @property
    def unlisted_events(self) -> int:
        return sum(c.events for c in self.unlisted)

    def to_dict(self) -> dict[str, Any]:
        def rows(counts: Iterable[CodeCount]) -> list[dict[str, Any]]:
            return [
                {
                    "status_code": c.status_code,
                    "detail_type": c.detail_type,
                    "title": c.title,
                    "events": c.events,
                    "milestone": c.milestone,
                    "matched_by": c.by or None,
                }
                for c in counts
            ]

        return {
            "events": self.events,
            "listed_events": self.listed,
            "unlisted_events": self.unlisted_events,
            "unmatched_events": self.unmatched_events,
            "unlisted": rows(self.unlisted),
            "unmatched": rows(self.unmatched),
        }


def code_report(
    cache: Any, shop: str | None = None, *, table: MilestoneTable | None = None
) -> CodeReport:
    """Group the cache's checkpoints by code, type and title, and classify each group once."""
    table = table or table_for(None)
    sql = (
        "SELECT status_code, COALESCE(detail_type, ''), COALESCE(title, ''), COUNT(*)"
        " FROM checkpoints"
    )
    params: list[Any] = []
    if shop is not None:
        sql += " WHERE shop = ?"
        params.append(shop)
    sql += " GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1"
    out = CodeReport()
    for code, dtype, title, n in cache.connection.execute(sql, params):
        match = table.classify(code, dtype, title)
        out.events += n
        count = CodeCount(str(code), str(dtype), str(title), int(n), match.milestone, match.by)
        if match.milestone is None:
            out.unmatched.append(count)
        elif not match.listed:
            out.unlisted.append(count)
        else:
            out.listed += n
    return out


def file_damage(cache: Any, limit: int = 3) -> str | None:
    """What SQLite's structural check finds wrong with the cache file (up to ``limit``
    findings, on one line), or None when it is sound. A page spoiled after the file was
    written (a failing disk, a copy cut short) opens without complaint and fails only the
    reads that reach it: this reads every page (about 2 s for a 100,000-order cache)."""
    rows = cache.connection.execute(f"PRAGMA quick_check({int(limit)})").fetchall()
    found = [str(r[0]) for r in rows]
    if found == ["ok"]:
        return None
    lines = [ln.strip() for f in found for ln in f.splitlines()]
    return "; ".join(ln for ln in lines if ln and not ln.startswith("***"))


def failure_counts(cache: Any, shop: str | None = None) -> dict[str, int]:
    """``{stage: things that failed}`` from the last syncs (see ``sync_failures``)."""
    counts: dict[str, int] = {}
    for row in cache.failures(shop):
        counts[row["stage"]] = counts.get(row["stage"], 0) + 1
    return counts
