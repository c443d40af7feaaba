"""The workflow engine: a table's state machine, identical for UI and API.

A transition is offered when the record is in one of its ``from`` states,
the user holds one of its roles (admin and engineer always do) and its guard
holds. Running it sets the state and the transition's ``set`` values, creates
the records its ``create`` actions describe and runs block actions — all in
the transaction of the state change, which is audited as a transition.
"""
from __future__ import annotations

from .expressions import ExpressionError
from .fieldtypes import FieldError, field_type
from .labels import label_text
from .linked import RowCache, expression_values
from .record_checks import Conflict, Forbidden, Issue, NotFound, ValidationFailed

BLOCK_ACTIONS: dict = {}


def register_action(name: str):
    """Blocks register actions (``work_orders.start_operation``) callable from transitions."""
    def register(fn):
        BLOCK_ACTIONS[name] = fn
        return fn
    return register


def _sources(transition) -> list[str]:
    value = transition["from"]
    return [value] if isinstance(value, str) else list(value)


def _role_ok(actor, transition) -> bool:
    return actor.full_access or not transition.get("roles") or bool(actor.roles & set(transition["roles"]))


def _values(records, conn, tdef, record) -> dict:
    values = expression_values(RowCache(conn, records.live), tdef.name, record)
    values["current_user"] = records.actor.scope_value()
    return values


def available(records, tdef, record, conn=None) -> list[dict]:
    """Transitions this user may run on this record now (role, state and guard hold)."""
    flow = tdef.workflow()
    if flow is None:
        return []
    state = record.get(flow.get("field", "state"))
    offered = [t for t in flow["transitions"] if state in _sources(t) and _role_ok(records.actor, t)]
    if conn is None:
        with records.database.read() as conn:
            return [t for t in offered if _guard_holds(records, conn, tdef, record, t)]
    return [t for t in offered if _guard_holds(records, conn, tdef, record, t)]


def _guard_holds(records, conn, tdef, record, transition) -> bool:
    if not transition.get("guard"):
        return True
    try:
        return tdef.expression(transition["guard"], "boolean").evaluate(_values(records, conn, tdef, record)) is True
    except ExpressionError:
        return False


def run_transition(records, table: str, record_id, name: str, version) -> dict:
    tdef = records.table(table, "read")
    flow = tdef.workflow()
    transition = next((t for t in (flow or {}).get("transitions", []) if t["name"] == name), None)
    if transition is None:
        raise NotFound(f"'{tdef.name}' has no transition '{name}'")
    with records.database.write() as conn:
        before = records._get(conn, tdef, record_id, action="read")
        _check(records, conn, tdef, flow, transition, before)
        sets = _set_values(records, conn, tdef, transition, before)
        state_field = flow.get("field", "state")
        extra = {"transition": name, "from": before[state_field], "to": transition["to"]}
        after = records._update(conn, tdef, before["id"], {}, version, event="transition", extra=extra,
                                system_values={state_field: transition["to"], **sets}, action="read")
        _run_actions(records, conn, tdef, transition, after)
        return after


def _check(records, conn, tdef, flow, transition, record):
    label = label_text(transition.get("label"), records.actor.language, transition["name"])
    state = record.get(flow.get("field", "state"))
    if state not in _sources(transition):
        raise Conflict(f"'{label}' cannot run now: the record is in state '{state}', "
                       f"and '{label}' starts from {', '.join(_sources(transition))}")
    if not _role_ok(records.actor, transition):
        raise Forbidden(f"'{label}' needs one of the roles: {', '.join(transition['roles'])}")
    if not _guard_holds(records, conn, tdef, record, transition):
        message = label_text(transition.get("guard_message"), records.actor.language) if transition.get("guard_message") \
            else f"the condition of '{label}' does not hold: {transition['guard']}"
        raise ValidationFailed([Issue(None, message)])


def _evaluate_into(records, conn, tdef, target, assignments, record) -> dict:
    """Evaluate {field: expression} over ``record`` (of ``tdef``) into values for ``target``'s fields."""
    values, issues = {}, []
    scope = _values(records, conn, tdef, record)
    for name, source in assignments.items():
        field = target.fields[name]
        try:
            result = tdef.expression(source).evaluate(scope)
            kind = field_type(field)
            values[name] = kind.coerce(field, result) if result is not None else None
        except (ExpressionError, FieldError) as err:
            issues.append(Issue(name, f"cannot be computed: {err}"))
    if issues:
        raise ValidationFailed(issues)
    return values


def _set_values(records, conn, tdef, transition, record) -> dict:
    values = {}
    for action in transition.get("actions", []):
        if "set" in action:
            values.update(_evaluate_into(records, conn, tdef, tdef, action["set"], record))
    return values


def _run_actions(records, conn, tdef, transition, record):
    for action in transition.get("actions", []):
        if "create" in action:
            target = records.live.appdef.tables[action["create"]["table"]]
            values = _evaluate_into(records, conn, tdef, target, action["create"]["values"], record)
            records._create(conn, target, values)
        elif "block_action" in action:
            spec = action["block_action"]
            if spec["action"] not in BLOCK_ACTIONS:
                raise ValidationFailed([Issue(None, f"block action '{spec['action']}' is not installed")])
            BLOCK_ACTIONS[spec["action"]](records, conn, tdef, record, spec.get("params", {}))
        elif "set" not in action:  # update, notify, webhook: the automation engine's own actions
            from .automations import run_transition_action
            run_transition_action(records, conn, tdef, record, transition, action)
