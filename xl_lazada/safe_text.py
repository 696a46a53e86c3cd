"""Text that a spreadsheet shows as the same text and never runs as a formula.

Text Lazada sends (a buyer's name, a remark, a checkpoint title) is the seller's to read,
not to execute: ``=HYPERLINK(...)`` or ``+CMD|...`` from an order must not become a live
formula in the CSV export or in a cell the ribbon writes. Both writers mark such text with
a leading apostrophe, Excel's "this is text" prefix, through :func:`safe_text`.
"""

from __future__ import annotations

#: First characters a spreadsheet may read as the start of a formula (OWASP's CSV
#: injection list: formula and sign characters, and the tab/CR some programs skip first).
FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

#: Excel's own text prefix: a cell value assigned as if typed loses a leading apostrophe,
#: so text that starts with one needs another in front of it to keep it.
TEXT_PREFIX = "'"

#: What a value assigned to an Excel cell (the ribbon's live writer) must be guarded for.
TYPED_START: tuple[str, ...] = (*FORMULA_START, TEXT_PREFIX)


def safe_text(text: str, *, typed: bool = False) -> str:
    """``text`` with Excel's text prefix when it starts like a formula. ``typed``: the value
    is assigned to a cell as if typed (xlwings' ``Range.value``), where Excel also eats a
    leading apostrophe, so text starting with one is prefixed too; in a file (CSV) an
    apostrophe is just a character and is left alone."""
    return TEXT_PREFIX + text if text.startswith(TYPED_START if typed else FORMULA_START) else text


__all__ = ["FORMULA_START", "TEXT_PREFIX", "TYPED_START", "safe_text"]
