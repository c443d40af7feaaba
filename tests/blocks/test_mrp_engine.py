"""Tests for the pure MRP engine (blocks/mrp/engine.py and its helper modules).

Worked examples are computed by hand in the comments; array element 0 is
period 1. Property tests check the contract's invariants on random small
acyclic plans. Bad-input tests assert the message names the entry.
"""
import copy
import gc
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blocks.mrp.engine import MrpInputError, run_mrp


def make_plan(horizon, items, bom=(), receipts=(), demand=()):
    """Build a plan from compact tuples: bom (parent, child, qty_per), lines (item, period, qty)."""
    return {"horizon": horizon, "items": list(items),
            "bom": [{"parent": p, "child": c, "qty_per": q} for p, c, q in bom],
            "scheduled_receipts": [{"item": i, "period": t, "qty": q} for i, t, q in receipts],
            "demand": [{"item": i, "period": t, "qty": q} for i, t, q in demand]}


def demand_for(item, quantities):
    """Demand lines for ``item`` from a per-period list (period 1 first), skipping zeros."""
    return [(item, t, q) for t, q in enumerate(quantities, 1) if q]


def arrays(record):
    """The six arrays of one item's result, for compact comparisons."""
    keys = ("gross", "scheduled_receipts", "net", "planned_receipts", "projected_on_hand",
            "planned_releases")
    return {key: record[key] for key in keys}


# --------------------------------------------------------------------------- worked examples

DEMAND_6 = [10, 15, 5, 0, 20, 10]


def test_lot_for_lot():
    plan = make_plan(6, [{"id": "A", "lead_time": 1, "on_hand": 20}],
                     demand=demand_for("A", DEMAND_6))
    result = run_mrp(plan)
    # t1: available 20, net = max(0, 10 + 0 - 20) = 0, poh = 20 - 10 = 10
    # t2: available 10, net = 15 - 10 = 5, receipt 5, poh = 10 + 5 - 15 = 0; release t1
    assert arrays(result["items"]["A"]) == {
        "gross": [10, 15, 5, 0, 20, 10],
        "scheduled_receipts": [0, 0, 0, 0, 0, 0],
        "net": [0, 5, 5, 0, 20, 10],
        "planned_receipts": [0, 5, 5, 0, 20, 10],
        "projected_on_hand": [10, 0, 0, 0, 0, 0],
        "planned_releases": [5, 5, 0, 20, 10, 0]}
    assert result["exceptions"] == []
    assert result["items"]["A"]["low_level_code"] == 0


def test_fixed_order_quantity():
    plan = make_plan(6, [{"id": "A", "lead_time": 1, "on_hand": 20,
                          "lot_sizing": {"rule": "FOQ", "qty": 30}}],
                     demand=demand_for("A", DEMAND_6))
    item = run_mrp(plan)["items"]["A"]
    # t2: available 10, net 5 -> 30 × ⌈5/30⌉ = 30, poh = 10 + 30 - 15 = 25
    # t3: 25 - 5 = 20; t4: 20; t5: 20 - 20 = 0; t6: net 10 -> 30, poh 20
    assert item["net"] == [0, 5, 0, 0, 0, 10]
    assert item["planned_receipts"] == [0, 30, 0, 0, 0, 30]
    assert item["projected_on_hand"] == [10, 25, 20, 20, 0, 20]
    assert item["planned_releases"] == [30, 0, 0, 0, 30, 0]


def test_fixed_order_quantity_orders_several_lots_when_net_exceeds_one():
    plan = make_plan(1, [{"id": "A", "lot_sizing": {"rule": "FOQ", "qty": 30}}],
                     demand=[("A", 1, 70)])
    item = run_mrp(plan)["items"]["A"]
    # net 70 -> 30 × ⌈70/30⌉ = 30 × 3 = 90, poh = 90 - 70 = 20
    assert (item["planned_receipts"], item["projected_on_hand"]) == ([90], [20])


