"""Reading workbooks: unreadable files give a message, cells a person must fix become BadCell."""
from __future__ import annotations

import zipfile

import openpyxl
import pytest
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from runtime.xlsx.read import OLE_SIGNATURE, BadCell, Sheet, XlsxError, open_workbook
from runtime.xlsx.table import data_rows, find_header, split_head

from .books import sheet_book


def refused(path) -> str:
    with pytest.raises(XlsxError) as caught:
        open_workbook(path)
    return str(caught.value)


def test_corrupted_file(tmp_path):
    good = sheet_book(tmp_path / "good.xlsx", [["A1", 1]])
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(good.read_bytes()[:400])
    assert "damaged" in refused(broken)


def test_zip_that_is_no_workbook(tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "not a workbook" in refused(path)


def test_csv_renamed_to_xlsx(tmp_path):
    path = tmp_path / "orders.xlsx"
    path.write_text("code,qty\nA1,5\n", encoding="utf-8")
    message = refused(path)
    assert "not an .xlsx workbook" in message and "CSV" in message


def test_html_export_renamed_to_xlsx(tmp_path):
    path = tmp_path / "report.xlsx"
    path.write_text("<html><body><table><tr><td>1</td></tr></table></body></html>", encoding="utf-8")
    assert "web page (HTML)" in refused(path)


def test_encrypted_workbook(tmp_path):
    # Stand-in for a password-protected workbook: Excel saves those as an OLE/CFB compound file
    # whose directory holds an "EncryptionInfo" stream. The signature plus that stream name is
    # all the reader looks at; a real encrypted file is not needed (and needs a tool to make).
    path = tmp_path / "secret.xlsx"
    path.write_bytes(OLE_SIGNATURE + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 1000)
    message = refused(path)
    assert "password" in message and "encrypted" in message


def test_old_xls_renamed(tmp_path):
    path = tmp_path / "old.xlsx"
    path.write_bytes(OLE_SIGNATURE + b"\0" * 2000)
    assert ".xls" in refused(path)


def test_empty_file_and_missing_file(tmp_path):
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    assert "empty (0 bytes)" in refused(empty)
    assert "no such file" in refused(tmp_path / "nope.xlsx")


def test_unknown_sheet_names_the_sheets(tmp_path):
    path = sheet_book(tmp_path / "b.xlsx", [["A1", 1]])
    with open_workbook(path) as book, pytest.raises(XlsxError, match="no sheet 'Orders'.*零件"):
        book.sheet("Orders")


def test_formula_errors_become_bad_cells(tmp_path):
    path = sheet_book(tmp_path / "e.xlsx", [["A1", "#DIV/0!", 1], ["A2", 3, "#REF!"], ["A3", "=1/0", 2]],
                      header=["code", "qty", "price"])
    with open_workbook(path) as book:
        rows = dict(book.sheet().rows())
    assert isinstance(rows[2][1], BadCell) and rows[2][1].value == "#DIV/0!" and "#DIV/0!" in rows[2][1].reason
    assert isinstance(rows[3][2], BadCell) and rows[3][2].value == "#REF!"
    assert isinstance(rows[4][1], BadCell) and "without a saved result" in rows[4][1].reason
    assert rows[2][2] == 1 and rows[3][1] == 3


def test_header_under_merged_title_row(tmp_path):
    path = sheet_book(tmp_path / "t.xlsx", [["A1", 5, 1.5, "2026-11-03", "是", "P-1", "low"]], title_row="11月零件清单")
    with open_workbook(path) as book:
        head, _ = split_head(book.sheet().rows())
    header = find_header(head)
    assert header.row == 3 and header.columns[1] == "编码" and header.columns[3] == "重量(kg)"


def test_duplicate_headers_are_listed(tmp_path):
    path = sheet_book(tmp_path / "d.xlsx", [["A1", 1, 2]], header=["编码", "数量", "数量"])
    with open_workbook(path) as book:
        head, _ = split_head(book.sheet().rows())
    assert find_header(head).duplicates == {"数量": [2, 3]}


def _stray_book(tmp_path, styled_only=False):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["code", "qty"])
    for i in range(5):
        sheet.append([f"A{i}", i])
    if styled_only:
        sheet.cell(row=1048576, column=2).font = Font(bold=True)
    else:
        sheet.cell(row=1048576, column=1, value="x")
    book.save(tmp_path / "big.xlsx")
    return tmp_path / "big.xlsx"


