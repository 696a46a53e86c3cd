"""Saving a workbook so that it is always either the old file or the new one.

The new file is written beside the old one (same directory, temporary name), flushed and
fsynced, the old file is kept as ``BOOK.xlsm.bak`` (a hard link, so there is never a moment
without a ``BOOK.xlsm``), and the new file is moved over it with ``os.replace`` (atomic on
POSIX and Windows). A crash at any point leaves the old workbook or the new one, plus at
worst a stray temporary file, which the next save removes.

Before anything is read, :func:`check_writable` refuses a workbook that is open in Excel
(its ``~$BOOK.xlsm`` owner file, or Windows' exclusive lock) or that cannot be written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import IO

from ..errors import XlLazadaError
from ..outfiles import keep_mode, new_temp

TEMP_PREFIX = ".~xl-lazada-"
BACKUP_SUFFIX = ".bak"


class WorkbookLockedError(XlLazadaError):
    """The workbook is open elsewhere or cannot be written; one seller-readable line."""


def owner_file(path: Path) -> Path:
    """Excel's owner (lock) file for ``path``: ``~$MyShop.xlsm`` next to ``MyShop.xlsm``."""
    return path.with_name("~$" + path.name)


def _owner_files(path: Path) -> set[Path]:
    """Excel's owner file, and the form other Office programs use for long names (the first
    two characters replaced: ``~$Shop.xlsm``)."""
    name = path.name
    return {owner_file(path), path.with_name("~$" + (name[2:] if len(name) > 8 else name))}


def _owner_present(path: Path) -> Path | None:
    """The Excel owner file next to ``path``, if there is one (Excel has it open)."""
    return next((o for o in sorted(_owner_files(path)) if o.exists()), None)


def check_writable(path: Path) -> None:
    """Raise :class:`WorkbookLockedError` when ``path`` must not be written now."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such workbook")
    if not path.is_file():
        raise WorkbookLockedError(f"{path} is not a file")
    check_not_open(path)
    why = unwritable(path)
    if why:
        raise WorkbookLockedError(f"{path} is {why}; cannot refresh it")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise WorkbookLockedError(
            f"cannot write in {path.parent} (the new workbook is saved beside the old one)"
        )


def unwritable(path: Path) -> str | None:
    """Why ``path`` must not be replaced, or None: ``"read-only"`` when it is marked so (no
    write permission for anyone, which is also how Windows' read-only attribute shows: the
    mark is honoured even for root, who could write it anyway, since the seller set it to
    keep the file as it is and a scheduled refresh often runs as root), ``"not writable by
    this user"`` when only its permissions stop this process."""
    if not path.stat().st_mode & 0o222:
        return "read-only"
    if not os.access(path, os.W_OK):
        return "not writable by this user"
    return None


def check_not_open(path: Path) -> None:
    """Raise :class:`WorkbookLockedError` when Excel (or another program) has the existing
    file ``path`` open: replacing it under Excel loses the seller's unsaved edits on macOS
    and fails part way on Windows."""
    owner = _owner_present(path)
    if owner is not None:
        raise WorkbookLockedError(
            f"{path.name} is open in Excel ({owner.name} exists next to it); close it "
            f"and try again (if Excel is not running, delete {owner.name})"
        )
    if os.name == "nt" and os.access(path, os.W_OK):  # Excel holds an exclusive lock:
        try:  # opening for writing fails (a read-only file is said as such by the caller)
            with open(path, "r+b"):
                pass
        except PermissionError:
            raise WorkbookLockedError(
                f"{path.name} is open in another program (Excel?); close it and try again"
            ) from None


def file_stamp(path: Path) -> tuple[int, int]:
    """When the file was last written, and its size: taken before a refresh reads the book."""
    st = path.stat()
    return st.st_mtime_ns, st.st_size


def check_unchanged(path: Path, stamp: tuple[int, int]) -> None:
    """Just before the refreshed book replaces ``path``: refuse when Excel has opened it
    since it was read (macOS Excel leaves only its owner file, no lock) or anything has
    saved it since (replacing it would lose what the seller saved)."""
    owner = _owner_present(path)
    if owner is not None:
        raise WorkbookLockedError(
            f"{path.name} was opened in Excel during the refresh ({owner.name} appeared);"
            " nothing was written: close it and refresh again"
        )
    try:
        now = file_stamp(path)
    except FileNotFoundError:
        raise WorkbookLockedError(
            f"{path.name} was moved or deleted during the refresh; nothing was written"
        ) from None
    why = unwritable(path)
    if why:
        raise WorkbookLockedError(
            f"{path.name} was made {why} during the refresh; nothing was written"
        )
    if now != stamp:
        raise WorkbookLockedError(
            f"{path.name} was saved by another program during the refresh; nothing was"
            " written, so those changes are kept: refresh again"
        )


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temps(path: Path) -> None:
    """Temporary files left by a save that was killed (they never replaced anything)."""
    for stale in path.parent.glob(f"{TEMP_PREFIX}{path.name}.*"):
        with contextlib.suppress(OSError):
            stale.unlink()


def atomic_write(
    path: Path,
    write: Callable[[IO[bytes]], None],
    *,
    backup: bool = True,
    before_replace: Callable[[], None] | None = None,
) -> None:
    """Write ``path`` through ``write(stream)`` atomically; keep the old file as ``.bak``.
    ``before_replace`` runs once the new file is on disk, just before it replaces the old
    one: raising there leaves the old file as it was."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    remove_stale_temps(path)
    fd, tmp_name = new_temp(folder, f"{TEMP_PREFIX}{path.name}.")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if before_replace is not None:
            before_replace()
        keep_mode(tmp, path)
        if backup and path.exists():
            _keep_backup(path)
        os.replace(tmp, path)
        _fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _keep_backup(path: Path) -> None:
    """``BOOK.xlsm.bak`` becomes the current file, without ever removing ``BOOK.xlsm``."""
    bak = path.with_name(path.name + BACKUP_SUFFIX)
    staging = path.with_name(f"{TEMP_PREFIX}{path.name}.bak-staging")
    with contextlib.suppress(OSError):
        staging.unlink()
    try:
        os.link(path, staging)
    except OSError:
        shutil.copy2(path, staging)
    os.replace(staging, bak)


__all__ = [
    "BACKUP_SUFFIX",
    "WorkbookLockedError",
    "atomic_write",
    "check_unchanged",
    "check_writable",
    "file_stamp",
    "owner_file",
]
