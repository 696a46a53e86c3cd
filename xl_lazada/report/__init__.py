"""The tracking report: a date range and/or tracking numbers in, a formatted report out.

``parse_report_inputs`` checks what the seller typed, ``build_report`` turns the sheet tables
into a plain :class:`Report`, and the writers lay it out: a standalone ``.xlsx``
(:func:`write_xlsx`), ``.csv`` (:func:`write_csv`), ``.pdf`` through LibreOffice
(:func:`write_pdf`), and the workbook's ``Report output`` sheet (:func:`report_sheetspec`;
:func:`report_from_sheet` goes from the Report sheet's raw values to that sheet and the
message for its status cell).
"""

from .build import REPORT_COLUMNS, Report, build_report
from .csv import write_csv
from .inputs import ReportInputError, ReportInputs, parse_report_inputs, read_tracking_csv
from .pdf import PdfError, write_pdf
from .sheet import report_from_sheet, report_message, report_sheetspec
from .xlsx import write_xlsx

__all__ = [
    "REPORT_COLUMNS",
    "PdfError",
    "Report",
    "ReportInputError",
    "ReportInputs",
    "build_report",
    "parse_report_inputs",
    "read_tracking_csv",
    "report_from_sheet",
    "report_message",
    "report_sheetspec",
    "write_csv",
    "write_pdf",
    "write_xlsx",
]
