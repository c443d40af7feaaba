"""Material requirements planning (MRP) as one pure function over JSON data.

``run_mrp(plan, progress=None) -> result`` has no Flask, database or file
access, so the console command, a background job and the tests all call it
the same way. Periods are numbered 1..H; every array in the result has
length H and element 0 is period 1.

Input (unknown keys are ignored; optional keys default to 0 / L4L)::

    {"horizon": H,
     "items": [{"id": "P1", "lead_time": 2, "on_hand": 0, "safety_stock": 0,
                "lot_sizing": {"rule": "L4L"} | {"rule": "FOQ", "qty": Q}
                              | {"rule": "POQ", "periods": P},
                "min_qty": 0, "multiple": 0}],
     "bom": [{"parent": "A", "child": "P1", "qty_per": 2}],
     "scheduled_receipts": [{"item": "P1", "period": 3, "qty": 50}],
     "demand": [{"item": "A", "period": 5, "qty": 10}]}

``bom``, ``scheduled_receipts`` and ``demand`` may be omitted. Repeated
BOM lines for the same parent and child add up. Bad input raises
``MrpInputError`` naming each offending entry (see ``validation``).

Per item, in low-level-code order (see ``levels``), for t = 1..H::

    gross[t]     = demand[t] + Σ parents' planned release[t] × qty_per
    available    = projected_on_hand[t-1] + scheduled_receipts[t]   (poh[0] = on hand)
    net[t]       = max(0, gross[t] + safety_stock − available)
    planned_receipts[t] = lot size of net[t] when net[t] > 0       (see ``lotsizing``)
    projected_on_hand[t] = available + planned_receipts[t] − gross[t]
    planned_releases[t − lead_time] += planned_receipts[t]  (period 1 if earlier)

Output::

    {"items": {ID: {"low_level_code", "gross", "scheduled_receipts",
                    "projected_on_hand", "net", "planned_receipts",
                    "planned_releases"}},           # input order
     "exceptions": [...],                            # see below
     "pegging": [...]}                               # see below

Pegging has one record per planned order, grouped by item in processing
order and then by period::

    {"item": "P1", "period": 5 (receipt), "release_period": 3, "qty": 40,
     "sources": [{"type": "demand", "item": "P1", "period": 5, "qty": 10, "line": 7},
                 {"type": "parent", "item": "A", "period": 6, "qty": 25},
                 {"type": "safety_stock", "item": "P1", "qty": 5}],
     "unpegged": 0}

A ``demand`` source is ``demand[line]`` of the input. A ``parent`` source
is the parent's planned order received in ``period`` (its own pegging
record), so chains can be followed up to independent demand. A
``safety_stock`` source is the part that restores safety stock when on hand
starts below it. ``qty`` of a source is in units of the pegged item.
Sources plus ``unpegged`` add up to ``qty``; ``unpegged`` is what lot sizing
(FOQ, POQ, min_qty, multiple) adds beyond the requirements in the horizon.
On hand and scheduled receipts cover the earliest requirements first; the
rest is allocated FIFO (see ``pegging``).

Exceptions, grouped by item in processing order, then by type as listed:

* ``{"type": "past_due_release", "item", "period", "qty", "late_by"}``:
  the order received in ``period`` should have been released ``late_by``
  periods before period 1; it is released in period 1 instead.
* ``{"type": "reschedule_in", "item", "period", "qty", "to_period"}``: a
  scheduled receipt arrives in ``period`` although the item already needs a
  planned order in the earlier ``to_period``; pulling the scheduled receipt
  in may replace (part of) that order.
* ``{"type": "below_safety_stock", "item", "period", "projected_on_hand",
  "safety_stock"}``: the planned projected on hand never falls below safety
  stock (when net > 0 the receipt is ≥ net, which lifts it to ≥ safety
  stock; when net = 0 it already is). It only does so in reality when a
  past-due order arrives late, so this is reported for items with a past-due
  release, per period in which the on hand — with each past-due order
  arriving at the earliest possible period 1 + lead_time (never, if beyond
  the horizon) — would be below safety stock (negative means a stockout).

Numbers: if every quantity in the input is a whole number, all results are
ints. Otherwise (e.g. qty_per 0.25) the engine works in exact int
millionths and every quantity in the result is a float rounded to 6
decimals (see ``validation``). ``progress(done_items, total_items)`` is
called after about every 1% of items and at the end; it may raise to abort
the run.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Callable

from blocks.mrp.levels import low_level_codes, processing_order
from blocks.mrp.lotsizing import make_sizer
from blocks.mrp.pegging import demand_requirement, parent_requirements, peg_item, repack
from blocks.mrp.units import to_output_units
from blocks.mrp.validation import MrpInputError, Plan, parse_plan

__all__ = ["run_mrp", "MrpInputError"]


def run_mrp(plan: dict, progress: Callable[[int, int], None] | None = None) -> dict:
    """Plan every item of ``plan`` and return the documented result dict.

    Raises ``MrpInputError`` (listing every problem found) for a bad plan.
    """
    with _collector_paused():
        checked = parse_plan(plan)
        codes = low_level_codes(checked.children, checked.ids, checked.edge_line)
        result = _plan_all(checked, codes, progress)
        repack(result["pegging"], checked.scale)
        return to_output_units(result, checked.scale) if checked.scale != 1 else result


@contextmanager
def _collector_paused():
    """Pause CPython's cyclic garbage collector for the run, then restore it.

    A large run allocates millions of lists, tuples and dicts that live
    until the end; the collector would rescan them again and again (about
    40% of the run time at 20,000 items) to find nothing, because nothing
    the engine builds contains a reference cycle. Reference counting still
    frees everything as usual. In a threaded process, other threads' cyclic
    garbage simply waits until the run ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _plan_all(plan: Plan, codes: list, progress) -> dict:
    """Plan items in low-level-code order, reporting progress about every 1%.

    The working state is dropped on return, so a scaled result's int arrays
    are freed before ``to_output_units`` builds their float copies.
    """
    order = processing_order(codes)
    state = _State(plan)
    total = len(order)
    step = max(1, total // 100)
    for done, item in enumerate(order, 1):
        _plan_item(plan, state, item)
        if progress is not None and (done % step == 0 or done == total):
            progress(done, total)
    return _result(plan, codes, order, state)


class _State:
    """Per-item arrays filled while planning; parents write into children's gross."""

    def __init__(self, plan: Plan):
        n, horizon = len(plan.ids), plan.horizon
        self.gross = [[0] * horizon for _ in range(n)]
        self.scheduled = [[0] * horizon for _ in range(n)]
        self.requirements: list = [[] for _ in range(n)]
        for item, i, qty, line in plan.demand:
            self.gross[item][i] += qty
            self.requirements[item].append(demand_requirement(i, qty, line, plan.ids[item]))
        for item, i, qty in plan.receipts:
            self.scheduled[item][i] += qty
        self.arrays: list = [None] * n      # (poh, net, receipts, releases)
        self.exceptions: list = [()] * n
        self.pegging: list = [()] * n


def _plan_item(plan: Plan, state: _State, item: int) -> None:
    """Net one item, release its orders, explode them to its children and peg them."""
    item_id, safety = plan.ids[item], plan.safety_stock[item]
    gross, scheduled = state.gross[item], state.scheduled[item]
    sizer = make_sizer(plan.lot[item], plan.min_qty[item], plan.multiple[item],
                       gross, scheduled, safety)
    poh, net, receipts = _net(gross, scheduled, plan.on_hand[item], safety, sizer)
    orders, releases, late = _release(receipts, plan.lead_time[item], item_id)
    state.arrays[item] = (poh, net, receipts, releases)
    if orders:
        _explode(state, item_id, plan.children[item], orders)
        state.pegging[item] = peg_item(item_id, plan.on_hand[item], safety, scheduled,
                                       orders, state.requirements[item])
        state.exceptions[item] = (late + _reschedule_in(item_id, scheduled, orders)
                                  + _late_shortages(plan, item, gross, scheduled, orders, late))
    state.requirements[item] = None


def _net(gross: list, scheduled: list, on_hand: int, safety: int, size: Callable):
    """Run the netting recurrence; return (projected on hand, net, planned receipts)."""
    horizon = len(gross)
    poh, net, receipts = [0] * horizon, [0] * horizon, [0] * horizon
    stock = on_hand
    for i in range(horizon):
        need = gross[i]
        available = stock + scheduled[i]
        short = need + safety - available
        if short > 0:
            net[i] = short
            qty = receipts[i] = size(i, short, available)
            stock = available + qty - need
        else:
            stock = available - need
        poh[i] = stock
    return poh, net, receipts


def _release(receipts: list, lead_time: int, item_id: str):
    """Offset receipts by the lead time; return (orders, releases, past-due exceptions).

    ``orders`` lists ``(receipt index, release index, qty)`` in period order.
    """
    releases = [0] * len(receipts)
    orders, late = [], []
    for i, qty in enumerate(receipts):
        if not qty:
            continue
        release = i - lead_time
        if release < 0:
            late.append({"type": "past_due_release", "item": item_id, "period": i + 1,
                         "qty": qty, "late_by": -release})
            release = 0
        releases[release] += qty
        orders.append((i, release, qty))
    return orders, releases, late


def _explode(state: _State, item_id: str, children: dict, orders: list) -> None:
    """Add each order × qty_per to its children's gross in the release period."""
    for child, qty_per in children.items():
        needs = parent_requirements(item_id, orders, qty_per)
        child_gross = state.gross[child]
        for release, need, *_ in needs:
            child_gross[release] += need
        state.requirements[child] += needs


def _reschedule_in(item_id: str, scheduled: list, orders: list) -> list[dict]:
    """Flag scheduled receipts that arrive after the item's first planned receipt."""
    first = orders[0][0]
    return [{"type": "reschedule_in", "item": item_id, "period": i + 1, "qty": scheduled[i],
             "to_period": first + 1}
            for i in range(first + 1, len(scheduled)) if scheduled[i]]


def _late_shortages(plan: Plan, item: int, gross: list, scheduled: list, orders: list,
                    late: list) -> list[dict]:
    """Project on hand with past-due orders arriving when they really can; flag dips."""
    if not late:
        return []
    lead, safety = plan.lead_time[item], plan.safety_stock[item]
    arriving = [0] * len(gross)
    for receipt, _, qty in orders:
        arrival = max(receipt, lead)
        if arrival < len(gross):
            arriving[arrival] += qty
    found, stock = [], plan.on_hand[item]
    for i, need in enumerate(gross):
        stock = stock + scheduled[i] + arriving[i] - need
        if stock < safety:
            found.append({"type": "below_safety_stock", "item": plan.ids[item], "period": i + 1,
                          "projected_on_hand": stock, "safety_stock": safety})
    return found


def _result(plan: Plan, codes: list, order: list, state: _State) -> dict:
    """Assemble the JSON-ready result: items in input order, lists in processing order."""
    items = {}
    for k, item_id in enumerate(plan.ids):
        poh, net, receipts, releases = state.arrays[k]
        items[item_id] = {"low_level_code": codes[k], "gross": state.gross[k],
                          "scheduled_receipts": state.scheduled[k], "projected_on_hand": poh,
                          "net": net, "planned_receipts": receipts,
                          "planned_releases": releases}
    exceptions = [entry for k in order for entry in state.exceptions[k]]
    pegging = [record for k in order for record in state.pegging[k]]
    return {"items": items, "exceptions": exceptions, "pegging": pegging}
