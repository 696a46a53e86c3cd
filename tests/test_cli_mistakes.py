"""A first-time seller's mistakes on the command line: one clear line, a non-zero exit, no
secret in the output, and a cache that still opens afterwards."""

from __future__ import annotations

import logging
import socket
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from xl_lazada.cache import Cache
from xl_lazada.cache.db import CacheError
from xl_lazada.cli import main
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.sync import SyncOptions, sync_shop

SECRET = "xl-lazada-sandbox-secret"


@pytest.fixture(autouse=True)
def _keep_log_level() -> Iterator[None]:
    """``main`` sets the ``xl_lazada`` logger's level (-v); later tests' caplog needs it back."""
    logger = logging.getLogger("xl_lazada")
    level = logger.level
    yield
    logger.setLevel(level)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    """A sandbox and a cache filled by a real sync of it."""
    path = Path(tmp_path_factory.mktemp("mistakes")) / "cache.sqlite3"
    with SandboxServer(orders=40, seed=3, clock_speed=0.0, qps=1000) as sb:
        days = int(sb.shop.params["days"]) + 5
        conn = sb.connection(sb.issue_token())
        with LazadaClient(conn, default_qps=1000) as client, Cache.open(path) as cache:
            sync_shop(client, cache, "sb", options=SyncOptions(lookback_days=days))
        yield sb, path


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.setenv("XL_LAZADA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XL_LAZADA_KEYRING", "file")
    for name in ("BASE_URL", "APP_KEY", "APP_SECRET", "ACCESS_TOKEN", "CACHE", "VENTURE"):
        monkeypatch.delenv(f"XL_LAZADA_{name}", raising=False)
    return monkeypatch


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sync_with_a_refused_app_key_fails_with_one_line_per_stage(
    synced, env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb, _ = synced
    token = sb.issue_token()
    env.setenv("XL_LAZADA_BASE_URL", sb.base_url)
    env.setenv("XL_LAZADA_APP_KEY", "999")  # a typo'd app key: every call is refused
    env.setenv("XL_LAZADA_APP_SECRET", SECRET)
    env.setenv("XL_LAZADA_ACCESS_TOKEN", token["access_token"])
    cache = tmp_path / "c.sqlite3"
    code = main(["sync", "--cache", str(cache)])
    out = capsys.readouterr()
    assert code == 1
    assert "sync incomplete" in out.err and "orders" in out.err
    assert "failed: orders: /orders/get: Lazada error InvalidAppKey" in out.err
    assert "orders: orders:" not in out.err
    assert SECRET not in out.err + out.out and token["access_token"] not in out.err + out.out
    assert _integrity(cache) == "ok"


def test_sync_against_a_closed_port_fails(
    synced, env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb, _ = synced
    env.setenv("XL_LAZADA_BASE_URL", f"http://127.0.0.1:{_closed_port()}/rest")
    env.setenv("XL_LAZADA_APP_KEY", sb.app_key)
    env.setenv("XL_LAZADA_APP_SECRET", SECRET)
    env.setenv("XL_LAZADA_ACCESS_TOKEN", sb.issue_token()["access_token"])
    cache = tmp_path / "c.sqlite3"
    code = main(["sync", "--no-traces", "--no-finance", "--cache", str(cache)])
    err = capsys.readouterr().err
    assert code == 1
    assert "could not connect" in err and "could not be reached" in err
    assert len([ln for ln in err.splitlines() if ln.startswith("error:")]) == 1
    assert "Traceback" not in err and SECRET not in err
    assert _integrity(cache) == "ok"


def test_status_refresh_that_cannot_reach_lazada_fails(
    synced, env, capsys: pytest.CaptureFixture[str]
) -> None:
    sb, path = synced
    env.setenv("XL_LAZADA_BASE_URL", sb.base_url)
    env.setenv("XL_LAZADA_APP_KEY", "999")
    env.setenv("XL_LAZADA_APP_SECRET", SECRET)
    env.setenv("XL_LAZADA_ACCESS_TOKEN", sb.issue_token()["access_token"])
    with Cache.open(path) as cache:
        number = cache.connection.execute("SELECT order_number FROM orders LIMIT 1").fetchone()[0]
    code = main(["status", "--refresh", "--cache", str(path), number])
    err = capsys.readouterr().err
    assert code == 1 and "refresh failed" in err
    assert _integrity(path) == "ok"


def test_a_read_only_cache_is_a_cache_error_not_a_sqlite_traceback(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    Cache.open(path).close()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    cache = Cache(conn, str(path))
    with pytest.raises(CacheError, match="cannot write the cache"), cache.transaction():
        cache.start_run("sb", datetime.now(UTC))
    cache.close()
    assert _integrity(path) == "ok"


def test_status_without_a_cache_says_so_and_creates_nothing(
    env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "none" / "cache.sqlite3"
    code = main(["status", "--cache", str(path), "317964514998308"])
    assert code == 1
    assert "no cache yet" in capsys.readouterr().err
    assert not path.exists() and not path.parent.exists()


@pytest.mark.parametrize(
    "pasted",
    [
        "{n:.14e}",  # 3.17964514998308e+14: Excel's scientific notation, digits intact
        "{n}.0",
        "  {n}\n",
        "{a} {b}",  # spaces copied from a formatted cell
        "{a}\n{b}",
    ],
)
def test_status_reads_excel_mangled_and_spaced_references(
    synced, pasted: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = synced
    with Cache.open(path) as cache:
        number = cache.connection.execute("SELECT order_number FROM orders LIMIT 1").fetchone()[0]
    ref = pasted.format(n=int(number), a=number[:7], b=number[7:])
    code = main(["status", "--cache", str(path), ref])
    out = capsys.readouterr()
    assert code == 0, out
    assert out.out.startswith(f"{number}: ")


def test_status_names_an_excel_rounded_number(synced, capsys: pytest.CaptureFixture[str]) -> None:
    _, path = synced
    code = main(["status", "--cache", str(path), "3.1E+14", "ab\x1b[31mc"])
    out = capsys.readouterr()
    assert code == 1
    lines = out.out.splitlines()
    assert lines[0].startswith("3.1E+14: rounded by Excel — format the column as Text")
    assert "\x1b" not in out.out and len(lines) == 2


def test_sandbox_load_of_a_garbage_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, data in (("bytes", bytes(range(256)) * 4), ("json", b'{"orders": 1}')):
        bad = tmp_path / name
        bad.write_bytes(data)
        code = main(["sandbox", "--port", "0", "--load", str(bad)])
        err = capsys.readouterr().err
        assert code == 1
        assert f"cannot load {bad}" in err and "Traceback" not in err


@pytest.mark.parametrize("terminal", [True, False], ids=["bars", "lines"])
def test_sync_progress_shows_the_shop_name_lazada_sends_as_plain_text(
    env, tmp_path: Path, capsys: pytest.CaptureFixture[str], terminal: bool
) -> None:
    """The seller name in the progress output is Lazada's text: rich's markup in it must
    neither break the progress bars (an unmatched closing tag raised mid-sync) nor become a
    terminal link, and escape sequences in it must not reach the terminal."""
    from xl_lazada.sandbox.shop import Shop

    name = "[/bold]Gadget [link=http://evil.example/]Hub[/link] \x1b]8;;http://evil.example/\x07"
    env.setattr(Shop, "seller_profile", lambda self: {**self._plan.seller, "name": name})
    env.setenv("TTY_COMPATIBLE", "1" if terminal else "0")
    env.setenv("COLUMNS", "400")  # room for the whole note on one bar line
    with SandboxServer(orders=6, seed=3, clock_speed=0.0, qps=1000) as sb:
        env.setenv("XL_LAZADA_BASE_URL", sb.base_url)
        env.setenv("XL_LAZADA_APP_KEY", sb.app_key)
        env.setenv("XL_LAZADA_APP_SECRET", SECRET)
        env.setenv("XL_LAZADA_ACCESS_TOKEN", sb.issue_token()["access_token"])
        code = main(["sync", "--cache", str(tmp_path / "c.sqlite3")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "[/bold]Gadget [link=http://evil.example/]Hub[/link]" in err  # shown as sent
    assert "\x1b]8;;http://evil" not in err and "\x07" not in err


def test_every_refusal_starts_with_the_same_word(
    synced: tuple[SandboxServer, Path],
    env: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A command's own refusal and one raised by the library read alike (``error: …``, one
    line); only a mistyped command line gets click's usage hint."""
    _, path = synced
    refusals = [
        ["status", "--cache", str(path), "12345"],  # the command's own check
        ["status", "--cache", str(tmp_path / "none.sqlite3"), "12345"],  # the library's
        ["refresh", str(tmp_path / "Missing.xlsm"), "--no-sync", "--cache", str(path)],
    ]
    for argv in refusals:
        assert main(argv) == 1, argv
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (argv, lines)
    assert main(["status", "--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert "Usage:" in err and "No such option" in err


def test_a_refusal_quoting_the_sellers_file_stays_one_printable_line(
    synced: tuple[SandboxServer, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An error that quotes what the seller gave (a CSV's header, a file name) prints it
    folded: a control byte or a line break in it neither reaches the terminal nor splits
    the one line."""
    _, path = synced
    odd = tmp_path / "line\nbreak.csv"
    odd.write_bytes(b"\x00\x01\x1b[Kbinary\x07\x08\xff\xfe\n")  # (a header: no digits)
    out = str(tmp_path / "r.xlsx")
    code = main(["report", "--cache", str(path), "--tracking-csv", str(odd), "--out", out])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1, repr(err)
    assert "no 'Tracking Number' column" in err and "binary" in err
    assert not any(c in err[:-1] for c in "\x00\x01\x1b\x07\x08\r"), repr(err)
    # The same for a refusal click raises (a path quoted by the command's own check).
    assert main(["workbook", "new", str(tmp_path / "no\nsuch" / "b.xlsm")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, repr(err)
