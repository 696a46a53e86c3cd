"""The file writer's cells, styles, limits and settings, read back with openpyxl."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xl_lazada.rules.settings import RuleSettings
from xl_lazada.tables import TABLES
from xl_lazada.workbook.build import build_workbook_bytes
from xl_lazada.workbook.contract import (
    DATA_SHEETS,
    EXCEL_MAX_ROWS,
    MAX_DATA_ROWS,
    SettingsError,
    WorkbookSettings,
    settings_from_values,
)
from xl_lazada.workbook.package import Package
from xl_lazada.workbook.sheets import bound_checkpoints, data_sheetspec
from xl_lazada.workbook.sheetspec import Block, Formula, SheetSpec, column_letter
from xl_lazada.workbook.sheetxml import text_xml
from xl_lazada.workbook.styles import StyleRegistry
from xl_lazada.workbook.write import write_sheets


def _write(specs: list[SheetSpec], base: bytes | None = None) -> bytes:
    base = base or build_workbook_bytes()
    out = io.BytesIO()
    with Package(io.BytesIO(base)) as pkg:  # type: ignore[arg-type]
        write_sheets(pkg, specs, out)
    return out.getvalue()


def _load(data: bytes, tmp_path: Path) -> openpyxl.Workbook:
    path = tmp_path / "book.xlsm"
    path.write_bytes(data)
    return openpyxl.load_workbook(path)


NASTY = [
    "=1+1",
    '=HYPERLINK("http://evil","click")',
    "+SUM(A1)",
    "@cmd",
    "<b>bold</b> & co",
    "tab\there\x00nul\x07bell\x1fus",
    "  padded  ",
    "泰国 ภาษาไทย Tiếng Việt 😀",
    "x" * 40_000,
    "\ud800lone surrogate",
]


def test_lazada_text_stays_literal_text(tmp_path: Path) -> None:
    rows = []
    for i, text in enumerate(NASTY):
        rows.append({"Order number": str(10**17 + i), "Order id": "0042", "Buyer": text})
    from xl_lazada.tables.columns import frame as make_frame

    df = make_frame(TABLES["orders"], rows)
    data = _write([data_sheetspec("orders", df, status_text="ok")])
    ws = _load(data, tmp_path)["Orders"]
    buyers = [ws.cell(row=5 + i, column=12).value for i in range(len(NASTY))]
    assert buyers[0] == "=1+1" and ws.cell(row=5, column=12).data_type == "s"
    assert buyers[1] == NASTY[1] and buyers[2] == "+SUM(A1)" and buyers[3] == "@cmd"
    assert buyers[4] == "<b>bold</b> & co"
    assert buyers[5] == "tab\there" + "nul" + "bell" + "us"  # forbidden characters dropped
    assert buyers[6] == "  padded  "
    assert buyers[7] == NASTY[7]
    assert len(buyers[8]) == 32_767
    assert buyers[9] == "lone surrogate"
    ids = [ws.cell(row=5 + i, column=2).value for i in range(len(NASTY))]
    assert ids == [str(10**17 + i) for i in range(len(NASTY))]  # exact digits, as text
    assert ws.cell(row=5, column=3).value == "0042"  # leading zero kept
    assert ws.cell(row=5, column=2).number_format == "@"


def test_excel_escapes_in_text_are_neutralised() -> None:
    # Excel reads _xHHHH_ in cell text as a character; a literal one must be escaped.
    assert text_xml("a_x0041_b") == "<t>a_x005F_x0041_b</t>"
    assert text_xml("plain") == "<t>plain</t>"


def test_types_and_formats(tmp_path: Path) -> None:
    from xl_lazada.tables.columns import frame as make_frame

    when = datetime(2026, 12, 2, 15, 26)
    df = make_frame(
        TABLES["orders"],
        [
            {
                "Order number": "1",
                "Created": when,
                "Items": 3,
                "Total": 1234.5,
                "Hours left": -2.25,
                "At risk": True,
                "RTS late": False,
            },
            {"Order number": "2"},  # blanks everywhere else
        ],
    )
    wb = _load(_write([data_sheetspec("orders", df)]), tmp_path)
    ws = wb["Orders"]
    sheet = DATA_SHEETS["orders"]
    col = {c.name: i for i, c in enumerate(sheet.columns, start=1)}
    created = ws.cell(row=5, column=col["Created"])
    assert created.value == when and created.number_format == "yyyy-mm-dd hh:mm"
    assert ws.cell(row=5, column=col["Items"]).value == 3
    total = ws.cell(row=5, column=col["Total"])
    assert total.value == 1234.5 and total.number_format == "#,##0.00"
    hours = ws.cell(row=5, column=col["Hours left"])
    assert hours.value == -2.25 and hours.number_format == "0.0"
    assert ws.cell(row=5, column=col["At risk"]).value is True
    assert ws.cell(row=5, column=col["RTS late"]).value is False
    assert ws.cell(row=6, column=col["Created"]).value is None
    assert ws.cell(row=6, column=col["At risk"]).value is None
    assert ws.tables["LazadaOrders"].ref == "A4:AD6"
    rules = ws.conditional_formatting
    assert any("Delayed" in r.formula[0] for cf in rules for r in cf.rules)


@pytest.mark.parametrize(
    "currencies, money",
    [
        (["VND", "VND", None], "#,##0"),  # a dong shop: no ".00" on every amount
        (["IDR"], "#,##0"),
        (["VND", "MYR"], "#,##0.00"),  # a cache of several shops: two decimals
        ([None], "#,##0.00"),
    ],
)
def test_money_has_the_currencys_decimals(
    tmp_path: Path, currencies: list[str | None], money: str
) -> None:
    from xl_lazada.tables.columns import frame as make_frame

    rows = [
        {"Order number": str(i), "Currency": c, "Net": 63000.0, "Commission": -5040.0}
        for i, c in enumerate(currencies)
    ]
    df = make_frame(TABLES["settlements"], rows)
    ws = _load(_write([data_sheetspec("settlements", df)]), tmp_path)["Settlements"]
    col = {c.name: i for i, c in enumerate(DATA_SHEETS["settlements"].columns, start=1)}
    for name in ("Net", "Commission"):
        assert ws.cell(row=5, column=col[name]).number_format == money, name
    for name in ("Net", "Item price"):  # the column's own format: what a blank cell gets
        assert ws.column_dimensions[column_letter(col[name])].number_format == money, name
    assert ws.cell(row=5, column=col["Net"]).value == 63000.0
    assert ws.cell(row=5, column=col["Order number"]).number_format == "@"


def test_list_blocks_formulas_and_decimals(tmp_path: Path) -> None:
    spec = SheetSpec(name="Report output")
    spec.blocks.append(
        Block(1, 1, [["Net", Decimal("12.30"), Formula("=B1*2"), "=not a formula", None]])
    )
    ws = _load(_write([spec]), tmp_path)["Report output"]
    assert ws["A1"].value == "Net" and ws["B1"].value == 12.3
    assert ws["C1"].value == "=B1*2" and ws["C1"].data_type == "f"
    assert ws["D1"].value == "=not a formula" and ws["D1"].data_type == "s"
    with pytest.raises(ValueError):
        Formula("SUM(A1)")


def test_styles_grow_once_and_keep_existing_indexes() -> None:
    base = build_workbook_bytes()
    with zipfile.ZipFile(io.BytesIO(base)) as z:
        original = z.read("xl/styles.xml")
    registry = StyleRegistry(original)
    assert registry.xf("header") > 0 and registry.dxf("overdue") >= 0
    assert not registry.changed()  # the new workbook already holds every style we use
    registry.xf("note", "0.000")  # something new
    grown = registry.xml()
    assert grown.startswith(original[: original.index(b"<numFmts")])
    again = StyleRegistry(grown)
    assert again.xf("note", "0.000") == registry.xf("note", "0.000")
    assert not again.changed()


def test_styles_with_a_prefixed_stylesheet_and_missing_lists() -> None:
    xml = (
        b'<?xml version="1.0"?><x:styleSheet xmlns:x="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><x:fonts count="1"><x:font><x:sz val="11"/></x:font>'
        b'</x:fonts><x:fills count="2"><x:fill><x:patternFill patternType="none"/></x:fill>'
        b'<x:fill><x:patternFill patternType="gray125"/></x:fill></x:fills><x:borders count="1">'
        b'<x:border/></x:borders><x:cellXfs count="1"><x:xf numFmtId="0"/></x:cellXfs>'
        b"</x:styleSheet>"
    )
    registry = StyleRegistry(xml)
    index = registry.xf("overdue", "yyyy-mm-dd hh:mm")
    dxf = registry.dxf("at_risk")
    out = registry.xml().decode()
    assert index == 1 and dxf == 0
    assert '<x:numFmts count="1"><x:numFmt numFmtId="164"' in out
    assert '<x:cellXfs count="2">' in out and '<x:dxfs count="1">' in out
    import xml.etree.ElementTree as ET

    ET.fromstring(out)  # still well-formed


def test_settings_parse_and_explain_bad_values() -> None:
    rules, book = settings_from_values(
        {
            "At risk hours": "6",
            "stuck_days": 3,
            "count makeup workdays": "TRUE",
            "holiday_country": "-",
            "shop": "my-shop",
            "checkpoint_days": 7,
            "qps": "",
        }
    )
    assert rules == RuleSettings(
        at_risk_hours=6.0, stuck_days=3.0, count_makeup_workdays=True, holiday_country=""
    )
    assert book == WorkbookSettings(shop="my-shop", checkpoint_days=7)
    for values, message in (
        ({"at_risk_hours": "twelve"}, "at_risk_hours must be a number"),
        ({"stuck_days": -1}, "stuck_days must not be negative"),
        ({"count_makeup_workdays": "maybe"}, "must be TRUE or FALSE"),
        ({"checkpoint_max_rows": 2_000_000}, "checkpoint_max_rows must be between"),
        ({"checkpoint_days": 2.5}, "whole number"),
        ({"colour": "red"}, "unknown setting 'colour'"),
    ):
        with pytest.raises(SettingsError, match=message):
            settings_from_values(values)


def test_checkpoints_are_bounded_to_live_parcels_and_recent_days() -> None:
    from xl_lazada.tables.columns import frame as make_frame

    now = datetime(2026, 12, 2, 12, 0)
    rows = []
    for day in range(60):  # one delivered parcel with an old history, one still moving
        rows.append({"Package id": "done", "Time": datetime(2026, 10, 3) + pd.Timedelta(days=day)})
    rows.append({"Package id": "moving", "Time": datetime(2026, 9, 1)})
    checkpoints = make_frame(TABLES["checkpoints"], rows)
    tracking = make_frame(
        TABLES["tracking"],
        [{"Package id": "done", "Final": True}, {"Package id": "moving", "Final": False}],
    )
    bounded, note = bound_checkpoints(checkpoints, tracking, days=10, max_rows=1000, now=now)
    assert "moving" in set(bounded["Package id"])  # live parcel kept however old
    assert (bounded.loc[bounded["Package id"] == "done", "Time"] >= datetime(2026, 11, 22)).all()
    assert "of 61 checkpoints" in note
    capped, note = bound_checkpoints(checkpoints, tracking, days=365, max_rows=5, now=now)
    assert len(capped) == 5 and capped["Time"].min() == datetime(2026, 11, 27)
    assert "newest 5" in note


def test_no_table_can_overflow_excel(tmp_path: Path) -> None:
    """A frame longer than a sheet is cut to what Excel holds, and the file says so."""
    n = MAX_DATA_ROWS + 3
    checkpoints = pd.DataFrame(
        {c.name: pd.Series([pd.NA] * n, dtype=c.dtype) for c in TABLES["checkpoints"]}
    )
    checkpoints["Shop"] = pd.Series(["s"] * n, dtype="string")
    spec = data_sheetspec("checkpoints", checkpoints, status_text="Refreshed")
    assert spec.tables[0].last_row == EXCEL_MAX_ROWS
    data = _write([spec])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet3.xml")
        table = z.read("xl/tables/table3.xml")
    assert f'<dimension ref="A1:J{EXCEL_MAX_ROWS}"/>'.encode() in sheet
    assert f'<row r="{EXCEL_MAX_ROWS}">'.encode() in sheet
    assert f'<row r="{EXCEL_MAX_ROWS + 1}"'.encode() not in sheet
    assert f'ref="A4:J{EXCEL_MAX_ROWS}"'.encode() in table
    assert b"only the first 1,048,572 of 1,048,575 rows fit in Excel" in sheet
    with pytest.raises(ValueError):
        WorkbookSettings(checkpoint_max_rows=MAX_DATA_ROWS + 1)


def test_carry_over_streams_the_old_sheet_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seller's cells right of ours are found however the old sheet is cut into reads."""
    from xl_lazada.workbook import sheetxml

    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>ours {r}</t></is></c>'
        f'<c r="AF{r}" s="3"><f>LEN(A{r})</f><v>7</v></c></row>'
        for r in range(5, 400)
    )
    old = (
        '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships"><sheetPr codeName="Sheet1"/><dimension ref="A1:AF399"/>'
        '<cols><col min="1" max="1" width="9"/><col min="32" max="32" width="30" '
        f'customWidth="1"/></cols><sheetData>{rows}</sheetData><drawing r:id="rId3"/>'
        "</worksheet>"
    ).encode()
    whole = sheetxml.carry_over(old, 30)
    monkeypatch.setattr(sheetxml, "_READ", 37)
    pieces = sheetxml.carry_over(io.BytesIO(old), 30)
    for got in (whole, pieces):
        assert sorted(got.cells) == list(range(5, 400))
        assert got.cells[77] == ['<c r="AF77" s="3"><f>LEN(A77)</f><v>7</v></c>']
        assert got.code_name == "Sheet1" and got.max_col == 32
        assert got.cols == ['<col min="32" max="32" width="30" customWidth="1"/>']
        assert got.tail["drawing"] == '<drawing r:id="rId3"/>'


