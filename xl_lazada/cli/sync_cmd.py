"""``xl-lazada sync``: bring the local cache up to date with Lazada (incrementally).

Progress goes to stderr (a live bar on a terminal, a line every few seconds in a log), the
result to stdout: one summary line, or with ``--json`` one JSON object (the
:class:`~xl_lazada.sync.SyncSummary`). Orders that could not be fetched are listed on
stderr; they do not fail the command (the next sync retries them), but authorisation or
signature problems and a dead network do, and so does a whole stage that failed
(``SyncSummary.failed_stages``: Lazada unreachable, app key refused). Work the daily call
budget did not cover is not a failure: the summary says what is left for the next run.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import click

from ..cache import Cache
from ..lazada.tokens import token_health_of
from ..sync import SyncOptions, SyncSummary, sync_shop
from ..sync.progress import STAGES
from .progress import STAGE_LABELS, progress_bar


def _open_client(shop: str | None, **client_kwargs: Any) -> Any:
    """A client for ``shop``: the environment or a saved profile (refreshed tokens are saved)."""
    from .. import profiles

    return profiles.open_client(shop, **client_kwargs)


def summary_line(shop: str, s: SyncSummary) -> str:
    """One human line: what changed, calls and time."""
    parts = [
        f"{s.new_orders:,} new orders",
        f"{s.changed_orders:,} changed",
        f"{s.status_changes:,} status changes",
        f"{s.new_checkpoints:,} new checkpoints",
        f"{s.new_transactions:,} new transactions",
    ]
    calls = f"{s.calls:,} calls"
    if s.throttled:
        calls += f" ({s.throttled:,} throttled, {100 * s.throttled / max(1, s.calls):.1f}%)"
    text = f"{shop}: " + ", ".join(parts) + f" — {calls} in {s.elapsed_s:.1f} s"
    if s.failed:
        text += f"; {len(s.failed)} failed (retried next sync)"
    return text


def budget_line(s: SyncSummary) -> str | None:
    """What the daily call budget left for the next run, or ``None`` if nothing was left."""
    if not s.deferred:
        return None
    left = []
    for stage, n in s.deferred.items():
        label = STAGE_LABELS.get(stage, stage).lower()
        left.append(f"{label} ({n:,} orders)" if stage in ("traces", "history") else label)
    budget = f"{s.daily_budget:,}" if s.daily_budget else "the"
    return (
        f"daily call budget reached ({budget} calls a day): {', '.join(left)} left for the next run"
    )


def failed_stages(s: SyncSummary) -> list[str]:
    """Stages that failed as a whole (Lazada unreachable, app key refused, ...): unlike one
    order that failed, these mean the cache did not get the update, so the command fails."""
    return list(s.failed_stages)


def failure_lines(s: SyncSummary, limit: int = 20) -> list[str]:
    """``failed: REF: stage: error`` lines (a whole stage just once), at most ``limit``."""
    lines = [
        f"failed: {message}" if ref in STAGES else f"failed: {ref}: {message}"
        for ref, message in s.failed[:limit]
    ]
    if len(s.failed) > limit:
        lines.append(f"... and {len(s.failed) - limit} more failures")
    return lines


@click.command("sync")
@click.option("--shop", help="Shop profile to sync (default: the environment or default shop).")
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False),
    help="Cache file (default: XL_LAZADA_CACHE or the data directory).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--no-traces", is_flag=True, help="Skip tracking checkpoints.")
@click.option("--no-finance", is_flag=True, help="Skip transactions and payout statements.")
@click.option(
    "--lookback-days",
    type=click.IntRange(1, 3650),
    help="How far back the first sync reads (default 30 days).",
)
@click.option(
    "--qps",
    type=click.FloatRange(0.1, 10_000),
    help="Most calls per second per Lazada API (default: learned from Lazada's answers).",
)
@click.option(
    "--daily-calls",
    type=click.IntRange(0, 100_000_000),
    help="Calls a day the app may make, counted across runs (default: 10,000 for a test "
    "app, 100,000 for an online one; 0 = no limit).",
)
@click.option("--order-chunk", type=click.IntRange(1, 10_000), hidden=True)
def sync(
    shop: str | None,
    cache_path: str | None,
    as_json: bool,
    no_traces: bool,
    no_finance: bool,
    lookback_days: int | None,
    qps: float | None,
    daily_calls: int | None,
    order_chunk: int | None,
) -> None:
    """Fetch new and changed orders, tracking and settlements into the local cache."""
    options = SyncOptions(traces=not no_traces, finance=not no_finance)
    if lookback_days is not None:
        options = replace(options, lookback_days=lookback_days)
    if order_chunk is not None:
        options = replace(options, order_chunk=order_chunk)
    if daily_calls is not None:
        options = replace(options, daily_calls=daily_calls)
    client_kwargs: dict[str, Any] = {} if qps is None else {"max_qps": qps}
    with _open_client(shop, **client_kwargs) as client, Cache.open(cache_path) as cache:
        name = shop or client.conn.shop
        with progress_bar() as on_progress:
            summary = sync_shop(client, cache, name, options=options, progress=on_progress)
        token = client.token
    if token is not None:  # refreshing never extends the login: say so days ahead
        health = token_health_of(
            name, token.expires_at, token.refresh_expires_at, can_refresh=token.refreshable
        )
        if health.needs_login:
            click.echo(f"warning: {health.message}", err=True)
    for line in failure_lines(summary):
        click.echo(line, err=True)
    if as_json:
        click.echo(json.dumps({"shop": name, **summary.to_dict()}, ensure_ascii=False))
        click.echo(summary_line(name, summary), err=True)
    else:
        click.echo(summary_line(name, summary))
    left = budget_line(summary)
    if left:
        click.echo(left, err=True)
    stages = failed_stages(summary)
    if stages:
        raise click.ClickException(
            f"sync incomplete: the {', '.join(stages)} stage{'s' * (len(stages) > 1)} "
            "failed (see above); "
            "nothing was lost, run it again when the cause is fixed"
        )
