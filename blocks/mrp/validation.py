"""Check an MRP plan (parsed JSON) and turn it into plain indexed lists.

The engine works on item *indexes* and 0-based period indexes so that its
inner loops touch only lists; this module is the one place that knows the
JSON spelling. Every problem found is named after the offending entry
(``items[2] (id 'P1'): ...``, ``bom[3]: ...``) so that a planner can fix the
spreadsheet it came from. All problems of an entry are reported, and all
entries are checked before raising, so one run lists everything.

Numbers: booleans, strings, NaN and infinities are rejected. Floats with an
integral value (``5.0``) are read as ints, so whether the run uses integer
arithmetic depends on the values, not on how a JSON writer spelled them.
If any quantity is fractional, the plan is *scaled*: every quantity except
qty_per becomes an int count of millionths (``Plan.scale`` = 10**6), so the
engine still adds and compares exact ints, and only ``qty × qty_per`` is
rounded (to the nearest millionth). This is what "round to 6 decimals"
means, without the float noise (0.1 + 0.2) that would otherwise make
``net > 0`` buy a whole lot for 0.00000000000000004 of a unit.
Unknown keys are ignored, so the app may carry extra columns (name, UoM).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

RULES = ("L4L", "FOQ", "POQ")
SCALE = 10**6                      # units per quantity in a scaled (fractional) plan
MAX_HORIZON = 10_000               # ten years of daily buckets; more is a typo, not a plan
MAX_LISTED_PROBLEMS = 50


class MrpInputError(ValueError):
    """The plan cannot be run; ``str(err)`` lists what to fix, one per line."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems if problems is not None else [message]


@dataclass
class Plan:
    """A checked plan: per-item lists indexed like ``ids``, periods 0-based."""

    horizon: int
    ids: list = field(default_factory=list)
    lead_time: list = field(default_factory=list)
    on_hand: list = field(default_factory=list)
    safety_stock: list = field(default_factory=list)
    min_qty: list = field(default_factory=list)
    multiple: list = field(default_factory=list)
    lot: list = field(default_factory=list)          # (rule, param) per item
    children: list = field(default_factory=list)     # {child index: qty_per}
    edge_line: dict = field(default_factory=dict)    # (parent, child) -> bom line
    receipts: list = field(default_factory=list)     # (item, period index, qty)
    demand: list = field(default_factory=list)       # (item, period index, qty, line)
    scale: int = 1                                   # SCALE when quantities are millionths


def parse_plan(raw) -> Plan:
    """Check ``raw`` and return a ``Plan``; raise ``MrpInputError`` listing every problem."""
    problems: list[str] = []
    if not isinstance(raw, dict):
        _fail([f"plan: expected a JSON object, got {_kind(raw)}"])
    plan = Plan(horizon=_horizon(raw, problems))
    index = _items(raw, plan, problems)
    _bom(_entries(raw, "bom", problems, required=False), plan, index, problems)
    for key in ("scheduled_receipts", "demand"):
        _period_lines(key, _entries(raw, key, problems, required=False), plan, index, problems)
    if problems:
        _fail(problems)
    _settle_number_kind(plan)
    return plan


def _fail(problems: list[str]):
    """Raise one error whose message holds the (first 50) problems, one per line."""
    shown = problems[:MAX_LISTED_PROBLEMS]
    if len(problems) > len(shown):
        shown.append(f"... and {len(problems) - len(shown)} more problems")
    raise MrpInputError("\n".join(shown), problems)


def _horizon(raw: dict, problems: list) -> int:
    """Read the number of periods; 0 stands for 'unknown' so period checks are skipped."""
    if "horizon" not in raw:
        problems.append("horizon: missing (the number of planning periods, a whole number ≥ 1)")
        return 0
    value = _whole(raw["horizon"])
    if value is None or not 1 <= value <= MAX_HORIZON:
        problems.append(f"horizon: must be a whole number ≥ 1 (at most {MAX_HORIZON}), "
                        f"got {_show(raw['horizon'])}")
        return 0
    return value


