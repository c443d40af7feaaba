"""Semantic checks for what sits on top of tables: forms, workflows,
automations, dashboards and navigation (see ``validator`` for the entry point)."""
from __future__ import annotations

from .definition import AppDef
from .fieldtypes import expression_type
from .labels import option_values
from .validator import (Problem, _suggest, _unknown_field, _unknown_role, duplicates,
                        expression_problems, pointer)


def _table(app: AppDef, name, path, problems, allow_child=False):
    """The table a form/workflow/query names, or None with a problem recorded."""
    if name not in app.tables:
        problems.append(Problem(path, f"table '{name}' does not exist{_suggest(str(name), list(app.tables))}"
                                      f" (tables: {', '.join(sorted(app.tables)) or 'none'})"))
        return None
    table = app.tables[name]
    if table.child and not allow_child:
        problems.append(Problem(path, f"'{name}' is a child table; use its parent table here"))
        return None
    return table


def _field_name(item):
    return item if isinstance(item, str) else item.get("field")


def check_forms(app: AppDef) -> list[Problem]:
    problems = []
    for i, form in enumerate(app.doc.get("forms", [])):
        table = _table(app, form.get("table"), pointer("forms", i, "table"), problems)
        if table is None:
            continue
        seen = set()
        for si, section in enumerate(form.get("sections", [])):
            spath = ("forms", i, "sections", si)
            problems += expression_problems(pointer(*spath, "visible_if"), section.get("visible_if"), table.scope(), "boolean")
            for ci, column in enumerate(section.get("columns", [])):
                for fi, item in enumerate(column):
                    problems += _check_form_field(table, item, (*spath, "columns", ci, fi), seen)
        for key in ("lookup_field", "station_field"):
            if key in form and form[key] not in table.fields:
                problems.append(_unknown_field(pointer("forms", i, key), form[key], table))
    return problems


def _check_form_field(table, item, path, seen) -> list[Problem]:
    name = _field_name(item)
    where = pointer(*path) if isinstance(item, str) else pointer(*path, "field")
    if name not in table.fields:
        return [_unknown_field(where, name, table)]
    if name in seen:
        return [Problem(where, f"field '{name}' appears twice in this form")]
    seen.add(name)
    if isinstance(item, str):
        return []
    return (expression_problems(pointer(*path, "visible_if"), item.get("visible_if"), table.scope(), "boolean")
            + expression_problems(pointer(*path, "required_if"), item.get("required_if"), table.scope(), "boolean"))


def check_workflows(app: AppDef) -> list[Problem]:
    problems, seen_tables = [], {}
    for i, flow in enumerate(app.doc.get("workflows", [])):
        base = ("workflows", i)
        table = _table(app, flow.get("table"), pointer(*base, "table"), problems)
        if table is None:
            continue
        if table.name in seen_tables:
            problems.append(Problem(pointer(*base, "table"), f"table '{table.name}' already has workflow "
                                                              f"'{seen_tables[table.name]}'; a table has at most one"))
        seen_tables.setdefault(table.name, flow.get("name"))
        problems += duplicates(flow.get("states"), pointer(*base, "states"), "state")
        problems += duplicates(flow.get("transitions"), pointer(*base, "transitions"), "transition")
        states = [s.get("name") for s in flow.get("states", [])]
        problems += _check_state_field(table, flow, states, base)
        if "initial" in flow and flow["initial"] not in states:
            problems.append(_unknown_state(pointer(*base, "initial"), flow["initial"], states))
        for ti, transition in enumerate(flow.get("transitions", [])):
            problems += _check_transition(app, table, transition, states, (*base, "transitions", ti))
    return problems


def _unknown_state(path, state, states) -> Problem:
    return Problem(path, f"state '{state}' is not one of this workflow's states{_suggest(str(state), states)}: {', '.join(states)}")


