"""PDF through LibreOffice (headless), where it is installed: the standalone workbook's
print setup (landscape, one page wide, header row repeated) becomes the PDF's pages.

LibreOffice runs with a throwaway profile directory, so it neither touches nor waits on a
profile the seller's own LibreOffice is using.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import XlLazadaError
from ..outfiles import keep_mode, new_temp
from .build import Report
from .xlsx import write_xlsx

#: Names LibreOffice's command-line converter goes by.
SOFFICE_NAMES = ("soffice", "libreoffice")
TIMEOUT_SECONDS = 300


class PdfError(XlLazadaError):
    """The PDF could not be made (no LibreOffice, or it failed); one line."""


def find_soffice() -> str | None:
    for name in SOFFICE_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def xlsx_to_pdf(xlsx: str | os.PathLike[str], pdf: str | os.PathLike[str]) -> None:
    """Convert a workbook to PDF with LibreOffice; :class:`PdfError` if that is impossible."""
    soffice = find_soffice()
    if soffice is None:
        raise PdfError(
            "PDF needs LibreOffice (soffice), which is not installed; write --out report.xlsx"
            " and print it from Excel instead"
        )
    target = Path(pdf)
    with tempfile.TemporaryDirectory(prefix="xl-lazada-pdf-") as work:
        profile = Path(work, "profile").as_uri()
        out = Path(work, "out")
        cmd = [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={profile}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            os.fspath(xlsx),
        ]
        try:
            subprocess.run(
                cmd, capture_output=True, timeout=TIMEOUT_SECONDS, check=False, text=True
            )
        except subprocess.TimeoutExpired:
            raise PdfError(
                f"LibreOffice took longer than {TIMEOUT_SECONDS} s; no PDF written"
            ) from None
        made = out / (Path(xlsx).stem + ".pdf")
        if not made.exists():
            raise PdfError("LibreOffice could not convert the report to PDF")
        # Copy next to the target, then rename over it: never a half-written PDF.
        fd, tmp = new_temp(target.resolve().parent, ".report-", ".pdf")
        os.close(fd)
        keep_mode(tmp, target)
        try:
            shutil.copyfile(made, tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def write_pdf(
    report: Report,
    path: str | os.PathLike[str],
    *,
    xlsx: str | os.PathLike[str] | None = None,
) -> None:
    """Write the report as PDF, converted from its standalone workbook: ``xlsx`` when the
    caller has just written it, else a temporary one."""
    if xlsx is not None:
        xlsx_to_pdf(xlsx, path)
        return
    with tempfile.TemporaryDirectory(prefix="xl-lazada-report-") as work:
        standalone = Path(work, "report.xlsx")
        write_xlsx(report, standalone)
        xlsx_to_pdf(standalone, path)
