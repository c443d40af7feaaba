"""Semantic checks for what sits on top of tables: forms, workflows,
automations, dashboards and navigation (see ``validator`` for the entry point)."""
from __future__ import annotations

from .definition import AppDef
from .validator import (Problem, _suggest, _unknown_field, _unknown_role, duplicates, entries, expression_problems,
                        field_expression_type, guarded, named_entries, pointer)


def _table(app: AppDef, name, path, problems, allow_child=False):
    """The table a form/workflow/query names, or None with a problem recorded."""
    if not isinstance(name, str) or name not in app.tables:
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


def _form_items(section):
    """(column index, row index, item) for the readable entries of a section's columns."""
    columns = section.get("columns")
    return [(ci, fi, item)
            for ci, column in enumerate(columns if isinstance(columns, list) else [])
            if isinstance(column, list)
            for fi, item in enumerate(column) if isinstance(item, (str, dict))]


def check_forms(app: AppDef) -> list[Problem]:
    return [p for i, form in entries(app.doc.get("forms")) for p in guarded(app, _check_form, app, form, i)]


def _check_form(app, form, i) -> list[Problem]:
    problems = []
    table = _table(app, form.get("table"), pointer("forms", i, "table"), problems)
    if table is None:
        return problems
    seen = set()
    for si, section in entries(form.get("sections")):
        spath = ("forms", i, "sections", si)
        problems += expression_problems(pointer(*spath, "visible_if"), section.get("visible_if"), table.scope(), "boolean")
        for ci, fi, item in _form_items(section):
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
    for i, flow in entries(app.doc.get("workflows")):
        problems += guarded(app, _check_workflow, app, flow, ("workflows", i), seen_tables)
    return problems


def _check_workflow(app, flow, base, seen_tables) -> list[Problem]:
    problems = []
    table = _table(app, flow.get("table"), pointer(*base, "table"), problems)
    if table is None:
        return problems
    if table.name in seen_tables:
        problems.append(Problem(pointer(*base, "table"), f"table '{table.name}' already has workflow "
                                                          f"'{seen_tables[table.name]}'; a table has at most one"))
    seen_tables.setdefault(table.name, flow.get("name"))
    problems += duplicates(flow.get("states"), pointer(*base, "states"), "state")
    problems += duplicates(flow.get("transitions"), pointer(*base, "transitions"), "transition")
    states = _state_names(flow)
    problems += _check_state_field(table, flow, states, base)
    if "initial" in flow and flow["initial"] not in states:
        problems.append(_unknown_state(pointer(*base, "initial"), flow["initial"], states))
    for ti, transition in entries(flow.get("transitions")):
        problems += guarded(app, _check_transition, app, table, transition, states, (*base, "transitions", ti))
    return problems


def _state_names(flow) -> list[str]:
    """A state written as a bare name (reported by the schema) still counts, to avoid follow-up noise."""
    states = flow.get("states")
    names = [s if isinstance(s, str) else s.get("name") if isinstance(s, dict) else None
             for s in (states if isinstance(states, list) else [])]
    return [name for name in names if isinstance(name, str)]


def _unknown_state(path, state, states) -> Problem:
    return Problem(path, f"state '{state}' is not one of this workflow's states{_suggest(str(state), states)}: {', '.join(states)}")


def _check_state_field(table, flow, states, base) -> list[Problem]:
    name = flow.get("field", "state")
    field = table.fields.get(name)
    if field is None:
        return [Problem(pointer(*base, "field"), f"table '{table.name}' has no field '{name}' to hold the state; "
                                                 f"add a select field '{name}' with options {', '.join(states)}")]
    if field.get("type") != "select":
        return [Problem(pointer(*base, "field"), f"state field '{name}' must be a select field, not {field.get('type')}")]
    missing = [s for s in states if s not in _option_values(field)]
    if missing:
        return [Problem(pointer(*base, "field"), f"select field '{name}' lacks options for states: {', '.join(missing)}")]
    return []


def _option_values(field) -> list:
    """Like ``labels.option_values``, but an option of the wrong shape (reported by the schema) is skipped."""
    options = field.get("options")
    return [opt if isinstance(opt, str) else opt.get("value")
            for opt in (options if isinstance(options, list) else []) if isinstance(opt, (str, dict))]


def _check_transition(app, table, transition, states, path) -> list[Problem]:
    problems = []
    sources = transition.get("from")
    sources = [sources] if isinstance(sources, str) else sources if isinstance(sources, list) else []
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
    for ai, action in entries(transition.get("actions")):
        problems += check_action(app, table, action, (*path, "actions", ai))
    state_field = next((f.get("field", "state") for _, f in entries(app.doc.get("workflows"))
                        if f.get("table") == table.name), "state")
    for ai, action in entries(transition.get("actions")):
        if isinstance(action.get("set"), dict) and state_field in action["set"]:
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
    for name, source in (values.items() if isinstance(values, dict) else []):
        field = target.fields.get(name)
        if field is None:
            problems.append(_unknown_field(pointer(*path, name), name, target))
            continue
        if field.get("type") in ("formula", "child_rows") and not for_where:
            problems.append(Problem(pointer(*path, name), f"'{name}' is a {field['type']} field and cannot be set"))
            continue
        expect = field_expression_type(field)
        expect = None if expect in ("record", "any", "list") else expect
        problems += expression_problems(pointer(*path, name), source, scope, expect)
    return problems