def _check_state_field(table, flow, states, base) -> list[Problem]:
    name = flow.get("field", "state")
    field = table.fields.get(name)
    if field is None:
        return [Problem(pointer(*base, "field"), f"table '{table.name}' has no field '{name}' to hold the state; "
                                                 f"add a select field '{name}' with options {', '.join(states)}")]
    if field["type"] != "select":
        return [Problem(pointer(*base, "field"), f"state field '{name}' must be a select field, not {field['type']}")]
    missing = [s for s in states if s not in option_values(field)]
    if missing:
        return [Problem(pointer(*base, "field"), f"select field '{name}' lacks options for states: {', '.join(missing)}")]
    return []


def _check_transition(app, table, transition, states, path) -> list[Problem]:
    problems = []
    sources = transition.get("from")
    sources = [sources] if isinstance(sources, str) else (sources or [])
    for si, state in enumerate(sources):
        if state not in states:
            sub = ("from",) if isinstance(transition.get("from"), str) else ("from", si)
            problems.append(_unknown_state(pointer(*path, *sub), state, states))
    if transition.get("to") not in states:
        problems.append(_unknown_state(pointer(*path, "to"), transition.get("to"), states))
    for ri, role in enumerate(transition.get("roles", [])):
        if role not in app.roles:
            problems.append(_unknown_role(pointer(*path, "roles", ri), role, app))
    problems += expression_problems(pointer(*path, "guard"), transition.get("guard"), table.scope(), "boolean")
    for ai, action in enumerate(transition.get("actions", [])):
        problems += check_action(app, table, action, (*path, "actions", ai))
    state_field = next((f.get("field", "state") for f in app.doc.get("workflows", []) if f.get("table") == table.name), "state")
    for ai, action in enumerate(transition.get("actions", [])):
        if state_field in (action.get("set") or {}):
            problems.append(Problem(pointer(*path, "actions", ai, "set", state_field),
                                    "the state field is set by the transition itself; remove it from the actions"))
    return problems


def check_action(app, table, action, path) -> list[Problem]:
    """One action of a transition or automation; ``table`` is the triggering table (may be None)."""
    scope = table.scope() if table is not None else {}
    problems = []
    if "set" in action:
        if table is None:
            return [Problem(pointer(*path, "set"), "set needs a record: use it with a table trigger")]
        problems += _check_values(table, action["set"], scope, (*path, "set"))
    for kind in ("create", "update"):
        if kind in action:
            spec = action[kind]
            target = _table(app, spec.get("table"), pointer(*path, kind, "table"), problems, allow_child=False)
            if target is not None:
                problems += _check_values(target, spec.get("values", {}), scope, (*path, kind, "values"))
                if kind == "update":
                    problems += _check_values(target, spec.get("where", {}), scope, (*path, kind, "where"), for_where=True)
    if "notify" in action:
        spec = action["notify"]
        if "role" in spec and spec["role"] not in app.roles:
            problems.append(_unknown_role(pointer(*path, "notify", "role"), spec["role"], app))
        if "role" not in spec and "user" not in spec:
            problems.append(Problem(pointer(*path, "notify"), "say whom to notify: a role or a user"))
        problems += expression_problems(pointer(*path, "notify", "message"), spec.get("message"), scope, "text")
    return problems


def _check_values(target, values, scope, path, for_where=False) -> list[Problem]:
    problems = []
    for name, source in (values or {}).items():
        field = target.fields.get(name)
        if field is None:
            problems.append(_unknown_field(pointer(*path, name), name, target))
            continue
        if field["type"] in ("formula", "child_rows") and not for_where:
            problems.append(Problem(pointer(*path, name), f"'{name}' is a {field['type']} field and cannot be set"))
            continue
        expect = expression_type(field)
        expect = None if expect in ("record", "any", "list") else expect
        problems += expression_problems(pointer(*path, name), source, scope, expect)
    return problems


