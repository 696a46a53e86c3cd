"""``xl-lazada demo``: the whole product against the built-in sandbox, no account needed.

Starts a simulated cross-border shop on loopback, syncs it into a demo cache, shows what a
seller would look at first (status counts, orders about to miss the ready-to-ship deadline,
parcels late to the sorting centre or stuck, delivered orders not yet paid), then moves the
simulated clock on and syncs again to show that a second refresh only fetches what changed.
Last it builds a workbook (``workbook new``), refreshes it from the demo cache (what
``xl-lazada refresh`` does) and prints where the ready ``.xlsm`` is and what it holds.
Every option is checked before anything is deleted or written.
"""

from __future__ import annotations

import json
import os
import shlex
from datetime import timedelta
from pathlib import Path

import click
import pandas as pd

from ..cache import Cache
from ..config import data_dir
from ..lazada.client import LazadaClient
from ..lazada.ventures import VENTURES
from ..sandbox.server import SandboxServer
from ..sync import SyncOptions, sync_shop
from ..tables import orders_table
from .progress import progress_bar
from .sync_cmd import summary_line

SHOP = "demo"


def _default_cache() -> Path:
    return Path(data_dir()) / "demo" / "cache.sqlite3"


def _default_workbook() -> Path:
    return Path(data_dir()) / "demo" / "LazadaDemo.xlsm"


