"""Replace our sheets inside a workbook package; copy everything else byte for byte.

For each :class:`SheetSpec` the sheet part (found through ``xl/workbook.xml`` and its
relationships) is rewritten from the spec plus what the seller put right of our columns;
its relationships keep everything but our old table parts; our table parts are rewritten in
place (same part name and id); ``styles.xml`` only grows by what is new; ``calcChain.xml``
loses entries for cells we now own. No other part is parsed or changed.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

from .package import (
    CT_TABLE,
    RT_CALC_CHAIN,
    RT_TABLE,
    Package,
    PackageError,
    PartWriter,
    Relationship,
    add_overrides,
    new_rel_id,
    relative_target,
    rels_path,
    rels_xml,
    remove_overrides,
    resolve_target,
)
from .sheetspec import SheetSpec, Table, column_index, column_letter, range_ref
from .sheetxml import Carried, carry_over, table_xml, write_sheet
from .styles import StyleRegistry

_TABLE_ID_RE = re.compile(rb'<(?:\w+:)?table\b[^>]*?\bid="(\d+)"')
_TABLE_NAME_RE = re.compile(rb'<(?:\w+:)?table\b[^>]*?\bname="([^"]*)"')


class MissingSheetError(PackageError):
    """One of our sheets is not in the workbook."""


@dataclass
class _OldTable:
    part: str
    rel: Relationship
    table_id: int
    name: str
    extra_columns: list[str] = field(default_factory=list)  # the seller's tableColumn XML


def _old_table(pkg: Package, sheet_part: str, rel: Relationship) -> _OldTable:
    part = resolve_target(sheet_part, rel.target)
    data = pkg.read(part) if pkg.has(part) else b""
    m = _TABLE_ID_RE.search(data)
    n = _TABLE_NAME_RE.search(data)
    return _OldTable(part, rel, int(m.group(1)) if m else 0, n.group(1).decode() if n else "", [])


_TABLE_COLUMN_RE = re.compile(
    r"<(?:\w+:)?tableColumn\b[^>]*?(?:/>|>.*?</(?:\w+:)?tableColumn>)", re.S
)
_NAME_ATTR_RE = re.compile(r'\bname="([^"]*)"')
_PREFIXED_ATTR_RE = re.compile(r'\s[\w.-]+:[\w.-]+="[^"]*"')


def _extra_columns(data: bytes, ours: Sequence[str]) -> list[str]:
    """tableColumn elements of the old table beyond our columns (the seller's own columns
    typed next to the table, which Excel then made part of it), as XML for the new table:
    renumbered by the caller, without attributes from namespaces the new part does not
    declare (Excel's revision ids)."""
    text = data.decode("utf-8", errors="replace")
    columns = _TABLE_COLUMN_RE.findall(text)
    if len(columns) <= len(ours):
        return []
    extra = columns[len(ours) :]
    names = {c.lower() for c in ours}
    for col in extra:
        m = _NAME_ATTR_RE.search(col)
        if m is None or m.group(1).lower() in names:
            return []  # not a layout we understand: keep only our columns
    out = []
    for col in extra:
        start_end = col.find(">")
        start = _PREFIXED_ATTR_RE.sub("", col[:start_end])
        start = re.sub(r'\sid="\d+"', "", start, count=1)
        out.append(start + col[start_end:])
    return out


_CALCULATED_RE = re.compile(
    r"<(?:\w+:)?calculatedColumnFormula\b[^>]*>(.*?)</(?:\w+:)?calculatedColumnFormula>", re.S
)
_CELL_COL_RE = re.compile(r'\br="([A-Z]+)\d+"')


def _fill_calculated(carried: Carried, table: Table, extra: Sequence[str]) -> None:
    """A seller's calculated column in our table (``=[@Total]*0.1``) gets its formula in
    every data row of the new table, and none below it (a ``[#This Row]`` reference outside
    the table is an error)."""
    first = table.header_row + 1
    for k, column_xml in enumerate(extra):
        m = _CALCULATED_RE.search(column_xml)
        if m is None:
            continue
        col = table.last_col + 1 + k
        letter = column_letter(col)
        formula = m.group(1)
        for row in list(carried.cells):
            if row >= first:
                carried.cells[row] = [c for c in carried.cells[row] if _cell_column(c) != col]
                if not carried.cells[row]:
                    del carried.cells[row]
        for row in range(first, table.last_row + 1):
            cell = f'<c r="{letter}{row}"><f>{formula}</f></c>'
            cells = carried.cells.setdefault(row, [])
            cells.append(cell)
            cells.sort(key=_cell_column)
        carried.max_col = max(carried.max_col, col)


def _cell_column(cell: str) -> int:
    m = _CELL_COL_RE.search(cell)
    return column_index(m.group(1)) if m else 0


def write_sheets(
    pkg: Package, specs: Sequence[SheetSpec], out: IO[bytes], *, order: Sequence[str] = ()
) -> dict[str, int]:
    """Write ``pkg`` to ``out`` with the sheets in ``specs`` replaced. Returns the data
    rows written per table name."""
    by_name = {s.name: s for s in pkg.sheets()}
    for spec in specs:
        if spec.name not in by_name or not by_name[spec.name].part:
            raise MissingSheetError(
                f"the workbook has no {spec.name!r} sheet; make one with `xl-lazada workbook new`"
            )
    styles_part = pkg.styles_part()
    if styles_part is None or not pkg.has(styles_part):
        raise PackageError("the workbook has no styles part; it is damaged")
    styles = StyleRegistry(pkg.read(styles_part))
    parts: dict[str, bytes | PartWriter | None] = {}
    new_types: dict[str, str] = {}
    dropped: list[str] = []
    used_ids = _all_table_ids(pkg)
    used_names = _all_table_names(pkg)
    large: list[str] = []
    rows: dict[str, int] = {}
    owned_cells: dict[int, int | None] = {}
    for spec in specs:
        ref = by_name[spec.name]
        owned_cells[ref.sheet_id] = spec.owned_columns
        try:
            with pkg.zip.open(ref.part) as old_xml:
                carried = carry_over(old_xml, spec.owned_columns)
        except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError) as exc:
            raise PackageError(f"the workbook is damaged ({ref.part}: {exc})") from None
        old_rels = pkg.rels(ref.part)
        ours = {t.name.lower() for t in spec.tables}
        old_tables = [
            _old_table(pkg, ref.part, r) for r in old_rels if r.type == RT_TABLE and not r.external
        ]
        mine = [t for t in old_tables if t.name.lower() in ours or spec.owned_columns is None]
        theirs = [t for t in old_tables if t not in mine]
        kept_rels = [r for r in old_rels if r not in [t.rel for t in mine]]
        table_rel_ids = [t.rel.id for t in theirs]
        for t in mine:
            used_names.discard(t.name.lower())
        reuse = {t.name.lower(): t for t in mine}
        spare = [t for t in mine if t.name.lower() not in {x.name.lower() for x in spec.tables}]
        for table in spec.tables:
            if table.name.lower() in used_names:
                raise PackageError(
                    f"the workbook already has a table or name {table.name!r} on another sheet"
                )
            old = reuse.get(table.name.lower()) or (spare.pop(0) if spare else None)
            if old is not None:
                part, table_id = old.part, old.table_id or _next_id(used_ids)
                extra = (
                    _extra_columns(pkg.read(old.part), table.columns) if pkg.has(old.part) else []
                )
            else:
                part, table_id, extra = _new_table_part(pkg, parts), _next_id(used_ids), []
                new_types[part] = CT_TABLE
            used_ids.add(table_id)
            used_names.add(table.name.lower())
            rid = new_rel_id([r.id for r in kept_rels])
            kept_rels.append(Relationship(rid, RT_TABLE, relative_target(ref.part, part)))
            table_rel_ids.append(rid)
            last_col = table.last_col + len(extra)
            _fill_calculated(carried, table, extra)
            area = range_ref(table.header_row, table.first_col, table.last_row, last_col)
            parts[part] = table_xml(table_id, table.name, area, table.columns, table.style, extra)
            rows[table.name] = table.rows
        for t in spare:
            parts[t.part] = None
            dropped.append(t.part)
        parts[ref.part] = _sheet_writer(spec, styles, carried, table_rel_ids)
        if _big(spec):
            large.append(ref.part)
        if kept_rels or old_rels:
            parts[rels_path(ref.part)] = rels_xml(kept_rels)
    calc = pkg.related(pkg.workbook_part, RT_CALC_CHAIN)
    if calc and pkg.has(calc[0]):
        chain = _trim_calc_chain(pkg.read(calc[0]), owned_cells)
        parts[calc[0]] = chain
        if chain is None:  # nothing left: drop the part (Excel rebuilds it)
            dropped.append(calc[0])
            wb_rels = [r for r in pkg.rels(pkg.workbook_part) if r.type != RT_CALC_CHAIN]
            parts[rels_path(pkg.workbook_part)] = rels_xml(wb_rels)
    content_types = pkg.content_types()
    if new_types:
        content_types = add_overrides(content_types, new_types)
    if dropped:
        content_types = remove_overrides(content_types, dropped)
    if content_types != pkg.content_types():
        parts["[Content_Types].xml"] = content_types

    # styles.xml is known only after the sheets are rendered: write it last.
    def styles_writer(stream: IO[bytes]) -> None:
        stream.write(styles.xml())

    sequence = ["[Content_Types].xml", *order]
    parts[styles_part] = styles_writer
    from .package import write_package

    sheet_parts = [by_name[s.name].part for s in specs]
    copy_first = [n for n in pkg.names() if n not in parts]
    write_package(
        out,
        pkg,
        parts,
        order=sequence + copy_first + sheet_parts + [styles_part],
        large=large,
    )
    return rows


