"""The one validator for app definitions: JSON Schema first, then meaning.

Every problem carries the JSON pointer of the element at fault and a sentence
saying what to fix; all problems are collected, none stops the others. The
semantic checks are written to tolerate a document that failed the schema
(they skip what they cannot read), so one pass reports everything.
"""
from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

import jsonschema

from .definition import BUILTIN_ROLES, CURRENT_USER_SCOPE, RESERVED_FIELDS, AppDef, FieldScope, TableDef
from .expressions import ExpressionError, check_expression, compile_expression
from .fieldtypes import FIELD_TYPES, FieldError, expression_type, field_type
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
    """For oneOf/anyOf, report the errors of the alternative meant for this kind of value
    (text where a name or a mapping may stand is checked as a name) instead of
    'is not valid under any of the given schemas'."""
    if not error.context:
        return [error]
    branches: dict = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None, []).append(sub)
    fitting = [errors for errors in branches.values() if not any(_wrong_type(e) for e in errors)]
    if not fitting:
        return [error]  # no alternative takes this kind of value: _friendly lists the kinds expected
    if len(fitting) == 1:
        return [leaf for sub in fitting[0] for leaf in _leaves(sub)]
    return _leaves(jsonschema.exceptions.best_match([e for errors in fitting for e in errors]))


def _wrong_type(error) -> bool:
    return error.validator == "type" and not error.relative_path


PATTERN_HINTS = {
    "^[a-z]{2}(-[A-Za-z]{2,4})?$": "is not a language code such as en, zh or zh-Hans",
    "^#[0-9a-fA-F]{6}$": "is not a colour such as #d9534f",
    "^https?://": "is not a web address starting with http:// or https://",
    "^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$": "is not a block action such as work_orders.start_operation",
}
TYPE_NAMES = {"array": "a list", "object": "a mapping (key: value)", "string": "text", "integer": "a whole number",
              "number": "a number", "boolean": "true or false"}


def _friendly(error) -> str:
    value, kind = error.instance, error.validator
    if error.schema.get("$comment") == "identifier" or (kind == "pattern" and "[a-z][a-z0-9]*" in str(error.validator_value)):
        if kind in ("pattern", "maxLength", "minLength", "type"):
            shown = repr(value)[:60]
            if kind == "maxLength":
                return (f"{shown} is too long ({len(value)} characters, at most {error.validator_value}): "
                        "use a short name and put the full text in the label")
            return f"{shown} is not a valid name: {IDENTIFIER_HINT}"
    if kind == "additionalProperties":
        extra = sorted(set(value) - set(error.schema.get("properties", {})), key=str)
        known = sorted(error.schema.get("properties", {}))
        hints = [_suggest(e, known) for e in extra]
        return "unknown key " + ", ".join(f"'{e}'{h}" for e, h in zip(extra, hints)) + f" (allowed: {', '.join(known)})"
    if kind == "required":
        return error.message.replace("is a required property", "is missing")
    if kind == "pattern" and error.validator_value in PATTERN_HINTS:
        return f"{_shown(value)} {PATTERN_HINTS[error.validator_value]}"
    if kind == "type" and isinstance(error.validator_value, str) and error.validator_value in TYPE_NAMES:
        return f"{_shown(value)} should be {TYPE_NAMES[error.validator_value]}"
    if kind in ("oneOf", "anyOf") and error.context:
        expected = [TYPE_NAMES.get(str(e.validator_value), str(e.validator_value)) for e in error.context if _wrong_type(e)]
        return f"{_shown(value)} has the wrong type: expected {' or '.join(dict.fromkeys(expected))}"
    if kind == "enum":
        hint = _suggest(value, error.validator_value) if isinstance(value, str) else ""
        return f"{_shown(value)} is not one of: {', '.join(map(str, error.validator_value))}{hint}"
    return error.message


def _shown(value) -> str:
    """A value as the author wrote it, shortened; YAML dates and the like are shown as text."""
    return json.dumps(value, ensure_ascii=False, default=str)[:60]


