"""Lazada's item statuses: the one list the client, sandbox, sync engine and rules share.

Lazada has no order-level status; each unit has one of these.
"""

from __future__ import annotations

#: Every item status in Lazada's order API, in the order a unit usually passes through them.
ITEM_STATUSES: tuple[str, ...] = (
    "unpaid",
    "pending",
    "packed",
    "repacked",
    "ready_to_ship_pending",
    "ready_to_ship",
    "shipped",
    "delivered",
    "failed_delivery",
    "canceled",
    "returned",
    "shipped_back",
    "shipped_back_success",
    "shipped_back_failed",
    "lost_by_3pl",
    "damaged_by_3pl",
    "package_scrapped",
)

#: ``status`` filter values of /orders/get, each meaning "any item has one of these".
STATUS_FILTERS: dict[str, frozenset[str]] = {
    **{s: frozenset((s,)) for s in ITEM_STATUSES},
    "topack": frozenset(("pending",)),
    "toship": frozenset(("packed", "repacked", "ready_to_ship_pending", "ready_to_ship")),
    "shipping": frozenset(("shipped",)),
    "failed": frozenset(("failed_delivery",)),
    "lost": frozenset(("lost_by_3pl",)),
}

#: Before ready-to-ship: Lazada has no trace yet and the 48 h deadline still runs.
#: ``ready_to_ship_pending`` (documented in the order status list) is the seller's
#: ready-to-ship request not yet confirmed: the parcel is not handed over, so the clock runs.
PRE_RTS_STATUSES: frozenset[str] = frozenset(
    {"unpaid", "pending", "packed", "repacked", "ready_to_ship_pending"}
)

#: Nothing more will happen to the unit.
FINAL_STATUSES: frozenset[str] = frozenset(
    {
        "delivered",
        "canceled",
        "returned",
        "shipped_back_success",
        "shipped_back_failed",
        "lost_by_3pl",
        "damaged_by_3pl",
        "package_scrapped",
    }
)
