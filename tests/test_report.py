"""The tracking report against a cache synced from the sandbox over real HTTP.

Every row and number of the report is checked against the sheet tables built from the same
cache (the facts the Orders, Tracking and Settlements sheets show).
"""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import subprocess
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from synced_shop import SyncedShop as Synced

from xl_lazada.cache import Cache
from xl_lazada.cli import cli
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.refs import ROUNDED_MESSAGE
from xl_lazada.report import (
    ReportInputError,
    build_report,
    parse_report_inputs,
    read_tracking_csv,
)
from xl_lazada.report.build import COLUMN_NAMES, Report, money_text
from xl_lazada.report.csv import write_csv
from xl_lazada.report.sheet import report_sheetspec
from xl_lazada.report.xlsx import TABLE_NAME, write_xlsx
from xl_lazada.rules.milestones import table_for
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.sync import SyncOptions, sync_shop
from xl_lazada.tables import all_tables
from xl_lazada.tables.shops import parse_tz

SHOP = "rep"
SYNCED_ORDERS = 1200  # the shop the `synced` fixture (conftest.py) syncs


def _tables(s: Synced, **kw: Any) -> dict[str, pd.DataFrame]:
    return all_tables(s.cache, now=s.now, **kw)


def _same(a: Any, b: Any) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    if pd.isna(a) or pd.isna(b):
        return False
    if isinstance(a, float) or isinstance(b, float):
        return abs(float(a) - float(b)) < 1e-9
    return a == b


def _true(value: Any) -> bool:
    return False if pd.isna(value) else bool(value)


def _check_rows_match_tables(
    report: Report, tables: dict[str, pd.DataFrame], now: datetime | None = None
) -> int:
    """Each report row is its parcel's Tracking row joined to its order's Orders and
    Settlements rows; orders without a parcel have one row; nothing else is there. Returns
    how many parcels carry their own delivered scan."""
    own_scans = moving = 0
    orders = tables["orders"].set_index(["Shop", "Order id"])
    tracking = tables["tracking"].set_index(["Shop", "Order id", "Package id"])
    settlements = tables["settlements"].set_index(["Shop", "Order id"])
    table = report.table
    assert list(table.columns) == list(COLUMN_NAMES)

    with_pkg = table[table["Package id"].notna()]
    assert sorted(
        zip(with_pkg["Shop"], with_pkg["Order id"], with_pkg["Package id"], strict=True)
    ) == sorted(tracking.index)
    without = table[table["Package id"].isna()]
    orders_with_pkg = {(s, o) for s, o, _ in tracking.index}
    assert sorted(zip(without["Shop"], without["Order id"], strict=True)) == sorted(
        k for k in orders.index if k not in orders_with_pkg
    )
    for _, row in table.iterrows():
        o = orders.loc[(row["Shop"], row["Order id"])]
        st = settlements.loc[(row["Shop"], row["Order id"])]
        for col in ("Order number", "Status", "Created", "RTS deadline", "Currency"):
            assert _same(row[col], o[col]), (col, row["Order id"])
        assert _same(row["Settlement net"], st["Net"])
        assert row["Paid"] == st["State"]
        flags = set((row["Flags"] or "").split(", ")) - {""} if not pd.isna(row["Flags"]) else set()
        assert ("Delayed" in flags) == (o["Status"] == "Delayed")
        assert ("At risk" in flags) == _true(o["At risk"])
        assert ("Unsettled" in flags) == _true(st["Unsettled"])
        if pd.isna(row["Package id"]):
            assert _same(row["Ready to ship at"], o["Ready to ship at"])
            assert _same(row["Delivered"], o["Delivered"])
            continue
        t = tracking.loc[(row["Shop"], row["Order id"], row["Package id"])]
        for col in (
            "Tracking number",
            "Ready to ship at",
            "Sorting centre",
            "Sorting centre arrival",
            "Last checkpoint",
            "Last checkpoint time",
        ):
            assert _same(row[col], t[col]), (col, row["Package id"])
        assert ("Stuck" in flags) == _true(t["Stuck"])
        assert ("SC overdue" in flags) == (t["Sorting centre"] == "Not arrived (overdue)")
        if (
            table_for(None).milestone(t["Last status code"], "", t["Last checkpoint"])
            == "delivered"
        ):
            assert row["Delivered"] == t["Last checkpoint time"]  # the parcel's own scan
            own_scans += 1
        elif not pd.isna(row["Delivered"]):
            assert row["Delivered"] == o["Delivered"]  # delivered, then returned: the order's
        if not pd.isna(row["Delivered"]):
            expected = (row["Delivered"] - row["Ready to ship at"]).total_seconds() / 86400
            assert row["Days in transit"] == pytest.approx(round(expected, 1))
        elif now is not None and not _true(t["Final"]) and not pd.isna(row["Ready to ship at"]):
            tz = parse_tz(tables["tracking"].attrs["timezones"][row["Shop"]])
            shop_now = now.astimezone(tz).replace(tzinfo=None)  # that shop's clock
            expected = (shop_now - row["Ready to ship at"]).total_seconds() / 86400
            assert row["Days in transit"] == pytest.approx(round(expected, 1))
            moving += 1
    assert now is None or moving > 0
    return own_scans


