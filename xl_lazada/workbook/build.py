"""``xl-lazada workbook new``: a ready ``.xlsm`` built from its sources, on any OS.

Sources live in the repository's ``workbook/`` folder (or ``XL_LAZADA_WORKBOOK_SOURCES``):
``customUI/customUI14.xml`` (the Lazada ribbon tab), ``vba/*.bas`` and ``vba/*.cls`` (the
``Ribbon`` module, xlwings' own module of the pinned version, generated UDF wrappers and the
``Dictionary`` class xlwings needs on the Mac). The sheets come from the contract and are
rendered by the same writer the refresh uses; the VBA project is made by pyOpenVBA. Output
is deterministic apart from the VBA project's binary layout: fixed timestamps, fixed order.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from ..errors import XlLazadaError
from .contract import DATA_SHEETS, HEADER_ROW, SHEET_NAMES, XLWINGS_CONF, XLWINGS_CONF_VALUES
from .package import (
    FIXED_DATE,
    NS_MAIN,
    NS_REL,
    RT_CORE,
    RT_EXTENDED,
    RT_OFFICE_DOCUMENT,
    RT_RIBBON,
    RT_STYLES,
    RT_THEME,
    RT_WORKSHEET,
    Package,
    Relationship,
    rels_xml,
    xml_attr,
)
from .sheets import (
    data_sheetspec,
    report_input_sheetspec,
    report_output_placeholder,
    settings_sheetspec,
    xlwings_conf_sheetspec,
)
from .sheetspec import SheetSpec
from .styles import BASE_STYLES_XML
from .write import write_sheets

CT_XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_THEME = "application/vnd.openxmlformats-officedocument.theme+xml"
CT_CORE = "application/vnd.openxmlformats-package.core-properties+xml"
CT_APP = "application/vnd.openxmlformats-officedocument.extended-properties+xml"
CT_VBA = "application/vnd.ms-office.vbaProject"
RIBBON_PART = "customUI/customUI14.xml"


class BuildError(XlLazadaError):
    """The workbook sources are missing or unusable."""


def default_sources() -> Path:
    """The ``workbook/`` source folder: ``XL_LAZADA_WORKBOOK_SOURCES``, the repository's
    folder next to the package, or the copy a wheel installs under ``<prefix>/share``."""
    env = os.environ.get("XL_LAZADA_WORKBOOK_SOURCES")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    installed = Path(sys.prefix) / "share" / "xl_lazada" / "workbook"  # wheel data-files
    for candidate in (here.parent.parent / "workbook", installed):
        if (candidate / "customUI" / "customUI14.xml").is_file():
            return candidate
    raise BuildError("the workbook sources (customUI, vba) were not found")


def vba_sources(sources: Path) -> list[Path]:
    """Every ``vba/*.bas`` and ``vba/*.cls`` in a stable order."""
    folder = sources / "vba"
    files = sorted(
        (p for p in folder.iterdir() if p.suffix.lower() in (".bas", ".cls")),
        key=lambda p: p.name.lower(),
    )
    if not files:
        raise BuildError(f"no VBA modules in {folder}")
    return files


def module_name(path: Path) -> str:
    """The module's ``Attribute VB_Name`` (the file stem when it has none)."""
    for line in path.read_text("utf-8", errors="replace").splitlines()[:12]:
        if line.startswith("Attribute VB_Name"):
            return line.split("=", 1)[1].strip().strip('"')
    return path.stem


def initial_sheetspecs() -> list[SheetSpec]:
    """The sheets of a new workbook, in workbook order."""
    specs: dict[str, SheetSpec] = {s.name: data_sheetspec(key) for key, s in DATA_SHEETS.items()}
    specs["Report"] = report_input_sheetspec()
    specs["Report output"] = report_output_placeholder()
    specs["Settings"] = settings_sheetspec()
    specs[XLWINGS_CONF] = xlwings_conf_sheetspec(XLWINGS_CONF_VALUES)
    return [specs[name] for name in SHEET_NAMES]


def _skeleton(sources: Path, sheet_names: Sequence[str]) -> bytes:
    """A package with empty sheets, styles, theme and the ribbon, no VBA yet."""
    parts: dict[str, bytes] = {}
    sheet_rels = [
        Relationship(f"rId{i}", RT_WORKSHEET, f"worksheets/sheet{i}.xml")
        for i in range(1, len(sheet_names) + 1)
    ]
    n = len(sheet_names)
    wb_rels = [
        *sheet_rels,
        Relationship(f"rId{n + 1}", RT_STYLES, "styles.xml"),
        Relationship(f"rId{n + 2}", RT_THEME, "theme/theme1.xml"),
    ]
    parts["_rels/.rels"] = rels_xml(
        [
            Relationship("rId1", RT_OFFICE_DOCUMENT, "xl/workbook.xml"),
            Relationship("rId2", RT_CORE, "docProps/core.xml"),
            Relationship("rId3", RT_EXTENDED, "docProps/app.xml"),
            Relationship("rId4", RT_RIBBON, RIBBON_PART),
        ]
    )
    parts["docProps/core.xml"] = _core_xml()
    parts["docProps/app.xml"] = _app_xml(sheet_names)
    parts["xl/workbook.xml"] = _workbook_xml(sheet_names)
    parts["xl/_rels/workbook.xml.rels"] = rels_xml(wb_rels)
    parts["xl/styles.xml"] = BASE_STYLES_XML
    parts["xl/theme/theme1.xml"] = _theme_xml()
    empty = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}"><sheetData/></worksheet>'
    ).encode()
    for i in range(1, n + 1):
        parts[f"xl/worksheets/sheet{i}.xml"] = empty
    ribbon = (sources / "customUI" / "customUI14.xml").read_bytes()
    parts[RIBBON_PART] = ribbon
    overrides = {
        "/xl/workbook.xml": CT_XLSM_MAIN,
        "/xl/styles.xml": CT_STYLES,
        "/xl/theme/theme1.xml": CT_THEME,
        "/docProps/core.xml": CT_CORE,
        "/docProps/app.xml": CT_APP,
        **{f"/xl/worksheets/sheet{i}.xml": CT_WORKSHEET for i in range(1, n + 1)},
    }
    parts["[Content_Types].xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Default Extension="bin" ContentType="{CT_VBA}"/>'
        + "".join(f'<Override PartName="{p}" ContentType="{ct}"/>' for p, ct in overrides.items())
        + "</Types>"
    ).encode()
    order = [
        "[Content_Types].xml",
        "_rels/.rels",
        "docProps/app.xml",
        "docProps/core.xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        *[f"xl/worksheets/sheet{i}.xml" for i in range(1, n + 1)],
        "xl/theme/theme1.xml",
        "xl/styles.xml",
        RIBBON_PART,
    ]
    return _zip_parts({name: parts[name] for name in order})


def _zip_parts(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            z.writestr(info, data, compresslevel=6)
    return buf.getvalue()


def _workbook_xml(sheet_names: Sequence[str]) -> bytes:
    sheets = "".join(
        f'<sheet name="{xml_attr(name)}" sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(sheet_names, start=1)
    )
    names = "".join(
        f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">'
        f"'{xml_attr(name)}'!${HEADER_ROW}:${HEADER_ROW}</definedName>"
        for i, name in enumerate(sheet_names)
        if name in {s.name for s in DATA_SHEETS.values()}
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">'
        '<workbookPr codeName="ThisWorkbook" defaultThemeVersion="164011"/>'
        '<bookViews><workbookView xWindow="0" yWindow="0" windowWidth="28800" '
        'windowHeight="15000" activeTab="0"/></bookViews>'
        f"<sheets>{sheets}</sheets>"
        + (f"<definedNames>{names}</definedNames>" if names else "")
        + '<calcPr calcId="191029"/></workbook>'
    ).encode()


def _core_xml() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        b"<dc:title>Lazada orders</dc:title><dc:creator>xl-lazada</dc:creator>"
        b"</cp:coreProperties>"
    )


def _app_xml(sheet_names: Sequence[str]) -> bytes:
    titles = "".join(f"<vt:lpstr>{xml_attr(n)}</vt:lpstr>" for n in sheet_names)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        "<Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity>"
        '<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets'
        f"</vt:lpstr></vt:variant><vt:variant><vt:i4>{len(sheet_names)}</vt:i4></vt:variant>"
        f'</vt:vector></HeadingPairs><TitlesOfParts><vt:vector size="{len(sheet_names)}" '
        f'baseType="lpstr">{titles}</vt:vector></TitlesOfParts></Properties>'
    ).encode()


def _theme_xml() -> bytes:
    from openpyxl.writer.theme import theme_xml  # Office's default theme, as openpyxl ships it

    return theme_xml.encode("utf-8") if isinstance(theme_xml, str) else theme_xml


def _add_vba(package: bytes, modules: Sequence[Path]) -> bytes:
    """The package with a VBA project holding ``modules`` (pyOpenVBA does the binary).

    The new project has the document modules Excel gives every workbook (``ThisWorkbook``
    and one per sheet); a source named like one of them (``ThisWorkbook.cls``: its
    ``Workbook_Open``) becomes that module's code instead of a module of its own."""
    from pyopenvba import ExcelFile
    from pyopenvba.vba import VBAModuleKind

    with tempfile.TemporaryDirectory(prefix="xl-lazada-build-") as tmp:
        src = Path(tmp) / "in.xlsm"
        dst = Path(tmp) / "out.xlsm"
        src.write_bytes(package)
        with ExcelFile(src) as book:
            project = book.add_vba_project()
            documents = {name.casefold(): name for name in project.module_names()}
            for path in modules:
                text = path.read_bytes().decode("utf-8")
                text = text.replace("\r\n", "\n").replace("\n", "\r\n")
                name = module_name(path)
                if name.casefold() in documents:
                    project.get_module(documents[name.casefold()]).body = _body(text)
                    continue
                kind = (
                    VBAModuleKind.other if path.suffix.lower() == ".cls" else VBAModuleKind.standard
                )
                project.add_module(name, text, kind=kind)
            book.save(dst)
        return dst.read_bytes()


def _body(text: str) -> str:
    """A module's source without its leading ``Attribute`` lines (a document module keeps
    the header Excel gives it)."""
    lines = text.split("\r\n")
    while lines and lines[0].startswith("Attribute "):
        lines.pop(0)
    return "\r\n".join(lines)


def _normalise(package: bytes) -> bytes:
    """Rewrite a package with fixed timestamps and the parts in a stable order."""
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        names = z.namelist()
        first = ["[Content_Types].xml", "_rels/.rels"]
        ordered = [n for n in first if n in names] + sorted(n for n in names if n not in first)
        return _zip_parts({n: z.read(n) for n in ordered})


def build_workbook_bytes(sources: Path | None = None) -> bytes:
    """The bytes of a new workbook built from ``sources`` (default: :func:`default_sources`)."""
    sources = sources or default_sources()
    modules = vba_sources(sources)
    skeleton = _skeleton(sources, SHEET_NAMES)
    with_vba = _add_vba(skeleton, modules)
    out = io.BytesIO()
    with Package(io.BytesIO(with_vba)) as pkg:
        write_sheets(pkg, initial_sheetspecs(), out)
    return _normalise(out.getvalue())


def build_workbook(
    path: str | os.PathLike[str], *, sources: Path | None = None, force: bool = False
) -> Path:
    """Write a new workbook to ``path`` (refusing to overwrite unless ``force``)."""
    from .save import atomic_write

    target = Path(path)
    if target.suffix.lower() != ".xlsm":
        raise BuildError(f"{target.name}: a workbook with macros must end in .xlsm")
    if target.exists() and not force:
        raise BuildError(f"{target} already exists; pass --force to replace it")
    data = build_workbook_bytes(sources)

    def write(stream: IO[bytes]) -> None:
        stream.write(data)

    atomic_write(target, write, backup=False)
    return target


__all__ = [
    "BuildError",
    "build_workbook",
    "build_workbook_bytes",
    "default_sources",
    "initial_sheetspecs",
    "module_name",
    "vba_sources",
]
