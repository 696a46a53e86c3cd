"""The report's inputs as a seller gives them, checked before anything is read or written.

Seller Center's tracking report is asked for by creation-date range (at most 30 days), by
tracking or package numbers, or by an uploaded CSV of tracking numbers; this accepts the same,
in whatever shape Excel hands it over (datetimes, Excel serial numbers, text dates, ids turned
into floats, blank cells). Anything unusable is a :class:`ReportInputError` with one line a
seller can act on, raised before the report sheet or file is touched.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..errors import InputError
from ..lazada.errors import one_line
from ..refs import normalize_ref
from ..rules.status import DISPLAY_STATUSES

#: Seller Center's limit for one tracking report, in days (both ends included).
MAX_DAYS = 30

#: Excel's day 0 for serials after its fictitious 29 Feb 1900 (every date a seller types).
_EXCEL_EPOCH = date(1899, 12, 30)
_FIRST_SERIAL = 61  # 1900-03-01: smaller serials count that 29 Feb, and no order is that old
_FIRST_DAY = _EXCEL_EPOCH + timedelta(days=_FIRST_SERIAL)
_MAX_SERIAL = 2958465  # 9999-12-31

_STATUS_ALIASES = {
    "cancelled": "Canceled",
    "failed": "Failed delivery",
    "lost": "Lost/Damaged",
    "damaged": "Lost/Damaged",
    "lost damaged": "Lost/Damaged",
    "to ship": "Pending",
    "rts": "Ready to ship",
    "partially shipped": "Partially shipped",
}


class ReportInputError(InputError):
    """A report input a seller must fix; ``str(exc)`` is one readable line."""


@dataclass(frozen=True, slots=True)
class RejectedRef:
    """A pasted value that cannot be looked up (e.g. a number Excel already rounded)."""

    value: str  # as given, for display
    reason: str


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """What to report on. Dates are shop-local order creation days, both included."""

    date_from: date | None = None
    date_to: date | None = None
    status: str | None = None  # one of DISPLAY_STATUSES
    shop: str | None = None
    refs: tuple[str, ...] = ()  # cleaned, unique, in the order given
    rejected: tuple[RejectedRef, ...] = ()

    @property
    def has_range(self) -> bool:
        return self.date_from is not None

    @property
    def has_refs(self) -> bool:
        return bool(self.refs or self.rejected)

    @property
    def period_text(self) -> str:
        if self.date_from is None or self.date_to is None:
            return "any date (the numbers given)"
        days = (self.date_to - self.date_from).days + 1
        return f"{self.date_from:%d %b %Y} – {self.date_to:%d %b %Y} ({days} days)"


def parse_report_inputs(
    date_from: Any = None,
    date_to: Any = None,
    status: Any = None,
    shop: Any = None,
    refs: Iterable[Any] | None = None,
) -> ReportInputs:
    """Check the Report sheet's inputs (or the command line's) and return them cleaned.

    A date range, a list of references, or both (the report then shows the references
    created within the range). Raises :class:`ReportInputError` with one line otherwise.
    """
    lo = parse_date(date_from, "Date from")
    hi = parse_date(date_to, "Date to")
    if (lo is None) != (hi is None):
        missing = "Date to" if hi is None else "Date from"
        raise ReportInputError(f"{missing} is empty: give both dates, or neither")
    if lo is not None and hi is not None:
        if hi < lo:
            raise ReportInputError(f"Date to ({hi:%d %b %Y}) is before Date from ({lo:%d %b %Y})")
        days = (hi - lo).days + 1
        if days > MAX_DAYS:
            raise ReportInputError(
                f"the period is {days} days; a report covers at most {MAX_DAYS} days"
                f" (e.g. {lo:%d %b %Y} – {lo + timedelta(days=MAX_DAYS - 1):%d %b %Y})"
            )
    cleaned, rejected = clean_refs(refs or ())
    if lo is None and not cleaned and not rejected:
        raise ReportInputError(
            f"give a date range (at most {MAX_DAYS} days) or paste tracking numbers"
        )
    return ReportInputs(
        date_from=lo,
        date_to=hi,
        status=parse_status(status),
        shop=_text(shop) or None,
        refs=cleaned,
        rejected=rejected,
    )


# ----------------------------------------------------------------------------- dates


def parse_date(value: Any, label: str = "date") -> date | None:
    """A date from what Excel or a command line hands over; blank → ``None``.

    The one reader of Excel date values: the ribbon gets datetimes from Excel, the headless
    refresh the serial numbers the file holds, and both come here. Accepts datetime/date,
    an Excel serial number, ISO text (``2026-11-03``, with or without a time),
    ``2026/11/03``, ``03/11/2026`` or ``11/03/2026`` when the order is unambiguous (a part
    above 12 is the day, or both parts equal), and ``3 Nov 2026``. A day before 1 March 1900
    is refused whatever its form (serial 5 and the 5 Jan 1900 Excel shows for it alike).
    """
    day = _read_date(value, label)
    if day is not None and day < _FIRST_DAY:
        raise ReportInputError(
            f"{label} {day:%d %b %Y} is not an order date: write it as YYYY-MM-DD"
        )
    return day


def _read_date(value: Any, label: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ReportInputError(f"{label}: TRUE/FALSE is not a date")
    if isinstance(value, int | float):
        return _from_serial(float(value), label)
    text = _text(value)
    if not text:
        return None
    try:
        return _from_text(text)
    except _Ambiguous:
        raise ReportInputError(
            f"{label} {text!r} could be day/month or month/day: write it as"
            " YYYY-MM-DD (e.g. 2026-11-03)"
        ) from None
    except ValueError:
        pass
    try:  # a serial number that came over as text ("46329")
        return _from_serial(float(text), label)
    except ValueError:
        pass
    raise ReportInputError(f"{label} {text!r} is not a date: write it as YYYY-MM-DD")


class _Ambiguous(ValueError):
    pass


_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:[ T].*)?$")


def _from_text(text: str) -> date:
    m = _ISO.match(text)
    if m:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _DMY.match(text)
    if m:
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if a > 12 or a == b:
            return date(year, b, a)  # dd/mm/yyyy
        if b > 12:
            return date(year, a, b)  # mm/dd/yyyy: the only way it is a date
        raise _Ambiguous(text)
    for fmt in ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _from_serial(serial: float, label: str) -> date:
    """Excel's 1900 date system (what every Windows workbook uses)."""
    if math.isnan(serial) or not _FIRST_SERIAL <= serial <= _MAX_SERIAL:
        raise ReportInputError(f"{label} {serial!r} is not a date: write it as YYYY-MM-DD")
    return _EXCEL_EPOCH + timedelta(days=int(serial))


