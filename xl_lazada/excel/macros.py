"""The Lazada ribbon's buttons: ``RunPython "import xl_lazada.excel.macros as m; m.refresh_all()"``.

Each macro takes the workbook (``book=None`` means the one whose button was pressed,
``xw.Book.caller()``; tests pass a book object), shows progress in Excel's status bar,
ends with a one-line summary in a status cell, and never lets an exception reach Excel (a
traceback dialog): the error becomes that line. The status bar and screen updating are
restored whatever happens. Each returns its summary line too.

Refresh = the library's incremental sync (:func:`xl_lazada.sync.sync_shop`, with a progress
callback) then the workbook contract's sheets rendered through the live writer — the same
SheetSpecs ``xl-lazada refresh BOOK.xlsm`` writes into the file — then a recalculation of
the cells holding ``LAZADA_*`` formulas (they are not volatile, so Excel would not redo
them by itself). A sync that fails still refreshes the sheets from the cache and says, in
each sheet's status line, how old the data is.

Status cells: ``A2`` of each refreshed data sheet; ``Report!B8`` for the report and CSV
import; ``Settings!A2`` for the connection check.

Beyond the live writer's xlwings surface (see :mod:`.live_writer`) the macros use
``book.app.status_bar`` / ``.screen_updating`` / ``.calculate()``, ``sheet.used_range``
(``.row``, ``.column``, ``.shape``), ``Range.formula2`` (read and write) and, guarded,
``Range.api.Dirty()``, ``Worksheet.api.ProtectContents`` and ``book.app.api.GetOpenFilename``
(Windows COM), and ``book.app.alert`` for a line no status cell could take (every one on a
protected or missing sheet).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import XlLazadaError
from ..rules.settings import RuleSettings
from ..workbook import contract
from ..workbook.as_of import NEVER, data_as_of, freshness
from ..workbook.contract import WorkbookSettings
from ..workbook.sheetspec import SheetSpec, parse_cell
from . import live_writer
from .messages import error_text

log = logging.getLogger(__name__)

PREFIX = "Lazada: "
PROGRESS_EVERY_S = 0.25  # each status-bar update is a round trip to Excel

#: Which sheets each refresh button rewrites, and what it asks Lazada for.
PARTS: dict[str, tuple[str, ...]] = {
    "all": ("orders", "tracking", "checkpoints", "settlements"),
    "orders": ("orders",),
    "tracking": ("tracking", "checkpoints"),
    "settlements": ("settlements",),
}
_STAGES: dict[str, tuple[bool, bool]] = {  # (traces, finance); orders always
    "all": (True, True),
    "orders": (False, False),
    "tracking": (True, False),
    "settlements": (False, True),
}


# ---- plumbing ----------------------------------------------------------------------------------
def _caller(book: Any) -> Any:
    if book is not None:
        return book
    import xlwings as xw

    return xw.Book.caller()


class StatusBar:
    """Progress in Excel's status bar, throttled; restores the bar and screen updating."""

    def __init__(self, book: Any) -> None:
        self.app = book.app
        self._last = 0.0
        self._stage = ""
        self._screen: bool | None = None

    def __enter__(self) -> StatusBar:
        try:
            self._screen = bool(self.app.screen_updating)
        except Exception:  # noqa: BLE001 - not every host exposes it
            self._screen = None
        return self

    def show(self, text: str, *, force: bool = True) -> None:
        now = time.monotonic()
        if not force and now - self._last < PROGRESS_EVERY_S:
            return
        self._last = now
        try:
            self.app.status_bar = PREFIX + text
        except Exception:  # noqa: BLE001 - progress is a courtesy, never a failure
            log.debug("status bar not available", exc_info=True)

    def progress(self, p: Any) -> None:
        """A :class:`~xl_lazada.sync.Progress` tick."""
        total = f" of {p.total:,}" if p.total else ""
        detail = f" — {p.message}" if p.message else ""
        new_stage = p.stage != self._stage
        self._stage = p.stage
        self.show(f"syncing {p.stage}: {p.done:,}{total}{detail}", force=new_stage)

    def quiet(self) -> None:
        """Stop repainting while many ranges are written."""
        with contextlib.suppress(Exception):
            self.app.screen_updating = False

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.app.status_bar = False  # xlwings: give the bar back to Excel
        if self._screen is not None:
            with contextlib.suppress(Exception):
                self.app.screen_updating = self._screen


