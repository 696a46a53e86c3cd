"""A style registry over the workbook's ``styles.xml`` that only ever appends.

Cells point at styles by index (``s="12"``); the seller's cells use the existing indexes, so
nothing may be renumbered or removed. New number formats, fonts, fills, borders, cell
formats (xf) and conditional-format formats (dxf) are spliced into the existing XML text
just before each list's end tag, and an identical existing entry is reused, so refreshing
again adds nothing. The rest of the file stays byte for byte what it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from .sheetspec import STYLES, CellStyle

BUILTIN_FORMATS = {
    "General": 0,
    "0": 1,
    "0.00": 2,
    "#,##0": 3,
    "#,##0.00": 4,
    "0%": 9,
    "0.00%": 10,
    "@": 49,
}
FIRST_CUSTOM_FORMAT = 164
# Order of the lists inside <styleSheet> (ECMA-376 CT_Stylesheet).
_SECTION_ORDER = (
    "numFmts",
    "fonts",
    "fills",
    "borders",
    "cellStyleXfs",
    "cellXfs",
    "cellStyles",
    "dxfs",
    "tableStyles",
    "colors",
    "extLst",
)

Canon = tuple[str, tuple[tuple[str, str], ...], tuple["Canon", ...]]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _canon(el: ET.Element) -> Canon:
    attrs = tuple(sorted((_local(k), v) for k, v in el.attrib.items()))
    return (_local(el.tag), attrs, tuple(_canon(c) for c in el))


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _argb(rgb: str) -> str:
    rgb = rgb.lstrip("#").upper()
    return rgb if len(rgb) == 8 else "FF" + rgb


@dataclass
class _Section:
    name: str
    entries: list[Canon] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # XML text (without prefix placeholders)


class StyleRegistry:
    """Find-or-append styles in one ``styles.xml``; :meth:`xml` gives the updated bytes."""

    def __init__(self, data: bytes) -> None:
        self.original = data
        self.text = data.decode("utf-8")
        m = re.search(r"<(?:(\w+):)?styleSheet\b", self.text)
        if m is None:
            raise ValueError("styles.xml has no styleSheet")
        self.prefix = (m.group(1) + ":") if m.group(1) else ""
        root = ET.fromstring(data)
        self.sections: dict[str, _Section] = {}
        for name in ("fonts", "fills", "borders", "cellXfs", "dxfs"):
            el = next((c for c in root if _local(c.tag) == name), None)
            children = list(el) if el is not None else []
            child_tag = {"cellXfs": "xf", "dxfs": "dxf"}.get(name, name[:-1])
            self.sections[name] = _Section(
                name, [_canon(c) for c in children if _local(c.tag) == child_tag]
            )
        self.formats: dict[str, int] = {}
        numfmts = next((c for c in root if _local(c.tag) == "numFmts"), None)
        self.format_ids: set[int] = set()
        for nf in list(numfmts) if numfmts is not None else []:
            fid = int(nf.get("numFmtId", "0"))
            self.format_ids.add(fid)
            self.formats.setdefault(nf.get("formatCode", ""), fid)
        self.new_formats: list[tuple[int, str]] = []
        fonts = self.sections["fonts"].entries
        self.base_font = fonts[0] if fonts else ("font", (), ())
        self._xf_cache: dict[tuple[str | None, str | None], int] = {}
        self._dxf_cache: dict[str, int] = {}

    # --- public -------------------------------------------------------------------------
    def number_format_id(self, code: str | None) -> int:
        if not code or code == "General":
            return 0
        if code in BUILTIN_FORMATS:
            return BUILTIN_FORMATS[code]
        if code in self.formats:
            return self.formats[code]
        fid = max([FIRST_CUSTOM_FORMAT - 1, *self.format_ids]) + 1
        self.format_ids.add(fid)
        self.formats[code] = fid
        self.new_formats.append((fid, code))
        return fid

    def xf(self, style: str | None, number_format: str | None = None) -> int:
        """The cellXfs index for a named style (``None`` = plain) and number format."""
        key = (style, number_format)
        if key not in self._xf_cache:
            self._xf_cache[key] = self._make_xf(STYLES[style] if style else None, number_format)
        return self._xf_cache[key]

    def dxf(self, style: str) -> int:
        """The dxfs index for a conditional format that paints ``style``'s colours."""
        if style not in self._dxf_cache:
            s = STYLES[style]
            parts = []
            if s.color or s.bold:
                bold = "<b/>" if s.bold else ""
                color = f'<color rgb="{_argb(s.color)}"/>' if s.color else ""
                parts.append(f"<font>{bold}{color}</font>")
            if s.fill:
                parts.append(
                    f'<fill><patternFill><bgColor rgb="{_argb(s.fill)}"/></patternFill></fill>'
                )
            self._dxf_cache[style] = self._find_or_add("dxfs", f"<dxf>{''.join(parts)}</dxf>")
        return self._dxf_cache[style]

    def changed(self) -> bool:
        return bool(self.new_formats) or any(s.added for s in self.sections.values())

    def xml(self) -> bytes:
        """The styles.xml bytes with everything new appended (the original if nothing is)."""
        if not self.changed():
            return self.original
        text = self.text
        if self.new_formats:
            items = "".join(
                f'<numFmt numFmtId="{fid}" formatCode="{_attr(code)}"/>'
                for fid, code in self.new_formats
            )
            text = self._append(text, "numFmts", items, len(self.new_formats))
        for name in ("fonts", "fills", "borders", "cellXfs", "dxfs"):
            sec = self.sections[name]
            if sec.added:
                text = self._append(text, name, "".join(sec.added), len(sec.added))
        return text.encode("utf-8")

    # --- internals ----------------------------------------------------------------------
    def _make_xf(self, s: CellStyle | None, number_format: str | None) -> int:
        fmt = self.number_format_id(number_format or (s.number_format if s else None))
        font = fill = border = 0
        align = ""
        if s is not None:
            if s.bold or s.italic or s.size or s.color:
                font = self._find_or_add("fonts", self._font_xml(s))
            if s.fill:
                fill = self._find_or_add(
                    "fills",
                    f'<fill><patternFill patternType="solid"><fgColor rgb="{_argb(s.fill)}"/>'
                    f'<bgColor indexed="64"/></patternFill></fill>',
                )
            if s.border_bottom:
                border = self._find_or_add(
                    "borders",
                    '<border><left/><right/><top/><bottom style="thin"><color auto="1"/>'
                    "</bottom><diagonal/></border>",
                )
            attrs = ""
            if s.horizontal:
                attrs += f' horizontal="{s.horizontal}"'
            if s.wrap:
                attrs += ' vertical="top" wrapText="1"'
            if attrs:
                align = f"<alignment{attrs}/>"
        applied = ""
        if fmt:
            applied += ' applyNumberFormat="1"'
        if font:
            applied += ' applyFont="1"'
        if fill:
            applied += ' applyFill="1"'
        if border:
            applied += ' applyBorder="1"'
        if align:
            applied += ' applyAlignment="1"'
        xf = (
            f'<xf numFmtId="{fmt}" fontId="{font}" fillId="{fill}" borderId="{border}" '
            f'xfId="0"{applied}'
        )
        xf += f">{align}</xf>" if align else "/>"
        if not (fmt or font or fill or border or align):
            return 0
        return self._find_or_add("cellXfs", xf)

    def _font_xml(self, s: CellStyle) -> str:
        base = {child[0]: child for child in self.base_font[2]}
        parts = []
        if s.bold:
            parts.append("<b/>")
        if s.italic:
            parts.append("<i/>")
        size = s.size or _val(base.get("sz"), 11.0)
        parts.append(f'<sz val="{_num(size)}"/>')
        if s.color:
            parts.append(f'<color rgb="{_argb(s.color)}"/>')
        elif "color" in base:
            parts.append(_xml_of(base["color"]))
        for tag in ("name", "family", "charset", "scheme"):
            if tag in base:
                parts.append(_xml_of(base[tag]))
        return f"<font>{''.join(parts)}</font>"

    def _find_or_add(self, section: str, xml: str) -> int:
        sec = self.sections[section]
        canon = _canon(ET.fromstring(xml))
        for i, existing in enumerate(sec.entries):
            if existing == canon:
                return i
        sec.entries.append(canon)
        sec.added.append(xml)
        return len(sec.entries) - 1

    def _append(self, text: str, section: str, items: str, added: int) -> str:
        p = self.prefix
        if p:
            items = re.sub(r"<(/?)(\w)", lambda m: f"<{m.group(1)}{p}{m.group(2)}", items)
        full = re.search(
            rf"<{p}{section}\b([^>]*?)(/?)>", text
        )  # the list's start tag (or empty tag)
        if full is None:
            return self._insert_section(text, section, items, added)
        attrs, empty = full.group(1), full.group(2)
        count_match = re.search(r'\bcount="(\d+)"', attrs)
        old_count = int(count_match.group(1)) if count_match else None
        if old_count is None:
            old_count = (
                len(self.sections[section].entries) - added if section in self.sections else 0
            )
            if section == "numFmts":
                old_count = len(self.format_ids) - added
        new_attrs = (
            re.sub(r'\bcount="\d+"', f'count="{old_count + added}"', attrs)
            if count_match
            else f'{attrs} count="{old_count + added}"'
        )
        if empty:
            replacement = f"<{p}{section}{new_attrs}>{items}</{p}{section}>"
            return text[: full.start()] + replacement + text[full.end() :]
        end = text.find(f"</{p}{section}>", full.end())
        return (
            text[: full.start()]
            + f"<{p}{section}{new_attrs}>"
            + text[full.end() : end]
            + items
            + text[end:]
        )

    def _insert_section(self, text: str, section: str, items: str, added: int) -> str:
        p = self.prefix
        block = f'<{p}{section} count="{added}">{items}</{p}{section}>'
        later = _SECTION_ORDER[_SECTION_ORDER.index(section) + 1 :]
        for name in later:
            m = re.search(rf"<{p}{name}\b", text)
            if m:
                return text[: m.start()] + block + text[m.start() :]
        end = text.rfind(f"</{p}styleSheet>")
        return text[:end] + block + text[end:]


