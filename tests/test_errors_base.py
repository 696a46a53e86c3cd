"""One base class for every error raised on purpose, so a front end catches one type."""

from __future__ import annotations

import pytest

from xl_lazada.cache.db import CacheError
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