def test_protection_is_carried_but_not_its_namesake_inside_an_extension() -> None:
    """Sheet protection and its editable ranges are kept where Excel writes them; Excel's
    x14 extension of the ranges (an element of the same name inside <extLst>) stays
    inside the kept <extLst>, never copied out of it (its prefix is declared there)."""
    from xml.etree import ElementTree

    from xl_lazada.workbook import sheetxml

    x14 = (
        '<extLst><ext uri="{FC87AEE6-9EDD-4A0A-B7FB-166176984837}" '
        'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        '<x14:protectedRanges><x14:protectedRange sqref="AF5:AF9" name="Notes"/>'
        "</x14:protectedRanges></ext></extLst>"
    )
    protection = '<sheetProtection sheet="1" objects="1"/>'
    plain = '<protectedRanges><protectedRange sqref="AG5:AG9" name="More"/></protectedRanges>'
    head = (
        '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main"><dimension ref="A1"/><sheetData/>'
    )
    only_x14 = sheetxml.carry_over(f"{head}{protection}{x14}</worksheet>".encode(), 30)
    assert only_x14.tail == {"sheetProtection": protection, "extLst": x14}
    both = sheetxml.carry_over(f"{head}{protection}{plain}{x14}</worksheet>".encode(), 30)
    assert both.tail["protectedRanges"] == plain and both.tail["extLst"] == x14

    from xl_lazada.workbook.build import initial_sheetspecs

    with zipfile.ZipFile(io.BytesIO(build_workbook_bytes())) as z:
        styles = StyleRegistry(z.read("xl/styles.xml"))
    out = io.BytesIO()
    sheetxml.write_sheet(out, initial_sheetspecs()[0], styles, only_x14, [])
    xml = out.getvalue()
    ElementTree.fromstring(xml)  # well formed: every prefix declared where it is used
    assert xml.count(b"protectedRanges>") == 2  # the x14 one's open and close, once
    assert xml.index(b"</sheetData><sheetProtection") < xml.index(b"<extLst>")