def test_value_in_row_1048576_is_streamed_and_flagged(tmp_path, monkeypatch):
    def dense_grid(self):
        raise AssertionError("calamine would build a grid of 1,048,576 x 2 cells")

    monkeypatch.setattr(Sheet, "_calamine_rows", dense_grid)
    path = _stray_book(tmp_path)
    with open_workbook(path) as book:
        sheet = book.sheet()
        assert sheet.scan.sparse and sheet.scan.last_row == 1048576
        head, rest = split_head(sheet.rows())  # a generator: blank rows are skipped as they stream by
        rows = list(data_rows(head + list(rest), find_header(head), sheet.merges))
    assert [n for n, _ in rows] == [2, 3, 4, 5, 6, 1048576]
    stray = rows[-1][1][0]
    assert isinstance(stray, BadCell) and "1,048,569 blank rows below row 6" in stray.reason


def test_styled_cell_in_row_1048576_is_a_trailing_blank_row(tmp_path):
    with open_workbook(_stray_book(tmp_path, styled_only=True)) as book:
        rows = list(book.sheet().rows())
    assert [n for n, _ in rows] == [1, 2, 3, 4, 5, 6]


def test_merged_cells_fill_down_and_refuse_across_columns(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["code", "line", "note", "extra"])
    for i in range(4):
        sheet.append([f"A{i}", "L1" if i == 0 else None, f"n{i}", None])
    sheet.merge_cells("B2:B4")
    sheet.merge_cells("C5:D5")
    book.save(tmp_path / "m.xlsx")
    with open_workbook(tmp_path / "m.xlsx") as book:
        source = book.sheet()
        head, rest = split_head(source.rows())
        rows = dict(data_rows(head + list(rest), find_header(head), source.merges))
    assert [rows[n][1] for n in (2, 3, 4)] == ["L1", "L1", "L1"] and rows[5][1] is None
    assert rows[5][2] == "n3" and isinstance(rows[5][3], BadCell) and "C5:D5" in rows[5][3].reason


def test_list_validations_inline_and_from_another_sheet(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["code", "status", "line"])
    lists = book.create_sheet("Lists")
    for value in ("L1", "L2", "L3"):
        lists.append([value])
    inline = DataValidation(type="list", formula1='"open,done"')
    ranged = DataValidation(type="list", formula1="Lists!$A$1:$A$3")
    sheet.add_data_validation(inline)
    sheet.add_data_validation(ranged)
    inline.add("B2:B100")
    ranged.add("C2:C100")
    book.save(tmp_path / "v.xlsx")
    with open_workbook(tmp_path / "v.xlsx") as book:
        found = book.sheet().list_validations()
    assert ([(2, 2, 2, 100)], ["open", "done"]) in found
    assert ([(3, 2, 3, 100)], ["L1", "L2", "L3"]) in found


def test_table_that_starts_in_column_c_keeps_excel_column_numbers(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["C4"], sheet["D4"] = "code", "qty"
    sheet["C5"], sheet["D5"] = "A1", "#DIV/0!"
    book.save(tmp_path / "c.xlsx")
    with open_workbook(tmp_path / "c.xlsx") as book:
        rows = dict(book.sheet().rows())
    assert rows[4][:4] == [None, None, "code", "qty"]
    assert rows[5][2] == "A1" and isinstance(rows[5][3], BadCell)