def check_automations(app: AppDef) -> list[Problem]:
    return [p for i, auto in entries(app.doc.get("automations"))
            for p in guarded(app, _check_automation, app, auto, ("automations", i))]


def _check_automation(app, auto, base) -> list[Problem]:
    problems = []
    trigger = auto.get("trigger") if isinstance(auto.get("trigger"), dict) else {}
    table = _trigger_table(app, trigger, base, problems)
    if table is not None:
        problems += expression_problems(pointer(*base, "trigger", "condition"), trigger.get("condition"), table.scope(), "boolean")
    for ai, action in entries(auto.get("actions")):
        problems += guarded(app, check_action, app, table, action, (*base, "actions", ai))
    return problems


def _trigger_table(app, trigger, base, problems):
    """The table whose records the automation sees, or None (schedule, or an unknown workflow)."""
    if trigger.get("event") == "transition":
        flow = app.named("workflows").get(trigger.get("workflow"))
        if flow is None:
            problems.append(Problem(pointer(*base, "trigger", "workflow"), f"workflow '{trigger.get('workflow')}' does not exist"
                                    f"{_suggest(str(trigger.get('workflow')), list(app.named('workflows')))}"))
            return None
        names = [t["name"] for _, t in named_entries(flow.get("transitions"))]
        if trigger.get("transition") not in names:
            problems.append(Problem(pointer(*base, "trigger", "transition"),
                                    f"workflow '{flow['name']}' has no transition '{trigger.get('transition')}' "
                                    f"(transitions: {', '.join(names) or 'none'})"))
        return app.tables.get(flow.get("table"))
    if trigger.get("event") == "schedule":
        if "table" in trigger:
            problems.append(Problem(pointer(*base, "trigger", "table"), "a scheduled automation runs without a record; remove table"))
        return None
    if "table" in trigger:
        return _table(app, trigger["table"], pointer(*base, "trigger", "table"), problems, allow_child=True)
    return None


AGG_NEEDS_NUMBER = {"sum", "avg"}


def check_dashboards(app: AppDef) -> list[Problem]:
    problems = []
    for di, board in entries(app.doc.get("dashboards")):
        problems += duplicates(board.get("widgets"), pointer("dashboards", di, "widgets"), "widget")
        for wi, widget in entries(board.get("widgets")):
            problems += guarded(app, _check_widget, app, widget, ("dashboards", di, "widgets", wi))
    return problems


def _check_widget(app, widget, path) -> list[Problem]:
    query = widget.get("query")
    if not isinstance(query, dict):
        return []
    problems = _check_query(app, query, (*path, "query"))
    if widget.get("type") in ("bar", "line", "pie") and not (query.get("group_by") or query.get("time_bucket")):
        problems.append(Problem(pointer(*path, "query"), f"a {widget['type']} chart needs group_by or time_bucket"))
    return problems


def _check_query(app, query, path) -> list[Problem]:
    problems = []
    table = _table(app, query.get("table"), pointer(*path, "table"), problems, allow_child=True)
    if table is None:
        return problems
    names = [("group_by", query.get("group_by")), ("field", query.get("field"))]
    names += [(f"filters/{i}/field", f.get("field")) for i, f in entries(query.get("filters"))]
    names += [(f"columns/{i}", c) for i, c in enumerate(query.get("columns", []))]
    if "time_bucket" in query:
        names.append(("time_bucket/field", query["time_bucket"].get("field")))
    for sub, name in names:
        if name is not None and name not in table.fields:
            problems.append(_unknown_field(pointer(*path, *sub.split("/")), name, table))
    aggregate, field = query.get("aggregate", "count"), query.get("field")
    if aggregate != "count" and field is None:
        problems.append(Problem(pointer(*path, "field"), f"aggregate {aggregate} needs the field to {aggregate}"))
    if aggregate in AGG_NEEDS_NUMBER and field in table.fields and field_expression_type(table.fields[field]) not in ("number", "any"):
        problems.append(Problem(pointer(*path, "field"), f"cannot {aggregate} '{field}': it is not a number field"))
    bucket = query.get("time_bucket", {}).get("field")
    if bucket in table.fields and field_expression_type(table.fields[bucket]) not in ("date", "datetime", "any"):
        problems.append(Problem(pointer(*path, "time_bucket", "field"), f"time bucket field '{bucket}' must be a date or datetime"))
    return problems


def check_navigation(app: AppDef) -> list[Problem]:
    problems = []
    sections = {"table": app.tables, "form": app.named("forms"), "dashboard": app.named("dashboards")}
    for i, item in entries(app.doc.get("navigation")):
        problems += guarded(app, _check_nav_item, app, item, i, sections)
    return problems


def _check_nav_item(app, item, i, sections) -> list[Problem]:
    problems = []
    for key, known in sections.items():
        if key in item and item[key] not in known:
            problems.append(Problem(pointer("navigation", i, key), f"{key} '{item[key]}' does not exist{_suggest(str(item[key]), list(known))}"))
    for ri, role in enumerate(item.get("roles", [])):
        if role not in app.roles:
            problems.append(_unknown_role(pointer("navigation", i, "roles", ri), role, app))
    return problems


FLOW_CHECKS = (check_forms, check_workflows, check_automations, check_dashboards, check_navigation)
