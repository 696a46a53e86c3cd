"""What Excel hands a formula, and the shape of what goes back.

A cell arrives as a scalar (``str``, ``float`` for any number, ``bool``, ``None`` for a
blank, ``datetime`` for a date); a range as a list (one row or column) or a list of lists.
A formula answers a scalar for a scalar and a 2-D list for a range (a column for a 1-D
range), so one formula next to a 10,000-row column fills 10,000 rows in one call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..refs import excel_error

#: What a formula may put in a cell (Excel has no other types).
Cell = Any


@dataclass(frozen=True, slots=True)
class Shape:
    """How the input was laid out: ``rows`` x ``cols`` (``scalar`` for a single value)."""

    rows: int
    cols: int
    scalar: bool = False


def _is_seq(value: Any) -> bool:
    return type(value) in (list, tuple) or isinstance(value, list | tuple)


def flatten(value: Any) -> tuple[list[Any], Shape]:
    """The input's values in reading order, and its shape.

    A 1-D list is taken as a column (xlwings hands a one-column range over as a flat list);
    ragged nested lists are padded with blanks so the answer stays rectangular.
    """
    if not _is_seq(value):
        return [value], Shape(1, 1, scalar=True)
    if not value:
        return [], Shape(0, 1)
    rows_are_seqs = [_is_seq(v) for v in value]
    if not any(rows_are_seqs):
        return [_scalar(v) for v in value], Shape(len(value), 1)
    rows = value if all(rows_are_seqs) else [v if _is_seq(v) else [v] for v in value]
    width = max(1, max(map(len, rows)))
    if width == 1:  # a column: the common case, kept cheap for 10,000-row ranges
        flat = [_scalar(r[0]) if r else None for r in rows]
        return flat, Shape(len(rows), 1)
    flat = []
    for r in rows:
        flat.extend(_scalar(c) for c in r)
        flat.extend([None] * (width - len(r)))
    return flat, Shape(len(rows), width)


def _scalar(value: Any) -> Any:
    """A cell inside a nested list that is itself a list (deeper nesting): first value."""
    while type(value) in (list, tuple):
        value = value[0] if value else None
    return value


def shaped(values: Sequence[Cell], shape: Shape) -> Cell:
    """``values`` (one per input cell) laid out like the input: a scalar for a scalar."""
    if shape.scalar:
        return values[0] if values else ""
    if shape.rows == 0:
        return [[""]]
    if shape.cols == 1:
        return [[v] for v in values]
    it = iter(values)
    return [[next(it) for _ in range(shape.cols)] for _ in range(shape.rows)]


def map_cells(value: Any, answer: Callable[[list[Any]], list[Cell]]) -> Cell:
    """Flatten ``value``, answer all cells in one batch, and shape the answers like it."""
    flat, shape = flatten(value)
    return shaped(answer(flat), shape)


def text_arg(value: Any) -> str | None:
    """An optional text argument (shop, part): ``None`` for blank/omitted, else stripped text.
    A number typed where text is expected (a shop called ``2``) keeps its digits."""
    value = _scalar(value)
    if value is None:
        return None
    error = excel_error(value)  # (#N/A in the shop cell: said as such, not as a shop name)
    if error is not None:
        return error
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None