def _period(s: Synced, days: int = 30) -> tuple[date, date]:
    return s.today - timedelta(days=days - 1), s.today


# ----------------------------------------------------------------------------- inputs


@pytest.mark.parametrize(
    "value, expected",
    [
        (datetime(2026, 11, 3, 14, 5), date(2026, 11, 3)),
        (date(2026, 11, 3), date(2026, 11, 3)),
        (46329.0, date(2026, 11, 3)),  # Excel serial
        (46329, date(2026, 11, 3)),
        ("46329", date(2026, 11, 3)),
        ("2026-11-03", date(2026, 11, 3)),
        ("2026-11-03T08:00:00", date(2026, 11, 3)),
        ("2026/11/3", date(2026, 11, 3)),
        ("23/11/2026", date(2026, 11, 23)),
        ("11/23/2026", date(2026, 11, 23)),
        ("13.11.2026", date(2026, 11, 13)),
        ("5/5/2026", date(2026, 5, 5)),
        ("3 Nov 2026", date(2026, 11, 3)),
        (" 2026-11-03 ", date(2026, 11, 3)),
    ],
)
def test_dates_in_every_shape_excel_hands_over(value: Any, expected: date) -> None:
    inputs = parse_report_inputs(value, expected, None, None, None)
    assert inputs.date_from == expected


@pytest.mark.parametrize(
    "lo, hi, words",
    [
        ("2026-11-01", "2026-12-01", "31 days"),
        ("2026-11-10", "2026-11-01", "before"),
        ("03/11/2026", "2026-11-20", "day/month or month/day"),
        ("soon", "2026-11-20", "is not a date"),
        ("2026-02-30", "2026-03-02", "is not a date"),
        (True, "2026-11-20", "not a date"),
        ("2026-11-01", None, "Date to is empty"),
        (None, None, "give a date range"),
    ],
)
def test_bad_dates_are_one_clear_line(lo: Any, hi: Any, words: str) -> None:
    with pytest.raises(ReportInputError) as exc:
        parse_report_inputs(lo, hi, None, None, None)
    assert words in str(exc.value)
    assert "\n" not in str(exc.value)


def test_thirty_days_is_the_limit() -> None:
    ok = parse_report_inputs("2026-11-01", "2026-11-30", None, None, None)
    assert (ok.date_to - ok.date_from).days + 1 == 30


def test_status_filter_uses_seller_center_words() -> None:
    assert (
        parse_report_inputs("2026-11-01", "2026-11-02", "delayed", None, None).status == "Delayed"
    )
    assert (
        parse_report_inputs("2026-11-01", "2026-11-02", "READY_TO_SHIP", None, None).status
        == "Ready to ship"
    )
    assert parse_report_inputs("2026-11-01", "2026-11-02", " ", None, None).status is None
    with pytest.raises(ReportInputError, match="use one of: Unpaid, Pending, Delayed"):
        parse_report_inputs("2026-11-01", "2026-11-02", "lost in space", None, None)


def test_pasted_refs_are_cleaned_once() -> None:
    inputs = parse_report_inputs(
        None,
        None,
        None,
        " shop1 ",
        [["LXMY1 ", None], ["", "LXMY1"], [317964515215730.0], ["  FP 1 "], [3.2e16], [1.5]]
        + [["3.17964514998308E+14", "3.1796451499831E+14"]],
    )
    assert inputs.shop == "shop1"
    assert inputs.refs == ("LXMY1", "317964515215730", "FP1", "317964514998308")
    assert [r.reason.split(" ")[0] for r in inputs.rejected] == ["rounded", "not", "rounded"]


