"""Workbooks for the xlsx tests, generated with openpyxl in the test (no binary fixtures)."""
from __future__ import annotations

import datetime as dt

import openpyxl
from openpyxl.comments import Comment
from openpyxl.worksheet.datavalidation import DataValidation

PART_APP = """
slug: demo
tables:
  - name: product
    title_field: code
    fields:
      - {name: code, type: text, required: true, unique: true, label: {en: Product code, zh: 产品编码}}
      - {name: name, type: text, label: {en: Name, zh: 名称}}
  - name: part
    fields:
      - {name: code, type: text, required: true, unique: true, label: {en: Code, zh: 编码}}
      - {name: qty, type: integer, label: {en: Quantity, zh: 数量}}
      - {name: weight, type: decimal, scale: 2, unit: kg, label: {en: Weight, zh: 重量}}
      - {name: due, type: date, label: {en: Due, zh: 交期}}
      - {name: ok, type: boolean, label: {en: OK, zh: 合格}}
      - {name: product, type: link, table: product, label: {en: Product, zh: 产品}}
      - name: prio
        type: select
        label: {en: Priority, zh: 优先级}
        options: [{value: low, label: {en: Low, zh: 低}}, {value: rush, label: {en: Rush, zh: 加急}}]
"""

HEADERS = ["编码", "数量", "重量(kg)", "交期", "合格", "产品", "优先级"]


def save(book, path):
    book.save(path)
    return path


def sheet_book(path, rows, title="零件", header=HEADERS, title_row=None):
    """One sheet: an optional merged title row and a blank row, the header, then ``rows``."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    if title_row:
        sheet["A1"] = title_row
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
        sheet.append([])
    if header:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    return save(book, path)


def good_rows():
    return [["00123", "1,200", "5 kg", "2026/11/03", "是", "P-1", "加急"],
            ["A2", 5, 2.5, "3.11.2026", "N", "P-2", "low"],
            ["A3", 7, 1, "2026年11月3日", "Y", "P-1", "Low"],
            ["A4", 8, "1,234.5", dt.date(2026, 1, 2), False, None, None]]


def add_products(records, codes=("P-1", "P-2")):
    for code in codes:
        records.create("product", {"code": code})


def plant_book(path):
    """A realistic plant workbook: products, and work orders under a merged title row with
    Chinese headers, a dropdown, a header comment and codes that link to the products."""
    book = openpyxl.Workbook()
    products = book.active
    products.title = "产品"
    products.append(["产品编码", "名称", "单价", "单位"])
    for i in range(6):
        products.append([f"P-{i:03d}", f"法兰盘 {i}", 12.5 + i, "件"])
    orders = book.create_sheet("生产工单")
    orders["A1"] = "2026年11月 生产工单"
    orders.merge_cells("A1:H1")
    orders.append([])
    orders.append(["生产订单号", "产品编码", "数量", "交期", "状态", "加急", "物料号", "重量"])
    orders["A3"].comment = Comment("每张工单唯一", "planner")
    dropdown = DataValidation(type="list", formula1='"待产,生产中,完工,暂停"')
    orders.add_data_validation(dropdown)
    dropdown.add("E4:E500")
    for i in range(12):
        orders.append([f"WO-2611-{i:04d}", f"P-{i % 6:03d}", 100 + i * 10, f"2026/11/{i + 1:02d}",
                       ["待产", "生产中", "完工"][i % 3], "是" if i % 4 == 0 else "否", f"{i:05d}", f"{1.25 * i} kg"])
    return save(book, path)
