"""Test helper: put a seller's own content into a workbook by editing its package XML.

What a real seller adds and openpyxl cannot write (or silently drops): their own sheet
with formulas, a chart and a **sparkline** (an x14 extension), a defined name, shared
strings, and extra columns (text, a formula, a column width, a data validation and a
conditional format) to the right of the Orders table, and the Orders sheet protected.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SELLER_SHEET = "My sheet"
SELLER_PARTS = (
    "xl/worksheets/sheet9.xml",
    "xl/worksheets/_rels/sheet9.xml.rels",
    "xl/drawings/drawing1.xml",
    "xl/drawings/_rels/drawing1.xml.rels",
    "xl/charts/chart1.xml",
    "xl/sharedStrings.xml",
)
NOTES = ["My notes", "call buyer", "=not a formula", "re-ship"]
#: The seller protected the Orders sheet (Excel's Review > Protect Sheet, with a password),
#: leaving their notes column editable.
PROTECTION = (
    '<sheetProtection algorithmName="SHA-512" hashValue="c2VsbGVyJ3MgaGFzaA==" '
    'saltValue="c2FsdA==" spinCount="100000" sheet="1" objects="1" scenarios="1"/>'
    '<protectedRanges><protectedRange sqref="AF5:AF500" name="Notes"/></protectedRanges>'
)
SPARKLINE = (
    '<extLst><ext uri="{05C60535-1F16-4fd2-B633-F4F36F0B64E0}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    '<x14:sparklineGroups xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:sparklineGroup displayEmptyCellsAs="gap"><x14:colorSeries rgb="FF376092"/>'
    '<x14:colorNegative rgb="FFD00000"/><x14:colorAxis rgb="FF000000"/>'
    '<x14:colorMarkers rgb="FFD00000"/><x14:colorFirst rgb="FFD00000"/>'
    '<x14:colorLast rgb="FFD00000"/><x14:colorHigh rgb="FFD00000"/>'
    '<x14:colorLow rgb="FFD00000"/><x14:sparklines><x14:sparkline>'
    "<xm:f>'My sheet'!A2:A6</xm:f><xm:sqref>B8</xm:sqref></x14:sparkline>"
    "</x14:sparklines></x14:sparklineGroup></x14:sparklineGroups></ext></extLst>"
)


def _seller_sheet() -> bytes:
    rows = ['<row r="1"><c r="A1" t="s"><v>1</v></c></row>']
    for r, v in zip(range(2, 7), (3, 7, 2, 9, 4), strict=True):
        rows.append(f'<row r="{r}"><c r="A{r}"><v>{v}</v></c></row>')
    rows.append(
        '<row r="7"><c r="A7"><f>SUM(A2:A6)</f><v>25</v></c>'
        '<c r="B7"><f>COUNTA(LazadaOrders[Order number])</f><v>0</v></c></row>'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
        'mc:Ignorable="x14ac"><dimension ref="A1:B8"/><sheetData>'
        + "".join(rows)
        + '</sheetData><drawing r:id="rId1"/>'
        + SPARKLINE
        + "</worksheet>"
    ).encode()


_DRAWING = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><xdr:twoCellAnchor>'
    "<xdr:from><xdr:col>3</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row>"
    "<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>10</xdr:col><xdr:colOff>0"
    "</xdr:colOff><xdr:row>15</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
    '<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="2" name="Chart 1"/>'
    '<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr><xdr:xfrm><a:off x="0" y="0"/>'
    '<a:ext cx="0" cy="0"/></xdr:xfrm><a:graphic><a:graphicData '
    'uri="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:chart '
    'xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
    f'xmlns:r="{REL}" r:id="rId1"/></a:graphicData></a:graphic></xdr:graphicFrame>'
    "<xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>"
).encode()

_CHART = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
    f'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="{REL}">'
    '<c:chart><c:plotArea><c:layout/><c:barChart><c:barDir val="col"/>'
    '<c:grouping val="clustered"/><c:varyColors val="0"/><c:ser><c:idx val="0"/>'
    "<c:order val=\"0\"/><c:val><c:numRef><c:f>'My sheet'!$A$2:$A$6</c:f></c:numRef>"
    '</c:val></c:ser><c:axId val="10"/><c:axId val="20"/></c:barChart><c:catAx>'
    '<c:axId val="10"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
    '<c:delete val="0"/><c:axPos val="b"/><c:crossAx val="20"/></c:catAx><c:valAx>'
    '<c:axId val="20"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
    '<c:delete val="0"/><c:axPos val="l"/><c:crossAx val="10"/></c:valAx></c:plotArea>'
    '<c:plotVisOnly val="1"/></c:chart></c:chartSpace>'
).encode()


def _rels(*rels: tuple[str, str, str]) -> bytes:
    body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{g}"/>' for i, t, g in rels)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{body}</Relationships>"
    ).encode()


def _shared_strings() -> bytes:
    items = [*NOTES, "Units"]
    # index 0..3: notes for the Orders sheet; 4: the seller sheet's A1 header
    body = "".join(f"<si><t>{s}</t></si>" for s in items)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<sst xmlns="{MAIN}" count="{len(items)}" uniqueCount="{len(items)}">{body}</sst>'
    ).encode()


def _orders_extra(sheet: bytes) -> bytes:
    """Columns AF (notes, shared strings) and AG (a formula) right of the Orders table,
    with a width, a data validation and a conditional format on them."""
    text = sheet.decode()
    # Row 4 (the header row) gets "My notes"; rows 5-7 get notes and a formula.
    text = re.sub(
        r'(<row r="4"[^>]*>.*?)(</row>)',
        lambda m: m.group(1) + '<c r="AF4" t="s"><v>0</v></c>' + m.group(2),
        text,
        count=1,
        flags=re.S,
    )
    extra_rows = "".join(
        f'<row r="{r}"><c r="AF{r}" t="s"><v>{i}</v></c>'
        f'<c r="AG{r}"><f>LEN(AF{r})</f><v>{len(NOTES[i])}</v></c></row>'
        for r, i in ((5, 1), (6, 2), (7, 3))
    )
    text = re.sub(r'<row r="5".*?</row>', "", text, flags=re.S)  # an empty body row, if any
    text = text.replace("</sheetData>", extra_rows + "</sheetData>", 1)
    text = text.replace("</cols>", '<col min="32" max="32" width="30" customWidth="1"/></cols>')
    validation = (
        '<dataValidations count="1"><dataValidation type="list" allowBlank="1" '
        'sqref="AF5:AF500"><formula1>"call buyer,re-ship,done"</formula1>'
        "</dataValidation></dataValidations>"
    )
    conditional = (
        '<conditionalFormatting sqref="AG5:AG500"><cfRule type="cellIs" dxfId="0" '
        'priority="1" operator="greaterThan"><formula>8</formula></cfRule>'
        "</conditionalFormatting>"
    )
    text = text.replace("<pageMargins", conditional + validation + "<pageMargins", 1)
    text = text.replace("</sheetData>", "</sheetData>" + PROTECTION, 1)
    text = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:AG7"/>', text, count=1)
    # A sparkline over the notes' lengths, in the sheet's extLst (openpyxl drops these).
    orders_sparkline = SPARKLINE.replace("'My sheet'!A2:A6", "Orders!AG5:AG7").replace(
        "<xm:sqref>B8</xm:sqref>", "<xm:sqref>AH4</xm:sqref>"
    )
    text = text.replace("</worksheet>", orders_sparkline + "</worksheet>")
    return text.encode()


def add_seller_content(path: Path) -> None:
    """Edit ``path`` in place: add the seller's sheet, chart, sparkline, names and columns."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    workbook = parts["xl/workbook.xml"].decode()
    workbook = workbook.replace(
        "</sheets>", f'<sheet name="{SELLER_SHEET}" sheetId="9" r:id="rId100"/></sheets>'
    )
    workbook = workbook.replace(
        "</definedNames>",
        "<definedName name=\"MyTotal\">'My sheet'!$A$7</definedName></definedNames>",
    )
    parts["xl/workbook.xml"] = workbook.encode()
    wb_rels = parts["xl/_rels/workbook.xml.rels"].decode()
    wb_rels = wb_rels.replace(
        "</Relationships>",
        f'<Relationship Id="rId100" Type="{REL}/worksheet" Target="worksheets/sheet9.xml"/>'
        f'<Relationship Id="rId101" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>",
    )
    parts["xl/_rels/workbook.xml.rels"] = wb_rels.encode()
    parts["xl/worksheets/sheet9.xml"] = _seller_sheet()
    parts["xl/worksheets/_rels/sheet9.xml.rels"] = _rels(
        ("rId1", f"{REL}/drawing", "../drawings/drawing1.xml")
    )
    parts["xl/drawings/drawing1.xml"] = _DRAWING
    parts["xl/drawings/_rels/drawing1.xml.rels"] = _rels(
        ("rId1", f"{REL}/chart", "../charts/chart1.xml")
    )
    parts["xl/charts/chart1.xml"] = _CHART
    parts["xl/sharedStrings.xml"] = _shared_strings()
    # The seller sheet's A1 is shared string 4 ("Units").
    parts["xl/worksheets/sheet9.xml"] = parts["xl/worksheets/sheet9.xml"].replace(
        b'<c r="A1" t="s"><v>1</v></c>', b'<c r="A1" t="s"><v>4</v></c>'
    )
    parts["xl/worksheets/sheet1.xml"] = _orders_extra(parts["xl/worksheets/sheet1.xml"])
    ct = parts["[Content_Types].xml"].decode()
    ct = ct.replace(
        "</Types>",
        '<Override PartName="/xl/worksheets/sheet9.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/drawings/drawing1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.drawing+xml"/>'
        '<Override PartName="/xl/charts/chart1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.drawingml.chart+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    parts["[Content_Types].xml"] = ct.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    path.write_bytes(buf.getvalue())


def part_bytes(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}
