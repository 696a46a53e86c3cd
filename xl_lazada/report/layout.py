"""The report's summary page as writer-neutral lines, so every writer shows the same thing.

A :class:`Line` is one sheet row of up to three cells (label, value, detail) and a style key;
the standalone ``.xlsx`` writer and the workbook's ``Report output`` sheet both render these
lines, then add the per-parcel table below or on its own sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .build import NOT_IN_REPORT, AttentionGroup, Metric, Report

#: How many items of one "needs attention" group the summary lists (the table has all).
MAX_ITEMS = 10

CellKind = Literal["text", "id", "count", "percent", "days", "money", "datetime"]
Style = Literal[
    "title",
    "subtitle",
    "label",
    "section",
    "urgent",
    "warning",
    "ok",
    "action",
    "header",
    "item",
    "note",
    "blank",
]


@dataclass(frozen=True, slots=True)
class Cell:
    value: Any  # str, int, float, datetime or None
    kind: CellKind = "text"
    currency: str = ""


@dataclass(frozen=True, slots=True)
class Line:
    cells: tuple[Cell, ...]
    style: Style = "item"
    anchor: str = ""  # a name writers use to place things (charts, the status table)


def _t(*values: Any) -> tuple[Cell, ...]:
    return tuple(Cell(v) for v in values)


BLANK = Line((), "blank")

#: Severity of each attention group (colour of its heading).
SEVERITY: dict[str, Style] = {
    "at_risk": "warning",
    "delayed": "urgent",
    "sorting": "urgent",
    "stuck": "urgent",
    "unsettled": "urgent",
}


def summary_lines(report: Report, *, table_where: str = "the Parcels sheet") -> list[Line]:
    """Title, header, needs attention, summary figures and status counts, top to bottom."""
    lines: list[Line] = [
        Line(_t(report.title), "title"),
        Line(
            _t(
                f"Tracking report · {report.period} · by order creation date"
                f" · times in {report.timezone}"
            ),
            "subtitle",
        ),
        BLANK,
    ]
    lines += _header(report)
    lines += [BLANK, Line(_t("Needs attention"), "section")]
    for group in report.attention:
        lines += _group(group, table_where)
    lines += [BLANK, Line(_t("Summary"), "section", anchor="summary")]
    lines += [_metric(m) for m in report.metrics]
    lines += [
        BLANK,
        Line(_t("Status", "Orders", "Parcels"), "header", anchor="status_header"),
    ]
    for status, orders, parcels in report.status_counts:
        lines.append(
            Line((Cell(status), Cell(orders, "count"), Cell(parcels, "count")), "item", "status")
        )
    if report.not_found:
        lines += [
            BLANK,
            Line(_t(f"{NOT_IN_REPORT.capitalize()}: {len(report.not_found):,}"), "section"),
            Line(
                _t("Numbers you gave that match no parcel in this report (with the reason)."),
                "note",
            ),
            Line(_t("Number", "Reason"), "header"),
        ]
        lines += [Line((Cell(n.ref, "id"), Cell(n.reason)), "item") for n in report.not_found]
    return lines


def _header(report: Report) -> list[Line]:
    out: list[Line] = []
    for shop in report.shops:
        name = shop.seller_name or shop.name
        if shop.seller_name and shop.seller_name != shop.name:
            name = f"{shop.seller_name} (profile {shop.name})"
        out += [
            Line((Cell("Shop"), Cell(name)), "label"),
            Line((Cell("Seller ID"), Cell(shop.seller_id or "—", "id")), "label"),
            Line((Cell("Venture"), Cell(shop.venture)), "label"),
            Line((Cell("Timezone"), Cell(shop.timezone)), "label"),
            Line(
                (
                    Cell("Data as of"),
                    Cell(shop.last_sync, "datetime") if shop.last_sync else Cell("never synced"),
                    Cell("last finished sync"),
                ),
                "label",
            ),
        ]
    inputs = report.inputs
    out.append(Line((Cell("Period"), Cell(report.period), Cell("order creation date")), "label"))
    out.append(Line((Cell("Status filter"), Cell(inputs.status or "all")), "label"))
    if inputs.has_refs:
        given = len(inputs.refs) + len(inputs.rejected)
        out.append(
            Line(
                (
                    Cell("Numbers given"),
                    Cell(given, "count"),
                    Cell(f"{len(report.not_found):,} {NOT_IN_REPORT}"),
                ),
                "label",
            )
        )
    generated = (
        Cell("Generated"),
        Cell(report.generated_local, "datetime"),
        Cell(report.generated_zone),
    )
    out.append(Line(generated, "label"))
    return out


def _group(group: AttentionGroup, table_where: str) -> list[Line]:
    n = len(group.items)
    style: Style = SEVERITY.get(group.key, "urgent") if n else "ok"
    lines = [Line((Cell(group.title), Cell(n, "count")), style)]
    if not n:
        return lines
    lines.append(Line(_t(group.action), "action"))
    for item in group.items[:MAX_ITEMS]:
        lines.append(
            Line(
                (
                    Cell(item.order_number, "id"),
                    Cell(item.tracking_number, "id"),
                    Cell(item.detail),
                ),
                "item",
            )
        )
    if n > MAX_ITEMS:
        lines.append(
            Line(
                _t(f"… and {n - MAX_ITEMS:,} more: filter the Flags column on {table_where}"),
                "note",
            )
        )
    return lines


def _metric(m: Metric) -> Line:
    label = f"{m.label} ({m.currency})" if m.currency else m.label
    return Line((Cell(label), Cell(m.value, m.kind, m.currency), Cell(m.detail)), "label")
