"""Block actions of the traceability block, callable from automations by name."""
from __future__ import annotations

import sqlalchemy as sa

from runtime.record_checks import Issue, ValidationFailed
from runtime.workflow import register_action


def _refuse(field: str, message: str):
    raise ValidationFailed([Issue(field, message)])


@register_action("traceability.register_output")
def register_output(records, conn, tdef, output, params):
    """Output scanned under a new lot / serial number creates the lot (item = the order's product)."""
    tables = records.live.appdef.tables
    if output["lot"] is not None:
        lot = records._get(conn, tables["tr_lot"], output["lot"], action="read")
    elif output["lot_code"]:
        lot = _lot_for(records, conn, output)
    else:
        _refuse("lot_code", "scan or type the number of the lot or serial produced")
    if _made_from(records, conn, output["operation"], lot["id"]):
        _refuse("lot", f"lot {lot['code']} was consumed by this work order; it cannot also be its output")
    records._update(conn, tdef, output["id"], {}, output["_version"], action="read",
                    system_values={"lot": lot["id"], "lot_code": lot["code"]})


def _lot_for(records, conn, output) -> dict:
    tables, sql = records.live.appdef.tables, records.live.tables["tr_lot"]
    found = conn.execute(sa.select(sql.c.id).where(sql.c.code == output["lot_code"])).scalar()
    if found is not None:
        return records._get(conn, tables["tr_lot"], found, action="read")
    operation = records._get(conn, tables["wo_operation"], output["operation"], action="read")
    order = records._get(conn, tables["wo_order"], operation["order"], action="read")
    product = records._get(conn, tables["wo_product"], order["product"], action="read")
    return records._create(conn, tables["tr_lot"], {
        "code": output["lot_code"], "kind": output["lot_kind"] or "finished", "item": product["code"],
        "product": product["id"], "quantity": output["quantity"], "unit": product["unit"],
        "serial": bool(output["serial"]), "received_at": output["produced_at"]})


def _same_order(records, operation_id: int):
    """The ids of the operations of the order ``operation_id`` belongs to (a subquery)."""
    ops = records.live.tables["wo_operation"]
    order = sa.select(ops.c.order).where(ops.c.id == operation_id).scalar_subquery()
    return sa.select(ops.c.id).where(ops.c.order == order)


def _made_from(records, conn, operation_id: int, lot_id: int) -> bool:
    consumed = records.live.tables["tr_consume"]
    stmt = sa.select(consumed.c.id).where(consumed.c.lot == lot_id,
                                          consumed.c.operation.in_(_same_order(records, operation_id)))
    return conn.execute(stmt.limit(1)).first() is not None


@register_action("traceability.check_consumption")
def check_consumption(records, conn, tdef, consumption, params):
    """A lot cannot go into the work order that made it (the genealogy would be a circle)."""
    output = records.live.tables["tr_output"]
    stmt = sa.select(output.c.id).where(output.c.lot == consumption["lot"],
                                        output.c.operation.in_(_same_order(records, consumption["operation"])))
    if conn.execute(stmt.limit(1)).first() is not None:
        _refuse("lot", "this lot was made by the same work order; it cannot be consumed by it")
