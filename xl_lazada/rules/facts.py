"""An order's facts that do not depend on the clock, from typed inputs — what the cache keeps.

The cache computes these when an order, its trace or its finance lines change (see
``xl_lazada.cache.facts``), so a worksheet formula only applies :mod:`.clock` to stored
values. Everything here goes through the other rules (status, deadline, events, sorting,
stuck, settlement): this module only decides how an order's parcels add up.

**Orders whose parcels differ** (one delivered, another still travelling; one at the
sorting centre, another not yet handed over). Every parcel has its own facts (tracking
table); the order's answer is:

- *status*: from every unit's status (``status.py``): units before and after ready-to-ship
  → Partially shipped; some delivered/returned while others are ready to ship or shipped →
  Partially delivered; problems (failed delivery, lost/damaged) win over both.
- *RTS deadline*: runs while any paid unit is before ready-to-ship. Unpaid units cannot be
  shipped, so an order whose only waiting units are unpaid has no running deadline (hours
  left blank, never at risk or late). Once no unit is before ready-to-ship, the deadline is
  closed; its time is when the last parcel was set ready-to-ship, and it was late only if
  that came after the deadline.
- *last checkpoint*: the newest event of any parcel.
- *stuck*: any parcel stuck (a parcel is stuck only while its own units are in transit and
  its own last scan is not final: a delivered parcel is never stuck).
- *sorting centre*: the parcel that matters most — one flagged late/overdue, else one still
  on its way there, else the latest to arrive.
- *delivered at*: only once every unit not canceled is delivered (or returned after
  delivery): the last parcel's delivery scan, else the unit's last update. A partly
  delivered order has no delivered time (its parcels in the tracking table do).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from .deadline import WorkCalendar, rts_deadline, rts_status
from .events import Checkpoint, delivered_time, ready_to_ship_time, scans
from .settings import DEFAULT_SETTINGS, RuleSettings
from .settlement import KINDS, Line, settled
from .sorting import sorting_facts
from .status import PRE_RTS, normalize, parcel_final, status_facts
from .stuck import stuck_facts

_DELIVERED_UNITS = frozenset({"delivered", "returned"})
_ZERO = Decimal(0)


class ItemInput(NamedTuple):
    """One unit of an order, as far as the rules care. The inputs are named tuples: the
    cache makes them for every unit and parcel each time it computes an order's facts."""

    status: str
    package_id: str = ""
    tracking_code: str = ""
    shipment_provider: str = ""
    promised_at: datetime | None = None  # promised shipping time, else the SLA time
    updated_at: datetime | None = None
    currency: str = ""
    name: str = ""


class ParcelInput(NamedTuple):
    """One parcel: its ids and its checkpoints (any order; the rules sort them)."""

    package_id: str
    tracking_number: str = ""
    carrier: str = ""
    checkpoints: tuple[Checkpoint, ...] = ()
    ready_to_ship_at: datetime | None = None  # a time Lazada sent elsewhere (fallback)


@dataclass(frozen=True, slots=True)
class ShopRules:
    """What the rules need to know about the shop."""

    cross_border: bool
    calendar: WorkCalendar
    currency: str = ""


class ParcelFacts(NamedTuple):
    """A parcel's clock-free facts. ``idle_since`` is the newest scan (or ready-to-ship
    time); ``can_stick`` says the parcel is stuck once ``stuck_days`` pass after it."""

    package_id: str
    tracking_number: str
    carrier: str
    item_statuses: tuple[str, ...]
    rts_at: datetime | None
    last: Checkpoint | None
    checkpoints: int
    idle_since: datetime | None
    can_stick: bool
    sorting_applies: bool  # cross-border shops only: local shops have no LGS sorting centre
    sc_arrived_at: datetime | None
    sc_location: str
    sc_inferred: bool
    sc_handed_over: bool
    sc_days: float | None  # ready-to-ship → arrival, once arrived
    sc_late: bool  # arrived more than ``sorting_center_days`` after ready-to-ship
    delivered_at: datetime | None
    final: bool


class OrderFacts(NamedTuple):
    """An order's clock-free facts; :mod:`.clock` turns them into answers at ``now``.
    Named tuples, like :class:`ParcelFacts`: the cache makes one each time it keeps an
    order's facts (a frozen dataclass of this size costs several times more to make)."""

    status: str  # the status without the clock (see ``delayed_after``)
    delayed_after: datetime | None
    item_statuses: tuple[str, ...]  # one per unit (or the order's distinct statuses)
    promised_at: datetime | None
    rts_deadline: datetime
    rts_open: bool  # the deadline still runs (a paid unit waits to be set ready-to-ship)
    rts_late: bool  # closed, and set ready-to-ship after the deadline
    rts_at: datetime | None
    delivered_at: datetime | None
    currency: str
    parcels: tuple[ParcelFacts, ...]
    settlement_lines: int
    settlement_state: str
    settlement_net: Decimal
    settlement_paid: Decimal
    settlement_components: dict[str, Decimal]

    @property
    def tracking_numbers(self) -> tuple[str, ...]:
        return tracking_numbers(self.parcels)

    @property
    def package_ids(self) -> tuple[str, ...]:
        return tuple(p.package_id for p in self.parcels)

    @property
    def last(self) -> Checkpoint | None:
        """The newest checkpoint of any parcel."""
        best: Checkpoint | None = None
        for p in self.parcels:
            if p.last is not None and (best is None or p.last.event_time > best.event_time):
                best = p.last
        return best


