"""Headless refresh: rewrite the workbook's data sheets from the cache, no Excel needed.

:func:`refresh_workbook` reads the Settings sheet (the rules' thresholds, the Checkpoints
bound), builds the tables from the cache, and rewrites only our data sheets through the
file writer (:mod:`.write`), saving atomically (:mod:`.save`). Syncing with Lazada is the
caller's job (the CLI does it first and passes what it learned as ``sync_note``/``as_of``),
so a refresh with a dead network still rewrites from the cache and says how old it is.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import XlLazadaError
from ..rules.settings import RuleSettings
from .contract import DATA_SHEETS, WorkbookSettings
from .package import Package
from .reader import read_settings
from .save import atomic_write, check_writable
from .sheets import bound_checkpoints, data_sheetspec, status_line
from .sheetspec import SheetSpec
from .write import MissingSheetError, write_sheets

PARTS = ("orders", "tracking", "checkpoints", "settlements")
#: The report rebuilt from the Report sheet's inputs (skipped when they are empty).
REPORT_PART = "report"
ALL_PARTS = (*PARTS, REPORT_PART)


class RefreshError(XlLazadaError):
    """The refresh could not start (bad arguments, unusable workbook); nothing was written."""


@dataclass
class RefreshSummary:
    path: Path
    rows: dict[str, int] = field(default_factory=dict)  # sheet name → data rows written
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    as_of: str = ""
    report: str = ""  # the Report sheet's message after this refresh ("" = no report asked)
    report_refused: bool = False  # the Report sheet's inputs were refused (message says why)

    def line(self) -> str:
        sheets = ", ".join(f"{name} {n:,}" for name, n in self.rows.items())
        text = f"{self.path.name}: {sheets} rows written in {self.elapsed_s:.1f} s"
        if self.as_of:
            text += f" — {self.as_of}"
        if self.report:
            text += f"\nReport: {self.report}"
        return text


def parse_only(value: str | Iterable[str] | None, allowed: Iterable[str] = ALL_PARTS) -> list[str]:
    """``"orders,tracking"`` → ["orders", "tracking"]; unknown names raise RefreshError."""
    choices = list(allowed)
    if value is None:
        return choices
    items = value.split(",") if isinstance(value, str) else list(value)
    names = [i.strip().lower() for i in items if i.strip()]
    bad = [n for n in names if n not in choices]
    if bad or not names:
        raise RefreshError(
            f"--only: {', '.join(bad) or 'nothing'} is not one of {', '.join(choices)}"
        )
    return [c for c in choices if c in names]


def open_book(path: str | Path, parts: Iterable[str] = PARTS) -> Path:
    """Check that ``path`` is a workbook we can refresh now; raise a one-line error if not."""
    book = Path(path)
    if not book.exists():
        raise RefreshError(f"{book}: no such workbook (make one with `xl-lazada workbook new`)")
    try:
        check_writable(book)
    except Exception as exc:
        raise RefreshError(str(exc)) from None
    with _package(book) as pkg:
        names = {s.name for s in pkg.sheets()}
        missing = [DATA_SHEETS[p].name for p in parts if p in DATA_SHEETS]
        missing = [m for m in missing if m not in names]
        if missing:
            raise RefreshError(
                f"{book.name} has no {', '.join(repr(m) for m in missing)} sheet; "
                "make a workbook with `xl-lazada workbook new`"
            )
    return book


def _package(path: Path) -> Package:
    from .package import PackageError

    try:
        return Package(str(path))
    except PackageError as exc:
        raise RefreshError(str(exc).replace(str(path), path.name)) from None
    except OSError as exc:
        raise RefreshError(f"{path.name}: cannot read it ({exc.strerror or exc})") from None


def book_settings(path: str | Path) -> tuple[RuleSettings, WorkbookSettings]:
    """The workbook's Settings sheet (defaults for keys left blank)."""
    from .contract import SettingsError

    with _package(Path(path)) as pkg:
        try:
            return read_settings(pkg)
        except SettingsError as exc:
            raise RefreshError(f"{Path(path).name}: {exc}") from None


