"""The parcel table as CSV: what Seller Center's download gives, with this report's columns.

UTF-8 with a byte-order mark (so Excel opens accents and Thai/Vietnamese text correctly) and
one row per parcel. A text cell that starts with ``=``, ``+``, ``-``, ``@`` or a control
character gets a leading apostrophe (:func:`~xl_lazada.safe_text.safe_text`), so a
spreadsheet opening the file never runs text Lazada sent as a formula.
"""

from __future__ import annotations

import csv
import os
from typing import Any

import pandas as pd

from ..outfiles import keep_mode, new_temp
from ..safe_text import safe_text
from .build import REPORT_COLUMNS, Report


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT:  # (NaT is no Timestamp)
        return ""
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return safe_text(str(value))


def write_csv(report: Report, path: str | os.PathLike[str]) -> None:
    """Write every column of the parcel table (ids as text, times shop-local)."""
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = new_temp(folder, ".report-", ".csv")
    keep_mode(tmp, target)
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([c.name for c in REPORT_COLUMNS])
            frame = report.table[[c.name for c in REPORT_COLUMNS]].astype(object)
            for row in frame.itertuples(index=False, name=None):
                writer.writerow([_cell(v) for v in row])
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