class MissingSheet(XlLazadaError):
    """The workbook lacks one of the contract's sheets (renamed or deleted)."""


def _sheet(book: Any, name: str) -> Any:
    if name not in [s.name for s in book.sheets]:
        raise MissingSheet(
            f"this workbook has no '{name}' sheet — rename it back, or make a new workbook "
            "with xl-lazada workbook new"
        )
    return book.sheets[name]


#: Where the report buttons and the Settings button say their outcome (sheet, cell).
_REPORT_MESSAGE = ((contract.REPORT, contract.REPORT_MESSAGE),)
_SETTINGS_STATUS = ((contract.SETTINGS, contract.STATUS_CELL),)


class ProtectedSheet(XlLazadaError):
    """A sheet the button must rewrite is protected (Review > Protect Sheet)."""


def _protected(sheet: Any) -> bool:
    """Whether Excel protects the sheet's cells. Read through Windows COM
    (``Worksheet.ProtectContents``); where that is not available (macOS) it is taken as
    unprotected, and a write Excel refuses still ends as the button's status line."""
    try:
        return bool(sheet.api.ProtectContents)
    except Exception:  # noqa: BLE001 - no COM: unknown
        return False


def _unprotected(book: Any, names: Iterable[str]) -> None:
    """Refuse, before anything is fetched or written, when a sheet the button rewrites is
    protected: Excel would refuse the write part way, leaving some sheets refreshed and
    others not. (The headless refresh writes the file, and keeps the protection.)"""
    present = {s.name: s for s in book.sheets}
    locked = [n for n in names if n in present and _protected(present[n])]
    if locked:
        which, it = ", ".join(locked), "them" if len(locked) > 1 else "it"
        raise ProtectedSheet(
            f"the {which} sheet{'s are' if len(locked) > 1 else ' is'} protected — unprotect "
            f"{it} (Review > Unprotect Sheet), press the button again, then protect {it} again"
        )


def _put(book: Any, sheet_name: str, cell: str, text: str) -> bool:
    """Write a status line (as text); False when it could not be written (the sheet is
    missing, or Excel refused the write: a protected sheet)."""
    try:
        sheet = book.sheets[sheet_name]
        row, col = parse_cell(cell)
        sheet.range((row, col)).value = live_writer.text_cell(text)
    except Exception:  # noqa: BLE001 - the caller has the line: see _guarded
        log.debug("status line not written to %s", sheet_name, exc_info=True)
        return False
    return True


def _tell(book: Any, where: Sequence[tuple[str, str]], line: str, *, failed: bool = False) -> None:
    """Write ``line`` into the status cells ``where`` (sheet, cell); in a message box when
    none could take it (every one on a missing or protected sheet)."""
    written = [_put(book, sheet, cell, line) for sheet, cell in where]
    if not any(written):
        _alert(book, line, failed=failed)


def _alert(book: Any, line: str, *, failed: bool) -> None:
    """Show ``line`` in a message box (when no status cell could take it)."""
    try:
        book.app.alert(line, title="Lazada", mode="critical" if failed else "info")
    except Exception:  # noqa: BLE001 - no host to show it: the caller still returns it
        log.debug("no message box", exc_info=True)


def _guarded(
    book: Any, where: Sequence[tuple[str, str]], work: Callable[[Any, StatusBar], str]
) -> str:
    """Run ``work`` with a status bar; any exception becomes the line in the status cells."""
    try:
        book = _caller(book)
    except Exception as exc:  # noqa: BLE001 - no Excel to tell: the caller gets the line
        return f"no workbook: {error_text(exc)}"
    with StatusBar(book) as bar:
        try:
            line = work(book, bar)
        except Exception as exc:  # noqa: BLE001 - a macro must never hand Excel a traceback
            log.warning("macro failed: %s", type(exc).__name__)
            line = error_text(exc)
            _tell(book, where, line, failed=True)
    return line


