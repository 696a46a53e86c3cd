"""``xl-lazada demo``: the one command a new user runs must work end to end."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from xl_lazada.cache import Cache
from xl_lazada.cli import cli
from xl_lazada.workbook.contract import SHEET_NAMES


def test_demo_syncs_the_sandbox_shows_what_matters_and_refreshes_cheaply(tmp_path: Path) -> None:
    folder = tmp_path / 'Seller\'s "demo" $1'  # a name a shell would split or misquote
    folder.mkdir()
    cache_path = folder / "demo.sqlite3"
    book = tmp_path / "Demo.xlsm"
    result = CliRunner().invoke(
        cli,
        ["demo", "--orders", "150", "--cache", str(cache_path), "--workbook", str(book), "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    out = result.output
    for heading in (
        "Orders by Seller Center status",
        "Delayed (past the promised shipping time)",
        "Stuck parcels",
        "Delivered but not yet settled",
    ):
        assert heading in out
    summary = json.loads(next(line for line in out.splitlines() if line.startswith('{"first"')))
    first, second = summary["first"], summary["second"]
    assert first["new_orders"] > 100 and first["new_checkpoints"] > 0
    assert second["calls"] < first["calls"] / 5  # the second refresh fetches only what changed
    with Cache.open(cache_path) as cache:
        assert len(cache.orders(shop="demo")) == first["new_orders"] + second["new_orders"]
        orders = len(cache.orders(shop="demo"))

    # The demo ends with a ready workbook, refreshed from the demo cache.
    assert f"Your demo workbook is ready: {book.resolve()}" in out
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == list(SHEET_NAMES)
    shown = {
        m.group(1).strip(): int(m.group(2).replace(",", ""))
        for m in re.finditer(r"^  (\w[\w .]*?)\s+([\d,]+) rows$", out, re.M)
    }
    assert shown["Orders"] == orders
    for name, rows in shown.items():
        ws = wb[name]
        assert ws.tables[next(iter(ws.tables))].ref.endswith(str(4 + max(rows, 1)))
        assert ws["A2"].value.startswith("Refreshed ")

    # ... with the Report sheet filled in (the last 30 days), its output, and a standalone file.
    report_in, report_out = wb["Report"], wb["Report output"]
    assert report_in["B3"].value is not None and report_in["B4"].value is not None
    assert (report_in["B4"].value - report_in["B3"].value).days == 29
    assert report_in["B8"].value.startswith("Built ")
    assert "LazadaReport" in report_out.tables
    standalone = tmp_path / "Demo report.xlsx"
    assert f"A standalone report (print-ready) is next to it: {standalone.resolve()}" in out
    assert "ReportParcels" in openpyxl.load_workbook(standalone)["Parcels"].tables

    # The command it suggests last works as printed, on one of the demo's own orders.
    suggested = shlex.split(out.splitlines()[-1])
    assert suggested[:4] == ["xl-lazada", "status", "--cache", str(cache_path)], suggested
    again = CliRunner().invoke(cli, suggested[1:], catch_exceptions=False)
    assert again.exit_code == 0 and again.output.startswith(f"{suggested[4]}: "), again.output


def test_demo_checks_its_options_before_touching_anything(tmp_path: Path) -> None:
    cache_path = tmp_path / "demo.sqlite3"
    with Cache.open(cache_path) as cache:
        cache.upsert_shop("demo", "MY", None, observed_at=datetime.now(UTC))
    taken = tmp_path / "Taken.xlsm"
    taken.write_bytes(b"the seller's file")
    for args, message in (
        (["--venture", "XX"], "Invalid value for '--venture'"),
        (["--workbook", str(taken)], "already exists"),
        (["--workbook", str(tmp_path / "Demo.xlsx")], "must end in .xlsm"),
        (["--workbook", str(tmp_path / "nowhere" / "Demo.xlsm")], "no such folder"),
    ):
        result = CliRunner().invoke(cli, ["demo", "--cache", str(cache_path), *args])
        assert result.exit_code != 0 and message in result.output, result.output
        assert "Traceback" not in result.output
        with Cache.open(cache_path) as cache:  # the saved demo cache is still there
            assert [s.name for s in cache.shops()] == ["demo"]
    assert taken.read_bytes() == b"the seller's file"


def test_demo_refuses_to_wipe_a_real_cache(tmp_path: Path) -> None:
    cache_path = tmp_path / "mine.sqlite3"
    with Cache.open(cache_path) as cache:
        cache.upsert_shop("my-shop", "MY", None, observed_at=datetime.now(UTC))
    result = CliRunner().invoke(cli, ["demo", "--orders", "20", "--cache", str(cache_path)])
    assert result.exit_code != 0
    assert "not a demo cache" in result.output
    with Cache.open(cache_path) as cache:
        assert [s.name for s in cache.shops()] == ["my-shop"]
