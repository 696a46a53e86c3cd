"""Headless refresh: rewrite the workbook's data sheets from the cache, no Excel needed.

:func:`open_book` checks once that the workbook may be written and reads it once (an
:class:`OpenBook`: its parts, sheet names and Settings); :func:`refresh_workbook` builds the
tables from the cache and rewrites only our data sheets from that one read through the file
writer (:mod:`.write`), saving atomically (:mod:`.save`). Syncing with Lazada is the
caller's job (the CLI opens the book, syncs, then passes the book and ``as_of``), so a
refresh with a dead network still rewrites from the cache and says how old it is.
"""

from __future__ import annotations

import io
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
from .save import atomic_write, check_unchanged, check_writable, file_stamp
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
        what = f"{sheets} rows written" if sheets else "written"  # (--only report: no sheets)
        text = f"{self.path.name}: {what} in {self.elapsed_s:.1f} s"
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


@dataclass
class OpenBook:
    """A workbook checked once for a refresh and read once: its parts (in memory, so no file
    handle is held while a sync runs or when the new file replaces it), sheet names and
    Settings. Everything the refresh reads from the book comes from here."""

    path: Path
    pkg: Package
    sheet_names: frozenset[str]
    rules: RuleSettings
    settings: WorkbookSettings
    stamp: tuple[int, int]  # the file's mtime and size when it was read (see _save)

    def require(self, parts: Iterable[str]) -> None:
        """Refuse (one line) when a data sheet that ``parts`` rewrite is missing."""
        _require(self.path, self.sheet_names, parts)

    def close(self) -> None:
        self.pkg.close()

    def __enter__(self) -> OpenBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_book(path: str | Path, parts: Iterable[str] = PARTS) -> OpenBook:
    """Check that ``path`` is a workbook we can refresh now (the one writability check) and
    read it; raise a one-line :class:`RefreshError` if not, having touched nothing."""
    book = Path(path)
    if not book.exists():
        raise RefreshError(f"{book}: no such workbook (make one with `xl-lazada workbook new`)")
    if book.is_symlink():  # refresh the workbook itself: replacing the link would fork it
        book = book.resolve()
    try:
        check_writable(book)
        stamp = file_stamp(book)
    except Exception as exc:
        raise RefreshError(str(exc)) from None
    pkg = _package(book)
    try:
        names = frozenset(s.name for s in pkg.sheets())
        _require(book, names, parts)
        rules, settings = _settings(book, pkg)
    except BaseException:
        pkg.close()
        raise
    return OpenBook(book, pkg, names, rules, settings, stamp)


def _require(book: Path, names: frozenset[str], parts: Iterable[str]) -> None:
    missing = [DATA_SHEETS[p].name for p in parts if p in DATA_SHEETS]
    missing = [m for m in missing if m not in names]
    if missing:
        raise RefreshError(
            f"{book.name} has no {', '.join(repr(m) for m in missing)} sheet: rename it back, "
            "or make a new workbook with `xl-lazada workbook new`"
        )


#: Every workbook starts with a zip entry; anything else is refused after this much is read.
_ZIP_MAGIC = b"PK\x03\x04"


def _package(path: Path) -> Package:
    """The workbook's package from one read of the file (a file that is not a zip is not
    read further than its first bytes)."""
    from .package import PackageError

    try:
        with open(path, "rb") as fh:
            data = fh.read(len(_ZIP_MAGIC))
            data += fh.read() if data == _ZIP_MAGIC else fh.read(16)
        return Package(io.BytesIO(data), name=path.name)
    except PackageError as exc:
        raise RefreshError(str(exc)) from None
    except OSError as exc:
        raise RefreshError(f"{path.name}: cannot read it ({exc.strerror or exc})") from None


def _settings(path: Path, pkg: Package) -> tuple[RuleSettings, WorkbookSettings]:
    from .contract import SettingsError

    try:
        return read_settings(pkg)
    except SettingsError as exc:
        raise RefreshError(f"{path.name}: {exc}") from None


def book_settings(path: str | Path) -> tuple[RuleSettings, WorkbookSettings]:
    """The workbook's Settings sheet (defaults for keys left blank)."""
    with _package(Path(path)) as pkg:
        return _settings(Path(path), pkg)


