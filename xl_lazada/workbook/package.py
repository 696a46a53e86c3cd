"""An OOXML package (the zip inside .xlsx/.xlsm) read part by part, never re-serialised.

The file writer must not round-trip the seller's parts through a library that drops what it
does not model (sparklines, slicers, shapes, the ribbon relationship...). So parts are read
as bytes, only the few this project owns are parsed, and :func:`write_package` copies every
other part byte for byte.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import IO
from xml.etree import ElementTree as ET

from ..errors import XlLazadaError

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"

RT_OFFICE_DOCUMENT = NS_REL + "/officeDocument"
RT_WORKSHEET = NS_REL + "/worksheet"
RT_STYLES = NS_REL + "/styles"
RT_TABLE = NS_REL + "/table"
RT_SHARED_STRINGS = NS_REL + "/sharedStrings"
RT_CALC_CHAIN = NS_REL + "/calcChain"
RT_THEME = NS_REL + "/theme"
RT_CORE = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
RT_EXTENDED = NS_REL + "/extended-properties"
RT_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
RT_RIBBON = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"

CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

# Fixed timestamp for parts this project writes: deterministic files, comparable in tests.
FIXED_DATE = (1980, 1, 1, 0, 0, 0)

# Writes a part's bytes to an open zip member stream (lets sheets stream, not build in memory).
PartWriter = Callable[[IO[bytes]], None]


class PackageError(XlLazadaError):
    """The file is not a workbook this writer can handle; the message is one seller line."""


@dataclass(frozen=True, slots=True)
class Relationship:
    id: str
    type: str
    target: str
    external: bool = False


@dataclass(frozen=True, slots=True)
class SheetRef:
    name: str
    sheet_id: int
    rel_id: str
    part: str  # e.g. "xl/worksheets/sheet1.xml"
    index: int  # position in the workbook (localSheetId)


def rels_path(part: str) -> str:
    """``xl/worksheets/sheet1.xml`` → ``xl/worksheets/_rels/sheet1.xml.rels``."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve_target(source_part: str, target: str) -> str:
    """A relationship target relative to its source part → a part name (no leading '/')."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def relative_target(source_part: str, part: str) -> str:
    return posixpath.relpath(part, posixpath.dirname(source_part) or ".")


def parse_rels(data: bytes) -> list[Relationship]:
    root = ET.fromstring(data)
    return [
        Relationship(
            el.get("Id", ""),
            el.get("Type", ""),
            el.get("Target", ""),
            el.get("TargetMode") == "External",
        )
        for el in root
        if el.tag.endswith("Relationship")
    ]


def rels_xml(rels: Iterable[Relationship]) -> bytes:
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        f'<Relationships xmlns="{NS_PKG_REL}">',
    ]
    for r in rels:
        mode = ' TargetMode="External"' if r.external else ""
        lines.append(
            f'<Relationship Id="{xml_attr(r.id)}" Type="{xml_attr(r.type)}" '
            f'Target="{xml_attr(r.target)}"{mode}/>'
        )
    lines.append("</Relationships>")
    return "".join(lines).encode("utf-8")


def xml_attr(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def new_rel_id(existing: Iterable[str]) -> str:
    used = set(existing)
    n = 1
    while f"rId{n}" in used:
        n += 1
    return f"rId{n}"


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class Package:
    """Read-only view of a workbook package's parts."""

    def __init__(self, source: str | IO[bytes], *, name: str | None = None) -> None:
        """``name``: what error messages call the file (default: its path, or "the file")."""
        label = name or (source if isinstance(source, str) else "the file")
        try:
            self.zip = zipfile.ZipFile(source)
        except zipfile.BadZipFile:
            raise PackageError(_not_a_zip_message(source, label)) from None
        self.infos = {i.filename: i for i in self.zip.infolist()}
        if "xl/workbook.xml" not in self.infos and "xl/workbook.bin" not in self.infos:
            if "[Content_Types].xml" in self.infos:
                main = self.main_part()
                if main is None or not main.endswith(".xml"):
                    raise PackageError(f"{label} is not an Excel workbook (.xlsx or .xlsm)")
            else:
                raise PackageError(f"{label} is not an Excel workbook (.xlsx or .xlsm)")
        self.workbook_part = self.main_part() or "xl/workbook.xml"
        if self.workbook_part.endswith(".bin"):
            raise PackageError(
                f"{label} is a binary workbook (.xlsb); save it as .xlsm in Excel first"
            )

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def names(self) -> list[str]:
        return list(self.infos)

    def has(self, part: str) -> bool:
        return part in self.infos

    def read(self, part: str) -> bytes:
        try:
            return self.zip.read(part)
        except KeyError:
            raise PackageError(f"the workbook has no part {part}") from None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise PackageError(f"the workbook is damaged ({part}: {exc})") from None

    def rels(self, part: str) -> list[Relationship]:
        path = rels_path(part) if part else "_rels/.rels"
        if path not in self.infos:
            return []
        return parse_rels(self.read(path))

    def main_part(self) -> str | None:
        if "_rels/.rels" not in self.infos:
            return None
        for r in parse_rels(self.read("_rels/.rels")):
            if r.type == RT_OFFICE_DOCUMENT:
                return resolve_target("", r.target)
        return None

    def related(self, part: str, rel_type: str) -> list[str]:
        return [resolve_target(part, r.target) for r in self.rels(part) if r.type == rel_type]

    def sheets(self) -> list[SheetRef]:
        root = ET.fromstring(self.read(self.workbook_part))
        rel_targets = {
            r.id: resolve_target(self.workbook_part, r.target)
            for r in self.rels(self.workbook_part)
        }
        out = []
        sheets_el = root.find(f"{{{NS_MAIN}}}sheets")
        for index, el in enumerate(sheets_el if sheets_el is not None else []):
            rid = el.get(f"{{{NS_REL}}}id", "")
            out.append(
                SheetRef(
                    el.get("name", ""),
                    int(el.get("sheetId", "0")),
                    rid,
                    rel_targets.get(rid, ""),
                    index,
                )
            )
        return out

    def styles_part(self) -> str | None:
        found = self.related(self.workbook_part, RT_STYLES)
        return found[0] if found else None

    def shared_strings(self) -> list[str]:
        found = self.related(self.workbook_part, RT_SHARED_STRINGS)
        if not found or not self.has(found[0]):
            return []
        root = ET.fromstring(self.read(found[0]))
        out = []
        for si in root.iter(f"{{{NS_MAIN}}}si"):
            out.append(
                "".join(t.text or "" for t in si.iter(f"{{{NS_MAIN}}}t") if not _in_phonetic(si, t))
            )
        return out

    def content_types(self) -> bytes:
        return self.read("[Content_Types].xml")


