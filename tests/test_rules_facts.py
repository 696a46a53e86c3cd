"""An order's facts when its parcels differ (rules/facts.py), and the clock rules on them.

Each case is one a seller meets: a parcel delivered while another travels, an unpaid order
past 48 hours, two parcels at different stages of the first mile.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from xl_lazada.rules.clock import rts_now, sorting_now, status_at, stuck_now, unsettled_now
from xl_lazada.rules.clock_frame import (
    rts_frame,
    sorting_frame,
    status_frame,
    stuck_frame,
    unsettled_frame,
)
from xl_lazada.rules.deadline import WorkCalendar
from xl_lazada.rules.events import Checkpoint
from xl_lazada.rules.facts import ItemInput, ParcelInput, ShopRules, order_facts
from xl_lazada.rules.settings import DEFAULT_SETTINGS
from xl_lazada.rules.settlement import Line
from xl_lazada.rules.status import DISPLAY_STATUSES

MY = timezone(timedelta(hours=8))
CREATED = datetime(2026, 11, 2, 10, 0, tzinfo=MY)  # a Monday
SHOP = ShopRules(cross_border=True, calendar=WorkCalendar(tz=MY, holiday_country=None))


def cp(code: str, days: float, location: str = "") -> Checkpoint:
    return Checkpoint(code, CREATED + timedelta(days=days), location=location, title=code.title())


def facts(items, parcels, lines=()):
    return order_facts(
        created_at=CREATED, items=items, parcels=parcels, lines=list(lines), shop=SHOP
    )


def moving(pid: str, *cps: Checkpoint) -> ParcelInput:
    return ParcelInput(pid, tracking_number=f"T{pid}", checkpoints=cps)


def test_one_parcel_delivered_another_ready_to_ship() -> None:
    f = facts(
        [ItemInput("delivered", "P1"), ItemInput("ready_to_ship", "P2")],
        [
            moving(
                "P1", cp("READY_TO_SHIP", 1), cp("IB_SUCCESS_FIRST_MILE_HUB", 2), cp("DELIVERED", 9)
            ),
            moving("P2", cp("READY_TO_SHIP", 1)),
        ],
    )
    assert f.status == "Partially delivered" and "Partially delivered" in DISPLAY_STATUSES
    assert f.delivered_at is None  # the order is not delivered yet; its parcel is
    p1, p2 = f.parcels
    assert p1.delivered_at == CREATED + timedelta(days=9) and p2.delivered_at is None
    later = CREATED + timedelta(days=30)
    assert not stuck_now(p1.can_stick, p1.idle_since, later)[0]  # delivered: never stuck
    assert stuck_now(p2.can_stick, p2.idle_since, later)[0]  # silent for weeks: stuck
    assert f.last == p1.last and f.last.status_code == "DELIVERED"  # newest event of any parcel
    assert not f.rts_open and not f.rts_late  # both set ready-to-ship in time
    assert f.rts_at == CREATED + timedelta(days=1)


def test_an_unpaid_order_is_never_rts_late() -> None:
    f = facts([ItemInput("unpaid")], [])
    assert f.status == "Unpaid" and f.delayed_after is None
    long_after = CREATED + timedelta(days=20)
    hours, at_risk, late = rts_now(f.rts_deadline, f.rts_open, f.rts_late, long_after)
    assert (hours, at_risk, late) == (None, False, False)
    assert status_at(f.status, f.delayed_after, long_after) == "Unpaid"


def test_a_paid_unit_waiting_makes_the_deadline_run() -> None:
    f = facts([ItemInput("unpaid"), ItemInput("pending")], [])
    assert f.rts_open
    past = f.rts_deadline + timedelta(minutes=1)
    assert rts_now(f.rts_deadline, f.rts_open, f.rts_late, past)[2]
    assert status_at(f.status, f.delayed_after, past) == "Delayed"


def test_units_before_and_after_ready_to_ship_are_partially_shipped() -> None:
    f = facts(
        [ItemInput("pending"), ItemInput("shipped", "P1")],
        [moving("P1", cp("READY_TO_SHIP", 0.5))],
    )
    assert f.status == "Partially shipped" and f.rts_open and f.rts_at is None


def test_sorting_centre_answer_is_the_parcel_that_matters() -> None:
    f = facts(
        [ItemInput("ready_to_ship", "P1"), ItemInput("ready_to_ship", "P2")],
        [
            moving("P1", cp("READY_TO_SHIP", 1), cp("IB_SUCCESS_FIRST_MILE_HUB", 3, "Shenzhen")),
            moving("P2", cp("READY_TO_SHIP", 1)),
        ],
    )
    p1, p2 = f.parcels
    assert p1.sc_arrived_at == CREATED + timedelta(days=3) and p1.sc_location == "Shenzhen"
    soon, late = CREATED + timedelta(days=4), CREATED + timedelta(days=10)
    a1 = sorting_now(p1.sc_arrived_at, p1.sc_days, p1.sc_late, p1.sc_handed_over, p1.rts_at, soon)
    a2 = sorting_now(p2.sc_arrived_at, p2.sc_days, p2.sc_late, p2.sc_handed_over, p2.rts_at, soon)
    assert (a1.label, a2.label) == ("Arrived", "Not arrived") and a2.rank < a1.rank
    b2 = sorting_now(p2.sc_arrived_at, p2.sc_days, p2.sc_late, p2.sc_handed_over, p2.rts_at, late)
    assert b2.label == "Not arrived (overdue)" and b2.late and b2.rank == 0


def test_settlement_facts_and_unsettled_at_now() -> None:
    f = facts(
        [ItemInput("delivered", "P1")],
        [moving("P1", cp("READY_TO_SHIP", 1), cp("DELIVERED", 6))],
    )
    assert f.delivered_at == CREATED + timedelta(days=6) and f.settlement_lines == 0
    assert unsettled_now(0, f.delivered_at, f.delivered_at + timedelta(days=15))[0]
    assert not unsettled_now(0, f.delivered_at, f.delivered_at + timedelta(days=13))[0]
    from decimal import Decimal

    g = facts(
        [ItemInput("delivered", "P1")],
        [moving("P1", cp("DELIVERED", 6))],
        [
            Line("13", "Item Price Credit", Decimal("100.00"), True),
            Line("16", "Commission", Decimal("-5.50"), False),
        ],
    )
    assert g.settlement_net == Decimal("94.50") and g.settlement_state == "Partially paid"
    assert g.settlement_components["commission"] == Decimal("-5.50")


def test_everything_canceled_closes_the_deadline() -> None:
    f = facts([ItemInput("canceled"), ItemInput("canceled")], [])
    assert f.status == "Canceled" and not f.rts_open and not f.rts_late


@pytest.mark.parametrize("hours", [-30.0, 0.0, 11.99, 12.0, 47.0, 24.0 * 8, 24.0 * 20])
def test_the_vectorised_clock_rules_agree_with_the_scalar_ones(hours: float) -> None:
    """Tables (arrays) and lookup (one order) judge the same facts at the same time alike."""
    now = CREATED + timedelta(hours=hours)
    t = now.timestamp()
    deadline = CREATED + timedelta(hours=24)
    rows = [(deadline, True, False), (deadline, False, True), (deadline, False, False)]
    h, risk, late = rts_frame(
        np.array([d.timestamp() for d, _, _ in rows]),
        np.array([o for _, o, _ in rows]),
        np.array([c for _, _, c in rows]),
        t,
    )
    for i, (d, o, c) in enumerate(rows):
        sh, sr, sl = rts_now(d, o, c, now)
        assert (np.isnan(h[i]) and sh is None) or h[i] == pytest.approx(sh)
        assert (risk[i], late[i]) == (sr, sl)
    idle = [CREATED, CREATED - timedelta(days=5), None]
    stuck, days = stuck_frame(
        np.array([True, True, True]), np.array([x.timestamp() if x else np.nan for x in idle]), t
    )
    for i, x in enumerate(idle):
        assert stuck[i] == stuck_now(True, x, now)[0]
    arrived = [CREATED + timedelta(days=2), None, None, None]
    rts = [CREATED, CREATED, None, None]
    handed = [True, True, True, False]
    label, sdays, slate, rank = sorting_frame(
        np.array([a.timestamp() if a else np.nan for a in arrived]),
        np.array([2.0, np.nan, np.nan, np.nan]),
        np.array([False, False, False, False]),
        np.array(handed),
        np.array([r.timestamp() if r else np.nan for r in rts]),
        t,
    )
    for i in range(4):
        s = sorting_now(arrived[i], 2.0 if arrived[i] else None, False, handed[i], rts[i], now)
        assert (label[i], bool(slate[i]), int(rank[i])) == (s.label, s.late, s.rank)
    statuses = status_frame(
        np.array(["Pending", "Shipped"], dtype=object), np.array([deadline.timestamp(), np.nan]), t
    )
    assert list(statuses) == [status_at("Pending", deadline, now), "Shipped"]
    over, _ = unsettled_frame(np.array([0, 1]), np.array([CREATED.timestamp()] * 2), t)
    assert list(over) == [unsettled_now(0, CREATED, now)[0], unsettled_now(1, CREATED, now)[0]]
    assert DEFAULT_SETTINGS.at_risk_hours == 12.0


def test_naive_times_are_refused_by_the_rules() -> None:
    with pytest.raises(ValueError):
        order_facts(created_at=datetime(2026, 11, 2), items=[], parcels=[], lines=[], shop=SHOP)
