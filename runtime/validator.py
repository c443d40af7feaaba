"""The one validator for app definitions: JSON Schema first, then meaning.

Every problem carries the JSON pointer of the element at fault and a sentence
saying what to fix; all problems are collected, none stops the others. The
semantic checks are written to tolerate a document that failed the schema
(they skip what they cannot read), so one pass reports everything.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import jsonschema

from .definition import RESERVED_FIELDS, AppDef, FieldScope
from .expressions import check_expression
from .fieldtypes import FIELD_TYPES, FieldError, field_type
from .naming import series_problems

IDENTIFIER_HINT = ("use lowercase letters a-z, digits and single underscores, starting with a letter "
                   "(put any other text, Chinese included, in the label)")


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self):
        return f"{self.path or '/'}: {self.message}"

    def as_dict(self):
        return {"path": self.path or "/", "message": self.message}


@lru_cache(maxsize=1)
def app_schema() -> dict:
    return json.loads(resources.files("runtime").joinpath("schema/app.schema.json").read_text(encoding="utf-8"))


def pointer(*parts) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def validate(doc) -> list[Problem]:
    if not isinstance(doc, dict):
        return [Problem("", "the definition must be a mapping (object) with slug and tables")]
    problems = schema_problems(doc)
    problems += semantic_problems(doc, tolerant=bool(problems))
    return _unique(problems)


def _unique(problems):
    seen, result = set(), []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            result.append(p)
    return result


# -- JSON Schema -------------------------------------------------------------

def schema_problems(doc) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(app_schema())
    problems = []
    for error in validator.iter_errors(doc):
        for leaf in _leaves(error):
            problems.append(Problem(pointer(*leaf.absolute_path), _friendly(leaf)))
    return sorted(problems, key=lambda p: p.path)


def _leaves(error):
    """For oneOf/anyOf, report the most specific sub-error instead of 'is not valid under any'."""
    if error.context:
        best = jsonschema.exceptions.best_match(error.context)
        return _leaves(best) if best is not None else [error]
    return [error]


def _friendly(error) -> str:
    value, kind = error.instance, error.validator
    if error.schema.get("$comment") == "identifier" or (kind == "pattern" and "[a-z][a-z0-9]*" in str(error.validator_value)):
        if kind in ("pattern", "maxLength", "minLength", "type"):
            shown = repr(value)[:60]
            if kind == "maxLength":
                return f"{shown} is too long ({len(value)} characters, at most {error.validator_value})"
            return f"{shown} is not a valid name: {IDENTIFIER_HINT}"
    if kind == "additionalProperties":
        extra = sorted(set(value) - set(error.schema.get("properties", {})))
        known = sorted(error.schema.get("properties", {}))
        hints = [_suggest(e, known) for e in extra]
        return "unknown key " + ", ".join(f"'{e}'{h}" for e, h in zip(extra, hints)) + f" (allowed: {', '.join(known)})"
    if kind == "required":
        return error.message.replace("is a required property", "is missing")
    if kind == "enum":
        return f"{json.dumps(value, ensure_ascii=False)[:60]} is not one of: {', '.join(map(str, error.validator_value))}"
    return error.message


def _suggest(word, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# -- meaning -----------------------------------------------------------------

def semantic_problems(doc, tolerant=False) -> list[Problem]:
    from .validator_flows import FLOW_CHECKS

    problems: list[Problem] = []
    try:
        app = AppDef(doc)
    except (KeyError, TypeError, AttributeError):
        return problems
    for check in (_check_names, _check_tables, *FLOW_CHECKS):
        try:
            problems += check(app)
        except (KeyError, TypeError, AttributeError, ValueError):
            if not tolerant:
                raise
    return problems


def duplicates(items, where: str, what: str, key="name") -> list[Problem]:
    seen, problems = {}, []
    for i, item in enumerate(items or []):
        if not isinstance(item, dict) or not isinstance(item.get(key), str):
            continue
        name = item[key]
        if name in seen:
            problems.append(Problem(pointer(*where.split("/")[1:], i, key),
                                    f"{what} '{name}' is defined twice (first at index {seen[name]}); names must be unique"))
        seen.setdefault(name, i)
    return problems


def _check_names(app: AppDef) -> list[Problem]:
    doc = app.doc
    problems = []
    for section, what in (("tables", "table"), ("forms", "form"), ("workflows", "workflow"),
                          ("automations", "automation"), ("dashboards", "dashboard"), ("roles", "role")):
        problems += duplicates(doc.get(section), f"/{section}", what)
    return problems


def expression_problems(path: str, source, scope, expect=None) -> list[Problem]:
    if not isinstance(source, str):
        return []
    return [Problem(path, _expr_message(err)) for err in check_expression(source, scope, expect=expect)]


def _expr_message(err) -> str:
    where = f" (at character {err.position + 1})" if getattr(err, "position", None) is not None else ""
    return f"{err.message}{where}"


def _check_tables(app: AppDef) -> list[Problem]:
    problems = []
    child_targets = set()
    for ti, table in enumerate(app.doc.get("tables", [])):
        base = ("tables", ti)
        tdef = app.tables.get(table["name"])
        if tdef is None or tdef.doc is not table:
            continue
        problems += duplicates(table.get("fields"), pointer(*base, "fields"), "field")
        for fi, field in enumerate(table.get("fields", [])):
            problems += _check_field(app, tdef, field, (*base, "fields", fi))
            if field.get("type") == "child_rows":
                child_targets.add(field.get("table"))
        problems += _check_table_options(app, tdef, base)
        problems += _formula_cycles(tdef, base)
    for ti, table in enumerate(app.doc.get("tables", [])):
        if table.get("child") and table["name"] not in child_targets:
            problems.append(Problem(pointer("tables", ti, "child"),
                                    f"child table '{table['name']}' is not used by any child_rows field; "
                                    "add one to its parent table or remove child: true"))
    return problems


def _check_field(app, tdef, field, path) -> list[Problem]:
    problems = []
    name, kind = field.get("name"), field.get("type")
    if name in RESERVED_FIELDS:
        problems.append(Problem(pointer(*path, "name"), f"'{name}' is reserved; choose another field name"))
    if kind not in FIELD_TYPES:
        return problems
    problems += [Problem(pointer(*path, sub), msg) for sub, msg in field_type(field).definition_problems(field)]
    problems += _check_field_target(app, tdef, field, path)
    problems += _check_field_default(tdef, field, path)
    problems += _check_type_options(field, path)
    if kind == "formula":
        expect = _formula_expect(field)
        problems += expression_problems(pointer(*path, "expression"), field.get("expression"), tdef.scope(), expect)
    if field.get("unique") and kind in ("child_rows", "formula", "multi_select", "attachment", "long_text"):
        problems.append(Problem(pointer(*path, "unique"), f"a {kind} field cannot be unique"))
    return problems


def _formula_expect(field):
    return {"integer": "number", "decimal": "number"}.get(field.get("result_type"), field.get("result_type"))


TYPE_OPTIONS = {
    "scale": {"decimal", "formula"},
    "options": {"select", "multi_select"},
    "table": {"link", "child_rows"},
    "expression": {"formula"},
    "result_type": {"formula"},
    "min": {"integer", "decimal", "duration"},
    "max": {"integer", "decimal", "duration"},
    "max_length": {"text", "long_text", "barcode"},
    "pattern": {"text", "barcode"},
}


def _check_type_options(field, path) -> list[Problem]:
    kind = field["type"]
    return [Problem(pointer(*path, key), f"'{key}' does not apply to a {kind} field (only to {', '.join(sorted(kinds))})")
            for key, kinds in TYPE_OPTIONS.items() if key in field and kind not in kinds]


def _check_field_target(app, tdef, field, path) -> list[Problem]:
    kind, target = field["type"], field.get("table")
    if kind not in ("link", "child_rows"):
        return []
    if target not in app.tables:
        known = ", ".join(sorted(app.tables)) or "none"
        return [Problem(pointer(*path, "table"),
                        f"links to table '{target}', which does not exist in this app{_suggest(target, list(app.tables))} (tables: {known})")]
    target_def = app.tables[target]
    if kind == "child_rows" and not target_def.child:
        return [Problem(pointer(*path, "table"), f"table '{target}' must be declared with child: true to hold child rows")]
    if kind == "child_rows" and tdef.child:
        return [Problem(pointer(*path, "type"), "a child table cannot itself have child rows (one level only)")]
    if kind == "link" and target_def.child:
        return [Problem(pointer(*path, "table"), f"cannot link to child table '{target}'; link to its parent table instead")]
    return []


def _check_field_default(tdef, field, path) -> list[Problem]:
    problems = []
    if "default" in field:
        if field["type"] in ("formula", "child_rows", "link", "user", "attachment"):
            problems.append(Problem(pointer(*path, "default"), f"a {field['type']} field cannot have a default value"))
        else:
            try:
                kind = field_type(field)
                kind.check_range(field, kind.coerce(field, field["default"]))
            except FieldError as err:
                problems.append(Problem(pointer(*path, "default"), f"default {json.dumps(field['default'], ensure_ascii=False)} {err}"))
    if "default_expression" in field:
        if "default" in field:
            problems.append(Problem(pointer(*path, "default_expression"), "give either default or default_expression, not both"))
        from .fieldtypes import expression_type
        expect = expression_type(field)
        expect = None if expect in ("record", "any") else expect
        problems += expression_problems(pointer(*path, "default_expression"), field["default_expression"], tdef.scope(), expect)
    return problems


def _check_table_options(app, tdef, base) -> list[Problem]:
    table, problems = tdef.doc, []
    for key in ("title_field",):
        if key in table and table[key] not in tdef.fields:
            problems.append(_unknown_field(pointer(*base, key), table[key], tdef))
    for i, name in enumerate(table.get("list_fields", [])):
        if name not in tdef.fields:
            problems.append(_unknown_field(pointer(*base, "list_fields", i), name, tdef))
    for gi, group in enumerate(table.get("unique_together", [])):
        for i, name in enumerate(group):
            if name not in tdef.fields:
                problems.append(_unknown_field(pointer(*base, "unique_together", gi, i), name, tdef))
    if "naming" in table:
        problems += [Problem(pointer(*base, "naming"), f"naming series {table['naming']!r} {msg}")
                     for msg in series_problems(table["naming"])]
    for pi, perm in enumerate(table.get("permissions", [])):
        if perm.get("role") not in app.roles:
            problems.append(_unknown_role(pointer(*base, "permissions", pi, "role"), perm.get("role"), app))
        problems += expression_problems(pointer(*base, "permissions", pi, "rows"), perm.get("rows"), tdef.scope(), "boolean")
    return problems


def _formula_cycles(tdef, base) -> list[Problem]:
    """Formulas that read each other in a circle can never be computed."""
    graph = {}
    for field in tdef.formulas:
        refs = set(re.findall(r"[a-z][a-z0-9_]*", field.get("expression", "")))
        graph[field["name"]] = {r for r in refs if r in tdef.fields and tdef.fields[r]["type"] == "formula"}
    problems = []
    for start in graph:
        cycle = _find_cycle(graph, start)
        if cycle and cycle[0] == min(cycle[:-1]):
            index = list(tdef.fields).index(start)
            problems.append(Problem(pointer(*base, "fields", index, "expression"),
                                    "formulas depend on each other in a circle: " + " → ".join(cycle)))
    return problems


def _find_cycle(graph, start):
    stack = [(start, [start])]
    while stack:
        node, trail = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                return trail + [start]
            if nxt not in trail:
                stack.append((nxt, trail + [nxt]))
    return None


def _unknown_field(path, name, tdef) -> Problem:
    return Problem(path, f"'{name}' is not a field of table '{tdef.name}'{_suggest(str(name), list(tdef.fields))}")


def _unknown_role(path, role, app) -> Problem:
    return Problem(path, f"role '{role}' is not defined; add it under roles or use one of: {', '.join(sorted(app.roles))}")


def scope_for(app: AppDef, table: str) -> FieldScope:
    return FieldScope(app, table)
