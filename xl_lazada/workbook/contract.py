"""The workbook contract: sheet names, rows, tables, formats, input cells and settings keys.

This is the single description both writers (the headless file writer and the live xlwings
writer) and every reader (refresh, the ribbon macros, the report) agree on, so a ribbon
refresh and ``xl-lazada refresh BOOK.xlsm`` produce the same sheets. It is built from
:data:`xl_lazada.tables.TABLES` (columns and dtypes); nothing here talks to Excel or a file.

Layout of a data sheet (Orders, Tracking, Checkpoints, Settlements)::

    A1  title                      (style "title")
    A2  one-line status            ("Refreshed 2026-12-02 08:00 — 1,234 rows")
    A4… header row of the table    (style "header")
    A5… data, one Excel Table      (LazadaOrders, LazadaTracking, ...)

Everything Lazada sends is text (number format ``@``); ids too, since they exceed Excel's 15
significant digits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from ..errors import InputError
from ..lazada.ventures import ZERO_DECIMAL_CURRENCIES
from ..rules.milestones import table_for
from ..rules.settings import RuleSettings
from ..tables.columns import BOOL, DATETIME, FLOAT, INT, STRING, TABLES, Column

# --- Excel limits --------------------------------------------------------------------------
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_CELL_CHARS = 32_767

# --- Sheet names ---------------------------------------------------------------------------
ORDERS = "Orders"
TRACKING = "Tracking"
CHECKPOINTS = "Checkpoints"
SETTLEMENTS = "Settlements"
REPORT = "Report"
REPORT_OUTPUT = "Report output"
SETTINGS = "Settings"
XLWINGS_CONF = "xlwings.conf"

SHEET_NAMES: tuple[str, ...] = (
    ORDERS,
    TRACKING,
    CHECKPOINTS,
    SETTLEMENTS,
    REPORT,
    REPORT_OUTPUT,
    SETTINGS,
    XLWINGS_CONF,
)

# --- Data sheet rows -----------------------------------------------------------------------
TITLE_ROW = 1
STATUS_ROW = 2
HEADER_ROW = 4
FIRST_DATA_ROW = 5
TITLE_CELL = "A1"
STATUS_CELL = "A2"
# Rows a data table can hold: everything below the header, up to Excel's last row.
MAX_DATA_ROWS = EXCEL_MAX_ROWS - FIRST_DATA_ROW + 1

# --- Number formats ------------------------------------------------------------------------
TEXT_FORMAT = "@"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MONEY_FORMAT = "#,##0.00"
WHOLE_MONEY_FORMAT = "#,##0"  # dong and rupiah have no minor unit in use
DECIMAL_FORMAT = "0.0"  # hours and days
COUNT_FORMAT = "0"
BOOL_FORMAT = "General"  # TRUE/FALSE cells (t="b") show as TRUE/FALSE


@dataclass(frozen=True, slots=True)
class SheetColumn:
    """One column of a data sheet: the table column plus how Excel shows it."""

    name: str
    dtype: str
    number_format: str
    width: float
    description: str


@dataclass(frozen=True, slots=True)
class DataSheet:
    """One data sheet: which table it shows, its Excel Table name and its columns."""

    key: str  # the key in xl_lazada.tables.TABLES
    name: str  # sheet name
    title: str  # A1
    table_name: str  # Excel Table (ListObject) name
    columns: tuple[SheetColumn, ...]

    @property
    def headers(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> SheetColumn:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


# Long free text gets wide columns; everything else is sized to its header and type.
_WIDE = {
    "Products": 40.0,
    "Item statuses": 28.0,
    "Remarks": 30.0,
    "Description": 40.0,
    "Title": 30.0,
    "Last checkpoint": 30.0,
    "Location": 22.0,
    "Sorting centre location": 24.0,
    "Tracking numbers": 24.0,
    "Statements": 26.0,
    "Buyer": 20.0,
    "Payment method": 18.0,
    "Sorting centre": 20.0,
    "Status code": 28.0,
    "Last status code": 28.0,
}
_ID_WIDTH = 20.0
_DTYPE_WIDTH = {STRING: 14.0, DATETIME: 17.0, FLOAT: 12.0, INT: 9.0, BOOL: 9.0}


def number_format(column: Column) -> str:
    """The Excel number format of a table column (hours/days one decimal, other floats money)."""
    if column.dtype == STRING:
        return TEXT_FORMAT
    if column.dtype == DATETIME:
        return DATETIME_FORMAT
    if column.dtype == INT:
        return COUNT_FORMAT
    if column.dtype == BOOL:
        return BOOL_FORMAT
    words = column.name.lower().split()
    if words and words[0] in ("hours", "days"):
        return DECIMAL_FORMAT
    return MONEY_FORMAT


def money_format(currencies: Iterable[Any]) -> str:
    """The money format for amounts in ``currencies``: whole numbers when every one of them
    has no minor unit (a VND or IDR shop), else two decimals (a mixed cache too: per-row
    formats would cost the writer more than the decimals cost the reader)."""
    seen = {str(c) for c in currencies if isinstance(c, str) and c}
    return WHOLE_MONEY_FORMAT if seen and seen <= ZERO_DECIMAL_CURRENCIES else MONEY_FORMAT


def column_width(column: Column) -> float:
    """A readable width (Excel character units) for the column."""
    if column.name in _WIDE:
        base = _WIDE[column.name]
    elif column.dtype == STRING and ("number" in column.name.lower() or "id" in column.name):
        base = _ID_WIDTH
    else:
        base = _DTYPE_WIDTH[column.dtype]
    return max(base, min(len(column.name) + 3.0, 30.0))


def _sheet(key: str, name: str, title: str, table: str) -> DataSheet:
    cols = tuple(
        SheetColumn(c.name, c.dtype, number_format(c), column_width(c), c.description)
        for c in TABLES[key]
    )
    return DataSheet(key, name, title, table, cols)


DATA_SHEETS: dict[str, DataSheet] = {
    "orders": _sheet("orders", ORDERS, "Lazada orders", "LazadaOrders"),
    "tracking": _sheet(
        "tracking", TRACKING, "Lazada parcels (latest checkpoint)", "LazadaTracking"
    ),
    "checkpoints": _sheet(
        "checkpoints", CHECKPOINTS, "Lazada tracking checkpoints", "LazadaCheckpoints"
    ),
    "settlements": _sheet("settlements", SETTLEMENTS, "Lazada settlements", "LazadaSettlements"),
}
DATA_SHEET_NAMES: tuple[str, ...] = tuple(s.name for s in DATA_SHEETS.values())
TABLE_NAMES: tuple[str, ...] = tuple(s.table_name for s in DATA_SHEETS.values())

# --- Report sheet inputs -------------------------------------------------------------------
REPORT_DATE_FROM = "B3"
REPORT_DATE_TO = "B4"
REPORT_STATUS = "B5"
REPORT_SHOP = "B6"
REPORT_MESSAGE = "B8"
REPORT_REFS_HEADER = "A11"
REPORT_REFS_FIRST_ROW = 12
REPORT_REFS_COLUMN = "A"
REPORT_LABELS: dict[str, str] = {
    "A3": "Date from",
    "A4": "Date to",
    "A5": "Status (blank = all)",
    "A6": "Shop (blank = all)",
    "A7": "Press Build report on the Lazada tab",
    "A8": "Message",
}
REPORT_REFS_HEADER_TEXT = "Tracking or package numbers"

# --- Settings sheet ------------------------------------------------------------------------
SETTINGS_TITLE_ROW = 1
SETTINGS_HEADER_ROW = 3
SETTINGS_FIRST_ROW = 4
SETTINGS_HEADERS = ("Setting", "Value", "Meaning")

# Hard row cap for the Checkpoints sheet (a 100k-order shop has ~900k checkpoints).
DEFAULT_CHECKPOINT_DAYS = 30
DEFAULT_CHECKPOINT_MAX_ROWS = 500_000


@dataclass(frozen=True, slots=True)
class WorkbookSettings:
    """Non-rule settings of the workbook (never secrets: tokens live in the keyring)."""

    shop: str | None = None  # profile to sync; blank = the environment's or default shop
    lookback_days: int = 30  # how far back the first sync reads
    qps: float | None = None  # calls per second per Lazada API (blank = the client's 10)
    # Checkpoints sheet: parcels still moving plus parcels whose last event is this recent.
    checkpoint_days: int = DEFAULT_CHECKPOINT_DAYS
    checkpoint_max_rows: int = DEFAULT_CHECKPOINT_MAX_ROWS  # newest rows kept beyond this

    def __post_init__(self) -> None:
        if not 1 <= self.lookback_days <= 3650:
            raise ValueError("lookback_days must be between 1 and 3650")
        if self.qps is not None and not 0.1 <= self.qps <= 10_000:
            raise ValueError("qps must be between 0.1 and 10000")
        if not 0 <= self.checkpoint_days <= 3650:
            raise ValueError("checkpoint_days must be between 0 and 3650")
        if not 1 <= self.checkpoint_max_rows <= MAX_DATA_ROWS:
            raise ValueError(f"checkpoint_max_rows must be between 1 and {MAX_DATA_ROWS:,}")


@dataclass(frozen=True, slots=True)
class SettingKey:
    key: str
    default: Any
    meaning: str
    kind: str  # "float" | "int" | "bool" | "text" | "optional_float"


_RULE_MEANINGS = {
    "rts_hours": "Ready-to-ship window in hours (Lazada: 48; working time for cross-border).",
    "at_risk_hours": "An order is 'at risk' with fewer than this many hours left to ship.",
    "sorting_center_days": "A parcel is late to the sorting centre after this many days.",
    "stuck_days": "A moving parcel is 'stuck' after this many days without a checkpoint.",
    "unsettled_days": "A delivered order is 'unsettled' if unpaid after this many days.",
    "holiday_country": "Holiday calendar for the 48 h (blank = CN for cross-border; '-' = none).",
    "count_makeup_workdays": "TRUE: China's make-up working weekends count as working days.",
    "extra_milestones": "More trace codes: a JSON file path (or JSON text) like the shipped "
    "milestones table (blank = none).",
}
_WORKBOOK_MEANINGS = {
    "shop": "Shop profile to refresh (blank = the default shop).",
    "lookback_days": "How many days back the first sync reads.",
    "qps": "Lazada calls per second per API (blank = 10).",
    "checkpoint_days": "Checkpoints sheet: parcels still moving plus the last N days.",
    "checkpoint_max_rows": f"Checkpoints sheet: at most this many rows (newest kept; max {MAX_DATA_ROWS:,}).",
}


def _kind(default: Any, name: str) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, float):
        return "float"
    if isinstance(default, int):
        return "int"
    return "optional_float" if name == "qps" else "text"


def _setting_keys() -> tuple[SettingKey, ...]:
    keys: list[SettingKey] = []
    for f in fields(WorkbookSettings):
        keys.append(
            SettingKey(f.name, f.default, _WORKBOOK_MEANINGS[f.name], _kind(f.default, f.name))
        )
    for f in fields(RuleSettings):
        meaning = _RULE_MEANINGS.get(f.name, "A rule setting (see the documentation).")
        keys.append(SettingKey(f.name, f.default, meaning, _kind(f.default, f.name)))
    return tuple(keys)


SETTING_KEYS: tuple[SettingKey, ...] = _setting_keys()
_RULE_KEYS = {f.name for f in fields(RuleSettings)}


class SettingsError(InputError):
    """A Settings-sheet value that cannot be used; the message names the key and the value."""


def _normalise_key(key: Any) -> str:
    return str(key).strip().lower().replace(" ", "_")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse(spec: SettingKey, raw: Any) -> Any:
    text = str(raw).strip()
    if spec.kind == "bool":
        if isinstance(raw, bool):
            return raw
        lowered = text.lower()
        if lowered in ("true", "yes", "y", "1"):
            return True
        if lowered in ("false", "no", "n", "0"):
            return False
        raise SettingsError(f"Settings: {spec.key} must be TRUE or FALSE (got {text[:40]!r})")
    if spec.kind in ("float", "int", "optional_float"):
        if isinstance(raw, bool):
            raise SettingsError(f"Settings: {spec.key} must be a number (got {text!r})")
        try:
            number = float(raw) if isinstance(raw, int | float) else float(text.replace(",", ""))
        except ValueError:
            raise SettingsError(
                f"Settings: {spec.key} must be a number (got {text[:40]!r})"
            ) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise SettingsError(f"Settings: {spec.key} must be a finite number")
        if spec.kind == "int":
            if number != int(number):
                raise SettingsError(f"Settings: {spec.key} must be a whole number (got {text!r})")
            return int(number)
        return number
    if spec.key == "holiday_country" and text == "-":
        return ""  # explicit "no holidays"
    return text


def settings_from_values(mapping: Mapping[Any, Any]) -> tuple[RuleSettings, WorkbookSettings]:
    """Settings-sheet values (key → cell value) → the rule thresholds and workbook settings.

    Keys are matched case-insensitively with spaces as underscores; blanks mean the default;
    unknown keys are an error (a typo would otherwise silently keep a default)."""
    by_key = {s.key: s for s in SETTING_KEYS}
    rules: dict[str, Any] = {}
    book: dict[str, Any] = {}
    for raw_key, raw in mapping.items():
        if _blank(raw_key):
            continue
        key = _normalise_key(raw_key)
        if key not in by_key:
            raise SettingsError(f"Settings: unknown setting {str(raw_key)[:40]!r}")
        if _blank(raw):
            continue
        value = _parse(by_key[key], raw)
        (rules if key in _RULE_KEYS else book)[key] = value
    try:
        rule_settings = replace(RuleSettings(), **rules)
        table_for(rule_settings)  # an extra milestone file that cannot be read: say so now
    except ValueError as exc:
        raise SettingsError(f"Settings: {exc}") from None
    try:
        workbook_settings = WorkbookSettings(**book)
    except ValueError as exc:
        raise SettingsError(f"Settings: {exc}") from None
    return rule_settings, workbook_settings


def settings_rows(
    rules: RuleSettings | None = None, book: WorkbookSettings | None = None
) -> list[tuple[str, Any, str]]:
    """(key, value, meaning) rows for the Settings sheet; ``None`` values are left blank."""
    rules = rules or RuleSettings()
    book = book or WorkbookSettings()
    rows = []
    for spec in SETTING_KEYS:
        source: Any = rules if spec.key in _RULE_KEYS else book
        rows.append((spec.key, getattr(source, spec.key), spec.meaning))
    return rows


# --- xlwings.conf --------------------------------------------------------------------------
UDF_MODULES = "xl_lazada.excel.udfs"
XLWINGS_CONF_VALUES: tuple[tuple[str, str], ...] = (
    ("UDF Modules", UDF_MODULES),
    # Blank interpreter = xlwings' default (the python on PATH / the active env). A seller
    # with a virtual environment puts its python.exe / python path here.
    ("Interpreter_Win", ""),
    ("Interpreter_Mac", ""),
    ("PYTHONPATH", ""),
    ("Conda Path", ""),
    ("Conda Env", ""),
    ("Debug UDFs", "FALSE"),
    ("Use UDF Server", "FALSE"),
    ("Show Console", "FALSE"),
)

# --- Ribbon / VBA names (fixed so the ribbon and the Python side agree) --------------------
MACROS_MODULE = "xl_lazada.excel.macros"
RIBBON_CALLBACKS: dict[str, str] = {
    "LazadaRefreshAll": "refresh_all",
    "LazadaRefreshOrders": "refresh_orders",
    "LazadaRefreshTracking": "refresh_tracking",
    "LazadaRefreshSettlements": "refresh_settlements",
    "LazadaBuildReport": "build_report",
    "LazadaImportTrackingCsv": "import_tracking_csv",
    "LazadaSettings": "check_connection",
}

__all__ = [
    "BOOL_FORMAT",
    "CHECKPOINTS",
    "COUNT_FORMAT",
    "DATA_SHEETS",
    "DATA_SHEET_NAMES",
    "DATETIME_FORMAT",
    "DECIMAL_FORMAT",
    "EXCEL_MAX_ROWS",
    "FIRST_DATA_ROW",
    "HEADER_ROW",
    "MAX_DATA_ROWS",
    "MONEY_FORMAT",
    "WHOLE_MONEY_FORMAT",
    "money_format",
    "ORDERS",
    "REPORT",
    "REPORT_OUTPUT",
    "SETTINGS",
    "SETTLEMENTS",
    "SHEET_NAMES",
    "STATUS_ROW",
    "TABLE_NAMES",
    "TEXT_FORMAT",
    "TITLE_ROW",
    "TRACKING",
    "XLWINGS_CONF",
    "XLWINGS_CONF_VALUES",
    "DataSheet",
    "SettingKey",
    "SettingsError",
    "SheetColumn",
    "WorkbookSettings",
    "settings_from_values",
    "settings_rows",
]