def _suggest(word, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# -- meaning -----------------------------------------------------------------

def semantic_problems(doc, tolerant=False) -> list[Problem]:
    from .validator_flows import FLOW_CHECKS

    app = ReadableApp(doc, tolerant)
    problems: list[Problem] = []
    for check in (_check_names, _check_tables, *FLOW_CHECKS):
        problems += guarded(app, check, app)
    return problems


def guarded(app, check, *args) -> list[Problem]:
    """Run one check. On a document that failed the schema, a check that trips over
    something it cannot read reports nothing rather than hiding all the others; on a
    schema-valid document a crash is a validator bug and is raised."""
    try:
        return check(*args)
    except Exception:  # noqa: BLE001 - the schema has already reported what this check tripped on
        if not app.tolerant:
            raise
        return []


# -- reading a document that may have failed the schema ---------------------

def entries(items) -> list[tuple[int, dict]]:
    """(index, item) for the mappings in a list; anything else was reported by the schema."""
    if not isinstance(items, list):
        return []
    return [(i, item) for i, item in enumerate(items) if isinstance(item, dict)]


def named_entries(items) -> list[tuple[int, dict]]:
    return [(i, item) for i, item in entries(items) if isinstance(item.get("name"), str)]


def field_expression_type(field) -> str:
    """The field's type in expressions; a misspelt or missing type (already reported) reads as any."""
    try:
        return expression_type(field)
    except (KeyError, TypeError):
        return "any"


class ReadableTable(TableDef):
    """A ``TableDef`` that skips fields without a name and tolerates unknown types."""

    def __init__(self, app, doc, index):
        self.app, self.doc, self.index = app, doc, index
        self.name = doc["name"]
        self.fields = {}
        for _, field in named_entries(doc.get("fields")):
            self.fields.setdefault(field["name"], field)
        self.child = bool(doc.get("child"))
        self.naming = doc.get("naming")

    @cached_property
    def formulas(self):  # the only typed list the checks read
        return [f for f in self.fields.values() if f.get("type") == "formula"]

    def scope(self):
        return ReadableScope(self.app, self.name)


class ReadableScope(FieldScope):
    @cached_property
    def _types(self):
        types = {"id": "number"}
        for name, field in self.app.tables[self.table_name].fields.items():
            target = field.get("table")
            if field.get("type") == "link" and isinstance(target, str) and target in self.app.tables:
                types[name] = ReadableScope(self.app, target, with_user=False)
            else:
                types[name] = field_expression_type(field)
        if self.with_user:
            types["current_user"] = CURRENT_USER_SCOPE
        return types


class ReadableApp(AppDef):
    """An ``AppDef`` over a document that may have failed the schema: tables and
    items it cannot read (no name, not a mapping) are left out instead of raising,
    so the meaning checks still report everything else in one pass."""

    def __init__(self, doc: dict, tolerant: bool = False):
        self.doc, self.tolerant = doc, tolerant
        self.slug = doc.get("slug") if isinstance(doc.get("slug"), str) else ""
        self.tables = {}
        for i, table in named_entries(doc.get("tables")):
            self.tables.setdefault(table["name"], ReadableTable(self, table, i))

    def named(self, section):
        return {item["name"]: item for _, item in named_entries(self.doc.get(section))}

    @cached_property
    def roles(self):
        return set(BUILTIN_ROLES) | {role["name"] for _, role in named_entries(self.doc.get("roles"))}


def duplicates(items, where: str, what: str, key="name") -> list[Problem]:
    seen, problems = {}, []
    for i, item in entries(items):
        if not isinstance(item.get(key), str):
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
    for tdef in app.tables.values():  # a table defined twice is reported once, by _check_names
        table, base = tdef.doc, ("tables", tdef.index)
        problems += duplicates(table.get("fields"), pointer(*base, "fields"), "field")
        for fi, field in entries(table.get("fields")):
            problems += guarded(app, _check_field, app, tdef, field, (*base, "fields", fi))
            if field.get("type") == "child_rows" and isinstance(field.get("table"), str):
                child_targets.add(field["table"])
        problems += guarded(app, _check_table_options, app, tdef, base)
        problems += guarded(app, _formula_cycles, tdef, base)
    for tdef in app.tables.values():
        if tdef.child and tdef.name not in child_targets:
            problems.append(Problem(pointer("tables", tdef.index, "child"),
                                    f"child table '{tdef.name}' is not used by any child_rows field; "
                                    "add one to its parent table or remove child: true"))
    return problems


def _check_field(app, tdef, field, path) -> list[Problem]:
    problems = []
    name, kind = field.get("name"), field.get("type")
    if isinstance(name, str) and name in RESERVED_FIELDS:
        problems.append(Problem(pointer(*path, "name"), f"'{name}' is reserved; choose another field name"))
    if not isinstance(kind, str) or kind not in FIELD_TYPES:
        return problems
    problems += _check_finite(field, path)
    problems += [Problem(pointer(*path, sub), msg) for sub, msg in field_type(field).definition_problems(field)]
    problems += _check_field_target(app, tdef, field, path)
    problems += _check_field_default(tdef, field, path)
    problems += _check_type_options(field, path)
    if kind == "formula":
        expect = _formula_expect(field)
        problems += expression_problems(pointer(*path, "expression"), field.get("expression"), tdef.scope(), expect)
        problems += _formula_result_problems(tdef, field, path)
    if field.get("unique") and kind in ("child_rows", "formula", "multi_select", "attachment", "long_text"):
        problems.append(Problem(pointer(*path, "unique"), f"a {kind} field cannot be unique"))
    return problems


def _formula_expect(field):
    return {"integer": "number", "decimal": "number"}.get(field.get("result_type"), field.get("result_type"))


def _formula_result_problems(tdef, field, path) -> list[Problem]:
    """Without result_type a formula is stored as text: a number is turned into text,
    but a condition, a date or a list could not be stored and every save would fail."""
    source = field.get("expression")
    if "result_type" in field or not isinstance(source, str):
        return []
    try:
        result = compile_expression(source, tdef.scope()).type
    except ExpressionError:
        return []  # reported by expression_problems
    where = pointer(*path, "expression")
    if result in ("boolean", "date", "datetime"):
        return [Problem(where, f"the formula gives a {result} but has no result_type, so it would be stored "
                               f"as text and every save would fail; add result_type: {result}")]
    if result == "list":
        return [Problem(where, "the formula gives a list, which a formula field cannot store; "
                               "make it give text, a number, a condition or a date")]
    return []


def _check_finite(field, path) -> list[Problem]:
    """YAML can write .nan and .inf; such a bound would break every comparison."""
    return [Problem(pointer(*path, key), f"{key} must be a finite number (or leave it out)")
            for key in ("min", "max") if isinstance(field.get(key), float) and not math.isfinite(field[key])]


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
            problems += _default_value_problems(field, path)
    if "default_expression" in field:
        if "default" in field:
            problems.append(Problem(pointer(*path, "default_expression"), "give either default or default_expression, not both"))
        from .fieldtypes import expression_type
        expect = expression_type(field)
        expect = None if expect in ("record", "any") else expect
        problems += expression_problems(pointer(*path, "default_expression"), field["default_expression"], tdef.scope(), expect)
    return problems


def _default_value_problems(field, path) -> list[Problem]:
    where, shown = pointer(*path, "default"), _shown(field["default"])
    try:
        kind = field_type(field)
        kind.check_range(field, kind.coerce(field, field["default"]))
    except FieldError as err:
        return [Problem(where, f"default {shown} {err}")]
    except re.error:
        return []  # the pattern itself is reported by definition_problems
    except (ArithmeticError, TypeError, ValueError):
        if _check_finite(field, path):
            return []  # a non-finite min or max is reported by _check_finite
        return [Problem(where, f"default {shown} is not a valid {field['type']} value")]
    return []


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
    if isinstance(table.get("naming"), str):
        problems += [Problem(pointer(*base, "naming"), f"naming series {table['naming']!r} {msg}")
                     for msg in series_problems(table["naming"])]
    for pi, perm in entries(table.get("permissions")):
        if perm.get("role") not in app.roles:
            problems.append(_unknown_role(pointer(*base, "permissions", pi, "role"), perm.get("role"), app))
        problems += expression_problems(pointer(*base, "permissions", pi, "rows"), perm.get("rows"), tdef.scope(), "boolean")
    return problems


def _formula_cycles(tdef, base) -> list[Problem]:
    """Formulas that read each other in a circle can never be computed.

    Dependencies are the first names of the expression's paths, exactly as
    ``record_checks.formula_order`` computes them: words inside text literals and
    fields of linked records (``product.unit_cost``) are not dependencies."""
    formulas = {f["name"]: f for f in tdef.formulas}
    graph = {name: _formula_reads(tdef, field) & set(formulas) for name, field in formulas.items()}
    problems = []
    for start in graph:
        cycle = _find_cycle(graph, start)
        if cycle and cycle[0] == min(cycle[:-1]):
            index = next(i for i, f in entries(tdef.doc.get("fields")) if f is formulas[start])
            problems.append(Problem(pointer(*base, "fields", index, "expression"),
                                    "formulas depend on each other in a circle: " + " → ".join(cycle)))
    return problems


def _formula_reads(tdef, field) -> set[str]:
    source = field.get("expression")
    if not isinstance(source, str):
        return set()
    try:
        return {path[0] for path in compile_expression(source, tdef.scope()).paths}
    except ExpressionError:
        return set()  # reported by expression_problems


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
