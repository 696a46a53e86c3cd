"""Display status: every single status, the mixed-order precedence, and the Delayed edge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xl_lazada.rules.status import (
    DISPLAY_STATUSES,
    ITEM_GROUP,
    display_status,
    item_group,
)

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=5)
EARLIER = NOW - timedelta(hours=5)


def show(*statuses: str, promised: datetime | None = LATER) -> str:
    return display_status(list(statuses), promised_shipping_time=promised, now=NOW)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("unpaid", "Unpaid"),
        ("pending", "Pending"),
        ("packed", "Pending"),
        ("repacked", "Pending"),
        ("ready_to_ship", "Ready to ship"),
        ("shipped", "Shipped"),
        ("delivered", "Delivered"),
        ("failed_delivery", "Failed delivery"),
        ("shipped_back", "Failed delivery"),
        ("shipped_back_success", "Failed delivery"),
        ("shipped_back_failed", "Failed delivery"),
        ("canceled", "Canceled"),
        ("returned", "Returned"),
        ("lost_by_3pl", "Lost/Damaged"),
        ("damaged_by_3pl", "Lost/Damaged"),
        ("package_scrapped", "Lost/Damaged"),
    ],
)
def test_single_status_groups_like_seller_center(status: str, expected: str) -> None:
    assert show(status) == expected
    assert show(status, status) == expected  # several units in the same state
    assert item_group(status) == expected


def test_every_spec_status_is_mapped_to_a_display_status() -> None:
    assert set(ITEM_GROUP.values()) <= set(DISPLAY_STATUSES)
    assert len(ITEM_GROUP) == 17  # the spec list, with ready_to_ship_pending


@pytest.mark.parametrize("status", ["pending", "packed", "repacked"])
def test_not_ready_to_ship_after_promise_is_delayed(status: str) -> None:
    assert show(status, promised=EARLIER) == "Delayed"


def test_unpaid_orders_are_never_delayed_the_seller_cannot_ship_them() -> None:
    assert show("unpaid", promised=EARLIER) == "Unpaid"
    assert show("unpaid", "pending", promised=EARLIER) == "Delayed"


@pytest.mark.parametrize("status", ["ready_to_ship", "shipped", "delivered", "canceled"])
def test_handed_over_or_canceled_is_never_delayed(status: str) -> None:
    assert show(status, promised=EARLIER) != "Delayed"


def test_delayed_edge_exactly_at_promise_is_not_delayed() -> None:
    assert show("pending", promised=NOW) == "Pending"
    assert show("pending", promised=NOW - timedelta(seconds=1)) == "Delayed"


def test_no_promise_never_delayed() -> None:
    assert show("pending", promised=None) == "Pending"


def test_canceled_units_ignored_while_others_active() -> None:
    assert show("canceled", "delivered") == "Delivered"
    assert show("canceled", "canceled", "shipped") == "Shipped"
    assert show("pending", "canceled") == "Pending"
    assert show("canceled", "canceled") == "Canceled"


def test_some_shipped_some_pending_is_partially_shipped() -> None:
    assert show("shipped", "pending") == "Partially shipped"
    assert show("ready_to_ship", "packed") == "Partially shipped"
    assert show("delivered", "pending", "canceled") == "Partially shipped"


def test_partially_shipped_past_promise_is_delayed() -> None:
    assert show("shipped", "pending", promised=EARLIER) == "Delayed"


def test_pre_rts_mix() -> None:
    assert show("pending", "packed") == "Pending"
    assert show("unpaid", "pending") == "Pending"
    assert show("unpaid", "unpaid") == "Unpaid"


def test_after_rts_mix_problems_first_then_unfinished_then_done() -> None:
    assert show("delivered", "failed_delivery") == "Failed delivery"
    assert show("shipped", "shipped_back") == "Failed delivery"
    assert show("delivered", "lost_by_3pl") == "Lost/Damaged"
    assert show("shipped", "ready_to_ship") == "Ready to ship"
    assert show("delivered", "shipped") == "Partially delivered"
    assert show("delivered", "ready_to_ship") == "Partially delivered"
    assert show("returned", "shipped") == "Partially delivered"
    assert show("delivered", "returned") == "Returned"
    assert show("returned", "canceled") == "Returned"


def test_input_is_normalised_and_unknown_statuses_are_shown() -> None:
    assert show(" Delivered ", "CANCELED") == "Delivered"
    assert show("brand_new_status") == "Brand new status"
    assert show("delivered", "brand_new_status") == "Delivered"
    assert show() == "Unknown"
    assert show("", "  ") == "Unknown"
