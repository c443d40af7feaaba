"""Validation of one record before it is written: the rules every path shares.

``prepare`` turns submitted values into stored values or collects every
field-level problem at once (``ValidationFailed``). The UI, the API, the Excel
importer, blocks and jobs all reach it through ``records.Records``.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from .definition import TableDef
from .expressions import ExpressionError
from .fieldtypes import FieldError, LookupKey, field_type
from .linked import RowCache, expression_values
from .models import User


class RecordError(Exception):
    status = 400

    def __init__(self, message: str, details: list | None = None):
        super().__init__(message)
        self.message, self.details = message, details or []


class ValidationFailed(RecordError):
    status = 422

    def __init__(self, issues: list["Issue"]):
        super().__init__("; ".join(f"{i.field}: {i.message}" if i.field else i.message for i in issues[:10]),
                         [i.as_dict() for i in issues])
        self.issues = issues


class NotFound(RecordError):
    status = 404


class Conflict(RecordError):
    status = 409


class Forbidden(RecordError):
    status = 403


@dataclass
class Issue:
    field: str | None
    message: str

    def as_dict(self):
        return {"field": self.field, "message": self.message}


def coerce_values(tdef: TableDef, values, issues: list[Issue], prefix="", state_field=None, creating=True) -> dict:
    """Submitted values → stored Python values; unknown and computed fields are refused."""
    if not isinstance(values, dict):
        issues.append(Issue(prefix.rstrip(".") or None, "must be an object of field values"))
        return {}
    clean = {}
    for name, value in values.items():
        field = tdef.fields.get(name) if isinstance(name, str) else None
        where = f"{prefix}{name}"
        if field is None:
            issues.append(Issue(where, f"unknown field (fields of {tdef.name}: {', '.join(tdef.fields)})"))
        elif field["type"] == "formula" or field.get("read_only"):
            issues.append(Issue(where, "is computed and cannot be set"))
        elif name == state_field and not creating:
            issues.append(Issue(where, "changes only through workflow transitions"))
        elif value is None:
            clean[name] = [] if field["type"] == "child_rows" else None
        else:
            try:
                kind = field_type(field)
                clean[name] = kind.check_range(field, kind.coerce(field, value))
            except FieldError as err:
                issues.append(Issue(where, str(err)))
    return clean


def apply_defaults(tdef: TableDef, record: dict, given: set, cache: RowCache, actor, issues, prefix=""):
    for name, field in tdef.fields.items():
        if name in given or not field_type(field).stored:
            continue
        if "default" in field:
            kind = field_type(field)
            record[name] = kind.coerce(field, field["default"])
        elif "default_expression" in field:
            record[name] = _evaluate(tdef, field, field["default_expression"], record, cache, actor, issues, prefix)


def _evaluate(tdef, field, source, record, cache, actor, issues, prefix):
    try:
        values = expression_values(cache, tdef.name, record)
        values["current_user"] = actor.scope_value()
        result = tdef.expression(source).evaluate(values)
        kind = field_type(field)
        return kind.coerce(field, result) if result is not None else None
    except (ExpressionError, FieldError) as err:
        issues.append(Issue(f"{prefix}{field['name']}", f"cannot be computed: {err}"))
        return None


def compute_formulas(tdef: TableDef, record: dict, cache: RowCache, actor, issues, prefix=""):
    for field in formula_order(tdef):
        record[field["name"]] = _evaluate(tdef, field, field["expression"], record, cache, actor, issues, prefix)


def formula_order(tdef: TableDef) -> list[dict]:
    """Formulas that read other formulas come after them (the validator rules out cycles)."""
    cached = tdef.__dict__.get("_formula_order")
    if cached is not None:
        return cached
    pending, done, order = list(tdef.formulas), set(), []
    while pending:
        for field in list(pending):
            deps = {p[0] for p in tdef.expression(field["expression"]).paths} & {f["name"] for f in tdef.formulas}
            if deps <= done:
                order.append(field)
                done.add(field["name"])
                pending.remove(field)
    tdef.__dict__["_formula_order"] = order
    return order


def check_required(tdef: TableDef, record: dict, issues, prefix="", children=None):
    already = {i.field for i in issues}  # a value refused as malformed is not also "missing"
    for name, field in tdef.fields.items():
        if not field.get("required") or field["type"] == "formula" or f"{prefix}{name}" in already:
            continue
        if field["type"] == "child_rows":
            if children is not None and name in children and not children[name]:
                issues.append(Issue(f"{prefix}{name}", "needs at least one row"))
        elif record.get(name) is None:
            issues.append(Issue(f"{prefix}{name}", "is required"))


def resolve_links(conn, live, tdef: TableDef, record: dict, issues, prefix=""):
    """Check link targets exist; codes typed instead of ids are looked up."""
    for field in tdef.fields.values():
        if field["type"] not in ("link", "user"):
            continue
        value = record.get(field["name"])
        if value is None:
            continue
        found = lookup_ids(conn, live, field, [value]).get(value)
        if found is None:
            target = field.get("table", "users")
            issues.append(Issue(f"{prefix}{field['name']}", f"no {target} record '{value}'"))
        else:
            record[field["name"]] = found


def lookup_ids(conn, live, field, values) -> dict:
    """Map given ids / codes to existing ids, in one query per kind of key."""
    if field["type"] == "user":
        table, keys = User.__table__, [User.__table__.c.username]
    else:
        table = live.tables[field["table"]]
        target = live.appdef.tables[field["table"]]
        keys = [table.c._name] + ([table.c[target.title_field]] if target.title_field else [])
    ids = [v for v in values if not isinstance(v, LookupKey)]
    codes = [str(v) for v in values if isinstance(v, LookupKey)]
    found = {}
    for chunk in _chunks(ids, 5000):
        found.update({i: i for i in conn.execute(sa.select(table.c.id).where(table.c.id.in_(chunk))).scalars()})
    for key in keys:
        missing = [c for c in codes if LookupKey(c) not in found]
        for chunk in _chunks(missing, 5000):
            for code, record_id in conn.execute(sa.select(key, table.c.id).where(key.in_(chunk))):
                found.setdefault(LookupKey(code), record_id)
    return found


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def check_unique(conn, live, tdef: TableDef, record: dict, issues, record_id=None, prefix=""):
    table = live.tables[tdef.name]
    for name, field in tdef.fields.items():
        value = record.get(name)
        if not field.get("unique") or value is None:
            continue
        stmt = sa.select(table.c.id).where(table.c[name] == value)
        if record_id is not None:
            stmt = stmt.where(table.c.id != record_id)
        if conn.execute(stmt.limit(1)).first() is not None:
            issues.append(Issue(f"{prefix}{name}", f"'{value}' is already used by another record"))
    for group in tdef.doc.get("unique_together", []):
        if any(record.get(n) is None for n in group):
            continue
        stmt = sa.select(table.c.id).where(*(table.c[n] == record[n] for n in group))
        if record_id is not None:
            stmt = stmt.where(table.c.id != record_id)
        if conn.execute(stmt.limit(1)).first() is not None:
            issues.append(Issue(group[0], f"the combination of {', '.join(group)} is already used by another record"))
