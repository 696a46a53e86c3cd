"""Render a :class:`~xl_lazada.workbook.sheetspec.SheetSpec` onto a live Excel sheet (xlwings).

The ribbon's macros use this; ``xl-lazada refresh`` renders the same SheetSpecs into the
file without Excel. Only the writer's own region changes: on a data sheet, the old Excel
Table's rows in the table's columns are cleared and rewritten and the table is resized —
the seller's columns to the right, their own table columns, and everything else on the
sheet stay (``SheetSpec.owned_columns``); a sheet the writer owns entirely
(``owned_columns=None``) has its contents replaced.

Text stays text: every column Lazada's text can land in gets number format ``@`` *before*
values are written, and a string that Excel would read as a formula or number
(``=``, ``+``, ``-``, ``@``, or a leading apostrophe) is written with Excel's text prefix
``'``, so a buyer named ``=HYPERLINK(...)`` is a name, not a formula. Values go in one
``range.value = rows`` per block (xlwings chunks very large writes itself).

The xlwings surface used — kept small so tests can stand in a fake book for Excel:

- ``book.sheets[name]``, ``book.sheets.add(name, after=...)``, ``name in [s.name for s in
  book.sheets]``; ``book.app.screen_updating`` (get/set);
- ``sheet.name``, ``sheet.range(a, b=None)`` (address text or ``(row, col)`` tuples),
  ``sheet.tables`` (iterate, ``.add(source=, name=, table_style_name=)``),
  ``sheet.clear_contents()``, ``sheet.freeze_panes.freeze_at(address)``;
- ``Range``: ``.value`` (set), ``.number_format`` (set), ``.clear_contents()``,
  ``.column_width`` (set), ``.font.bold/.italic/.size/.color``, ``.color``, ``.wrap_text``,
  ``.merge()``, ``.row``, ``.column``, ``.shape``, ``.conditional_formats.clear()/
  .add_custom(...)/.add_cell_value(...)``;
- ``Table``: ``.name``, ``.range``, ``.resize(range)``.

Beyond it, only through ``.api`` and guarded (Windows COM; skipped elsewhere, noted in the
result): horizontal alignment, bottom border, print setup, tab colour, and freeze panes
where ``freeze_panes`` is not implemented (desktop Excel in xlwings 0.37.8).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..safe_text import safe_text
from ..workbook.sheetspec import (
    STYLES,
    Block,
    CellStyle,
    ConditionalFormat,
    Formula,
    SheetSpec,
    Table,
    cell_ref,
    column_letter,
    parse_cell,
)

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CELL_CHARS = 32_767
_OPERATORS = {
    "between": "between",
    "notBetween": "not_between",
    "equal": "equal_to",
    "notEqual": "not_equal_to",
    "greaterThan": "greater_than",
    "lessThan": "less_than",
    "greaterThanOrEqual": "greater_than_or_equal",
    "lessThanOrEqual": "less_than_or_equal",
}
_XL_LEFT, _XL_CENTER, _XL_RIGHT = -4131, -4108, -4152
_XL_EDGE_BOTTOM, _XL_CONTINUOUS = 9, 1


@dataclass
class Rendered:
    """What a render did: rows written per table, and what this Excel could not do."""

    sheet: str
    table_rows: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


# ---- values ---------------------------------------------------------------------------------
def text_cell(text: str) -> str:
    """A string Excel keeps as the same text (never a formula, number or date)."""
    if len(text) > EXCEL_MAX_CELL_CHARS:
        text = text[: EXCEL_MAX_CELL_CHARS - 1] + "…"
    return safe_text(text, typed=True)


def cell_value(value: Any) -> Any:
    """One SheetSpec value as what xlwings writes."""
    if value is None:
        return None
    if isinstance(value, Formula):
        return value.text
    if isinstance(value, str):
        return text_cell(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime | date):  # pd.Timestamp and pd.NaT are datetimes too
        if value != value:  # NaT
            return None
        if isinstance(value, datetime):
            to_py = getattr(value, "to_pydatetime", None)
            plain = to_py() if callable(to_py) else value
            return plain.replace(tzinfo=None)
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, int):
        return value
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return cell_value(item())
    try:
        if value != value:  # pd.NA, NaN-likes
            return None
    except (TypeError, ValueError):
        return None
    return text_cell(str(value))


def block_rows(block: Block) -> list[list[Any]]:
    """The block's values as rows of writable cells (a frame's header first if asked)."""
    if block.is_frame:
        frame = block.values
        body = frame.astype(object).to_numpy().tolist()  # type: ignore[union-attr]
        rows = [[cell_value(v) for v in row] for row in body]
        if block.header:
            rows.insert(0, [text_cell(str(c)) for c in frame.columns])  # type: ignore[union-attr]
        return rows
    width = block.width
    return [[cell_value(v) for v in row] + [None] * (width - len(row)) for row in block.values]


# ---- ranges ---------------------------------------------------------------------------------
def _rng(sheet: Any, r1: int, c1: int, r2: int | None = None, c2: int | None = None) -> Any:
    if r2 is None or c2 is None or (r2 == r1 and c2 == c1):
        return sheet.range((r1, c1))
    return sheet.range((r1, c1), (r2, c2))


def _bounds(rng: Any) -> tuple[int, int, int, int]:
    rows, cols = rng.shape
    return rng.row, rng.column, rng.row + rows - 1, rng.column + cols - 1


def _runs(formats: Sequence[str | None]) -> Iterable[tuple[int, int, str]]:
    """(first, last, format) for runs of equal formats (0-based offsets), skipping ``None``."""
    start = 0
    for i in range(1, len(formats) + 1):
        if i == len(formats) or formats[i] != formats[start]:
            if formats[start] is not None:
                yield start, i - 1, str(formats[start])
            start = i


def _find_table(sheet: Any, name: str) -> Any | None:
    for table in sheet.tables:
        if str(table.name).lower() == name.lower():
            return table
    return None


# ---- styles ---------------------------------------------------------------------------------
def _hex(colour: str) -> str:
    return "#" + colour.lstrip("#")


def _apply_style(rng: Any, style: CellStyle, result: Rendered) -> None:
    font = rng.font
    if style.bold:
        font.bold = True
    if style.italic:
        font.italic = True
    if style.size:
        font.size = style.size
    if style.color:
        font.color = _hex(style.color)
    if style.fill:
        rng.color = _hex(style.fill)
    if style.wrap:
        rng.wrap_text = True
    if style.horizontal or style.border_bottom:
        try:
            api = rng.api
            if style.horizontal:
                api.HorizontalAlignment = {
                    "left": _XL_LEFT,
                    "center": _XL_CENTER,
                    "right": _XL_RIGHT,
                }[style.horizontal]
            if style.border_bottom:
                api.Borders(_XL_EDGE_BOTTOM).LineStyle = _XL_CONTINUOUS
        except Exception:  # noqa: BLE001 - cosmetic; macOS/fake have no COM
            _note(result, "alignment/borders")


def _note(result: Rendered, what: str) -> None:
    text = f"{what}: not available in this Excel"
    if text not in result.skipped:
        result.skipped.append(text)


# ---- the writer ---------------------------------------------------------------------------
def get_sheet(book: Any, name: str) -> Any:
    """The named sheet, added at the end if the seller deleted it."""
    names = [s.name for s in book.sheets]
    if name in names:
        return book.sheets[name]
    return book.sheets.add(name, after=book.sheets[len(names) - 1] if names else None)


def render(book: Any, spec: SheetSpec) -> Rendered:
    """Write ``spec`` onto its sheet in ``book`` (added if missing); see the module doc."""
    sheet = get_sheet(book, spec.name)
    return render_sheet(sheet, spec, app=getattr(book, "app", None))


def render_sheet(sheet: Any, spec: SheetSpec, *, app: Any = None) -> Rendered:
    result = Rendered(spec.name)
    existing = {t.name: _find_table(sheet, t.name) for t in spec.tables}
    fresh = not any(existing.values())
    if spec.owned_columns is None:
        sheet.clear_contents()
    else:
        for table in spec.tables:
            old = existing[table.name]
            if old is not None:
                _clear_table_body(sheet, old, table)
    _column_formats(sheet, spec)
    for block in spec.blocks:
        _write_block(sheet, block, result)
    for table in spec.tables:
        _place_table(sheet, table, existing[table.name], result)
    for col, width in spec.widths.items():
        sheet.range((1, col)).column_width = width
    for merge in spec.merges:
        _rng(sheet, merge.first_row, merge.first_col, merge.last_row, merge.last_col).merge()
    _conditional_formats(sheet, spec, existing, result)
    if spec.freeze is not None and fresh:
        _freeze(sheet, spec.freeze, app, result)
    if spec.print_setup is not None or spec.tab_color:
        _page(sheet, spec, result)
    return result


def _clear_table_body(sheet: Any, old: Any, table: Table) -> None:
    """Empty the old table's data rows in the spec's columns (the seller's extra table
    columns and everything outside the table stay)."""
    r1, c1, r2, c2 = _bounds(old.range)
    if r2 > r1:
        first = max(c1, table.first_col)
        last = min(c2, table.last_col)
        if first <= last:
            _rng(sheet, r1 + 1, first, r2, last).clear_contents()


def _column_formats(sheet: Any, spec: SheetSpec) -> None:
    """Formats for whole columns (what blank cells get: a pasted id stays text)."""
    if not spec.column_formats:
        return
    cols = sorted(spec.column_formats)
    formats: list[str | None] = [None] * (cols[-1] - cols[0] + 1)
    for col in cols:
        formats[col - cols[0]] = spec.column_formats[col]
    for a, b, fmt in _runs(formats):
        _rng(sheet, 1, cols[0] + a, EXCEL_MAX_ROWS, cols[0] + b).number_format = fmt


def _write_block(sheet: Any, block: Block, result: Rendered) -> None:
    rows = block_rows(block)
    if not rows or not rows[0]:
        return
    height, width = len(rows), len(rows[0])
    first_data = block.row + (1 if block.header and block.is_frame else 0)
    last_row = block.row + height - 1
    style = STYLES.get(block.style or "") if block.style else None
    formats: list[str | None] = list(block.number_formats or [])
    if not formats and style is not None and style.number_format:
        formats = [style.number_format] * width
    # Formats first: "@" must be in place before text that looks like a number arrives.
    if formats and last_row >= first_data:
        for a, b, fmt in _runs(formats[:width]):
            _rng(sheet, first_data, block.col + a, last_row, block.col + b).number_format = fmt
    target = _rng(sheet, block.row, block.col, last_row, block.col + width - 1)
    target.value = rows if (height, width) != (1, 1) else rows[0][0]
    if block.header and block.is_frame:
        _apply_style(
            _rng(sheet, block.row, block.col, block.row, block.col + width - 1),
            STYLES["header"],
            result,
        )
    if style is not None and last_row >= first_data:
        _apply_style(
            _rng(sheet, first_data, block.col, last_row, block.col + width - 1), style, result
        )


def _place_table(sheet: Any, table: Table, old: Any | None, result: Rendered) -> None:
    last_col = table.last_col
    if old is not None:
        _, c1, _, c2 = _bounds(old.range)
        if c1 == table.first_col:
            last_col = max(last_col, c2)  # the seller's own columns at the table's right
        old.resize(_rng(sheet, table.header_row, table.first_col, table.last_row, last_col))
    else:
        source = _rng(sheet, table.header_row, table.first_col, table.last_row, last_col)
        sheet.tables.add(source=source, name=table.name, table_style_name=table.style)
    result.table_rows[table.name] = table.rows


def _conditional_formats(
    sheet: Any, spec: SheetSpec, existing: dict[str, Any], result: Rendered
) -> None:
    if not spec.conditional_formats:
        return
    try:
        # Replace our rules: clear the columns they cover, over the old and new extent.
        areas: dict[tuple[int, int], int] = {}
        for rule in spec.conditional_formats:
            first, last = (rule.range.split(":") + [rule.range])[:2]
            (r1, c1), (r2, c2) = parse_cell(first), parse_cell(last)
            for c in range(c1, c2 + 1):
                areas[(r1, c)] = max(areas.get((r1, c), r2), r2)
        old_last = max((_bounds(t.range)[2] for t in existing.values() if t is not None), default=0)
        for (r1, c), r2 in sorted(areas.items()):
            _rng(sheet, r1, c, max(r2, old_last, r1), c).conditional_formats.clear()
        for rule in reversed(spec.conditional_formats):  # each add goes to the top
            _add_rule(sheet, rule)
    except (AttributeError, NotImplementedError):
        _note(result, "conditional formats")


def _add_rule(sheet: Any, rule: ConditionalFormat) -> None:
    style = STYLES[rule.style]
    colours: dict[str, Any] = {}
    if style.fill:
        colours["fill_color"] = _hex(style.fill)
    if style.color:
        colours["font_color"] = _hex(style.color)
    first, last = (rule.range.split(":") + [rule.range])[:2]
    (r1, c1), (r2, c2) = parse_cell(first), parse_cell(last)
    formats = _rng(sheet, r1, c1, r2, c2).conditional_formats
    if rule.kind == "cellIs":
        operator = _OPERATORS.get(rule.operator or "", rule.operator or "")
        formats.add_cell_value(operator, rule.formula, stop_if_true=rule.stop, **colours)
    else:
        formula = rule.formula if rule.formula.startswith("=") else "=" + rule.formula
        formats.add_custom(formula, stop_if_true=rule.stop, **colours)


def _freeze(sheet: Any, at: tuple[int, int], app: Any, result: Rendered) -> None:
    row, col = at
    if row <= 1 and col <= 1:
        return
    # xlwings' freeze_at takes the frozen area (top-left pane), not the first free cell.
    if col <= 1:
        frozen = f"1:{row - 1}"
    elif row <= 1:
        frozen = f"A:{column_letter(col - 1)}"
    else:
        frozen = f"A1:{cell_ref(row - 1, col - 1)}"
    try:
        sheet.freeze_panes.freeze_at(frozen)
        return
    except (AttributeError, NotImplementedError):
        pass
    try:  # desktop Excel on Windows: freeze through the sheet's window
        window = sheet.book.app.api.ActiveWindow if app is None else app.api.ActiveWindow
        active = sheet.book.sheets.active
        sheet.activate()
        window.FreezePanes = False
        window.SplitColumn = col - 1
        window.SplitRow = row - 1
        window.FreezePanes = True
        active.activate()
    except Exception:  # noqa: BLE001 - cosmetic; the file from `workbook new` has it frozen
        _note(result, "freeze panes")


def _page(sheet: Any, spec: SheetSpec, result: Rendered) -> None:
    try:
        api = sheet.api
        setup = spec.print_setup
        if setup is not None:
            page = api.PageSetup
            page.Orientation = 2 if setup.landscape else 1
            if setup.fit_to_width:
                page.Zoom = False
                page.FitToPagesWide = 1
                page.FitToPagesTall = False
            if setup.repeat_rows:
                page.PrintTitleRows = f"${setup.repeat_rows[0]}:${setup.repeat_rows[1]}"
        if spec.tab_color:
            c = spec.tab_color.lstrip("#")
            api.Tab.Color = int(c[4:6] + c[2:4] + c[0:2], 16)  # Excel wants BGR
    except Exception:  # noqa: BLE001 - print setup is cosmetic; macOS/fake have no COM
        _note(result, "print setup")
