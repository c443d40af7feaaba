"""Block actions of the quality block, callable from automations and transitions by name."""
from __future__ import annotations

import sqlalchemy as sa

from runtime.record_checks import Issue, ValidationFailed
from runtime.workflow import register_action

from .engine import Characteristic, InspectionRefused, judge_inspection as judge

CHILD_FIELDS = ("unit_no", "characteristic", "measured", "answer")


def _refuse(field: str, message: str):
    raise ValidationFailed([Issue(field, message)])


@register_action("quality.judge_inspection")
def judge_inspection(records, conn, tdef, inspection, params):
    """Judge a new inspection against its plan; on failure open an NCR (``open_ncr``) that may hold the operation."""
    tables = records.live.appdef.tables
    plan = records._get(conn, tables["qc_plan"], inspection["plan"], action="read")
    operation = records._get(conn, tables["wo_operation"], inspection["operation"], action="read")
    order = records._get(conn, tables["wo_order"], operation["order"], action="read")
    if plan["product"] is not None and plan["product"] != order["product"]:
        _refuse("plan", f"plan {plan['code']} is for another product than work order {order['_name']}")
    sample_size = inspection["sample_size"] or plan["sample_size"] or 1
    rows = inspection.get("results") or []
    try:
        judged = judge([Characteristic.from_row(c) for c in plan.get("characteristics") or []], rows, sample_size)
    except InspectionRefused as refused:
        _refuse("results", str(refused))
    first = _first_pass(records, conn, tdef, inspection)
    results = [{**{k: row[k] for k in CHILD_FIELDS if row[k] is not None}, "passed": v.passed}
               for row, v in zip(rows, judged.verdicts)]
    values = {"result": "pass" if judged.passed else "fail", "units_inspected": judged.units_inspected,
              "units_passed": judged.units_passed, "first_pass": first, "product": order["product"],
              "findings": judged.findings or None, "sample_size": sample_size,
              "inspection_type": inspection["inspection_type"] or plan["inspection_type"], "results": results}
    after = records._update(conn, tdef, inspection["id"], {}, inspection["_version"], system_values=values,
                            action="read")
    if not judged.passed and str(params.get("open_ncr", "true")).lower() == "true":
        _open_ncr(records, conn, after, operation, bool(plan["hold_on_fail"]), judged.units_failed)


def _first_pass(records, conn, tdef, inspection) -> bool:
    """A re-inspection (of reworked units) is not a first pass; the original must be of the same operation."""
    previous = inspection["reinspection_of"]
    if previous is None:
        return True
    if records._get(conn, tdef, previous, action="read")["operation"] != inspection["operation"]:
        _refuse("reinspection_of", "re-inspect units of the same operation as the original inspection")
    return False


def _open_ncr(records, conn, inspection, operation, hold: bool, quantity: int):
    tables = records.live.appdef.tables
    records._create(conn, tables["qc_ncr"], {
        "inspection": inspection["id"], "operation": operation["id"], "product": inspection["product"],
        "quantity": quantity, "hold": hold,
        "description": f"Inspection {inspection['_name']} failed:\n{inspection['findings']}"})
    if hold and operation["status"] == "running":
        records._update(conn, tables["wo_operation"], operation["id"], {}, operation["_version"],
                        system_values={"status": "paused"}, action="read")


def holding_ncrs(records, conn, operation_id) -> list[str]:
    """Numbers of the open NCRs that hold this operation."""
    sql = records.live.tables["qc_ncr"]
    stmt = sa.select(sql.c._name).where(sql.c.operation == operation_id, sql.c.status == "open",
                                        sql.c.hold.is_(True)).order_by(sql.c.id)
    return list(conn.execute(stmt).scalars())


@register_action("quality.enforce_hold")
def enforce_hold(records, conn, tdef, report, params):
    """Refuse a production report (start, quantities, finish) while an open NCR holds its operation."""
    held_by = holding_ncrs(records, conn, report["operation"])
    if held_by:
        _refuse("operation", f"the operation is on hold until {', '.join(held_by)} "
                             "is dispositioned by quality")