def test_periodic_order_quantity():
    plan = make_plan(6, [{"id": "A", "lead_time": 1, "on_hand": 20,
                          "lot_sizing": {"rule": "POQ", "periods": 2}}],
                     demand=demand_for("A", DEMAND_6))
    item = run_mrp(plan)["items"]["A"]
    # t2: available 10, net 5; POQ = gross t2+t3 (15 + 5) - receipts t3 (0) + ss 0 - 10 = 10
    #     poh = 10 + 10 - 15 = 5; t3: 5 - 5 = 0; t4: 0
    # t5: available 0, net 20; POQ = 20 + 10 - 0 = 30, poh = 30 - 20 = 10; t6: 10 - 10 = 0
    assert item["net"] == [0, 5, 0, 0, 20, 0]
    assert item["planned_receipts"] == [0, 10, 0, 0, 30, 0]
    assert item["projected_on_hand"] == [10, 5, 0, 0, 10, 0]
    assert item["planned_releases"] == [10, 0, 0, 30, 0, 0]


def test_periodic_order_quantity_subtracts_scheduled_receipts_in_its_window():
    plan = make_plan(3, [{"id": "A", "lot_sizing": {"rule": "POQ", "periods": 3}}],
                     receipts=[("A", 2, 5)], demand=demand_for("A", [10, 10, 10]))
    item = run_mrp(plan)["items"]["A"]
    # t1: net 10; POQ = (10 + 10 + 10) - receipts t2..t3 (5) + 0 - 0 = 25, poh 15
    # t2: 15 + 5 - 10 = 10; t3: 10 - 10 = 0
    assert item["planned_receipts"] == [25, 0, 0]
    assert item["projected_on_hand"] == [15, 10, 0]


def test_periodic_order_quantity_never_orders_less_than_net():
    plan = make_plan(3, [{"id": "A", "lot_sizing": {"rule": "POQ", "periods": 3}}],
                     receipts=[("A", 2, 50)], demand=[("A", 1, 10), ("A", 3, 5)])
    result = run_mrp(plan)
    item = result["items"]["A"]
    # t1: net 10; formula = 15 - 50 + 0 - 0 = -35 < net, so the receipt is net = 10
    assert item["planned_receipts"] == [10, 0, 0]
    assert item["projected_on_hand"] == [0, 50, 45]
    assert result["exceptions"] == [{"type": "reschedule_in", "item": "A", "period": 2,
                                     "qty": 50, "to_period": 1}]


def test_safety_stock():
    plan = make_plan(3, [{"id": "A", "on_hand": 8, "safety_stock": 5}],
                     demand=demand_for("A", [2, 6, 4]))
    item = run_mrp(plan)["items"]["A"]
    # t1: available 8, net = max(0, 2 + 5 - 8) = 0, poh 6
    # t2: available 6, net = 6 + 5 - 6 = 5, poh = 6 + 5 - 6 = 5
    # t3: available 5, net = 4 + 5 - 5 = 4, poh = 5
    assert item["net"] == [0, 5, 4]
    assert item["planned_receipts"] == [0, 5, 4]
    assert item["projected_on_hand"] == [6, 5, 5]


def test_on_hand_below_safety_stock_is_replenished_in_period_1_and_pegged_to_it():
    result = run_mrp(make_plan(2, [{"id": "A", "on_hand": 2, "safety_stock": 5}]))
    item = result["items"]["A"]
    # t1: net = 0 + 5 - 2 = 3
    assert item["planned_receipts"] == [3, 0]
    assert item["projected_on_hand"] == [5, 5]
    assert result["pegging"] == [{
        "item": "A", "period": 1, "release_period": 1, "qty": 3, "unpegged": 0,
        "sources": [{"type": "safety_stock", "item": "A", "qty": 3}]}]


def test_min_qty_and_multiple():
    plan = make_plan(2, [{"id": "A", "min_qty": 25, "multiple": 10}],
                     demand=demand_for("A", [7, 30]))
    item = run_mrp(plan)["items"]["A"]
    # t1: net 7 -> raised to min 25 -> rounded up to a multiple of 10: 30; poh 23
    # t2: available 23, net 7 -> 25 -> 30; poh = 23 + 30 - 30 = 23
    assert item["planned_receipts"] == [30, 30]
    assert item["projected_on_hand"] == [23, 23]