def _fresh(path: Path) -> None:
    """Start the demo from an empty cache (only ever the demo's own file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _section(title: str, frame: pd.DataFrame, columns: list[str], limit: int = 5) -> None:
    click.echo(f"\n{title}: {len(frame)}")
    if frame.empty:
        return
    shown = frame[columns].head(limit).astype("string").fillna("")
    for line in shown.to_string(index=False, max_colwidth=42).splitlines():
        click.echo("  " + line)
    if len(frame) > limit:
        click.echo(f"  ... and {len(frame) - limit} more")


@click.command("demo")
@click.option(
    "--orders",
    default=2000,
    show_default=True,
    type=click.IntRange(10, 100_000),
    help="Orders in the simulated shop.",
)
@click.option("--seed", default=7, show_default=True, help="Seed of the simulated shop.")
@click.option(
    "--venture",
    default="MY",
    show_default=True,
    type=click.Choice(sorted(VENTURES), case_sensitive=False),
    help="Country the shop sells into.",
)
@click.option(
    "--hours",
    default=12.0,
    show_default=True,
    type=click.FloatRange(0, 24 * 30),
    help="Simulated hours between the first and the second refresh.",
)
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Demo cache file (default: demo/cache.sqlite3 in the data directory).",
)
@click.option(
    "--workbook",
    "book_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the demo workbook (default: demo/LazadaDemo.xlsm in the data "
    "directory); must not exist yet.",
)
@click.option("--json", "as_json", is_flag=True, help="Print both sync summaries as JSON.")
def demo(
    orders: int,
    seed: int,
    venture: str,
    hours: float,
    cache_path: Path | None,
    book_path: Path | None,
    as_json: bool,
) -> None:
    """Run a sync against the sandbox shop and show what a seller sees."""
    path = cache_path or _default_cache()
    book = _check_workbook_path(book_path)
    if path.exists() and not _is_demo_cache(path):
        raise click.ClickException(f"{path} is not a demo cache; pick another --cache file")
    _fresh(path)
    click.echo(
        f"Starting the sandbox: a cross-border shop selling into {venture.upper()} "
        f"with {orders:,} orders (seed {seed})..."
    )
    with SandboxServer(orders=orders, seed=seed, venture=venture, clock_speed=0.0, qps=200) as sb:
        click.echo(
            f"Sandbox API at {sb.base_url} — simulated time "
            f"{sb.clock.now().astimezone(sb.shop.venture.tz):%Y-%m-%d %H:%M %Z}"
        )
        conn = sb.connection(sb.issue_token())
        options = SyncOptions(lookback_days=60)
        with Cache.open(path) as cache, LazadaClient(conn, default_qps=100) as client:
            first = _sync(client, cache, options)
            example = _overview(cache, sb)
            sb.clock.advance(timedelta(hours=hours))
            click.echo(f"\nSimulated clock moved on {hours:g} hours; refreshing again...")
            second = _sync(client, cache, options)
            changes = cache.history(shop=SHOP, since=None)
            click.echo(
                f"History now holds {len(changes):,} recorded changes "
                "(status changes, new checkpoints, payments)."
            )
            _workbook(book, cache, sb)
    if as_json:
        click.echo(
            json.dumps({"first": first.to_dict(), "second": second.to_dict(), "cache": str(path)})
        )
    click.echo(
        f"\nThe demo cache is {path}. Try:\n"
        f"  xl-lazada status --cache {_quote(path)} {example or '<order or tracking number>'}"
    )


def _check_workbook_path(book_path: Path | None) -> Path:
    """The workbook the demo writes: its own default file (replaced each run) or a new one."""
    if book_path is None:
        book = _default_workbook()
        from ..workbook.save import owner_file

        if owner_file(book).exists():
            raise click.ClickException(f"{book} is open in Excel; close it and run the demo again")
        return book
    if book_path.suffix.lower() != ".xlsm":
        raise click.ClickException(f"--workbook {book_path.name}: the workbook must end in .xlsm")
    if book_path.exists():
        raise click.ClickException(
            f"--workbook {book_path} already exists; the demo never overwrites a file, pick another"
        )
    if not book_path.parent.is_dir():
        raise click.ClickException(f"--workbook: no such folder {book_path.parent}")
    return book_path


def _workbook(book: Path, cache: Cache, sb: SandboxServer) -> None:
    """Build the workbook, refresh it from the demo cache, say where it is and what it holds."""
    from ..report import build_report, report_message, report_sheetspec, write_xlsx
    from ..report.sheet import last_days, report_input_sheet
    from ..workbook.build import build_workbook
    from ..workbook.contract import SHEET_NAMES
    from ..workbook.refresh import refresh_workbook

    now = sb.clock.now()
    report = build_report(cache, last_days(cache, now, shop=SHOP), now=now)
    message = report_message(report)
    extra = [report_input_sheet(report.inputs, message), report_sheetspec(report)]
    book.parent.mkdir(parents=True, exist_ok=True)
    build_workbook(book, force=True)
    summary = refresh_workbook(
        book, cache, shop=SHOP, now=now, as_of="sandbox demo", extra_specs=extra
    )
    click.echo(f"\nYour demo workbook is ready: {book.resolve()}")
    for name in SHEET_NAMES:
        rows = summary.rows.get(name)
        click.echo(f"  {name:<14} {f'{rows:,} rows' if rows is not None else ''}".rstrip())
    for note in summary.notes:
        click.echo(f"  ({note})")
    click.echo(f"  Report: {report.period}. {message}")
    standalone = book.with_name(f"{book.stem} report.xlsx")
    if standalone.exists() and book != _default_workbook():
        click.echo(f"  (not overwriting {standalone}; no standalone report written)")
        return
    write_xlsx(report, standalone)
    click.echo(f"A standalone report (print-ready) is next to it: {standalone.resolve()}")


def _sync(client: LazadaClient, cache: Cache, options: SyncOptions):
    with progress_bar() as on_progress:
        summary = sync_shop(client, cache, SHOP, options=options, progress=on_progress)
    click.echo(summary_line(SHOP, summary))
    return summary


def _overview(cache: Cache, sb: SandboxServer) -> str | None:
    """What a seller would look at first; returns an order number to try ``status`` on."""
    now = sb.clock.now()
    table = orders_table(cache, shop=SHOP, now=now)
    counts = table["Status"].value_counts()
    click.echo("\nOrders by Seller Center status:")
    for status, n in counts.items():
        click.echo(f"  {status:<18} {n:>6,}")
    cols = ["Order number", "Status", "RTS deadline", "Hours left"]
    open_rts = table[table["At risk"].fillna(False) & ~table["RTS late"].fillna(False)]
    _section("Ready-to-ship deadline within hours (at risk)", open_rts, cols)
    _section("Delayed (past the promised shipping time)", table[table["Status"] == "Delayed"], cols)
    parcels = ["Order number", "Tracking numbers", "Last checkpoint", "Last checkpoint time"]
    late = table[table["Sorting centre"].fillna("").str.contains("late|overdue", case=False)]
    _section("Parcels late to the sorting centre", late, parcels + ["Sorting centre"])
    _section("Stuck parcels (no new checkpoint)", table[table["Stuck"].fillna(False)], parcels)
    money = ["Order number", "Delivered", "Settlement state", "Settlement net"]
    _section("Delivered but not yet settled", table[table["Unsettled"].fillna(False)], money)
    sample = table["Order number"].dropna()
    return str(sample.iloc[0]) if not sample.empty else None


def _is_demo_cache(path: Path) -> bool:
    try:
        with Cache.open(path) as cache:
            names = {s.name for s in cache.shops()}
    except Exception:
        return False
    return names <= {SHOP}


def _quote(path: Path) -> str:
    """``path`` as a shell word the seller can paste: POSIX shell quoting, or double quotes
    for Windows' shells (where a path cannot contain a double quote)."""
    text = str(path)
    return f'"{text}"' if os.name == "nt" else shlex.quote(text)