def _in_phonetic(si: ET.Element, t: ET.Element) -> bool:
    return any(t in list(rph.iter()) for rph in si.findall(f"{{{NS_MAIN}}}rPh"))


def _not_a_zip_message(source: object, label: str) -> str:
    head = b""
    try:
        if isinstance(source, str):
            with open(source, "rb") as fh:
                head = fh.read(8)
        elif isinstance(source, io.IOBase):
            source.seek(0)
            head = source.read(8)
    except OSError:
        pass
    if head == OLE_MAGIC:
        return (
            f"{label} is password-protected (encrypted) or an old .xls file; "
            "remove the password or save it as .xlsm in Excel first"
        )
    return f"{label} is not an Excel workbook (.xlsx or .xlsm)"


_OVERRIDE_RE = re.compile(r"<Override\b[^>]*?PartName=\"([^\"]+)\"[^>]*/>")


def add_overrides(content_types: bytes, parts: Mapping[str, str]) -> bytes:
    """Add ``<Override>`` entries (part name → content type) that are not there yet."""
    text = content_types.decode("utf-8")
    present = {m.group(1) for m in _OVERRIDE_RE.finditer(text)}
    extra = "".join(
        f'<Override PartName="/{xml_attr(p)}" ContentType="{xml_attr(ct)}"/>'
        for p, ct in parts.items()
        if "/" + p not in present
    )
    if not extra:
        return content_types
    end = text.rfind("</Types>")
    if end < 0:
        raise PackageError("the workbook's [Content_Types].xml is damaged")
    return (text[:end] + extra + text[end:]).encode("utf-8")


def remove_overrides(content_types: bytes, parts: Iterable[str]) -> bytes:
    gone = {"/" + p for p in parts}
    if not gone:
        return content_types
    text = content_types.decode("utf-8")
    text = _OVERRIDE_RE.sub(lambda m: "" if m.group(1) in gone else m.group(0), text)
    return text.encode("utf-8")


def write_package(
    out: IO[bytes],
    source: Package | None,
    parts: Mapping[str, bytes | PartWriter | None],
    *,
    order: Iterable[str] | None = None,
    large: Iterable[str] = (),
) -> None:
    """Write a package: ``parts`` replace (bytes or a streaming writer) or delete (None)
    parts of ``source``; every other part of ``source`` is copied with its original bytes,
    name, timestamp and compression. New parts get a fixed timestamp."""
    large_parts = set(large)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as z:
        written: set[str] = set()
        copy_names = source.names() if source is not None else []
        sequence = list(order) if order is not None else []
        names = sequence + [n for n in copy_names if n not in sequence]
        names += [n for n in parts if n not in names]
        for name in names:
            if name in written:
                continue
            written.add(name)
            if name in parts:
                content = parts[name]
                if content is None:
                    continue
                info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                if isinstance(content, bytes):
                    z.writestr(info, content, compresslevel=6)
                else:
                    # Streamed parts are the big sheets: fast compression (level 1) costs
                    # a few percent of size and saves most of the time.
                    if hasattr(info, "compress_level"):  # Python 3.13+
                        info.compress_level = 1
                    else:
                        info._compresslevel = 1  # type: ignore[attr-defined]
                    with z.open(info, "w", force_zip64=name in large_parts) as stream:
                        content(stream)
            elif source is not None:
                src_info = source.infos[name]
                data = source.read(name)
                info = zipfile.ZipInfo(name, date_time=src_info.date_time)
                info.compress_type = src_info.compress_type
                info.external_attr = src_info.external_attr
                info.comment = src_info.comment
                info.extra = b""
                z.writestr(info, data)


__all__ = [
    "CT_TABLE",
    "NS_MAIN",
    "NS_REL",
    "Package",
    "PackageError",
    "Relationship",
    "SheetRef",
    "add_overrides",
    "parse_rels",
    "rels_path",
    "rels_xml",
    "remove_overrides",
    "resolve_target",
    "write_package",
]
