"""The formulas' answers as pure functions: Excel's raw input in, cell values out.

Each ``*_values(refs, ...)`` takes what Excel hands a formula (a scalar, ``None``, a float,
a datetime, a list or a list of lists), answers every cell in one batch from the cache
(:mod:`.source`), and returns a scalar for a scalar or a 2-D list shaped like the input.
They never raise: any failure becomes a short text in the cells (:mod:`.messages`).

Cell conventions (Excel has no time zones and 15-digit numbers): times are the shop's local
time without zone; money a float rounded to the currency; ids and tracking numbers text;
a blank input gives an empty string (an empty value inside a spilled array shows as 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..lazada.ventures import ZERO_DECIMAL_CURRENCIES
from ..refs import excel_error
from . import source
from .cells import Cell, flatten, map_cells, shaped, text_arg
from .messages import cell_text

ROUNDED = "rounded by Excel — format the column as Text"
INVALID = "invalid id"
SEVERAL = "several orders — use the order number"

RTS_PARTS = ("deadline", "hours_left", "at_risk", "late")
CHECKPOINT_PARTS = ("title", "time", "location")
SORTING_PARTS = ("label", "arrival", "late")
SETTLEMENT_PARTS = ("net", "state")  # plus any component name the order's lines have


def local_time(value: datetime | None, status: Any) -> datetime | None:
    """A naive shop-local datetime (what Excel can show) for an aware one."""
    if value is None:
        return None
    tz = getattr(status, "shop_tz", None)
    if value.tzinfo is not None and tz is not None:
        value = value.astimezone(tz)
    return value.replace(tzinfo=None)


def money(value: Decimal | None, currency: str | None) -> float | None:
    """Rounded to the currency's minor units, as Excel's number."""
    if value is None:
        return None
    places = 0 if (currency or "") in ZERO_DECIMAL_CURRENCIES else 2
    return float(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def why_not(status: Any, not_found: str) -> str:
    """The words for a reference that has no answer."""
    kind = status.kind
    if kind == "blank":
        return ""
    if kind == "not_found":
        return not_found
    if kind == "rounded":
        return ROUNDED
    message = str(getattr(status, "message", "") or "")
    if kind == "invalid":
        return f"{INVALID}: {message}" if message else INVALID
    return message or kind.replace("_", " ")


def _each(status: Any) -> tuple[Any, ...]:
    return tuple(getattr(status, "matches", ()) or ()) or (status,)


def _one(status: Any, get: Callable[[Any], Cell]) -> Cell:
    """``get`` of the order; when a tracking number names several orders that disagree,
    say so rather than pick one."""
    if not status.matches:
        return get(status)
    values = [get(m) for m in _each(status)]
    first = values[0]
    return first if all(v == first for v in values[1:]) else SEVERAL


def _joined(status: Any, get: Callable[[Any], Sequence[str] | str | None]) -> str:
    if not status.matches:  # one order: the common case
        got = get(status)
        if got is None or isinstance(got, str):
            return got or ""
        return ", ".join(str(t) for t in got if t)
    seen: dict[str, None] = {}
    for m in _each(status):
        got = get(m)
        for text in [got] if isinstance(got, str) else (got or ()):
            if text:
                seen.setdefault(str(text), None)
    return ", ".join(seen)


def _blank(value: Cell) -> Cell:
    return "" if value is None else value


def _answer(
    name: str,
    refs: Any,
    shop: Any,
    cache: Any,
    now: datetime | None,
    get: Callable[[Any], Cell],
) -> Cell:
    """Answer every cell of ``refs`` with ``get(RefStatus)``; never raises. ``name`` tells
    formulas apart in the result memo (the formula and its options)."""
    flat, shape = flatten(refs)
    try:
        shop_name = text_arg(shop)
        key = source.result_key(name, flat)
        memo = source.memo(cache, now)  # once per call: it reads the cache's generation
        hit = memo.recall(key, shop_name)
        if hit is not None:
            return shaped(hit, shape)
        found = source.find(flat, shop_name, cache=cache, now=now, in_memo=memo)
        out: list[Cell] = []
        for status in found.statuses:
            if not status.found:
                out.append(why_not(status, found.not_found))
                continue
            try:
                out.append(_blank(get(status)))
            except Exception as exc:  # noqa: BLE001 - one odd record must not blank the range
                out.append(cell_text(exc))
        if not any(s.kind == "not_found" for s in found.statuses):
            # (a not-found text depends on a fetch still running: not remembered)
            found.memo.remember(key, shop_name, out)
    except Exception as exc:  # noqa: BLE001 - the cell shows why, never a traceback
        out = [cell_text(exc)] * len(flat)
    return shaped(out, shape)


def _bad_part(refs: Any, part: str, allowed: Sequence[str]) -> Cell:
    error = excel_error(part)
    if error is not None:
        text = f"an Excel error ({error}) in the part cell — use {', '.join(allowed)}"
    else:
        text = f"unknown part {part!r} — use {', '.join(allowed)}"
    return map_cells(refs, lambda flat: [text] * len(flat))


# ---- one function per formula -------------------------------------------------------------
def status_values(
    refs: Any, shop: Any = None, *, cache: Any = None, now: datetime | None = None
) -> Cell:
    """Seller Center's status of each order (all of them, for a tracking number on several)."""
    return _answer("status", refs, shop, cache, now, lambda s: _joined(s, lambda m: m.status))


def tracking_values(
    refs: Any, shop: Any = None, *, cache: Any = None, now: datetime | None = None
) -> Cell:
    """The order's tracking numbers, comma-separated (text)."""
    return _answer(
        "tracking", refs, shop, cache, now, lambda s: _joined(s, lambda m: m.tracking_numbers)
    )


