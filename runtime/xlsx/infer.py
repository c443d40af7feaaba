"""Workbook → app definition: one table per sheet, one field per column.

Per sheet: the header row is found under title and blank rows; each header
becomes an ASCII field name (``col_3`` for 生产订单号 — no transliteration)
while the header text stays the label. Types are inferred from every value
of the column, after the same normalisation the importer applies: integer,
decimal(scale), date, datetime, boolean, select (few distinct values, or a
list dropdown in the sheet), text; codes with leading zeros (``00123``) stay
text. The first column whose values are all present and distinct is the
table's key; a column whose values all occur in another sheet's key becomes
a link to that table. Everything surprising is reported as a problem line.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from ..definition import RESERVED_FIELDS
from .coerce import ERROR_CODES, _GROUPED, _WITH_UNIT, _SYMBOLS, parse_text_date
from .read import BadCell, cell_text, column_letter
from .table import Header, data_rows, find_header, split_head

DISTINCT_CAP = 200_000
SELECT_MAX_OPTIONS = 12
MAX_SCALE = 6
_BOOL_WORDS = {"是", "否", "y", "n", "yes", "no", "true", "false", *_SYMBOLS}
_CODE = re.compile(r"[+-]?0\d+")
_NUMBER = re.compile(r"[+-]?(\d+)(?:\.(\d+))?")
_HEADER_UNIT = re.compile(r"[（(]\s*([^()（）\s]{1,10})\s*[)）]\s*$")  # 重量(kg), Qty (pcs)


@dataclass
class ColumnStats:
    number: int
    header: str
    count: int = 0
    kinds: Counter = field(default_factory=Counter)
    scale: int = 0
    units: Counter = field(default_factory=Counter)
    distinct: dict = field(default_factory=dict)        # text → None, in order of appearance (capped)
    overflow: bool = False
    max_length: int = 0
    errors: int = 0

    def add(self, value) -> None:
        kind = classify(value, self)
        if kind == "error":
            self.errors += 1
            return
        self.count += 1
        self.kinds[kind] += 1
        text = cell_text(value)
        self.max_length = max(self.max_length, len(text))
        if not self.overflow:
            self.distinct[text] = None
            self.overflow = len(self.distinct) > DISTINCT_CAP

    @property
    def all_distinct(self) -> bool:
        return not self.overflow and len(self.distinct) == self.count


def classify(value, stats: ColumnStats | None = None) -> str:
    """int, decimal, date, datetime, bool, code, text or error; records scale and unit on ``stats``."""
    kind = type(value)
    if kind is BadCell:
        return "error"
    if kind is bool:
        return "bool"
    if kind is int:
        return "int"
    if kind is float:
        return "int" if value.is_integer() else _decimal(f"{value:.15g}", stats)
    if kind is dt.datetime:
        return "date" if value.time() == dt.time() else "datetime"
    if kind is dt.date:
        return "date"
    if kind is str:
        return _classify_text(value.strip(), stats)
    return "text"


def _decimal(text: str, stats) -> str:
    places = -Decimal(text).as_tuple().exponent
    if stats is not None:
        stats.scale = max(stats.scale, places)
    return "decimal" if places > 0 else "int"


def _classify_text(text: str, stats) -> str:
    if text in ERROR_CODES:
        return "error"
    if text.casefold() in _BOOL_WORDS:
        return "bool"
    if _CODE.fullmatch(text):
        return "code"
    parsed = parse_text_date(text)
    if parsed is not None and not isinstance(parsed, BadCell):
        return "datetime" if isinstance(parsed, dt.datetime) else "date"
    number = re.sub(r"[, '’]", "", text) if _GROUPED.fullmatch(text) else text
    if _NUMBER.fullmatch(number):
        return _decimal(number, stats)
    unit = _WITH_UNIT.fullmatch(text)
    if unit and _NUMBER.fullmatch(re.sub(r"[, '’]", "", unit.group(1))):
        if stats is not None:
            stats.units[unit.group(2).strip()] += 1
        return _decimal(re.sub(r"[, '’]", "", unit.group(1)), stats) + "_unit"
    return "text"


@dataclass
class SheetPlan:
    sheet: str
    table: str
    header_row: int
    columns: dict[int, str]                  # column number → field name
    stats: dict[int, ColumnStats]
    key: str | None = None


@dataclass
class Inference:
    doc: dict
    sheets: list[SheetPlan]
    problems: list[str]

    def load_order(self) -> list[SheetPlan]:
        """Sheets whose tables others link to come first."""
        tables = {t["name"]: t for t in self.doc["tables"]}
        order, done = [], set()

        def visit(plan, seen=()):
            if plan.table in done or plan.table in seen:
                return
            for fdef in tables[plan.table]["fields"]:
                if fdef["type"] == "link":
                    visit(next(p for p in self.sheets if p.table == fdef["table"]), (*seen, plan.table))
            done.add(plan.table)
            order.append(plan)
        for plan in self.sheets:
            visit(plan)
        return order


def infer_app(book, slug: str, name: str | None = None) -> Inference:
    problems, plans, tables = [], [], []
    for index, sheet_name in enumerate(book.visible_sheet_names, start=1):
        sheet = book.sheet(sheet_name)
        plan = _sheet_plan(sheet, index, {p.table for p in plans}, problems)
        if plan is None:
            continue
        plans.append(plan)
        tables.append(_table(sheet, plan, problems))
    if not tables:
        raise_empty(book)
    _links(plans, tables, problems)
    doc = {"format": 1, "slug": slug, "name": name or book.path.stem, "tables": tables}
    return Inference(doc, plans, problems)


def raise_empty(book):
    from .read import XlsxError
    raise XlsxError(f"{book.path.name} has no sheet with a header row and data to make a table from")


def _sheet_plan(sheet, index, taken_tables, problems) -> SheetPlan | None:
    head, rest = split_head(sheet.rows())
    header = find_header(head)
    if header is None:
        problems.append(f"sheet '{sheet.name}': empty or no header row found; skipped")
        return None
    columns = _field_names(header, problems, sheet.name)
    stats = {n: ColumnStats(n, header.columns.get(n, "")) for n in columns}
    rows = 0
    for _, values in data_rows(_chain(head, rest), header, sheet.merges):
        rows += 1
        for number, column in stats.items():
            if number <= len(values) and values[number - 1] is not None:
                column.add(values[number - 1])
    if rows == 0:
        problems.append(f"sheet '{sheet.name}': a header row but no data rows; the table is created empty")
    table = unique_name(slug_for(sheet.name, f"sheet_{index}", 30), taken_tables, 30)
    return SheetPlan(sheet.name, table, header.row, columns, stats)


def _chain(head, rest):
    yield from head
    yield from rest


def _field_names(header: Header, problems, sheet) -> dict[int, str]:
    names, taken = {}, set()
    for number, text in sorted(header.columns.items()):
        name = unique_name(slug_for(text, f"col_{number}", 40), taken, 40)
        taken.add(name)
        names[number] = name
    for text, numbers in header.duplicates.items():
        renamed = ", ".join(f"{column_letter(n)} → {names[n]}" for n in numbers[1:])
        problems.append(f"sheet '{sheet}': the header '{text}' appears in columns "
                        f"{', '.join(column_letter(n) for n in numbers)}; the repeats became separate fields ({renamed})")
    return names


def slug_for(text: str, fallback: str, limit: int) -> str:
    """An ASCII identifier for a header; text with any non-ASCII letter gets ``fallback``."""
    text = re.sub(r"[（(][^()（）]*[)）]\s*$", "", text).strip()
    if not text or not text.isascii():
        return fallback
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not slug:
        return fallback
    if not slug[0].isalpha():
        slug = f"f_{slug}"
    slug = slug[:limit].rstrip("_")
    return f"{slug}_field" if slug in RESERVED_FIELDS else slug


def unique_name(name: str, taken, limit: int) -> str:
    candidate, n = name, 2
    while candidate in taken:
        suffix = f"_{n}"
        candidate, n = name[:limit - len(suffix)] + suffix, n + 1
    return candidate


def _table(sheet, plan: SheetPlan, problems) -> dict:
    dropdowns = _dropdowns(sheet, plan.header_row)
    comments = sheet.comments()
    fields = []
    for number, name in plan.columns.items():
        stats = plan.stats[number]
        fdef = {"name": name, "label": stats.header or f"{column_letter(number)}"}
        fdef.update(_field_type(stats, dropdowns.get(number), problems, f"sheet '{plan.sheet}' column "
                                f"{column_letter(number)} '{stats.header}'"))
        if comments.get((plan.header_row, number)):
            fdef["help"] = comments[(plan.header_row, number)][:500]
        fields.append(fdef)
    key = next((f for f in fields if _can_be_key(plan.stats[_number_of(plan, f["name"])], f, plan)), None)
    table = {"name": plan.table, "label": plan.sheet, "fields": fields}
    if key is not None:
        key.update(required=True, unique=True)
        table["title_field"] = plan.key = key["name"]
    return table


def _number_of(plan, name):
    return next(n for n, f in plan.columns.items() if f == name)


def _can_be_key(stats, fdef, plan) -> bool:
    rows = max(s.count + s.errors for s in plan.stats.values())
    return (fdef["type"] in ("text", "integer") and stats.count == rows and stats.errors == 0
            and stats.count > 0 and stats.all_distinct)


def _dropdowns(sheet, header_row) -> dict[int, list[str]]:
    found = {}
    for ranges, options in sheet.list_validations():
        for min_col, min_row, max_col, max_row in ranges:
            if max_row is not None and max_row <= header_row:
                continue
            for col in range(min_col or 1, (max_col or min_col or 1) + 1):
                found.setdefault(col, options)
    return found


def _field_type(stats: ColumnStats, dropdown, problems, where) -> dict:
    kinds = set(stats.kinds)
    if stats.errors:
        problems.append(f"{where}: {stats.errors} cell(s) show a formula error; those rows will be refused")
    if dropdown:
        return _select(stats, dropdown, problems, where)
    if not kinds:
        return {"type": "text"}
    numeric = {"int", "decimal", "int_unit", "decimal_unit"}
    if kinds == {"bool"}:
        return {"type": "boolean"}
    if kinds <= {"date"}:
        return {"type": "date"}
    if kinds <= {"date", "datetime"}:
        return {"type": "datetime"}
    if kinds <= numeric:
        return _number(stats, kinds, problems, where)
    if kinds <= {"text", "code"} or "text" in kinds or "code" in kinds:
        return _text(stats, kinds, problems, where)
    problems.append(f"{where}: mixed values ({_kinds(stats)}); made it a text field")
    return {"type": "text"}


def _number(stats, kinds, problems, where) -> dict:
    spec = {"type": "decimal" if kinds & {"decimal", "decimal_unit"} else "integer"}
    if spec["type"] == "decimal":
        spec["scale"] = min(max(stats.scale, 1), MAX_SCALE)
        if stats.scale > MAX_SCALE:
            problems.append(f"{where}: values with up to {stats.scale} decimal places; the field keeps {MAX_SCALE}, "
                            "longer values will be refused (round them in the sheet)")
    header_unit = _HEADER_UNIT.search(stats.header)
    if not stats.units and header_unit:
        spec["unit"] = header_unit.group(1)
    if stats.units:
        unit, _ = stats.units.most_common(1)[0]
        spec["unit"] = unit[:20]
        if len(stats.units) > 1:
            problems.append(f"{where}: several units ({', '.join(stats.units)}); the field takes {unit}, "
                            "values in another unit will be refused")
    return spec


def _text(stats, kinds, problems, where) -> dict:
    other = kinds - {"text", "code"}
    if other:
        problems.append(f"{where}: mixed values ({_kinds(stats)}); made it a text field")
    if stats.max_length > 255:
        return {"type": "long_text"}
    few = 0 < len(stats.distinct) <= SELECT_MAX_OPTIONS and stats.count >= 3 * len(stats.distinct)
    if few and not other and stats.max_length <= 40 and not stats.overflow:
        return {"type": "select", "options": list(stats.distinct)}
    return {"type": "text"}


def _select(stats, dropdown, problems, where) -> dict:
    options = [o[:200] for o in dict.fromkeys(dropdown)]
    extra = [v for v in stats.distinct if v not in options] if not stats.overflow else []
    if extra:
        problems.append(f"{where}: values outside its dropdown list ({', '.join(extra[:5])}); added them as options")
    return {"type": "select", "options": options + [v[:200] for v in extra]}


def _kinds(stats) -> str:
    names = {"int": "whole numbers", "decimal": "decimals", "text": "text", "code": "codes", "bool": "yes/no",
             "date": "dates", "datetime": "date-times", "int_unit": "numbers with a unit",
             "decimal_unit": "numbers with a unit"}
    return ", ".join(f"{n} {names.get(k, k)}" for k, n in stats.kinds.most_common())


def _links(plans: list[SheetPlan], tables: list[dict], problems) -> None:
    """A column whose values all occur in another sheet's key column links to that sheet's table."""
    keyed = [(p, t) for p, t in zip(plans, tables) if p.key]
    for plan, table in zip(plans, tables):
        for fdef in table["fields"]:
            if fdef["name"] == plan.key or fdef["type"] not in ("text", "integer", "select"):
                continue
            stats = plan.stats[_number_of(plan, fdef["name"])]
            target = _link_target(stats, fdef, plan, keyed)
            if target is None:
                continue
            target_plan, target_table = target
            for key in ("options", "scale", "unit"):
                fdef.pop(key, None)
            fdef.update(type="link", table=target_plan.table)
            key_field = next(f for f in target_table["fields"] if f["name"] == target_plan.key)
            key_field["type"] = "text"
    _break_cycles(tables, problems)


def _link_target(stats, fdef, plan, keyed):
    if stats.count == 0 or stats.overflow:
        return None
    values = set(stats.distinct)
    for target_plan, target_table in keyed:
        if target_plan is plan:
            continue
        key_stats = target_plan.stats[_number_of(target_plan, target_plan.key)]
        if not values <= set(key_stats.distinct):
            continue
        textual = any(k in key_stats.kinds for k in ("text", "code"))
        named = _similar(fdef["label"], (key_stats.header, target_plan.sheet))
        if textual or named:
            return target_plan, target_table
    return None


def _similar(label: str, names) -> bool:
    label = label.casefold()
    return any(n and (n.casefold() in label or label in n.casefold()) for n in names)


def _break_cycles(tables, problems) -> None:
    links = {t["name"]: {f["table"] for f in t["fields"] if f["type"] == "link"} for t in tables}

    def reaches(start, goal, seen=()):
        return start == goal or any(reaches(n, goal, (*seen, start)) for n in links[start] if n not in seen)

    for table in tables:
        for fdef in table["fields"]:
            if fdef["type"] == "link" and reaches(fdef["table"], table["name"]):
                links[table["name"]].discard(fdef["table"])
                problems.append(f"table {table['name']}: '{fdef['label']}' would link in a circle to "
                                f"{fdef['table']}; kept as text")
                fdef["type"] = "text"
                fdef.pop("table")
