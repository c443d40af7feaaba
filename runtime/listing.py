"""Filtering, searching, sorting and paging records — compiled to one SQL query.

Filter values go through the field's own coercion, so a filter on a date
field accepts what the date field accepts and a bad value gets the same
field-level message as a bad submit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from .definition import TableDef
from .fieldtypes import FieldError, field_type

OPS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "blank", "not_blank", "between")
SYSTEM_SORTS = {"id", "_name", "_created_at", "_updated_at"}
MAX_PER_PAGE = 500
SEARCHABLE = ("text", "long_text", "barcode", "select")


@dataclass
class Filter:
    field: str
    op: str = "eq"
    value: object = None


@dataclass
class ListQuery:
    filters: list[Filter] = field(default_factory=list)
    search: str | None = None
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    page: int = 1
    per_page: int = 50
    with_total: bool = True
    totals: list[str] = field(default_factory=list)  # number fields to sum over all matching rows


@dataclass
class Page:
    rows: list[dict]
    total: int | None
    page: int
    per_page: int
    sums: dict = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-(self.total or 0) // self.per_page))


def _bad(name, message):
    from .record_checks import Issue, ValidationFailed
    return ValidationFailed([Issue(name, message)])


def filter_clause(tdef: TableDef, sql: sa.Table, flt: Filter):
    if flt.field not in tdef.fields and flt.field not in ("id", "_name"):
        raise _bad(flt.field, f"cannot filter: no field '{flt.field}' in {tdef.name}")
    if flt.op not in OPS:
        raise _bad(flt.field, f"unknown filter operator '{flt.op}' (use {', '.join(OPS)})")
    column = sql.c[flt.field]
    if flt.op == "blank":
        return column.is_(None)
    if flt.op == "not_blank":
        return column.isnot(None)
    if flt.op == "contains":
        return sa.func.lower(sa.cast(column, sa.Text)).contains(str(flt.value).lower(), autoescape=True)
    if flt.op in ("in", "between"):
        values = flt.value if isinstance(flt.value, list) else str(flt.value).split(",")
        values = [_coerce(tdef, flt.field, v) for v in values]
        if flt.op == "between":
            if len(values) != 2:
                raise _bad(flt.field, "between needs two values: from,to")
            return column.between(*values)
        return column.in_(values)
    value = _coerce(tdef, flt.field, flt.value)
    if value is None:
        return column.is_(None) if flt.op == "eq" else column.isnot(None)
    return {"eq": column.__eq__, "ne": column.__ne__, "lt": column.__lt__, "le": column.__le__,
            "gt": column.__gt__, "ge": column.__ge__}[flt.op](value)


def _coerce(tdef, name, value):
    if name in ("id",):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad(name, f"'{value}' is not a record id") from None
    if name == "_name":
        return str(value)
    fdef = tdef.fields[name]
    kind = field_type(fdef)
    if fdef["type"] == "multi_select":
        kind = field_type({"type": "select"})
    try:
        coerced = kind.coerce(fdef, value)
    except FieldError as err:
        raise _bad(name, str(err)) from None
    return int(coerced) if fdef["type"] in ("link", "user") and str(coerced).isdigit() else coerced


def search_clause(tdef: TableDef, sql: sa.Table, term: str):
    term = term.strip().lower()
    columns = [sql.c._name] + [sql.c[f["name"]] for f in tdef.stored_fields if f["type"] in SEARCHABLE]
    return sa.or_(*(sa.func.lower(c).contains(term, autoescape=True) for c in columns))


def sort_columns(tdef: TableDef, sql: sa.Table, sort):
    order = []
    for name, descending in sort:
        if name not in SYSTEM_SORTS and (name not in tdef.fields or not field_type(tdef.fields[name]).stored):
            raise _bad(name, f"cannot sort by '{name}'")
        column = sql.c[name]
        order.append(column.desc() if descending else column.asc())
    return order + [sql.c.id.desc()] if not sort else order + [sql.c.id.asc()]


def list_records(conn, live, tdef: TableDef, query: ListQuery, visible) -> Page:
    sql = live.tables[tdef.name]
    conditions = [filter_clause(tdef, sql, f) for f in query.filters]
    if query.search:
        conditions.append(search_clause(tdef, sql, query.search))
    if visible is not None:
        conditions.append(visible)
    per_page = max(1, min(int(query.per_page), MAX_PER_PAGE))
    page = max(1, int(query.page))
    stmt = (sa.select(sql).where(*conditions).order_by(*sort_columns(tdef, sql, query.sort))
            .limit(per_page).offset((page - 1) * per_page))
    rows = [dict(r) for r in conn.execute(stmt).mappings()]
    total, sums = None, {}
    if query.with_total or query.totals:
        aggregates = [sa.func.count().label("n")] + [sa.func.sum(sql.c[name]).label(name) for name in query.totals
                                                     if name in tdef.fields and field_type(tdef.fields[name]).expr_type == "number"]
        result = conn.execute(sa.select(*aggregates).select_from(sql).where(*conditions)).mappings().one()
        total = result["n"]
        sums = {k: v for k, v in result.items() if k != "n"}
    return Page(rows, total, page, per_page, sums)
