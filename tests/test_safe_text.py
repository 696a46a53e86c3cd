"""One guard against text running as a formula, for the CSV export and the ribbon's cells."""

from __future__ import annotations

import pytest

from xl_lazada.excel.live_writer import text_cell
from xl_lazada.report.csv import _cell as csv_cell
from xl_lazada.safe_text import FORMULA_START, safe_text


@pytest.mark.parametrize("start", FORMULA_START)
def test_both_writers_mark_every_formula_start(start: str) -> None:
    text = f'{start}HYPERLINK("http://evil","x")'
    assert safe_text(text) == "'" + text
    assert csv_cell(text) == "'" + text  # the CSV export
    assert text_cell(text) == "'" + text  # a cell the ribbon writes (tab and CR included)


def test_an_apostrophe_is_kept_in_excel_and_left_alone_in_a_file() -> None:
    # Excel eats one leading apostrophe of an assigned value: the ribbon adds one to keep it.
    assert text_cell("'quoted") == "''quoted" == safe_text("'quoted", typed=True)
    # In a CSV it is only a character.
    assert csv_cell("'quoted") == "'quoted" == safe_text("'quoted")


def test_ordinary_text_is_unchanged() -> None:
    for text in ("Delivered", "0012345", "Jalan 1 = 2", " =not a formula", ""):
        assert safe_text(text) == text == safe_text(text, typed=True)
        assert csv_cell(text) == text
