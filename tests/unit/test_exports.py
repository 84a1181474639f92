"""The export writer: text a spreadsheet would run as a formula gets a leading quote,
numbers stay numbers, the quote comes off again on import, and otherwise the output is
what Python's csv module writes."""

from __future__ import annotations

import csv
import io

import pytest

from controlroom.web.exports import FORMULA_START, csv_text, restore_cell, safe_cell

PLANTED = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+86 138 0000 0000", "-5 元立减", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", PLANTED)
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("number", [-120, -1.5, 0, 42, 3.25])
def test_numbers_stay_numbers(number):
    assert safe_cell(number) is number


@pytest.mark.parametrize("value", ["", "小明", "A1", "5-2", "a=b", " =1", "'", "'abc", None, True, False])
def test_harmless_cells_are_left_alone(value):
    assert safe_cell(value) is value


def test_a_cell_that_already_starts_with_a_quote_gets_one_more_so_import_can_tell():
    assert safe_cell("'=x") == "''=x" and safe_cell("''-1") == "'''-1"
    assert restore_cell("''=x") == "'=x" and restore_cell("'abc") == "'abc" and restore_cell("=x") == "=x"


@pytest.mark.parametrize("text", PLANTED + ["", "'", "''", "'=x", "''@y", "'abc", "-", "小明", "a'=b"])
def test_restore_undoes_safe(text):
    assert restore_cell(safe_cell(text)) == text


def test_csv_text_never_starts_a_cell_with_a_formula_character():
    body = csv_text([[text, -120, text] for text in PLANTED], ["=header", "over_s", "name"])
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"), newline="")))
    assert rows[0] == ["'=header", "over_s", "name"]
    for row, text in zip(rows[1:], PLANTED):
        assert row == ["'" + text, "-120", "'" + text]
        assert not any(cell.startswith(FORMULA_START) for cell in row if cell != "-120")


def test_csv_text_otherwise_writes_what_the_csv_module_writes():
    header = ["sku", "title", "over_s", "rate", "skipped", "rank"]
    rows = [
        {"sku": "A1", "title": '一号 "爆款", 限时', "over_s": -120, "rate": 0.125, "skipped": False, "rank": None},
        {"sku": "B2", "title": "两行\n文字", "over_s": 30},  # a missing key is an empty cell
        ["C3", "普通", 0, 1.0, True, 2],
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name) for name in header] if isinstance(row, dict) else row)
    assert csv_text(rows, header) == "\ufeff" + out.getvalue()
    assert csv_text(rows, header, bom=False) == out.getvalue()
    assert "\r\n" in out.getvalue() and ",-120," in out.getvalue()
