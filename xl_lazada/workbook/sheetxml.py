"""Streaming worksheet XML for a :class:`SheetSpec`, with the seller's cells carried over.

Why inline strings (``t="inlineStr"``) rather than the shared-strings table: the shared
strings part belongs to every sheet of the workbook, the seller's included. Appending our
text to it would grow it on every refresh (old entries cannot be dropped without rewriting
the seller's sheets), and rewriting it would mean rewriting their sheets. Inline strings
keep our data inside our own sheet part, so the seller's parts stay byte for byte the same;
Excel converts them to shared strings the next time it saves.

Every string is written as a literal string cell: never a formula (a buyer named ``=1+1``
stays text), XML-escaped, characters XML 1.0 forbids removed, Excel's ``_xHHHH_`` escape
neutralised, cut at 32,767 characters. Datetimes are Excel serial numbers with a date
format, booleans ``t="b"``. Frames are rendered a chunk of rows at a time, column by column.
"""

from __future__ import annotations

import heapq
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any, cast

import numpy as np
import pandas as pd

from .contract import DATETIME_FORMAT, EXCEL_MAX_CELL_CHARS
from .sheetspec import Block, Formula, SheetSpec, column_index, column_letter, range_ref
from .styles import StyleRegistry

CHUNK_ROWS = 4096
_EPOCH_NS = np.datetime64("1899-12-30T00:00:00", "ns").astype(np.int64)
_NS_PER_DAY = 86_400 * 10**9

# Characters XML 1.0 forbids, lone surrogates, and Excel's own _xHHHH_ escape.
_NEEDS_WORK = re.compile(
    "[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_"
)
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")


def clean_text(value: str) -> str:
    """Text as Excel will show it: forbidden characters removed, at most 32,767 chars."""
    if _NEEDS_WORK.search(value) is not None:
        value = _FORBIDDEN.sub("", value)
    return value[:EXCEL_MAX_CELL_CHARS]


def escape_text(value: str) -> str:
    """Cell text for inside ``<t>``: cleaned, capped, Excel-escape neutralised, XML-escaped."""
    if _NEEDS_WORK.search(value) is not None:
        value = _FORBIDDEN.sub("", value)[:EXCEL_MAX_CELL_CHARS]
        value = _EXCEL_ESCAPE.sub(r"_x005F_\1", value)
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value[:EXCEL_MAX_CELL_CHARS]


def text_xml(value: str) -> str:
    """The ``<t>`` element for a literal string."""
    value = escape_text(value)
    if value[:1].isspace() or value[-1:].isspace():
        return f'<t xml:space="preserve">{value}</t>'
    return f"<t>{value}</t>"


_FORBIDDEN_BUT_NUL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


_CONTROL_BYTES = bytes(range(1, 9)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20))
_XML_SPACE = (b" ", b"\t", b"\n", b"\r")
_EDGES = tuple(b"\x00" + c for c in _XML_SPACE) + tuple(c + b"\x00" for c in _XML_SPACE)


def _inspect(joined: str) -> tuple[bool, bool]:
    """(any character XML 1.0 forbids besides the NUL separators, any value starting or
    ending with XML whitespace), checked on the UTF-8 bytes: C scans those far faster
    than a regex scans the string."""
    try:
        data = joined.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return True, True
    forbidden = (
        len(data.translate(None, _CONTROL_BYTES)) != len(data)
        or b"\xef\xbf\xbe" in data
        or b"\xef\xbf\xbf" in data
    )
    edges = data[:1] in _XML_SPACE or data[-1:] in _XML_SPACE or any(e in data for e in _EDGES)
    return forbidden, edges


