"""``xl-lazada workbook new PATH``: a ready ``.xlsm`` (sheets, ribbon, VBA) on any OS."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("workbook")
def workbook() -> None:
    """Create the Excel workbook."""


@workbook.command("new")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def new(path: Path, force: bool) -> None:
    """Write a new Lazada workbook (.xlsm) to PATH."""
    from ..workbook.build import BuildError, build_workbook
    from ..workbook.contract import SHEET_NAMES

    if path.parent and not path.parent.exists():
        raise click.ClickException(f"{path.parent}: no such folder")
    try:
        target = build_workbook(path, force=force)
    except BuildError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot write it ({exc.strerror or exc})") from None
    click.echo(f"Created {target.resolve()} with sheets: {', '.join(SHEET_NAMES)}")
    click.echo(
        "Open it in Excel, enable macros (right-click the file > Properties > Unblock if it "
        "was downloaded), and use the Lazada tab."
    )
