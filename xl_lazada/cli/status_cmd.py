"""``xl-lazada status REF...``: where an order or parcel stands, from the local cache.

A seller pastes an order number, order id, tracking number or package id and gets Seller
Center's status, the tracking numbers, the last checkpoint, the ready-to-ship deadline and
the settlement — without waiting on Lazada (``--refresh`` syncs first). Unknown references
get one clear line each and make the command exit 1.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from ..cache import Cache
from ..cache.db import CacheError
from ..cache.db import default_path as default_cache_path
from ..lazada.dates import parse_datetime
from ..lazada.errors import one_line
from ..rules.events import unmatched
from ..rules.settings import RuleSettings
from ..tables.views import OrderView, build_views, count_text

_REQUIRED = (
    "shop",
    "order_number",
    "order_id",
    "status",
    "tracking_numbers",
    "last_checkpoint",
    "rts_deadline",
    "settlement_net",
)
UNKNOWN_REF = "not found in the cache (check the number, or run `xl-lazada sync` first)"


_SCIENTIFIC = re.compile(r"^[0-9]+(\.[0-9]+)?[eE]\+?[0-9]+$|^[0-9]+\.0+$")
EXCEL_HINT = (
    "looks like a number Excel rounded (scientific notation); copy the full digits, "
    "or format the cell as Text"
)


def clean_ref(ref: str) -> str:
    """A pasted reference as the cache indexes it. Ids and tracking numbers never contain
    whitespace, so spaces and line breaks from a copied cell go; a number Excel turned into
    ``3.17964514998308E+14`` or ``317964514998308.0`` is read back to its digits when the
    text still holds all of them exactly (otherwise it stays as typed and is not found)."""
    text = "".join(ref.split())
    if _SCIENTIFIC.match(text):
        try:
            value = Decimal(text)
        except InvalidOperation:
            return text
        if value == value.to_integral_value() and value < 10**30:
            return str(int(value))
    return text


def _iso(dt: datetime | None, view: OrderView) -> str | None:
    """Shop-local time with its offset (JSON can carry the zone, unlike Excel)."""
    return None if dt is None else dt.astimezone(view.shop.tz).isoformat(timespec="seconds")


def _shown(dt: datetime | None, view: OrderView) -> str:
    return "-" if dt is None else dt.astimezone(view.shop.tz).strftime("%Y-%m-%d %H:%M")


def answer(ref: str, view: OrderView) -> dict[str, Any]:
    """The JSON object for one reference matched to one order."""
    last = view.last_checkpoint
    sorting = view.sorting
    s = view.settlement
    return {
        "ref": ref,
        "shop": view.shop.name,
        "order_number": view.order_number,
        "order_id": view.order_id,
        "status": view.status,
        "item_statuses": view.item_statuses,
        "tracking_numbers": view.tracking_numbers,
        "last_checkpoint": (last[1].title or last[1].status_code) if last else None,
        "last_checkpoint_code": last[1].status_code if last else None,
        "last_checkpoint_time": _iso(last[1].event_time, view) if last else None,
        "last_checkpoint_location": (last[1].location or None) if last else None,
        "rts_deadline": _iso(view.rts.deadline, view),
        "rts_hours_left": None if view.rts.hours_left is None else round(view.rts.hours_left, 2),
        "rts_at_risk": view.rts.at_risk,
        "rts_late": view.rts.late,
        "ready_to_ship_at": _iso(view.rts_at, view),
        "sorting_centre": sorting.label if sorting else None,
        "stuck": view.stuck,
        "delivered_at": _iso(view.delivered_at, view),
        "currency": view.currency or None,
        "settlement_net": view.shop.money(s.net, view.currency) if s.lines else None,
        "settlement_state": s.state,
        "unsettled": s.overdue,
        "timezone": view.shop.tz_label,
        "unmatched_checkpoints": _unmatched(view),
    }


def _unmatched(view: OrderView) -> int:
    """Checkpoints of this order the milestone table does not know (shown by their title)."""
    return sum(len(unmatched(p.checkpoints)) for p in view.packages)


def _text(ref: str, view: OrderView) -> list[str]:
    a = answer(ref, view)
    head = f"{ref}: {a['status']}"
    if ref not in (view.order_number, view.order_id):
        head += f" — order {view.order_number}"
    head += f" (shop {view.shop.name})"
    rts = view.rts
    if rts.hours_left is not None:
        when = "LATE" if rts.late else f"{rts.hours_left:.1f} h left"
        if rts.at_risk:
            when += ", at risk"
    elif view.rts_at is not None:
        when = f"set {_shown(view.rts_at, view)}" + (", LATE" if rts.late else "")
    elif a["status"] == "Canceled":
        when = "canceled"
    else:
        when = "done"
    last = view.last_checkpoint
    if last:
        cp = f"{_shown(last[1].event_time, view)}  {a['last_checkpoint']}"
        if last[1].location:
            cp += f" — {last[1].location}"
    else:
        cp = "-"
    s = view.settlement
    if s.lines:
        money = f"{a['settlement_net']:,.{0 if view.currency in ('VND', 'IDR') else 2}f}"
        settled = f"{money} {view.currency}, {s.state}"
    else:
        settled = s.state + (" (delivered, overdue)" if s.overdue else "")
    lines = [
        head,
        f"  Items:            {count_text(view.item_statuses) or '-'}",
        f"  Tracking:         {', '.join(view.tracking_numbers) or '-'}",
        f"  Last checkpoint:  {cp}",
        f"  RTS deadline:     {_shown(rts.deadline, view)} {view.shop.tz_label} ({when})",
    ]
    if view.packages:
        flags = [a["sorting_centre"] or "-"]
        if view.stuck:
            flags.append("STUCK")
        lines.append(f"  Sorting centre:   {', '.join(flags)}")
    lines.append(f"  Settlement:       {settled}")
    if a["unmatched_checkpoints"]:
        n = a["unmatched_checkpoints"]
        lines.append(
            f"  Unrecognised:     {n} checkpoint{'s' * (n != 1)} with a code not in the "
            "milestone table (shown by title; see `xl-lazada doctor`)"
        )
    return lines


def _refresh(shop: str | None, cache: Cache) -> None:
    from .. import profiles
    from ..sync import sync_shop
    from .sync_cmd import failed_stages, failure_lines

    with profiles.open_client(shop) as client:
        name = shop or client.conn.shop
        summary = sync_shop(client, cache, name)
    for line in failure_lines(summary):
        click.echo(line, err=True)
    stages = failed_stages(summary)
    if stages:
        # The answers below would be stale while looking fresh: say so and stop.
        raise click.ClickException(
            f"refresh failed: the {', '.join(stages)} stage{'s' * (len(stages) > 1)} failed"
        )
    click.echo(
        f"synced {name}: {summary.new_orders} new, {summary.changed_orders} changed orders",
        err=True,
    )


@click.command("status")
@click.argument("refs", nargs=-1, required=True)
@click.option("--shop", help="Only this shop profile (default: every cached shop).")
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False),
    help="Cache file (default: XL_LAZADA_CACHE or the data directory).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array, one object per ref.")
@click.option("--refresh", is_flag=True, help="Sync the shop from Lazada first.")
@click.option("--at", "at", hidden=True, help="Judge deadlines at this ISO time (default: now).")
def status(
    refs: tuple[str, ...],
    shop: str | None,
    cache_path: str | None,
    as_json: bool,
    refresh: bool,
    at: str | None,
) -> None:
    """Status, tracking, last checkpoint, RTS deadline and settlement of each REF.

    REF is an order number, order id, tracking number or package id.
    """
    now = datetime.now(UTC)
    if at:
        try:
            now = parse_datetime(at, UTC) or now
        except ValueError:
            raise click.BadParameter(f"not a time: {at!r}", param_hint="--at") from None
    refs_clean = [clean_ref(r) for r in refs]
    if not refresh:
        path = cache_path or default_cache_path()
        if path != ":memory:" and not os.path.exists(path):
            raise CacheError(f"{path}: no cache yet (run `xl-lazada sync` first)")
    with Cache.open(cache_path) as cache:
        if refresh:
            _refresh(shop, cache)
        views = build_views(cache, shop=shop, refs=refs_clean, now=now, settings=RuleSettings())
        by_key = {(v.shop.name, v.order_id): v for v in views}
        matches = {
            ref: [by_key[k] for k in cache.resolve(ref, shop) if k in by_key] if ref else []
            for ref in refs_clean
        }
    out: list[dict[str, Any]] = []
    unknown = 0
    for typed, ref in zip(refs, refs_clean, strict=True):
        found = matches[ref]
        if not found:
            unknown += 1
            excel = _SCIENTIFIC.match("".join(typed.split()))
            error = EXCEL_HINT if excel else UNKNOWN_REF
            out.append({"ref": ref, **dict.fromkeys(_REQUIRED), "error": error})
            if not as_json:
                click.echo(f"{one_line(typed if excel else ref) or '(blank)'}: {error}")
            continue
        for view in found:
            out.append(answer(ref, view))
            if not as_json:
                click.echo("\n".join(_text(ref, view)))
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    if unknown:
        raise click.ClickException(f"{unknown} of {len(refs_clean)} references not found")
