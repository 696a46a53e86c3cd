"""The ribbon's macros on a fake book standing in for Excel, syncing the sandbox over HTTP.

The fake book starts as ``xl-lazada workbook new`` lays a workbook out (the contract's
initial SheetSpecs rendered through the live writer); a refresh must then produce the same
Orders sheet as the headless file writer renders from the same SheetSpec."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fake_excel import FakeBook

from xl_lazada.cache import Cache
from xl_lazada.excel import live_writer, macros, source
from xl_lazada.tables import orders_table
from xl_lazada.workbook import contract
from xl_lazada.workbook.build import initial_sheetspecs
from xl_lazada.workbook.sheetspec import parse_cell


def new_book() -> FakeBook:
    book = FakeBook()
    for spec in initial_sheetspecs():
        live_writer.render(book, spec)
    return book


def set_setting(book: FakeBook, key: str, value: Any) -> None:
    sheet = book.sheets[contract.SETTINGS]
    for row in range(contract.SETTINGS_FIRST_ROW, contract.SETTINGS_FIRST_ROW + 40):
        if sheet.values.get((row, 1)) == key:
            sheet.put(row, 2, value)
            return
    raise KeyError(key)


@pytest.fixture(scope="module")
def first_sync(sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sandbox shop synced once; each test starts from a copy (its refresh is then an
    incremental sync, as a seller's second press of the button)."""
    from xl_lazada.lazada.client import LazadaClient
    from xl_lazada.sync import SyncOptions, sync_shop

    path = Path(tmp_path_factory.mktemp("macros")) / "cache.sqlite3"
    with LazadaClient(sandbox.connection(), default_qps=1000) as client, Cache.open(path) as c:
        sync_shop(client, c, "sandbox", options=SyncOptions(lookback_days=_days(sandbox)))
    return path


