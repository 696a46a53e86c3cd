"""Temporary files for what the seller opens: written beside the target, then renamed over it.

``tempfile.mkstemp`` makes its files private (mode 0600) — right for tokens, wrong for a
report or a workbook: renamed into place, the file would be unreadable to the colleague or
the web server the seller shares it with. These are created the way any program's new file
is (0666 less the user's umask), and a file being replaced keeps its own permissions.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["keep_mode", "new_temp"]


def new_temp(folder: str | os.PathLike[str], prefix: str, suffix: str = "") -> tuple[int, str]:
    """An open descriptor and the path of a new, empty file in ``folder`` (never an
    existing one), with the permissions a normal save would give."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = os.path.join(folder, f"{prefix}{secrets.token_hex(6)}{suffix}")
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def keep_mode(tmp: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Give ``tmp`` the permissions of the ``target`` it is about to replace, if any."""
    try:
        mode = Path(target).stat().st_mode & 0o777
    except OSError:
        return
    with contextlib.suppress(OSError):
        os.chmod(tmp, mode)
