"""Tables and settings → :class:`SheetSpec` for the workbook's own sheets.

Every writer renders these, so the layout lives in one place: the data sheets (title,
status line, one Excel Table with formats, widths, frozen header and status colours), the
Report input sheet, the Settings sheet, the ``xlwings.conf`` sheet and an empty
``Report output`` sheet (the report fills it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from ..rules import sorting, status
from ..rules.settings import RuleSettings
from ..tables import TABLES
from ..tables.columns import BOOL, empty_frame
from .as_of import stamp
from .contract import (
    DATA_SHEETS,
    FIRST_DATA_ROW,
    HEADER_ROW,
    MAX_DATA_ROWS,
    MONEY_FORMAT,
    REPORT,
    REPORT_LABELS,
    REPORT_MESSAGE,
    REPORT_OUTPUT,
    REPORT_REFS_HEADER,
    REPORT_REFS_HEADER_TEXT,
    SETTINGS,
    SETTINGS_FIRST_ROW,
    SETTINGS_HEADER_ROW,
    SETTINGS_HEADERS,
    STATUS_ROW,
    TEXT_FORMAT,
    TITLE_ROW,
    XLWINGS_CONF,
    DataSheet,
    WorkbookSettings,
    money_format,
    settings_rows,
)
from .sheetspec import (
    Block,
    ConditionalFormat,
    PrintSetup,
    SheetSpec,
    Table,
    cell_ref,
    column_letter,
    parse_cell,
)

# Value → colour rules per column (exact cell values; TRUE flags).
_VALUE_COLOURS: dict[str, list[tuple[str, str]]] = {
    "Status": [(status.DELAYED, "overdue"), (status.DELIVERED, "delivered")],
    "Order status": [(status.DELAYED, "overdue"), (status.DELIVERED, "delivered")],
    "Sorting centre": [(sorting.ARRIVED_LATE, "overdue"), (sorting.OVERDUE, "overdue")],
    "State": [("Paid", "delivered"), ("Unpaid", "at_risk")],
    "Settlement state": [("Paid", "delivered"), ("Unpaid", "at_risk")],
}
# A TRUE flag paints the cell that explains it (flag → (painted column, style)). The flag
# cell itself is not painted: LibreOffice 7.4 crashes printing a fit-to-page sheet whose
# conditional format matches boolean cells.
_FLAG_COLOURS: dict[str, list[tuple[str, str]]] = {
    "At risk": [("RTS deadline", "at_risk"), ("Hours left", "at_risk")],
    "RTS late": [("RTS deadline", "overdue"), ("Ready to ship at", "overdue")],
    "Stuck": [("Last checkpoint time", "overdue"), ("Last checkpoint", "overdue")],
    "Sorting centre late": [
        ("Sorting centre arrival", "overdue"),
        ("Days to sorting centre", "overdue"),
    ],
    "Unsettled": [("Delivered", "overdue"), ("Days since delivery", "overdue")],
}


def status_line(rows: int, refreshed_at: datetime, *, note: str = "", as_of: str = "") -> str:
    """The A2 line: ``Refreshed 2026-12-02 08:00 UTC+08:00 — 1,234 rows`` (+ a note); the
    zone is named when ``refreshed_at`` is aware (the computer's clock may differ from the
    shop's, in which the sheet's times are)."""
    text = f"Refreshed {stamp(refreshed_at)} — {rows:,} row{'s' * (rows != 1)}"
    if as_of:
        text += f" — {as_of}"
    if note:
        text += f" — {note}"
    return text


def data_sheetspec(
    key: str, frame: pd.DataFrame | None = None, *, status_text: str = "", title: str = ""
) -> SheetSpec:
    """One data sheet from its table (``None``: empty table with headers).

    Frames longer than Excel can hold are cut to the first :data:`MAX_DATA_ROWS` rows and the
    status line says so (callers bound their data first; this is the last guard)."""
    sheet: DataSheet = DATA_SHEETS[key]
    if frame is None:
        frame = empty_frame(TABLES[key])
    if list(frame.columns) != sheet.headers:
        raise ValueError(f"{sheet.name}: columns differ from the contract")
    if len(frame) > MAX_DATA_ROWS:
        status_text = (status_text + " — " if status_text else "") + (
            f"only the first {MAX_DATA_ROWS:,} of {len(frame):,} rows fit in Excel"
        )
        frame = frame.iloc[:MAX_DATA_ROWS]
    n = len(frame)
    ncols = len(sheet.columns)
    formats = [c.number_format for c in sheet.columns]
    if "Currency" in frame.columns:  # a dong or rupiah shop's amounts without ".00"
        money = money_format(frame["Currency"].unique())
        formats = [money if f == MONEY_FORMAT else f for f in formats]
    spec = SheetSpec(name=sheet.name, owned_columns=ncols, freeze=(FIRST_DATA_ROW, 1))
    spec.cell(TITLE_ROW, 1, title or sheet.title, "title")
    spec.cell(STATUS_ROW, 1, status_text or "Not refreshed yet", "status")
    spec.blocks.append(
        Block(
            HEADER_ROW,
            1,
            frame,
            header=True,
            number_formats=formats,
        )
    )
    for i, c in enumerate(sheet.columns, start=1):
        spec.widths[i] = c.width
        spec.column_formats[i] = formats[i - 1]
    spec.tables.append(Table(sheet.table_name, HEADER_ROW, 1, tuple(sheet.headers), n))
    last_row = FIRST_DATA_ROW + max(n, 1) - 1
    spec.conditional_formats.extend(_status_colours(sheet, last_row))
    spec.print_setup = PrintSetup(landscape=True, fit_to_width=True, repeat_rows=(HEADER_ROW,) * 2)
    return spec


def _status_colours(sheet: DataSheet, last_row: int) -> list[ConditionalFormat]:
    """Status colours: red for late/stuck/overdue, amber for at risk, green for delivered."""
    letters = {c.name: column_letter(i) for i, c in enumerate(sheet.columns, start=1)}

    def area(name: str) -> str:
        return f"{letters[name]}{FIRST_DATA_ROW}:{letters[name]}{last_row}"

    rules: list[ConditionalFormat] = []
    for c in sheet.columns:
        first = f"${letters[c.name]}{FIRST_DATA_ROW}"
        for value, style in _VALUE_COLOURS.get(c.name, []):
            rules.append(ConditionalFormat(area(c.name), f'{first}="{value}"', style))
        if c.dtype == BOOL:
            for painted, style in _FLAG_COLOURS.get(c.name, []):
                if painted in letters:
                    rules.append(ConditionalFormat(area(painted), f"{first}=TRUE", style))
        if c.name == "Hours left":
            rules.append(
                ConditionalFormat(area(c.name), "0", "overdue", kind="cellIs", operator="lessThan")
            )
    # The first matching rule wins a cell: red before amber before green.
    rank = {"overdue": 0, "at_risk": 1, "delivered": 2}
    return sorted(rules, key=lambda r: rank.get(r.style, 3))


def bound_checkpoints(
    checkpoints: pd.DataFrame,
    tracking: pd.DataFrame | None,
    *,
    days: int,
    max_rows: int,
    now: datetime | None = None,
) -> tuple[pd.DataFrame, str]:
    """Keep the Checkpoints sheet inside Excel: events of parcels still moving (not
    ``Final`` in the Tracking table) plus events of the last ``days`` days, at most
    ``max_rows`` of them (the newest). Returns the frame and a note for the status line
    ("" when nothing was left out)."""
    total = len(checkpoints)
    if total == 0:
        return checkpoints, ""
    times = checkpoints["Time"]
    now = now or datetime.now()
    cutoff = pd.Timestamp(now.replace(tzinfo=None) - timedelta(days=days))
    keep = (times >= cutoff).fillna(False).to_numpy(dtype=bool, copy=True)
    if tracking is not None and len(tracking):
        final = tracking["Final"].fillna(False).astype(bool)
        live_ids = set(tracking.loc[~final, "Package id"].dropna().astype(str))
        live = checkpoints["Package id"].isin(live_ids).fillna(False).to_numpy(dtype=bool)
        keep = keep | live
    bounded = checkpoints.loc[keep]
    if len(bounded) > max_rows:
        newest = bounded["Time"].sort_values(ascending=False, na_position="last", kind="stable")
        bounded = bounded.loc[newest.index[:max_rows].sort_values()]
    if len(bounded) == total:
        return checkpoints, ""
    return bounded, (
        f"{len(bounded):,} of {total:,} checkpoints: parcels still moving and the last "
        f"{days} days"
        + (f", newest {max_rows:,}" if len(bounded) == max_rows else "")
        + " (see Settings)"
    )


def settings_sheetspec(
    rules: RuleSettings | None = None, book: WorkbookSettings | None = None
) -> SheetSpec:
    """Keys in A, values in B (the seller edits these), meanings in C, from row 4."""
    spec = SheetSpec(name=SETTINGS, freeze=(SETTINGS_FIRST_ROW, 1))
    spec.cell(
        1, 1, "Lazada settings (no passwords or tokens here: those stay in the keyring)", "title"
    )
    spec.blocks.append(Block(SETTINGS_HEADER_ROW, 1, [list(SETTINGS_HEADERS)], style="header"))
    rows = settings_rows(rules, book)
    spec.blocks.append(Block(SETTINGS_FIRST_ROW, 1, [[k] for k, _, _ in rows], style="label"))
    spec.blocks.append(Block(SETTINGS_FIRST_ROW, 2, [[v] for _, v, _ in rows], style="input"))
    spec.blocks.append(Block(SETTINGS_FIRST_ROW, 3, [[m] for _, _, m in rows], style="note"))
    spec.widths.update({1: 24.0, 2: 16.0, 3: 80.0})
    return spec


def report_input_sheetspec() -> SheetSpec:
    """The Report sheet: labelled input cells and a column for pasted tracking numbers."""
    spec = SheetSpec(name=REPORT)
    spec.cell(1, 1, "Lazada report", "title")
    for ref, label in REPORT_LABELS.items():
        row, col = parse_cell(ref)
        spec.cell(row, col, label, "note" if ref == "A7" else "label")
    for ref in ("B3", "B4", "B5", "B6"):
        row, col = parse_cell(ref)
        spec.cell(row, col, None, "input")
    row, col = parse_cell(REPORT_MESSAGE)
    spec.cell(row, col, None, "status")
    row, col = parse_cell(REPORT_REFS_HEADER)
    spec.cell(row, col, REPORT_REFS_HEADER_TEXT, "header")
    spec.widths.update({1: 34.0, 2: 22.0})
    spec.column_formats[1] = TEXT_FORMAT  # pasted tracking numbers stay text
    spec.column_formats[2] = "yyyy-mm-dd"
    return spec


def report_output_placeholder() -> SheetSpec:
    spec = SheetSpec(name=REPORT_OUTPUT)
    spec.cell(1, 1, "Lazada report", "title")
    spec.cell(2, 1, "Fill in the Report sheet and press Build report on the Lazada tab.", "status")
    return spec


def xlwings_conf_sheetspec(conf: tuple[tuple[str, str], ...]) -> SheetSpec:
    """Keys in A from A1 without gaps, values in B (what xlwings reads)."""
    spec = SheetSpec(name=XLWINGS_CONF)
    spec.blocks.append(Block(1, 1, [[k, v] for k, v in conf]))
    spec.widths.update({1: 20.0, 2: 40.0})
    return spec


__all__ = [
    "bound_checkpoints",
    "cell_ref",
    "data_sheetspec",
    "report_input_sheetspec",
    "report_output_placeholder",
    "settings_sheetspec",
    "status_line",
    "xlwings_conf_sheetspec",
]