def test_tracking_csv_as_seller_center_and_excel_write_it(tmp_path: Path) -> None:
    sc = tmp_path / "sc.csv"
    sc.write_bytes(
        "\ufeffOrder Number,Tracking Number,Status\r\n1,LX1,Delivered\r\n2, LX2 ,Shipped\r\n\r\n".encode()
    )
    assert read_tracking_csv(sc) == ["LX1", "LX2"]
    semi = tmp_path / "semi.csv"
    semi.write_text("Package ID;Tracking No.\nFP1;LX3\n", encoding="cp1252")
    assert read_tracking_csv(semi) == ["LX3"]
    hinted = tmp_path / "hinted.csv"
    hinted.write_text("sep=;\nTracking Number;Note\nLX6;a, b\n")
    assert read_tracking_csv(hinted) == ["LX6"]
    bare = tmp_path / "bare.csv"
    bare.write_text("LX4\nLX5,ignored\n317964515215730\n")
    assert read_tracking_csv(bare) == ["LX4", "LX5", "317964515215730"]
    for name, text, words in (
        ("empty.csv", "", "empty"),
        ("nocol.csv", "Buyer,Address\nA,B\n", "no 'Tracking Number' column"),
        ("headeronly.csv", "Tracking Number\n", "no tracking numbers"),
    ):
        f = tmp_path / name
        f.write_text(text)
        with pytest.raises(ReportInputError, match=words):
            read_tracking_csv(f)
    with pytest.raises(ReportInputError, match="cannot read"):
        read_tracking_csv(tmp_path / "missing.csv")


# ----------------------------------------------------------------------------- content


def test_amounts_in_the_summary_text_have_the_currencys_decimals() -> None:
    assert money_text(1234.5, "MYR") == "1,234.50"  # (was "1,234.5")
    assert money_text(0.0, "VND") == "0"  # (was "0.0")
    assert money_text(613050.0, "IDR") == "613,050"
    assert money_text(-54000.0, "VND") == "-54,000"


def test_thirty_day_report_matches_the_tables_row_for_row(synced: Synced) -> None:
    lo, hi = _period(synced)
    report = build_report(
        synced.cache, parse_report_inputs(lo, hi, None, None, None), now=synced.now
    )
    tables = _tables(synced, date_from=lo, date_to=hi)
    assert len(report.table) > 300
    assert _check_rows_match_tables(report, tables, synced.now) > 100  # delivered scans seen

    orders = tables["orders"]
    counts = orders["Status"].value_counts()
    assert {s: n for s, n, _ in report.status_counts} == counts.to_dict()
    metrics = {m.label: m for m in report.metrics}
    done = orders[orders["Ready to ship at"].notna()]
    on_time = (~done["RTS late"].fillna(False).astype(bool)).sum()
    assert metrics["Ready to ship on time"].value == pytest.approx(on_time / len(done))
    st = tables["settlements"]
    settled = st[st["Lines"] > 0]
    assert metrics["Settled (net)"].value == pytest.approx(round(settled["Net"].sum(), 2))
    paid = f"{money_text(settled['Paid amount'].sum(), 'MYR')} paid out"
    assert metrics["Settled (net)"].detail.endswith(f"orders with finance lines; {paid}")
    assert metrics["Penalties"].value == pytest.approx(round(st["Penalties"].sum(), 2))
    waiting = orders[orders["Delivered"].notna() & (orders["Settlement state"] == "Not settled")]
    assert metrics["Delivered, not settled yet"].value == pytest.approx(
        round(waiting["Total"].sum(), 2)
    )

    groups = {g.key: g for g in report.attention}
    assert len(groups["delayed"].items) == int((orders["Status"] == "Delayed").sum())
    assert len(groups["at_risk"].items) == int(orders["At risk"].fillna(False).sum())
    assert len(groups["stuck"].items) == int(tables["tracking"]["Stuck"].fillna(False).sum())
    assert len(groups["unsettled"].items) == int(orders["Unsettled"].fillna(False).sum())
    assert len(groups["sorting"].items) == int(
        (tables["tracking"]["Sorting centre"] == "Not arrived (overdue)").sum()
    )
    assert all(g.action for g in report.attention)
    assert sum(len(g.items) for g in report.attention) > 0  # the sandbox shop has problems

    # The per-day series covers each day of the period and counts the table's own times.
    assert len(report.daily) == 30
    parcels = report.table[report.table["Package id"].notna()]
    delivered_in = parcels["Delivered"].dropna()
    delivered_in = delivered_in[delivered_in.dt.date.between(lo, hi)]
    assert int(report.daily["Delivered"].sum()) == len(delivered_in)
    header = report.shops[0]
    assert header.seller_id and header.venture and header.last_sync is not None


