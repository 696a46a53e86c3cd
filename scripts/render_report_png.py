"""Render the README's pictures of a real report: sandbox shop → sync → report → PDF → PNG.

Starts the built-in sandbox shop on loopback, syncs it into a throwaway cache, builds the
30-day report, writes the standalone workbook, has LibreOffice print it to PDF (the
workbook's own print setup) and ``pdftoppm`` turn pages into PNGs:

- ``docs/img/report.png``: the first page (header and what needs attention);
- ``docs/img/report-summary.png``: the page with the summary figures and charts;
- ``docs/img/report-parcels.png``: the first page of the parcel table.

    python scripts/render_report_png.py [--orders 600] [--out docs/img] [--dpi 110]

Needs LibreOffice (``soffice``) and poppler (``pdftoppm``, ``pdftotext``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from xl_lazada.cache import Cache
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.report import build_report, parse_report_inputs
from xl_lazada.report.pdf import xlsx_to_pdf
from xl_lazada.report.xlsx import write_xlsx
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.sync import SyncOptions, sync_shop

ROOT = Path(__file__).resolve().parent.parent


def _page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")


def _png(pdf: Path, page: int, target: Path, dpi: int) -> None:
    stem = target.with_suffix("")
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(pdf),
            str(stem),
        ],
        check=True,
    )
    print(f"wrote {target} (page {page})")


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--orders", type=int, default=600)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    ap.add_argument("--dpi", type=int, default=110)
    ap.add_argument("--keep", type=Path, help="also keep the .xlsx and .pdf here")
    args = ap.parse_args()
    missing = [t for t in ("soffice", "pdftoppm", "pdftotext") if shutil.which(t) is None]
    if missing:
        print(f"error: needs {', '.join(missing)} (LibreOffice, poppler-utils)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="report-png-") as work:
        cache_path = Path(work, "cache.sqlite3")
        with SandboxServer(orders=args.orders, seed=args.seed, clock_speed=0.0, qps=0) as sb:
            days = int(sb.shop.params["days"]) + 5
            with (
                Cache.open(cache_path) as cache,
                LazadaClient(sb.connection(sb.issue_token()), default_qps=100_000) as client,
            ):
                sync_shop(client, cache, "demo", options=SyncOptions(lookback_days=days))
            now = sb.clock.now()
        with Cache.open(cache_path) as cache:
            today = now.astimezone(cache.shops()[0].tz).date()
            inputs = parse_report_inputs(today - timedelta(days=29), today, None, None, None)
            report = build_report(cache, inputs, now=now)
        xlsx, pdf = Path(work, "report.xlsx"), Path(work, "report.pdf")
        write_xlsx(report, xlsx)
        xlsx_to_pdf(xlsx, pdf)
        pages = _page_texts(pdf)
        summary = next(i for i, t in enumerate(pages, 1) if "Parcels by status" in t)
        parcels = next(i for i, t in enumerate(pages, 1) if "Parcels —" in t)
        _png(pdf, 1, args.out / "report.png", args.dpi)
        _png(pdf, summary, args.out / "report-summary.png", args.dpi)
        _png(pdf, parcels, args.out / "report-parcels.png", args.dpi)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(xlsx, args.keep / "report.xlsx")
            shutil.copy(pdf, args.keep / "report.pdf")
    return 0


if __name__ == "__main__":
    sys.exit(main())