def test_multiple_applies_after_fixed_order_quantity():
    plan = make_plan(1, [{"id": "A", "multiple": 5, "lot_sizing": {"rule": "FOQ", "qty": 12}}],
                     demand=[("A", 1, 7)])
    # net 7 -> FOQ 12 -> next multiple of 5: 15
    assert run_mrp(plan)["items"]["A"]["planned_receipts"] == [15]


def test_scheduled_receipts():
    plan = make_plan(4, [{"id": "A", "lead_time": 1, "on_hand": 10}],
                     receipts=[("A", 2, 20)], demand=demand_for("A", [10, 10, 10, 15]))
    result = run_mrp(plan)
    # t1: 10 - 10 = 0; t2: available 0 + 20, poh 10; t3: 0; t4: net 15, released t3
    assert arrays(result["items"]["A"]) == {
        "gross": [10, 10, 10, 15],
        "scheduled_receipts": [0, 20, 0, 0],
        "net": [0, 0, 0, 15],
        "planned_receipts": [0, 0, 0, 15],
        "projected_on_hand": [0, 10, 0, 0],
        "planned_releases": [0, 0, 15, 0]}
    assert result["exceptions"] == []


def three_level_plan():
    """A (end item) uses 2 B and 1 C; B uses 3 C, so C sits at levels 1 and 2 (code 2).

    C is listed first so that processing in input order would be wrong.
    """
    items = [{"id": "C", "lead_time": 1, "on_hand": 20, "lot_sizing": {"rule": "FOQ", "qty": 50}},
             {"id": "A", "lead_time": 1},
             {"id": "B", "lead_time": 2, "on_hand": 5}]
    return make_plan(6, items, bom=[("A", "B", 2), ("A", "C", 1), ("B", "C", 3)],
                     demand=[("A", 5, 10), ("A", 6, 5)])


def test_three_level_bom_with_shared_component_uses_low_level_codes():
    result = run_mrp(three_level_plan())
    items = result["items"]
    assert [items[i]["low_level_code"] for i in "ABC"] == [0, 1, 2]
    assert list(items) == ["C", "A", "B"]                       # input order kept
    # A: L4L, receipts t5 10, t6 5, released one period earlier
    assert items["A"]["planned_releases"] == [0, 0, 0, 10, 5, 0]
    # B: gross = A releases × 2 = 20 in t4, 10 in t5; on hand 5 -> net 15, 10; lead time 2
    assert items["B"]["gross"] == [0, 0, 0, 20, 10, 0]
    assert items["B"]["planned_receipts"] == [0, 0, 0, 15, 10, 0]
    assert items["B"]["planned_releases"] == [0, 15, 10, 0, 0, 0]
    # C: gross = A releases × 1 + B releases × 3 = [0, 45, 30, 10, 5, 0]
    # t2: available 20, net 25 -> FOQ 50, poh 25; t3: net 30 - 25 = 5 -> 50, poh 45
    # t4: 45 - 10 = 35; t5: 30; t6: 30
    assert arrays(items["C"]) == {
        "gross": [0, 45, 30, 10, 5, 0],
        "scheduled_receipts": [0, 0, 0, 0, 0, 0],
        "net": [0, 25, 5, 0, 0, 0],
        "planned_receipts": [0, 50, 50, 0, 0, 0],
        "projected_on_hand": [20, 25, 45, 35, 30, 30],
        "planned_releases": [50, 50, 0, 0, 0, 0]}