# ---- settings and cache ----------------------------------------------------------------------
def read_settings(book: Any) -> tuple[RuleSettings, WorkbookSettings]:
    """The Settings sheet's values (keys in A, values in B from row 4); defaults if absent."""
    names = [s.name for s in book.sheets]
    if contract.SETTINGS not in names:
        return RuleSettings(), WorkbookSettings()
    sheet = book.sheets[contract.SETTINGS]
    first = contract.SETTINGS_FIRST_ROW
    rows = sheet.range((first, 1), (first + len(contract.SETTING_KEYS) + 40, 2)).value or []
    mapping = {k: v for k, v in rows if k not in (None, "")}
    return contract.settings_from_values(mapping)


def _cache_path() -> str:
    from ..cache.db import default_path

    return default_path()


# ---- refresh ---------------------------------------------------------------------------------
@dataclass
class SyncResult:
    shop: str | None = None
    summary: Any = None
    error: str = ""
    failed_stages: list[str] = field(default_factory=list)

    def as_of(self, fresh: str) -> str:
        """What each status line says about the data's age (``fresh``: "data as of …",
        :func:`~xl_lazada.workbook.as_of.freshness`)."""
        if self.error or self.failed_stages:
            why = self.error or f"the {', '.join(self.failed_stages)} stage failed"
            return f"sync failed: {why}; {fresh}"
        s = self.summary
        return f"{s.new_orders:,} new, {s.changed_orders:,} changed orders"


def _sync(
    which: str, rules: RuleSettings, settings: WorkbookSettings, bar: StatusBar
) -> SyncResult:
    from .. import profiles
    from ..cache import Cache
    from ..cli.sync_cmd import failed_stages
    from ..sync import SyncOptions, sync_shop

    result = SyncResult(shop=settings.shop)
    traces, finance = _STAGES[which]
    options = SyncOptions(lookback_days=settings.lookback_days, traces=traces, finance=finance)
    kwargs: dict[str, Any] = {} if settings.qps is None else {"default_qps": settings.qps}
    bar.show("connecting to Lazada…")
    try:
        with profiles.open_client(settings.shop, **kwargs) as opened:
            client: Any = opened  # the sync's SyncClient protocol, structurally
            result.shop = settings.shop or client.conn.shop
            with Cache.open(_cache_path()) as cache:
                result.summary = sync_shop(
                    client, cache, result.shop, options=options, progress=bar.progress
                )
        result.failed_stages = failed_stages(result.summary)
    except Exception as exc:  # noqa: BLE001 - the sheets still refresh from the cache
        result.error = error_text(exc)
    return result


def data_specs(
    cache: Any,
    parts: Iterable[str],
    *,
    shop: str | None,
    rules: RuleSettings,
    settings: WorkbookSettings,
    as_of: str,
    now: datetime | None = None,
) -> list[SheetSpec]:
    """The data sheets' SheetSpecs from the cache — built exactly as the headless refresh
    builds them (tables, Checkpoints bound, status line), for the live writer."""
    from ..tables import all_tables
    from ..workbook.refresh import sheetspecs_from_tables

    frames = all_tables(cache, shop=shop, now=now, settings=rules)
    specs, _ = sheetspecs_from_tables(frames, parts, settings=settings, now=now, as_of=as_of)
    return specs


