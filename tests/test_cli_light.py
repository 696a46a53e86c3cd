"""``xl-lazada --help`` must stay instant: commands load only when run."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

from click.testing import CliRunner

from xl_lazada.cli import COMMANDS, cli

HEAVY = ("pandas", "numpy", "httpx", "uvicorn", "starlette", "openpyxl", "xlwings")


def test_help_lists_every_command_with_its_own_help() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name, (module, attr, short) in COMMANDS.items():
        command = getattr(importlib.import_module(f"xl_lazada.cli.{module}"), attr)
        # the list is printed from COMMANDS: it must say what the command itself says
        assert command.get_short_help_str(500) == short, name
        assert name in result.output


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys, json\n"
        "from xl_lazada.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []


def test_a_lazy_command_still_runs() -> None:
    result = CliRunner().invoke(cli, ["status", "--help"])
    assert result.exit_code == 0
    assert "REF" in result.output