# ----------------------------------------------------------------------------- status


def parse_status(value: Any) -> str | None:
    """A Seller Center status word, any case (``"delayed"``, ``"READY_TO_SHIP"``)."""
    text = _text(value)
    if not text:
        return None
    key = " ".join(text.replace("_", " ").replace("-", " ").lower().split())
    for status in DISPLAY_STATUSES:
        if status.lower() == key:
            return status
    if key in _STATUS_ALIASES:
        return _STATUS_ALIASES[key]
    raise ReportInputError(
        f"unknown status {text!r}; use one of: {', '.join(DISPLAY_STATUSES)} (or leave it blank)"
    )


# ----------------------------------------------------------------------------- references


def clean_ref(value: Any) -> tuple[str, str]:
    """One pasted reference → ``(text, problem)``: the cache's text, or ``""`` and why not
    ("" for a blank), through the package's one reference normaliser."""
    ref = normalize_ref(value)
    return (ref.text, "") if ref.kind == "text" else ("", ref.message)


def clean_refs(values: Iterable[Any]) -> tuple[tuple[str, ...], tuple[RejectedRef, ...]]:
    """Flatten (Excel ranges come as nested lists), clean, drop blanks and duplicates."""
    seen: dict[str, None] = {}
    rejected: dict[str, RejectedRef] = {}
    for value in _flatten(values):
        text, problem = clean_ref(value)
        if text:
            seen.setdefault(text, None)
        elif problem:
            shown = _text(value) if not isinstance(value, float) else repr(value)
            rejected.setdefault(shown, RejectedRef(shown, problem))
    return tuple(seen), tuple(rejected.values())


def _flatten(values: Iterable[Any]) -> Iterable[Any]:
    if isinstance(values, str | bytes):
        yield values
        return
    for v in values:
        if isinstance(v, list | tuple):
            yield from _flatten(v)
        else:
            yield v


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


# ----------------------------------------------------------------------------- CSV

#: Header words (lower case) of a column that holds references, best first.
_REF_HEADERS = (
    ("tracking number", "tracking no", "tracking no.", "tracking_number", "tracking", "awb"),
    ("package id", "package number", "package no", "package_id", "ofc package id", "package"),
    ("order number", "order no", "order no.", "order_number", "order id", "order_id"),
)


def read_tracking_csv(path: str | os.PathLike[str]) -> list[str]:
    """The references in a CSV as Seller Center or Excel write it: UTF-8 with or without a
    BOM (or a Windows code page), comma, semicolon or tab separated, with or without a
    header. With a header, the "Tracking Number" column is used (else a package or order
    number column); without one, the first column. Values are returned as written; the
    report cleans them like pasted cells."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ReportInputError(f"cannot read {name}: {exc.strerror or exc}") from None
    text = _decode(raw)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ReportInputError(f"{name} is empty: no tracking numbers in it")
    if lines[0].strip().lower().startswith("sep=") and len(lines[0].strip()) == 5:
        delimiter = lines[0].strip()[4]  # Excel's "sep=;" hint line
        lines = lines[1:]
        if not lines:
            raise ReportInputError(f"{name} is empty: no tracking numbers in it")
    else:
        delimiter = _delimiter(lines[0])
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    column = 0
    first = [c.strip().lower() for c in rows[0]]
    # Every tracking, package and order number has digits: a first row without any is a header.
    if not any(ch.isdigit() for c in first for ch in c):
        column = _ref_column(first, rows[0], name)
        rows = rows[1:]
    refs = [r[column].strip() for r in rows if len(r) > column and r[column].strip()]
    if not refs:
        raise ReportInputError(f"{name} has no tracking numbers under its header")
    return refs


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # Excel's "CSV (comma delimited)"


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _ref_column(lowered: list[str], original: list[str], name: str) -> int:
    for group in _REF_HEADERS:
        for wanted in group:
            if wanted in lowered:
                return lowered.index(wanted)
    for words in (("tracking", "awb"), ("package",), ("order",)):  # "LGS Tracking No."
        for i, cell in enumerate(lowered):
            if any(w in cell for w in words):
                return i
    shown = one_line(", ".join(c.strip() for c in original if c.strip()), 120)
    raise ReportInputError(f"{name}: no 'Tracking Number' column (columns: {shown})")
