"""Seller-facing rules: pure functions that turn raw Lazada data into what a seller means.

Every rule takes ``now`` explicitly and its thresholds from :class:`RuleSettings`, so the
same inputs always give the same answer (tests, UDFs and sheets agree). :mod:`.facts` adds
up an order's parcels into its clock-free facts (what the cache keeps at sync time; its
docstring and ``docs/rules.md`` say what an answer means when parcels differ), and
:mod:`.clock` / :mod:`.clock_frame` judge those facts at ``now`` for one order or a column.
"""

from .deadline import RtsInfo, WorkCalendar, calendar_for, rts_deadline, rts_status
from .events import Checkpoint, delivered_time, milestone_of, ready_to_ship_time, unmatched
from .milestones import MilestoneTable, milestone_table
from .settings import DEFAULT_SETTINGS, RuleSettings
from .settlement import Line, Settlement, kind_of, settle
from .sorting import SortingInfo, sorting_center
from .status import DISPLAY_STATUSES, display_status, item_group
from .stuck import StuckInfo, stuck_status

__all__ = [
    "DEFAULT_SETTINGS",
    "DISPLAY_STATUSES",
    "Checkpoint",
    "Line",
    "MilestoneTable",
    "RtsInfo",
    "RuleSettings",
    "Settlement",
    "SortingInfo",
    "StuckInfo",
    "WorkCalendar",
    "calendar_for",
    "delivered_time",
    "display_status",
    "item_group",
    "kind_of",
    "milestone_of",
    "milestone_table",
    "ready_to_ship_time",
    "rts_deadline",
    "rts_status",
    "settle",
    "sorting_center",
    "stuck_status",
    "unmatched",
]
