"""``xl-lazada status REF...``: where an order or parcel stands, from the local cache.

A seller pastes an order number, order id, tracking number or package id and gets Seller
Center's status, the tracking numbers, the last checkpoint, the ready-to-ship deadline and
the settlement — without waiting on Lazada (``--refresh`` syncs first). Unknown references
get one clear line each and make the command exit 1.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import click

from ..cache import Cache
from ..lazada.dates import parse_datetime
from ..lazada.errors import one_line
from ..lazada.ventures import ZERO_DECIMAL_CURRENCIES
from ..lookup import RefStatus, checkpoints, lookup
from ..rules.events import Checkpoint, unmatched

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


def _iso(dt: datetime | None, a: RefStatus) -> str | None:
    """Shop-local time with its offset (JSON can carry the zone, unlike Excel)."""
    return None if dt is None else dt.astimezone(a.shop_tz).isoformat(timespec="seconds")


def _shown(dt: datetime | None, a: RefStatus) -> str:
    return "-" if dt is None else dt.astimezone(a.shop_tz).strftime("%Y-%m-%d %H:%M")


def _tz_label(a: RefStatus) -> str:
    offset = datetime.now(UTC).astimezone(a.shop_tz).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _money(value: Decimal | None, currency: str | None) -> float | None:
    if value is None:
        return None
    q = Decimal(1) if currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
    return float(value.quantize(q, rounding=ROUND_HALF_UP))


def count_text(statuses: list[str] | tuple[str, ...]) -> str:
    counts = Counter(s for s in statuses if s)
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def answer(ref: str, a: RefStatus, cache: Cache | None = None) -> dict[str, Any]:
    """The JSON object for one reference matched to one order."""
    return {
        "ref": ref,
        "shop": a.shop,
        "order_number": a.order_number,
        "order_id": a.order_id,
        "status": a.status,
        "item_statuses": list(a.item_statuses),
        "tracking_numbers": list(a.tracking_numbers),
        "last_checkpoint": a.last_checkpoint_title,
        "last_checkpoint_code": a.last_checkpoint_code,
        "last_checkpoint_time": _iso(a.last_checkpoint_time, a),
        "last_checkpoint_location": a.last_checkpoint_location,
        "rts_deadline": _iso(a.rts_deadline, a),
        "rts_hours_left": None if a.rts_hours_left is None else round(a.rts_hours_left, 2),
        "rts_at_risk": a.rts_at_risk,
        "rts_late": a.rts_late,
        "ready_to_ship_at": _iso(a.ready_to_ship_at, a),
        "sorting_centre": a.sorting_centre,
        "stuck": a.stuck,
        "delivered_at": _iso(a.delivered_at, a),
        "currency": a.currency,
        "settlement_net": _money(a.settlement_net, a.currency),
        "settlement_state": a.settlement_state,
        "unsettled": a.unsettled,
        "timezone": _tz_label(a),
        "unmatched_checkpoints": _unmatched(a, cache),
    }


def _unmatched(a: RefStatus, cache: Cache | None) -> int:
    """Checkpoints of this order the milestone table does not know (shown by their title)."""
    if not a.order_number:
        return 0
    events = [
        Checkpoint(c.status_code, c.time, title=c.title, detail_type=c.detail_type)
        for c in checkpoints(a.order_number, shop=a.shop, cache=cache)
    ]
    return len(unmatched(events))


def _text(ref: str, a: RefStatus, cache: Cache | None = None) -> list[str]:
    head = f"{ref}: {a.status}"
    if ref not in (a.order_number, a.order_id):
        head += f" — order {a.order_number}"
    head += f" (shop {a.shop})"
    if a.rts_hours_left is not None:
        when = "LATE" if a.rts_late else f"{a.rts_hours_left:.1f} h left"
        if a.rts_at_risk:
            when += ", at risk"
    elif a.ready_to_ship_at is not None:
        when = f"set {_shown(a.ready_to_ship_at, a)}" + (", LATE" if a.rts_late else "")
    elif a.status == "Canceled":
        when = "canceled"
    elif a.status == "Unpaid":
        when = "waiting for payment"
    else:
        when = "done"
    if a.last_checkpoint_time is not None:
        cp = f"{_shown(a.last_checkpoint_time, a)}  {one_line(a.last_checkpoint_title)}"
        if a.last_checkpoint_location:
            cp += f" — {one_line(a.last_checkpoint_location)}"
    else:
        cp = "-"
    if a.settlement_net is not None:
        places = 0 if a.currency in ZERO_DECIMAL_CURRENCIES else 2
        settled = (
            f"{_money(a.settlement_net, a.currency):,.{places}f} {a.currency}, {a.settlement_state}"
        )
    else:
        settled = f"{a.settlement_state}" + (" (delivered, overdue)" if a.unsettled else "")
    lines = [
        head,
        f"  Items:            {count_text(a.item_statuses) or '-'}",
        f"  Tracking:         {one_line(', '.join(a.tracking_numbers)) or '-'}",
        f"  Last checkpoint:  {cp}",
        f"  RTS deadline:     {_shown(a.rts_deadline, a)} {_tz_label(a)} ({when})",
    ]
    if a.package_ids:
        flags = [a.sorting_centre or "-"]
        if a.stuck:
            flags.append("STUCK")
        lines.append(f"  Sorting centre:   {', '.join(flags)}")
    lines.append(f"  Settlement:       {settled}")
    n = _unmatched(a, cache)
    if n:
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
        f"synced {name}: {summary.new_orders:,} new, {summary.changed_orders:,} changed orders",
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
    with Cache.open(cache_path, must_exist=not refresh) as cache:
        if refresh:
            _refresh(shop, cache)
        answers = lookup(refs, shop=shop, cache=cache, now=now)
        out, unanswered = _answers(refs, answers, as_json, cache)
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    if unanswered:
        raise click.ClickException(_unanswered_line(unanswered, len(refs)))


#: How the closing error line names each kind of unanswered reference.
_UNANSWERED = {
    "not_found": "not found",
    "invalid": "invalid",
    "rounded": "rounded by Excel",
    "blank": "blank",
    "unknown_shop": "in an unknown shop",
}


def _unanswered_line(kinds: list[str], total: int) -> str:
    """``2 of 5 references not found``, or with mixed reasons ``3 of 5 references not
    answered: 2 not found, 1 invalid`` (each reference's own line says why)."""
    counts = Counter(_UNANSWERED.get(k, k) for k in kinds)
    if len(counts) == 1:
        return f"{len(kinds)} of {total} references {next(iter(counts))}"
    parts = ", ".join(f"{n} {word}" for word, n in counts.most_common())
    return f"{len(kinds)} of {total} references not answered: {parts}"


def _answers(
    refs: tuple[str, ...], answers: list[RefStatus], as_json: bool, cache: Cache
) -> tuple[list[dict[str, Any]], list[str]]:
    out: list[dict[str, Any]] = []
    unanswered: list[str] = []
    for typed, a in zip(refs, answers, strict=True):
        shown = a.matches or ((a,) if a.found else ())
        if not shown:
            unanswered.append(a.kind)
            ref = "".join(typed.split())
            error = a.message or "blank reference"
            out.append({"ref": ref, **dict.fromkeys(_REQUIRED), "error": error})
            if not as_json:
                click.echo(f"{one_line(typed) or '(blank)'}: {error}")
            continue
        for match in shown:
            ref = _ref_text(typed, match)
            out.append(answer(ref, match, cache))
            if not as_json:
                click.echo("\n".join(_text(ref, match, cache)))
    return out, unanswered


def _ref_text(typed: str, a: RefStatus) -> str:
    """The reference as the cache knows it (cleaned, e.g. Excel's float read back)."""
    from ..refs import normalize_ref

    text = normalize_ref(typed).text
    for known in (a.order_number, a.order_id, *a.tracking_numbers, *a.package_ids):
        if known and known.upper() == text.upper():
            return known
    return text
