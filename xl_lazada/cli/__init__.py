"""``xl-lazada``: a thin command line over the library. Errors are one line and a non-zero exit."""

from __future__ import annotations

import logging
import sys

import click

from .. import __version__
from ..cache.db import CacheError
from ..config import ConfigError
from ..lazada.errors import LazadaError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xl-lazada")
@click.option(
    "-v", "--verbose", count=True, help="Log more: -v retries and failed calls, -vv every call."
)
def cli(verbose: int) -> None:
    """Track Lazada orders, parcels and settlements from Excel and the command line."""
    _setup_logging(verbose)


def _setup_logging(verbose: int) -> None:
    """Warnings on stderr by default; the HTTP log never shows parameters (see lazada.client)."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logger = logging.getLogger("xl_lazada")
    if verbose:  # only ever lower the bar; never silence what an embedding app asked for
        logger.setLevel(min(level, logger.getEffectiveLevel()))
    handler = next((h for h in logger.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        logger.addHandler(handler)
    handler.setLevel(level)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (test runners swap it between commands)."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: D401
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _register() -> None:
    # Each command lives in its own module; add new ones here.
    from . import demo_cmd, login_cmd, refresh_cmd, sandbox_cmd, status_cmd, sync_cmd, workbook_cmd

    for command in (
        demo_cmd.demo,
        sandbox_cmd.sandbox,
        login_cmd.login,
        login_cmd.shops,
        sync_cmd.sync,
        status_cmd.status,
        refresh_cmd.refresh,
        workbook_cmd.workbook,
    ):
        cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the group, turning expected failures into one readable line."""
    try:
        cli.main(args=argv, prog_name="xl-lazada", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (LazadaError, ConfigError, CacheError) as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