@functools.lru_cache(maxsize=65536)
def _deadline(
    created_at: datetime, cross_border: bool, calendar: WorkCalendar, hours: float
) -> datetime:
    """:func:`rts_deadline`, remembered: a sync recomputes an order's facts after its items,
    its trace and its finance lines, and the deadline only depends on these inputs."""
    return rts_deadline(created_at, cross_border=cross_border, calendar=calendar, hours=hours)


def parcel_facts(
    parcel: ParcelInput,
    items: Sequence[ItemInput],
    shop: ShopRules,
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> ParcelFacts:
    """Facts of one parcel from its own units and checkpoints."""
    cps = scans(parcel.checkpoints, settings)  # sorted and classified once for every rule
    statuses = tuple(normalize(i.status) for i in items)
    rts_at = ready_to_ship_time(cps, settings) or parcel.ready_to_ship_at
    stuck = stuck_facts(statuses, cps, rts_at=rts_at, settings=settings)
    handed_over = any(s not in PRE_RTS and s != "canceled" for s in statuses)
    sc = sorting_facts(cps, rts_at=rts_at, settings=settings, handed_over=handed_over)
    arrived = sc.arrived_at is not None
    delivered = None
    if statuses and all(s in _DELIVERED_UNITS for s in statuses):
        delivered = delivered_time(cps, settings) or max(
            (i.updated_at for i in items if i.updated_at is not None), default=None
        )
    tracking = parcel.tracking_number or next(
        (i.tracking_code for i in items if i.tracking_code), ""
    )
    carrier = parcel.carrier or next(
        (i.shipment_provider for i in items if i.shipment_provider), ""
    )
    return ParcelFacts(
        package_id=parcel.package_id,
        tracking_number=tracking,
        carrier=carrier,
        item_statuses=statuses,
        rts_at=rts_at,
        last=cps.events[-1] if cps else None,
        checkpoints=len(cps),
        idle_since=stuck.idle_since,
        can_stick=stuck.can_stick,
        sorting_applies=shop.cross_border,
        sc_arrived_at=sc.arrived_at,
        sc_location=sc.location,
        sc_inferred=sc.inferred,
        sc_handed_over=sc.handed_over,
        sc_days=sc.days if arrived else None,
        sc_late=sc.flagged if arrived else False,
        delivered_at=delivered,
        final=parcel_final(statuses),
    )


def tracking_numbers(parcels: Iterable[ParcelFacts]) -> tuple[str, ...]:
    """The order's tracking numbers: each parcel's, once, in parcel order."""
    return tuple(dict.fromkeys(p.tracking_number for p in parcels if p.tracking_number))


class TraceFacts(NamedTuple):
    """The part of an order's facts that its parcels' traces decide (nothing else of the
    order depends on them): the parcels, when the last one was set ready-to-ship and
    whether that was late, and when the order was delivered."""

    parcels: tuple[ParcelFacts, ...]
    rts_at: datetime | None
    rts_late: bool
    delivered_at: datetime | None


class _Units(NamedTuple):
    """An order's units as the order-level rules count them."""

    statuses: list[str]  # normalised, one per unit (or the order's statuses if no units)
    active: list[str]  # not canceled
    pre: list[str]  # active and before ready-to-ship
    active_items: list[ItemInput]
    unit_statuses: list[str]  # normalised, one per item (empty if no items)

    @property
    def rts_closed(self) -> bool:
        """No deadline runs: no unit before ready-to-ship, or only unpaid ones (which
        cannot be set ready-to-ship)."""
        return not self.pre or all(s == "unpaid" for s in self.pre)


def _units(items: Sequence[ItemInput], order_statuses: Sequence[str]) -> _Units:
    unit_statuses = [normalize(i.status) for i in items]
    statuses = unit_statuses or [normalize(s) for s in order_statuses if str(s).strip()]
    active = [s for s in statuses if s != "canceled"]
    return _Units(
        statuses,
        active,
        [s for s in active if s in PRE_RTS],
        [i for i, s in zip(items, unit_statuses, strict=True) if s != "canceled"],
        unit_statuses,
    )


def _trace_part(
    created_at: datetime,
    units: _Units,
    items: Sequence[ItemInput],
    parcels: Iterable[ParcelInput],
    deadline: datetime,
    shop: ShopRules,
    settings: RuleSettings,
) -> TraceFacts:
    by_pkg: dict[str, list[ItemInput]] = {}
    for it in items:
        if it.package_id:
            by_pkg.setdefault(it.package_id, []).append(it)
    given = {p.package_id: p for p in parcels}
    ordered_ids = list(given) + [p for p in by_pkg if p not in given]
    facts = tuple(
        parcel_facts(given.get(pid) or ParcelInput(pid), by_pkg.get(pid, ()), shop, settings)
        for pid in ordered_ids
    )
    rts_by_pkg = {p.package_id: p.rts_at for p in facts}

    # Ready-to-ship is done once no unit is before it (all canceled counts as done); its time
    # is when the last parcel was set ready-to-ship, if the traces say.
    known = [rts_by_pkg.get(i.package_id) for i in units.active_items if i.package_id]
    known_times = [t for t in known if t is not None]
    rts_at = max(known_times) if not units.pre and known_times else None
    rts = rts_status(
        created_at,
        rts_at,
        created_at,
        cross_border=shop.cross_border,
        calendar=shop.calendar,
        settings=settings,
        # Unpaid units cannot be set ready-to-ship: their deadline is not running.
        done=units.rts_closed,
        deadline=deadline,
    )

    delivered = None
    if units.active and all(s in _DELIVERED_UNITS for s in units.active):
        delivered_parcels = [p.delivered_at for p in facts if p.delivered_at is not None]
        loose = [
            i.updated_at
            for i in units.active_items
            if not i.package_id and i.updated_at is not None
        ]
        times = delivered_parcels + loose
        if not times:  # units delivered but their parcels unknown: the units' last update
            times = [i.updated_at for i in units.active_items if i.updated_at is not None]
        delivered = max(times) if times else None
    return TraceFacts(facts, rts_at, rts.late if units.rts_closed else False, delivered)


def trace_facts(
    *,
    created_at: datetime,
    items: Sequence[ItemInput],
    parcels: Iterable[ParcelInput],
    shop: ShopRules,
    order_statuses: Sequence[str] = (),
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> TraceFacts:
    """The trace-decided part of :func:`order_facts` (the same answer): what to recompute
    when only an order's checkpoints or parcels changed."""
    deadline = _deadline(created_at, shop.cross_border, shop.calendar, settings.rts_hours)
    units = _units(items, order_statuses)
    return _trace_part(created_at, units, items, parcels, deadline, shop, settings)


def order_facts(
    *,
    created_at: datetime,
    items: Sequence[ItemInput],
    parcels: Iterable[ParcelInput],
    lines: Sequence[Line],
    shop: ShopRules,
    order_statuses: Sequence[str] = (),
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> OrderFacts:
    """Every clock-free fact of one order (see the module docstring for mixed parcels).

    ``order_statuses`` (the order's distinct statuses) stands in while its items are not
    synced yet. Parcels named only by items (not yet traced) are added after ``parcels``.
    """
    units = _units(items, order_statuses)
    deadline = _deadline(created_at, shop.cross_border, shop.calendar, settings.rts_hours)
    traced = _trace_part(created_at, units, items, parcels, deadline, shop, settings)

    # "Delayed" follows Lazada's own promise for the units still to ship (what Seller Center
    # shows); without one (items not synced) our computed deadline stands in.
    promises = [
        i.promised_at
        for i, s in zip(items, units.unit_statuses, strict=True)
        if s in PRE_RTS and i.promised_at is not None
    ]
    promised = min(promises) if promises else None
    status, delayed_after = status_facts(
        units.statuses, promised_shipping_time=promised or (deadline if units.pre else None)
    )

    settlement = settled(lines)
    currency = next((i.currency for i in items if i.currency), "") or shop.currency
    return OrderFacts(
        status=status,
        delayed_after=delayed_after,
        item_statuses=tuple(units.statuses),
        promised_at=promised,
        rts_deadline=deadline,
        rts_open=not units.rts_closed,
        rts_late=traced.rts_late,
        rts_at=traced.rts_at,
        delivered_at=traced.delivered_at,
        currency=currency,
        parcels=traced.parcels,
        settlement_lines=settlement.lines,
        settlement_state=settlement.state,
        settlement_net=settlement.net,
        settlement_paid=settlement.paid_amount,
        settlement_components={k: settlement.totals.get(k, _ZERO) for k in KINDS},
    )


def count_text(statuses: Iterable[str]) -> str:
    """``"2 delivered, 1 canceled"``: most frequent first, then by name."""
    return _count_text(tuple(statuses))


@functools.lru_cache(maxsize=1024)
def _count_text(statuses: tuple[str, ...]) -> str:
    counts = Counter(s for s in statuses if s)
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
