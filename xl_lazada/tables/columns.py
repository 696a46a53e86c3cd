"""The sheet tables' declared columns: names (the sheet headers), dtypes and descriptions.

This is the one contract the xlwings and openpyxl writers use for headers and formats, so
a ribbon refresh and a command-line refresh produce the same sheets. Dtypes:

- ``string``: ids, order numbers and tracking numbers (never numbers: they exceed Excel's
  15 significant digits) and all text Lazada sends (kept as text, even ``=HYPERLINK(...)``);
- ``datetime64[ns]``: timezone-naive **shop-local** times (Excel has no timezones); the zone
  is in the description (``{tz}`` is filled by :meth:`Column.describe`);
- ``float64``: money rounded to the currency's decimals, hours and days;
- ``Int64`` counts and ``boolean`` flags (nullable: blank when not applicable).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

STRING = "string"
DATETIME = "datetime64[ns]"
FLOAT = "float64"
INT = "Int64"
BOOL = "boolean"
DTYPES = frozenset({STRING, DATETIME, FLOAT, INT, BOOL})


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # the sheet header and the DataFrame column name
    dtype: str  # one of DTYPES
    description: str  # for the Settings/legend sheet; "{tz}" marks the timezone

    def describe(self, tz: str | None = None) -> str:
        """The description with the timezone filled in (``"UTC+08:00"``, or generic)."""
        return self.description.replace("{tz}", tz or "the shop's local time zone")

    @property
    def is_local_time(self) -> bool:
        return self.dtype == DATETIME


def _cols(*spec: tuple[str, str, str]) -> tuple[Column, ...]:
    cols = tuple(Column(*s) for s in spec)
    names = [c.name for c in cols]
    assert len(set(names)) == len(names), names
    assert all(c.dtype in DTYPES for c in cols)
    return cols


_SHOP = ("Shop", STRING, "The shop profile the data was synced for.")
_ORDER_NUMBER = ("Order number", STRING, "Lazada order number, as text.")
_ORDER_ID = ("Order id", STRING, "Lazada order id, as text.")
_TRACKING = ("Tracking number", STRING, "Carrier tracking number, as text.")
_PACKAGE = ("Package id", STRING, "Lazada package (OFC) id, as text.")

ORDERS_COLUMNS: tuple[Column, ...] = _cols(
    _SHOP,
    _ORDER_NUMBER,
    _ORDER_ID,
    ("Created", DATETIME, "When the buyer placed the order ({tz})."),
    ("Updated", DATETIME, "Last change of any item ({tz})."),
    ("Status", STRING, "Seller Center status: Pending, Delayed, Ready to ship, Shipped, ..."),
    ("Item statuses", STRING, "Lazada's status of every unit, with counts."),
    ("Items", INT, "Number of units in the order."),
    ("Products", STRING, "Product names with quantities."),
    ("Total", FLOAT, "Order total in the shop currency."),
    ("Currency", STRING, "Currency code."),
    ("Buyer", STRING, "Buyer name, as text."),
    ("Payment method", STRING, "Payment method as Lazada names it."),
    (
        "Promised shipping",
        DATETIME,
        "Lazada's promised shipping time for units not yet ready to ship ({tz}).",
    ),
    (
        "RTS deadline",
        DATETIME,
        "Ready-to-ship deadline: 48 h after creation; for cross-border shops working days only ({tz}).",
    ),
    (
        "Hours left",
        FLOAT,
        "Hours left before the RTS deadline (negative when late; blank once set or canceled).",
    ),
    ("At risk", BOOL, "Fewer than the at-risk hours left to set ready-to-ship."),
    ("RTS late", BOOL, "Set ready-to-ship (or still not) after the deadline."),
    ("Ready to ship at", DATETIME, "When the last parcel was set ready-to-ship ({tz})."),
    ("Tracking numbers", STRING, "Tracking numbers of the order's parcels, comma-separated."),
    ("Packages", INT, "Number of parcels."),
    ("Last checkpoint", STRING, "Latest tracking event of any parcel."),
    ("Last checkpoint time", DATETIME, "Time of the latest tracking event ({tz})."),
    (
        "Sorting centre",
        STRING,
        "Arrival at the LGS sorting centre: Arrived, Arrived late, Not arrived, ...",
    ),
    ("Stuck", BOOL, "A parcel in transit with no new checkpoint for the stuck days."),
    ("Delivered", DATETIME, "When the (last) delivered unit was delivered ({tz})."),
    ("Settlement net", FLOAT, "Net of all finance lines for the order (blank if none)."),
    ("Settlement state", STRING, "Paid, Unpaid, Partially paid or Not settled."),
    ("Unsettled", BOOL, "Delivered, nothing settled, and more than the unsettled days ago."),
    ("Remarks", STRING, "Buyer/seller remarks, as text."),
)

TRACKING_COLUMNS: tuple[Column, ...] = _cols(
    _SHOP,
    _ORDER_NUMBER,
    _ORDER_ID,
    _PACKAGE,
    _TRACKING,
    ("Carrier", STRING, "Shipment provider."),
    ("Item statuses", STRING, "Lazada's status of the units in this parcel, with counts."),
    ("Order status", STRING, "Seller Center status of the whole order."),
    ("Ready to ship at", DATETIME, "First 'packed / ready to ship' scan ({tz})."),
    ("Last checkpoint", STRING, "Title of the latest tracking event."),
    (
        "Last status code",
        STRING,
        "Lazada's code of the latest event (numeric, e.g. 1200 packed, 1400 delivered).",
    ),
    ("Last checkpoint time", DATETIME, "Time of the latest tracking event ({tz})."),
    ("Location", STRING, "Where the latest event happened."),
    ("Days since last checkpoint", FLOAT, "Days since the latest event (or since ready-to-ship)."),
    (
        "Sorting centre",
        STRING,
        "Arrived, Arrived late, Not arrived, Not arrived (overdue), Not handed over.",
    ),
    ("Sorting centre arrival", DATETIME, "First sorting-centre inbound scan ({tz})."),
    ("Sorting centre location", STRING, "Which sorting centre scanned it."),
    (
        "Days to sorting centre",
        FLOAT,
        "Days from ready-to-ship to the scan (or to now if not yet).",
    ),
    ("Sorting centre late", BOOL, "More than the sorting-centre days after ready-to-ship."),
    ("Stuck", BOOL, "In transit and no new checkpoint for the stuck days."),
    ("Checkpoints", INT, "Number of tracking events."),
    ("Final", BOOL, "Nothing more is expected for this parcel."),
)

CHECKPOINTS_COLUMNS: tuple[Column, ...] = _cols(
    _SHOP,
    _ORDER_NUMBER,
    _ORDER_ID,
    _PACKAGE,
    _TRACKING,
    ("Time", DATETIME, "When the event happened ({tz})."),
    ("Status code", STRING, "Lazada's event code."),
    ("Title", STRING, "Event title."),
    ("Description", STRING, "Event description."),
    ("Location", STRING, "Where the event happened."),
)

SETTLEMENTS_COLUMNS: tuple[Column, ...] = _cols(
    _SHOP,
    _ORDER_NUMBER,
    _ORDER_ID,
    ("Created", DATETIME, "When the order was placed ({tz}); blank if the order is not cached."),
    ("Status", STRING, "Seller Center status of the order."),
    ("Currency", STRING, "Currency code."),
    ("Item price", FLOAT, "Item price credits (fee type 13)."),
    ("Commission", FLOAT, "Commission (fee type 16)."),
    ("Payment fee", FLOAT, "Payment fee (fee type 3)."),
    ("Shipping", FLOAT, "Shipping fee paid by customer (8) and by seller (7)."),
    ("Reversals", FLOAT, "Reversal of item price (14) and commission (15) for returns."),
    ("Penalties", FLOAT, "Penalty lines (fee name contains 'penalty')."),
    ("Other", FLOAT, "Every other fee line."),
    ("Net", FLOAT, "Sum of all lines."),
    ("Paid amount", FLOAT, "Sum of the lines Lazada has paid out."),
    ("State", STRING, "Paid, Unpaid, Partially paid or Not settled."),
    ("Lines", INT, "Number of finance lines."),
    ("Statements", STRING, "Payout statement periods the lines belong to."),
    ("Last transaction", DATETIME, "Date of the latest finance line."),
    ("Delivered", DATETIME, "When the order was delivered ({tz})."),
    ("Days since delivery", FLOAT, "Days since delivery."),
    ("Unsettled", BOOL, "Delivered, nothing settled, and more than the unsettled days ago."),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "orders": ORDERS_COLUMNS,
    "tracking": TRACKING_COLUMNS,
    "checkpoints": CHECKPOINTS_COLUMNS,
    "settlements": SETTLEMENTS_COLUMNS,
}


def empty_frame(columns: Sequence[Column]) -> pd.DataFrame:
    """A frame with no rows but the declared columns and dtypes."""
    return frame(columns, [])


def frame(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows (dicts keyed by column name; missing keys are blank) → a frame of exactly the
    declared columns, in order, with the declared dtypes."""
    data: dict[str, pd.Series] = {}
    for col in columns:
        values = [row.get(col.name) for row in rows]
        data[col.name] = _series(values, col.dtype)
    return pd.DataFrame(data, columns=[c.name for c in columns])


def _series(values: list[Any], dtype: str) -> pd.Series:
    if dtype == DATETIME:
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object)), dtype=DATETIME)
    if dtype == FLOAT:
        return pd.Series([float("nan") if v is None else float(v) for v in values], dtype=FLOAT)
    if dtype == STRING:
        return pd.Series([None if v is None else str(v) for v in values], dtype=object).astype(
            STRING
        )
    return pd.Series(values, dtype=object).astype(dtype)