def test_every_setting_is_explained_on_the_settings_sheet() -> None:
    from dataclasses import fields

    from xl_lazada.workbook.contract import SETTING_KEYS

    keys = {k.key: k for k in SETTING_KEYS}
    for f in (*fields(RuleSettings), *fields(WorkbookSettings)):
        assert f.name in keys
        assert "see the documentation" not in keys[f.name].meaning, f"explain {f.name}"


def test_a_column_excel_added_to_our_table_stays_in_it(tmp_path: Path) -> None:
    """A seller who types a header right next to LazadaOrders makes Excel extend the table;
    the refresh keeps that column (its header, values and formula) in the table."""
    from xl_lazada.tables.columns import frame as make_frame

    base = build_workbook_bytes()
    parts = {}
    with zipfile.ZipFile(io.BytesIO(base)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    table = parts["xl/tables/table1.xml"].decode()
    table = (
        table.replace('<tableColumns count="30">', '<tableColumns count="31">')
        .replace(
            "</tableColumns>",
            '<tableColumn id="31" name="Margin" xr3:uid="{AB}">'
            "<calculatedColumnFormula>LazadaOrders[[#This Row],[Total]]*0.1"
            "</calculatedColumnFormula></tableColumn></tableColumns>",
        )
        .replace('ref="A4:AD5"', 'ref="A4:AE5"')
    )
    parts["xl/tables/table1.xml"] = table.encode()
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = sheet.replace(
        "</row></sheetData>",
        '<c r="AE4" t="inlineStr"><is><t>Margin</t></is></c></row>'
        '<row r="5"><c r="AE5"><f>LazadaOrders[[#This Row],[Total]]*0.1</f><v>0</v></c></row>'
        "</sheetData>",
    ).replace('<dimension ref="A1:AD5"/>', '<dimension ref="A1:AE5"/>')
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    df = make_frame(TABLES["orders"], [{"Order number": "1", "Total": 10.0}, {"Order number": "2"}])
    wb = _load(_write([data_sheetspec("orders", df)], buf.getvalue()), tmp_path)
    ws = wb["Orders"]
    t = ws.tables["LazadaOrders"]
    assert t.ref == "A4:AE6"
    assert [c.name for c in t.tableColumns][-1] == "Margin"
    assert ws["AE4"].value == "Margin"
    assert ws["AE5"].value == "=LazadaOrders[[#This Row],[Total]]*0.1"
    assert ws["AE6"].value == "=LazadaOrders[[#This Row],[Total]]*0.1"  # filled down
    assert ws["AE7"].value is None  # and not below the table


def test_settings_are_read_from_the_sheet_as_the_seller_left_it(tmp_path: Path) -> None:
    """Values typed in Excel (numbers, shared strings, TRUE) reach the rules; a note below
    the keys, after a blank row, is not a setting."""
    import re

    from xl_lazada.workbook.contract import SETTING_KEYS
    from xl_lazada.workbook.refresh import book_settings

    keys = [k.key for k in SETTING_KEYS]
    parts = {}
    with zipfile.ZipFile(io.BytesIO(build_workbook_bytes())) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = parts["xl/worksheets/sheet7.xml"].decode()

    def value(key: str, xml: str) -> None:
        nonlocal sheet
        row = 4 + keys.index(key)
        sheet, n = re.subn(rf'<c r="B{row}"[^>]*?(/>|>.*?</c>)', xml.replace("@", f"B{row}"), sheet)
        assert n == 1

    value("at_risk_hours", '<c r="@"><v>6</v></c>')
    value("shop", '<c r="@" t="s"><v>0</v></c>')
    value("count_makeup_workdays", '<c r="@" t="b"><v>1</v></c>')
    value("checkpoint_days", '<c r="@" t="inlineStr"><is><t>7</t></is></c>')
    sheet = sheet.replace(
        "</sheetData>",
        '<row r="40"><c r="A40" t="inlineStr"><is><t>my note</t></is></c></row></sheetData>',
    )
    parts["xl/worksheets/sheet7.xml"] = sheet.encode()
    parts["xl/sharedStrings.xml"] = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        b'2006/main" count="1" uniqueCount="1"><si><t>my-shop</t></si></sst>'
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    book = tmp_path / "Shop.xlsm"
    with zipfile.ZipFile(book, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    rules, settings = book_settings(book)
    assert rules.at_risk_hours == 6.0 and rules.count_makeup_workdays is True
    assert settings.shop == "my-shop" and settings.checkpoint_days == 7
