"""What the parcel rules need from a checkpoint, and the milestone codes they look for.

Rules accept anything with ``status_code`` and an aware ``event_time`` (``TraceEvent`` from
the client, or :class:`Checkpoint` built from cache rows), so they stay free of I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class CheckpointLike(Protocol):
    @property
    def status_code(self) -> str: ...

    @property
    def event_time(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Checkpoint:
    status_code: str
    event_time: datetime
    location: str = ""
    title: str = ""
    description: str = ""
    detail_type: str = ""


READY_TO_SHIP_CODE = "READY_TO_SHIP"

#: Sorting-centre / first-mile-hub inbound scans (the first one is the arrival).
SORT_CENTRE_INBOUND: frozenset[str] = frozenset(
    {
        "IB_SUCCESS_FIRST_MILE_HUB",
        "IB_SUCCESS_SORTING_CENTER",
        "IB_SUCCESS_SORT_CENTER",
        "IB_SUCCESS_SORTING_CENTRE",
        "FM_HUB_INBOUND",
        "SORTING_CENTER_INBOUND",
    }
)

#: Milestones that only happen after the sorting centre: proof it got there even if the
#: inbound scan itself is missing from the trace.
AFTER_SORT_CENTRE: frozenset[str] = frozenset(
    {
        "OB_SUCCESS_FIRST_MILE_HUB",
        "HANDOVER",
        "UPLIFTED",
        "LINEHAUL_ARRIVAL_SUCCESS",
        "CUSTOMS_CLEARANCE_SUCCESS",
        "RECEIVED_BY_LAST_MILE",
        "OUT_FOR_DELIVERY",
        "DELIVERED",
        "DELIVER_FAILED",
    }
)

#: Checkpoints after which nothing more is expected for the parcel.
FINAL_CODES: frozenset[str] = frozenset(
    {
        "DELIVERED",
        "BACK_TO_SHIPPER_SUCCESS",
        "BACK_TO_SHIPPER_FAILED",
        "LOST_BY_3PL",
        "DAMAGE_BY_3PL",
        "DAMAGED_BY_3PL",
        "PACKAGE_SCRAPPED",
    }
)


def code(cp: CheckpointLike) -> str:
    return str(cp.status_code or "").strip().upper()


def is_sort_centre_inbound(status_code: str) -> bool:
    """Known inbound codes, or any ``IB_SUCCESS_*`` code naming a first-mile hub or sort centre."""
    c = status_code.strip().upper()
    if c in SORT_CENTRE_INBOUND:
        return True
    return c.startswith("IB_SUCCESS") and ("FIRST_MILE" in c or "SORT" in c)


def ordered(checkpoints: Iterable[CheckpointLike]) -> list[CheckpointLike]:
    """Oldest first (stable for equal times)."""
    return sorted(checkpoints, key=lambda cp: cp.event_time)


def ready_to_ship_time(checkpoints: Iterable[CheckpointLike]) -> datetime | None:
    """The first ``READY_TO_SHIP`` scan, Lazada's own record of when the seller handed over."""
    times = [cp.event_time for cp in checkpoints if code(cp) == READY_TO_SHIP_CODE]
    return min(times) if times else None


DELIVERED_CODE = "DELIVERED"


def delivered_time(checkpoints: Iterable[CheckpointLike]) -> datetime | None:
    """The last delivery scan of a parcel (``None`` if it has none)."""
    times = [cp.event_time for cp in checkpoints if code(cp) == DELIVERED_CODE]
    return max(times) if times else None