def test_pegging_through_three_levels():
    pegging = run_mrp(three_level_plan())["pegging"]
    # Processing order A, B, C. C's requirements laid end to end: B@4 needs 45 [0, 45),
    # B@5 30 [45, 75), A@5 10 [75, 85), A@6 5 [85, 90). On hand covers [0, 20), the
    # t2 receipt [20, 70): 25 of B@4 and 25 of B@5; the t3 receipt [70, 120): 5 of B@5,
    # 10 of A@5, 5 of A@6, and 30 unpegged.
    assert pegging == [
        {"item": "A", "period": 5, "release_period": 4, "qty": 10, "unpegged": 0,
         "sources": [{"type": "demand", "item": "A", "period": 5, "qty": 10, "line": 0}]},
        {"item": "A", "period": 6, "release_period": 5, "qty": 5, "unpegged": 0,
         "sources": [{"type": "demand", "item": "A", "period": 6, "qty": 5, "line": 1}]},
        # B: on hand 5 covers the first 5 of A@5's 20
        {"item": "B", "period": 4, "release_period": 2, "qty": 15, "unpegged": 0,
         "sources": [{"type": "parent", "item": "A", "period": 5, "qty": 15}]},
        {"item": "B", "period": 5, "release_period": 3, "qty": 10, "unpegged": 0,
         "sources": [{"type": "parent", "item": "A", "period": 6, "qty": 10}]},
        {"item": "C", "period": 2, "release_period": 1, "qty": 50, "unpegged": 0,
         "sources": [{"type": "parent", "item": "B", "period": 4, "qty": 25},
                     {"type": "parent", "item": "B", "period": 5, "qty": 25}]},
        {"item": "C", "period": 3, "release_period": 2, "qty": 50, "unpegged": 30,
         "sources": [{"type": "parent", "item": "B", "period": 5, "qty": 5},
                     {"type": "parent", "item": "A", "period": 5, "qty": 10},
                     {"type": "parent", "item": "A", "period": 6, "qty": 5}]}]


def test_pegging_splits_demand_lines_fifo_across_receipts():
    plan = make_plan(2, [{"id": "A", "lot_sizing": {"rule": "FOQ", "qty": 10}}],
                     demand=[("A", 1, 4), ("A", 2, 8), ("A", 1, 3)])
    pegging = run_mrp(plan)["pegging"]
    # Requirements in period order, lines in input order: line 0 [0, 4), line 2 [4, 7),
    # line 1 [7, 15). Receipt t1 (net 7 -> 10) covers [0, 10); receipt t2 (net 5 -> 10)
    # covers [10, 20): the last 5 of line 1 and 5 unpegged.
    assert [(r["period"], r["sources"], r["unpegged"]) for r in pegging] == [
        (1, [{"type": "demand", "item": "A", "period": 1, "qty": 4, "line": 0},
             {"type": "demand", "item": "A", "period": 1, "qty": 3, "line": 2},
             {"type": "demand", "item": "A", "period": 2, "qty": 3, "line": 1}], 0),
        (2, [{"type": "demand", "item": "A", "period": 2, "qty": 5, "line": 1}], 5)]


def test_past_due_release():
    plan = make_plan(4, [{"id": "X", "lead_time": 3}], demand=[("X", 2, 10)])
    result = run_mrp(plan)
    # receipt in t2 should be released in t2 - 3 = -1: placed in t1, 2 periods late.
    assert result["items"]["X"]["planned_releases"] == [10, 0, 0, 0]
    assert result["items"]["X"]["projected_on_hand"] == [0, 0, 0, 0]
    # Released in t1 it really arrives in t1 + 3 = t4: on hand 0, -10, -10, 0.
    assert result["exceptions"] == [
        {"type": "past_due_release", "item": "X", "period": 2, "qty": 10, "late_by": 2},
        {"type": "below_safety_stock", "item": "X", "period": 2, "projected_on_hand": -10,
         "safety_stock": 0},
        {"type": "below_safety_stock", "item": "X", "period": 3, "projected_on_hand": -10,
         "safety_stock": 0}]


def test_past_due_releases_of_a_parent_land_in_period_1_of_the_child():
    plan = make_plan(3, [{"id": "A", "lead_time": 2}, {"id": "B"}], bom=[("A", "B", 2)],
                     demand=[("A", 1, 1), ("A", 2, 2)])
    result = run_mrp(plan)
    assert result["items"]["A"]["planned_releases"] == [3, 0, 0]
    assert result["items"]["B"]["gross"] == [6, 0, 0]             # (1 + 2) × 2
    assert [e["period"] for e in result["exceptions"] if e["type"] == "past_due_release"] == [1, 2]


def test_fractional_quantities_give_floats_rounded_to_6_decimals():
    plan = make_plan(2, [{"id": "A"}, {"id": "B", "lot_sizing": {"rule": "FOQ", "qty": 0.1}}],
                     bom=[("A", "B", 0.1)], demand=[("A", 1, 3), ("A", 2, 11)])
    item = run_mrp(plan)["items"]["B"]
    # 3 × 0.1 is 0.30000000000000004 in floats; the engine gives 0.3.
    # t2: 11 × 0.1 = 1.1, and 1.1 / 0.1 = 11.000000000000002 in floats: still 11 lots.
    assert item["gross"] == [0.3, 1.1]
    assert item["planned_receipts"] == [0.3, 1.1]
    assert all(type(v) is float for key in ("gross", "net", "projected_on_hand")
               for v in item[key])