def _sheet_writer(
    spec: SheetSpec, styles: StyleRegistry, carried: object, table_rel_ids: list[str]
) -> PartWriter:
    def write(stream: IO[bytes]) -> None:
        write_sheet(stream, spec, styles, carried, table_rel_ids)  # type: ignore[arg-type]

    return write


def _big(spec: SheetSpec) -> bool:
    cells = sum(b.height * b.width for b in spec.blocks)
    return cells * 120 > 1_500_000_000


def _all_table_ids(pkg: Package) -> set[int]:
    ids = set()
    for name in pkg.names():
        if name.startswith("xl/tables/") and name.endswith(".xml"):
            m = _TABLE_ID_RE.search(pkg.read(name))
            if m:
                ids.add(int(m.group(1)))
    return ids


def _all_table_names(pkg: Package) -> set[str]:
    names = set()
    for name in pkg.names():
        if name.startswith("xl/tables/") and name.endswith(".xml"):
            m = _TABLE_NAME_RE.search(pkg.read(name))
            if m:
                names.add(m.group(1).decode().lower())
    return names


def _next_id(used: set[int]) -> int:
    return max(used, default=0) + 1


def _new_table_part(pkg: Package, parts: dict[str, bytes | PartWriter | None]) -> str:
    n = 1
    while pkg.has(f"xl/tables/table{n}.xml") or f"xl/tables/table{n}.xml" in parts:
        n += 1
    return f"xl/tables/table{n}.xml"


