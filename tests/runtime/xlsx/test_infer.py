"""Workbook → app definition, and new apps created from workbooks (all or nothing)."""
from __future__ import annotations

import openpyxl
import pytest
import sqlalchemy as sa

from runtime.models import App
from runtime.validator import validate
from runtime.xlsx.infer import infer_app, slug_for
from runtime.xlsx.newapp import create_from_workbook
from runtime.xlsx.read import XlsxError, open_workbook

from .books import plant_book, sheet_book


def infer(path, slug="plant"):
    with open_workbook(path) as book:
        return infer_app(book, slug)


def fields_of(doc, label):
    table = next(t for t in doc["tables"] if t["label"] == label)
    return {f["label"]: f for f in table["fields"]}, table


def test_realistic_plant_workbook_infers_a_valid_app(tmp_path):
    inference = infer(plant_book(tmp_path / "plant.xlsx"))
    assert validate(inference.doc) == []
    products, product_table = fields_of(inference.doc, "产品")
    orders, order_table = fields_of(inference.doc, "生产工单")
    assert orders["生产订单号"] == {"name": "col_1", "label": "生产订单号", "type": "text", "help": "每张工单唯一",
                                  "required": True, "unique": True}
    assert order_table["title_field"] == "col_1" and product_table["title_field"] == "col_1"
    assert orders["产品编码"]["type"] == "link" and orders["产品编码"]["table"] == product_table["name"]
    assert orders["数量"]["type"] == "integer" and orders["交期"]["type"] == "date"
    assert orders["状态"] == {"name": "col_5", "label": "状态", "type": "select", "options": ["待产", "生产中", "完工", "暂停"]}
    assert orders["加急"]["type"] == "boolean"
    assert orders["物料号"]["type"] == "text", "leading-zero codes stay text"
    assert orders["重量"] == {"name": "col_8", "label": "重量", "type": "decimal", "scale": 2, "unit": "kg"}
    assert products["单价"] == {"name": "col_3", "label": "单价", "type": "decimal", "scale": 1}
    assert products["单位"] == {"name": "col_4", "label": "单位", "type": "select", "options": ["件"]}
    assert [p.table for p in inference.load_order()] == [product_table["name"], order_table["name"]]


def test_plant_workbook_publishes_and_loads(takt, tmp_path):
    outcome = create_from_workbook(takt.app, plant_book(tmp_path / "plant.xlsx"), "plant")
    assert outcome.created and outcome.issues == []
    assert [r.inserted for r in outcome.results] == [6, 12]
    records = takt.records("plant")
    orders = records.list(outcome.inference.sheets[1].table).rows
    products = {r["id"]: r["col_1"] for r in records.list(outcome.inference.sheets[0].table).rows}
    first = next(r for r in orders if r["col_1"] == "WO-2611-0001")
    assert products[first["col_2"]] == "P-001" and first["col_7"] == "00001" and first["col_6"] is False


def no_app(takt, slug="plant"):
    return takt.scalar(sa.select(sa.func.count()).select_from(App).where(App.slug == slug)) == 0


def test_dry_run_creates_nothing(takt, tmp_path):
    outcome = create_from_workbook(takt.app, plant_book(tmp_path / "plant.xlsx"), "plant", dry_run=True)
    assert not outcome.created and [r.inserted for r in outcome.results] == [6, 12]
    assert no_app(takt)


def test_a_bad_cell_anywhere_creates_no_app_and_no_tables(takt, tmp_path):
    path = plant_book(tmp_path / "plant.xlsx")
    book = openpyxl.load_workbook(path)
    book["生产工单"]["C9"] = "#DIV/0!"
    book.save(path)
    outcome = create_from_workbook(takt.app, path, "plant")
    assert not outcome.created and no_app(takt)
    assert [(i.sheet, i.row, i.column) for i in outcome.issues] == [("生产工单", 9, "C")]
    assert not sa.inspect(takt.db.engine).has_table("plant__sheet_1")


def test_duplicate_headers_become_separate_fields_with_a_note(tmp_path):
    inference = infer(sheet_book(tmp_path / "d.xlsx", [["A", 1, 2]], header=["Code", "数量", "数量"]))
    assert [f["name"] for f in inference.doc["tables"][0]["fields"]] == ["code", "col_2", "col_3"]
    assert any("'数量' appears in columns B, C" in p for p in inference.problems)


def test_a_unit_in_the_header_becomes_the_field_unit(tmp_path):
    inference = infer(sheet_book(tmp_path / "u.xlsx", [["A", 5, 1.5]], header=["Code", "Qty (pcs)", "重量（kg）"]))
    fields = inference.doc["tables"][0]["fields"]
    assert [(f["name"], f["type"], f.get("unit")) for f in fields] == [
        ("code", "text", None), ("qty", "integer", "pcs"), ("col_3", "decimal", "kg")]


def test_mixed_types_become_text_with_a_note(tmp_path):
    rows = [["A1", 5], ["A2", "待定"], ["A3", 7]]
    inference = infer(sheet_book(tmp_path / "m.xlsx", rows, header=["Code", "Qty"]))
    assert inference.doc["tables"][0]["fields"][1]["type"] == "text"
    assert any("mixed values" in p for p in inference.problems)


def test_header_only_sheet_makes_an_empty_table_and_empty_workbook_is_refused(tmp_path):
    inference = infer(sheet_book(tmp_path / "h.xlsx", [], header=["Code", "Qty"]))
    assert [f["type"] for f in inference.doc["tables"][0]["fields"]] == ["text", "text"]
    assert any("no data rows" in p for p in inference.problems)
    with pytest.raises(XlsxError, match="no sheet with a header row"):
        infer(sheet_book(tmp_path / "e.xlsx", [], header=None))


@pytest.mark.parametrize("text,expected", [("生产订单号", "col_3"), ("Qty (pcs)", "qty"), ("2024 Output", "f_2024_output"),
                                           ("id", "id_field"), ("重量(kg)", "col_3"), ("Work-Order No.", "work_order_no")])
def test_identifiers_from_headers(text, expected):
    assert slug_for(text, "col_3", 40) == expected
