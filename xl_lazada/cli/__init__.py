"""``xl-lazada``: a thin command line over the library. Errors are one line and a non-zero exit."""

from __future__ import annotations

import importlib
import logging
import sys

import click

from .. import __version__
from ..errors import XlLazadaError

#: Every command: name -> (module in this package, function, one-line help for the list).
#: Commands are imported only when run, so ``xl-lazada --help`` stays instant (pandas, the
#: sandbox and the HTTP stack load only for the commands that use them). The help text here
#: must match the command's own first docstring line (a test checks it).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": (
        "demo_cmd",
        "demo",
        "Run a sync against the sandbox shop and show what a seller sees.",
    ),
    "sandbox": (
        "sandbox_cmd",
        "sandbox",
        "Serve a Lazada-compatible API on this computer, over a realistic simulated shop.",
    ),
    "login": (
        "login_cmd",
        "login",
        "Authorise a Lazada shop and save it as a profile (secrets go to the keyring).",
    ),
    "shops": (
        "login_cmd",
        "shops",
        "List saved shop profiles and when their tokens expire (never the secrets).",
    ),
    "sync": (
        "sync_cmd",
        "sync",
        "Fetch new and changed orders, tracking and settlements into the local cache.",
    ),
    "report": (
        "report_cmd",
        "report",
        "Write a formatted tracking report for a date range and/or tracking numbers.",
    ),
    "status": (
        "status_cmd",
        "status",
        "Status, tracking, last checkpoint, RTS deadline and settlement of each REF.",
    ),
    "refresh": (
        "refresh_cmd",
        "refresh",
        "Sync with Lazada and rewrite BOOK's Orders, Tracking, Checkpoints and Settlements.",
    ),
    "workbook": (
        "workbook_cmd",
        "workbook",
        "Create the Excel workbook.",
    ),
    "doctor": (
        "doctor_cmd",
        "doctor",
        "Check logins, the trace-code table and the cache; list codes Lazada sent that are new.",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (see :data:`COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attr, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from :data:`COMMANDS`, without importing any command."""
        rows = [(name, COMMANDS[name][2]) for name in sorted(COMMANDS)]
        rows += [
            (name, cmd.get_short_help_str(formatter.width))
            for name, cmd in sorted(self.commands.items())
            if name not in COMMANDS and not cmd.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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

    @property
    def stream(self):  # noqa: D401
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the group, turning expected failures into one readable line."""
    try:
        cli.main(args=argv, prog_name="xl-lazada", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.UsageError as exc:  # a mistyped command line: click's usage hint helps
        exc.show()
        return exc.exit_code
    except click.ClickException as exc:  # one line, worded as every other failure is
        click.echo(f"error: {_one_line(exc.format_message())}", err=True)
        return exc.exit_code
    except XlLazadaError as exc:
        click.echo(f"error: {_one_line(exc)}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception as exc:
        from ..cache.db import failure

        cache_failure = failure(exc)  # a cache damaged or locked after it opened
        if cache_failure is None:
            raise
        click.echo(f"error: {_one_line(cache_failure)}", err=True)
        return 1
    return 0


def _one_line(exc: BaseException | str) -> str:
    """An error's message as the one line it promises, whatever text it quotes (a file
    name or a CSV header the seller gave may hold line breaks and control bytes)."""
    from ..lazada.errors import one_line

    return one_line(exc, limit=2000)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
