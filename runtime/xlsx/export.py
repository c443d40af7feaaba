"""Tables → .xlsx: exports with the list view's filters, and import templates.

An export has the fields' labels as headers and the values a person reads:
option labels, the linked record's code (its title field, else its number),
usernames, durations as h:mm:ss — exactly what the importer maps back, so an
export imports again unchanged. Rows are streamed from the database and
written with openpyxl's write-only mode.

A template has the header row, a dropdown for every select, boolean and link
field (link codes live on a hidden sheet), number and date formats, Excel-side
checks for numbers and dates, an input hint on every column (a comment on the
header and a prompt on the cells) and, on a second sheet, a sample row —
kept off the import sheet so it can never be imported by mistake.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import sqlalchemy as sa
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from ..labels import label_text, option_label
from ..listing import ListQuery, filter_clause, search_clause, sort_columns
from ..models import User
from .coerce import NOT_IMPORTABLE
from .read import column_letter

TEMPLATE_ROWS = 1000
MAX_LINK_CODES = 5000
LISTS_SHEET = "_lists"
HEADER_FILL = PatternFill("solid", fgColor="FFDDEBF7")
BOLD = Font(bold=True)
_BOOLEAN_WORDS = {"en": ("yes", "no"), "zh": ("是", "否")}
_FORMATS = {"integer": "0", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}


def export_fields(tdef) -> list[dict]:
    return [f for f in tdef.fields.values() if f["type"] not in ("child_rows", "attachment")]


def headers(tdef, fields, language: str) -> list[str]:
    """Labels as headers; where two fields share a label, their names (which always map back)."""
    labels = [label_text(f.get("label"), language, f["name"]) for f in fields]
    return [f["name"] if labels.count(text) > 1 else text for f, text in zip(fields, labels)]


# -- export --------------------------------------------------------------------

def export_table(records, table: str, path, query: ListQuery | None = None, *, language: str = "en",
                 progress=None, cancelled=None, chunk: int = 2000) -> int:
    """Write every record matching ``query`` (filters, search, sort) to ``path``; returns the row count."""
    tdef = records.table(table, "read")
    sql, query = records.sql(tdef), query or ListQuery()
    conditions = [filter_clause(tdef, sql, f) for f in query.filters]
    if query.search:
        conditions.append(search_clause(tdef, sql, query.search))
    visible = records.visible(tdef)
    if visible is not None:
        conditions.append(visible)
    stmt = sa.select(sql).where(*conditions).order_by(*sort_columns(tdef, sql, query.sort))
    fields = export_fields(tdef)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(tdef.label(language)))
    sheet.freeze_panes = "A2"
    sheet.append([_bold(sheet, text) for text in headers(tdef, fields, language)])
    done = 0
    with records.database.read() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(sql).where(*conditions)).scalar()
        result = conn.execution_options(yield_per=chunk).execute(stmt).mappings()
        for rows in result.partitions(chunk):
            if cancelled is not None and cancelled():
                from ..jobs import JobCancelled
                raise JobCancelled("the export was cancelled")
            codes = _codes(conn, records.live, fields, rows)
            for row in rows:
                sheet.append([_cell_value(f, row[f["name"]], codes, language) for f in fields])
            done += len(rows)
            if progress is not None:
                progress(done, total)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return done


def _bold(sheet, text):
    cell = WriteOnlyCell(sheet, value=text)
    cell.font, cell.fill = BOLD, HEADER_FILL
    return cell


def _sheet_title(text: str) -> str:
    for char in "[]:*?/\\":
        text = text.replace(char, " ")
    return text.strip()[:31] or "Sheet1"


def _codes(conn, live, fields, rows) -> dict:
    """(field name, id) → the code a person types for linked records and users, for one chunk."""
    codes = {}
    for fdef in fields:
        if fdef["type"] not in ("link", "user"):
            continue
        ids = list({row[fdef["name"]] for row in rows if row[fdef["name"]] is not None})
        if not ids:
            continue
        for record_id, code in _code_query(conn, live, fdef, ids):
            codes[(fdef["name"], record_id)] = code if code is not None else record_id
    return codes


def _code_query(conn, live, fdef, ids):
    if fdef["type"] == "user":
        table, code = User.__table__, User.__table__.c.username
    else:
        target = live.appdef.tables[fdef["table"]]
        table = live.tables[target.name]
        code = table.c[target.title_field] if target.title_field else table.c._name
    return conn.execute(sa.select(table.c.id, code).where(table.c.id.in_(ids))).all()


def _cell_value(fdef, value, codes, language):
    if value is None:
        return None
    kind = fdef["type"]
    if kind in ("link", "user"):
        return codes.get((fdef["name"], value), value)
    if kind == "select":
        return option_label(fdef, value, language)
    if kind == "multi_select":
        return ", ".join(option_label(fdef, v, language) for v in value)
    if kind == "duration":
        hours, rest = divmod(int(value), 3600)
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    if kind == "formula" and isinstance(value, Decimal):
        return value
    if isinstance(value, (dict, list)):
        return str(value)
    return value


# -- import template -------------------------------------------------------------

def import_template(records, table: str, path, *, language: str = "en") -> str:
    """An empty import sheet for ``table`` with dropdowns, formats and hints; returns the path."""
    tdef = records.table(table, "read")
    fields = [f for f in tdef.fields.values() if f["type"] not in NOT_IMPORTABLE]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = _sheet_title(tdef.label(language))
    lists = book.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    names = headers(tdef, fields, language)
    with records.database.read() as conn:
        for col, (fdef, text) in enumerate(zip(fields, names), start=1):
            _template_column(sheet, lists, conn, records.live, fdef, col, text, language)
    sheet.freeze_panes = "A2"
    _example_sheet(book, fields, names, language)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return str(path)


def _template_column(sheet, lists, conn, live, fdef, col, text, language):
    letter = column_letter(col)
    cell = sheet.cell(row=1, column=col, value=text)
    cell.font, cell.fill = BOLD, HEADER_FILL
    hint = field_hint(fdef, language)
    cell.comment = Comment(hint, "Takt", width=260, height=110)
    sheet.column_dimensions[letter].width = max(12, min(40, len(text) * 2 + 4))
    if fdef["type"] in _FORMATS or fdef["type"] == "decimal":
        sheet.column_dimensions[letter].number_format = _FORMATS.get(fdef["type"]) or _decimal_format(fdef)
    validation = _validation(lists, conn, live, fdef, col, language)
    validation.promptTitle = label_text(fdef.get("label"), language, fdef["name"])[:32]
    validation.prompt = hint[:255]
    validation.showInputMessage = True
    validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
    sheet.add_data_validation(validation)


def _decimal_format(fdef) -> str:
    scale = fdef.get("scale", 2)
    return "0." + "0" * scale if scale else "0"


def _validation(lists, conn, live, fdef, col, language) -> DataValidation:
    kind = fdef["type"]
    choices = _choices(conn, live, fdef, language)
    if choices:
        for row, value in enumerate(choices, start=1):
            lists.cell(row=row, column=col, value=value)
        letter = column_letter(col)
        return DataValidation(type="list", formula1=f"'{LISTS_SHEET}'!${letter}$1:${letter}${len(choices)}",
                              allow_blank=True, showErrorMessage=kind != "multi_select",
                              error=_text(language, "choose"))
    if kind in ("integer", "decimal"):
        low, high = fdef.get("min", -1e15), fdef.get("max", 1e15)
        return DataValidation(type="whole" if kind == "integer" else "decimal", operator="between",
                              formula1=str(low), formula2=str(high), allow_blank=True, showErrorMessage=True,
                              error=_text(language, "number"))
    if kind in ("date", "datetime"):
        return DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True,
                              showErrorMessage=True, error=_text(language, "date"))
    return DataValidation(type=None, allow_blank=True)


def _choices(conn, live, fdef, language) -> list:
    kind = fdef["type"]
    if kind in ("select", "multi_select"):
        return [option_label(fdef, v, language) for v in _option_values(fdef)]
    if kind == "boolean":
        return list(_BOOLEAN_WORDS.get(language, _BOOLEAN_WORDS["en"]))
    if kind == "link":
        target = live.appdef.tables[fdef["table"]]
        table = live.tables[target.name]
        code = table.c[target.title_field] if target.title_field else table.c._name
        stmt = sa.select(code).where(code.isnot(None)).order_by(code).limit(MAX_LINK_CODES + 1)
        codes = [c for c in conn.execute(stmt).scalars()]
        return codes if len(codes) <= MAX_LINK_CODES else []
    return []


def _option_values(fdef):
    return [o if isinstance(o, str) else o["value"] for o in fdef.get("options", [])]


_TEXTS = {
    "en": {"required": "required", "optional": "optional", "unit": "unit", "choose": "Choose a value from the list",
           "number": "Enter a number in the allowed range", "date": "Enter a date such as 2026-11-03",
           "link": "the code of a {table} record", "date_hint": "date, e.g. 2026-11-03",
           "datetime_hint": "date and time, e.g. 2026-11-03 08:30", "options": "one of",
           "integer": "whole number", "decimal": "number with up to {scale} decimals", "text": "text",
           "boolean": "yes / no", "duration": "duration, e.g. 1:30:00", "multi": "one or more of (comma separated)",
           "example": "Example", "user": "a username"},
    "zh": {"required": "必填", "optional": "选填", "unit": "单位", "choose": "请从下拉列表中选择",
           "number": "请输入允许范围内的数字", "date": "请输入日期，例如 2026-11-03",
           "link": "{table} 的编码", "date_hint": "日期，例如 2026-11-03",
           "datetime_hint": "日期时间，例如 2026-11-03 08:30", "options": "可选值",
           "integer": "整数", "decimal": "数字，最多 {scale} 位小数", "text": "文本",
           "boolean": "是 / 否", "duration": "时长，例如 1:30:00", "multi": "可多选（用逗号分隔）",
           "example": "示例", "user": "用户名"},
}


def _text(language, key, **values) -> str:
    return _TEXTS.get(language, _TEXTS["en"])[key].format(**values)


def field_hint(fdef, language: str = "en") -> str:
    """One line a person reads before typing into the column."""
    kind = fdef["type"]
    parts = [_text(language, "required" if fdef.get("required") else "optional")]
    if kind in ("select", "multi_select"):
        shown = ", ".join(option_label(fdef, v, language) for v in _option_values(fdef)[:15])
        parts.append(f"{_text(language, 'multi' if kind == 'multi_select' else 'options')}: {shown}")
    elif kind == "link":
        parts.append(_text(language, "link", table=fdef["table"]))
    elif kind in ("date", "datetime"):
        parts.append(_text(language, f"{kind}_hint"))
    elif kind == "user":
        parts.append(_text(language, "user"))
    else:
        parts.append(_text(language, kind if kind in _TEXTS["en"] else "text", scale=fdef.get("scale", 2)))
    if fdef.get("unit"):
        parts.append(f"{_text(language, 'unit')}: {fdef['unit']}")
    if fdef.get("min") is not None or fdef.get("max") is not None:
        parts.append(f"{fdef.get('min', '')} … {fdef.get('max', '')}")
    if fdef.get("help"):
        parts.append(label_text(fdef["help"], language))
    return " · ".join(parts)


def _example_sheet(book, fields, names, language):
    sheet = book.create_sheet(_text(language, "example"))
    sheet.append(names)
    sheet.append([sample_value(f, language) for f in fields])
    for cell in sheet[1]:
        cell.font, cell.fill = BOLD, HEADER_FILL
    for col, fdef in enumerate(fields, start=1):
        if fdef["type"] in _FORMATS:
            sheet.cell(row=2, column=col).number_format = _FORMATS[fdef["type"]]


def sample_value(fdef, language="en"):
    kind = fdef["type"]
    if kind in ("select", "multi_select") and fdef.get("options"):
        return option_label(fdef, _option_values(fdef)[0], language)
    low = fdef.get("min", 0) or 0
    samples = {
        "integer": int(max(low, 10)), "decimal": Decimal(max(low, 12.5)).quantize(Decimal(1).scaleb(-fdef.get("scale", 2))),
        "date": dt.date(2026, 11, 3), "datetime": dt.datetime(2026, 11, 3, 8, 30), "boolean": True,
        "duration": "1:30:00", "link": "…", "user": "…", "barcode": "6901234567892",
    }
    return samples.get(kind, label_text(fdef.get("label"), language, fdef["name"]))
