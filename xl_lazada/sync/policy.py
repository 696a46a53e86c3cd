"""Which item statuses make a parcel worth tracing, and which end its story.

Kept here (not in ``rules``) because these decide what the sync *fetches*; the rules decide
what a seller *sees*, and sit above the cache.
"""

from __future__ import annotations

from ..lazada.statuses import FINAL_STATUSES, ITEM_STATUSES, PRE_RTS_STATUSES

__all__ = ["FINAL_STATUSES", "TRACEABLE_STATUSES", "TRACE_ONCE_STATUSES"]

#: Ready-to-ship or later: Lazada only has a trace from ready-to-ship on.
TRACEABLE_STATUSES: frozenset[str] = frozenset(ITEM_STATUSES) - PRE_RTS_STATUSES - {"canceled"}

#: Final statuses a packed unit can reach without ever being ready-to-ship (canceled after
#: packing or after ready-to-ship): such a parcel is traced once, for whatever events it had.
TRACE_ONCE_STATUSES: frozenset[str] = FINAL_STATUSES - TRACEABLE_STATUSES
