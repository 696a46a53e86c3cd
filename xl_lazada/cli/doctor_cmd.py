"""``xl-lazada doctor``: is everything ready for the next sync, and is anything unknown?

Checks, in the order a seller would fix them: each shop's Lazada login (warned days before
it must be renewed — refreshing does not extend it), the milestone table (including extra
codes from settings), and the cache: trace codes the table does not know, and what the last
syncs could not fetch. Exit 1 only for something that blocks work (an expired login, an
unreadable milestone file or cache); warnings exit 0.
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

from ..cache.db import default_path as default_cache_path
from ..lazada.errors import one_line
from ..lazada.tokens import EXPIRED, OK, UNKNOWN, TokenHealth

_SHOWN = 10  # code groups listed per section


def _logins(shop: str | None) -> list[TokenHealth]:
    from ..config import ConfigError, connection_from_env
    from ..profiles import get_profile, list_profiles, profile_health, token_health

    try:
        env = connection_from_env()
    except ConfigError:
        env = None
    if env is not None:
        return [token_health()]
    if shop is not None:
        return [profile_health(get_profile(shop))]
    profiles, _ = list_profiles()
    return [profile_health(p) for p in profiles]


@click.command("doctor")
@click.option("--shop", help="Only this shop profile (default: every saved shop).")
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False),
    help="Cache file (default: XL_LAZADA_CACHE or the data directory).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def doctor(shop: str | None, cache_path: str | None, as_json: bool) -> None:
    """Check logins, the trace-code table and the cache; list codes Lazada sent that are new."""
    from ..cache import Cache
    from ..cache.db import CacheError, damaged, failure
    from ..doctor import code_report, failure_counts, file_damage
    from ..rules.milestones import MilestoneTableError, table_for
    from ..rules.settings import RuleSettings

    problems: list[str] = []
    warnings: list[str] = []
    report: dict[str, Any] = {}

    logins = _logins(shop)
    report["logins"] = [
        {
            "shop": h.shop,
            "level": h.level,
            "days_left": None if h.days_left is None else round(h.days_left, 2),
            "can_refresh": h.can_refresh,
            "message": h.message,
        }
        for h in logins
    ]
    for h in logins:
        if h.level == EXPIRED:
            problems.append(h.message)
        elif h.level not in (OK, UNKNOWN):
            warnings.append(h.message)

    table = None
    try:
        table = table_for(RuleSettings())
        report["milestone_codes"] = len(table.codes)
        report["milestone_extra"] = os.environ.get("XL_LAZADA_MILESTONES") or None
    except MilestoneTableError as exc:
        problems.append(f"milestone table: {exc}")

    path = cache_path or default_cache_path()
    report["cache"] = path
    codes = None
    failures: dict[str, int] = {}
    if path != ":memory:" and not os.path.exists(path):
        warnings.append(f"{path}: no cache yet (run `xl-lazada sync`)")
    elif table is not None:
        try:
            with Cache.open(path) as cache:
                report["schema_version"] = cache.schema_version
                damage = file_damage(cache)
                if damage is not None:
                    raise damaged(damage, path)
                codes = code_report(cache, shop, table=table)
                failures = failure_counts(cache, shop)
        except CacheError as exc:
            problems.append(one_line(str(exc), 1000))
        except Exception as exc:  # a read failing part way (locked, I/O): one line
            unusable = failure(exc, path)
            if unusable is None:
                raise
            problems.append(one_line(str(unusable), 1000))
    if codes is not None:
        report["checkpoints"] = codes.to_dict()
        if codes.unmatched_events:
            warnings.append(
                f"{codes.unmatched_events} checkpoint(s) match no milestone (shown by their "
                "title): add their codes to the milestone table"
            )
    report["sync_failures"] = failures
    report["problems"] = problems
    report["warnings"] = warnings

    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo("Logins:")
        for h in logins or []:
            click.echo(f"  [{h.level}] {h.message}")
        if not logins:
            click.echo("  no shops saved yet: run `xl-lazada login`")
        if table is not None:
            extra = report.get("milestone_extra")
            click.echo(
                f"Milestone table: {len(table.codes)} known codes"
                + (f" (with extras from {extra})" if extra else "")
            )
        click.echo(
            f"Cache: {path}"
            + (f" (schema v{report['schema_version']})" if "schema_version" in report else "")
        )
        if codes is not None:
            click.echo(
                f"  checkpoints: {codes.events}, known codes {codes.listed}, "
                f"matched by title/type only {codes.unlisted_events}, "
                f"unmatched {codes.unmatched_events}"
            )
            for title, rows in (
                ("codes not in the table (matched by title or type)", codes.unlisted),
                ("codes nothing matches (shown with their own title)", codes.unmatched),
            ):
                if rows:
                    click.echo(f"  {title}:")
                    for c in rows[:_SHOWN]:
                        meaning = c.milestone or "?"
                        click.echo(
                            f"    {one_line(c.status_code, 40) or '(blank)'}"
                            f" {one_line(c.detail_type, 40) or '-'} "
                            f"{one_line(c.title, 80)!r}: {c.events} event(s) -> {meaning}"
                        )
                    if len(rows) > _SHOWN:
                        click.echo(f"    ... and {len(rows) - _SHOWN} more (see --json)")
        if failures:
            click.echo(
                "  last sync could not fetch: "
                + ", ".join(f"{n} {stage}" for stage, n in sorted(failures.items()))
            )
        for w in warnings:
            click.echo(f"WARNING: {w}")
    if problems:
        raise click.ClickException("; ".join(problems))
