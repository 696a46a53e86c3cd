"""``xl-lazada refresh BOOK.xlsm``: the seller's workbook is theirs.

A workbook made by ``xl-lazada workbook new``, given a seller's own sheet (formula, chart,
sparkline), a defined name, shared strings and extra columns right of the Orders table, is
refreshed from the sandbox over real HTTP three times. Its VBA project and ribbon must still
be there (read back by oletools, independently of the writer), the seller's parts must be
byte for byte what they were, the data must match the cache, and it must open in openpyxl
and LibreOffice.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from seller_content import NOTES, PROTECTION, SELLER_PARTS, add_seller_content, part_bytes

from xl_lazada.cache import Cache
from xl_lazada.cli import main
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.tables import all_tables
from xl_lazada.workbook.contract import DATA_SHEETS

RIBBON_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"


@pytest.fixture(scope="module")
def shop():
    with SandboxServer(orders=200, seed=11, clock_speed=0.0, qps=1000) as sb:
        yield sb


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shop) -> pytest.MonkeyPatch:
    token = shop.issue_token()
    monkeypatch.setenv("XL_LAZADA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XL_LAZADA_KEYRING", "file")
    monkeypatch.setenv("XL_LAZADA_BASE_URL", shop.base_url)
    monkeypatch.setenv("XL_LAZADA_APP_KEY", shop.app_key)
    monkeypatch.setenv("XL_LAZADA_APP_SECRET", shop.app_secret)
    monkeypatch.setenv("XL_LAZADA_ACCESS_TOKEN", token["access_token"])
    monkeypatch.setenv("XL_LAZADA_SHOP", "sb")
    monkeypatch.delenv("XL_LAZADA_CACHE", raising=False)
    return monkeypatch


def _new_book(tmp_path: Path) -> Path:
    book = tmp_path / "MyShop.xlsm"
    assert main(["workbook", "new", str(book)]) == 0
    add_seller_content(book)
    return book


def _vba_modules(path: Path) -> dict[str, str]:
    """VBA source per module, read by oletools (not by the library that wrote it)."""
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def _check_ribbon_and_vba(path: Path) -> None:
    parts = part_bytes(path)
    rels = parts["_rels/.rels"].decode()
    assert RIBBON_REL in rels and "customUI/customUI14.xml" in rels
    ribbon = parts["customUI/customUI14.xml"].decode()
    actions = re.findall(r'onAction="([^"]+)"', ribbon)
    assert len(actions) == 7
    modules = _vba_modules(path)
    assert {"Ribbon", "xlwings", "Dictionary"} <= set(modules)
    code = "\n".join(modules.values())
    for action in actions:
        assert re.search(rf"Sub {action}\(control As IRibbonControl\)", code), action
    assert 'RunPython "import xl_lazada.excel.macros as m; m.refresh_all()"' in modules["Ribbon"]
    assert "xl/vbaProject.bin" in parts


def test_three_refreshes_keep_the_sellers_parts_vba_and_ribbon(
    env, shop, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = _new_book(tmp_path)
    cache_path = tmp_path / "cache.sqlite3"
    before = part_bytes(book)
    styles_sizes = []
    for run in range(3):
        if run:
            shop.clock.advance(timedelta(hours=6))  # the shop moves on between refreshes
        code = main(["refresh", str(book), "--cache", str(cache_path)])
        out = capsys.readouterr()
        assert code == 0, out.err
        assert "MyShop.xlsm: Orders" in out.out
        # The Checkpoints sheet keeps moving parcels and recent days: the seller is told.
        assert "checkpoints: parcels still moving and the last 30 days" in out.out
        after = part_bytes(book)
        for name in SELLER_PARTS + (
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "_rels/.rels",
            "customUI/customUI14.xml",
            "xl/vbaProject.bin",
            "xl/theme/theme1.xml",
            "docProps/app.xml",
            "docProps/core.xml",
            # Our other sheets: inputs the seller edits, never rewritten by a refresh.
            "xl/worksheets/sheet5.xml",
            "xl/worksheets/sheet7.xml",
            "xl/worksheets/sheet8.xml",
        ):
            assert after[name] == before[name], f"{name} changed on refresh {run + 1}"
        assert b"x14:sparklineGroups" in after["xl/worksheets/sheet9.xml"]
        orders_xml = after["xl/worksheets/sheet1.xml"]
        assert b"<xm:f>Orders!AG5:AG7</xm:f><xm:sqref>AH4</xm:sqref>" in orders_xml
        assert orders_xml.rstrip().endswith(b"</extLst></worksheet>")
        assert b"</sheetData>" + PROTECTION.encode() in orders_xml  # still protected
        styles_sizes.append(len(after["xl/styles.xml"]))
        _check_ribbon_and_vba(book)
    assert styles_sizes[1] == styles_sizes[2]  # styles are reused, not appended again

    # The data is the cache's, and the seller's columns right of the table are still there.
    wb = openpyxl.load_workbook(book)
    with Cache.open(cache_path) as cache:
        frames = all_tables(cache, shop="sb", now=shop.clock.now())
    orders = wb["Orders"]
    assert orders["A2"].value.startswith("Refreshed ")
    assert orders.tables["LazadaOrders"].ref == f"A4:AD{4 + len(frames['orders'])}"
    ids = [orders.cell(row=r, column=3).value for r in range(5, 5 + len(frames["orders"]))]
    assert ids == list(frames["orders"]["Order id"])
    assert all(isinstance(i, str) for i in ids)
    assert orders["AF4"].value == NOTES[0]
    assert [orders[f"AF{r}"].value for r in (5, 6, 7)] == NOTES[1:]
    assert orders["AG5"].value == "=LEN(AF5)"
    assert orders.column_dimensions["AF"].width == 30
    assert any("AF5:AF500" in str(dv.sqref) for dv in orders.data_validations.dataValidation)
    for sheet in DATA_SHEETS.values():
        ws = wb[sheet.name]
        assert [c.value for c in ws[4]][: len(sheet.columns)] == sheet.headers
        assert ws.freeze_panes == "A5"
        assert sheet.table_name in ws.tables
    assert wb["My sheet"]["A7"].value == "=SUM(A2:A6)"
    assert "MyTotal" in wb.defined_names
    _opens_in_libreoffice(book, tmp_path)


def _opens_in_libreoffice(book: Path, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed; cannot check the file opens in it")
    copy = tmp_path / "lo" / book.name  # LibreOffice reads a copy: it must never touch ours
    copy.parent.mkdir()
    shutil.copy(book, copy)
    result = subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "lo"),
            str(copy),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    pdf = copy.with_suffix(".pdf")
    assert result.returncode == 0 and pdf.exists() and pdf.stat().st_size > 1000, result.stderr


def test_refresh_with_a_dead_network_rewrites_from_the_cache_and_says_how_old(
    env, shop, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = _new_book(tmp_path)
    cache_path = tmp_path / "cache.sqlite3"
    assert main(["refresh", str(book), "--cache", str(cache_path)]) == 0
    capsys.readouterr()
    env.setenv("XL_LAZADA_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    code = main(["refresh", str(book), "--cache", str(cache_path), "--only", "orders"])
    out = capsys.readouterr()
    assert code == 0, out.err
    # the sync stops at once on a dead network (one clear reason), the sheets from the cache
    assert "sync failed: Lazada could not be reached" in out.err
    status = openpyxl.load_workbook(book)["Orders"]["A2"].value
    assert "sync failed" in status and "data as of" in status


def test_a_dead_network_and_an_empty_cache_write_nothing(
    env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = _new_book(tmp_path)
    before = book.read_bytes()
    env.setenv("XL_LAZADA_BASE_URL", "http://127.0.0.1:9")
    code = main(["refresh", str(book), "--cache", str(tmp_path / "empty.sqlite3")])
    out = capsys.readouterr()
    assert code != 0
    assert "nothing written" in out.err and "no data synced yet" in out.err
    assert book.read_bytes() == before


def test_a_first_sync_that_did_not_finish_is_shown_as_such(
    env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A first sync cut off by a dead network keeps what it fetched (``status`` answers from
    it): the sheets show those orders and say the sync has not finished, not 'no data'."""
    book = _new_book(tmp_path)
    cache_path = tmp_path / "cut.sqlite3"
    assert main(["sync", "--cache", str(cache_path)]) == 0
    with Cache.open(cache_path) as c:
        saved = c.order_count("sb")
        with c.transaction() as conn:
            conn.execute("DELETE FROM sync_runs")  # as if no run had finished
    capsys.readouterr()
    code = main(["refresh", str(book), "--no-sync", "--cache", str(cache_path)])
    err = capsys.readouterr().err
    assert code == 0, err
    wb = openpyxl.load_workbook(book)
    status = wb["Orders"]["A2"].value
    assert f"the first sync has not finished ({saved:,} orders saved so far)" in status
    assert saved > 0 and "no data synced yet" not in status