def _refresh(book: Any, which: str) -> str:
    parts = PARTS[which]
    cells = [(contract.DATA_SHEETS[p].name, contract.STATUS_CELL) for p in parts]

    def work(book: Any, bar: StatusBar) -> str:
        from ..cache import Cache

        started = time.monotonic()
        _unprotected(book, [name for name, _ in cells])
        rules, settings = read_settings(book)
        sync = _sync(which, rules, settings, bar)
        path = _cache_path()
        if not os.path.exists(path):
            raise RuntimeError(f"nothing to show yet: {sync.error or 'the sync wrote nothing'}")
        bar.show("building the sheets…")
        with Cache.open(path, must_exist=True) as cache:
            fresh = freshness(cache, sync.shop)
            specs = data_specs(
                cache,
                parts,
                shop=settings.shop,
                rules=rules,
                settings=settings,
                as_of=sync.as_of(fresh),
            )
        bar.quiet()
        rows = []
        for spec in specs:
            bar.show(f"writing {spec.name}…")
            done = live_writer.render(book, spec)
            rows.append(f"{spec.name} {sum(done.table_rows.values()):,}")
        bar.show("recalculating LAZADA formulas…")
        formulas = recalc_formulas(book, skip=_OWNED)
        line = f"Refreshed {', '.join(rows)} rows in {time.monotonic() - started:.1f} s"
        line += f" — {sync.as_of(fresh)}"
        if formulas:
            line += f"; {formulas:,} formula cells recalculated"
        return line

    return _guarded(book, cells, work)


#: Columns the writer owns per sheet (``None``: all of it) — never scanned for formulas.
_OWNED: dict[str, int | None] = {
    **{s.name: len(s.columns) for s in contract.DATA_SHEETS.values()},
    contract.REPORT_OUTPUT: None,
    contract.XLWINGS_CONF: None,
}


def refresh_all(book: Any = None) -> str:
    """Sync everything and rewrite the Orders, Tracking, Checkpoints and Settlements sheets."""
    return _refresh(book, "all")


def refresh_orders(book: Any = None) -> str:
    """Sync orders (no tracking or finance calls) and rewrite the Orders sheet."""
    return _refresh(book, "orders")


def refresh_tracking(book: Any = None) -> str:
    """Sync orders and tracking; rewrite the Tracking and Checkpoints sheets."""
    return _refresh(book, "tracking")


def refresh_settlements(book: Any = None) -> str:
    """Sync orders and finance; rewrite the Settlements sheet."""
    return _refresh(book, "settlements")


# ---- recalculation of the formulas -------------------------------------------------------------
def _formula_grid(rng: Any) -> list[list[str]]:
    grid = rng.formula2 if hasattr(rng, "formula2") else rng.formula
    if isinstance(grid, str):
        return [[grid]]
    if grid and not isinstance(grid[0], list | tuple):
        return [list(grid)]
    return [list(r) for r in grid or []]


def recalc_formulas(book: Any, *, skip: dict[str, int | None] | None = None) -> int:
    """Make Excel recalculate every cell holding a ``LAZADA_`` formula; returns how many.

    One read of each sheet's formulas, then one call per vertical run of such cells:
    ``Range.Dirty`` on Windows (COM), else rewriting the same formulas (``formula2``, which
    keeps dynamic arrays spilling), then one ``calculate``. ``skip`` maps a sheet to the
    columns the writer owns there (not scanned: they hold only our values)."""
    skip = skip or {}
    total = 0
    for sheet in book.sheets:
        if sheet.name == contract.XLWINGS_CONF:
            continue
        if sheet.name in skip and skip[sheet.name] is None:
            continue  # a sheet the writer owns entirely holds no formulas of the seller's
        owned = skip.get(sheet.name) or 0
        used = sheet.used_range
        r0, c0 = used.row, used.column
        rows, cols = used.shape
        first_col = max(c0, owned + 1)
        if first_col > c0 + cols - 1:
            continue
        area = sheet.range((r0, first_col), (r0 + rows - 1, c0 + cols - 1))
        grid = _formula_grid(area)
        for j in range(len(grid[0]) if grid else 0):
            run_start: int | None = None
            for i in range(len(grid) + 1):
                hit = i < len(grid) and "LAZADA_" in str(grid[i][j]).upper()
                if hit and run_start is None:
                    run_start = i
                elif not hit and run_start is not None:
                    if _dirty(
                        sheet, r0 + run_start, first_col + j, r0 + i - 1, grid, run_start, i, j
                    ):
                        total += i - run_start
                    run_start = None
    if total:
        try:
            book.app.calculate()
        except Exception:  # noqa: BLE001
            log.debug("calculate not available", exc_info=True)
    return total


