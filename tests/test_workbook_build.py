"""``xl-lazada workbook new`` and the workbook committed in ``workbook/xl_lazada.xlsm``."""

from __future__ import annotations

import io
import re
import tomllib
import zipfile
from pathlib import Path

import openpyxl
import pytest

from xl_lazada.cli import main
from xl_lazada.workbook.build import build_workbook_bytes, default_sources, module_name
from xl_lazada.workbook.contract import (
    DATA_SHEETS,
    REPORT_LABELS,
    REPORT_REFS_HEADER_TEXT,
    SETTING_KEYS,
    SHEET_NAMES,
    XLWINGS_CONF_VALUES,
)

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "workbook" / "xl_lazada.xlsm"
REBUILD = "rebuild it: xl-lazada workbook new workbook/xl_lazada.xlsm --force"


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _vba_sources(data: bytes, tmp_path: Path, name: str) -> dict[str, str]:
    from oletools.olevba import VBA_Parser

    path = tmp_path / name
    path.write_bytes(data)
    parser = VBA_Parser(str(path))
    try:
        return {
            module.rsplit(".", 1)[0]: code.replace("\r\n", "\n")
            for _, _, module, code in parser.extract_macros()
        }
    finally:
        parser.close()


def test_the_committed_workbook_is_built_from_its_sources(tmp_path: Path) -> None:
    built = build_workbook_bytes()
    committed = COMMITTED.read_bytes()
    new, old = _parts(built), _parts(committed)
    assert sorted(new) == sorted(old), f"the parts differ; {REBUILD}"
    for name in new:
        if name != "xl/vbaProject.bin":  # compared by its source text below
            assert new[name] == old[name], f"{name} is out of date; {REBUILD}"
    assert _vba_sources(built, tmp_path, "new.xlsm") == _vba_sources(
        committed, tmp_path, "old.xlsm"
    ), f"the VBA modules are out of date; {REBUILD}"


def test_every_vba_source_file_is_in_the_workbook(tmp_path: Path) -> None:
    modules = _vba_sources(build_workbook_bytes(), tmp_path, "b.xlsm")
    for path in (default_sources() / "vba").iterdir():
        if path.suffix.lower() not in (".bas", ".cls"):
            continue
        name = module_name(path)
        assert name in modules, name
        source = path.read_text("utf-8").replace("\r\n", "\n")
        body = [line for line in source.splitlines() if not line.startswith("Attribute VB_")]
        got = [line for line in modules[name].splitlines() if not line.startswith("Attribute VB_")]
        assert got == body, name


def test_opening_the_workbook_registers_the_formulas_help(tmp_path: Path) -> None:
    """ThisWorkbook's Workbook_Open runs RegisterLazadaFunctionHelp (the function wizard's
    descriptions), in the workbook's own document module, not a class module beside it."""
    modules = _vba_sources(build_workbook_bytes(), tmp_path, "b.xlsm")
    this = modules["ThisWorkbook"]
    assert 'Attribute VB_Base = "0{00020819-0000-0000-C000-000000000046}"' in this  # the book's
    m = re.search(r"^Private Sub Workbook_Open\(\)\n(.*?)^End Sub", this, re.M | re.S)
    assert m is not None, this
    assert re.search(r"^\s+RegisterLazadaFunctionHelp\s*$", m.group(1), re.M)
    assert "ThisWorkbook.Saved = wasSaved" in m.group(1)  # opening is not an unsaved change
    assert "Public Sub RegisterLazadaFunctionHelp()" in modules["LazadaFunctionHelp"]
    assert [n for n in modules if n.casefold() == "thisworkbook"] == ["ThisWorkbook"]


