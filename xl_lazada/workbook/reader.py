"""Reading the seller's inputs (Settings, Report) out of the workbook package, no Excel.

Only cell values are read, from the few sheets the contract gives inputs on. Excel may have
saved them as shared strings, inline strings, numbers or booleans; all are understood.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from .contract import (
    REPORT,
    SETTINGS,
    SETTINGS_FIRST_ROW,
    RuleSettings,
    WorkbookSettings,
    settings_from_values,
)
from .package import NS_MAIN, Package
from .sheetspec import column_index

_C = f"{{{NS_MAIN}}}c"
_ROW = f"{{{NS_MAIN}}}row"
_V = f"{{{NS_MAIN}}}v"
_T = f"{{{NS_MAIN}}}t"
_IS = f"{{{NS_MAIN}}}is"


def read_cells(
    pkg: Package, sheet: str, *, max_row: int = 10_000, max_col: int = 8
) -> dict[tuple[int, int], Any]:
    """(row, col) → value for the non-blank cells of ``sheet`` within the bounds."""
    ref = next((s for s in pkg.sheets() if s.name == sheet), None)
    if ref is None or not pkg.has(ref.part):
        return {}
    strings: list[str] | None = None
    out: dict[tuple[int, int], Any] = {}
    with pkg.zip.open(ref.part) as fh:
        for _, el in ET.iterparse(fh, events=("end",)):
            if el.tag == _ROW:
                if int(el.get("r", "0") or 0) > max_row:
                    break
                el.clear()
                continue
            if el.tag != _C:
                continue
            r = el.get("r", "")
            letters = r.rstrip("0123456789")
            if not letters:
                continue
            row, col = int(r[len(letters) :]), column_index(letters)
            if row > max_row or col > max_col:
                continue
            kind = el.get("t", "n")
            v = el.find(_V)
            value: Any = None
            if kind == "s" and v is not None and v.text:
                if strings is None:
                    strings = pkg.shared_strings()
                index = int(v.text)
                value = strings[index] if 0 <= index < len(strings) else None
            elif kind == "inlineStr":
                node = el.find(_IS)
                value = "".join(t.text or "" for t in node.iter(_T)) if node is not None else None
            elif kind == "b":
                value = v is not None and v.text == "1"
            elif kind in ("str", "e"):
                value = v.text if v is not None else None
            elif v is not None and v.text:
                try:
                    number = float(v.text)
                    value = int(number) if number.is_integer() else number
                except ValueError:
                    value = v.text
            if value is not None and value != "":
                out[(row, col)] = value
    return out


def read_settings(pkg: Package) -> tuple[RuleSettings, WorkbookSettings]:
    """The Settings sheet's key/value pairs (A/B from row 4 down to the first blank key) →
    settings (raises
    :class:`~xl_lazada.workbook.contract.SettingsError` naming a bad value)."""
    cells = read_cells(pkg, SETTINGS, max_row=500, max_col=2)
    values: dict[Any, Any] = {}
    row = SETTINGS_FIRST_ROW
    while (row, 1) in cells:  # keys run down from row 4; a blank row ends them (notes below)
        values[cells[(row, 1)]] = cells.get((row, 2))
        row += 1
    return settings_from_values(values)


def read_report_inputs(pkg: Package) -> dict[str, Any]:
    """The Report sheet's inputs as raw values: date_from, date_to, status, shop, refs.

    Dates stay as the file holds them (a serial number, or text): the report's
    :func:`~xl_lazada.report.inputs.parse_date` is the one reader of Excel dates, so the
    headless refresh and the ribbon accept and refuse the same inputs."""
    from .contract import (
        REPORT_DATE_FROM,
        REPORT_DATE_TO,
        REPORT_REFS_FIRST_ROW,
        REPORT_SHOP,
        REPORT_STATUS,
    )
    from .sheetspec import parse_cell

    cells = read_cells(pkg, REPORT, max_row=200_000, max_col=2)

    def at(ref: str) -> Any:
        return cells.get(parse_cell(ref))

    refs = [
        v for (row, col), v in sorted(cells.items()) if col == 1 and row >= REPORT_REFS_FIRST_ROW
    ]
    return {
        "date_from": at(REPORT_DATE_FROM),
        "date_to": at(REPORT_DATE_TO),
        "status": at(REPORT_STATUS),
        "shop": at(REPORT_SHOP),
        "refs": refs,
    }


__all__ = ["read_cells", "read_report_inputs", "read_settings"]