def _dirty(
    sheet: Any, r1: int, col: int, r2: int, grid: list[list[str]], i1: int, i2: int, j: int
) -> bool:
    """Mark one run of formula cells for recalculation; False when Excel refused (the
    seller's sheet is protected: its formulas keep their values until Excel recalculates
    them itself; the refresh is not failed for it)."""
    rng = sheet.range((r1, col), (r2, col)) if r2 > r1 else sheet.range((r1, col))
    try:
        rng.api.Dirty()
        return True
    except Exception:  # noqa: BLE001 - no COM (macOS, tests): rewrite the same formulas
        pass
    formulas = [[grid[i][j]] for i in range(i1, i2)]
    try:
        rng.formula2 = formulas if len(formulas) > 1 else formulas[0][0]
    except Exception:  # noqa: BLE001 - a protected sheet refuses the rewrite
        log.debug("formulas on %s not recalculated", getattr(sheet, "name", "?"), exc_info=True)
        return False
    return True


# ---- report ----------------------------------------------------------------------------------
def _report_refs(sheet: Any) -> list[Any]:
    used = sheet.used_range
    last = used.row + used.shape[0] - 1
    first = contract.REPORT_REFS_FIRST_ROW
    if last < first:
        return []
    col = parse_cell(contract.REPORT_REFS_COLUMN + "1")[1]
    values = sheet.range((first, col), (last, col)).value
    return list(values) if isinstance(values, list) else [values]


def build_report(book: Any = None) -> str:
    """Read the Report sheet's inputs and write the report onto the ``Report output`` sheet."""

    def work(book: Any, bar: StatusBar) -> str:
        from ..cache import Cache
        from ..report.inputs import ReportInputError
        from ..report.sheet import report_from_sheet

        sheet = _sheet(book, contract.REPORT)
        _unprotected(book, [contract.REPORT_OUTPUT])  # (Report: only its message cell)
        cell = lambda ref: sheet.range(parse_cell(ref)).value  # noqa: E731
        bar.show("reading the Report sheet…")
        values = {
            "date_from": cell(contract.REPORT_DATE_FROM),
            "date_to": cell(contract.REPORT_DATE_TO),
            "status": cell(contract.REPORT_STATUS),
            "shop": cell(contract.REPORT_SHOP),
            "refs": _report_refs(sheet),
        }
        rules, _ = read_settings(book)
        bar.show("building the report…")
        with Cache.open(_cache_path(), must_exist=True) as cache:
            try:
                _, spec, line = report_from_sheet(cache, values, settings=rules)
            except ReportInputError as exc:  # refused: only the message cell changes
                _tell(book, _REPORT_MESSAGE, str(exc))
                return str(exc)
        bar.quiet()
        live_writer.render(book, spec)
        _tell(book, _REPORT_MESSAGE, line)
        return line

    return _guarded(book, _REPORT_MESSAGE, work)


# ---- tracking numbers from a CSV ---------------------------------------------------------------
def _choose_csv(book: Any) -> str | None:
    """A file dialog: Excel's own on Windows, else Tk's; ``None`` if cancelled."""
    try:
        chosen = book.app.api.GetOpenFilename(
            "CSV files (*.csv;*.txt),*.csv;*.txt", 1, "Import tracking numbers"
        )
        return str(chosen) if chosen else None
    except Exception:  # noqa: BLE001 - not Windows COM: try Tk
        pass
    try:
        from tkinter import Tk, filedialog

        root = Tk()
        root.withdraw()
        root.attributes("-topmost", True)
        chosen = filedialog.askopenfilename(
            title="Import tracking numbers", filetypes=[("CSV", "*.csv *.txt"), ("All", "*")]
        )
        root.destroy()
        return chosen or None
    except Exception as exc:  # noqa: BLE001
        raise RuntimeError(
            "could not open a file dialog here — run: "
            "python -c \"import xl_lazada.excel.macros as m; m.import_tracking_csv(path='...')\""
        ) from exc