def refresh_workbook(
    book: str | Path | OpenBook,
    cache: Any,
    *,
    shop: str | None = None,
    only: Iterable[str] | None = None,
    now: datetime | None = None,
    as_of: str = "",
    extra_specs: Iterable[SheetSpec] = (),
) -> RefreshSummary:
    """Rewrite the data sheets of ``book`` from ``cache``; returns what was written.

    ``book``: a path, or the :class:`OpenBook` the caller opened (and checked) before its
    sync; it is closed once written. ``now`` is the rules' clock (naive = UTC; default:
    now). ``as_of`` goes into every status line (e.g. "sync failed: ...; data as of
    2026-12-01 17:00 UTC+08:00"). ``extra_specs`` are further sheets the caller renders
    (the report)."""
    started = time.perf_counter()
    parts = parse_only(list(only) if only is not None else None)
    if isinstance(book, OpenBook):
        opened = book
        opened.require(parts)
    else:
        opened = open_book(book, parts)
    with opened:
        shop = shop or opened.settings.shop
        frames = _tables(cache, parts, shop, now, opened.rules)
        summary = RefreshSummary(path=opened.path, as_of=as_of)
        specs, notes = sheetspecs_from_tables(
            frames, parts, settings=opened.settings, now=now, as_of=as_of
        )
        summary.notes.extend(notes)
        summary.rows = {spec.name: spec.tables[0].rows for spec in specs}
        if REPORT_PART in parts:
            asked = parts == [REPORT_PART]  # only the report: no inputs is then a mistake
            specs.extend(_report_specs(opened, cache, summary, now=now, asked=asked))
        specs.extend(extra_specs)
        _save(opened, specs)
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _save(opened: OpenBook, specs: list[SheetSpec]) -> None:
    """The new workbook written beside the old one, then moved over it (:mod:`.save`)."""

    def write(stream: Any) -> None:
        try:
            write_sheets(opened.pkg, specs, stream)
        except MissingSheetError as exc:
            raise RefreshError(f"{opened.path.name}: {exc}") from None

    def unchanged() -> None:
        try:
            check_unchanged(opened.path, opened.stamp)
        except Exception as exc:
            raise RefreshError(str(exc)) from None

    try:
        atomic_write(opened.path, write, before_replace=unchanged)
    except PermissionError:  # Excel opened it since the check (Windows locks what it opens)
        raise RefreshError(
            f"{opened.path.name} is open in another program (Excel?); close it and try again"
        ) from None
    except OSError as exc:  # a full disk, a network drive gone: the old book is untouched
        raise RefreshError(
            f"{opened.path.name}: cannot save it ({exc.strerror or exc}); nothing was written"
        ) from None


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
    status line's time and the Checkpoints bound's "now" are on the shop's clock, as the
    sheet's times and "data as of" are (see :func:`_shop_clock` when it is unknown)."""
    refreshed = datetime.now(UTC)
    specs: list[SheetSpec] = []
    notes: list[str] = []
    for part in (p for p in parts if p in DATA_SHEETS):
        frame = frames[part]
        zone = _sheet_zone(frame, frames)
        note = ""
        if part == "checkpoints":
            frame, note = bound_checkpoints(
                frame,
                frames.get("tracking"),
                days=settings.checkpoint_days,
                max_rows=settings.checkpoint_max_rows,
                now=_shop_clock(zone, now).replace(tzinfo=None),  # naive, as the Time column
            )
            if note:
                notes.append(note)
        line = status_line(len(frame), _shop_clock(zone, refreshed), note=note, as_of=as_of)
        specs.append(data_sheetspec(part, frame, status_text=line))
    return specs, notes


def _report_specs(
    opened: OpenBook,
    cache: Any,
    summary: RefreshSummary,
    *,
    now: datetime | None,
    asked: bool = False,
) -> list[SheetSpec]:
    """The report asked for on the Report sheet: its output sheet and the Report sheet with the
    seller's inputs and the outcome in its message cell. Refused inputs change nothing but
    that message (``summary.report_refused``); no inputs, no report — refused as well when
    the report is all that was ``asked`` for."""
    from ..report.inputs import ReportInputError
    from ..report.sheet import has_report_inputs, report_from_sheet, report_input_values_sheet
    from .contract import REPORT, REPORT_OUTPUT
    from .reader import read_report_inputs

    if REPORT not in opened.sheet_names or REPORT_OUTPUT not in opened.sheet_names:
        summary.notes.append(f"no {REPORT!r}/{REPORT_OUTPUT!r} sheets: report skipped")
        return []
    values = read_report_inputs(opened.pkg)
    if not has_report_inputs(values) and not asked:
        return []
    try:
        _, output, message = report_from_sheet(cache, values, now=now, settings=opened.rules)
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


def _sheet_zone(frame: Any, frames: Mapping[str, Any]) -> str | None:
    """The zone of a sheet's times, from the cache: its shop's (one zone across its rows); an
    empty table takes the one zone of the other tables (its shop has nothing there yet).
    ``None``: no shop synced yet, or shops of several zones."""
    attrs = getattr(frame, "attrs", {})
    if attrs.get("tz") or len(frame):
        return attrs.get("tz") or None
    zones = {
        z for f in frames.values() for z in getattr(f, "attrs", {}).get("timezones", {}).values()
    }
    return zones.pop() if len(zones) == 1 else None


def _shop_clock(zone: str | None, moment: datetime | None = None) -> datetime:
    """``moment`` (default: now; naive means UTC) on a sheet's clock, aware: the shop's UTC
    offset when ``zone`` is known, else this computer's clock. A workbook refreshed before
    any sync (or over shops of several zones) has no one shop clock; the seller then expects
    the time on this computer's screen (as "data as of" uses for shops of several zones),
    not UTC, which is hours off for a seller in South-East Asia."""
    from ..tables.shops import parse_tz

    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(parse_tz(zone) if zone else None)


__all__ = [
    "ALL_PARTS",
    "OpenBook",
    "open_book",
    "sheetspecs_from_tables",
    "PARTS",
    "REPORT_PART",
    "RefreshError",
    "RefreshSummary",
    "book_settings",
    "parse_only",
    "refresh_workbook",
]
