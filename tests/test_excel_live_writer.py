"""The live writer renders the workbook contract's SheetSpecs onto an Excel sheet (a fake
book standing in for xlwings here): values, text that stays text, formats, the Excel Table,
and only its own region replaced on a refresh."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from fake_excel import FakeBook

from xl_lazada.cache import Cache
from xl_lazada.excel import live_writer
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.sync import SyncOptions, sync_shop
from xl_lazada.tables import TABLES, orders_table
from xl_lazada.tables.columns import empty_frame
from xl_lazada.workbook import contract
from xl_lazada.workbook.sheets import data_sheetspec, report_input_sheetspec
from xl_lazada.workbook.sheetspec import Block, Formula, SheetSpec


@pytest.fixture(scope="module")
def orders(sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[pd.DataFrame]:
    path = Path(tmp_path_factory.mktemp("live")) / "cache.sqlite3"
    days = int(sandbox.shop.params["days"]) + 5
    with (
        LazadaClient(sandbox.connection(), default_qps=1000) as client,
        Cache.open(path) as cache,
    ):
        sync_shop(client, cache, "sandbox", options=SyncOptions(lookback_days=days))
        yield orders_table(cache, now=sandbox.clock.now())


def _headers() -> list[str]:
    return contract.DATA_SHEETS["orders"].headers


def test_orders_sheet_values_formats_and_table(orders: pd.DataFrame) -> None:
    book = FakeBook(("Orders",))
    spec = data_sheetspec("orders", orders, status_text="Refreshed now — test")
    result = live_writer.render(book, spec)
    sheet = book.sheets["Orders"]
    n = len(orders)
    assert n > 100
    assert sheet.values[(1, 1)] == "Lazada orders"
    assert sheet.grid(4, 1, 4, len(_headers()))[0] == _headers()
    # Ids are text in text-formatted cells, exactly the cache's digits.
    id_col = _headers().index("Order id") + 1
    number_col = _headers().index("Order number") + 1
    for i in range(n):
        assert sheet.values[(5 + i, id_col)] == orders["Order id"].iloc[i]
        assert sheet.format_at(5 + i, number_col) == "@"
    # Datetimes naive, money floats, with the contract's formats.
    created = _headers().index("Created") + 1
    assert isinstance(sheet.values[(5, created)], datetime)
    assert sheet.values[(5, created)].tzinfo is None
    assert sheet.format_at(5, created) == contract.DATETIME_FORMAT
    total = _headers().index("Total") + 1
    assert sheet.format_at(6, total) == contract.MONEY_FORMAT
    table = sheet.tables["LazadaOrders"]
    assert table.box == (4, 1, 4 + n, len(_headers()))
    assert result.table_rows == {"LazadaOrders": n}
    assert sheet.frozen == "1:4"
    # One write per block, not per cell.
    assert book.app.value_writes == len(spec.blocks)
    # Status colours became conditional formats on the status column.
    status_col = contract.DATA_SHEETS["orders"].headers.index("Status") + 1
    assert any(c["box"][1] == status_col and "Delayed" in c["formula"] for c in sheet.conditional)


def test_lazada_text_never_becomes_a_formula() -> None:
    frame = empty_frame(TABLES["orders"])
    row = {c: None for c in frame.columns}
    nasty = {
        "Buyer": '=HYPERLINK("http://evil","x")',
        "Remarks": "+CMD|' /C calc'!A0",
        "Products": "-1+1",
        "Payment method": "@SUM(1)",
        "Order number": "0012345",
        "Order id": "'quoted",
    }
    row.update(nasty)
    frame = pd.concat([frame, pd.DataFrame([row])], ignore_index=True)
    book = FakeBook(("Orders",))
    live_writer.render(book, data_sheetspec("orders", frame))
    sheet = book.sheets["Orders"]
    assert not sheet.formulas
    for name, text in nasty.items():
        col = _headers().index(name) + 1
        assert sheet.values[(5, col)] == text, name


def test_refresh_keeps_the_sellers_columns_and_clears_old_rows(orders: pd.DataFrame) -> None:
    book = FakeBook(("Orders",))
    live_writer.render(book, data_sheetspec("orders", orders))
    sheet = book.sheets["Orders"]
    width = len(_headers())
    n = len(orders)
    # The seller's notes right of the table, a note below the title, and a cell far below.
    seller_col = width + 2
    for i in range(n):
        sheet.put(5 + i, seller_col, f"note {i}")
    sheet.put(3, 1, "my own note")
    shorter = orders.iloc[: n // 2].reset_index(drop=True)
    live_writer.render(book, data_sheetspec("orders", shorter, status_text="second"))
    m = len(shorter)
    assert sheet.values[(2, 1)] == "second"
    assert sheet.values[(3, 1)] == "my own note"
    assert all(sheet.values[(5 + i, seller_col)] == f"note {i}" for i in range(n))
    # Rows the old table had and the new one has not are empty in our columns.
    assert all(
        sheet.values.get((5 + i, c)) is None for i in range(m, n) for c in range(1, width + 1)
    )
    assert sheet.tables["LazadaOrders"].box == (4, 1, 4 + m, width)
    assert len(sheet.tables) == 1


def test_sellers_extra_table_column_stays_in_the_table(orders: pd.DataFrame) -> None:
    book = FakeBook(("Orders",))
    live_writer.render(book, data_sheetspec("orders", orders.iloc[:10]))
    sheet = book.sheets["Orders"]
    width = len(_headers())
    table = sheet.tables["LazadaOrders"]
    table.resize(sheet.range((4, 1), (14, width + 1)))  # Excel grows a table typed next to
    sheet.put(4, width + 1, "My margin")
    live_writer.render(book, data_sheetspec("orders", orders.iloc[:20]))
    assert table.box == (4, 1, 24, width + 1)
    assert sheet.values[(4, width + 1)] == "My margin"


def test_empty_table_keeps_one_body_row_and_headers() -> None:
    book = FakeBook(("Orders",))
    live_writer.render(book, data_sheetspec("orders", None))
    sheet = book.sheets["Orders"]
    assert sheet.tables["LazadaOrders"].box == (4, 1, 5, len(_headers()))
    assert sheet.values[(2, 1)] == "Not refreshed yet"


def test_owned_sheet_is_replaced_and_formulas_only_from_formula_objects() -> None:
    book = FakeBook()
    spec = SheetSpec(name="Report output")
    spec.blocks.append(Block(1, 1, [["Total", Formula("=SUM(B2:B3)"), "=not a formula"]]))
    live_writer.render(book, spec)
    sheet = book.sheets["Report output"]
    assert sheet.formulas == {(1, 2): "=SUM(B2:B3)"}
    assert sheet.values[(1, 3)] == "=not a formula"
    spec2 = SheetSpec(name="Report output")
    spec2.cell(1, 1, "again")
    live_writer.render(book, spec2)
    assert sheet.values == {(1, 1): "again"} and not sheet.formulas


def test_report_sheet_column_formats_make_pasted_ids_text() -> None:
    book = FakeBook(("Report",))
    live_writer.render(book, report_input_sheetspec())
    sheet = book.sheets["Report"]
    assert sheet.format_at(5000, 1) == "@"
    sheet.put(12, 1, "317964514998308")
    assert sheet.values[(12, 1)] == "317964514998308"
    assert sheet.values[(11, 1)] == contract.REPORT_REFS_HEADER_TEXT


def test_cell_value_conversions() -> None:
    cv = live_writer.cell_value
    assert cv(float("nan")) is None
    assert cv(pd.NaT) is None
    assert cv(pd.NA) is None
    ts = pd.Timestamp("2026-12-01 10:00")
    assert cv(ts) == datetime(2026, 12, 1, 10, 0)
    assert cv(pd.Timestamp("2026-12-01 10:00", tz=UTC)).tzinfo is None
    import numpy as np

    assert cv(np.int64(3)) == 3 and type(cv(np.int64(3))) is int
    assert cv(np.bool_(True)) is True
    assert cv("x" * 40000).endswith("…") and len(cv("x" * 40000)) == 32767