def check_automations(app: AppDef) -> list[Problem]:
    problems = []
    flows = app.named("workflows")
    for i, auto in enumerate(app.doc.get("automations", [])):
        trigger, base = auto.get("trigger", {}), ("automations", i)
        table = None
        if trigger.get("event") == "transition":
            flow = flows.get(trigger.get("workflow"))
            if flow is None:
                problems.append(Problem(pointer(*base, "trigger", "workflow"), f"workflow '{trigger.get('workflow')}' does not exist"))
            else:
                table = app.tables.get(flow.get("table"))
                names = [t.get("name") for t in flow.get("transitions", [])]
                if trigger.get("transition") not in names:
                    problems.append(Problem(pointer(*base, "trigger", "transition"),
                                            f"workflow '{flow['name']}' has no transition '{trigger.get('transition')}' "
                                            f"(transitions: {', '.join(names)})"))
        elif "table" in trigger:
            table = _table(app, trigger["table"], pointer(*base, "trigger", "table"), problems, allow_child=True)
        if trigger.get("event") == "schedule" and "table" in trigger:
            problems.append(Problem(pointer(*base, "trigger", "table"), "a scheduled automation runs without a record; remove table"))
            table = None
        if table is not None:
            problems += expression_problems(pointer(*base, "trigger", "condition"), trigger.get("condition"), table.scope(), "boolean")
        for ai, action in enumerate(auto.get("actions", [])):
            problems += check_action(app, table, action, (*base, "actions", ai))
    return problems


AGG_NEEDS_NUMBER = {"sum", "avg"}


def check_dashboards(app: AppDef) -> list[Problem]:
    problems = []
    for di, board in enumerate(app.doc.get("dashboards", [])):
        problems += duplicates(board.get("widgets"), pointer("dashboards", di, "widgets"), "widget")
        for wi, widget in enumerate(board.get("widgets", [])):
            problems += _check_query(app, widget.get("query", {}), ("dashboards", di, "widgets", wi, "query"))
            if widget.get("type") in ("bar", "line", "pie") and not (
                    widget.get("query", {}).get("group_by") or widget.get("query", {}).get("time_bucket")):
                problems.append(Problem(pointer("dashboards", di, "widgets", wi, "query"),
                                        f"a {widget['type']} chart needs group_by or time_bucket"))
    return problems


def _check_query(app, query, path) -> list[Problem]:
    problems = []
    table = _table(app, query.get("table"), pointer(*path, "table"), problems, allow_child=True)
    if table is None:
        return problems
    names = [("group_by", query.get("group_by")), ("field", query.get("field"))]
    names += [(f"filters/{i}/field", f.get("field")) for i, f in enumerate(query.get("filters", []))]
    names += [(f"columns/{i}", c) for i, c in enumerate(query.get("columns", []))]
    if "time_bucket" in query:
        names.append(("time_bucket/field", query["time_bucket"].get("field")))
    for sub, name in names:
        if name is not None and name not in table.fields:
            problems.append(_unknown_field(pointer(*path, *sub.split("/")), name, table))
    aggregate, field = query.get("aggregate", "count"), query.get("field")
    if aggregate != "count" and field is None:
        problems.append(Problem(pointer(*path, "field"), f"aggregate {aggregate} needs the field to {aggregate}"))
    if aggregate in AGG_NEEDS_NUMBER and field in table.fields and expression_type(table.fields[field]) != "number":
        problems.append(Problem(pointer(*path, "field"), f"cannot {aggregate} '{field}': it is not a number field"))
    bucket = query.get("time_bucket", {}).get("field")
    if bucket in table.fields and expression_type(table.fields[bucket]) not in ("date", "datetime"):
        problems.append(Problem(pointer(*path, "time_bucket", "field"), f"time bucket field '{bucket}' must be a date or datetime"))
    return problems


def check_navigation(app: AppDef) -> list[Problem]:
    problems = []
    sections = {"table": app.tables, "form": app.named("forms"), "dashboard": app.named("dashboards")}
    for i, item in enumerate(app.doc.get("navigation", [])):
        for key, known in sections.items():
            if key in item and item[key] not in known:
                problems.append(Problem(pointer("navigation", i, key), f"{key} '{item[key]}' does not exist{_suggest(str(item[key]), list(known))}"))
        for ri, role in enumerate(item.get("roles", [])):
            if role not in app.roles:
                problems.append(_unknown_role(pointer("navigation", i, "roles", ri), role, app))
    return problems


FLOW_CHECKS = (check_forms, check_workflows, check_automations, check_dashboards, check_navigation)
