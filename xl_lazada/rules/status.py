"""One display status per order, in Seller Center's words, from its item statuses.

Lazada has no order-level status: each unit (item) has its own. Sellers think in Seller
Center's tabs, so an order gets exactly one label. Precedence for mixed orders:

1. Canceled units are ignored while any other unit is not canceled; all canceled → Canceled.
2. Any remaining paid unit not yet ready-to-ship (pending/packed/repacked) past the
   promised shipping time → **Delayed** (the seller must act now, whatever the rest do);
   unpaid units cannot be shipped, so they never make an order Delayed.
3. Some units before ready-to-ship and some at/after it → **Partially shipped**.
4. All before ready-to-ship: all unpaid → Unpaid, otherwise Pending (packed/repacked are
   still "to ship" work: the parcel has not been handed over).
5. All at/after ready-to-ship: problems first, then unfinished, then done —
   Failed delivery > Lost/Damaged > **Partially delivered** (some units delivered or
   returned while others are still ready to ship or shipped: one parcel arrived, another is
   on its way) > Ready to ship > Shipped > Returned > Delivered.

Grouping of single statuses: ``failed_delivery`` and ``shipped_back*`` (the parcel failed and
travels back to the seller) → Failed delivery; ``returned`` (the buyer sent it back after
delivery) → Returned; ``lost_by_3pl``/``damaged_by_3pl``/``package_scrapped`` → Lost/Damaged.
An unknown future status is shown as its own text; no statuses at all → Unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

from ..lazada.statuses import FINAL_STATUSES, PRE_RTS_STATUSES

UNPAID = "Unpaid"
PENDING = "Pending"
READY_TO_SHIP = "Ready to ship"
SHIPPED = "Shipped"
DELIVERED = "Delivered"
CANCELED = "Canceled"
RETURNED = "Returned"
FAILED_DELIVERY = "Failed delivery"
LOST_DAMAGED = "Lost/Damaged"
PARTIALLY_SHIPPED = "Partially shipped"
PARTIALLY_DELIVERED = "Partially delivered"
DELAYED = "Delayed"
UNKNOWN = "Unknown"

DISPLAY_STATUSES: tuple[str, ...] = (
    UNPAID,
    PENDING,
    DELAYED,
    READY_TO_SHIP,
    PARTIALLY_SHIPPED,
    SHIPPED,
    PARTIALLY_DELIVERED,
    DELIVERED,
    FAILED_DELIVERY,
    RETURNED,
    LOST_DAMAGED,
    CANCELED,
)

#: Item status → Seller Center group.
ITEM_GROUP: dict[str, str] = {
    "unpaid": UNPAID,
    "pending": PENDING,
    "packed": PENDING,
    "repacked": PENDING,
    "ready_to_ship_pending": PENDING,
    "ready_to_ship": READY_TO_SHIP,
    "shipped": SHIPPED,
    "delivered": DELIVERED,
    "failed_delivery": FAILED_DELIVERY,
    "shipped_back": FAILED_DELIVERY,
    "shipped_back_success": FAILED_DELIVERY,
    "shipped_back_failed": FAILED_DELIVERY,
    "canceled": CANCELED,
    "returned": RETURNED,
    "lost_by_3pl": LOST_DAMAGED,
    "damaged_by_3pl": LOST_DAMAGED,
    "package_scrapped": LOST_DAMAGED,
}

#: Not yet handed over: the 48 h ready-to-ship deadline still applies.
PRE_RTS: frozenset[str] = PRE_RTS_STATUSES
#: Handed over and still moving (a parcel in these can be late at the sorting centre or stuck).
IN_TRANSIT: frozenset[str] = frozenset(
    {"ready_to_ship", "shipped", "failed_delivery", "shipped_back"}
)
#: Nothing more will happen to the unit.
FINAL: frozenset[str] = FINAL_STATUSES

_POST_RTS_PRECEDENCE: tuple[str, ...] = (
    FAILED_DELIVERY,
    LOST_DAMAGED,
    PARTIALLY_DELIVERED,
    READY_TO_SHIP,
    SHIPPED,
    RETURNED,
    DELIVERED,
)


@lru_cache(maxsize=1024)
def normalize(status: str | None) -> str:
    """Lazada's item status in canonical form (trimmed, lower case, ``_`` separated).
    Remembered: there are few distinct statuses, and facts normalise every unit's."""
    return "" if status is None else str(status).strip().lower().replace(" ", "_")


def item_group(status: str) -> str:
    """Seller Center's group for one item status; an unknown status shows as its own text."""
    s = normalize(status)
    return ITEM_GROUP.get(s) or (s.replace("_", " ").capitalize() if s else UNKNOWN)


def parcel_final(item_statuses: Iterable[str]) -> bool:
    """Nothing more is expected for a parcel: it has units and every one is final."""
    statuses = [normalize(s) for s in item_statuses]
    return bool(statuses) and all(s in FINAL for s in statuses)


def status_facts(
    item_statuses: Iterable[str], *, promised_shipping_time: datetime | None
) -> tuple[str, datetime | None]:
    """``(status, delayed_after)``: the order's status without the clock, and the instant
    after which it reads **Delayed** instead (``None``: never). What the cache stores, so
    only :func:`status_at` runs when a formula recalculates."""
    statuses = [s for s in (normalize(x) for x in item_statuses) if s]
    if not statuses:
        return UNKNOWN, None
    active = [s for s in statuses if s != "canceled"]
    if not active:
        return CANCELED, None
    pre = [s for s in active if s in PRE_RTS]
    post = [s for s in active if s not in PRE_RTS]
    # an unpaid unit cannot be shipped yet, so only payable-and-paid units make an order late
    shippable = [s for s in pre if s != "unpaid"]
    delayed_after = promised_shipping_time if shippable else None
    if pre and post:
        return PARTIALLY_SHIPPED, delayed_after
    if pre:
        return (UNPAID if all(s == "unpaid" for s in pre) else PENDING), delayed_after
    groups = {item_group(s) for s in post}
    if len(groups) == 1:
        return groups.pop(), None
    if groups & {DELIVERED, RETURNED} and groups & {READY_TO_SHIP, SHIPPED}:
        groups.add(PARTIALLY_DELIVERED)
    for group in _POST_RTS_PRECEDENCE:
        if group in groups:
            return group, None
    return sorted(groups)[0], None  # only unknown statuses left: stable choice


def status_at(status: str, delayed_after: datetime | None, now: datetime) -> str:
    """The status at ``now``: **Delayed** once past ``delayed_after``."""
    return DELAYED if delayed_after is not None and now > delayed_after else status


def display_status(
    item_statuses: Iterable[str],
    *,
    promised_shipping_time: datetime | None,
    now: datetime,
) -> str:
    """The order's single Seller Center status (see the module docstring for precedence).

    ``item_statuses`` is one status per unit (duplicates fine) or the order's distinct
    ``statuses``. ``promised_shipping_time`` is the earliest promise/SLA among the units
    not yet ready-to-ship; ``None`` never makes an order Delayed.
    """
    status, delayed_after = status_facts(
        item_statuses, promised_shipping_time=promised_shipping_time
    )
    return status_at(status, delayed_after, now)
