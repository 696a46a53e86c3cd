"""What the parcel rules need from a checkpoint, and the milestones they look for.

Rules accept anything with ``status_code`` and an aware ``event_time`` (``TraceEvent`` from
the client, or :class:`Checkpoint` built from cache rows), plus ``detail_type`` and
``title`` when present, so they stay free of I/O. What a checkpoint *means* comes from the
milestone table (:mod:`.milestones`), never from code comparing strings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from . import milestones as M
from .milestones import Match, MilestoneTable, table_for


class CheckpointLike(Protocol):
    @property
    def status_code(self) -> str: ...

    @property
    def event_time(self) -> datetime: ...


C = TypeVar("C", bound=CheckpointLike)


class Checkpoint(NamedTuple):
    """One tracking event as the rules read it. A named tuple, not a frozen dataclass: the
    cache makes one per stored event each time an order's facts are computed, and a tuple is
    made three times faster."""

    status_code: str
    event_time: datetime
    location: str = ""
    title: str = ""
    description: str = ""
    detail_type: str = ""


def code(cp: CheckpointLike) -> str:
    return str(cp.status_code or "").strip().upper()


def classify(cp: CheckpointLike, table: MilestoneTable | None = None) -> Match:
    """The milestone of one checkpoint, and how it was found."""
    t = table or M.milestone_table()
    return t.classify(cp.status_code, getattr(cp, "detail_type", ""), getattr(cp, "title", ""))


def milestone_of(cp: CheckpointLike, table: MilestoneTable | None = None) -> str | None:
    return classify(cp, table).milestone


def is_sort_centre_inbound(
    status_code: str, detail_type: str = "", title: str = "", table: MilestoneTable | None = None
) -> bool:
    """A sorting-centre / first-mile-hub inbound scan (numeric code, push name or title)."""
    t = table or M.milestone_table()
    return t.milestone(status_code, detail_type, title) == M.SORT_CENTRE_INBOUND


@dataclass(frozen=True, slots=True)
class Scans(Generic[C]):
    """A parcel's checkpoints, oldest first, each with its milestone: sorted and looked up
    once, then handed to every parcel rule (the rules accept it wherever they accept
    checkpoints; it must have been made with the same settings)."""

    events: tuple[C, ...]
    kinds: tuple[str | None, ...]

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[C]:
        return iter(self.events)


def scans(checkpoints: Iterable[C], settings: Any = None) -> Scans[C]:
    """:class:`Scans` of ``checkpoints`` with the milestone table of ``settings``."""
    if isinstance(checkpoints, Scans):
        return checkpoints
    events = tuple(ordered(checkpoints))
    if not events:  # a parcel not traced yet: no table to look up
        return Scans(events, ())
    classify_ = table_for(settings).classify
    kinds = tuple(
        classify_(
            cp.status_code, getattr(cp, "detail_type", ""), getattr(cp, "title", "")
        ).milestone
        for cp in events
    )
    return Scans(events, kinds)


def ordered(checkpoints: Iterable[C]) -> list[C]:
    """Oldest first (stable for equal times)."""
    if isinstance(checkpoints, Scans):
        return list(checkpoints.events)
    return sorted(checkpoints, key=_event_time)


def _event_time(cp: C) -> datetime:
    return cp.event_time


def _times(checkpoints: Iterable[CheckpointLike], wanted: str, settings: Any) -> list[datetime]:
    s = scans(checkpoints, settings)
    return [cp.event_time for cp, kind in zip(s.events, s.kinds, strict=True) if kind == wanted]


def ready_to_ship_time(
    checkpoints: Iterable[CheckpointLike], settings: Any = None
) -> datetime | None:
    """The first "packed / ready to ship" scan (code 1200, or ``READY_TO_SHIP`` in old
    caches): Lazada's own record of when the seller set the parcel ready to ship."""
    times = _times(checkpoints, M.PACKED, settings)
    return min(times) if times else None


def delivered_time(checkpoints: Iterable[CheckpointLike], settings: Any = None) -> datetime | None:
    """When the trace says the parcel was delivered (the latest delivered scan).

    The delivered time must come from here: an item's ``updated_at`` moves again after
    delivery (settlement), so it is not when the parcel arrived.
    """
    times = _times(checkpoints, M.DELIVERED, settings)
    return max(times) if times else None


def unmatched(checkpoints: Iterable[CheckpointLike], settings: Any = None) -> list[CheckpointLike]:
    """Checkpoints no milestone matches (kept and shown with their own title)."""
    table = table_for(settings)
    return [cp for cp in checkpoints if milestone_of(cp, table) is None]


def unlisted_codes(checkpoints: Iterable[CheckpointLike], settings: Any = None) -> Counter[str]:
    """``{status_code: events}`` whose code is not in the table (matched by title or type, or
    not at all): the codes worth adding to the table once their meaning is known."""
    table = table_for(settings)
    return Counter(code(cp) or "(blank)" for cp in checkpoints if not classify(cp, table).listed)
