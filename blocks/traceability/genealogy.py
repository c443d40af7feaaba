"""Genealogy of one lot, loaded level by level and handed to ``engine``.

Each level of the tree costs a fixed number of queries whatever its width (ids go
in ``IN`` lists of up to ``CHUNK``): backward 5 (6 with the quality block), forward
2; plus 1 to find the lot and 2 for the lots' and orders' display values. The depth
is capped by ``max_depth``, so a lookup costs at most about 2 + 6 × max_depth queries.
Row rules are not applied here: who may read the lots, consumption and output
tables may trace through all of them.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from runtime.models import User
from runtime.record_checks import NotFound

from . import engine

CHUNK = 1000
MAX_DEPTH = 30
DIRECTIONS = ("backward", "forward")


def genealogy(records, lot_code: str, direction: str = "backward", max_depth: int = MAX_DEPTH) -> dict:
    """The tree of ``lot_code``: backward (what went into it) or forward (what it went into)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction is backward or forward, not '{direction}'")
    for table in ("tr_lot", "tr_consume", "tr_output", "wo_operation", "wo_order"):
        records.table(table, "read")
    with records.database.read() as conn:
        loader = Loader(records, conn)
        root = loader.lot_id(lot_code)
        complete = loader.backward(root, max_depth) if direction == "backward" else loader.forward(root, max_depth)
        loader.describe()
    tree = (engine.backward if direction == "backward" else engine.forward)(loader.trace, root)
    return {**tree, "direction": direction, "complete": complete}


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def _chunks(ids) -> list[list]:
    ids = sorted(ids)
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