def _val(node: Canon | None, default: float) -> float:
    if node is None:
        return default
    attrs = dict(node[1])
    try:
        return float(attrs.get("val", default))
    except ValueError:
        return default


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _xml_of(node: Canon) -> str:
    tag, attrs, children = node
    a = "".join(f' {k}="{_attr(v)}"' for k, v in attrs)
    if not children:
        return f"<{tag}{a}/>"
    return f"<{tag}{a}>{''.join(_xml_of(c) for c in children)}</{tag}>"


BASE_STYLES_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<fonts count="1"><font><sz val="11"/><color theme="1"/><name val="Calibri"/>'
    b'<family val="2"/><scheme val="minor"/></font></fonts>'
    b'<fills count="2"><fill><patternFill patternType="none"/></fill>'
    b'<fill><patternFill patternType="gray125"/></fill></fills>'
    b'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    b'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    b'<dxfs count="0"/>'
    b'<tableStyles count="0" defaultTableStyle="TableStyleMedium2" '
    b'defaultPivotStyle="PivotStyleLight16"/>'
    b"</styleSheet>"
)
"""A minimal styles part (what Excel writes for a new book) for ``workbook new``."""

__all__ = ["BASE_STYLES_XML", "BUILTIN_FORMATS", "StyleRegistry"]