def test_csv_of_a_thousand_tracking_numbers(synced: Synced, tmp_path: Path) -> None:
    tracking = _tables(synced)["tracking"]
    numbers = tracking["Tracking number"].dropna().drop_duplicates().tolist()[:1000]
    assert len(numbers) == 1000
    bogus = ["LXMY00000000000", "NOT-A-PARCEL"]
    lines = ["Order Number,Tracking Number,Status"]
    lines += [f"x,{n},Shipped" for n in numbers[:600]]
    lines += [f"x, {n} ,Shipped" for n in numbers[600:900]]  # stray spaces
    lines += [f"x,{n.lower()},Shipped" for n in numbers[900:]]  # typed in lower case
    lines += [f"x,{numbers[0]},Shipped", f"x,{bogus[0]},?", f"x,{bogus[1]},?"]  # duplicate
    path = tmp_path / "tracking.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())

    refs = read_tracking_csv(path)
    report = build_report(
        synced.cache, parse_report_inputs(None, None, None, None, refs), now=synced.now
    )
    expected = _tables(synced, refs=numbers)
    _check_rows_match_tables(report, expected)
    assert set(report.table["Tracking number"].dropna()) == set(numbers)
    assert [n.ref for n in report.not_found] == bogus
    assert all("not found" in n.reason for n in report.not_found)


def test_range_and_list_intersect(synced: Synced) -> None:
    lo, hi = _period(synced, 10)
    inside = _tables(synced, date_from=lo, date_to=hi)["tracking"]["Tracking number"].dropna()
    everything = _tables(synced)["tracking"]
    outside = everything[~everything["Tracking number"].isin(set(inside))]["Tracking number"]
    refs = list(inside[:5]) + list(outside.dropna()[:3])
    report = build_report(
        synced.cache, parse_report_inputs(lo, hi, None, None, refs), now=synced.now
    )
    assert set(report.table["Tracking number"].dropna()) == set(inside[:5])
    assert [n.ref for n in report.not_found] == list(outside.dropna()[:3])
    assert all(n.reason == "outside the selected period" for n in report.not_found)


def test_status_filter_and_unknown_shop(synced: Synced) -> None:
    lo, hi = _period(synced)
    report = build_report(
        synced.cache, parse_report_inputs(lo, hi, "delivered", SHOP, None), now=synced.now
    )
    assert len(report.table) and set(report.table["Status"]) == {"Delivered"}
    tables = _tables(synced, date_from=lo, date_to=hi)
    delivered = tables["orders"][tables["orders"]["Status"] == "Delivered"]
    assert report.table["Order id"].nunique() == len(delivered)
    with pytest.raises(ReportInputError, match="unknown shop 'nope'.*rep"):
        build_report(synced.cache, parse_report_inputs(lo, hi, None, "nope", None), now=synced.now)


# ----------------------------------------------------------------------------- files


@pytest.fixture(scope="module")
def month(synced: Synced) -> Report:
    lo, hi = _period(synced)
    return build_report(synced.cache, parse_report_inputs(lo, hi, None, None, None), now=synced.now)