def _entries(raw: dict, key: str, problems: list, required: bool) -> list:
    """Return ``raw[key]`` if it is a list; a missing optional list is empty."""
    if key not in raw:
        if required:
            problems.append(f"{key}: missing (a list)")
        return []
    value = raw[key]
    if not isinstance(value, list):
        problems.append(f"{key}: expected a list, got {_kind(value)}")
        return []
    return value


def _items(raw: dict, plan: Plan, problems: list) -> dict:
    """Fill the per-item lists; return id -> index, or None for an item already reported.

    Keeping bad items in the map stops every BOM or demand line that names
    them from adding a misleading 'unknown item' problem.
    """
    index: dict[str, int] = {}
    first_seen: dict[str, int] = {}
    for n, entry in enumerate(_entries(raw, "items", problems, required=True)):
        where = f"items[{n}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected an object, got {_kind(entry)}")
            continue
        item_id = entry.get("id")
        if not isinstance(item_id, str) or not item_id:
            problems.append(f"{where}: id must be a non-empty string, got {_show(item_id)}")
            continue
        where = f"{where} (id {item_id!r})"
        if item_id in first_seen:
            problems.append(f"{where}: duplicate id, first defined at items[{first_seen[item_id]}]")
            continue
        first_seen[item_id] = n
        index[item_id] = None
        if _item_fields(entry, where, plan, problems):
            index[item_id] = len(plan.ids)
            plan.ids.append(item_id)
    plan.children = [{} for _ in plan.ids]
    return index


def _item_fields(entry: dict, where: str, plan: Plan, problems: list) -> bool:
    """Append one item's settings to ``plan``; False (nothing appended) if any is bad."""
    before = len(problems)
    lead = _whole(entry.get("lead_time", 0))
    if lead is None or lead < 0:
        problems.append(f"{where}: lead_time must be a whole number ≥ 0, got {_show(entry['lead_time'])}")
    amounts = [_quantity(entry, key, where, problems) for key in
               ("on_hand", "safety_stock", "min_qty", "multiple")]
    lot = _lot_sizing(entry.get("lot_sizing", {"rule": "L4L"}), where, problems)
    if len(problems) > before:
        return False
    plan.lead_time.append(lead)
    for target, amount in zip((plan.on_hand, plan.safety_stock, plan.min_qty, plan.multiple), amounts):
        target.append(amount)
    plan.lot.append(lot)
    return True


def _lot_sizing(spec, where: str, problems: list):
    """Return ``(rule, param)``: L4L has no param, FOQ its qty, POQ its periods."""
    if not isinstance(spec, dict):
        problems.append(f'{where}: lot_sizing must be an object like {{"rule": "L4L"}}, got {_kind(spec)}')
        return None
    rule = spec.get("rule", "L4L")
    if rule == "L4L":
        return ("L4L", None)
    if rule == "FOQ":
        qty = _number(spec.get("qty"))
        if qty is None or qty <= 0:
            problems.append(f"{where}: FOQ lot_sizing needs qty, a number > 0, got {_show(spec.get('qty'))}")
        return ("FOQ", qty)
    if rule == "POQ":
        periods = _whole(spec.get("periods"))
        if periods is None or periods < 1:
            problems.append(f"{where}: POQ lot_sizing needs periods, a whole number ≥ 1, "
                            f"got {_show(spec.get('periods'))}")
        return ("POQ", periods)
    problems.append(f"{where}: unknown lot_sizing rule {_show(rule)} (use one of {', '.join(RULES)})")
    return None


def _bom(lines: list, plan: Plan, index: dict, problems: list) -> None:
    """Record BOM lines as child maps; repeated parent/child lines add their qty_per."""
    for n, line in enumerate(lines):
        where = f"bom[{n}]"
        if not isinstance(line, dict):
            problems.append(f"{where}: expected an object, got {_kind(line)}")
            continue
        before = len(problems)
        parent = _known_item(line, "parent", where, index, problems)
        child = _known_item(line, "child", where, index, problems)
        qty_per = _number(line.get("qty_per"))
        if qty_per is None or qty_per <= 0:
            problems.append(f"{where}: qty_per must be a number > 0, got {_show(line.get('qty_per'))}")
        if len(problems) > before or parent is None or child is None:
            continue
        kids = plan.children[parent]
        kids[child] = kids.get(child, 0) + qty_per
        plan.edge_line.setdefault((parent, child), n)