def refresh_workbook(
    path: str | Path,
    cache: Any,
    *,
    shop: str | None = None,
    only: Iterable[str] | None = None,
    now: datetime | None = None,
    as_of: str = "",
    extra_specs: Iterable[SheetSpec] = (),
) -> RefreshSummary:
    """Rewrite the data sheets of ``path`` from ``cache``; returns what was written.

    ``now`` is the rules' clock (naive = UTC; default: now). ``as_of`` goes into every
    status line (e.g. "sync failed: ...; data as of 2026-12-01 17:00"). ``extra_specs``
    are further sheets the caller renders (the report)."""
    started = time.perf_counter()
    parts = parse_only(list(only) if only is not None else None)
    book = open_book(path, parts)
    rules, settings = book_settings(book)
    shop = shop or settings.shop
    frames = _tables(cache, parts, shop, now, rules)
    summary = RefreshSummary(path=book, as_of=as_of)
    specs, notes = sheetspecs_from_tables(frames, parts, settings=settings, now=now, as_of=as_of)
    summary.notes.extend(notes)
    summary.rows = {spec.name: spec.tables[0].rows for spec in specs}
    if REPORT_PART in parts:
        specs.extend(_report_specs(book, cache, summary, now=now, rules=rules))
    specs.extend(extra_specs)

    def write(stream: Any) -> None:
        with _package(book) as pkg:
            try:
                write_sheets(pkg, specs, stream)
            except MissingSheetError as exc:
                raise RefreshError(f"{book.name}: {exc}") from None

    try:
        check_writable(book)
    except Exception as exc:
        raise RefreshError(str(exc)) from None
    atomic_write(book, write)
    summary.elapsed_s = time.perf_counter() - started
    return summary


def sheetspecs_from_tables(
    frames: Mapping[str, Any],
    parts: Iterable[str],
    *,
    settings: WorkbookSettings,
    now: datetime | None,
    as_of: str = "",
) -> tuple[list[SheetSpec], list[str]]:
    """The data sheets' SheetSpecs from the tables (the Checkpoints sheet bounded by the
    Settings, a status line on each) and the notes the bound produced: one recipe for the
    headless refresh and the ribbon's live writer, so both write the same sheets. The
    status line's time is on the shop's clock, as the sheet's times and "data as of" are."""
    refreshed = datetime.now(UTC)
    specs: list[SheetSpec] = []
    notes: list[str] = []
    for part in (p for p in parts if p in DATA_SHEETS):
        frame = frames[part]
        note = ""
        if part == "checkpoints":
            frame, note = bound_checkpoints(
                frame,
                frames.get("tracking"),
                days=settings.checkpoint_days,
                max_rows=settings.checkpoint_max_rows,
                now=_local_now(frame, now),
            )
            if note:
                notes.append(note)
        line = status_line(len(frame), _shop_clock(frame, refreshed), note=note, as_of=as_of)
        specs.append(data_sheetspec(part, frame, status_text=line))
    return specs, notes


def _report_specs(
    book: Path, cache: Any, summary: RefreshSummary, *, now: datetime | None, rules: RuleSettings
) -> list[SheetSpec]:
    """The report asked for on the Report sheet: its output sheet and the Report sheet with the
    seller's inputs and the outcome in its message cell. Refused inputs change nothing but
    that message (``summary.report_refused``); no inputs, no report."""
    from ..report.inputs import ReportInputError
    from ..report.sheet import has_report_inputs, report_from_sheet, report_input_values_sheet
    from .contract import REPORT, REPORT_OUTPUT
    from .reader import read_report_inputs

    with _package(book) as pkg:
        names = {s.name for s in pkg.sheets()}
        if REPORT not in names or REPORT_OUTPUT not in names:
            summary.notes.append(f"no {REPORT!r}/{REPORT_OUTPUT!r} sheets: report skipped")
            return []
        values = read_report_inputs(pkg)
    if not has_report_inputs(values):
        return []
    try:
        _, output, message = report_from_sheet(cache, values, now=now, settings=rules)
    except ReportInputError as exc:
        summary.report, summary.report_refused = str(exc), True
        return [report_input_values_sheet(values, str(exc))]
    summary.report = message
    return [report_input_values_sheet(values, message), output]


def _tables(
    cache: Any, parts: list[str], shop: str | None, now: datetime | None, rules: RuleSettings
) -> dict[str, Any]:
    from ..tables import all_tables

    need = set(parts) | ({"tracking"} if "checkpoints" in parts else set())
    if need <= {REPORT_PART}:
        return {}
    frames = all_tables(cache, shop=shop, now=now, settings=rules)
    return {k: v for k, v in frames.items() if k in need}


def _local_now(frame: Any, now: datetime | None) -> datetime:
    """'Now' on the same (shop-local, naive) clock as the Time column."""
    from ..tables.shops import parse_tz

    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    tz = frame.attrs.get("tz") if hasattr(frame, "attrs") else None
    return moment.astimezone(parse_tz(tz)).replace(tzinfo=None)


def _shop_clock(frame: Any, moment: datetime) -> datetime:
    """``moment`` on the frame's shop clock (aware); shops of several zones (or none known):
    this computer's."""
    from ..tables.shops import parse_tz

    tz = frame.attrs.get("tz") if hasattr(frame, "attrs") else None
    return moment.astimezone(parse_tz(tz) if tz else None)


__all__ = [
    "ALL_PARTS",
    "sheetspecs_from_tables",
    "PARTS",
    "REPORT_PART",
    "RefreshError",
    "RefreshSummary",
    "book_settings",
    "parse_only",
    "refresh_workbook",
]