_CALC_RE = re.compile(rb"<(?:\w+:)?c\b([^>]*?)/>")
_ATTR_R = re.compile(rb'\br="\$?([A-Z]+)\$?(\d+)"')
_ATTR_I = re.compile(rb'\bi="(\d+)"')


def _trim_calc_chain(data: bytes, owned: dict[int, int | None]) -> bytes | None:
    """Drop calc-chain entries for cells we now own (a formula the seller typed into our
    columns is gone after a refresh); keep all others, with their sheet made explicit."""
    current = 0
    kept: list[bytes] = []
    changed = False
    for m in _CALC_RE.finditer(data):
        attrs = m.group(1)
        i = _ATTR_I.search(attrs)
        if i:
            current = int(i.group(1))
        r = _ATTR_R.search(attrs)
        if current in owned and r is not None:
            limit = owned[current]
            if limit is None or column_index(r.group(1).decode()) <= limit:
                changed = True
                continue
        if i is None:
            changed = True
            attrs = attrs + b' i="%d"' % current
        kept.append(b"<c" + attrs + b"/>")
    if not changed:
        return data
    if not kept:
        return None  # an empty chain is invalid; without one Excel rebuilds it
    start = data.find(b">", data.find(b"calcChain")) + 1
    end = data.rfind(b"</")
    return data[:start] + b"".join(kept) + data[end:]


__all__ = ["MissingSheetError", "Table", "write_sheets"]