def test_xlsx_has_table_formats_charts_and_print_setup(month: Report, tmp_path: Path) -> None:
    # Text Lazada sent that looks like a formula must stay text.
    table = month.table.copy()
    table.loc[0, "Last checkpoint"] = '=HYPERLINK("http://x","y")'
    report = dataclasses.replace(month, table=table)
    path = tmp_path / "r.xlsx"
    write_xlsx(report, path)

    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert sum(n.startswith("xl/charts/chart") for n in names) == 2
        charts = [z.read(f"xl/charts/chart{i}.xml").decode() for i in (1, 2)]
        table_xml = z.read("xl/tables/table1.xml").decode()
        assert f'name="{TABLE_NAME}"' in table_xml and "<autoFilter" in table_xml
        sheets = {n: z.read(n).decode() for n in names if n.startswith("xl/worksheets/sheet")}
        workbook = z.read("xl/workbook.xml").decode()
    parcels = sheets["xl/worksheets/sheet2.xml"]
    assert parcels.count("<cfRule") == 3 and 'SEARCH("Delayed"' in parcels
    assert 'orientation="landscape"' in parcels and 'fitToHeight="0"' in parcels
    assert "_xlnm.Print_Titles" in workbook and "Parcels!$4:$4" in workbook
    assert all('orientation="landscape"' in x for x in sheets.values())
    # The charts draw the status counts on the Report sheet and every day of the period.
    n_status, n_days = len(report.status_counts), len(report.daily)
    assert "<c:barChart>" in charts[0] and "Report!$C$" in charts[0]
    assert f"Daily!$A$2:$A${n_days + 1}" in charts[1] and "<c:lineChart>" in charts[1]

    wb = openpyxl.load_workbook(path)
    rep = wb["Report"]
    heads = [(rep.cell(r, 1).value, rep.cell(r, 2).value) for r in range(1, rep.max_row + 1)]
    first = heads.index(("Status", "Orders")) + 2  # the row under the status table's header
    assert rep.cell(first, 1).value == report.status_counts[0][0]
    assert f"Report!$C${first}:$C${first + n_status - 1}" in charts[0]
    ws = wb["Parcels"]
    assert ws.freeze_panes == "C5"
    t = ws.tables[TABLE_NAME]
    header = [c.value for c in ws[4]][: len(report.visible_columns())]
    assert header[:4] == ["Order number", "Tracking number", "Package id", "Status"]
    assert t.ref == f"A4:{ws.cell(4, len(header)).column_letter}{4 + len(report.table)}"
    col = header.index("Last checkpoint") + 1
    cell = ws.cell(5, col)
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x","y")'
    ids = ws.cell(5, 1)
    assert ids.data_type == "s" and ids.value == report.table.loc[0, "Order number"]
    created = ws.cell(5, header.index("Created") + 1)
    assert created.number_format == "yyyy-mm-dd hh:mm"
    assert created.value == report.table.loc[0, "Created"].to_pydatetime()
    for r, (money, days) in enumerate(
        zip(report.table["Settlement net"], report.table["Days in transit"], strict=True), start=5
    ):  # numbers are numbers, blanks stay blank
        got = ws.cell(r, header.index(f"Settlement net ({report.currencies[0]})") + 1).value
        assert (got is None) if pd.isna(money) else got == money
        got = ws.cell(r, header.index("Days in transit") + 1).value
        assert (got is None) if pd.isna(days) else got == days
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
    # The summary sheet opens first and starts with the attention list.
    summary = wb["Report"]
    texts = [summary.cell(r, 1).value for r in range(1, summary.max_row + 1)]
    assert texts.index("Needs attention") < texts.index("Summary")


def test_csv_writes_every_row_and_never_a_formula(month: Report, tmp_path: Path) -> None:
    table = month.table.copy()
    table.loc[0, "Last checkpoint"] = "=1+1"
    path = tmp_path / "r.csv"
    write_csv(dataclasses.replace(month, table=table), path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str)
    assert list(back.columns) == list(COLUMN_NAMES)
    assert len(back) == len(month.table)
    assert back.loc[0, "Last checkpoint"] == "'=1+1"
    assert back["Order id"].tolist() == month.table["Order id"].tolist()
    # A time the parcel does not have yet is an empty cell, as in the workbook.
    times = [c for c in COLUMN_NAMES if pd.api.types.is_datetime64_any_dtype(month.table[c])]
    blank = month.table[times].isna()
    assert blank.to_numpy().any() and b"NaT" not in raw
    assert (back[times].isna() == blank).all().all()


def test_report_output_sheetspec(month: Report) -> None:
    spec = report_sheetspec(month)
    assert spec.name == "Report output"
    (table,) = spec.tables
    assert table.rows == len(month.table)
    assert list(table.columns) == [c.name for c in month.visible_columns()]
    frames = [b for b in spec.blocks if b.is_frame]
    assert len(frames) == 1 and frames[0].row == table.header_row
    assert spec.print_setup and spec.print_setup.repeat_rows == (table.header_row,) * 2
    assert {c.style for c in spec.conditional_formats} == {"overdue", "at_risk", "delivered"}
    texts = [b.values[0][0] for b in spec.blocks if not b.is_frame and b.col == 1]
    assert "Needs attention" in texts and "Summary" in texts


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_pdf_renders_a_readable_page(month: Report, tmp_path: Path) -> None:
    from xl_lazada.report.pdf import write_pdf

    pdf = tmp_path / "r.pdf"
    write_pdf(month, pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed: cannot read the PDF's text")
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Needs attention" in first and month.shops[0].seller_id in first
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert str(month.table["Tracking number"].dropna().iloc[-1]) in text
    assert "Days in" in text and "Flags" in text  # the last columns fit the page width


# ----------------------------------------------------------------------------- command line


def test_cli_writes_the_report_and_refuses_31_days(synced: Synced, tmp_path: Path) -> None:
    lo, hi = _period(synced)
    out, csv = tmp_path / "r.xlsx", tmp_path / "r.csv"
    common = ["report", "--cache", str(synced.path), "--at", synced.now.isoformat()]
    res = CliRunner().invoke(
        cli,
        common
        + ["--from", lo.isoformat(), "--to", hi.isoformat(), "--out", str(out), "--csv", str(csv)],
    )
    assert res.exit_code == 0, res.output
    assert "need attention" in res.output and out.exists() and csv.exists()
    before = out.read_bytes()

    from xl_lazada.cli import main

    lo31 = hi - timedelta(days=30)
    code = main(common + ["--from", lo31.isoformat(), "--to", hi.isoformat(), "--out", str(out)])
    assert code == 1
    assert out.read_bytes() == before  # nothing changed
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".report-")]


