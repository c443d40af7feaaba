"""Importing a sheet into an existing table, on SQLite and PostgreSQL: exact per-cell problems,
never a partial import in all-or-nothing mode, never an exception for bad input."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest

from runtime.records_bulk import bulk_write
from runtime.xlsx.importer import ImportRefused, import_sheet
from runtime.xlsx.read import XlsxError

from .books import PART_APP, add_products, good_rows, sheet_book


@pytest.fixture
def parts(takt):
    takt.publish(PART_APP)
    records = takt.records()
    add_products(records)
    return records


def stored(records, table="part"):
    fields = records.table(table).fields
    return sorted(({k: r[k] for k in fields} for r in records.list(table).rows), key=lambda r: r["code"])


def problems(result):
    return [(i.row, i.column, i.header, i.value, i.reason) for i in result.issues]


def test_spreadsheet_isms_import_correctly(parts, tmp_path):
    path = sheet_book(tmp_path / "in.xlsx", good_rows(), title_row="11月零件清单")
    result = import_sheet(parts, "part", path)
    assert result.issues == [] and result.inserted == 4 and result.header_row == 3
    rows = {r["code"]: r for r in stored(parts)}
    first = rows["00123"]
    assert (first["qty"], first["weight"], first["due"], first["ok"], first["prio"]) == (
        1200, Decimal("5.00"), dt.date(2026, 11, 3), True, "rush")
    assert rows["A2"]["due"] == rows["A3"]["due"] == dt.date(2026, 11, 3)
    assert rows["A3"]["prio"] == "low" and rows["A4"]["weight"] == Decimal("1234.50")
    product_ids = {r["code"]: r["id"] for r in parts.list("product").rows}
    assert first["product"] == product_ids["P-1"] and rows["A2"]["product"] == product_ids["P-2"]


def test_formula_errors_import_nothing_and_name_the_cells(parts, tmp_path):
    rows = good_rows() + [["B1", "#DIV/0!", 1, "2026-11-03", "是", "P-1", "low"],
                          ["B2", 3, "#REF!", "2026-11-03", "是", "P-1", "low"]]
    result = import_sheet(parts, "part", sheet_book(tmp_path / "e.xlsx", rows))
    assert not result.written and result.inserted == 0 and stored(parts) == []
    assert [(r, c, h, v) for r, c, h, v, _ in problems(result)] == [(6, "B", "数量", "#DIV/0!"), (7, "C", "重量(kg)", "#REF!")]
    assert "formula error #DIV/0!" in result.issues[0].reason


def test_valid_only_imports_the_good_rows_and_reports_the_rest(parts, tmp_path):
    rows = good_rows() + [["B1", "#DIV/0!", 1, "2026-11-03", "是", "P-1", "low"]]
    result = import_sheet(parts, "part", sheet_book(tmp_path / "e.xlsx", rows), mode="valid_only")
    assert result.written and result.inserted == 4 and len(result.issues) == 1
    assert [r["code"] for r in stored(parts)] == ["00123", "A2", "A3", "A4"]


def test_duplicate_headers_are_refused_with_the_columns(parts, tmp_path):
    path = sheet_book(tmp_path / "d.xlsx", [["A1", 1, 2]], header=["编码", "数量", "数量"])
    with pytest.raises(ImportRefused, match="columns B and C both map to field 'qty'"):
        import_sheet(parts, "part", path)


def test_missing_required_column_is_refused(parts, tmp_path):
    path = sheet_book(tmp_path / "r.xlsx", [[1, 2]], header=["数量", "重量"])
    with pytest.raises(ImportRefused, match="required field.*'编码' \\(code\\)"):
        import_sheet(parts, "part", path)


def test_empty_sheet_gives_a_message(parts, tmp_path):
    path = sheet_book(tmp_path / "empty.xlsx", [], header=None)
    with pytest.raises(ImportRefused, match="no header row"):
        import_sheet(parts, "part", path)


def test_header_without_rows_imports_nothing_and_says_so(parts, tmp_path):
    result = import_sheet(parts, "part", sheet_book(tmp_path / "h.xlsx", []))
    assert result.rows == 0 and result.inserted == 0 and result.issues == []


def test_mixed_types_in_a_column_give_per_cell_errors(parts, tmp_path):
    rows = [["A1", 5], ["A2", "待定"], ["A3", 7.5], ["A4", "12"]]
    result = import_sheet(parts, "part", sheet_book(tmp_path / "m.xlsx", rows, header=["编码", "数量"]))
    assert stored(parts) == []
    assert [(r, c, v) for r, c, _, v, _ in problems(result)] == [(3, "B", "待定"), (4, "B", 7.5)]
    assert "not a whole number" in result.issues[0].reason


def test_leading_zero_codes_stay_text(parts, tmp_path):
    import_sheet(parts, "part", sheet_book(tmp_path / "z.xlsx", [["00123"], ["0456"]], header=["编码"]))
    assert [r["code"] for r in stored(parts)] == ["00123", "0456"]


def test_unknown_link_code_and_numeric_codes_are_never_read_as_ids(parts, tmp_path):
    add_products(parts, ["123"])
    first_id = min(r["id"] for r in parts.list("product").rows)
    rows = [["A1", "123"], ["A2", 123], ["A3", str(first_id + 100)], ["A4", "P-9"]]
    result = import_sheet(parts, "part", sheet_book(tmp_path / "l.xlsx", rows, header=["编码", "产品"]),
                          mode="valid_only")
    product_123 = next(r["id"] for r in parts.list("product").rows if r["code"] == "123")
    assert {r["code"]: r["product"] for r in stored(parts)} == {"A1": product_123, "A2": product_123}
    assert [(r, v, reason) for r, _, _, v, reason in problems(result)] == [
        (4, str(first_id + 100), f"no product record '{first_id + 100}'"), (5, "P-9", "no product record 'P-9'")]


def test_upsert_twice_gives_no_duplicates(parts, tmp_path):
    path = sheet_book(tmp_path / "u.xlsx", good_rows())
    assert import_sheet(parts, "part", path, key="code").inserted == 4
    again = import_sheet(parts, "part", path, key="编码")
    assert (again.inserted, again.updated) == (0, 4)
    changed = sheet_book(tmp_path / "u2.xlsx", [["A2", 99], ["NEW", 1]], header=["编码", "数量"])
    third = import_sheet(parts, "part", changed, key="code")
    assert (third.inserted, third.updated) == (1, 1)
    rows = {r["code"]: r for r in stored(parts)}
    assert len(rows) == 5 and rows["A2"]["qty"] == 99 and rows["A2"]["weight"] == Decimal("2.50")


def test_upsert_key_must_be_a_column(parts, tmp_path):
    path = sheet_book(tmp_path / "k.xlsx", [[1]], header=["编码"])
    with pytest.raises(ImportRefused, match="cannot upsert by 'nope'"):
        import_sheet(parts, "part", path, key="nope")


def test_duplicate_keys_inside_the_file_are_cell_errors(parts, tmp_path):
    result = import_sheet(parts, "part", sheet_book(tmp_path / "k.xlsx", [["A1"], ["A1"]], header=["编码"]))
    assert stored(parts) == [] and problems(result)[0][:2] == (3, "A")
    assert "already used by another row of this file" in result.issues[0].reason


def test_merged_cells_fill_down_and_across_columns_are_refused(parts, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["编码", "优先级", "数量", "重量"])
    for i in range(4):
        sheet.append([f"A{i}", "加急" if i == 0 else None, i, 1])
    sheet.merge_cells("B2:B4")
    sheet.merge_cells("C5:D5")
    book.save(tmp_path / "m.xlsx")
    result = import_sheet(parts, "part", tmp_path / "m.xlsx", mode="valid_only")
    assert [(r["code"], r["prio"]) for r in stored(parts)] == [("A0", "rush"), ("A1", "rush"), ("A2", "rush")]
    assert problems(result)[0][:2] == (5, "D") and "C5:D5" in result.issues[0].reason


def test_value_far_below_the_table_is_a_clear_error_not_an_import(parts, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["编码", "数量"])
    sheet.append(["A1", 1])
    sheet.cell(row=1048576, column=1, value="x")
    book.save(tmp_path / "far.xlsx")
    result = import_sheet(parts, "part", tmp_path / "far.xlsx")
    assert stored(parts) == [] and problems(result)[0][:2] == (1048576, "A")
    assert "blank rows below row 2" in result.issues[0].reason


def test_explicit_mapping_and_ignored_columns(parts, tmp_path):
    path = sheet_book(tmp_path / "x.xlsx", [["A1", 5, "x"]], header=["Teil-Nr.", "Menge", "Bemerkung"])
    result = import_sheet(parts, "part", path, mapping={"Teil-Nr.": "code", "Menge": "qty"})
    assert result.mapping == {"Teil-Nr.": "code", "Menge": "qty"}
    assert any("'Bemerkung' matches no field" in n for n in result.notes)
    assert [(r["code"], r["qty"]) for r in stored(parts)] == [("A1", 5)]


def test_mapping_to_an_unknown_field_is_refused(parts, tmp_path):
    path = sheet_book(tmp_path / "x.xlsx", [["A1"]], header=["Teil"])
    with pytest.raises(ImportRefused, match="names field 'nope'"):
        import_sheet(parts, "part", path, mapping={"Teil": "nope"})


def test_unreadable_file_is_an_xlsx_error(parts, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_text("code,qty\n", encoding="utf-8")
    with pytest.raises(XlsxError, match="not an .xlsx workbook"):
        import_sheet(parts, "part", path)


def test_existing_rows_stay_when_an_all_or_nothing_import_fails(parts, tmp_path):
    bulk_write(parts, "part", [{"code": "KEEP", "qty": 1}])
    rows = good_rows() + [["B1", "#DIV/0!"]]
    import_sheet(parts, "part", sheet_book(tmp_path / "e.xlsx", rows))
    assert [(r["code"], r["qty"]) for r in stored(parts)] == [("KEEP", 1)]