def _latest(status: Any) -> Any:
    """Of several matching orders, the one whose parcel moved last."""
    matches = [m for m in _each(status) if m.last_checkpoint_time is not None]
    return max(matches, key=lambda m: m.last_checkpoint_time) if matches else status


def last_checkpoint_values(
    refs: Any,
    part: Any = None,
    shop: Any = None,
    *,
    cache: Any = None,
    now: datetime | None = None,
) -> Cell:
    """The latest tracking checkpoint: its title (default), ``time`` or ``location``."""
    which = (text_arg(part) or "title").lower()
    if which not in CHECKPOINT_PARTS:
        return _bad_part(refs, which, CHECKPOINT_PARTS)

    def get(s: Any) -> Cell:
        m = _latest(s)
        if which == "time":
            return local_time(m.last_checkpoint_time, m)
        if which == "location":
            return m.last_checkpoint_location
        return m.last_checkpoint_title

    return _answer(f"last_checkpoint:{which}", refs, shop, cache, now, get)


def rts_deadline_values(
    refs: Any,
    part: Any = None,
    shop: Any = None,
    *,
    cache: Any = None,
    now: datetime | None = None,
) -> Cell:
    """The ready-to-ship deadline (shop-local), or ``hours_left``, ``at_risk``, ``late``."""
    which = (text_arg(part) or "deadline").lower()
    if which not in RTS_PARTS:
        return _bad_part(refs, which, RTS_PARTS)

    def get(s: Any) -> Cell:
        if which == "deadline":
            return _one(s, lambda m: local_time(m.rts_deadline, m))
        if which == "hours_left":
            return _one(
                s, lambda m: None if m.rts_hours_left is None else round(m.rts_hours_left, 2)
            )
        if which == "at_risk":
            return _one(s, lambda m: m.rts_at_risk)
        return _one(s, lambda m: m.rts_late)

    return _answer(f"rts:{which}", refs, shop, cache, now, get)


def sorting_center_values(
    refs: Any,
    part: Any = None,
    shop: Any = None,
    *,
    cache: Any = None,
    now: datetime | None = None,
) -> Cell:
    """The sorting-centre verdict (label), its ``arrival`` time, or ``late`` (TRUE/FALSE)."""
    which = (text_arg(part) or "label").lower()
    if which not in SORTING_PARTS:
        return _bad_part(refs, which, SORTING_PARTS)

    def get(s: Any) -> Cell:
        if which == "arrival":
            return _one(s, lambda m: local_time(m.sorting_centre_arrival, m))
        if which == "late":
            return _one(s, lambda m: m.sorting_centre_late)
        return _one(s, lambda m: m.sorting_centre)

    return _answer(f"sorting:{which}", refs, shop, cache, now, get)


def settlement_values(
    refs: Any,
    component: Any = None,
    shop: Any = None,
    *,
    cache: Any = None,
    now: datetime | None = None,
) -> Cell:
    """What Lazada paid for the order: ``net`` (default), ``state``, or one component
    (``item_price``, ``commission``, ``payment_fee``, ``shipping``, ...). An order with no
    settlement lines yet shows its state in words."""
    which = (text_arg(component) or "net").lower().replace(" ", "_")

    def get(s: Any) -> Cell:
        def one(m: Any) -> Cell:
            if which == "state":
                return m.settlement_state
            if m.settlement_net is None:
                return m.settlement_state or "not settled yet"
            if which == "net":
                return money(m.settlement_net, m.currency)
            components = dict(m.settlement_components or {})
            if which not in components:
                known = ", ".join(["net", "state", *components])
                return f"no {which!r} in this settlement — use {known}"
            return money(components[which], m.currency)

        return _one(s, one)

    return _answer(f"settlement:{which}", refs, shop, cache, now, get)


def synced_at_values(
    refs: Any, shop: Any = None, *, cache: Any = None, now: datetime | None = None
) -> Cell:
    """When the order's data was last fetched from Lazada (shop-local time)."""
    return _answer(
        "synced_at", refs, shop, cache, now, lambda s: _one(s, lambda m: local_time(m.synced_at, m))
    )


CHECKPOINT_COLUMNS = ("time", "status", "title", "location")


def checkpoints_values(
    refs: Any, shop: Any = None, *, cache: Any = None, now: datetime | None = None
) -> Cell:
    """Every checkpoint of the parcels, oldest first, one row each: time, status, title,
    location (spilled). For a range, each row starts with the reference it belongs to."""
    flat, shape = flatten(refs)
    with_ref = not shape.scalar and len(flat) != 1
    width = len(CHECKPOINT_COLUMNS) + with_ref
    shop_name = text_arg(shop)

    def row(ref: Any, *cells: Cell) -> list[Cell]:
        out = ([_blank(ref)] if with_ref else []) + [_blank(c) for c in cells]
        return out + [""] * (width - len(out))

    rows: list[list[Cell]] = []
    try:
        from ..refs import normalize_ref

        found = source.find(flat, shop_name, cache=cache, now=now)
        for value, status in zip(flat, found.statuses, strict=True):
            if status.kind == "blank":
                continue
            if not status.found:
                rows.append(row(value, why_not(status, found.not_found)))
                continue
            events = source.checkpoints(normalize_ref(value).text, shop_name, cache)
            if not events:
                rows.append(row(value, "no checkpoints yet"))
            for e in events:
                rows.append(
                    row(value, local_time(e.time, status), e.status_code, e.title, e.location)
                )
    except Exception as exc:  # noqa: BLE001 - the cell shows why, never a traceback
        rows = [row(None, cell_text(exc))]
    if not rows:
        rows = [row(None)]
    return rows
