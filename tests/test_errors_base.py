"""One base class for every error raised on purpose, so a front end catches one type."""

from __future__ import annotations

import sqlite3

import pytest

from xl_lazada.cache.db import CacheError, failure
from xl_lazada.cli import main
from xl_lazada.config import ConfigError
from xl_lazada.errors import InputError, XlLazadaError
from xl_lazada.lazada import errors as lazada_errors
from xl_lazada.lazada.ventures import venture
from xl_lazada.rules.settings import RuleSettings


@pytest.mark.parametrize(
    "cls",
    [
        CacheError,
        ConfigError,
        InputError,
        lazada_errors.LazadaError,
        lazada_errors.TransportError,
        lazada_errors.ThrottledError,
        lazada_errors.LoginRequiredError,
    ],
)
def test_every_error_family_shares_the_base(cls: type) -> None:
    assert issubclass(cls, XlLazadaError)


def test_seller_input_errors_are_input_errors_and_still_value_errors() -> None:
    with pytest.raises(InputError, match="unknown Lazada venture"):
        venture("XX")
    with pytest.raises(ValueError, match="must not be negative"):
        RuleSettings(stuck_days=-1)


def test_cli_turns_a_package_error_into_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "not-a-cache.sqlite3"
    bad.write_text("this is not a database")
    monkeypatch.setenv("XL_LAZADA_CACHE", str(bad))
    code = main(["status", "12345"])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_one_line_folds_control_characters_and_names_a_textless_error() -> None:
    one_line = lazada_errors.one_line
    assert one_line("line one\nline two\r\n\x1b[31mred") == "line one line two ?[31mred"
    assert one_line(ValueError("a\n b")) == "a b"
    assert one_line(KeyboardInterrupt()) == "KeyboardInterrupt"  # no text: its type
    assert one_line(None) == one_line("") == ""
    long = one_line("x" * 1000)
    assert len(long) == 300 and long.endswith("…")


def test_a_failure_the_sync_records_is_the_same_one_line(tmp_path) -> None:
    """The sync keeps failures (cache and summary) as every other front end shows errors."""
    from xl_lazada.cache import Cache
    from xl_lazada.sync import SyncOptions
    from xl_lazada.sync.engine import _Run

    one_line = lazada_errors.one_line
    texts = [
        OSError("socket says\nno\x1b[0m"),
        RuntimeError(),
        "Lazada returned no items\tfor this order",
        "y" * 1000,
    ]
    with Cache.open(tmp_path / "cache.sqlite3") as cache:
        run = _Run(None, cache, "shop", SyncOptions(), None)  # type: ignore[arg-type]
        with cache.transaction():
            for i, text in enumerate(texts):
                run.fail("trace", str(i), text)
        stored = {f["ref"]: f["error"] for f in cache.failures("shop")}
    assert stored == {str(i): one_line(text) for i, text in enumerate(texts)}
    assert [t for _, t in run.summary.failed] == [f"trace: {one_line(t)}" for t in texts]
    assert stored["0"] == "socket says no?[0m" and stored["1"] == "RuntimeError"


def test_a_cache_another_program_holds_locked_is_called_busy(tmp_path) -> None:
    """A lock held past the timeout is said as such (try again), not as damage; sqlite's
    errors that are bugs, and every other error, are left alone."""
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    other = sqlite3.connect(path, timeout=0)
    try:
        holder.execute("CREATE TABLE t (x)")
        holder.execute("BEGIN EXCLUSIVE")  # (rollback journal: readers wait too)
        with pytest.raises(sqlite3.OperationalError) as raised:
            other.execute("SELECT * FROM t").fetchall()
    finally:
        holder.close()
        other.close()
    err = failure(raised.value, path)
    assert isinstance(err, CacheError)
    assert str(err).startswith(f"{path}: the cache is busy") and "try again" in str(err)
    assert failure(sqlite3.ProgrammingError("closed")) is None
    assert failure(sqlite3.IntegrityError("UNIQUE")) is None
    assert failure(ValueError("x")) is None
    with sqlite3.connect(":memory:") as conn, pytest.raises(sqlite3.OperationalError) as bug:
        conn.execute("SELECT no_such_column FROM sqlite_master")
    assert failure(bug.value) is None  # a query's own mistake is a bug, not the cache's
