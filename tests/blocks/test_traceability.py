"""Traceability block: genealogy over plain edges, then lots scanned and produced
through the record service and traced both ways with a bounded number of queries."""
import contextlib

import pytest
import sqlalchemy as sa

from blocks.traceability.engine import Trace, backward, finished_lots, forward
from blocks.traceability.genealogy import genealogy
from runtime import users
from runtime.records import ValidationFailed

from .shopfloor import rows, wire, work_order


def op(order, seq, name):
    return {"order": order, "seq": seq, "operation": name}


# M1 → order 1 (ops 11, 12) → I1 → order 2 (ops 21, 22, with M2) → F1, F2;  M1 → order 3 (op 31) → F3
TRACE = Trace(
    lots={1: {"code": "M1"}, 2: {"code": "M2"}, 3: {"code": "I1"}, 4: {"code": "F1"}, 5: {"code": "F2"}, 6: {"code": "F3"}},
    orders={1: {"order": "WO-1"}, 2: {"order": "WO-2"}, 3: {"order": "WO-3"}},
    operations={11: op(1, 10, "Cut"), 12: op(1, 20, "Weld"), 21: op(2, 10, "Fit"), 22: op(2, 20, "Paint"),
                31: op(3, 10, "Cut")},
    outputs=[(12, 3, 10), (22, 4, 4), (22, 5, 6), (31, 6, 1)],
    consumptions=[(11, 1, 5), (21, 3, 10), (22, 2, 0.5), (31, 1, 2)])


def test_backward_tree_of_a_finished_lot():
    tree = backward(TRACE, 4)
    [wo2] = tree["made_by"]
    assert tree["code"] == "F1" and wo2["order"] == "WO-2"
    fit, paint = wo2["operations"]
    assert (fit["seq"], fit["operation"], paint["operation"]) == (10, "Fit", "Paint")
    [sub] = fit["materials"]
    assert (sub["code"], sub["quantity_used"]) == ("I1", 10)
    [wo1] = sub["made_by"]
    cut, weld = wo1["operations"]
    assert [(m["code"], m["quantity_used"], m["made_by"]) for m in cut["materials"]] == [("M1", 5, [])]
    assert weld["materials"] == [] and [m["code"] for m in paint["materials"]] == ["M2"]


def test_forward_tree_of_a_material_lot():
    tree = forward(TRACE, 1)
    assert [use["order"] for use in tree["used_in"]] == ["WO-1", "WO-3"]
    assert tree["used_in"][0]["operations"] == [{"seq": 10, "operation": "Cut", "quantity_used": 5}]
    assert [lot["code"] for lot in tree["used_in"][0]["produced"]] == ["I1"]
    assert finished_lots(tree) == ["F1", "F2", "F3"]
    assert finished_lots(forward(TRACE, 2)) == ["F1", "F2"] and finished_lots(forward(TRACE, 4)) == ["F1"]


def test_a_cycle_is_cut_where_it_closes():
    looped = Trace(lots={1: {"code": "X"}, 2: {"code": "Y"}}, orders={1: {}, 2: {}},
                   operations={1: op(1, 10, "A"), 2: op(2, 10, "B")},
                   outputs=[(1, 2, 1), (2, 1, 1)], consumptions=[(1, 1, 1), (2, 2, 1)])
    inner = backward(looped, 1)["made_by"][0]["operations"][0]["materials"][0]
    assert inner["code"] == "Y" and inner["made_by"][0]["operations"][0]["materials"][0]["cycle"] is True
    assert forward(looped, 1)["used_in"][0]["produced"][0]["used_in"][0]["produced"][0]["cycle"] is True


@contextlib.contextmanager
def counted(engine):
    """Counts the SQL statements sent while the block runs."""
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_scan_produce_and_trace_both_ways(takt):
    records = wire(takt, "traceability")
    with takt.db.write() as conn:
        ann = users.create_user(conn, "ann", None)
    a10, a20 = work_order(records, product="SUB")
    b10, b20 = work_order(records, product="FG")
    records.create("tr_lot", {"code": "M1", "item": "Steel bar", "supplier": "ACME", "supplier_lot": "H-77"})
    records.create("tr_lot", {"code": "M2", "item": "Paint"})

    records.create("tr_consume", {"operation": a10["id"], "lot": "M1", "quantity": "5"})
    records.create("tr_output", {"operation": a20["id"], "lot_code": "I1", "lot_kind": "intermediate", "quantity": "10"})
    records.create("tr_param", {"operation": a20["id"], "name": "Weld current", "value": "180", "unit": "A"})
    records.create("tr_consume", {"operation": b10["id"], "lot": "I1", "quantity": "10"})
    records.create("wo_report", {"operation": b10["id"], "kind": "start", "operator": ann, "station": "FIT-2",
                                 "parameter_value": "1.5"})
    records.create("tr_consume", {"operation": b20["id"], "lot": "M2", "quantity": "0.5"})
    for code in ("F1", "F2"):
        records.create("tr_output", {"operation": b20["id"], "lot_code": code, "serial": True, "quantity": "1"})
    i1 = records.find("tr_lot", "code", "I1")
    assert (i1["kind"], i1["item"], i1["quantity"]) == ("intermediate", "SUB", 10)
    assert [o["lot"] for o in rows(records, "tr_output", operation=b20["id"])] == [
        records.find("tr_lot", "code", c)["id"] for c in ("F1", "F2")]

    with pytest.raises(ValidationFailed, match="made by the same work order"):
        records.create("tr_consume", {"operation": b10["id"], "lot": "F1"})
    with pytest.raises(ValidationFailed, match="scan or type the number"):
        records.create("tr_output", {"operation": b20["id"]})

    with counted(takt.db.engine) as narrow:
        tree = genealogy(records, "F1", "backward")
    [made] = tree["made_by"]
    assert (tree["code"], tree["kind"], tree["serial"], made["product"]) == ("F1", "finished", True, "FG")
    fit, paint = made["operations"]
    assert (fit["number"], fit["workstation"], fit["operators"], fit["stations"]) == (b10["_name"], "ST-1", ["ann"], ["ST-1", "FIT-2"])
    assert fit["parameters"] == [{"name": "key_parameter", "value": 1.5, "out_of_limits": False}]
    [sub] = fit["materials"]
    cut, weld = sub["made_by"][0]["operations"]
    assert [(m["code"], m["supplier_lot"], m["quantity_used"]) for m in cut["materials"]] == [("M1", "H-77", 5.0)]
    assert [(p["name"], p["value"], p["unit"]) for p in weld["parameters"]] == [("Weld current", 180.0, "A")]
    assert [m["code"] for m in paint["materials"]] == ["M2"] and tree["complete"] is True

    down = genealogy(records, "M1", "forward")
    assert finished_lots(down) == ["F1", "F2"] and down["used_in"][0]["operations"][0]["seq"] == 10
    assert genealogy(records, "M1", "forward", max_depth=1)["complete"] is False

    for i in range(5):  # a wider tree at the same depth costs the same number of queries
        records.create("tr_lot", {"code": f"W{i}", "item": "Washer"})
        records.create("tr_consume", {"operation": (a10, b10)[i % 2]["id"], "lot": f"W{i}"})
    with counted(takt.db.engine) as wide:
        genealogy(records, "F1", "backward")
    assert len(wide) == len(narrow)
    assert len([s for s in narrow if s.lstrip().upper().startswith("SELECT")]) == 1 + 5 * 2 + 1 + 2