def test_whole_number_plans_give_ints_even_if_spelled_as_floats():
    plan = make_plan(2, [{"id": "A", "on_hand": 5.0}], demand=[("A", 2, 7)])
    item = run_mrp(plan)["items"]["A"]
    assert item["planned_receipts"] == [0, 2]
    assert all(type(v) is int for values in arrays(item).values() for v in values)


def test_repeated_bom_lines_add_up():
    plan = make_plan(1, [{"id": "A"}, {"id": "B"}], bom=[("A", "B", 2), ("A", "B", 3)],
                     demand=[("A", 1, 1)])
    assert run_mrp(plan)["items"]["B"]["gross"] == [5]


def test_input_is_not_modified():
    plan = three_level_plan()
    before = copy.deepcopy(plan)
    run_mrp(plan)
    assert plan == before


def test_progress_is_reported_about_every_percent_and_at_the_end():
    plan = make_plan(2, [{"id": f"I{k}"} for k in range(250)])
    calls = []
    run_mrp(plan, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (250, 250)
    assert 100 <= len(calls) <= 130
    assert [done for done, _ in calls] == sorted({done for done, _ in calls})


def test_progress_may_abort_the_run():
    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_mrp(make_plan(1, [{"id": "A"}]), progress=stop)
    assert gc.isenabled()            # the collector pause is undone on the way out


# --------------------------------------------------------------------------- properties

LOT_RULES = st.one_of(st.just({"rule": "L4L"}),
                      st.builds(lambda q: {"rule": "FOQ", "qty": q}, st.integers(1, 25)),
                      st.builds(lambda p: {"rule": "POQ", "periods": p}, st.integers(1, 4)))


@st.composite
def random_plans(draw, fractional=False):
    """Small acyclic plans: BOM lines only go from an earlier to a later item, then shuffled."""
    horizon = draw(st.integers(1, 8))
    count = draw(st.integers(1, 5))
    ids = [f"I{k}" for k in range(count)]
    items = [{"id": item_id, "lead_time": draw(st.integers(0, 3)),
              "on_hand": draw(st.integers(0, 30)), "safety_stock": draw(st.integers(0, 10)),
              "lot_sizing": draw(LOT_RULES), "min_qty": draw(st.sampled_from([0, 0, 7, 20])),
              "multiple": draw(st.sampled_from([0, 0, 4, 5]))} for item_id in ids]
    if fractional:                     # guarantee at least one fractional quantity
        items[0]["on_hand"] += 0.5
    qty_per = st.sampled_from([0.1, 0.25, 1.5, 2]) if fractional else st.integers(1, 3)
    pairs = [(p, c) for p in range(count) for c in range(p + 1, count)]
    bom = [(ids[p], ids[c], draw(qty_per)) for p, c in pairs if draw(st.booleans())]
    line = st.tuples(st.sampled_from(ids), st.integers(1, horizon), st.integers(0, 40))
    demand = draw(st.lists(line, max_size=10))
    receipts = draw(st.lists(line, max_size=3))
    return make_plan(horizon, draw(st.permutations(items)), bom, receipts, demand)


def per_period(lines, item, horizon):
    """Sum (item, period, qty) JSON lines of one item into a per-period list."""
    out = [0] * horizon
    for line in lines:
        if line["item"] == item:
            out[line["period"] - 1] += line["qty"]
    return out


PROPERTY_SETTINGS = settings(max_examples=300, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(random_plans())
def test_netting_recurrence_and_coverage(plan):
    result = run_mrp(plan)
    for spec in plan["items"]:
        row, safety = result["items"][spec["id"]], spec["safety_stock"]
        stock = spec["on_hand"]
        for t in range(plan["horizon"]):
            available = stock + row["scheduled_receipts"][t]
            assert row["net"][t] == max(0, row["gross"][t] + safety - available)
            assert row["planned_receipts"][t] >= row["net"][t]
            assert (row["planned_receipts"][t] > 0) == (row["net"][t] > 0)
            stock = available + row["planned_receipts"][t] - row["gross"][t]
            assert row["projected_on_hand"][t] == stock
            assert stock >= safety                 # the plan itself never dips below
    late_items = {e["item"] for e in result["exceptions"] if e["type"] == "past_due_release"}
    assert {e["item"] for e in result["exceptions"]
            if e["type"] == "below_safety_stock"} <= late_items


@PROPERTY_SETTINGS
@given(random_plans())
def test_lot_sizing_rules_hold(plan):
    result = run_mrp(plan)
    for spec in plan["items"]:
        row, lot = result["items"][spec["id"]], spec["lot_sizing"]
        plain = not spec["min_qty"] and not spec["multiple"]
        for t, qty in enumerate(row["planned_receipts"]):
            if not qty:
                continue
            assert qty >= spec["min_qty"]
            if spec["multiple"]:
                assert qty % spec["multiple"] == 0
            if plain and lot["rule"] == "L4L":
                assert qty == row["net"][t]
            if plain and lot["rule"] == "FOQ":
                assert qty % lot["qty"] == 0 and qty - lot["qty"] < row["net"][t]
            if plain and lot["rule"] == "POQ":
                end = t + lot["periods"]
                available = row["projected_on_hand"][t] - qty + row["gross"][t]
                window = (sum(row["gross"][t:end]) - sum(row["scheduled_receipts"][t + 1:end])
                          + spec["safety_stock"] - available)
                assert qty == max(row["net"][t], window)


@PROPERTY_SETTINGS
@given(random_plans())
def test_gross_is_demand_plus_parent_releases_and_releases_are_offset(plan):
    result = run_mrp(plan)
    horizon, items = plan["horizon"], result["items"]
    late = {(e["item"], e["period"]) for e in result["exceptions"]
            if e["type"] == "past_due_release"}
    for spec in plan["items"]:
        item_id = spec["id"]
        expected = per_period(plan["demand"], item_id, horizon)
        for line in plan["bom"]:
            if line["child"] == item_id:
                for t, qty in enumerate(items[line["parent"]]["planned_releases"]):
                    expected[t] += qty * line["qty_per"]
        assert items[item_id]["gross"] == expected
        releases = [0] * horizon
        for t, qty in enumerate(items[item_id]["planned_receipts"]):
            if qty:
                release = t - spec["lead_time"]
                assert (release < 0) == ((item_id, t + 1) in late)
                releases[max(release, 0)] += qty
        assert items[item_id]["planned_releases"] == releases


@PROPERTY_SETTINGS
@given(random_plans())
def test_pegging_accounts_for_every_planned_order(plan):
    result = run_mrp(plan)
    orders = {(r["item"], r["period"]): r for r in result["pegging"]}
    receipts = {(item_id, t + 1): qty for item_id, row in result["items"].items()
                for t, qty in enumerate(row["planned_receipts"]) if qty}
    assert {key: r["qty"] for key, r in orders.items()} == receipts
    pegged_per_line = [0] * len(plan["demand"])
    for record in result["pegging"]:
        assert record["unpegged"] >= 0
        assert sum(s["qty"] for s in record["sources"]) + record["unpegged"] == record["qty"]
        for source in record["sources"]:
            assert source["qty"] > 0
            if source["type"] == "parent":
                assert (source["item"], source["period"]) in orders
            if source["type"] == "demand":
                line = plan["demand"][source["line"]]
                assert (line["item"], line["period"]) == (source["item"], source["period"])
                pegged_per_line[source["line"]] += source["qty"]
    assert all(pegged <= line["qty"] for pegged, line in zip(pegged_per_line, plan["demand"]))


@PROPERTY_SETTINGS
@given(random_plans(fractional=True))
def test_fractional_plans_keep_invariants_at_6_decimals(plan):
    result = run_mrp(plan)
    for spec in plan["items"]:
        row = result["items"][spec["id"]]
        for values in arrays(row).values():
            assert all(type(v) is float and round(v, 6) == v for v in values)
        for t, qty in enumerate(row["planned_receipts"]):
            assert qty >= row["net"][t]
            assert row["projected_on_hand"][t] >= spec["safety_stock"]
            if qty and spec["multiple"]:
                assert math.isclose(qty / spec["multiple"], round(qty / spec["multiple"]))


# --------------------------------------------------------------------------- bad input

def error_for(plan):
    """Run ``plan`` expecting MrpInputError; return its message."""
    with pytest.raises(MrpInputError) as caught:
        run_mrp(plan)
    return str(caught.value)


def good_plan():
    """A small valid plan that the bad-input tests break one piece at a time."""
    return make_plan(52, [{"id": "A"}, {"id": "B"}, {"id": "P1"}, {"id": "C"}],
                     bom=[("A", "B", 1), ("B", "C", 2), ("A", "P1", 1), ("B", "P1", 1)],
                     receipts=[("B", 1, 5)],
                     demand=[("A", t, 1) for t in (1, 2, 3, 4, 5, 6)])


def test_good_plan_is_accepted():
    assert run_mrp(good_plan())["items"]["C"]["low_level_code"] == 2


@pytest.mark.parametrize("raw, expected", [
    ([], "plan: expected a JSON object, got a list"),
    ("plan", "plan: expected a JSON object, got a string"),
])
def test_plan_must_be_an_object(raw, expected):
    assert error_for(raw) == expected


def test_items_must_be_a_list():
    assert "items: expected a list, got an object" in error_for({"horizon": 3, "items": {}})


def test_missing_items_and_bad_lists():
    message = error_for({"horizon": 3, "bom": "none", "demand": 5})
    assert "items: missing" in message
    assert "bom: expected a list, got a string" in message
    assert "demand: expected a list, got a number" in message


def test_missing_horizon():
    plan = good_plan()
    del plan["horizon"]
    assert "horizon: missing" in error_for(plan)


@pytest.mark.parametrize("horizon", [0, -3, 2.5, "52", True, None, 10_001])
def test_horizon_must_be_a_whole_number_of_at_least_1(horizon):
    plan = good_plan()
    plan["horizon"] = horizon
    assert "horizon: must be a whole number ≥ 1" in error_for(plan)


def test_unknown_bom_item_names_the_line_and_role():
    plan = good_plan()
    plan["bom"][3]["child"] = "X9"
    assert error_for(plan) == "bom[3]: unknown item 'X9' (child)"


def test_bom_cycle_is_spelled_out():
    plan = make_plan(4, [{"id": i} for i in "ABC"],
                     bom=[("B", "C", 1), ("A", "B", 1), ("C", "A", 1)])
    assert error_for(plan) == "BOM cycle: A → B → C → A (bom[1], bom[0], bom[2])"


def test_item_that_is_its_own_component_is_a_cycle():
    plan = make_plan(4, [{"id": "A"}], bom=[("A", "A", 1)])
    assert error_for(plan) == "BOM cycle: A → A (bom[0])"


def test_negative_lead_time_names_item_index_and_id():
    plan = good_plan()
    plan["items"][2]["lead_time"] = -1
    assert error_for(plan) == "items[2] (id 'P1'): lead_time must be a whole number ≥ 0, got -1"


def test_fractional_lead_time_is_rejected():
    plan = good_plan()
    plan["items"][1]["lead_time"] = 1.5
    assert "items[1] (id 'B'): lead_time must be a whole number ≥ 0, got 1.5" in error_for(plan)


def test_demand_period_outside_horizon():
    plan = good_plan()
    plan["demand"][5]["period"] = 60
    assert error_for(plan) == "demand[5]: period 60 is outside 1..52"


def test_scheduled_receipt_period_must_be_whole():
    plan = good_plan()
    plan["scheduled_receipts"][0]["period"] = "soon"
    assert "scheduled_receipts[0]: period must be a whole number, got 'soon'" in error_for(plan)


def test_duplicate_item_ids():
    plan = good_plan()
    plan["items"].append({"id": "B"})
    assert "items[4] (id 'B'): duplicate id, first defined at items[1]" in error_for(plan)


@pytest.mark.parametrize("qty, shown", [("ten", "'ten'"), (None, "null"), (True, "true"),
                                        (float("nan"), "nan"), ([1], "[1]")])
def test_non_numeric_qty(qty, shown):
    plan = good_plan()
    plan["demand"][2]["qty"] = qty
    assert error_for(plan).startswith(f"demand[2]: qty must be a number ≥ 0, got {shown}")


def test_missing_item_in_line():
    plan = good_plan()
    del plan["demand"][1]["item"]
    assert error_for(plan) == "demand[1]: item is missing"


def test_foq_without_qty():
    plan = good_plan()
    plan["items"][0]["lot_sizing"] = {"rule": "FOQ"}
    assert "items[0] (id 'A'): FOQ lot_sizing needs qty, a number > 0" in error_for(plan)


@pytest.mark.parametrize("periods", [0, -1, None, 1.5])
def test_poq_periods_below_1(periods):
    plan = good_plan()
    plan["items"][3]["lot_sizing"] = {"rule": "POQ", "periods": periods}
    assert "items[3] (id 'C'): POQ lot_sizing needs periods, a whole number ≥ 1" in error_for(plan)


def test_unknown_lot_sizing_rule():
    plan = good_plan()
    plan["items"][1]["lot_sizing"] = {"rule": "EOQ"}
    assert error_for(plan) == ("items[1] (id 'B'): unknown lot_sizing rule 'EOQ' "
                               "(use one of L4L, FOQ, POQ)")


def test_lot_sizing_must_be_an_object():
    plan = good_plan()
    plan["items"][1]["lot_sizing"] = "L4L"
    assert "items[1] (id 'B'): lot_sizing must be an object" in error_for(plan)


@pytest.mark.parametrize("where, field, expected", [
    ("items", "on_hand", "items[0] (id 'A'): on_hand must be a number ≥ 0, got -5"),
    ("items", "safety_stock", "items[0] (id 'A'): safety_stock must be a number ≥ 0, got -5"),
    ("items", "min_qty", "items[0] (id 'A'): min_qty must be a number ≥ 0, got -5"),
    ("items", "multiple", "items[0] (id 'A'): multiple must be a number ≥ 0, got -5"),
    ("demand", "qty", "demand[0]: qty must be a number ≥ 0, got -5"),
    ("scheduled_receipts", "qty", "scheduled_receipts[0]: qty must be a number ≥ 0, got -5"),
    ("bom", "qty_per", "bom[0]: qty_per must be a number > 0, got -5"),
])
def test_negative_quantities(where, field, expected):
    plan = good_plan()
    plan[where][0][field] = -5
    assert error_for(plan) == expected


def test_entries_must_be_objects_and_items_need_an_id():
    plan = good_plan()
    plan["items"].append("D")
    plan["items"].append({"lead_time": 1})
    plan["bom"].append(["A", "B", 1])
    message = error_for(plan)
    assert "items[4]: expected an object, got a string" in message
    assert "items[5]: id must be a non-empty string, got null" in message
    assert "bom[4]: expected an object, got a list" in message


def test_all_problems_are_listed_in_one_message():
    plan = good_plan()
    plan["items"][0]["lead_time"] = -1
    plan["items"][0]["on_hand"] = "x"
    plan["bom"][1]["parent"] = "Q"
    plan["demand"][0]["period"] = 0
    error = pytest.raises(MrpInputError, run_mrp, plan).value
    assert error.problems == [
        "items[0] (id 'A'): lead_time must be a whole number ≥ 0, got -1",
        "items[0] (id 'A'): on_hand must be a number ≥ 0, got 'x'",
        "bom[1]: unknown item 'Q' (parent)",
        "demand[0]: period 0 is outside 1..52"]
    assert str(error) == "\n".join(error.problems)


def test_lines_naming_a_broken_item_do_not_also_say_unknown_item():
    plan = good_plan()
    plan["items"][1]["lead_time"] = -1                   # B is reported once
    assert error_for(plan) == "items[1] (id 'B'): lead_time must be a whole number ≥ 0, got -1"


def test_very_many_problems_are_cut_short():
    plan = good_plan()
    plan["demand"] = [{"item": "nope", "period": 1, "qty": 1}] * 80
    lines = error_for(plan).splitlines()
    assert len(lines) == 51 and lines[-1] == "... and 30 more problems"