def test_no_sync_with_an_empty_cache_writes_nothing(
    env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = _new_book(tmp_path)
    before = book.read_bytes()
    code = main(["refresh", str(book), "--no-sync", "--cache", str(tmp_path / "e.sqlite3")])
    err = capsys.readouterr().err
    assert code != 0 and "nothing written" in err and "no data synced yet" in err
    assert book.read_bytes() == before


def test_no_sync_for_a_shop_the_cache_does_not_hold_names_the_shops_it_does(
    env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A shop name mistyped in Settings or --shop: the cache has data, just not for it.
    book = _new_book(tmp_path)
    cache_path = str(tmp_path / "c.sqlite3")
    assert main(["sync", "--cache", cache_path]) == 0
    capsys.readouterr()
    before = book.read_bytes()
    code = main(["refresh", str(book), "--no-sync", "--shop", "sbb", "--cache", cache_path])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1, err
    assert err.endswith(
        "no data synced yet for shop 'sbb' (the cache holds sb: check the shop in the Settings"
        " sheet or --shop)"
    ), err
    assert book.read_bytes() == before
    # A shop the cache knows with nothing saved yet (its first sync failed early): the name
    # is right, so no hint about it.
    with Cache.open(cache_path) as cache:
        cache.upsert_shop("new-shop", "MY", None, observed_at=datetime.now(UTC))
    main(["refresh", str(book), "--no-sync", "--shop", "new-shop", "--cache", cache_path])
    err = capsys.readouterr().err.strip()
    assert err.endswith("not synced; no data synced yet"), err
    assert book.read_bytes() == before


def test_only_the_report_with_no_inputs_says_what_to_fill_in(
    env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A whole refresh of a book whose Report sheet is empty builds no report, silently (not
    # every seller uses it); asking for the report alone is a mistake worth a word.
    book = _new_book(tmp_path)
    cache_path = str(tmp_path / "c.sqlite3")
    assert main(["refresh", str(book), "--cache", cache_path]) == 0
    assert "Report:" not in capsys.readouterr().out
    code = main(["refresh", str(book), "--no-sync", "--only", "report", "--cache", cache_path])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err == (
        "error: report not built: give a date range (at most 30 days) or paste tracking numbers"
    )
    said = openpyxl.load_workbook(book)["Report"]["B8"].value
    assert said == "give a date range (at most 30 days) or paste tracking numbers"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--only", "orders,invoices"], "--only: invoices is not one of"),
        (["--only", ","], "--only: nothing is not one of"),
    ],
)
def test_bad_arguments_touch_nothing(
    env, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    book = _new_book(tmp_path)
    before = book.read_bytes()
    code = main(["refresh", str(book), "--cache", str(tmp_path / "c.sqlite3"), *args])
    err = capsys.readouterr().err
    assert code != 0 and message in err and len(err.strip().splitlines()) == 1
    assert book.read_bytes() == before
    assert not (tmp_path / "c.sqlite3").exists()  # refused before anything was opened


def _refusal(tmp_path: Path, capsys: pytest.CaptureFixture[str], book: Path) -> str:
    before = book.read_bytes() if book.exists() else None
    code = main(["refresh", str(book), "--no-sync", "--cache", str(tmp_path / "c.sqlite3")])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1, err
    if before is not None:
        assert book.read_bytes() == before
    return err


def test_refuses_a_workbook_open_in_excel(env, tmp_path, capsys) -> None:
    book = _new_book(tmp_path)
    owner = tmp_path / "~$MyShop.xlsm"  # Excel's owner file while MyShop.xlsm is open
    owner.write_bytes(b"owner")
    err = _refusal(tmp_path, capsys, book)
    assert "MyShop.xlsm is open in Excel" in err and "~$MyShop.xlsm" in err
    owner.unlink()
    (tmp_path / "~$Shop.xlsm").write_bytes(b"owner")  # the truncated form of long names
    assert "is open in Excel" in _refusal(tmp_path, capsys, book)


def test_refuses_a_read_only_workbook(env, tmp_path, capsys) -> None:
    # Marked read-only (as Windows' attribute also shows): refused even when run as root,
    # who could write it (CI runs as root, so does many a scheduled refresh).
    book = _new_book(tmp_path)
    book.chmod(0o444)
    assert "read-only" in _refusal(tmp_path, capsys, book)
    assert book.stat().st_mode & 0o777 == 0o444


def test_refuses_what_it_cannot_handle(env, tmp_path, capsys) -> None:
    text = tmp_path / "notes.xlsm"
    text.write_text("not a workbook")
    assert "is not an Excel workbook" in _refusal(tmp_path, capsys, text)

    encrypted = tmp_path / "locked.xlsm"  # password-protected books are OLE files
    encrypted.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert "password-protected" in _refusal(tmp_path, capsys, encrypted)

    plain = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(plain)
    err = _refusal(tmp_path, capsys, plain)
    assert "has no 'Orders'" in err and "workbook new" in err

    assert "no such workbook" in _refusal(tmp_path, capsys, tmp_path / "missing.xlsm")

    other = tmp_path / "data.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "hello")
    assert "is not an Excel workbook" in _refusal(tmp_path, capsys, other)


def test_a_refresh_reads_the_workbook_once_and_checks_it_once(
    env, shop, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings, sheet names, the Report sheet and the parts copied over all come from one
    read of the file, checked once before anything (the sync included) is done."""
    from xl_lazada.workbook import package, refresh

    book = _new_book(tmp_path)
    cache_path = tmp_path / "cache.sqlite3"
    reads: list[str] = []
    checks: list[Path] = []
    real_open, real_check = refresh._package, refresh.check_writable
    monkeypatch.setattr(refresh, "_package", lambda p: reads.append(p.name) or real_open(p))
    monkeypatch.setattr(refresh, "check_writable", lambda p: checks.append(p) or real_check(p))
    monkeypatch.setattr(package.Package, "__init__", _counted(package.Package.__init__, reads))
    assert main(["refresh", str(book), "--cache", str(cache_path)]) == 0
    assert reads == ["MyShop.xlsm", "package"] and checks == [book]


def _counted(init, log: list[str]):  # type: ignore[no-untyped-def]
    def counted(self, *a, **kw):  # type: ignore[no-untyped-def]
        log.append("package")
        init(self, *a, **kw)

    return counted


def test_a_workbook_excel_locks_during_the_sync_is_one_line_and_left_as_it_was(
    env, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Windows a workbook Excel opened after the check cannot be replaced: the refresh
    says so in one line, the workbook is the old one and no temporary file is left."""
    import os

    from xl_lazada.workbook import save

    book = _new_book(tmp_path)
    cache_path = tmp_path / "cache.sqlite3"
    assert main(["refresh", str(book), "--cache", str(cache_path)]) == 0
    capsys.readouterr()
    before = book.read_bytes()
    real_replace = os.replace

    def locked(src, dst):  # type: ignore[no-untyped-def]
        if Path(dst) == book:
            raise PermissionError(13, "The process cannot access the file")
        real_replace(src, dst)

    monkeypatch.setattr(save.os, "replace", locked)
    code = main(["refresh", str(book), "--no-sync", "--cache", str(cache_path)])
    err = capsys.readouterr().err.strip()
    assert (
        code == 1
        and err == "error: MyShop.xlsm is open in another program (Excel?); close it and try again"
    )
    assert book.read_bytes() == before
    assert [p.name for p in tmp_path.glob(".~xl-lazada-*")] == []


@pytest.mark.parametrize("what", ["saved", "opened", "marked read-only"])
def test_a_workbook_saved_or_opened_during_the_refresh_is_left_as_it_was(
    env,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    what: str,
) -> None:
    """Between reading the book and replacing it (a sync can take minutes) the seller may
    save it from Excel, or open it on a Mac (an owner file, no lock): the refresh writes
    nothing, says so in one line, and their saved changes are kept."""
    from xl_lazada.workbook import refresh

    book = _new_book(tmp_path)
    cache_path = tmp_path / "cache.sqlite3"
    assert main(["refresh", str(book), "--cache", str(cache_path)]) == 0
    capsys.readouterr()
    real_tables = refresh._tables

    def meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        if what == "saved":
            book.write_bytes(book.read_bytes() + b"\0")  # the seller's save
        elif what == "marked read-only":
            book.chmod(0o444)
        else:
            (tmp_path / ("~$" + book.name)).write_bytes(b"owner")
        return real_tables(*args, **kwargs)

    monkeypatch.setattr(refresh, "_tables", meanwhile)
    code = main(["refresh", str(book), "--no-sync", "--cache", str(cache_path)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0 and "nothing was written" in err
    said = {"saved": "saved by another program", "marked read-only": "was made read-only"}
    assert said.get(what, "opened in Excel") in err
    if what == "saved":
        assert book.read_bytes().endswith(b"\0")  # the seller's version, not ours
    assert [p.name for p in tmp_path.glob(".~xl-lazada-*")] == []


def test_bad_settings_value_is_one_line_naming_the_key(env, tmp_path, capsys) -> None:
    book = _new_book(tmp_path)
    parts = part_bytes(book)
    sheet = parts["xl/worksheets/sheet7.xml"].decode()  # Settings
    # at_risk_hours' value cell -> text the seller typed
    row = 4 + [
        k for k, *_ in __import__("xl_lazada.workbook.contract", fromlist=["x"]).settings_rows()
    ].index("at_risk_hours")
    sheet = re.sub(
        rf'<c r="B{row}"([^>]*)><v>[^<]*</v></c>',
        rf'<c r="B{row}"\1 t="inlineStr"><is><t>twelve</t></is></c>',
        sheet,
    )
    parts["xl/worksheets/sheet7.xml"] = sheet.encode()
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    err = _refusal(tmp_path, capsys, book)
    assert "at_risk_hours must be a number" in err and "twelve" in err


def _set_setting(book: Path, key: str, cell_xml: str) -> None:
    """Put ``cell_xml`` (a value cell's attributes and content) as ``key``'s value."""
    from xl_lazada.workbook.contract import settings_rows

    parts = part_bytes(book)
    sheet = parts["xl/worksheets/sheet7.xml"].decode()  # Settings
    row = 4 + [k for k, *_ in settings_rows()].index(key)
    cell = re.search(rf'<c r="B{row}"[^>]*?(?:/>|>.*?</c>)', sheet)
    assert cell is not None
    style = re.search(r' s="\d+"', cell.group(0))
    new = f'<c r="B{row}"{style.group(0) if style else ""}{cell_xml}'
    sheet = sheet[: cell.start()] + new + sheet[cell.end() :]
    parts["xl/worksheets/sheet7.xml"] = sheet.encode()
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("holiday_country", "XX", "holiday_country: no holiday calendar for 'XX'"),
        ("rts_hours", 1e12, "rts_hours must be at most"),
        ("sorting_center_days", 1e12, "sorting_center_days must be at most"),
        ("extra_milestones", "NOTJSON", "not JSON"),
    ],
)
def test_unusable_setting_is_one_line_before_anything_is_written(
    env, tmp_path, capsys, key: str, value: object, words: str
) -> None:
    """A Settings value the rules cannot use (a typo'd country, a threshold of a billion
    hours, a milestone file that is not JSON) is one line naming it and exit 1, with the
    workbook untouched; not a traceback half-way through the refresh."""
    book = _new_book(tmp_path)
    if value == "NOTJSON":
        junk = tmp_path / "codes.txt"
        junk.write_text("not json at all")
        value = str(junk)
    if isinstance(value, str):
        cell = f' t="inlineStr"><is><t>{value}</t></is></c>'
    else:
        cell = f"><v>{value!r}</v></c>"
    _set_setting(book, key, cell)
    before = book.read_bytes()
    code = main(["refresh", str(book), "--cache", str(tmp_path / "c.sqlite3")])
    err = capsys.readouterr().err.strip()
    assert code == 1, err
    last = err.splitlines()[-1]
    assert words in last and "Traceback" not in err, err
    assert book.read_bytes() == before


def test_a_full_disk_is_one_line_and_keeps_the_workbook(
    env, tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new workbook cannot be written (disk full, a read-only or network drive gone):
    one line and exit 1, the old workbook as it was, no temporary file left beside it."""
    import errno

    from xl_lazada.workbook import save

    book = _new_book(tmp_path)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    before = book.read_bytes()
    monkeypatch.setattr(save.os, "fsync", full)
    code = main(["refresh", str(book), "--cache", str(tmp_path / "c.sqlite3")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "Traceback" not in err, err
    last = err.splitlines()[-1]
    assert "MyShop.xlsm" in last and "No space left on device" in last, err
    assert book.read_bytes() == before
    assert [p.name for p in tmp_path.glob(".~xl-lazada-*")] == []


def test_refresh_through_a_symlink_updates_the_workbook_it_points_to(env, tmp_path, capsys) -> None:
    """A seller who keeps a link to the workbook (e.g. on the desktop) and refreshes through
    it gets the real workbook refreshed; the link stays a link, not a second, diverging
    copy that leaves the real one stale."""
    book = _new_book(tmp_path)
    link = tmp_path / "Desktop link.xlsm"
    try:
        link.symlink_to(book)
    except OSError:
        pytest.skip("this system cannot make symbolic links")
    before = book.read_bytes()
    assert main(["refresh", str(link), "--cache", str(tmp_path / "c.sqlite3")]) == 0
    capsys.readouterr()
    assert link.is_symlink() and link.resolve() == book.resolve()
    assert book.read_bytes() != before  # the real workbook has the data
    assert openpyxl.load_workbook(book, read_only=True)["Orders"].max_row > 10


def test_killed_refreshes_leave_the_old_or_the_new_workbook(shop, tmp_path: Path) -> None:
    """SIGKILL a refresh at random moments: the workbook always opens, old or new."""
    import random
    import time

    from xl_lazada.lazada.client import LazadaClient
    from xl_lazada.sync import SyncOptions, sync_shop

    cache_path = tmp_path / "cache.sqlite3"
    with Cache.open(cache_path) as cache, LazadaClient(shop.connection(), default_qps=1000) as c:
        sync_shop(c, cache, "sb", options=SyncOptions(lookback_days=60))
    book = tmp_path / "MyShop.xlsm"
    assert main(["workbook", "new", str(book)]) == 0
    add_seller_content(book)
    seller = {n: b for n, b in part_bytes(book).items() if n in SELLER_PARTS}
    command = [
        sys.executable,
        "-c",
        "import sys; from xl_lazada.cli import main; sys.exit(main(sys.argv[1:]))",
        "refresh",
        str(book),
        "--no-sync",
        "--cache",
        str(cache_path),
    ]
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, timeout=240)
    full = time.monotonic() - started
    rng = random.Random(8)
    kills = 0
    for _ in range(8):
        old = book.read_bytes()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 1.0) * full)
        if proc.poll() is None:
            proc.kill()
            kills += 1
        proc.wait(timeout=60)
        now = book.read_bytes()
        with zipfile.ZipFile(book) as z:
            assert z.testzip() is None
        wb = openpyxl.load_workbook(book)
        assert "Orders" in wb.sheetnames
        if now != old:  # the new workbook: complete, with the seller's parts intact
            assert {n: b for n, b in part_bytes(book).items() if n in SELLER_PARTS} == seller
            assert wb["Orders"]["A2"].value.startswith("Refreshed ")
    assert kills >= 3, "the refresh finished too fast to be killed mid-way"
    # Stray temporary files from killed runs are cleaned up by the next refresh.
    subprocess.run(command, check=True, capture_output=True, timeout=240)
    assert [p.name for p in tmp_path.glob(".~xl-lazada-*")] == []
    assert (tmp_path / "MyShop.xlsm.bak").exists()


def _sheet_values(book: Path, name: str) -> list[tuple]:
    return list(openpyxl.load_workbook(book)[name].iter_rows(values_only=True))


def test_refresh_rebuilds_the_report_from_the_report_sheets_inputs(
    env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from xl_lazada.report.sheet import report_input_values_sheet
    from xl_lazada.workbook.refresh import refresh_workbook

    book = _new_book(tmp_path)
    cache_path = tmp_path / "cache.sqlite3"
    assert main(["refresh", str(book), "--cache", str(cache_path)]) == 0
    with Cache.open(cache_path) as cache:
        orders = all_tables(cache)["orders"]
        last = orders["Created"].max().date()
        inputs = {"date_from": last - timedelta(days=29), "date_to": last, "refs": ["nonsense-1"]}
        # what a seller types on the Report sheet, put there by our own writer
        refresh_workbook(
            book, cache, only=["orders"], extra_specs=[report_input_values_sheet(inputs)]
        )
    capsys.readouterr()

    assert main(["refresh", str(book), "--no-sync", "--cache", str(cache_path)]) == 0
    out = capsys.readouterr().out
    assert "Report: Built" in out and "1 number not in this report" in out
    report = openpyxl.load_workbook(book)["Report"]
    assert report["B8"].value.startswith("Built")
    assert report["A12"].value == "nonsense-1"  # the seller's inputs stay as typed
    output = _sheet_values(book, "Report output")
    assert len(output) > 10 and any("nonsense-1" in map(str, row) for row in output)

    # 31 days: refused in the message cell, exit 1, the previous report left as it was
    with Cache.open(cache_path) as cache:
        inputs["date_from"] = last - timedelta(days=30)
        refresh_workbook(
            book, cache, only=["orders"], extra_specs=[report_input_values_sheet(inputs)]
        )
    capsys.readouterr()
    code = main(["refresh", str(book), "--no-sync", "--cache", str(cache_path)])
    err = capsys.readouterr().err
    assert code == 1 and "report not built" in err and "30 days" in err
    assert _sheet_values(book, "Report output") == output
    assert "30 days" in openpyxl.load_workbook(book)["Report"]["B8"].value


def test_refresh_and_the_ribbon_accept_and_refuse_the_same_report_dates(
    env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Report sheet's dates as the file holds them (serial numbers) and as Excel hands
    them to the ribbon: one reader decides, so `xl-lazada refresh` and the Build report
    button give the same answer for the same cells."""
    from fake_excel import FakeBook

    from xl_lazada.excel import live_writer, macros
    from xl_lazada.report.sheet import report_input_values_sheet
    from xl_lazada.workbook.build import initial_sheetspecs
    from xl_lazada.workbook.refresh import refresh_workbook
    from xl_lazada.workbook.sheetxml import excel_serial

    book = _new_book(tmp_path)
    cache_path = tmp_path / "cache.sqlite3"
    assert main(["refresh", str(book), "--cache", str(cache_path)]) == 0
    env.setenv("XL_LAZADA_CACHE", str(cache_path))
    with Cache.open(cache_path) as cache:
        last = all_tables(cache)["orders"]["Created"].max().date()
    first = last - timedelta(days=29)
    cases = {
        "serials of the last 30 days": (excel_serial(first), excel_serial(last), True),
        "text dates": (first.isoformat(), last.isoformat(), True),
        "serials 5 and 10 (January 1900)": (5, 10, False),
        "serial 60 (Excel's 29 Feb 1900)": (60, 61, False),
        "a day that does not exist": ("2026-02-30", "2026-03-02", False),
        "5 Jan 1900 as Excel shows serial 5": (datetime(1900, 1, 5), datetime(1900, 1, 9), False),
    }
    for name, (date_from, date_to, accepted) in cases.items():
        values = {"date_from": date_from, "date_to": date_to, "refs": []}
        with Cache.open(cache_path) as cache:  # what a seller typed, in the file
            refresh_workbook(
                book, cache, only=["orders"], extra_specs=[report_input_values_sheet(values)]
            )
        capsys.readouterr()
        code = main(["refresh", str(book), "--no-sync", "--only", "report"])
        said = capsys.readouterr()
        headless = openpyxl.load_workbook(book)["Report"]["B8"].value
        if code == 0:  # no data sheet rewritten: none named, nor an empty list of them
            assert said.out.startswith("MyShop.xlsm: written in "), said.out

        ribbon = FakeBook()
        for spec in initial_sheetspecs():
            live_writer.render(ribbon, spec)
        ribbon.sheets["Report"].put(3, 2, date_from)
        ribbon.sheets["Report"].put(4, 2, date_to)
        line = macros.build_report(ribbon)

        assert (code == 0) is accepted, (name, headless)
        assert line.startswith("Built ") is accepted, (name, line)
        if accepted:
            assert headless.startswith("Built "), (name, headless)
        elif not isinstance(date_from, datetime):  # the same value both ways: the same reason
            assert headless == line, name


def test_refresh_and_the_ribbon_say_the_same_data_as_of_on_the_shops_clock(
    env, shop, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a failed sync both say how old the data is the same way: the last sync whose
    stages all worked (not the failed one), in the shop's local time with its offset."""
    from fake_excel import FakeBook

    from xl_lazada.cache.codec import parse_utc
    from xl_lazada.excel import live_writer, macros
    from xl_lazada.workbook.build import initial_sheetspecs

    book = _new_book(tmp_path)
    cache_path = tmp_path / "cache.sqlite3"
    assert main(["refresh", str(book), "--cache", str(cache_path)]) == 0
    with Cache.open(cache_path) as cache:
        (finished,) = cache.connection.execute("SELECT finished_at FROM sync_runs").fetchone()
    tz = shop.shop.venture.tz
    local = parse_utc(finished).astimezone(tz)
    hours = int(local.utcoffset().total_seconds() // 3600)
    expected = f"data as of {local:%Y-%m-%d %H:%M} UTC+{hours:02d}:00"

    env.setenv("XL_LAZADA_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    env.setenv("XL_LAZADA_CACHE", str(cache_path))
    assert main(["refresh", str(book), "--only", "orders"]) == 0  # a failed sync, recorded
    capsys.readouterr()
    headless = openpyxl.load_workbook(book)["Orders"]["A2"].value
    assert "sync failed" in headless and expected in headless, (expected, headless)
    assert re.match(rf"Refreshed \S+ \S+ UTC\+{hours:02d}:00 — ", headless), headless

    ribbon = FakeBook()
    for spec in initial_sheetspecs():
        live_writer.render(ribbon, spec)
    line = macros.refresh_orders(ribbon)
    status = ribbon.sheets["Orders"].values[(2, 1)]
    assert "sync failed" in status and expected in status, (expected, status)
    assert expected in line
    check = macros.check_connection(ribbon)
    assert f"cache synced {expected.removeprefix('data as of ')}" in check, check


# ---- one clock for the sheets' "now" -----------------------------------------------------------
@pytest.fixture
def malaysian_computer() -> Iterator[None]:
    """This computer's clock at UTC+08:00 (a POSIX zone: no time zone data needed)."""
    import os
    import time

    before = os.environ.get("TZ")
    os.environ["TZ"] = "MYT-8"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def _sheet_frames(zones: dict[str, str], checkpoints: list[dict]) -> dict:
    """Orders, tracking and checkpoints tables as the cache gives them for shops of ``zones``
    (empty orders and tracking; the zone attrs as :mod:`xl_lazada.tables` sets them)."""
    from xl_lazada.tables import TABLES
    from xl_lazada.tables.columns import frame

    shops = {row["Shop"] for row in checkpoints}
    frames = {
        "orders": frame(TABLES["orders"], []),
        "tracking": frame(TABLES["tracking"], []),
        "checkpoints": frame(TABLES["checkpoints"], checkpoints),
    }
    for df in frames.values():
        df.attrs["timezones"] = {s: z for s, z in zones.items() if s in shops} if len(df) else {}
        labels = set(df.attrs["timezones"].values())
        df.attrs["tz"] = labels.pop() if len(labels) == 1 else None
    return frames


def _status(spec) -> str:
    from xl_lazada.workbook.contract import STATUS_ROW

    return next(str(b.values[0][0]) for b in spec.blocks if b.row == STATUS_ROW)


def test_sheets_use_the_shops_clock_and_else_this_computers(malaysian_computer) -> None:
    """'Now' for the Checkpoints bound and the status line: the shop's clock when the tables
    know it (an empty sheet takes it from the others), this computer's when they do not
    (nothing synced yet, or shops of several zones), never UTC."""
    from datetime import UTC

    from xl_lazada.workbook.contract import WorkbookSettings
    from xl_lazada.workbook.refresh import sheetspecs_from_tables

    now = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # 12:00 in Kuala Lumpur, 11:00 in Bangkok
    settings = WorkbookSettings(checkpoint_days=1)
    parts = ["orders", "checkpoints"]
    zones = {"my": "UTC+08:00", "th": "UTC+07:00"}
    # 26 hours before noon on the computer: older than a day, but not on UTC's clock
    old = {"Package id": "p1", "Shop": "my", "Time": datetime(2026, 12, 1, 10, 0)}
    recent = {"Package id": "p2", "Shop": "th", "Time": datetime(2026, 12, 1, 13, 0)}

    def sheets(frames: dict) -> tuple[dict[str, str], set[str]]:
        specs, _ = sheetspecs_from_tables(frames, parts, settings=settings, now=now)
        kept = next(b.values for b in specs[1].blocks if b.header)["Package id"]
        return {s.name: _status(s) for s in specs}, set(kept)

    status, kept = sheets(_sheet_frames(zones, [old, recent]))  # two zones: the computer's
    assert kept == {"p2"}
    assert all(" UTC+08:00 — " in line for line in status.values()), status

    status, kept = sheets(_sheet_frames(zones, []))  # nothing synced yet: the computer's
    assert all(" UTC+08:00 — " in line for line in status.values()), status

    th_only = _sheet_frames(zones, [{**old, "Shop": "th"}, recent])  # one shop: its clock
    status, kept = sheets(th_only)
    assert kept == {"p2"}  # 10:00 Bangkok yesterday is 25 hours before 11:00 Bangkok today
    assert all(" UTC+07:00 — " in line for line in status.values()), status


def test_a_saved_workbook_gets_the_permissions_a_normal_save_gives(tmp_path: Path) -> None:
    """A workbook the library writes is not left private like a temp file (0600): a new one
    gets 0666 less the umask, a replaced one keeps its own permissions."""
    from xl_lazada.workbook.save import atomic_write

    book = tmp_path / "Shop.xlsm"
    old = os.umask(0o022)
    try:
        atomic_write(book, lambda fh: fh.write(b"one"))
        assert book.stat().st_mode & 0o777 == 0o644
        book.chmod(0o660)
        atomic_write(book, lambda fh: fh.write(b"two"))
        assert book.stat().st_mode & 0o777 == 0o660 and book.read_bytes() == b"two"
    finally:
        os.umask(old)
