"""The tracking report: a date range and/or tracking numbers in, a formatted report out.

``parse_report_inputs`` checks what the seller typed, ``build_report`` turns the sheet tables
into a plain :class:`Report`, and the writers lay it out: a standalone ``.xlsx``
(:func:`write_xlsx`), ``.csv`` (:func:`write_csv`), ``.pdf`` through LibreOffice
(:func:`write_pdf`), and the workbook's ``Report output`` sheet (:func:`report_sheetspec`).
"""

from .build import REPORT_COLUMNS, Report, build_report
from .inputs import ReportInputError, ReportInputs, parse_report_inputs, read_tracking_csv

__all__ = [
    "REPORT_COLUMNS",
    "Report",
    "ReportInputError",
    "ReportInputs",
    "build_report",
    "parse_report_inputs",
    "read_tracking_csv",
]
