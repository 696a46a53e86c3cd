"""Parcel rules: sorting-centre arrival (7 days) and stuck parcels (5 days without a scan)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xl_lazada.lazada.models import TraceEvent
from xl_lazada.rules.events import Checkpoint, is_sort_centre_inbound, ready_to_ship_time
from xl_lazada.rules.settings import RuleSettings
from xl_lazada.rules.sorting import sorting_center
from xl_lazada.rules.stuck import stuck_status

RTS = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def cp(code: str, days: float, where: str = "") -> Checkpoint:
    return Checkpoint(code, RTS + timedelta(days=days), where)


class TestSortingCentre:
    def test_arrived_in_time(self) -> None:
        events = [
            cp("READY_TO_SHIP", 0),
            cp("FM_PICKUP_SUCCESS", 1),
            cp("IB_SUCCESS_FIRST_MILE_HUB", 2.5, "LGS Shenzhen Sorting Centre"),
        ]
        info = sorting_center(events, rts_at=RTS, now=RTS + timedelta(days=20))
        assert info.arrived_at == RTS + timedelta(days=2.5)
        assert info.location == "LGS Shenzhen Sorting Centre"
        assert info.days == pytest.approx(2.5)
        assert not info.flagged and info.label == "Arrived"

    def test_exactly_seven_days_is_on_time_a_minute_more_is_late(self) -> None:
        on_time = sorting_center([cp("IB_SUCCESS_FIRST_MILE_HUB", 7)], rts_at=RTS, now=RTS)
        assert not on_time.flagged
        late = sorting_center(
            [Checkpoint("IB_SUCCESS_FIRST_MILE_HUB", RTS + timedelta(days=7, minutes=1))],
            rts_at=RTS,
            now=RTS,
        )
        assert late.flagged and late.label == "Arrived late"

    def test_first_inbound_scan_counts_even_if_listed_out_of_order(self) -> None:
        events = [
            cp("IB_SUCCESS_FIRST_MILE_HUB", 9, "Yiwu"),
            cp("IB_SUCCESS_FIRST_MILE_HUB", 3, "Shenzhen"),
        ]
        info = sorting_center(events, rts_at=RTS, now=RTS + timedelta(days=10))
        assert info.location == "Shenzhen" and not info.flagged

    def test_not_arrived_yet(self) -> None:
        events = [cp("READY_TO_SHIP", 0), cp("FM_PICKUP_SUCCESS", 1)]
        info = sorting_center(events, rts_at=RTS, now=RTS + timedelta(days=7))
        assert info.arrived_at is None and not info.flagged and info.label == "Not arrived"
        info = sorting_center(events, rts_at=RTS, now=RTS + timedelta(days=7, seconds=1))
        assert info.flagged and info.label == "Not arrived (overdue)"
        assert info.days == pytest.approx(7, abs=1e-4)

    def test_later_milestone_proves_arrival(self) -> None:
        events = [cp("READY_TO_SHIP", 0), cp("HANDOVER", 4), cp("DELIVERED", 12)]
        info = sorting_center(events, rts_at=RTS, now=RTS + timedelta(days=30))
        assert info.inferred and info.arrived_at == RTS + timedelta(days=4)
        assert not info.flagged

    def test_threshold_is_a_setting(self) -> None:
        s = RuleSettings(sorting_center_days=3)
        info = sorting_center([cp("IB_SUCCESS_FIRST_MILE_HUB", 4)], rts_at=RTS, now=RTS, settings=s)
        assert info.flagged

    def test_unknown_rts_time_is_not_flagged(self) -> None:
        info = sorting_center([], rts_at=None, now=RTS + timedelta(days=40))
        assert (info.flagged, info.days, info.label) == (False, None, "Not handed over")
        untraced = sorting_center([], rts_at=None, now=RTS, handed_over=True)
        assert (untraced.flagged, untraced.label) == (False, "Not arrived")

    def test_inbound_code_recognition(self) -> None:
        assert is_sort_centre_inbound("IB_SUCCESS_FIRST_MILE_HUB")
        assert is_sort_centre_inbound("ib_success_sort_center_sz")
        assert not is_sort_centre_inbound("OB_SUCCESS_FIRST_MILE_HUB")
        assert not is_sort_centre_inbound("FM_PICKUP_SUCCESS")

    def test_works_on_client_trace_events(self) -> None:
        ms = int((RTS + timedelta(days=2)).timestamp() * 1000)
        ev = TraceEvent.from_wire(
            {
                "status_code": "IB_SUCCESS_FIRST_MILE_HUB",
                "event_time": str(ms),
                "package_location_name": "Yiwu",
            }
        )
        rts = TraceEvent.from_wire(
            {"status_code": "READY_TO_SHIP", "event_time": str(int(RTS.timestamp() * 1000))}
        )
        assert ready_to_ship_time([ev, rts]) == RTS
        info = sorting_center([rts, ev], rts_at=RTS, now=RTS)
        assert info.location == "Yiwu" and info.days == pytest.approx(2)


class TestStuck:
    def test_no_scan_for_five_days_is_stuck_exactly_at_threshold(self) -> None:
        events = [cp("READY_TO_SHIP", 0), cp("IB_SUCCESS_FIRST_MILE_HUB", 2)]
        last = RTS + timedelta(days=2)
        almost = stuck_status(
            ["ready_to_ship"], events, now=last + timedelta(days=5) - timedelta(seconds=1)
        )
        assert not almost.stuck
        exact = stuck_status(["ready_to_ship"], events, now=last + timedelta(days=5))
        assert exact.stuck and exact.days_idle == pytest.approx(5)
        assert exact.last_code == "IB_SUCCESS_FIRST_MILE_HUB" and exact.last_event_at == last

    @pytest.mark.parametrize(
        "status", ["ready_to_ship", "shipped", "failed_delivery", "shipped_back"]
    )
    def test_in_transit_statuses_can_be_stuck(self, status: str) -> None:
        assert stuck_status([status], [cp("HANDOVER", 1)], now=RTS + timedelta(days=10)).stuck

    @pytest.mark.parametrize(
        "status",
        [
            "pending",
            "packed",
            "delivered",
            "canceled",
            "returned",
            "lost_by_3pl",
            "shipped_back_success",
            "package_scrapped",
        ],
    )
    def test_not_shipped_or_final_is_never_stuck(self, status: str) -> None:
        assert not stuck_status([status], [cp("HANDOVER", 1)], now=RTS + timedelta(days=30)).stuck

    def test_final_checkpoint_wins_over_lagging_item_status(self) -> None:
        events = [cp("HANDOVER", 1), cp("DELIVERED", 3)]
        assert not stuck_status(["shipped"], events, now=RTS + timedelta(days=30)).stuck

    def test_no_scans_yet_counts_from_ready_to_ship(self) -> None:
        assert stuck_status(["ready_to_ship"], [], rts_at=RTS, now=RTS + timedelta(days=6)).stuck
        unknown = stuck_status(["ready_to_ship"], [], now=RTS + timedelta(days=6))
        assert not unknown.stuck and unknown.last_event_at is None

    def test_one_unit_delivered_other_in_transit(self) -> None:
        info = stuck_status(
            ["delivered", "shipped"],
            [cp("LINEHAUL_ARRIVAL_SUCCESS", 1)],
            now=RTS + timedelta(days=8),
        )
        assert info.stuck

    def test_threshold_is_a_setting(self) -> None:
        s = RuleSettings(stuck_days=10)
        assert not stuck_status(
            ["shipped"], [cp("HANDOVER", 1)], now=RTS + timedelta(days=8), settings=s
        ).stuck