def _escaped_texts(series: pd.Series) -> tuple[list[str | None], bool]:
    """A text column, escaped for ``<t>``, and whether any value has leading or trailing
    whitespace (then ``xml:space="preserve"`` is needed). The column is joined and escaped
    in a few passes over one string (C speed) instead of per cell; the NUL separator is
    itself a character XML forbids, so it cannot collide with kept text."""
    values = series.to_numpy(dtype=object, na_value=None)
    present = [v for v in values if v is not None]
    if not present:
        return list(values), False
    joined = "\x00".join(present)
    too_long = len(joined) > EXCEL_MAX_CELL_CHARS and max(map(len, present)) > EXCEL_MAX_CELL_CHARS
    if too_long or joined.count("\x00") != len(present) - 1:
        # rare: NULs or huge cells inside values
        return [None if v is None else escape_text(v) for v in values], True
    forbidden, edges = _inspect(joined)
    if forbidden:
        joined = _FORBIDDEN_BUT_NUL.sub("", joined)
        edges = _inspect(joined)[1]
    if "_x" in joined:
        joined = _EXCEL_ESCAPE.sub(r"_x005F_\1", joined)
    if "&" in joined:
        joined = joined.replace("&", "&amp;")
    if "<" in joined:
        joined = joined.replace("<", "&lt;")
    if ">" in joined:
        joined = joined.replace(">", "&gt;")
    parts = cast(list[str | None], joined.split("\x00"))
    if len(present) == len(values):
        return parts, edges
    escaped = iter(parts)
    return [None if v is None else next(escaped) for v in values], edges


