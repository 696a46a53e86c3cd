"""The standalone report workbook (XlsxWriter): a summary page, the parcel table, the days.

Sheets: ``Report`` (header, needs attention, summary, status counts and both charts),
``Parcels`` (one Excel Table with filters, frozen header, formats and red/amber/green
conditional formats) and ``Daily`` (the per-day series the chart draws). Every sheet prints
landscape, one page wide, the table's header row repeated on each page.

Text from Lazada is written with ``write_string`` (the workbook is also told not to turn
strings into formulas or links), so ``=HYPERLINK(...)`` in a buyer's remark stays text; ids
and tracking numbers are text too.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import pandas as pd
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ..outfiles import keep_mode, new_temp
from ..workbook.contract import money_format
from .build import FLAG_AT_RISK, URGENT_FLAGS, Report, ReportColumn
from .layout import Cell, Line, summary_lines

TABLE_NAME = "ReportParcels"
SUMMARY_SHEET = "Report"
TABLE_SHEET = "Parcels"
DAILY_SHEET = "Daily"
#: First row (0-based) of the parcel table's header on its sheet.
TABLE_HEADER_ROW = 3
_SUMMARY_WIDTHS = (36, 32, 58)
_CHART_ROWS = 18
#: Summary line styles that format every cell of the line alike.
_LINE_STYLES = frozenset(
    {"title", "subtitle", "section", "action", "note", "header", "urgent", "warning", "ok"}
)

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
RED = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
AMBER = {"bg_color": "#FFEB9C", "font_color": "#9C5700"}
GREEN = {"bg_color": "#C6EFCE", "font_color": "#006100"}


def write_xlsx(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the report to ``path`` (replaced only once the new file is complete)."""
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = new_temp(folder, ".report-", ".xlsx")
    os.close(fd)
    keep_mode(tmp, target)
    try:
        wb = Workbook(
            tmp,
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "default_date_format": DATETIME_FORMAT,
            },
        )
        _Writer(wb, report).write()
        wb.close()
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class _Writer:
    def __init__(self, wb: Workbook, report: Report) -> None:
        self.wb = wb
        self.report = report
        self.money = money_format(report.currencies)
        f = wb.add_format
        base = {"font_name": "Calibri", "font_size": 10, "valign": "top"}
        self.fmt = {
            "title": f({**base, "bold": True, "font_size": 16, "font_color": "#0F146D"}),
            "subtitle": f({**base, "italic": True, "font_color": "#555555"}),
            "label": f({**base, "bold": True}),
            "section": f(
                {**base, "bold": True, "font_size": 13, "font_color": "#0F146D", "bottom": 2}
            ),
            "urgent": f({**base, "bold": True, "align": "left", **RED}),
            "warning": f({**base, "bold": True, "align": "left", **AMBER}),
            "ok": f({**base, "bold": True, "align": "left", **GREEN}),
            "action": f({**base, "italic": True, "text_wrap": False}),
            "header": f({**base, "bold": True, "bg_color": "#DDE3F0", "bottom": 1}),
            "item": f(base),
            "note": f({**base, "italic": True, "font_color": "#555555"}),
            "text": f(base),
            "id": f({**base, "num_format": "@"}),
            "count": f({**base, "num_format": "#,##0", "align": "left"}),
            "percent": f({**base, "num_format": "0.0%", "align": "left"}),
            "days": f({**base, "num_format": "0.0", "align": "left"}),
            "money": f({**base, "num_format": self.money, "align": "left"}),
            "datetime": f({**base, "num_format": DATETIME_FORMAT, "align": "left"}),
            "date": f({**base, "num_format": DATE_FORMAT}),
        }
        cell = {"font_name": "Calibri", "font_size": 8, "valign": "vcenter"}
        self.cell_fmt = {
            "text": f({**cell, "indent": 1}),
            "id": f({**cell, "num_format": "@"}),
            "datetime": f({**cell, "num_format": DATETIME_FORMAT, "align": "center"}),
            "days": f({**cell, "num_format": "0.0", "align": "center"}),
            "money": f({**cell, "num_format": self.money}),
        }
        self.header_fmt = f(
            {
                **cell,
                "bold": True,
                "text_wrap": True,
                "font_color": "#FFFFFF",
                "bg_color": "#305496",
                "align": "center",
            }
        )

    def write(self) -> None:
        summary = self.wb.add_worksheet(SUMMARY_SHEET)
        parcels = self.wb.add_worksheet(TABLE_SHEET)
        daily = self.wb.add_worksheet(DAILY_SHEET)
        self._daily(daily)
        self._summary(summary)
        self._table(parcels)
        self.wb.set_properties(
            {"title": self.report.title, "subject": "Lazada tracking report", "author": "xl-lazada"}
        )

    # ---- summary page ----------------------------------------------------------------
    def _summary(self, ws: Worksheet) -> None:
        for i, width in enumerate(_SUMMARY_WIDTHS):
            ws.set_column(i, i, width)
        ws.hide_gridlines(2)
        _print_setup(ws, self.report, repeat=None)
        row = 0
        status_rows: list[int] = []
        chart_row: int | None = None
        breaks: list[int] = []
        for line in summary_lines(self.report):
            if line.anchor == "summary" and row > 0:
                breaks.append(row)  # the summary and its charts start a printed page
            if line.anchor == "status_header":
                chart_row, row = row, row + _CHART_ROWS  # charts above their numbers
            self._line(ws, row, line)
            if line.anchor == "status":
                status_rows.append(row)
            row += 1
        if status_rows and chart_row is not None:
            self._charts(ws, chart_row, status_rows)
        else:  # nothing selected: say so where the charts would be
            self._line(ws, row + 1, Line((Cell("No orders match this selection."),), "note"))
        ws.set_h_pagebreaks(breaks)
        ws.activate()

    def _line(self, ws: Worksheet, row: int, line: Line) -> None:
        if line.style == "blank":
            return
        style = line.style
        for col, cell in enumerate(line.cells):
            kind = cell.kind
            if style in _LINE_STYLES:
                fmt = self.fmt[style]
            elif col == 0 and style == "label":
                fmt = self.fmt["label"]
            else:
                fmt = self.fmt.get(kind, self.fmt["text"])
            _write(ws, row, col, cell.value, fmt)
        if style in ("urgent", "warning", "ok") and len(line.cells) < 3:
            for col in range(len(line.cells), 3):
                ws.write_blank(row, col, None, self.fmt[style])
        if style == "section":
            for col in range(len(line.cells), 3):
                ws.write_blank(row, col, None, self.fmt["section"])

    def _charts(self, ws: Worksheet, row: int, status_rows: list[int]) -> None:
        first, last = status_rows[0], status_rows[-1]
        by_status = self.wb.add_chart({"type": "bar"})
        by_status.add_series(
            {
                "name": "Parcels",
                "categories": [SUMMARY_SHEET, first, 0, last, 0],
                "values": [SUMMARY_SHEET, first, 2, last, 2],
                "fill": {"color": "#4472C4"},
                "data_labels": {"value": True},
            }
        )
        by_status.set_title({"name": "Parcels by status", "name_font": {"size": 11}})
        by_status.set_legend({"none": True})
        by_status.set_y_axis({"reverse": True})
        by_status.set_size({"width": 430, "height": 330})
        ws.insert_chart(row, 0, by_status, {"x_offset": 2, "y_offset": 4})

        n = len(self.report.daily)
        if n:
            per_day = self.wb.add_chart({"type": "line"})
            colours = {
                "Orders created": "#A5A5A5",
                "Ready to ship": "#4472C4",
                "Delivered": "#70AD47",
            }
            for col, name in enumerate(("Orders created", "Ready to ship", "Delivered"), start=1):
                per_day.add_series(
                    {
                        "name": [DAILY_SHEET, 0, col],
                        "categories": [DAILY_SHEET, 1, 0, n, 0],
                        "values": [DAILY_SHEET, 1, col, n, col],
                        "line": {"color": colours[name], "width": 2},
                    }
                )
            per_day.set_title(
                {"name": "Shipments and deliveries per day", "name_font": {"size": 11}}
            )
            per_day.set_x_axis(
                {"date_axis": True, "num_format": "dd mmm", "num_font": {"rotation": -45}}
            )
            per_day.set_y_axis({"min": 0, "major_gridlines": {"visible": True}})
            per_day.set_legend({"position": "bottom"})
            per_day.set_size({"width": 500, "height": 330})
            ws.insert_chart(row, 1, per_day, {"x_offset": 200, "y_offset": 4})

    # ---- parcel table ----------------------------------------------------------------
    def _table(self, ws: Worksheet) -> None:
        report = self.report
        columns = report.visible_columns()
        frame = report.table
        n = len(frame)
        top = TABLE_HEADER_ROW
        ws.write_string(0, 0, f"Parcels — {report.period}", self.fmt["title"])
        ws.write_string(
            1,
            0,
            "Red: act now (Delayed, not at the sorting centre, stuck, delivered but unpaid) ·"
            " amber: at risk of missing the 48 h rule · green: delivered."
            f" Times in {report.timezone}. Settlement net is per order (repeated on each"
            " parcel of the order).",
            self.fmt["note"],
        )
        last_row = top + max(n, 1)
        ws.add_table(
            top,
            0,
            last_row,
            len(columns) - 1,
            {
                "name": TABLE_NAME,
                "style": "Table Style Light 9",
                "columns": [
                    {"header": _header(c, report), "header_format": self.header_fmt}
                    for c in columns
                ],
            },
        )
        for j, col in enumerate(columns):
            fmt = self.cell_fmt["money" if col.kind == "money" else col.kind]
            ws.set_column(j, j, col.width, fmt)
            _write_column(ws, top + 1, j, frame[col.name], fmt)
        ws.set_row(top, 26)
        ws.freeze_panes(top + 1, 2)
        self._conditional(ws, columns, top + 1, last_row)
        _print_setup(ws, report, repeat=top)

    def _conditional(
        self, ws: Worksheet, columns: list[ReportColumn], first: int, last: int
    ) -> None:
        names = [c.name for c in columns]
        flags = f"${xl_col_to_name(names.index('Flags'))}{first + 1}"
        status = f"${xl_col_to_name(names.index('Status'))}{first + 1}"
        area = (first, 0, last, len(columns) - 1)

        def has(word: str) -> str:
            return f'ISNUMBER(SEARCH("{word}",{flags}))'

        urgent = "=OR(" + ",".join(has(w) for w in URGENT_FLAGS) + ")"
        rules = (
            (urgent, RED),
            (f"={has(FLAG_AT_RISK)}", AMBER),
            (f'={status}="Delivered"', GREEN),
        )
        for formula, colours in rules:
            ws.conditional_format(
                *area,
                {
                    "type": "formula",
                    "criteria": formula,
                    "format": self.wb.add_format(colours),
                    "stop_if_true": True,
                },
            )

    # ---- per-day series --------------------------------------------------------------
    def _daily(self, ws: Worksheet) -> None:
        daily = self.report.daily
        headers = list(daily.columns)
        for j, name in enumerate(headers):
            ws.write_string(0, j, name, self.fmt["header"])
            ws.set_column(j, j, 14 if j else 12)
        for i, row in enumerate(daily.itertuples(index=False), start=1):
            ws.write_datetime(i, 0, row[0].to_pydatetime(), self.fmt["date"])
            for j, value in enumerate(row[1:], start=1):
                ws.write_number(i, j, int(value), self.fmt["count"])
        ws.freeze_panes(1, 0)
        _print_setup(ws, self.report, repeat=0)


