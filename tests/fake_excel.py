"""An in-memory stand-in for the part of xlwings' Book/Sheet/Range the Excel front end uses.

It implements exactly the surface documented in ``xl_lazada/excel/live_writer.py`` (and the
macros' status bar, calculate and formulas), and behaves like Excel where it matters to the
tests: a string starting with ``=`` becomes a formula unless it carries Excel's text prefix
``'`` (which is stripped and kept as text), a string that looks like a number becomes a
number unless the cell's format is ``@``, values are stored per cell, tables have a range
that can be resized. There is no ``.api`` (as on a non-Windows Excel): code that needs COM
must be guarded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_ROWS = 1_048_576
MAX_COLS = 16_384
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(col: int) -> str:
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def parse_address(address: str) -> tuple[int, int, int, int]:
    """``A1``, ``A1:C3``, ``A:C``, ``1:4`` → (r1, c1, r2, c2)."""
    parts = address.replace("$", "").upper().split(":")
    first, last = parts[0], parts[-1]

    def one(ref: str, end: bool) -> tuple[int, int]:
        letters = ref.rstrip("0123456789")
        digits = ref[len(letters) :]
        row = int(digits) if digits else (MAX_ROWS if end else 1)
        col = col_index(letters) if letters else (MAX_COLS if end else 1)
        return row, col

    r1, c1 = one(first, False)
    r2, c2 = one(last, True)
    return r1, c1, r2, c2


@dataclass
class Font:
    cells: dict[str, Any]

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "cells":
            object.__setattr__(self, name, value)
        else:
            self.cells[name] = value

    def __getattr__(self, name: str) -> Any:
        return self.cells.get(name)


class FakeConditionalFormats:
    def __init__(self, rng: FakeRange) -> None:
        self.rng = rng

    def clear(self) -> None:
        box = self.rng.box
        self.rng.sheet.conditional = [
            c for c in self.rng.sheet.conditional if not _inside(c["box"], box)
        ]

    def add_custom(self, formula: str, **style: Any) -> None:
        self.rng.sheet.conditional.insert(
            0, {"box": self.rng.box, "kind": "expression", "formula": formula, **style}
        )

    def add_cell_value(self, operator: str, formula1: Any, **style: Any) -> None:
        self.rng.sheet.conditional.insert(
            0,
            {"box": self.rng.box, "kind": "cellIs", "operator": operator, "formula": formula1}
            | style,
        )


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


class FakeRange:
    def __init__(self, sheet: FakeSheet, r1: int, c1: int, r2: int, c2: int) -> None:
        self.sheet, self.box = sheet, (r1, c1, r2, c2)

    # geometry
    @property
    def row(self) -> int:
        return self.box[0]

    @property
    def column(self) -> int:
        return self.box[1]

    @property
    def shape(self) -> tuple[int, int]:
        r1, c1, r2, c2 = self.box
        return r2 - r1 + 1, c2 - c1 + 1

    @property
    def address(self) -> str:
        r1, c1, r2, c2 = self.box
        a = f"${col_letters(c1)}${r1}"
        return a if (r1, c1) == (r2, c2) else f"{a}:${col_letters(c2)}${r2}"

    def _cells(self) -> list[tuple[int, int]]:
        r1, c1, r2, c2 = self.box
        return [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]

    # values
    @property
    def value(self) -> Any:
        r1, c1, r2, c2 = self.box
        rows = [
            [self.sheet.values.get((r, c)) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)
        ]
        if (r1, c1) == (r2, c2):
            return rows[0][0]
        if r1 == r2 or c1 == c2:
            return [v for row in rows for v in row]
        return rows

    @value.setter
    def value(self, data: Any) -> None:
        self.sheet.book.app.value_writes += 1
        r1, c1, r2, c2 = self.box
        if not isinstance(data, list | tuple):
            data = [[data]]
        elif data and not isinstance(data[0], list | tuple):
            data = [list(data)]
        for i, row in enumerate(data):
            for j, v in enumerate(row):
                self.sheet.put(r1 + i, c1 + j, v)

    @property
    def formula(self) -> Any:
        r1, c1, r2, c2 = self.box
        return [
            [self.sheet.formulas.get((r, c), "") for c in range(c1, c2 + 1)]
            for r in range(r1, r2 + 1)
        ]

    @property
    def formula2(self) -> Any:
        return self.formula

    @formula2.setter
    def formula2(self, data: Any) -> None:
        """Excel recalculates a cell whose formula is (re)assigned: recorded per cell."""
        r1, c1, _, _ = self.box
        if not isinstance(data, list | tuple):
            data = [[data]]
        for i, row in enumerate(data):
            for j, f in enumerate(row):
                self.sheet.put(r1 + i, c1 + j, f)
                self.sheet.book.app.recalculated.append((self.sheet.name, r1 + i, c1 + j))

    def clear_contents(self) -> None:
        self.sheet._check_writable()
        r1, c1, r2, c2 = self.box
        inside = lambda k: r1 <= k[0] <= r2 and c1 <= k[1] <= c2  # noqa: E731
        for store in (self.sheet.values, self.sheet.formulas):
            for key in [k for k in store if inside(k)]:
                del store[key]
        self.sheet.prefixed -= {k for k in self.sheet.prefixed if inside(k)}

    # formats
    @property
    def number_format(self) -> str:
        return self.sheet.format_at(self.box[0], self.box[1])

    @number_format.setter
    def number_format(self, fmt: str) -> None:
        self.sheet.format_rules.append((self.box, fmt))

    @property
    def column_width(self) -> float | None:
        return self.sheet.widths.get(self.box[1])

    @column_width.setter
    def column_width(self, width: float) -> None:
        for c in range(self.box[1], self.box[3] + 1):
            self.sheet.widths[c] = width

    @property
    def font(self) -> Font:
        return Font(self.sheet.style_for(self.box, "font"))

    @property
    def color(self) -> Any:
        return self.sheet.style_at(self.box[0], self.box[1]).get("fill")

    @color.setter
    def color(self, value: Any) -> None:
        self.sheet.style_for(self.box, "cell")["fill"] = value

    @property
    def wrap_text(self) -> bool:
        return bool(self.sheet.style_at(self.box[0], self.box[1]).get("wrap"))

    @wrap_text.setter
    def wrap_text(self, value: bool) -> None:
        self.sheet.style_for(self.box, "cell")["wrap"] = value

    def merge(self) -> None:
        self.sheet.merges.append(self.box)

    @property
    def conditional_formats(self) -> FakeConditionalFormats:
        return FakeConditionalFormats(self)

    @property
    def api(self) -> Any:
        raise AttributeError("the fake book has no COM api")


class FakeTable:
    def __init__(self, sheet: FakeSheet, name: str, box: tuple[int, int, int, int], style: str):
        self.sheet, self.name, self.box, self.style = sheet, name, box, style

    @property
    def range(self) -> FakeRange:
        return FakeRange(self.sheet, *self.box)

    @property
    def data_body_range(self) -> FakeRange | None:
        r1, c1, r2, c2 = self.box
        return FakeRange(self.sheet, r1 + 1, c1, r2, c2) if r2 > r1 else None

    @property
    def header_row_range(self) -> FakeRange:
        r1, c1, _, c2 = self.box
        return FakeRange(self.sheet, r1, c1, r1, c2)

    def resize(self, rng: FakeRange) -> None:
        self.box = rng.box


class FakeTables:
    def __init__(self, sheet: FakeSheet) -> None:
        self.sheet = sheet
        self.items: list[FakeTable] = []

    def __iter__(self) -> Any:
        return iter(list(self.items))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key: int | str) -> FakeTable:
        if isinstance(key, int):
            return self.items[key]
        for t in self.items:
            if t.name.lower() == key.lower():
                return t
        raise KeyError(key)

    def add(
        self,
        source: FakeRange,
        name: str | None = None,
        table_style_name: str = "TableStyleMedium2",
        **_: Any,
    ) -> FakeTable:
        for t in self.items:
            a, b = t.box, source.box
            if not (b[2] < a[0] or a[2] < b[0] or b[3] < a[1] or a[3] < b[1]):
                raise ValueError("A table cannot overlap another table")
        table = FakeTable(
            self.sheet, name or f"Table{len(self.items) + 1}", source.box, table_style_name
        )
        self.items.append(table)
        return table


class FakeFreezePanes:
    def __init__(self, sheet: FakeSheet) -> None:
        self.sheet = sheet

    def freeze_at(self, address: str) -> None:
        self.sheet.frozen = address


class FakeSheet:
    def __init__(self, book: FakeBook, name: str) -> None:
        self.book, self.name = book, name
        self.values: dict[tuple[int, int], Any] = {}
        self.formulas: dict[tuple[int, int], str] = {}
        self.prefixed: set[tuple[int, int]] = set()
        self.format_rules: list[tuple[tuple[int, int, int, int], str]] = []
        self.style_rules: list[tuple[tuple[int, int, int, int], str, dict[str, Any]]] = []
        self.widths: dict[int, float] = {}
        self.merges: list[tuple[int, int, int, int]] = []
        self.conditional: list[dict[str, Any]] = []
        self.tables = FakeTables(self)
        self.freeze_panes = FakeFreezePanes(self)
        self.frozen: str | None = None
        self.protected = False  # Review > Protect Sheet: Excel refuses every write

    @property
    def api(self) -> Any:
        """The COM worksheet, as far as the macros read it."""
        return _FakeSheetApi(self)

    def _check_writable(self) -> None:
        if self.protected:
            raise RuntimeError(  # what Excel's COM raises (pywintypes.com_error)
                "The cell or chart you're trying to change is on a protected sheet."
            )

    # what Excel does with an assigned value
    def put(self, r: int, c: int, v: Any) -> None:
        self._check_writable()
        self.formulas.pop((r, c), None)
        self.prefixed.discard((r, c))
        if isinstance(v, str):
            if v.startswith("'"):
                self.prefixed.add((r, c))
                v = v[1:]
            elif v.startswith("="):
                self.formulas[(r, c)] = v
                v = f"<formula {v}>"
            elif self.format_at(r, c) != "@" and _NUMBER.match(v.strip()):
                v = float(v)
            elif self.format_at(r, c) != "@" and v[:1] in "+-@" and len(v) > 1:
                self.formulas[(r, c)] = "=" + v
                v = f"<formula ={v}>"
        if v is None or v == "":
            self.values.pop((r, c), None)
        else:
            self.values[(r, c)] = v

    def format_at(self, r: int, c: int) -> str:
        for (r1, c1, r2, c2), fmt in reversed(self.format_rules):
            if r1 <= r <= r2 and c1 <= c <= c2:
                return fmt
        return "General"

    def style_for(self, box: tuple[int, int, int, int], kind: str) -> dict[str, Any]:
        props: dict[str, Any] = {}
        self.style_rules.append((box, kind, props))
        return props

    def style_at(self, r: int, c: int, kind: str = "cell") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for (r1, c1, r2, c2), k, props in self.style_rules:
            if k == kind and r1 <= r <= r2 and c1 <= c <= c2:
                out.update(props)
        return out

    def range(self, a: Any, b: Any = None) -> FakeRange:
        if isinstance(a, str):
            box = parse_address(a)
            return FakeRange(self, *box)
        r1, c1 = a
        r2, c2 = b if b is not None else a
        return FakeRange(self, min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))

    def __getitem__(self, address: str) -> FakeRange:
        return self.range(address)

    def clear_contents(self) -> None:
        self._check_writable()
        self.values.clear()
        self.formulas.clear()
        self.prefixed.clear()

    @property
    def used_range(self) -> FakeRange:
        keys = list(self.values) + list(self.formulas)
        if not keys:
            return FakeRange(self, 1, 1, 1, 1)
        return FakeRange(
            self,
            min(k[0] for k in keys),
            min(k[1] for k in keys),
            max(k[0] for k in keys),
            max(k[1] for k in keys),
        )

    def grid(self, r1: int, c1: int, r2: int, c2: int) -> list[list[Any]]:
        return [[self.values.get((r, c)) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]


class _FakeSheetApi:
    def __init__(self, sheet: FakeSheet) -> None:
        self._sheet = sheet

    @property
    def ProtectContents(self) -> bool:  # noqa: N802 - COM's name
        return self._sheet.protected


class FakeSheets:
    def __init__(self, book: FakeBook) -> None:
        self.book = book
        self.items: list[FakeSheet] = []

    def __iter__(self) -> Any:
        return iter(list(self.items))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key: int | str) -> FakeSheet:
        if isinstance(key, int):
            return self.items[key]
        for s in self.items:
            if s.name.lower() == key.lower():
                return s
        raise KeyError(key)

    def add(self, name: str, before: Any = None, after: Any = None) -> FakeSheet:
        sheet = FakeSheet(self.book, name)
        self.items.append(sheet)
        return sheet


@dataclass
class FakeApp:
    status_bar: Any = False
    screen_updating: bool = True
    calculation: str = "automatic"
    status_history: list[Any] = field(default_factory=list)
    calculations: int = 0
    value_writes: int = 0
    recalculated: list[tuple[str, int, int]] = field(default_factory=list)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "status_bar" and "status_history" in self.__dict__:
            self.status_history.append(value)
        object.__setattr__(self, name, value)

    alerts: list[str] = field(default_factory=list)

    def calculate(self) -> None:
        self.calculations += 1

    def alert(self, prompt: str, title: str | None = None, **_: Any) -> None:
        self.alerts.append(prompt)


class FakeBook:
    def __init__(self, sheet_names: tuple[str, ...] = ()) -> None:
        self.app = FakeApp()
        self.sheets = FakeSheets(self)
        self.name = "Lazada.xlsm"
        self.fullname = "/tmp/Lazada.xlsm"
        for n in sheet_names:
            self.sheets.add(n)
