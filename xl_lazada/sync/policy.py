"""Which item statuses make a parcel worth tracing, and which end its story.

Kept here (not in ``rules``) because these decide what the sync *fetches*; the rules decide
what a seller *sees*, and sit above the cache.
"""

from __future__ import annotations

#: Nothing more will happen to the unit, so its parcel stops being traced once traced after it.
FINAL_STATUSES: frozenset[str] = frozenset(
    {
        "delivered",
        "returned",
        "shipped_back_success",
        "shipped_back_failed",
        "lost_by_3pl",
        "damaged_by_3pl",
        "package_scrapped",
        "canceled",
    }
)

#: Ready-to-ship or later: Lazada only has a trace from ready-to-ship on.
TRACEABLE_STATUSES: frozenset[str] = frozenset(
    {
        "ready_to_ship",
        "shipped",
        "delivered",
        "failed_delivery",
        "returned",
        "shipped_back",
        "shipped_back_success",
        "shipped_back_failed",
        "lost_by_3pl",
        "damaged_by_3pl",
        "package_scrapped",
    }
)

#: Final statuses a packed unit can reach without ever being ready-to-ship (canceled after
#: packing or after ready-to-ship): such a parcel is traced once, for whatever events it had.
TRACE_ONCE_STATUSES: frozenset[str] = FINAL_STATUSES - TRACEABLE_STATUSES
