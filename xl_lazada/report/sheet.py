"""The report as the workbook's ``Report output`` sheet (a writer-neutral :class:`SheetSpec`).

Same content as the standalone file, on one sheet: the summary lines on top (label in A,
value in D, detail in F, so text runs over the empty cells between them and the parcel
table's narrow columns stay narrow), then the parcel table as the Excel Table
``LazadaReport``. SheetSpec has no charts: the charts are in the standalone report
(``xl-lazada report --out``); the status counts they draw are on this sheet as numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..rules.settings import RuleSettings
from ..workbook.contract import REPORT_OUTPUT, money_format
from ..workbook.sheetspec import (
    Block,
    ConditionalFormat,
    PrintSetup,
    SheetSpec,
    Table,
    cell_ref,
    column_letter,
)
from .build import FLAG_AT_RISK, NOT_IN_REPORT, URGENT_FLAGS, Report, build_report
from .inputs import ReportInputs, parse_report_inputs
from .layout import Cell, summary_lines
from .xlsx import DATE_FORMAT, DATETIME_FORMAT

TABLE_NAME = "LazadaReport"
#: Sheet columns of a summary line's three cells.
SUMMARY_COLUMNS = (1, 4, 6)
#: Widths are for the sheet's 11 pt font (the standalone table uses 8 pt).
WIDTH_SCALE = 1.25

_STYLE = {
    "title": "title",
    "subtitle": "status",
    "label": None,
    "section": "title",
    "urgent": "overdue",
    "warning": "at_risk",
    "ok": "delivered",
    "action": "note",
    "header": "header",
    "item": None,
    "note": "note",
}


def _formats(report: Report) -> dict[str, str | None]:
    return {
        "text": None,
        "id": "@",
        "count": "#,##0",
        "percent": "0.0%",
        "days": "0.0",
        "money": money_format(report.currencies),
        "datetime": DATETIME_FORMAT,
        "date": DATE_FORMAT,
    }


def report_sheetspec(report: Report) -> SheetSpec:
    """The ``Report output`` sheet for ``report``."""
    spec = SheetSpec(name=REPORT_OUTPUT)
    formats = _formats(report)
    row = 1
    for line in summary_lines(report, table_where="the table below"):
        if line.style != "blank":
            style = _STYLE.get(line.style)
            for cell, col in zip(line.cells, SUMMARY_COLUMNS, strict=False):
                cell_style = "label" if (col == 1 and line.style == "label") else style
                spec.blocks.append(
                    Block(
                        row,
                        col,
                        [[cell.value]],
                        style=cell_style,
                        number_formats=[_fmt(cell, formats)],
                    )
                )
        row += 1

    columns = report.visible_columns()
    header_row = row + 2
    spec.cell(header_row - 1, 1, f"Parcels — {report.period}", "title")
    frame = report.table[[c.name for c in columns]]
    spec.blocks.append(
        Block(
            header_row,
            1,
            frame,
            header=True,
            number_formats=[formats["money" if c.kind == "money" else c.kind] for c in columns],
        )
    )
    for i, c in enumerate(columns, start=1):
        spec.widths[i] = round(c.width * WIDTH_SCALE, 1)
    spec.widths[1] = max(spec.widths[1], 18.0)
    # The summary's values sit in D: wide enough for a date and time, never "####".
    spec.widths[SUMMARY_COLUMNS[1]] = max(spec.widths[SUMMARY_COLUMNS[1]], 17.0)
    n = len(frame)
    spec.tables.append(Table(TABLE_NAME, header_row, 1, tuple(frame.columns), n))
    first, last = header_row + 1, header_row + max(n, 1)
    names = [c.name for c in columns]
    flags = f"${column_letter(names.index('Flags') + 1)}{first}"
    status = f"${column_letter(names.index('Status') + 1)}{first}"
    area = f"{cell_ref(first, 1)}:{cell_ref(last, len(columns))}"

    def has(word: str) -> str:
        return f'ISNUMBER(SEARCH("{word}",{flags}))'

    spec.conditional_formats += [
        ConditionalFormat(
            area, "OR(" + ",".join(has(w) for w in URGENT_FLAGS) + ")", "overdue", stop=True
        ),
        ConditionalFormat(area, has(FLAG_AT_RISK), "at_risk", stop=True),
        ConditionalFormat(area, f'{status}="Delivered"', "delivered", stop=True),
    ]
    spec.print_setup = PrintSetup(
        landscape=True, fit_to_width=True, repeat_rows=(header_row, header_row)
    )
    return spec


def _fmt(cell: Cell, formats: dict[str, str | None]) -> str | None:
    return formats.get(cell.kind)


def report_message(report: Report) -> str:
    """The one line for the Report sheet's message cell after a successful build."""
    from .build import attention_count

    table = report.table
    orders = table[["Shop", "Order id"]].drop_duplicates().shape[0]
    parcels = int(table["Package id"].notna().sum())
    text = (
        f"Built {report.generated_local:%Y-%m-%d %H:%M}: {_count(orders, 'order')},"
        f" {_count(parcels, 'parcel')}, {attention_count(report):,} need attention"
    )
    if report.inputs.has_refs:
        text += f", {_count(len(report.not_found), 'number')} {NOT_IN_REPORT}"
    return text + f" — see {REPORT_OUTPUT}"


