"""A writer-neutral description of one sheet's content.

The headless file writer (zip parts) and the live xlwings writer both render a
:class:`SheetSpec`, so the ribbon and the command line produce the same sheet. It is plain
data: blocks of values at a position, named cell styles, per-column number formats and
widths, freeze panes, Excel Tables, conditional formats, merged cells and print setup.

Rows and columns are 1-based (``row=1, col=1`` is A1). Values are Python scalars
(``str``, ``int``, ``float``, ``bool``, ``Decimal``, ``date``/``datetime`` — naive, already in
the shop's local time), ``None`` (blank), :class:`Formula` (the only way to write a formula:
every ``str`` is written as literal text, even one starting with ``=``), or a pandas
DataFrame for a data block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class Formula:
    """An Excel formula, e.g. ``Formula("=SUM(B5:B9)")``; only code writes these, never data."""

    text: str

    def __post_init__(self) -> None:
        if not self.text.startswith("="):
            raise ValueError("a formula starts with '='")


Scalar = str | int | float | bool | Decimal | date | datetime | Formula | None


@dataclass(frozen=True, slots=True)
class CellStyle:
    """A named cell look. Colours are RGB hex (``"C00000"``). ``number_format`` is used
    only when the block or column gives none."""

    bold: bool = False
    italic: bool = False
    size: float | None = None  # points; None = the workbook default (11)
    color: str | None = None  # font colour
    fill: str | None = None  # solid background
    wrap: bool = False
    horizontal: str | None = None  # "left" | "center" | "right"
    border_bottom: bool = False
    number_format: str | None = None


# The named styles every writer knows. Status colours are also used as conditional-format
# fills (only ``fill`` and ``color`` apply there).
STYLES: dict[str, CellStyle] = {
    "title": CellStyle(bold=True, size=14.0, color="1F3864"),
    "status": CellStyle(italic=True, color="595959"),
    "header": CellStyle(bold=True, color="FFFFFF", fill="305496", wrap=True, border_bottom=True),
    "label": CellStyle(bold=True),
    "input": CellStyle(fill="FFF2CC"),
    "note": CellStyle(italic=True, color="7F7F7F"),
    "money": CellStyle(number_format="#,##0.00"),
    "overdue": CellStyle(color="9C0006", fill="FFC7CE"),  # red: late, stuck, overdue
    "at_risk": CellStyle(color="9C5700", fill="FFEB9C"),  # amber: at risk, not arrived yet
    "delivered": CellStyle(color="006100", fill="C6EFCE"),  # green: delivered, paid
    "error": CellStyle(bold=True, color="9C0006"),
}


@dataclass(slots=True)
class Block:
    """Values at (row, col): a list of rows, or a DataFrame (its header first when
    ``header`` is true, styled "header"). ``number_formats`` gives one format per column of
    the block (``None`` = from ``style``/General); ``style`` names a :data:`STYLES` entry
    applied to every value cell."""

    row: int
    col: int
    values: Sequence[Sequence[Scalar]] | pd.DataFrame
    style: str | None = None
    number_formats: Sequence[str | None] | None = None
    header: bool = False

    @property
    def is_frame(self) -> bool:
        return not isinstance(self.values, list | tuple)

    @property
    def width(self) -> int:
        values = self.values
        if isinstance(values, list | tuple):
            return max((len(r) for r in values), default=0)
        return len(values.columns)  # type: ignore[union-attr]

    @property
    def height(self) -> int:
        """Rows the block covers (header included)."""
        return len(self.values) + (1 if self.header and self.is_frame else 0)


@dataclass(frozen=True, slots=True)
class Table:
    """An Excel Table (ListObject) with autofilter, from its header row over ``rows`` data
    rows (at least one row is kept in the file: Excel needs a body row)."""

    name: str
    header_row: int
    first_col: int
    columns: tuple[str, ...]
    rows: int
    style: str = "TableStyleMedium2"

    @property
    def last_row(self) -> int:
        return self.header_row + max(self.rows, 1)

    @property
    def last_col(self) -> int:
        return self.first_col + len(self.columns) - 1


@dataclass(frozen=True, slots=True)
class ConditionalFormat:
    """A rule over a range (``"A5:AD900"``): ``kind="expression"`` with ``formula`` like
    ``'$F5="Delayed"'`` (relative to the range's top-left cell), or ``kind="cellIs"`` with
    ``operator`` ("equal", "lessThan", ...) and ``formula`` the operand. ``style`` names a
    :data:`STYLES` entry whose fill and font colour are used."""

    range: str
    formula: str
    style: str
    kind: str = "expression"
    operator: str | None = None
    stop: bool = False


@dataclass(frozen=True, slots=True)
class Merge:
    first_row: int
    first_col: int
    last_row: int
    last_col: int


@dataclass(frozen=True, slots=True)
class PrintSetup:
    landscape: bool = True
    fit_to_width: bool = True
    repeat_rows: tuple[int, int] | None = None  # e.g. (4, 4): the header on every page


@dataclass(slots=True)
class SheetSpec:
    """One sheet's content. ``freeze`` is the first scrollable cell as (row, col): (5, 1)
    freezes rows 1–4. ``owned_columns``: columns 1..N belong to the writer; the file writer
    keeps the seller's cells to the right of them (``None``: the writer owns the sheet)."""

    name: str
    blocks: list[Block] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)  # column → width in characters
    column_formats: dict[int, str] = field(default_factory=dict)  # format for blank cells
    freeze: tuple[int, int] | None = None
    tables: list[Table] = field(default_factory=list)
    conditional_formats: list[ConditionalFormat] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    print_setup: PrintSetup | None = None
    owned_columns: int | None = None
    tab_color: str | None = None

    def cell(self, row: int, col: int, value: Scalar, style: str | None = None) -> None:
        """Add a single value."""
        self.blocks.append(Block(row, col, [[value]], style=style))

    def used_range(self) -> tuple[int, int, int, int] | None:
        """(first_row, first_col, last_row, last_col) of all blocks and tables."""
        boxes = [
            (b.row, b.col, b.row + b.height - 1, b.col + b.width - 1)
            for b in self.blocks
            if b.height and b.width
        ]
        boxes += [(t.header_row, t.first_col, t.last_row, t.last_col) for t in self.tables]
        if not boxes:
            return None
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )


def column_letter(col: int) -> str:
    """1 → A, 27 → AA."""
    if col < 1:
        raise ValueError(f"column {col} is before A")
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """A → 1, AA → 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def cell_ref(row: int, col: int) -> str:
    return f"{column_letter(col)}{row}"


def range_ref(first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    return f"{cell_ref(first_row, first_col)}:{cell_ref(last_row, last_col)}"


def parse_cell(ref: str) -> tuple[int, int]:
    """``"B12"`` → (12, 2)."""
    letters = ref.rstrip("0123456789").lstrip("$").replace("$", "")
    digits = ref[len(ref.rstrip("0123456789")) :]
    return int(digits), column_index(letters)


__all__ = [
    "STYLES",
    "Block",
    "CellStyle",
    "ConditionalFormat",
    "Formula",
    "Merge",
    "PrintSetup",
    "Scalar",
    "SheetSpec",
    "Table",
    "cell_ref",
    "column_index",
    "column_letter",
    "parse_cell",
    "range_ref",
]
