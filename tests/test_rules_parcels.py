"""Parcel rules: sorting-centre arrival (7 days) and stuck parcels (5 days without a scan).

Checkpoints use trace's real vocabulary (numeric codes with detail_type and title, see
docs/lazada-notes.md); the push-notification names older caches hold are tested at the end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xl_lazada.lazada.models import TraceEvent
from xl_lazada.rules.events import Checkpoint, is_sort_centre_inbound, ready_to_ship_time
from xl_lazada.rules.settings import RuleSettings
from xl_lazada.rules.sorting import sorting_center
from xl_lazada.rules.stuck import stuck_status

RTS = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


# Milestone -> what trace sends for it (code, detail_type, title).
REAL = {
    "packed": ("1200", "ready_to", "Packed by seller / warehouse"),
    "picked_up": ("1210", "shipped", ""),
    "sort_centre": ("100013", "ship_info", "Arrived at Main Logistics Facility"),
    "left_sort_centre": ("100102", "ship_info", "Departed from Main Logistics Facility"),
    "last_mile_hub": ("100103", "ship_info", "Arrived at Last Mile Hub"),
    "delivered": ("1400", "delivered", "Delivered"),
}


def cp(name: str, days: float, where: str = "") -> Checkpoint:
    code, dtype, title = REAL[name]
    return Checkpoint(code, RTS + timedelta(days=days), where, title=title, detail_type=dtype)


class TestSortingCentre:
    def test_arrived_in_time(self) -> None:
        events = [
            cp("packed", 0),
            cp("picked_up", 1),
            cp("sort_centre", 2.5, "LGS Shenzhen Sorting Centre"),
        ]
        info = sorting_center(events, rts_at=RTS, now=RTS + timedelta(days=20))
        assert info.arrived_at == RTS + timedelta(days=2.5)
        assert info.location == "LGS Shenzhen Sorting Centre"
        assert info.days == pytest.approx(2.5)
        assert not info.flagged and info.label == "Arrived"

    def test_exactly_seven_days_is_on_time_a_minute_more_is_late(self) -> None:
        on_time = sorting_center([cp("sort_centre", 7)], rts_at=RTS, now=RTS)
        assert not on_time.flagged
        late = sorting_center(
            [Checkpoint("100013", RTS + timedelta(days=7, minutes=1))],
            rts_at=RTS,
            now=RTS,
        )
        assert late.flagged and late.label == "Arrived late"

    def test_first_inbound_scan_counts_even_if_listed_out_of_order(self) -> None:
        events = [
            cp("sort_centre", 9, "Yiwu"),
            cp("sort_centre", 3, "Shenzhen"),
        ]
        info = sorting_center(events, rts_at=RTS, now=RTS + timedelta(days=10))
        assert info.location == "Shenzhen" and not info.flagged

    def test_not_arrived_yet(self) -> None:
        events = [cp("packed", 0), cp("picked_up", 1)]
        info = sorting_center(events, rts_at=RTS, now=RTS + timedelta(days=7))
        assert info.arrived_at is None and not info.flagged and info.label == "Not arrived"
        info = sorting_center(events, rts_at=RTS, now=RTS + timedelta(days=7, seconds=1))
        assert info.flagged and info.label == "Not arrived (overdue)"
        assert info.days == pytest.approx(7, abs=1e-4)

    def test_later_milestone_proves_arrival(self) -> None:
        events = [cp("packed", 0), cp("left_sort_centre", 4), cp("delivered", 12)]
        info = sorting_center(events, rts_at=RTS, now=RTS + timedelta(days=30))
        assert info.inferred and info.arrived_at == RTS + timedelta(days=4)
        assert not info.flagged

    def test_threshold_is_a_setting(self) -> None:
        s = RuleSettings(sorting_center_days=3)
        info = sorting_center([cp("sort_centre", 4)], rts_at=RTS, now=RTS, settings=s)
        assert info.flagged

    def test_unknown_rts_time_is_not_flagged(self) -> None:
        info = sorting_center([], rts_at=None, now=RTS + timedelta(days=40))
        assert (info.flagged, info.days, info.label) == (False, None, "Not handed over")
        untraced = sorting_center([], rts_at=None, now=RTS, handed_over=True)
        assert (untraced.flagged, untraced.label) == (False, "Not arrived")

    def test_inbound_code_recognition(self) -> None:
        assert is_sort_centre_inbound("100013")
        assert is_sort_centre_inbound("555555", "ship_info", "Arrived at Yiwu sorting centre")
        assert not is_sort_centre_inbound("100102")
        assert not is_sort_centre_inbound("1210")
        # push-notification names an older cache holds
        assert is_sort_centre_inbound("IB_SUCCESS_FIRST_MILE_HUB")
        assert is_sort_centre_inbound("ib_success_sort_center_sz")
        assert not is_sort_centre_inbound("OB_SUCCESS_FIRST_MILE_HUB")
        assert not is_sort_centre_inbound("FM_PICKUP_SUCCESS")

    def test_works_on_client_trace_events(self) -> None:
        ms = int((RTS + timedelta(days=2)).timestamp() * 1000)
        ev = TraceEvent.from_wire(
            {
                "status_code": "100013",
                "detail_type": "ship_info",
                "title": "Arrived at Main Logistics Facility",
                "event_time": ms,
                "package_location_name": "Yiwu",
            }
        )
        rts = TraceEvent.from_wire(
            {
                "status_code": "1200",
                "detail_type": "ready_to",
                "event_time": str(int(RTS.timestamp() * 1000)),
                "package_location_name": "null",
            }
        )
        assert ready_to_ship_time([ev, rts]) == RTS
        info = sorting_center([rts, ev], rts_at=RTS, now=RTS)
        assert info.location == "Yiwu" and info.days == pytest.approx(2)


class TestStuck:
    def test_no_scan_for_five_days_is_stuck_exactly_at_threshold(self) -> None:
        events = [cp("packed", 0), cp("sort_centre", 2)]
        last = RTS + timedelta(days=2)
        almost = stuck_status(
            ["ready_to_ship"], events, now=last + timedelta(days=5) - timedelta(seconds=1)
        )
        assert not almost.stuck
        exact = stuck_status(["ready_to_ship"], events, now=last + timedelta(days=5))
        assert exact.stuck and exact.days_idle == pytest.approx(5)
        assert exact.last_code == "100013" and exact.last_event_at == last

    @pytest.mark.parametrize(
        "status", ["ready_to_ship", "shipped", "failed_delivery", "shipped_back"]
    )
    def test_in_transit_statuses_can_be_stuck(self, status: str) -> None:
        assert stuck_status(
            [status], [cp("left_sort_centre", 1)], now=RTS + timedelta(days=10)
        ).stuck

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
        assert not stuck_status(
            [status], [cp("left_sort_centre", 1)], now=RTS + timedelta(days=30)
        ).stuck

    def test_final_checkpoint_wins_over_lagging_item_status(self) -> None:
        events = [cp("left_sort_centre", 1), cp("delivered", 3)]
        assert not stuck_status(["shipped"], events, now=RTS + timedelta(days=30)).stuck

    def test_no_scans_yet_counts_from_ready_to_ship(self) -> None:
        assert stuck_status(["ready_to_ship"], [], rts_at=RTS, now=RTS + timedelta(days=6)).stuck
        unknown = stuck_status(["ready_to_ship"], [], now=RTS + timedelta(days=6))
        assert not unknown.stuck and unknown.last_event_at is None

    def test_one_unit_delivered_other_in_transit(self) -> None:
        info = stuck_status(
            ["delivered", "shipped"],
            [cp("last_mile_hub", 1)],
            now=RTS + timedelta(days=8),
        )
        assert info.stuck

    def test_threshold_is_a_setting(self) -> None:
        s = RuleSettings(stuck_days=10)
        assert not stuck_status(
            ["shipped"], [cp("left_sort_centre", 1)], now=RTS + timedelta(days=8), settings=s
        ).stuck


class TestOldCachePushNames:
    """Caches written by older versions hold push-notification names: same answers."""

    def test_sorting_and_stuck_on_push_names(self) -> None:
        def old(code: str, days: float) -> Checkpoint:
            return Checkpoint(code, RTS + timedelta(days=days), "Shenzhen")

        events = [old("READY_TO_SHIP", 0), old("IB_SUCCESS_FIRST_MILE_HUB", 2.5)]
        assert ready_to_ship_time(events) == RTS
        info = sorting_center(events, rts_at=RTS, now=RTS + timedelta(days=20))
        assert info.arrived_at == RTS + timedelta(days=2.5) and not info.inferred
        later = [old("READY_TO_SHIP", 0), old("HANDOVER", 4), old("DELIVERED", 12)]
        inferred = sorting_center(later, rts_at=RTS, now=RTS + timedelta(days=30))
        assert inferred.inferred and inferred.arrived_at == RTS + timedelta(days=4)
        assert not stuck_status(["shipped"], later, now=RTS + timedelta(days=30)).stuck