def report_from_sheet(
    cache: Any,
    values: Mapping[str, Any],
    *,
    now: datetime | None = None,
    settings: RuleSettings | None = None,
) -> tuple[Report, SheetSpec, str]:
    """The Report sheet's raw input values (``date_from``, ``date_to``, ``status``, ``shop``,
    ``refs``: what the workbook reader returns) → the report, its ``Report output`` sheet and
    the message for the input sheet. Raises :class:`ReportInputError` (one line for the
    message cell; the caller then changes nothing else)."""
    inputs = parse_report_inputs(
        values.get("date_from"),
        values.get("date_to"),
        values.get("status"),
        values.get("shop"),
        values.get("refs") or None,
    )
    report = build_report(cache, inputs, now=now, settings=settings)
    return report, report_sheetspec(report), report_message(report)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def report_input_sheet(inputs: ReportInputs, message: str = "") -> SheetSpec:
    """The workbook's ``Report`` sheet with these inputs (and the message) filled in: what
    a seller would have typed to get this report (used by the demo workbook)."""
    values = {
        "date_from": inputs.date_from,
        "date_to": inputs.date_to,
        "status": inputs.status,
        "shop": inputs.shop,
        "refs": list(inputs.refs),
    }
    return report_input_values_sheet(values, message)


def report_input_values_sheet(values: Mapping[str, Any], message: str = "") -> SheetSpec:
    """The ``Report`` sheet holding the input values as the workbook reader returned them
    (``date_from``, ``date_to``, ``status``, ``shop``, ``refs``) and ``message`` in its
    message cell: a headless refresh writes the seller's inputs back unchanged beside the
    outcome (also when they were refused)."""
    from ..workbook.contract import (
        REPORT_DATE_FROM,
        REPORT_DATE_TO,
        REPORT_MESSAGE,
        REPORT_REFS_FIRST_ROW,
        REPORT_SHOP,
        REPORT_STATUS,
    )
    from ..workbook.sheets import report_input_sheetspec
    from ..workbook.sheetspec import parse_cell

    spec = report_input_sheetspec()
    cells: dict[tuple[int, int], tuple[Any, str | None, str | None]] = {
        parse_cell(REPORT_DATE_FROM): (values.get("date_from"), "input", DATE_FORMAT),
        parse_cell(REPORT_DATE_TO): (values.get("date_to"), "input", DATE_FORMAT),
        parse_cell(REPORT_STATUS): (values.get("status"), "input", None),
        parse_cell(REPORT_SHOP): (values.get("shop"), "input", None),
        parse_cell(REPORT_MESSAGE): (message or None, "status", None),
    }
    for i, ref in enumerate(values.get("refs") or ()):
        cells[(REPORT_REFS_FIRST_ROW + i, 1)] = (ref, None, "@")
    spec.blocks = [b for b in spec.blocks if (b.row, b.col) not in cells]
    for (row, col), (value, style, fmt) in sorted(cells.items()):
        spec.blocks.append(Block(row, col, [[value]], style=style, number_formats=[fmt]))
    return spec


def has_report_inputs(values: Mapping[str, Any]) -> bool:
    """Whether the seller asked for a report at all (a date or a pasted number)."""
    refs = [r for r in values.get("refs") or () if r is not None and str(r).strip()]
    return bool(refs) or any(values.get(k) not in (None, "") for k in ("date_from", "date_to"))


def last_days(cache: Any, now: datetime, days: int = 30, shop: str | None = None) -> ReportInputs:
    """The inputs for the last ``days`` days up to today in the (first) shop's timezone."""
    from datetime import UTC, timedelta

    shops = [s for s in cache.shops() if shop is None or s.name == shop]
    today = now.astimezone(shops[0].tz if shops else UTC).date()
    return parse_report_inputs(today - timedelta(days=days - 1), today, None, shop, None)