def test_the_vba_module_matches_the_pinned_xlwings() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = [d for d in project["project"]["dependencies"] if d.startswith("xlwings")]
    assert len(pins) == 1 and "==" in pins[0], "xlwings must be pinned exactly"
    pinned = pins[0].split("==", 1)[1].split()[0].strip()
    bas = (default_sources() / "vba" / "xlwings.bas").read_text("utf-8")
    m = re.search(r'Public Const XLWINGS_VERSION As String = "([^"]+)"', bas)
    assert m is not None
    assert m.group(1) == pinned, (
        f"workbook/vba/xlwings.bas is xlwings {m.group(1)} but pyproject.toml pins {pinned}; "
        "copy xlwings.bas from the installed xlwings package and rebuild the workbook"
    )


def test_the_build_is_deterministic() -> None:
    assert build_workbook_bytes() == build_workbook_bytes()


def test_workbook_new_makes_the_contracts_sheets_and_a_ribbon(tmp_path: Path) -> None:
    path = tmp_path / "Shop.xlsm"
    assert main(["workbook", "new", str(path)]) == 0
    parts = _parts(path.read_bytes())
    types = parts["[Content_Types].xml"].decode()
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
    rels = parts["_rels/.rels"].decode()
    assert (
        'Type="http://schemas.microsoft.com/office/2007/relationships/ui/extensibility" '
        'Target="customUI/customUI14.xml"' in rels
    )
    ribbon = parts["customUI/customUI14.xml"].decode()
    assert 'xmlns="http://schemas.microsoft.com/office/2009/07/customui"' in ribbon
    labels = re.findall(r'label="([^"]+)"', ribbon)
    for label in (
        "Lazada",
        "Refresh all",
        "Refresh orders",
        "Refresh tracking",
        "Refresh settlements",
        "Build report",
        "Import tracking CSV",
        "Settings",
    ):
        assert label in labels
    from pyopenvba import check_file

    report = check_file(path)
    assert not report.issues, report.issues

    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(SHEET_NAMES)
    for sheet in DATA_SHEETS.values():
        ws = wb[sheet.name]
        assert ws["A1"].value and ws["A2"].value == "Not refreshed yet"
        assert [c.value for c in ws[4]] == sheet.headers
        table = ws.tables[sheet.table_name]
        assert table.ref.startswith("A4:")
        for i, col in enumerate(sheet.columns, start=1):
            assert ws.cell(row=4, column=i).value == col.name
            letter = openpyxl.utils.get_column_letter(i)
            assert ws.column_dimensions[letter].width == pytest.approx(col.width)
        assert ws.freeze_panes == "A5"
        assert ws.page_setup.orientation == "landscape"
    report_ws = wb["Report"]
    for ref, label in REPORT_LABELS.items():
        assert report_ws[ref].value == label
    assert report_ws["A11"].value == REPORT_REFS_HEADER_TEXT
    settings = wb["Settings"]
    assert [settings.cell(row=3, column=c).value for c in (1, 2, 3)] == [
        "Setting",
        "Value",
        "Meaning",
    ]
    keys = [settings.cell(row=r, column=1).value for r in range(4, 4 + len(SETTING_KEYS))]
    assert keys == [k.key for k in SETTING_KEYS]
    conf = wb["xlwings.conf"]
    assert conf["A1"].value == "UDF Modules" and conf["B1"].value == "xl_lazada.excel.udfs"
    assert [conf.cell(row=r, column=1).value for r in range(1, len(XLWINGS_CONF_VALUES) + 1)] == [
        k for k, _ in XLWINGS_CONF_VALUES
    ]
    assert "_xlnm.Print_Titles" in wb["Orders"].defined_names or wb["Orders"].print_title_rows


def test_workbook_new_refuses_to_overwrite_without_force(tmp_path: Path, capsys) -> None:
    path = tmp_path / "Shop.xlsm"
    path.write_bytes(b"the seller's own file")
    assert main(["workbook", "new", str(path)]) != 0
    assert "already exists" in capsys.readouterr().err
    assert path.read_bytes() == b"the seller's own file"
    assert main(["workbook", "new", str(path), "--force"]) == 0
    assert zipfile.is_zipfile(path)
    assert main(["workbook", "new", str(tmp_path / "book.xlsx")]) != 0
    assert ".xlsm" in capsys.readouterr().err
