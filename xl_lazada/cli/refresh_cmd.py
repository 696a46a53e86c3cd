"""``xl-lazada refresh BOOK.xlsm``: sync, then rewrite the workbook's data sheets, no Excel.

Arguments are checked, and the workbook checked and read (once), before anything else (a
bad ``--only`` or a locked workbook touches nothing). A failed sync does not stop the
refresh: the sheets are rewritten from the cache and their status lines say how old the
data is; the exit code is non-zero only if nothing could be written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..cache import Cache
from ..workbook.as_of import NOTHING_YET

if TYPE_CHECKING:
    from ..workbook.refresh import OpenBook, RefreshSummary


@click.command("refresh")
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--shop", help="Shop profile (default: the Settings sheet's, else the default).")
@click.option(
    "--only",
    help="Comma-separated parts to refresh: orders, tracking, checkpoints, settlements, report.",
)
@click.option("--no-sync", is_flag=True, help="Do not call Lazada; rewrite from the cache.")
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False),
    help="Cache file (default: XL_LAZADA_CACHE or the data directory).",
)
def refresh(
    book: Path, shop: str | None, only: str | None, no_sync: bool, cache_path: str | None
) -> None:
    """Sync with Lazada and rewrite BOOK's Orders, Tracking, Checkpoints and Settlements.

    The report is rebuilt from the Report sheet's inputs when it has any; inputs it refuses
    (a range over 30 days, an end before the start) are explained in the Report sheet's
    message cell, the data sheets are still refreshed, and the exit code is 1."""
    from ..workbook.refresh import RefreshError, open_book, parse_only

    try:
        parts = parse_only(only)
        opened = open_book(book, parts)  # checked and read once, before the sync
    except RefreshError as exc:
        raise click.ClickException(str(exc)) from None
    with opened, Cache.open(cache_path) as cache:
        shop = shop or opened.settings.shop
        as_of = "" if no_sync else _sync(cache, shop, opened.settings)
        if no_sync:
            as_of = _as_of(cache, shop, prefix="not synced")
        if as_of.endswith(NOTHING_YET):
            raise click.ClickException(
                f"nothing written to {book.name}: {as_of}{_other_shops(cache, shop)}"
            )
        summary = _write(opened, cache, shop, parts, as_of)
    click.echo(summary.line())
    for note in summary.notes:  # e.g. which checkpoints the sheet keeps (as `demo` says)
        click.echo(f"  ({note})")
    if summary.report_refused:
        raise click.ClickException(f"report not built: {summary.report}")


def _other_shops(cache: Cache, shop: str | None) -> str:
    """When the cache has data, but for other shops than the one asked for (a shop name
    mistyped in Settings or --shop): which shops it holds."""
    held = sorted(s.name for s in cache.shops())
    if shop is None or shop in held or not held:  # (a shop known but empty: the name is right)
        return ""
    return (
        f" for shop {shop!r} (the cache holds {', '.join(held)}: check the shop in the"
        " Settings sheet or --shop)"
    )


def _write(
    book: OpenBook, cache: Cache, shop: str | None, parts: list[str], as_of: str
) -> RefreshSummary:
    from ..workbook.refresh import RefreshError, refresh_workbook

    try:
        return refresh_workbook(book, cache, shop=shop, only=parts, as_of=as_of)
    except RefreshError as exc:
        raise click.ClickException(str(exc)) from None


def _sync(cache: Cache, shop: str | None, settings: Any) -> str:
    """Sync the shop; on failure say so on stderr and return the 'data as of' note."""
    from dataclasses import replace

    from ..lazada.errors import one_line
    from ..sync import SyncOptions, sync_shop
    from .progress import progress_bar
    from .sync_cmd import _open_client, failed_stages, summary_line

    options = replace(SyncOptions(), lookback_days=settings.lookback_days)
    kwargs: dict[str, Any] = {} if settings.qps is None else {"default_qps": settings.qps}
    name = shop
    try:
        with _open_client(shop, **kwargs) as client:
            name = shop or client.conn.shop
            with progress_bar() as on_progress:
                summary = sync_shop(client, cache, name, options=options, progress=on_progress)
    except Exception as exc:  # noqa: BLE001 - any failure: refresh from the cache instead
        reason = one_line(exc, 200)
        click.echo(f"sync failed: {reason}; refreshing from the cache", err=True)
        return _as_of(cache, name, prefix=f"sync failed ({reason[:80]})")
    click.echo(summary_line(name or "", summary), err=True)
    stages = failed_stages(summary)
    if stages:
        click.echo(f"sync incomplete: the {', '.join(stages)} stage failed", err=True)
        return _as_of(cache, name, prefix=f"sync incomplete ({', '.join(stages)})")
    return ""


def _as_of(cache: Cache, shop: str | None, *, prefix: str) -> str:
    """``"<prefix>; data as of 2026-12-01 17:00 UTC+08:00"``, or what else
    :func:`~xl_lazada.workbook.as_of.freshness` says."""
    from ..workbook.as_of import freshness

    return f"{prefix}; {freshness(cache, shop)}"