def import_tracking_csv(book: Any = None, path: str | os.PathLike[str] | None = None) -> str:
    """Put a CSV's tracking numbers into the Report sheet's input column (from A12 down).

    The CSV may have a header ("Tracking Number", as Seller Center exports) or not, be UTF-8
    with or without a BOM, and use commas or semicolons. The old list is replaced; numbers
    are written as text so no digit is lost."""

    def work(book: Any, bar: StatusBar) -> str:
        from ..report import read_tracking_csv

        chosen = os.fspath(path) if path is not None else _choose_csv(book)
        if not chosen:
            line = "No file chosen: nothing imported"
            _tell(book, _REPORT_MESSAGE, line)
            return line
        bar.show(f"reading {Path(chosen).name}…")
        refs = read_tracking_csv(chosen)
        unique = list(dict.fromkeys(refs))
        sheet = _sheet(book, contract.REPORT)
        first = contract.REPORT_REFS_FIRST_ROW
        col = parse_cell(contract.REPORT_REFS_COLUMN + "1")[1]
        old = _report_refs(sheet)
        if old:
            sheet.range((first, col), (first + len(old) - 1, col)).clear_contents()
        if len(unique) > contract.EXCEL_MAX_ROWS - first + 1:
            raise ValueError(f"{len(unique):,} numbers do not fit in one Excel column")
        target = sheet.range((first, col), (first + len(unique) - 1, col))
        target.number_format = contract.TEXT_FORMAT  # before the values: digits stay text
        target.value = [[live_writer.text_cell(r)] for r in unique]
        dropped = len(refs) - len(unique)
        line = f"Imported {len(unique):,} tracking numbers from {Path(chosen).name}"
        if dropped:
            line += f" ({dropped:,} repeated skipped)"
        line += " — press Build report"
        _tell(book, _REPORT_MESSAGE, line)
        return line

    return _guarded(book, _REPORT_MESSAGE, work)


# ---- connection check --------------------------------------------------------------------------
def check_connection(book: Any = None) -> str:
    """Settings button: which shop, is its login still good (one call to Lazada), and how
    fresh the cache is. The answer goes to ``Settings!A2``."""

    def work(book: Any, bar: StatusBar) -> str:
        from .. import profiles
        from ..cache import Cache
        from ..config import connection_from_env

        _, settings = read_settings(book)
        bar.show("checking the Lazada connection…")
        parts: list[str] = []
        env = connection_from_env()
        if env is not None:
            name = settings.shop or env.shop
            parts.append(f"shop {name} ({env.venture}, from XL_LAZADA_* variables)")
        else:
            prof = profiles.get_profile(settings.shop)
            name = prof.name
            parts.append(
                f"shop {name} ({prof.venture}); login valid until "
                f"{profiles.expiry_text(prof.refresh_expires_at or prof.token_expires_at)}"
            )
        try:
            with profiles.open_client(settings.shop) as client:
                seller = client.seller()
            parts.append(f"Lazada answered: {seller.name or 'seller ' + str(seller.seller_id)}")
        except Exception as exc:  # noqa: BLE001 - report it, then still say how old the cache is
            parts.append(f"Lazada: {error_text(exc)}")
        path = _cache_path()
        if os.path.exists(path):
            with Cache.open(path, must_exist=True) as cache:
                last = data_as_of(cache, name)
                fresh = (
                    f"cache synced {last}" if last != NEVER else f"cache: {freshness(cache, name)}"
                )
            parts.append(fresh)
        else:
            parts.append("no cache yet — press Refresh all")
        line = "; ".join(parts)
        _tell(book, _SETTINGS_STATUS, line)
        return line

    return _guarded(book, _SETTINGS_STATUS, work)