def excel_serial(value: datetime | date) -> float:
    """A naive datetime/date → Excel's 1900 serial (days since 1899-12-30)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        delta = value - datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    return float((value - date(1899, 12, 30)).days)


def _num(value: float) -> str:
    return repr(float(value))


def scalar_cell(ref: str, value: Any, s: int) -> str:
    """One cell; ``s`` is the xf index. Blank values give a styled empty cell (or nothing)."""
    st = f' s="{s}"' if s else ""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return f'<c r="{ref}"{st}/>' if s else ""
    if value is pd.NaT or (not isinstance(value, str | Formula) and _isna(value)):
        return f'<c r="{ref}"{st}/>' if s else ""
    if isinstance(value, Formula):
        return f'<c r="{ref}"{st}><f>{_esc(value.text[1:])}</f></c>'
    if isinstance(value, str):
        return f'<c r="{ref}"{st} t="inlineStr"><is>{text_xml(value)}</is></c>'
    if isinstance(value, bool | np.bool_):
        return f'<c r="{ref}"{st} t="b"><v>{int(bool(value))}</v></c>'
    if isinstance(value, datetime | date | pd.Timestamp):
        return f'<c r="{ref}"{st}><v>{_num(excel_serial(value))}</v></c>'
    if isinstance(value, time):
        secs = value.hour * 3600 + value.minute * 60 + value.second
        return f'<c r="{ref}"{st}><v>{_num(secs / 86400)}</v></c>'
    if isinstance(value, int | np.integer):
        return f'<c r="{ref}"{st}><v>{int(value)}</v></c>'
    if isinstance(value, float | Decimal | np.floating):
        number = float(value)
        if not math.isfinite(number):
            return f'<c r="{ref}"{st}/>' if s else ""
        return f'<c r="{ref}"{st}><v>{_num(number)}</v></c>'
    return f'<c r="{ref}"{st} t="inlineStr"><is>{text_xml(str(value))}</is></c>'


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def default_format(value: Any) -> str | None:
    if isinstance(value, datetime | pd.Timestamp):
        return DATETIME_FORMAT
    if isinstance(value, date):
        return "yyyy-mm-dd"
    return None


# --- rows of a sheet: (row number, first column, cells XML) fragments ----------------------

Fragment = tuple[int, int, str]


def _list_block_cells(block: Block, styles: StyleRegistry) -> dict[int, list[tuple[int, str]]]:
    rows: dict[int, list[tuple[int, str]]] = {}
    formats = list(block.number_formats or [])
    for i, values in enumerate(block.values):
        r = block.row + i
        for j, value in enumerate(values):
            c = block.col + j
            fmt = formats[j] if j < len(formats) and formats[j] else default_format(value)
            xml = scalar_cell(f"{column_letter(c)}{r}", value, styles.xf(block.style, fmt))
            if xml:
                rows.setdefault(r, []).append((c, xml))
    return rows


def _frame_chunks(block: Block, styles: StyleRegistry) -> Iterator[tuple[int, list[str]]]:
    """(first row, cells XML of each row) for a chunk of rows at a time."""
    frame: pd.DataFrame = block.values
    first = block.row
    if block.header:
        header = [
            scalar_cell(f"{column_letter(block.col + j)}{first}", str(name), styles.xf("header"))
            for j, name in enumerate(frame.columns)
        ]
        yield first, ["".join(header)]
        first += 1
    formats = list(block.number_formats or [None] * len(frame.columns))
    letters = [column_letter(block.col + j) for j in range(len(frame.columns))]
    for start in range(0, len(frame), CHUNK_ROWS):
        part = frame.iloc[start : start + CHUNK_ROWS]
        rows = [str(first + start + i) for i in range(len(part))]
        columns = [
            _column_cells(part.iloc[:, j], letters[j], rows, styles, block.style, formats[j])
            for j in range(len(frame.columns))
        ]
        yield first + start, list(map("".join, zip(*columns, strict=True)))


def _frame_fragments(block: Block, styles: StyleRegistry) -> Iterator[Fragment]:
    for first, cells in _frame_chunks(block, styles):
        for i, xml in enumerate(cells):
            if xml:
                yield (first + i, block.col, xml)


def _column_cells(
    series: pd.Series,
    letter: str,
    rows: Sequence[str],
    styles: StyleRegistry,
    style: str | None,
    fmt: str | None,
) -> list[str]:
    """One column of a chunk as cell XML strings ("" for blanks), vectorised per dtype."""
    if series.isna().all():
        return [""] * len(rows)
    kind = series.dtype.kind if not isinstance(series.dtype, pd.StringDtype) else "U"
    name = str(series.dtype)
    if name == "boolean" or kind == "b":
        s = styles.xf(style, fmt)
        st = f' s="{s}"' if s else ""
        values = series.to_numpy(dtype=object, na_value=None)
        return [
            "" if v is None else f'<c r="{letter}{r}"{st} t="b"><v>{int(v)}</v></c>'
            for r, v in zip(rows, values, strict=True)
        ]
    if kind == "M":
        s = styles.xf(style, fmt or DATETIME_FORMAT)
        st = f' s="{s}"' if s else ""
        ns = series.to_numpy(dtype="datetime64[ns]").astype(np.int64)
        isnat = series.isna().to_numpy()
        serials = ((ns - _EPOCH_NS) / _NS_PER_DAY).tolist()
        return [
            "" if nat else f'<c r="{letter}{r}"{st}><v>{v!r}</v></c>'
            for r, v, nat in zip(rows, serials, isnat, strict=True)
        ]
    if kind == "f":
        s = styles.xf(style, fmt)
        st = f' s="{s}"' if s else ""
        arr = series.to_numpy(dtype=float, na_value=np.nan)
        ok = np.isfinite(arr).tolist()
        return [
            f'<c r="{letter}{r}"{st}><v>{v!r}</v></c>' if good else ""
            for r, v, good in zip(rows, arr.tolist(), ok, strict=True)
        ]
    if kind in "iu" or name in ("Int64", "Int32", "Int16", "Int8", "UInt64", "UInt32"):
        s = styles.xf(style, fmt)
        st = f' s="{s}"' if s else ""
        values = series.to_numpy(dtype=object, na_value=None)
        return [
            "" if v is None else f'<c r="{letter}{r}"{st}><v>{int(v)}</v></c>'
            for r, v in zip(rows, values, strict=True)
        ]
    if kind == "U" or name in ("string", "str"):
        s = styles.xf(style, fmt)
        st = f' s="{s}"' if s else ""
        values, edges = _escaped_texts(series)
        pre = f'{st} t="inlineStr"><is><t>'
        if not edges:
            return [
                "" if v is None else f'<c r="{letter}{r}"{pre}{v}</t></is></c>'
                for r, v in zip(rows, values, strict=True)
            ]
        pre = f'{st} t="inlineStr"><is>'
        return [
            ""
            if v is None
            else f'<c r="{letter}{r}"{pre}<t xml:space="preserve">{v}</t></is></c>'
            if v[:1].isspace() or v[-1:].isspace()
            else f'<c r="{letter}{r}"{pre}<t>{v}</t></is></c>'
            for r, v in zip(rows, values, strict=True)
        ]
    # object or anything else: value by value
    out = []
    for r, v in zip(rows, series.to_numpy(dtype=object), strict=True):
        out.append(scalar_cell(f"{letter}{r}", v, styles.xf(style, fmt or default_format(v))))
    return out


# --- the seller's content on our sheets ------------------------------------------------------

_DIMENSION_RE = re.compile(r'<(?:\w+:)?dimension\b[^>]*?\bref="([^"]+)"')
_ROOT_RE = re.compile(r"<(\w+:)?worksheet\b([^>]*)>")
_XMLNS_RE = re.compile(r'\s(xmlns(?::\w+)?="[^"]*"|mc:Ignorable="[^"]*")')
_CODENAME_RE = re.compile(r'<(?:\w+:)?sheetPr\b[^>]*?\bcodeName="([^"]*)"')
_TABSEL_RE = re.compile(r'<(?:\w+:)?sheetView\b[^>]*?\btabSelected="(1|true)"')
_COL_RE = re.compile(r"<(?:\w+:)?col\b[^>]*/>")
_COL_MIN_RE = re.compile(r'\bmin="(\d+)"')
_COL_MAX_RE = re.compile(r'\bmax="(\d+)"')
# Elements after <sheetData> that belong to the seller and are kept as they were (in this
# order, before <tableParts>); their relationships are kept too. Our writer never writes
# these, nor <extLst>, which is kept last.
_KEEP_TAIL = ("drawing", "legacyDrawing", "legacyDrawingHF", "picture", "oleObjects", "controls")
#: The seller's protection of the sheet (and the ranges it leaves editable), kept as set:
#: Excel writes them right after the sheet's data.
_KEEP_AFTER_DATA = ("sheetProtection", "protectedRanges")
_SQREF_RE = re.compile(r'\bsqref="([^"]+)"')
_EXTLST_RE = re.compile(r"<(?:\w+:)?extLst\b")
_PRIORITY_RE = re.compile(r'\bpriority="(\d+)"')


@dataclass
class Carried:
    """What the seller put on one of our sheets, kept verbatim across a rewrite."""

    namespaces: list[str] = field(default_factory=list)  # xmlns declarations of the old root
    code_name: str | None = None  # the VBA document module's link to this sheet
    tab_selected: bool = False
    cells: dict[int, list[str]] = field(default_factory=dict)  # row → raw <c> elements
    max_col: int = 0
    cols: list[str] = field(default_factory=list)  # <col> elements right of ours
    conditional: list[str] = field(default_factory=list)  # rules wholly right of ours
    validations: list[str] = field(default_factory=list)
    tail: dict[str, str] = field(default_factory=dict)  # protection, drawing & co, by name
    max_priority: int = 0


_SHEETDATA_B = re.compile(rb"<(?:\w+:)?sheetData\b")
_CELL_RE_B = re.compile(
    rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?(?:/>|>.*?</(?:\w+:)?c>)', re.S
)
_READ = 1 << 20


def carry_over(old: bytes | IO[bytes] | None, owned_columns: int | None) -> Carried:
    """Read the old sheet XML for what must survive a rewrite: the VBA code name, the
    namespaces, drawings, and the seller's content right of column ``owned_columns``
    (nothing of that when the sheet is not column-owned).

    The old sheet may be hundreds of megabytes (the previous refresh's data), so it is
    streamed: only the part before ``<sheetData>`` and after ``</sheetData>`` is kept, and
    cells are scanned only when the sheet's dimension reaches right of our columns."""
    carried = Carried()
    if old is None:
        return carried
    stream: IO[bytes] = io.BytesIO(old) if isinstance(old, bytes) else old
    buf = b""
    found = None
    while found is None:
        found = _SHEETDATA_B.search(buf, max(0, len(buf) - _READ - 16))
        if found is not None:
            break
        chunk = stream.read(_READ)
        if not chunk:
            break
        buf += chunk
    head = (buf[: found.start()] if found else buf).decode("utf-8")
    rest = buf[found.start() :] if found else b""
    _read_head(carried, head, owned_columns)
    dim = _DIMENSION_RE.search(head)
    need_cells = owned_columns is not None and (
        dim is None or _last_col(dim.group(1)) > owned_columns
    )
    tail = _scan_body(carried, stream, rest, owned_columns if need_cells else None)
    _read_tail(carried, tail.decode("utf-8"), owned_columns)
    return carried


def _read_head(carried: Carried, head: str, owned_columns: int | None) -> None:
    root = _ROOT_RE.search(head)
    if root:
        carried.namespaces = [m.group(1) for m in _XMLNS_RE.finditer(root.group(2))]
    m = _CODENAME_RE.search(head)
    carried.code_name = m.group(1) if m else None
    carried.tab_selected = bool(_TABSEL_RE.search(head))
    if owned_columns is None:
        return
    for col in _COL_RE.findall(head):
        lo = int(_COL_MIN_RE.search(col).group(1))  # type: ignore[union-attr]
        hi = int(_COL_MAX_RE.search(col).group(1))  # type: ignore[union-attr]
        if lo > owned_columns:
            carried.cols.append(col)
        elif hi > owned_columns:
            carried.cols.append(_COL_MIN_RE.sub(f'min="{owned_columns + 1}"', col, count=1))


def _scan_body(carried: Carried, stream: IO[bytes], rest: bytes, owned: int | None) -> bytes:
    """Walk ``<sheetData>`` (collecting cells right of ``owned`` when given); return the
    bytes after it."""
    opening_end = rest.find(b">")
    while opening_end < 0:
        chunk = stream.read(_READ)
        if not chunk:
            return b""
        rest += chunk
        opening_end = rest.find(b">")
    if rest[opening_end - 1 : opening_end] == b"/":  # <sheetData/>
        return rest[opening_end + 1 :] + stream.read()
    pending = rest[opening_end + 1 :]
    while True:
        close = pending.find(b"sheetData>")
        if close >= 0:
            body_end = pending.rfind(b"<", 0, close)
            if owned is not None:
                _collect_cells(carried, pending[:body_end], owned)
            return pending[close + len(b"sheetData>") :] + stream.read()
        if owned is not None:
            cut = pending.rfind(b"</row>")
            if cut >= 0:
                _collect_cells(carried, pending[:cut], owned)
                pending = pending[cut:]
        else:
            pending = pending[-32:]
        chunk = stream.read(_READ)
        if not chunk:
            return b""
        pending += chunk


def _collect_cells(carried: Carried, body: bytes, owned: int) -> None:
    for m in _CELL_RE_B.finditer(body):
        col = column_index(m.group(1).decode())
        if col > owned:
            carried.cells.setdefault(int(m.group(2)), []).append(m.group(0).decode("utf-8"))
            carried.max_col = max(carried.max_col, col)


def _read_tail(carried: Carried, tail: str, owned_columns: int | None) -> None:
    ext = _EXTLST_RE.search(tail)
    # The sheet's own elements come before its <extLst>, whose extensions may reuse their
    # names (x14:protectedRanges): those stay inside the extLst, kept whole below.
    own = tail[: ext.start()] if ext else tail
    for tag in (*_KEEP_AFTER_DATA, *_KEEP_TAIL):
        el = _element(own, tag)
        if el:
            carried.tail[tag] = el
    el = _element(tail, "extLst")
    if el:
        carried.tail["extLst"] = el
    if owned_columns is None:
        return
    for kind, target in (
        ("conditionalFormatting", carried.conditional),
        ("dataValidation", carried.validations),
    ):
        for el in _elements(own, kind):  # (x14's own kinds stay in the kept extLst)
            sqref = _SQREF_RE.search(el)
            if sqref and _all_right_of(sqref.group(1), owned_columns):
                target.append(el)
                carried.max_priority = max(
                    [carried.max_priority, *map(int, _PRIORITY_RE.findall(el))]
                )


def _last_col(ref: str) -> int:
    last = ref.split(":")[-1]
    return column_index(last.rstrip("0123456789").replace("$", ""))


def _all_right_of(sqref: str, owned: int) -> bool:
    for area in sqref.split():
        first = area.split(":")[0].replace("$", "")
        letters = first.rstrip("0123456789")
        if not letters or column_index(letters) <= owned:
            return False
    return True


def _element(text: str, tag: str) -> str | None:
    m = re.search(rf"<(?:\w+:)?{tag}\b[^>]*?(?:/>|>.*?</(?:\w+:)?{tag}>)", text, re.S)
    return m.group(0) if m else None


def _elements(text: str, tag: str) -> list[str]:
    return [
        m.group(0)
        for m in re.finditer(rf"<(?:\w+:)?{tag}\b[^>]*?(?:/>|>.*?</(?:\w+:)?{tag}>)", text, re.S)
    ]


# --- the whole sheet ----------------------------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def write_sheet(
    out: IO[bytes],
    spec: SheetSpec,
    styles: StyleRegistry,
    carried: Carried,
    table_rel_ids: Sequence[str],
) -> None:
    """Stream the worksheet XML of ``spec`` (plus the carried seller content) to ``out``."""
    used = spec.used_range()
    last_row = used[2] if used else 1
    last_col = max(used[3] if used else 1, carried.max_col)
    if carried.cells:
        last_row = max(last_row, max(carried.cells))
    ns = {f'xmlns="{_MAIN}"', f'xmlns:r="{_REL}"'}
    ns.update(d for d in carried.namespaces if not d.startswith("mc:Ignorable"))
    ignorable = next((d for d in carried.namespaces if d.startswith("mc:Ignorable")), "")
    root_attrs = " ".join(sorted(ns)) + (f" {ignorable}" if ignorable else "")
    w = out.write
    w(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {root_attrs}>'.encode())
    w(_sheet_pr(spec, carried).encode())
    w(f'<dimension ref="{range_ref(1, 1, last_row, last_col) if used else "A1"}"/>'.encode())
    w(_sheet_views(spec, carried).encode())
    w(b'<sheetFormatPr defaultRowHeight="15"/>')
    cols = _cols_xml(spec, styles, carried)
    if cols:
        w(cols.encode())
    w(b"<sheetData>")
    buffer: list[str] = []
    size = 0
    for row, cells in _merged_rows(spec, styles, carried):
        piece = f'<row r="{row}">{cells}</row>'
        buffer.append(piece)
        size += len(piece)
        if size > 1 << 20:
            w("".join(buffer).encode("utf-8"))
            buffer, size = [], 0
    if buffer:
        w("".join(buffer).encode("utf-8"))
    w(b"</sheetData>")
    for tag in _KEEP_AFTER_DATA:
        if tag in carried.tail:
            w(carried.tail[tag].encode("utf-8"))
    if spec.merges:
        merges = "".join(
            f'<mergeCell ref="{range_ref(m.first_row, m.first_col, m.last_row, m.last_col)}"/>'
            for m in spec.merges
        )
        w(f'<mergeCells count="{len(spec.merges)}">{merges}</mergeCells>'.encode())
    w(_conditional_xml(spec, styles, carried).encode())
    if carried.validations:
        w(
            f'<dataValidations count="{len(carried.validations)}">'
            f"{''.join(carried.validations)}</dataValidations>".encode()
        )
    w(b'<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>')
    if spec.print_setup is not None:
        ps = spec.print_setup
        orient = "landscape" if ps.landscape else "portrait"
        fit = ' fitToWidth="1" fitToHeight="0"' if ps.fit_to_width else ""
        w(f'<pageSetup orientation="{orient}"{fit}/>'.encode())
    for tag in _KEEP_TAIL:
        if tag in carried.tail:
            w(carried.tail[tag].encode("utf-8"))
    if table_rel_ids:
        parts = "".join(f'<tablePart r:id="{rid}"/>' for rid in table_rel_ids)
        w(f'<tableParts count="{len(table_rel_ids)}">{parts}</tableParts>'.encode())
    if "extLst" in carried.tail:  # the seller's newer features (x14 sparklines, data bars)
        w(carried.tail["extLst"].encode("utf-8"))
    w(b"</worksheet>")


def _sheet_pr(spec: SheetSpec, carried: Carried) -> str:
    attrs = f' codeName="{carried.code_name}"' if carried.code_name else ""
    inner = f'<tabColor rgb="FF{spec.tab_color}"/>' if spec.tab_color else ""
    if spec.print_setup is not None and spec.print_setup.fit_to_width:
        inner += '<pageSetUpPr fitToPage="1"/>'
    if not attrs and not inner:
        return ""
    return f"<sheetPr{attrs}>{inner}</sheetPr>" if inner else f"<sheetPr{attrs}/>"


def _sheet_views(spec: SheetSpec, carried: Carried) -> str:
    selected = ' tabSelected="1"' if carried.tab_selected else ""
    if spec.freeze is None or spec.freeze == (1, 1):
        return f'<sheetViews><sheetView{selected} workbookViewId="0"/></sheetViews>'
    row, col = spec.freeze
    top_left = f"{column_letter(col)}{row}"
    split = ""
    if col > 1:
        split += f' xSplit="{col - 1}"'
    if row > 1:
        split += f' ySplit="{row - 1}"'
    pane = "bottomRight" if row > 1 and col > 1 else "bottomLeft" if row > 1 else "topRight"
    return (
        f'<sheetViews><sheetView{selected} workbookViewId="0">'
        f'<pane{split} topLeftCell="{top_left}" activePane="{pane}" state="frozen"/>'
        f'<selection pane="{pane}" activeCell="{top_left}" sqref="{top_left}"/>'
        "</sheetView></sheetViews>"
    )


def _cols_xml(spec: SheetSpec, styles: StyleRegistry, carried: Carried) -> str:
    columns = sorted(set(spec.widths) | set(spec.column_formats))
    if spec.owned_columns is not None:
        columns = [c for c in columns if c <= spec.owned_columns]
    parts = []
    for c in columns:
        width = spec.widths.get(c, 9.140625)
        fmt = spec.column_formats.get(c)
        style = f' style="{styles.xf(None, fmt)}"' if fmt and styles.xf(None, fmt) else ""
        custom = ' customWidth="1"' if c in spec.widths else ""
        parts.append(f'<col min="{c}" max="{c}" width="{width:g}"{style}{custom}/>')
    parts.extend(carried.cols)
    return f"<cols>{''.join(parts)}</cols>" if parts else ""


def _merged_rows(
    spec: SheetSpec, styles: StyleRegistry, carried: Carried
) -> Iterator[tuple[int, str]]:
    """All rows in order: list blocks, frame blocks and carried cells merged by row."""
    extras: dict[int, list[tuple[int, str]]] = {}
    frames = [b for b in spec.blocks if b.is_frame]
    for block in spec.blocks:
        if not block.is_frame:
            for r, cells in _list_block_cells(block, styles).items():
                extras.setdefault(r, []).extend(cells)
    for r, raw in carried.cells.items():
        extras.setdefault(r, []).append((1 << 30, "".join(raw)))
    if len(frames) == 1:
        yield from _one_frame_rows(frames[0], styles, extras)
        return
    streams: list[Iterable[Fragment]] = [_frame_fragments(b, styles) for b in frames]
    streams.append([(r, c, x) for r in sorted(extras) for c, x in sorted(extras[r])])
    current = -1
    pieces: list[str] = []
    for row, _col, xml in heapq.merge(*streams, key=lambda f: (f[0], f[1])):
        if row != current:
            if pieces:
                yield current, "".join(pieces)
            current, pieces = row, []
        pieces.append(xml)
    if pieces:
        yield current, "".join(pieces)


def _one_frame_rows(
    block: Block, styles: StyleRegistry, extras: dict[int, list[tuple[int, str]]]
) -> Iterator[tuple[int, str]]:
    """The common case (one data block): chunks of frame rows, with the few other cells
    (title, status, the seller's columns) slotted in where their rows come."""
    pending = sorted(extras)
    k = 0

    def joined(row: int, own: str) -> str:
        pieces = sorted(extras[row] + ([(block.col, own)] if own else []), key=lambda p: p[0])
        return "".join(x for _, x in pieces)

    for first, cells in _frame_chunks(block, styles):
        while k < len(pending) and pending[k] < first:
            yield pending[k], joined(pending[k], "")
            k += 1
        last = first + len(cells) - 1
        if k < len(pending) and pending[k] <= last:
            for i, own in enumerate(cells):
                row = first + i
                if k < len(pending) and pending[k] == row:
                    yield row, joined(row, own)
                    k += 1
                elif own:
                    yield row, own
        else:
            for i, own in enumerate(cells):
                if own:
                    yield first + i, own
    for row in pending[k:]:
        yield row, joined(row, "")


def _conditional_xml(spec: SheetSpec, styles: StyleRegistry, carried: Carried) -> str:
    parts = list(carried.conditional)
    priority = carried.max_priority
    for cf in spec.conditional_formats:
        priority += 1
        dxf = styles.dxf(cf.style)
        stop = ' stopIfTrue="1"' if cf.stop else ""
        if cf.kind == "cellIs":
            rule = (
                f'<cfRule type="cellIs" dxfId="{dxf}" priority="{priority}"{stop} '
                f'operator="{cf.operator or "equal"}"><formula>{_esc(cf.formula)}</formula></cfRule>'
            )
        else:
            rule = (
                f'<cfRule type="expression" dxfId="{dxf}" priority="{priority}"{stop}>'
                f"<formula>{_esc(cf.formula)}</formula></cfRule>"
            )
        parts.append(f'<conditionalFormatting sqref="{cf.range}">{rule}</conditionalFormatting>')
    return "".join(parts)


def table_xml(
    table_id: int,
    name: str,
    ref: str,
    columns: Sequence[str],
    style: str,
    extra: Sequence[str] = (),
) -> bytes:
    """A table part: autofilter over ``ref``, one ``tableColumn`` per header."""
    cols = "".join(
        f'<tableColumn id="{i}" name="{_attr(clean_text(str(c)))}"/>'
        for i, c in enumerate(columns, start=1)
    )
    for i, col in enumerate(extra, start=len(columns) + 1):  # the seller's own columns
        cols += re.sub(r"^<((?:\w+:)?tableColumn)\b", rf'<\1 id="{i}"', col, count=1)
    count = len(columns) + len(extra)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<table xmlns="{_MAIN}" id="{table_id}" name="{name}" displayName="{name}" '
        f'ref="{ref}" totalsRowShown="0"><autoFilter ref="{ref}"/>'
        f'<tableColumns count="{count}">{cols}</tableColumns>'
        f'<tableStyleInfo name="{style}" showFirstColumn="0" showLastColumn="0" '
        'showRowStripes="1" showColumnStripes="0"/></table>'
    ).encode()


def _attr(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


__all__ = [
    "Carried",
    "carry_over",
    "clean_text",
    "excel_serial",
    "scalar_cell",
    "table_xml",
    "text_xml",
    "write_sheet",
]