class Loader:
    """Fills an ``engine.Trace`` from the app's tables, one level of lots at a time."""

    def __init__(self, records, conn):
        self.conn, self.tables = conn, records.live.tables
        self.has_quality = "qc_inspection" in records.live.appdef.tables
        self.trace = engine.Trace()
        self.lot_ids: set[int] = set()
        self.order_ids: set[int] = set()

    def rows(self, stmt_for, ids) -> list:
        """``stmt_for(chunk)`` over ``ids`` in chunks: one query per CHUNK ids."""
        return [row for chunk in _chunks(ids) for row in self.conn.execute(stmt_for(chunk)).mappings()]

    def lot_id(self, code: str) -> int:
        lots = self.tables["tr_lot"]
        found = self.conn.execute(sa.select(lots.c.id).where(lots.c.code == code)).scalar()
        if found is None:
            raise NotFound(f"no lot '{code}'")
        self.lot_ids.add(found)
        return found

    # -- backward: lot → orders that made it → their operations → lots consumed ---------
    def backward(self, root: int, max_depth: int) -> bool:
        frontier = {root}
        for _ in range(max_depth):
            out, ops = self.tables["tr_output"], self.tables["wo_operation"]
            made = self.rows(lambda ids: sa.select(out.c.operation, out.c.lot, out.c.quantity, ops.c.order)
                             .join(ops, ops.c.id == out.c.operation).where(out.c.lot.in_(ids)), frontier)
            self.trace.outputs += [(r["operation"], r["lot"], _plain(r["quantity"])) for r in made]
            orders = {r["order"] for r in made} - self.order_ids
            if not orders:
                return True
            self.order_ids |= orders
            op_ids = self._operations(orders)
            self._details(op_ids)
            consumed = self._consumed(op_ids)
            frontier = {lot for _, lot, _ in consumed} - self.lot_ids
            self.lot_ids |= frontier
            if not frontier:
                return True
        return False

    def _operations(self, orders) -> list[int]:
        ops, stations = self.tables["wo_operation"], self.tables["wo_workstation"]
        found = self.rows(lambda ids: sa.select(ops.c.id, ops.c.order, ops.c.seq, ops.c.operation, ops.c._name,
                                                ops.c.good_qty, ops.c.scrap_qty, stations.c.code)
                          .outerjoin(stations, stations.c.id == ops.c.workstation).where(ops.c.order.in_(ids)), orders)
        for r in found:
            self.trace.operations[r["id"]] = {
                "order": r["order"], "seq": r["seq"], "operation": r["operation"], "number": r["_name"],
                "workstation": r["code"], "good_qty": r["good_qty"], "scrap_qty": r["scrap_qty"],
                "operators": [], "stations": [r["code"]] if r["code"] else [], "parameters": [], "inspections": []}
        return [r["id"] for r in found]

    def _consumed(self, op_ids) -> list[tuple]:
        used = self.tables["tr_consume"]
        found = self.rows(lambda ids: sa.select(used.c.operation, used.c.lot, used.c.quantity)
                          .where(used.c.operation.in_(ids)).order_by(used.c.id), op_ids)
        edges = [(r["operation"], r["lot"], _plain(r["quantity"])) for r in found]
        self.trace.consumptions += edges
        return edges

    def _details(self, op_ids) -> None:
        """Operators, stations and parameters from the production reports, recorded
        parameters, and (with the quality block) inspection results."""
        self._reports(op_ids)
        self._recorded(op_ids)
        if self.has_quality:
            self._inspections(op_ids)

    def _reports(self, op_ids) -> None:
        reports = self.tables["wo_report"]
        for r in self.rows(lambda ids: sa.select(reports.c.operation, reports.c.station, reports.c.parameter_value,
                                                 reports.c.out_of_limits, User.username)
                           .outerjoin(User, User.id == reports.c.operator)
                           .where(reports.c.operation.in_(ids)).order_by(reports.c.id), op_ids):
            op = self.trace.operations[r["operation"]]
            _add(op["operators"], r["username"])
            _add(op["stations"], r["station"])
            if r["parameter_value"] is not None:
                op["parameters"].append({"name": "key_parameter", "value": _plain(r["parameter_value"]),
                                         "out_of_limits": bool(r["out_of_limits"])})

    def _recorded(self, op_ids) -> None:
        params = self.tables["tr_param"]
        for r in self.rows(lambda ids: sa.select(params).where(params.c.operation.in_(ids)).order_by(params.c.id),
                           op_ids):
            self.trace.operations[r["operation"]]["parameters"].append(
                {"name": r["name"], "value": _plain(r["value"]), "unit": r["unit"], "at": _plain(r["recorded_at"])})

    def _inspections(self, op_ids) -> None:
        qc = self.tables["qc_inspection"]
        for r in self.rows(lambda ids: sa.select(qc.c.operation, qc.c._name, qc.c.inspection_type, qc.c.result,
                                                 qc.c.units_inspected, qc.c.units_passed)
                           .where(qc.c.operation.in_(ids)).order_by(qc.c.id), op_ids):
            self.trace.operations[r["operation"]]["inspections"].append(
                {"number": r["_name"], "type": r["inspection_type"], "result": r["result"],
                 "units_inspected": r["units_inspected"], "units_passed": r["units_passed"]})

    # -- forward: lot → orders that consumed it → lots those orders made ----------------
    def forward(self, root: int, max_depth: int) -> bool:
        frontier = {root}
        used, out, ops = self.tables["tr_consume"], self.tables["tr_output"], self.tables["wo_operation"]
        for _ in range(max_depth):
            uses = self.rows(lambda ids: sa.select(used.c.operation, used.c.lot, used.c.quantity, ops.c.order,
                                                   ops.c.seq, ops.c.operation.label("name"))
                             .join(ops, ops.c.id == used.c.operation).where(used.c.lot.in_(ids)), frontier)
            self._add_ops(uses)
            self.trace.consumptions += [(r["operation"], r["lot"], _plain(r["quantity"])) for r in uses]
            orders = {r["order"] for r in uses} - self.order_ids
            if not orders:
                return True
            self.order_ids |= orders
            made = self.rows(lambda ids: sa.select(out.c.operation, out.c.lot, out.c.quantity, ops.c.order, ops.c.seq,
                                                   ops.c.operation.label("name"))
                             .join(ops, ops.c.id == out.c.operation).where(ops.c.order.in_(ids)), orders)
            self._add_ops(made)
            self.trace.outputs += [(r["operation"], r["lot"], _plain(r["quantity"])) for r in made]
            frontier = {r["lot"] for r in made} - self.lot_ids
            self.lot_ids |= frontier
            if not frontier:
                return True
        return False

    def _add_ops(self, rows) -> None:
        for r in rows:
            self.trace.operations.setdefault(r["operation"], {"order": r["order"], "seq": r["seq"],
                                                              "operation": r["name"]})

    # -- display values -----------------------------------------------------------------
    def describe(self) -> None:
        """Codes of every lot and numbers of every order met (one query each, chunked)."""
        lots, orders, products = self.tables["tr_lot"], self.tables["wo_order"], self.tables["wo_product"]
        for r in self.rows(lambda ids: sa.select(lots.c.id, lots.c.code, lots.c.kind, lots.c.item, lots.c.quantity,
                                                 lots.c.unit, lots.c.serial, lots.c.supplier_lot)
                           .where(lots.c.id.in_(ids)), self.lot_ids):
            self.trace.lots[r["id"]] = {k: _plain(v) for k, v in r.items() if k != "id"}
        for r in self.rows(lambda ids: sa.select(orders.c.id, orders.c._name, products.c.code)
                           .join(products, products.c.id == orders.c.product).where(orders.c.id.in_(ids)),
                           self.order_ids):
            self.trace.orders[r["id"]] = {"order": r["_name"], "product": r["code"]}


def _add(values: list, value) -> None:
    if value and value not in values:
        values.append(value)
