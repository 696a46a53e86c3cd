"""``xl-lazada report``: the tracking report as a file, from the local cache.

Like Seller Center's tracking report download (a creation-date range of at most 30 days,
tracking or package numbers, or an uploaded CSV of tracking numbers), but the answer comes
formatted: what needs attention first, a summary of the period, and one row per parcel.
Bad input is one line and exit 1, before any file is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click

from ..cache.db import CacheError
from ..cache.db import default_path as default_cache_path
from ..report.inputs import ReportInputError


def _output(path: Path | None, suffix: str, option: str) -> Path | None:
    if path is None:
        return None
    if path.suffix.lower() != suffix:
        raise ReportInputError(f"{option} {path}: the file name must end in {suffix}")
    folder = path.resolve().parent
    if not folder.is_dir():
        raise ReportInputError(f"{option} {path}: folder {folder} does not exist")
    if path.exists():  # last time's report, maybe still open in Excel, or kept read-only
        from ..workbook.save import check_not_open, unwritable

        check_not_open(path)
        why = unwritable(path)
        if why:
            fix = " or clear its read-only mark" if why == "read-only" else ""
            raise ReportInputError(f"{option} {path}: the file is {why}; choose another name{fix}")
    return path


@click.command("report")
@click.option("--from", "date_from", metavar="DATE", help="First order creation day (YYYY-MM-DD).")
@click.option("--to", "date_to", metavar="DATE", help="Last order creation day (at most 30 days).")
@click.option(
    "--tracking-csv",
    "tracking_csv",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    help="CSV of tracking numbers (Seller Center's or your own; header optional).",
)
@click.option(
    "--tracking",
    "tracking",
    metavar="REF",
    multiple=True,
    help="A tracking number, package id or order number (repeatable).",
)
@click.option("--status", help="Only orders in this Seller Center status (e.g. Delayed).")
@click.option("--shop", help="Only this shop profile (default: every cached shop).")
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False),
    help="Cache file (default: XL_LAZADA_CACHE or the data directory).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the formatted report here (.xlsx).",
)
@click.option(
    "--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path), help="Also a CSV."
)
@click.option(
    "--pdf",
    "pdf_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also a PDF (needs LibreOffice).",
)
@click.option("--at", "at", hidden=True, help="Judge deadlines at this ISO time (default: now).")
def report(
    date_from: str | None,
    date_to: str | None,
    tracking_csv: tuple[Path, ...],
    tracking: tuple[str, ...],
    status: str | None,
    shop: str | None,
    cache_path: str | None,
    out: Path | None,
    csv_out: Path | None,
    pdf_out: Path | None,
    at: str | None,
) -> None:
    """Write a formatted tracking report for a date range and/or tracking numbers."""
    from ..cache import Cache
    from ..report import build_report, parse_report_inputs, read_tracking_csv
    from ..report.build import NOT_IN_REPORT, attention_count

    out = _output(out, ".xlsx", "--out")
    csv_out = _output(csv_out, ".csv", "--csv")
    pdf_out = _output(pdf_out, ".pdf", "--pdf")
    if not (out or csv_out or pdf_out):
        raise ReportInputError("say where to write the report: --out report.xlsx (or --csv/--pdf)")
    refs: list[str] = list(tracking)
    for csv_file in tracking_csv:
        refs += read_tracking_csv(csv_file)
    inputs = parse_report_inputs(date_from, date_to, status, shop, refs or None)
    now = _when(at)
    path = cache_path or default_cache_path()
    if path != ":memory:" and not os.path.exists(path):
        raise CacheError(f"{path}: no cache yet (run `xl-lazada sync` first)")
    if pdf_out is not None:
        from ..report.pdf import PdfError, find_soffice

        if find_soffice() is None:  # say so before the work, not after
            raise PdfError(
                "--pdf needs LibreOffice (soffice), which is not installed; use --out report.xlsx"
            )
    with Cache.open(path) as cache:
        result = build_report(cache, inputs, now=now)
    written: list[str] = []
    if out is not None:
        from ..report.xlsx import write_xlsx

        _write("--out", out, lambda: write_xlsx(result, out))
        written.append(str(out))
    if csv_out is not None:
        from ..report.csv import write_csv

        _write("--csv", csv_out, lambda: write_csv(result, csv_out))
        written.append(str(csv_out))
    if pdf_out is not None:
        from ..report.pdf import write_pdf

        # from the --out workbook, if one was written
        _write("--pdf", pdf_out, lambda: write_pdf(result, pdf_out, xlsx=out))
        written.append(str(pdf_out))
    table = result.table
    parcels = int(table["Package id"].notna().sum())
    orders = table[["Shop", "Order id"]].drop_duplicates().shape[0]
    line = (
        f"{_count(orders, 'order')}, {_count(parcels, 'parcel')}, {result.period}; "
        f"{attention_count(result):,} need attention"
    )
    if inputs.has_refs:
        line += f"; {len(result.not_found):,} of {len(inputs.refs) + len(inputs.rejected):,} numbers {NOT_IN_REPORT}"
    click.echo(line)
    click.echo("wrote " + ", ".join(written))


def _write(option: str, path: Path, write: Callable[[], None]) -> None:
    """Run one file writer; a file the system refuses (open in Excel on Windows, a folder
    without write access, a full disk) is one line, and the old file stays as it was."""
    try:
        write()
    except OSError as exc:
        why = exc.strerror or str(exc)
        hint = "; is it open in Excel?" if isinstance(exc, PermissionError) else ""
        raise ReportInputError(f"{option} {path}: cannot write it ({why}{hint})") from None


def _when(at: str | None) -> datetime:
    if not at:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        raise ReportInputError(f"--at {at!r} is not an ISO time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