def test_cli_numbers_the_report_cannot_show_are_listed_with_their_reason(
    synced: Synced, tmp_path: Path
) -> None:
    """A placeholder, a number Excel rounded and an unknown number are 'not in this
    report', each with its own reason (not all 'not found')."""
    out = tmp_path / "r.xlsx"
    args = ["report", "--cache", str(synced.path), "--at", synced.now.isoformat()]
    for ref in ("-", "3.14E+20", "NOPE-1"):
        args += ["--tracking", ref]
    res = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "3 of 3 numbers not in this report" in res.output
    rows = [
        [v for v in row if v is not None]
        for row in openpyxl.load_workbook(out)["Report"].iter_rows(values_only=True)
    ]
    assert ["Not in this report: 3"] in rows
    assert ["-", "no letters or digits: not an order or tracking number"] in rows
    assert ["3.14E+20", ROUNDED_MESSAGE] in rows
    assert ["NOPE-1", "not found in the synced orders"] in rows


def test_report_files_get_the_permissions_a_normal_save_gives(
    synced: Synced, tmp_path: Path
) -> None:
    """A new report is readable by whoever the seller shares the folder with (0666 less the
    umask, not a temp file's private 0600); a report written over an old one keeps the old
    one's permissions."""
    lo, hi = _period(synced)
    common = ["report", "--cache", str(synced.path), "--at", synced.now.isoformat()]
    span = ["--from", lo.isoformat(), "--to", hi.isoformat()]
    out, csv = tmp_path / "shared.xlsx", tmp_path / "shared.csv"
    old = os.umask(0o022)
    try:
        res = CliRunner().invoke(cli, [*common, *span, "--out", str(out), "--csv", str(csv)])
        assert res.exit_code == 0, res.output
        assert (out.stat().st_mode & 0o777, csv.stat().st_mode & 0o777) == (0o644, 0o644)
        out.chmod(0o640)
        res = CliRunner().invoke(cli, [*common, *span, "--out", str(out)])
        assert res.exit_code == 0, res.output
        assert out.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def test_cli_error_is_one_line(
    synced: Synced, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from xl_lazada.cli import main

    code = main(
        [
            "report",
            "--cache",
            str(synced.path),
            "--from",
            "2026-11-30",
            "--to",
            "2026-11-01",
            "--out",
            str(tmp_path / "x.xlsx"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "before Date from" in err
    assert not (tmp_path / "x.xlsx").exists()


def test_report_output_through_the_workbook_writer(synced: Synced, tmp_path: Path) -> None:
    """The Report sheet's raw values → the Report output sheet of a real workbook file."""
    pytest.importorskip("pyopenvba", reason="building a workbook needs pyopenvba")
    from xl_lazada.report import report_from_sheet
    from xl_lazada.workbook.build import build_workbook
    from xl_lazada.workbook.refresh import refresh_workbook

    lo, hi = _period(synced, 7)
    values = {
        "date_from": datetime.combine(lo, datetime.min.time()),  # what the reader hands over
        "date_to": datetime.combine(hi, datetime.min.time()),
        "status": None,
        "shop": None,
        "refs": [],
    }
    report, spec, message = report_from_sheet(synced.cache, values, now=synced.now)
    assert message.startswith("Built ") and "need attention" in message
    book = build_workbook(tmp_path / "Shop.xlsm")
    refresh_workbook(book, synced.cache, now=synced.now, extra_specs=[spec])

    wb = openpyxl.load_workbook(book)
    ws = wb["Report output"]
    assert ws["A1"].value == report.title
    table = ws.tables["LazadaReport"]
    first, last = table.ref.split(":")
    header_row = int(first[1:])
    headers = [ws.cell(header_row, c).value for c in range(1, len(report.visible_columns()) + 1)]
    assert headers == [c.name for c in report.visible_columns()]
    numbers = [
        ws.cell(r, 2).value for r in range(header_row + 1, header_row + 1 + len(report.table))
    ]
    assert numbers == [None if pd.isna(v) else v for v in report.table["Tracking number"]]
    assert ws.cell(header_row + 1, 1).data_type == "s"  # order numbers stay text
    rules = [r for cf in ws.conditional_formatting for r in cf.rules]
    assert len(rules) == 3 and all(r.type == "expression" for r in rules)
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage

    with pytest.raises(ReportInputError, match="at most 30 days"):
        report_from_sheet(synced.cache, {**values, "date_from": lo - timedelta(days=40)})


def test_two_shops_in_one_cache(synced: Synced, tmp_path: Path) -> None:
    """A second shop synced into the same cache: the report covers both, names both, shows
    the Shop column, and a shop filter keeps to one."""
    path = tmp_path / "two.sqlite3"
    with Cache.open(path) as copy:  # a copy of the synced cache, plus a small second shop
        synced.cache.connection.backup(copy.connection)
    with SandboxServer(orders=80, seed=3, venture="TH", clock_speed=0.0, qps=100000) as sb:
        with LazadaClient(sb.connection(sb.issue_token()), default_qps=100000) as client:
            summary = sync_shop(
                client, Cache.open(path), "second", options=SyncOptions(lookback_days=60)
            )
        assert not summary.failed
    lo, hi = _period(synced)
    with Cache.open(path) as cache:
        both = build_report(cache, parse_report_inputs(lo, hi, None, None, None), now=synced.now)
        one = build_report(cache, parse_report_inputs(lo, hi, None, SHOP, None), now=synced.now)
        tables = all_tables(cache, date_from=lo, date_to=hi, now=synced.now)
    assert {s.name for s in both.shops} == {SHOP, "second"}
    assert set(both.table["Shop"]) == {SHOP, "second"}
    assert "Shop" in [c.name for c in both.visible_columns()]
    assert set(both.currencies) == {"MYR", "THB"}
    assert {m.currency for m in both.metrics if m.kind == "money"} == {"MYR", "THB"}
    assert both.timezone == "each shop's local time (UTC+07:00, UTC+08:00)"
    _check_rows_match_tables(both, tables, synced.now)
    assert [s.name for s in one.shops] == [SHOP] and set(one.table["Shop"]) == {SHOP}
    assert "Shop" not in [c.name for c in one.visible_columns()]


def test_cli_out_and_pdf_write_the_workbook_once(
    synced: Synced, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --out and --pdf the PDF is made from the workbook just written to --out."""
    from xl_lazada.cli import main
    from xl_lazada.report import pdf, xlsx

    if pdf.find_soffice() is None:
        pytest.skip("LibreOffice (soffice) not installed")
    written: list[Path] = []
    converted: list[Path] = []
    real_write, real_convert = xlsx.write_xlsx, pdf.xlsx_to_pdf

    def write(report: Report, path: Any) -> None:
        written.append(Path(path))
        real_write(report, path)

    def convert(book: Any, target: Any) -> None:
        converted.append(Path(book))
        real_convert(book, target)

    for module in (xlsx, pdf):
        monkeypatch.setattr(module, "write_xlsx", write)
    monkeypatch.setattr(pdf, "xlsx_to_pdf", convert)
    lo, hi = _period(synced, 3)
    out, made = tmp_path / "r.xlsx", tmp_path / "r.pdf"
    args = ["report", "--cache", str(synced.path), "--from", lo.isoformat(), "--to", hi.isoformat()]
    assert main(args + ["--out", str(out), "--pdf", str(made)]) == 0
    assert written == [out] and converted == [out]
    assert made.read_bytes().startswith(b"%PDF") and out.exists()
    written.clear()
    converted.clear()
    assert main(args + ["--pdf", str(made)]) == 0  # no --out: a temporary workbook
    assert len(written) == 1 and written[0] != out and converted == written


def test_cli_pdf_without_libreoffice_and_bad_outputs(
    synced: Synced,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from xl_lazada.cli import main
    from xl_lazada.report import pdf

    lo, hi = _period(synced, 3)
    common = [
        "report",
        "--cache",
        str(synced.path),
        "--from",
        lo.isoformat(),
        "--to",
        hi.isoformat(),
    ]
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    out = tmp_path / "r.xlsx"
    assert main(common + ["--out", str(out), "--pdf", str(tmp_path / "r.pdf")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "LibreOffice" in err
    assert not out.exists()  # refused before any work
    for args, words in (
        (["--out", str(tmp_path / "r.xls")], "must end in .xlsx"),
        (["--csv", str(tmp_path / "nowhere" / "r.csv")], "does not exist"),
        ([], "say where to write the report"),
        (["--out", str(out), "--tracking-csv", str(tmp_path / "none.csv")], "cannot read"),
        (["--out", str(out), "--status", "sideways"], "unknown status"),
        (["--out", str(out), "--shop", "nope"], "unknown shop"),
    ):
        assert main(common + args) == 1, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err, (args, err)
    assert not out.exists()


def test_cli_output_that_cannot_be_written_is_one_line_and_keeps_the_old_file(
    synced: Synced,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Windows refuses to replace a report.xlsx that is open in Excel: the seller gets one
    line and exit 1, the old report stays, and no temporary file is left beside it."""
    from xl_lazada.cli import main
    from xl_lazada.report import xlsx

    lo, hi = _period(synced, 3)
    args = ["report", "--cache", str(synced.path), "--from", lo.isoformat(), "--to", hi.isoformat()]
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"the report from yesterday")
    real_replace = os.replace

    def locked(src: Any, dst: Any) -> None:
        if Path(dst) == out:
            raise PermissionError(13, "Permission denied", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(xlsx.os, "replace", locked)
    assert main(args + ["--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "r.xlsx" in err and "Traceback" not in err, err
    assert out.read_bytes() == b"the report from yesterday"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.xlsx"]


def test_cli_refuses_to_replace_a_report_open_in_excel(
    synced: Synced, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Last time's report still open in Excel (its ``~$`` owner file beside it): replacing it
    would lose what the seller typed into it on macOS, so the command says so first."""
    from xl_lazada.cli import main

    lo, hi = _period(synced, 3)
    args = ["report", "--cache", str(synced.path), "--from", lo.isoformat(), "--to", hi.isoformat()]
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"the report from yesterday, with the seller's notes")
    (tmp_path / "~$r.xlsx").write_bytes(b"owner")
    assert main(args + ["--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: r.xlsx is open in Excel") and err.count("\n") == 1, err
    assert out.read_bytes() == b"the report from yesterday, with the seller's notes"
    (tmp_path / "~$r.xlsx").unlink()  # closed: written
    assert main(args + ["--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"PK")


def test_cli_refuses_to_replace_a_report_marked_read_only(
    synced: Synced, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report the seller marked read-only to keep it (last month's, sent to the accountant)
    is not replaced, whoever runs the command: renaming over it would succeed on POSIX."""
    from xl_lazada.cli import main

    lo, hi = _period(synced, 3)
    args = ["report", "--cache", str(synced.path), "--from", lo.isoformat(), "--to", hi.isoformat()]
    kept = {}
    for name in ("r.xlsx", "r.csv"):
        out = tmp_path / name
        out.write_bytes(b"last month's report")
        out.chmod(0o444)
        kept[name] = out
    assert main(args + ["--out", str(kept["r.xlsx"]), "--csv", str(tmp_path / "new.csv")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: --out ") and "r.xlsx: the file is read-only" in err, err
    assert err.count("\n") == 1
    assert main(args + ["--csv", str(kept["r.csv"])]) == 1
    assert "r.csv: the file is read-only" in capsys.readouterr().err
    for out in kept.values():
        assert out.read_bytes() == b"last month's report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "r.xlsx"]


def test_cli_report_output_another_user_owns_is_said_as_such(
    synced: Synced, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    """A file only its permissions keep from this user (a colleague's, mode 0644): not called
    "read-only" with a mark to clear. (Stood in for by os.access: the tests may run as root.)"""
    import os

    from xl_lazada.cli import main

    lo, hi = _period(synced, 3)
    out = tmp_path / "theirs.xlsx"
    out.write_bytes(b"a colleague's report")
    real = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode, **kw: False if p == out else real(p, mode, **kw)
    )
    args = ["report", "--cache", str(synced.path), "--from", lo.isoformat(), "--to", hi.isoformat()]
    assert main(args + ["--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "theirs.xlsx: the file is not writable by this user; choose another name\n" in err
    assert out.read_bytes() == b"a colleague's report"
