"""The error report: a copy of the input with bad cells filled red and commented with the reason."""
from __future__ import annotations

import openpyxl
import pytest

from runtime.xlsx.importer import import_sheet
from runtime.xlsx.report import RED, SUMMARY, write_report

from .books import PART_APP, add_products, good_rows, sheet_book

BAD_ROWS = [["B1", "#DIV/0!", 1, "2026-11-03", "是", "P-1", "low"],
            ["B2", 3, "5 g", "someday", "是", "P-9", "mid"]]


@pytest.fixture
def failed_import(takt_sqlite, tmp_path):
    takt_sqlite.publish(PART_APP)
    records = takt_sqlite.records()
    add_products(records)
    path = sheet_book(tmp_path / "in.xlsx", good_rows() + BAD_ROWS, title_row="11月零件清单")
    return path, import_sheet(records, "part", path)


EXPECTED = {"B8": "formula error #DIV/0!", "C9": "this column takes kg", "D9": "is not a date",
            "F9": "no product record 'P-9'", "G9": "'mid' is not one of the options"}


def check_marks(sheet):
    marked = {c.coordinate for row in sheet.iter_rows() for c in row if c.comment is not None}
    assert marked == set(EXPECTED)
    for coordinate, reason in EXPECTED.items():
        cell = sheet[coordinate]
        assert reason in cell.comment.text and cell.fill.fgColor.rgb == RED.fgColor.rgb
    assert sheet["A8"].fill.fgColor.rgb != RED.fgColor.rgb


def test_report_marks_the_bad_cells_where_they_are(failed_import, tmp_path):
    path, result = failed_import
    book = openpyxl.load_workbook(write_report(path, result, tmp_path / "report.xlsx"))
    check_marks(book["零件"])
    assert book["零件"]["A1"].value == "11月零件清单" and "A1:G1" in book["零件"].merged_cells
    summary = list(book[SUMMARY].values)
    assert summary[0] == ("Sheet", "Row", "Column", "Header", "Value", "Reason")
    assert summary[1][:5] == ("零件", 8, "B", "数量", "#DIV/0!") and len(summary) == 1 + len(EXPECTED)


def test_large_inputs_get_a_streamed_copy_with_the_same_marks(failed_import, tmp_path):
    path, result = failed_import
    report = write_report(path, result, tmp_path / "report.xlsx", full_copy_rows=2)
    check_marks(openpyxl.load_workbook(report)["零件"])
