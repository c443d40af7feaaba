"""Exports with list-view filters, import templates, and export → import round trips."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest

from runtime.listing import Filter, ListQuery
from runtime.xlsx.export import LISTS_SHEET, export_table, import_template
from runtime.xlsx.importer import import_sheet

from .books import PART_APP, add_products

ROUND_TRIP_APP = PART_APP + """
  - name: step
    fields:
      - {name: code, type: text, required: true, unique: true}
      - {name: note, type: long_text, label: {zh: 说明}}
      - {name: started, type: datetime}
      - {name: cycle, type: duration}
      - name: tags
        type: multi_select
        options: [{value: hot, label: {zh: 热}}, {value: cold, label: {zh: 冷}}]
      - {name: part, type: link, table: part}
      - {name: doubled, type: formula, result_type: integer, expression: "coalesce(minutes, 0) * 2"}
      - {name: minutes, type: integer}
"""


def values(records, table):
    fields = [n for n, f in records.table(table).fields.items() if f["type"] != "link"]
    return sorted((tuple(r[n] for n in fields) for r in records.list(table, ListQuery(per_page=500)).rows),
                  key=lambda row: str(row))


def seed(records):
    add_products(records)
    product = {r["code"]: r["id"] for r in records.list("product").rows}
    for i in range(12):
        records.create("part", {"code": f"0{i:03d}", "qty": i * 100, "weight": Decimal(i) / 4,
                                "due": dt.date(2026, 11, 1 + i), "ok": i % 2 == 0,
                                "product": product["P-1" if i % 3 else "P-2"], "prio": ["low", "rush", None][i % 3]})
    part = records.list("part").rows[0]["id"]
    records.create("step", {"code": "S1", "note": "第一行\n第二行", "started": dt.datetime(2026, 11, 3, 8, 30),
                            "cycle": 5430, "tags": ["hot", "cold"], "part": part, "minutes": 7})
    records.create("step", {"code": "S2"})


@pytest.fixture
def app_records(takt):
    takt.publish(ROUND_TRIP_APP.replace("slug: demo", "slug: demo"))
    records = takt.records()
    seed(records)
    return takt, records


def test_export_then_import_gives_identical_rows(app_records, tmp_path):
    takt, records = app_records
    for table in ("part", "step"):
        export_table(records, table, tmp_path / f"{table}.xlsx", language="zh")
    takt.publish(ROUND_TRIP_APP.replace("slug: demo", "slug: copy"))
    copy = takt.records("copy")
    add_products(copy)
    for table in ("part", "step"):
        result = import_sheet(copy, table, tmp_path / f"{table}.xlsx")
        assert result.issues == [], [str(i) for i in result.issues]
        assert values(copy, table) == values(records, table)
    linked = {r["code"]: r["product"] for r in copy.list("part", ListQuery(per_page=100)).rows}
    codes = {r["id"]: r["code"] for r in copy.list("product").rows}
    assert {c: codes[p] for c, p in linked.items()} == {f"0{i:03d}": "P-1" if i % 3 else "P-2" for i in range(12)}


def test_export_uses_labels_codes_and_the_list_filters(app_records, tmp_path):
    _, records = app_records
    query = ListQuery(filters=[Filter("prio", "eq", "rush")], sort=[("code", True)])
    assert export_table(records, "part", tmp_path / "rush.xlsx", query, language="zh") == 4
    sheet = openpyxl.load_workbook(tmp_path / "rush.xlsx").active
    rows = list(sheet.values)
    assert rows[0] == ("编码", "数量", "重量", "交期", "合格", "产品", "优先级")
    assert [r[0] for r in rows[1:]] == ["0010", "0007", "0004", "0001"]
    assert rows[1][5] == "P-1" and rows[1][6] == "加急" and rows[1][3] == dt.datetime(2026, 11, 11)


def test_import_template_has_dropdowns_formats_hints_and_a_sample(app_records, tmp_path):
    takt, records = app_records
    path = import_template(records, "part", tmp_path / "template.xlsx", language="zh")
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == ["编码", "数量", "重量", "交期", "合格", "产品", "优先级"]
    assert book[LISTS_SHEET].sheet_state == "hidden"
    checks = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    assert checks["F2:F1001"].type == "list" and "_lists" in checks["F2:F1001"].formula1
    assert [c.value for c in book[LISTS_SHEET]["F"] if c.value] == ["P-1", "P-2"]
    assert [c.value for c in book[LISTS_SHEET]["G"] if c.value] == ["低", "加急"]
    assert checks["B2:B1001"].type == "whole" and checks["D2:D1001"].type == "date"
    assert checks["A2:A1001"].showInputMessage and "必填" in checks["A2:A1001"].prompt
    assert "必填" in sheet["A1"].comment.text and "单位: kg" in sheet["C1"].comment.text
    assert sheet.column_dimensions["C"].number_format == "0.00"
    assert sheet.max_row == 1, "the sample row is on its own sheet, never imported"
    example = book["示例"]
    assert [c.value for c in example[2]][:3] == ["编码", 10, 12.5]


def test_a_filled_in_template_imports(app_records, tmp_path):
    _, records = app_records
    path = import_template(records, "part", tmp_path / "template.xlsx", language="zh")
    book = openpyxl.load_workbook(path)
    book.worksheets[0].append(["T-1", 5, 2.5, dt.date(2026, 12, 1), "是", "P-2", "加急"])
    book.save(path)
    result = import_sheet(records, "part", path)
    assert result.issues == [] and result.inserted == 1