def _header(col: ReportColumn, report: Report) -> str:
    if col.kind == "money" and len(report.currencies) == 1:
        return f"{col.name} ({report.currencies[0]})"
    return col.name


_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def _write_column(ws: Worksheet, first_row: int, col: int, series: pd.Series, fmt: Any) -> None:
    """One table column. Blank cells are left unwritten (the column carries the format);
    datetimes go in as Excel serial numbers (what a date cell holds), computed in one go."""
    present = series.notna().to_numpy()
    if series.dtype.kind == "M":
        serials = ((series - _EXCEL_EPOCH) / pd.Timedelta(days=1)).to_numpy()
        for i in present.nonzero()[0]:
            ws.write_number(first_row + int(i), col, float(serials[i]), fmt)
    elif series.dtype.kind == "f":
        values = series.to_numpy()
        for i in present.nonzero()[0]:
            ws.write_number(first_row + int(i), col, float(values[i]), fmt)
    else:  # ids and text: always strings, so nothing Lazada sent becomes a formula
        texts = series.astype(object).to_numpy()
        for i in present.nonzero()[0]:
            ws.write_string(first_row + int(i), col, str(texts[i]), fmt)


def _write(ws: Worksheet, row: int, col: int, value: Any, fmt: Any) -> None:
    if value is None or (isinstance(value, float) and value != value):
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value, fmt)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _print_setup(ws: Worksheet, report: Report, *, repeat: int | None) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4; Excel switches to Letter where that is the default printer size
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    if repeat is not None:
        ws.repeat_rows(repeat)
    title = report.title.replace("&", "&&")
    period = report.period.replace("&", "&&")
    # A space after the size code: "&8" followed by a digit would read as a bigger size.
    ws.set_header(f"&L&8 {title}&R&8 {period}")
    ws.set_footer("&L&8Generated by xl-lazada&R&8Page &P of &N")