@pytest.fixture
def connected(
    sandbox, first_sync: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """The environment a seller's Excel would have: a shop login and a cache file."""
    import shutil

    cache = tmp_path / "cache.sqlite3"
    shutil.copyfile(first_sync, cache)
    token = sandbox.issue_token()
    env = {
        "XL_LAZADA_HOME": str(tmp_path / "home"),
        "XL_LAZADA_CACHE": str(cache),
        "XL_LAZADA_BASE_URL": sandbox.base_url,
        "XL_LAZADA_APP_KEY": sandbox.app_key,
        "XL_LAZADA_APP_SECRET": sandbox.app_secret,
        "XL_LAZADA_ACCESS_TOKEN": token["access_token"],
        "XL_LAZADA_VENTURE": sandbox.venture,
        "XL_LAZADA_SHOP": "sandbox",
        "XL_LAZADA_FETCH_BUDGET": "0",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    source.clear()
    yield cache
    source.clear()


def _days(sandbox: Any) -> int:
    return int(sandbox.shop.params["days"]) + 5


def test_refresh_all_fills_the_sheets_and_recalculates_formulas(
    sandbox: Any, connected: Path
) -> None:
    book = new_book()
    set_setting(book, "lookback_days", _days(sandbox))
    mine = book.sheets.add("My orders")
    mine.put(1, 1, "317964514998308")
    mine.put(1, 2, "=LAZADA_STATUS(A1)")
    mine.put(2, 2, "=lazada_tracking(A1)")
    mine.put(5, 3, "=SUM(1,2)")
    width = len(contract.DATA_SHEETS["orders"].headers)
    book.sheets["Orders"].put(5, width + 2, "=LAZADA_SETTLEMENT(B5)")  # beside the table
    line = macros.refresh_all(book)
    assert line.startswith("Refreshed Orders "), line
    assert re.search(r" — 0 new, 0 changed orders; 3 formula cells recalculated$", line), line
    with Cache.open(connected) as cache:
        expected = orders_table(cache)
    orders = book.sheets["Orders"]
    n = len(expected)
    assert n > 100
    assert orders.tables["LazadaOrders"].box == (4, 1, 4 + n, len(expected.columns))
    ids = {orders.values[(5 + i, 3)] for i in range(n)}
    assert ids == set(expected["Order id"])
    for name in ("Orders", "Tracking", "Checkpoints", "Settlements"):
        status = book.sheets[name].values[(2, 1)]
        assert status.startswith("Refreshed ") and "changed orders" in status, status
        assert book.sheets[name].tables[0].box[2] >= 5
    # Progress went to the status bar, then the bar went back to Excel.
    shown = [s for s in book.app.status_history if isinstance(s, str)]
    assert any("syncing orders" in s for s in shown)
    assert any("syncing traces" in s for s in shown)
    assert book.app.status_bar is False and book.app.screen_updating is True
    # Both LAZADA formulas were recalculated (not volatile: the macro does it), SUM was not.
    assert sorted(book.app.recalculated) == [
        ("My orders", 1, 2),
        ("My orders", 2, 2),
        ("Orders", 5, width + 2),
    ]
    assert book.app.calculations == 1
    assert mine.formulas[(1, 2)] == "=LAZADA_STATUS(A1)"


def test_refresh_orders_only_touches_orders_and_asks_no_traces(
    sandbox: Any, connected: Path
) -> None:
    book = new_book()
    set_setting(book, "lookback_days", _days(sandbox))
    before = sandbox.stats.by_api
    line = macros.refresh_orders(book)
    after = sandbox.stats.by_api
    assert line.startswith("Refreshed Orders "), line
    assert after.get("/logistic/order/trace", 0) == before.get("/logistic/order/trace", 0)
    assert after.get("/finance/transaction/details/get", 0) == before.get(
        "/finance/transaction/details/get", 0
    )
    assert book.sheets["Tracking"].values[(2, 1)] == "Not refreshed yet"


def test_one_contract_two_writers_same_orders_sheet(sandbox: Any, connected: Path) -> None:
    """The live writer (ribbon) and the file writer (command line) render one SheetSpec to
    the same cells and number formats."""
    pytest.importorskip("pyopenvba", reason="the .xlsm builder needs pyOpenVBA")
    import openpyxl

    from xl_lazada.workbook.build import build_workbook_bytes
    from xl_lazada.workbook.package import Package
    from xl_lazada.workbook.sheets import data_sheetspec
    from xl_lazada.workbook.write import write_sheets

    book = new_book()
    set_setting(book, "lookback_days", _days(sandbox))
    macros.refresh_all(book)
    with Cache.open(connected) as cache:
        frame = orders_table(cache)
    spec = data_sheetspec("orders", frame, status_text="same")
    live = FakeBook()
    live_writer.render(live, spec)
    out = io.BytesIO()
    with Package(io.BytesIO(build_workbook_bytes())) as pkg:  # type: ignore[arg-type]
        write_sheets(pkg, [spec], out)
    out.seek(0)
    ws = openpyxl.load_workbook(out)["Orders"]
    sheet = live.sheets["Orders"]
    width = len(frame.columns)
    compared = 0
    for row in range(1, 5 + len(frame)):
        for col in range(1, width + 1):
            cell = ws._cells.get((row, col))  # ws.cell() would create missing cells
            theirs = cell.value if cell is not None else None
            if theirs == "":
                theirs = None  # "" assigned through COM leaves the cell empty
            ours = sheet.values.get((row, col))
            if isinstance(theirs, datetime) or isinstance(ours, datetime):
                assert abs((theirs - ours).total_seconds()) < 1, (row, col, theirs, ours)
            elif isinstance(theirs, float | int) and not isinstance(theirs, bool):
                assert ours == pytest.approx(theirs), (row, col)
            else:
                assert theirs == ours, (row, col, theirs, ours)
            if row >= 5:
                # A blank cell the file omits shows its column's format, as in Excel.
                letter = openpyxl.utils.get_column_letter(col)
                fmt = (
                    cell.number_format
                    if cell is not None
                    else ws.column_dimensions[letter].number_format
                )
                assert fmt == sheet.format_at(row, col), (row, col)
            compared += 1
    assert compared == width * (4 + len(frame))
    table = ws.tables["LazadaOrders"]
    assert table.ref == f"A4:{openpyxl.utils.get_column_letter(width)}{4 + len(frame)}"
    assert sheet.tables["LazadaOrders"].box == (4, 1, 4 + len(frame), width)


def test_a_failed_sync_still_refreshes_from_the_cache_and_says_so(
    sandbox: Any, connected: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = new_book()
    set_setting(book, "lookback_days", _days(sandbox))
    macros.refresh_orders(book)
    monkeypatch.setenv("XL_LAZADA_APP_SECRET", "wrong-secret")
    line = macros.refresh_orders(book)
    status = book.sheets["Orders"].values[(2, 1)]
    assert "sync failed: Lazada refused the app secret" in status, status
    assert "data as of " in status and "never" not in status
    assert "sync failed" in line
    assert book.sheets["Orders"].tables[0].box[2] > 100  # the cache's rows are still shown
    assert "wrong-secret" not in line + status


def test_no_cache_and_no_login_give_a_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k in ("XL_LAZADA_APP_KEY", "XL_LAZADA_APP_SECRET", "XL_LAZADA_BASE_URL"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("XL_LAZADA_HOME", str(tmp_path))
    monkeypatch.setenv("XL_LAZADA_CACHE", str(tmp_path / "none.sqlite3"))
    book = new_book()
    line = macros.refresh_all(book)
    assert line.startswith("error: nothing to show yet: shop not set up: no Lazada shop is set up")
    assert book.sheets["Orders"].values[(2, 1)] == line
    assert book.app.status_bar is False
    # Without Excel (and no book passed) the macro still answers with a line.
    assert macros.refresh_orders().startswith("no workbook: ")
    assert macros.check_connection(book).startswith("shop not set up: no Lazada shop")
    assert book.sheets["Settings"].values[(2, 1)].startswith("shop not set up")


def test_check_connection_names_shop_login_and_cache_age(sandbox: Any, connected: Path) -> None:
    book = new_book()
    set_setting(book, "lookback_days", _days(sandbox))
    macros.refresh_orders(book)
    line = macros.check_connection(book)
    assert line.startswith(f"shop sandbox ({sandbox.venture}, from XL_LAZADA_* variables)")
    assert "Lazada answered: " in line
    assert "cache synced 2" in line  # a date, not "never"
    assert book.sheets["Settings"].values[(2, 1)] == line
    assert book.app.status_bar is False


def _csv(tmp_path: Path, name: str, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_import_tracking_csv_variants(tmp_path: Path, connected: Path) -> None:
    cases = {
        "plain.csv": ("LXMY001\nLXMY002\nLXMY001\n", False),
        "header.csv": ("Order Number,Tracking Number\n1,LXMY001\n2,LXMY002\n", True),
        "semi.csv": ("Tracking Number;Status\nLXMY001;Delivered\nLXMY002;Shipped\n", True),
    }
    for name, (text, bom) in cases.items():
        book = new_book()
        sheet = book.sheets["Report"]
        for i in range(5):
            sheet.put(12 + i, 1, f"OLD{i}")
        line = macros.import_tracking_csv(book, path=_csv(tmp_path, name, text, bom=bom))
        assert line.startswith(f"Imported 2 tracking numbers from {name}"), line
        assert sheet.values[(12, 1)] == "LXMY001" and sheet.values[(13, 1)] == "LXMY002"
        assert all((12 + i, 1) not in sheet.values for i in range(2, 5))
        assert sheet.format_at(12, 1) == "@"
        assert sheet.values[(8, 2)] == line
    book = new_book()
    digits = _csv(tmp_path, "digits.csv", "0012345\n=HYPERLINK(1)\n")
    macros.import_tracking_csv(book, path=digits)
    sheet = book.sheets["Report"]
    assert sheet.values[(12, 1)] == "0012345"  # leading zeros kept: a text cell
    assert sheet.values[(13, 1)] == "=HYPERLINK(1)" and not sheet.formulas
    missing = macros.import_tracking_csv(book, path=tmp_path / "nope.csv")
    assert "nope.csv" in missing and sheet.values[(8, 2)] == missing


def test_build_report_from_the_report_sheet(sandbox: Any, connected: Path) -> None:
    book = new_book()
    set_setting(book, "lookback_days", _days(sandbox))
    macros.refresh_all(book)
    sheet = book.sheets["Report"]
    today = sandbox.clock.now().date()
    sheet.put(
        3,
        2,
        datetime(today.year, today.month, 1) if today.day > 1 else date(today.year, today.month, 1),
    )
    sheet.put(4, 2, datetime(today.year, today.month, today.day))
    line = macros.build_report(book)
    # the same message the headless refresh writes (one path: report_from_sheet)
    assert line.startswith("Built ") and line.endswith("see Report output"), line
    assert sheet.values[(8, 2)] == line
    out = book.sheets["Report output"]
    assert len(out.values) > 10 and not out.formulas
    before = dict(out.values)
    sheet.put(4, 2, datetime(2020, 1, 1))
    bad = macros.build_report(book)
    assert "before" in bad and sheet.values[(8, 2)] == bad
    assert out.values == before  # a refused input changes nothing but the message


def test_ribbon_and_command_line_refresh_write_the_same_data_sheets(
    sandbox: Any, connected: Path, tmp_path: Path
) -> None:
    """What the ribbon renders (macros.data_specs → live writer) equals what
    ``xl-lazada refresh`` writes into the file, on all four data sheets (the A2 status line,
    which says when and how, aside)."""
    pytest.importorskip("pyopenvba", reason="the .xlsm builder needs pyOpenVBA")
    import openpyxl

    from xl_lazada.rules.settings import RuleSettings
    from xl_lazada.workbook.build import build_workbook
    from xl_lazada.workbook.contract import WorkbookSettings
    from xl_lazada.workbook.refresh import refresh_workbook

    now = sandbox.clock.now()
    path = build_workbook(tmp_path / "Shop.xlsm")
    with Cache.open(connected) as cache:
        refresh_workbook(path, cache, now=now)
        specs = macros.data_specs(
            cache,
            macros.PARTS["all"],
            shop=None,
            rules=RuleSettings(),
            settings=WorkbookSettings(),
            as_of="",
            now=now,
        )
    book = FakeBook()
    for spec in specs:
        live_writer.render(book, spec)
    wb = openpyxl.load_workbook(path)
    for spec in specs:
        ws, sheet = wb[spec.name], book.sheets[spec.name]
        table = spec.tables[0]
        assert ws.tables[table.name].ref == (
            f"A4:{openpyxl.utils.get_column_letter(table.last_col)}{table.last_row}"
        )
        assert sheet.tables[table.name].box == (4, 1, table.last_row, table.last_col)
        for row in range(4, table.last_row + 1):
            for col in range(1, table.last_col + 1):
                cell = ws._cells.get((row, col))
                theirs = None if cell is None or cell.value == "" else cell.value
                ours = sheet.values.get((row, col))
                if isinstance(theirs, datetime) and isinstance(ours, datetime):
                    assert abs((theirs - ours).total_seconds()) < 1, (spec.name, row, col)
                elif isinstance(theirs, float | int) and not isinstance(theirs, bool):
                    assert ours == pytest.approx(theirs), (spec.name, row, col)
                else:
                    assert theirs == ours, (spec.name, row, col, theirs, ours)
        assert table.rows > 0, spec.name


def test_a_renamed_report_sheet_is_named_in_the_message(connected: Path) -> None:
    book = new_book()
    book.sheets["Report"].name = "My report"
    with pytest.raises(macros.MissingSheet, match="this workbook has no 'Report' sheet"):
        macros._sheet(book, "Report")
    line = macros.build_report(book)  # the button turns it into its status line
    assert line.startswith("this workbook has no 'Report' sheet — rename it back")


def test_a_protected_sheet_stops_the_button_before_anything_is_written(
    sandbox: Any, connected: Path
) -> None:
    """Excel refuses writes to a protected sheet: a refresh that met one part way left some
    sheets refreshed and others not, and its status line (written into that sheet) raised
    again out of the macro. The button now names the sheet before it syncs or writes, in
    the status cells it can write, else in a message box."""
    book = new_book()
    set_setting(book, "lookback_days", _days(sandbox))
    orders, tracking = book.sheets["Orders"], book.sheets["Tracking"]
    tracking.protected = True
    before = dict(orders.values)
    calls = sandbox.stats.by_api
    line = macros.refresh_all(book)
    assert line.startswith("the Tracking sheet is protected — unprotect"), line
    assert sandbox.stats.by_api == calls  # nothing fetched
    assert orders.values.pop((2, 1)) == line and before.pop((2, 1)) == "Not refreshed yet"
    assert orders.values == before  # only its status line changed
    assert book.app.alerts == []

    for name in ("Orders", "Checkpoints", "Settlements"):
        book.sheets[name].protected = True
    line = macros.refresh_all(book)
    assert line.startswith("the Orders, Tracking, Checkpoints, Settlements sheets are protected")
    assert book.app.alerts == [line]  # no status cell could take it

    for sheet in book.sheets:
        sheet.protected = False
    mine = book.sheets.add("My orders")  # the seller's own protected sheet: not ours to write
    mine.put(1, 1, "=LAZADA_STATUS(A2)")
    mine.protected = True
    line = macros.refresh_all(book)
    assert line.startswith("Refreshed Orders ") and "recalculated" not in line, line

    book.sheets["Report output"].protected = True
    line = macros.build_report(book)
    assert line.startswith("the Report output sheet is protected"), line
    assert book.sheets["Report"].values[parse_cell(contract.REPORT_MESSAGE)] == line

    book.sheets["Report output"].protected = False
    book.sheets["Report"].protected = True  # its inputs may be left editable: not refused
    line = macros.build_report(book)
    assert "protected" not in line and book.app.alerts[-1] == line  # (its message cell)
    book.sheets["Report"].protected = False

    book.sheets["Settings"].protected = True  # a button's own answer, not only its errors
    line = macros.check_connection(book)
    assert "Lazada answered" in line and book.app.alerts[-1] == line
