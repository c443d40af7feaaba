"""Genealogy as plain functions over plain edges: which lots went into a lot (backward)
and which lots a lot went into (forward), as nested tree dicts.

The graph: a work order's operations consume lots and produce lots. A lot made by
an order is traced back to every operation of that order — what the order consumed
anywhere along its routing went into everything it produced; when an order makes
several lots this over-includes, which is the safe side for a recall. Cycles (a lot
fed back into the order that made it) are cut where they close. No Flask, no database.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Trace:
    """What the loader found. Ids are record ids; the dicts hold display values."""

    lots: dict[int, dict] = field(default_factory=dict)        # id → {code, kind, item, quantity, unit}
    orders: dict[int, dict] = field(default_factory=dict)      # id → {order, product}
    operations: dict[int, dict] = field(default_factory=dict)  # id → {order (id), seq, operation, workstation,
    #                                                                   operators, stations, parameters, inspections}
    outputs: list[tuple] = field(default_factory=list)         # (operation id, lot id, quantity)
    consumptions: list[tuple] = field(default_factory=list)    # (operation id, lot id, quantity)

    def order_of(self, operation_id: int) -> int | None:
        op = self.operations.get(operation_id)
        return op["order"] if op else None

    def orders_making(self, lot_id: int) -> list[int]:
        return _unique(self.order_of(op) for op, lot, _ in self.outputs if lot == lot_id)

    def operations_of(self, order_id: int) -> list[int]:
        ops = [i for i, op in self.operations.items() if op["order"] == order_id]
        return sorted(ops, key=lambda i: (self.operations[i].get("seq") or 0, i))


def _unique(values) -> list:
    return [v for v in dict.fromkeys(values) if v is not None]


def _lot(trace: Trace, lot_id: int) -> dict:
    return {"lot": lot_id, **trace.lots.get(lot_id, {"code": f"#{lot_id}"})}


def backward(trace: Trace, lot_id: int, _path: frozenset = frozenset()) -> dict:
    """Lot → the orders that made it → their operations (operators, stations, parameters,
    inspections) → the lots each consumed, each traced back the same way."""
    node = _lot(trace, lot_id)
    if lot_id in _path:
        return {**node, "cycle": True}
    path = _path | {lot_id}
    node["made_by"] = [{**trace.orders.get(order, {}),
                        "operations": [_operation_back(trace, op, path) for op in trace.operations_of(order)]}
                       for order in trace.orders_making(lot_id)]
    return node


def _operation_back(trace: Trace, op_id: int, path: frozenset) -> dict:
    op = {k: v for k, v in trace.operations[op_id].items() if k != "order"}
    op["materials"] = [{**backward(trace, lot, path), "quantity_used": qty}
                       for operation, lot, qty in trace.consumptions if operation == op_id]
    return op


def forward(trace: Trace, lot_id: int, _path: frozenset = frozenset()) -> dict:
    """Lot → the orders (and operations) that consumed it → the lots those orders made,
    each traced forward the same way: every finished lot the lot ended up in."""
    node = _lot(trace, lot_id)
    if lot_id in _path:
        return {**node, "cycle": True}
    path = _path | {lot_id}
    uses = [(op, qty) for op, lot, qty in trace.consumptions if lot == lot_id]
    node["used_in"] = []
    for order in _unique(trace.order_of(op) for op, _ in uses):
        made = _unique(lot for op, lot, _ in trace.outputs if trace.order_of(op) == order)
        node["used_in"].append({
            **trace.orders.get(order, {}),
            "operations": [{"seq": trace.operations[op]["seq"], "operation": trace.operations[op]["operation"],
                            "quantity_used": qty} for op, qty in uses if trace.order_of(op) == order],
            "produced": [forward(trace, lot, path) for lot in made]})
    return node


def finished_lots(tree: dict) -> list[str]:
    """The codes of the leaves of a forward tree: the lots nothing was made from (yet)."""
    produced = [lot for use in tree.get("used_in", []) for lot in use["produced"]]
    if not produced:
        return [tree["code"]]
    return list(dict.fromkeys(code for lot in produced for code in finished_lots(lot)))
