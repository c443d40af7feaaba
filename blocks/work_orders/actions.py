"""Block actions of the work-order block, callable from automations and transitions by name."""
from __future__ import annotations

import sqlalchemy as sa

from runtime.models import utcnow
from runtime.record_checks import Issue, ValidationFailed
from runtime.workflow import register_action

from .engine import OperationState, ReportRefused, check_report, check_start, next_status, operations_from_routing


@register_action("work_orders.create_operations")
def create_operations(records, conn, tdef, order, params):
    """A new work order gets its operation tasks from the product's routing."""
    product = records._get(conn, records.live.appdef.tables["wo_product"], order["product"])
    operation_table = records.live.appdef.tables["wo_operation"]
    for values in operations_from_routing(order["quantity"], product.get("routing") or []):
        records._create(conn, operation_table, {"order": order["id"], **values})


def _state(row) -> OperationState:
    return OperationState(row["seq"], row["received_qty"] or 0, row["good_qty"] or 0, row["scrap_qty"] or 0,
                          row["status"] or "waiting")


def _operations(records, conn, order_id):
    sql = records.live.tables["wo_operation"]
    # FOR UPDATE: concurrent reports to one order serialise here (PostgreSQL; SQLite already has one writer).
    stmt = sa.select(sql).where(sql.c.order == order_id).order_by(sql.c.seq).with_for_update()
    return [dict(r) for r in conn.execute(stmt).mappings()]


@register_action("work_orders.apply_report")
def apply_report(records, conn, tdef, report, params):
    """Add a report's quantities to its operation and pass good pieces on to the next one."""
    table = records.live.tables["wo_operation"]
    op_id = report["operation"]
    order_id = conn.execute(sa.select(table.c.order).where(table.c.id == op_id)).scalar_one()
    ops = _operations(records, conn, order_id)
    index = next(i for i, row in enumerate(ops) if row["id"] == op_id)
    current, good, scrap = ops[index], report.get("good_qty") or 0, report.get("scrap_qty") or 0
    try:
        if report["kind"] == "start":
            check_start(_state(current), _state(ops[index - 1]) if index else None)
        check_report(_state(current), good, scrap, int(params.get("tolerance") or 0))
    except ReportRefused as refused:
        raise ValidationFailed([Issue("good_qty", str(refused))]) from None
    now = utcnow()
    values = {"good_qty": current["good_qty"] + good, "scrap_qty": current["scrap_qty"] + scrap,
              "status": next_status(report["kind"], current["status"])}
    if report["kind"] == "start" and current["started_at"] is None:
        values["started_at"] = now
    if report["kind"] == "finish":
        values["finished_at"] = now
    operation_table = records.live.appdef.tables["wo_operation"]
    # The rows are locked above, so the versions read are current: no conflict is possible here.
    records._update(conn, operation_table, op_id, {}, current["_version"], system_values=values, action="read")
    if good and index + 1 < len(ops):
        following = ops[index + 1]
        records._update(conn, operation_table, following["id"], {}, following["_version"], action="read",
                        system_values={"received_qty": following["received_qty"] + good})