def _period_lines(key: str, lines: list, plan: Plan, index: dict, problems: list) -> None:
    """Record scheduled receipts or demand lines as (item, period index, qty[, line])."""
    target = plan.receipts if key == "scheduled_receipts" else plan.demand
    horizon = plan.horizon
    for n, line in enumerate(lines):
        where = f"{key}[{n}]"
        if not isinstance(line, dict):
            problems.append(f"{where}: expected an object, got {_kind(line)}")
            continue
        before = len(problems)
        item = _known_item(line, "item", where, index, problems)
        period = _period(line, where, horizon, problems)
        qty = _number(line.get("qty"))
        if qty is None or qty < 0:
            problems.append(f"{where}: qty must be a number ≥ 0, got {_show(line.get('qty'))}")
        if len(problems) == before and item is not None:
            target.append((item, period - 1, qty, n) if key == "demand" else (item, period - 1, qty))


def _known_item(line: dict, key: str, where: str, index: dict, problems: list):
    """Return the index of the item named by ``line[key]``, or None (noting why if new)."""
    name = line.get(key)
    if name is None:
        problems.append(f"{where}: {key} is missing")
        return None
    if not isinstance(name, str) or name not in index:
        problems.append(f"{where}: unknown item {_show(name)} ({key})")
        return None
    return index[name]


def _period(line: dict, where: str, horizon: int, problems: list):
    """Return the 1-based period of ``line`` if it is a whole number inside the horizon."""
    period = _whole(line.get("period"))
    if period is None:
        problems.append(f"{where}: period must be a whole number, got {_show(line.get('period'))}")
    elif horizon and not 1 <= period <= horizon:
        problems.append(f"{where}: period {period} is outside 1..{horizon}")
    else:
        return period
    return None


def _quantity(entry: dict, key: str, where: str, problems: list):
    """Return an optional item quantity (default 0) if it is a number ≥ 0."""
    value = _number(entry.get(key, 0))
    if value is None or value < 0:
        problems.append(f"{where}: {key} must be a number ≥ 0, got {_show(entry[key])}")
    return value


def _number(value):
    """Return a finite JSON number (integral floats as int), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer():
            return int(value)
    return value


def _whole(value):
    """Return ``value`` as an int if it is a whole JSON number, else None."""
    number = _number(value)
    return number if isinstance(number, int) else None


def _settle_number_kind(plan: Plan) -> None:
    """Scale every quantity to int millionths when any quantity is fractional."""
    scalars = (plan.on_hand, plan.safety_stock, plan.min_qty, plan.multiple)
    fractional = (any(isinstance(v, float) for values in scalars for v in values)
                  or any(lot[0] == "FOQ" and isinstance(lot[1], float) for lot in plan.lot)
                  or any(isinstance(q, float) for kids in plan.children for q in kids.values())
                  or any(isinstance(line[2], float) for line in plan.receipts)
                  or any(isinstance(line[2], float) for line in plan.demand))
    if not fractional:
        return
    plan.scale = SCALE
    for values in scalars:
        values[:] = [_scaled(v) for v in values]
    plan.lot = [("FOQ", _scaled(p)) if rule == "FOQ" else (rule, p) for rule, p in plan.lot]
    plan.receipts = [(i, t, _scaled(q)) for i, t, q in plan.receipts]
    plan.demand = [(i, t, _scaled(q), n) for i, t, q, n in plan.demand]


def _scaled(value) -> int:
    """Return ``value`` in millionths, rounded to the nearest one."""
    return round(value * SCALE)


def _kind(value) -> str:
    """Name a JSON value's type the way a JSON author would."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _show(value) -> str:
    """Render a bad value for a message, shortened so one huge cell cannot flood it."""
    if value is None:
        return "null (or missing)"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
