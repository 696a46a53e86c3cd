"""The life stories an order can follow, and the states the first orders must show.

Each order follows one *path* (delivered, returned, lost, canceled late, ...). The first
orders of every shop cycle through :data:`SHOWCASE` (every path, each aimed at a state it
must show at the shop's ``now``) so even a 60-order shop covers every item status and
checkpoint path; :func:`window` says when an order shows such a state.
"""

from __future__ import annotations

from .plan import DAY, HOUR, OrderPlan

#: path -> weight for randomly drawn orders.
PATH_WEIGHTS: dict[str, float] = {
    "delivered": 52,
    "repacked": 2,
    "rts_late": 5,
    "slow_sorting": 4,
    "stuck": 3,
    "failed_redeliver": 3,
    "shipped_back_success": 2,
    "shipped_back_failed": 1,
    "lost": 1,
    "damaged": 1,
    "scrapped": 0.5,
    "returned": 4,
    "canceled_buyer": 5,
    "canceled_late": 3,
    "unpaid_canceled": 3,
    "mixed_cancel": 4,
    "split_partial": 3,
}

#: (path, what the order must show at ``now``): an item status, or one of
#: ``pending_late`` (pending past its SLA), ``stuck`` (no scan for 5-15 days),
#: ``sorting_late`` (ready to ship > 7 days, not at the sorting centre), ``partial``
#: (one package on its way, another not yet ready), ``unsettled`` (delivered, not settled).
SHOWCASE: tuple[tuple[str, str], ...] = (
    ("delivered", "delivered"),
    ("delivered", "pending"),
    ("delivered", "packed"),
    ("repacked", "repacked"),
    ("delivered", "ready_to_ship"),
    ("delivered", "shipped"),
    ("delivered", "unsettled"),
    ("rts_late", "delivered"),
    ("canceled_late", "pending_late"),
    ("canceled_late", "canceled"),
    ("canceled_buyer", "canceled"),
    ("unpaid_canceled", "unpaid"),
    ("mixed_cancel", "delivered"),
    ("split_partial", "partial"),
    ("slow_sorting", "sorting_late"),
    ("slow_sorting", "delivered"),
    ("stuck", "stuck"),
    ("failed_redeliver", "delivered"),
    ("failed_redeliver", "failed_delivery"),
    ("shipped_back_success", "failed_delivery"),
    ("shipped_back_success", "shipped_back"),
    ("shipped_back_success", "shipped_back_success"),
    ("shipped_back_failed", "shipped_back_failed"),
    ("lost", "lost_by_3pl"),
    ("damaged", "damaged_by_3pl"),
    ("scrapped", "package_scrapped"),
    ("returned", "returned"),
    ("stuck", "stuck"),
)

#: what happens to an order's first parcel on each fulfilled path (others are delivered).
OUTCOME = {
    "returned": "returned",
    "failed_redeliver": "failed_redeliver",
    "shipped_back_success": "back_success",
    "shipped_back_failed": "back_failed",
    "lost": "lost",
    "damaged": "damaged",
    "scrapped": "scrapped",
    "stuck": "stuck",
}
#: paths that need at least two units (one canceled / a second parcel).
MULTI_UNIT = frozenset(("mixed_cancel", "split_partial"))


def window(o: OrderPlan, target: str) -> tuple[int, int] | None:
    """Ages (now - created, seconds) at which ``o`` shows ``target``; ``None`` if it never does."""
    never = 10**12
    c = o.created
    if target == "stuck":
        last = o.packages[0].events[-1][0] if o.packages and o.packages[0].events else None
        return None if last is None else (last - c + 5 * DAY + HOUR, last - c + 15 * DAY - HOUR)
    if target == "sorting_late":
        ev = o.packages[0].events
        ib = next(e[0] for e in ev if e[1] == "IB_SUCCESS_FIRST_MILE_HUB")
        return (ev[0][0] - c + 7 * DAY + HOUR, ib - c)
    if target == "partial":
        if len(o.packages) < 2:
            return None
        return (o.packages[0].events[0][0] - c, o.packages[1].events[0][0] - c)
    if target == "unsettled":
        for it_index, it in enumerate(o.items):
            if "delivered" in it.tr_s:
                delivered = it.tr_t[it.tr_s.index("delivered")]
                settle = min((t[0] for t in o.txns if t[1] == it_index), default=never)
                return (delivered - c, settle - c)
        return None
    status = "pending" if target == "pending_late" else target
    for it in o.items:
        for k, s in enumerate(it.tr_s):
            if s == status:
                start = it.tr_t[k]
                end = it.tr_t[k + 1] if k + 1 < len(it.tr_t) else c + never
                if target == "pending_late":
                    start = max(start, o.sla + HOUR)
                return (start - c, end - c)
    return None
