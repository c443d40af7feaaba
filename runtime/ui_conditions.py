"""visible_if / required_if of a form, on the server and for the browser.

The browser evaluates the conditions live (static/conditions.js interprets the
trees ``conditions_json`` hands it); the server's evaluation here is the one
that counts: a field hidden by its condition is neither saved nor required,
and a field whose required_if holds must have a value. A condition that cannot
be evaluated shows the field and does not require it, in both places.
"""
from __future__ import annotations

from .definition import TableDef
from .expressions import ExpressionError
from .fieldtypes import FieldError, LookupKey, expression_type, field_type, to_json_value
from .linked import RowCache, expression_values
from .record_checks import Issue, lookup_ids


def condition_issues(records, layout, values: dict, before: dict | None) -> tuple[set, list[Issue]]:
    """(names hidden by their conditions, issues for required_if fields left blank)."""
    tdef = layout.table
    hidden, issues = set(), []
    with records.database.read() as conn:
        scope = _scope(records, conn, tdef, values, before)
        for section in layout.sections:
            section_shown = _holds(tdef, section.visible_if, scope, default=True)
            for item in section.fields:
                if not section_shown or not _holds(tdef, item.visible_if, scope, default=True):
                    hidden.add(item.name)
                elif item.required_if and _holds(tdef, item.required_if, scope, default=False) \
                        and _blank(item, scope.get(item.name)):
                    issues.append(Issue(item.name, "is required"))
    return hidden, issues


def _scope(records, conn, tdef: TableDef, values: dict, before: dict | None) -> dict:
    candidate = {k: v for k, v in (before or {}).items() if k in tdef.fields}
    for name, value in values.items():
        fdef = tdef.fields[name]
        if fdef["type"] != "child_rows":
            candidate[name] = _quiet(conn, records.live, fdef, value)
    scope = expression_values(RowCache(conn, records.live), tdef.name,
                              {k: v for k, v in candidate.items() if tdef.fields[k]["type"] != "child_rows"})
    scope["current_user"] = records.actor.scope_value()
    return scope


def _quiet(conn, live, fdef: dict, value):
    """The value as stored, or None when it is not valid (the service reports that)."""
    try:
        kind = field_type(fdef)
        coerced = kind.check_range(fdef, kind.coerce(fdef, value))
    except FieldError:
        return None
    if isinstance(coerced, LookupKey):
        return lookup_ids(conn, live, fdef, [coerced]).get(coerced)
    return coerced


def _holds(tdef: TableDef, source: str | None, scope: dict, default: bool) -> bool:
    if not source:
        return default
    try:
        return tdef.expression(source, "boolean").evaluate(scope) is True
    except ExpressionError:
        return default


def _blank(item, value) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def conditions_json(layout, actor, record: dict | None = None) -> dict:
    """What static/conditions.js needs: ASTs per field and section, field types, current_user,
    and the record's values of fields that are not on the form."""
    tdef = layout.table
    on_form = {f.name for f in layout.fields}
    values = {name: to_json_value(fdef, (record or {}).get(name)) for name, fdef in tdef.fields.items()
              if name not in on_form and fdef["type"] not in ("child_rows", "link")}

    def ast(source):
        try:
            return tdef.expression(source, "boolean").to_json() if source else None
        except ExpressionError:
            return None

    fields = {f.name: {"visible": ast(f.visible_if), "required": ast(f.required_if)}
              for f in layout.fields if f.visible_if or f.required_if}
    sections = {str(s.index): {"visible": ast(s.visible_if)} for s in layout.sections if s.visible_if}
    types = {name: expression_type(fdef) for name, fdef in tdef.fields.items()}
    return {"fields": fields, "sections": sections, "types": types, "values": values,
            "current_user": actor.scope_value()}
