"""The OR-Tools CP-SAT model of a compiled :class:`~dispatch.Shop`.

Model: one interval per (task, eligible machine) -- optional when a task has
alternatives -- an ``AddNoOverlap`` per machine, chain precedences, and the
calendars folded into each start variable's domain (a start is allowed only
where the whole interval fits inside one free interval).  The search is
warm-started from a dispatch schedule: its objective gives a tight horizon
and every start is hinted.  The makespan variable starts at the caller's
lower bound, so reaching that bound ends the search at once.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model
from ortools.util.python.sorted_interval_list import Domain

from blocks.scheduling.dispatch import Placement, Shop, earliest_starts

STATUS = {cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible"}


@dataclass
class Result:
    """What the solver found: placements, objective, proven bound, timing."""

    placed: list[Placement]
    value: int
    bound: int
    status: str
    wall_time: float = 0.0
    time_to_best: float = 0.0
    history: list[tuple[float, int]] = field(default_factory=list)


@dataclass
class _Vars:
    """Handles of the model variables needed to hint and read back."""

    start: list = field(default_factory=list)
    end: list = field(default_factory=list)
    choice: list[dict] = field(default_factory=list)  # machine -> literal, or True
    late: dict = field(default_factory=dict)
    per_machine: dict = field(default_factory=dict)


class _Recorder(cp_model.CpSolverSolutionCallback):
    """Logs each solution's objective with its time; forwards improvements.

    ``progress`` hears only values below ``reported`` (the warm start the
    caller has already announced), so a progress bar never repeats itself.
    """

    def __init__(self, t0: float, progress=None, reported: int | None = None):
        """``t0`` is the wall-clock origin used for time-to-best."""
        super().__init__()
        self.t0, self.progress, self.history = t0, progress, []
        self.reported = reported

    def on_solution_callback(self) -> None:
        """Called by CP-SAT for every improving solution."""
        value = int(round(self.objective_value))
        self.history.append((time.monotonic() - self.t0, value))
        if self.progress is not None and (self.reported is None or value < self.reported):
            self.reported = value
            self.progress(value)


# -------------------------------------------------------------------- model

def start_domain(free: list[tuple[int, int]], p: int, lo: int, hi: int) -> Domain:
    """Starts s in [lo, hi - p] with [s, s + p) inside one free interval."""
    spans = [[max(a, lo), min(b, hi) - p] for a, b in free
             if max(a, lo) <= min(b, hi) - p]
    return Domain.from_intervals(spans)


def _task_vars(model, shop: Shop, t: int, lo: int, horizon: int, v: _Vars) -> None:
    """Start/end variables and one interval per usable machine of task t.

    A single-machine task gets a plain interval; with alternatives each
    machine gets an optional interval whose presence literal also restricts
    the start to that machine's calendar.
    """
    domains = {m: start_domain(shop.free[m], p, lo, horizon) for m, p in shop.options[t]}
    usable = [(m, p) for m, p in shop.options[t] if not domains[m].is_empty()]
    if not usable:
        raise ValueError(f"task {t} has no start that fits before the horizon {horizon}")
    union = Domain.from_intervals([])
    for m, _ in usable:
        union = union.union_with(domains[m])
    start = model.new_int_var_from_domain(union, f"s{t}")
    if len(usable) == 1:
        m, p = usable[0]
        v.per_machine[m].append(model.new_fixed_size_interval_var(start, p, f"i{t}"))
        _append(v, start, start + p, {m: True})
        return
    end, choice = model.new_int_var(lo, horizon, f"e{t}"), {}
    for m, p in usable:
        lit = choice[m] = model.new_bool_var(f"x{t}_{m}")
        model.add_linear_expression_in_domain(start, domains[m]).only_enforce_if(lit)
        model.add(end == start + p).only_enforce_if(lit)
        v.per_machine[m].append(
            model.new_optional_fixed_size_interval_var(start, p, lit, f"i{t}_{m}"))
    model.add_exactly_one(choice.values())
    _append(v, start, end, choice)


def _append(v: _Vars, start, end, choice: dict) -> None:
    """Record one task's handles (tasks are numbered in order of creation)."""
    v.start.append(start)
    v.end.append(end)
    v.choice.append(choice)


def build(shop: Shop, horizon: int) -> tuple[cp_model.CpModel, _Vars]:
    """Variables, one no-overlap per machine and chain precedences.

    Fixed tasks become constants: their time is already cut out of the free
    intervals, so they need no interval of their own.
    """
    model = cp_model.CpModel()
    v = _Vars(per_machine={m: [] for m in range(shop.n_machines)})
    lows = earliest_starts(shop)
    for t in range(len(shop.options)):
        if t in shop.fixed:
            m, s = shop.fixed[t]
            _append(v, s, s + shop.minutes(t, m), {})
        else:
            _task_vars(model, shop, t, lows[t], horizon, v)
    for intervals in v.per_machine.values():
        if len(intervals) > 1:
            model.add_no_overlap(intervals)
    for chain in shop.chains:
        for a, b in zip(chain, chain[1:]):
            if b not in shop.fixed:
                model.add(v.start[b] >= v.end[a])
    return model, v


def add_objective(model, shop: Shop, v: _Vars, objective: str,
                  lower_bound: int, horizon: int):
    """Minimise makespan or total weighted tardiness; return the objective var.

    The objective's domain starts at ``lower_bound``, so a schedule meeting
    the simple bound is proven optimal the moment it is found.
    """
    if objective == "makespan":
        obj = model.new_int_var(lower_bound, horizon, "makespan")
        model.add_max_equality(obj, [v.end[c[-1]] for c in shop.chains if c])
    else:
        for j, chain in enumerate(shop.chains):
            if chain and shop.due[j] is not None:
                v.late[j] = model.new_int_var(0, horizon, f"late{j}")
                model.add(v.late[j] >= v.end[chain[-1]] - shop.due[j])
        obj = model.new_int_var(lower_bound, horizon * sum(shop.weight), "tardiness")
        model.add(obj == sum(shop.weight[j] * late for j, late in v.late.items()))
    model.minimize(obj)
    return obj


def add_hint(model, shop: Shop, v: _Vars, placed: list[Placement], obj, value: int) -> None:
    """Hint a complete solution: starts, machine choices, lateness, objective."""
    for t, (m, s, _) in enumerate(placed):
        if t in shop.fixed:
            continue
        model.add_hint(v.start[t], s)
        for mm, lit in v.choice[t].items():
            if lit is not True:
                model.add_hint(lit, mm == m)
    for j, late in v.late.items():
        model.add_hint(late, max(0, placed[shop.chains[j][-1]][2] - shop.due[j]))
    model.add_hint(obj, value)


# -------------------------------------------------------------------- solve

LARGE = 1000  # tasks; above this, proving optimality is hopeless in seconds


def configure(solver: cp_model.CpSolver, time_limit: float, workers: int,
              n_tasks: int) -> None:
    """Solver parameters, tuned on the classic instances (docs/benchmarks-jssp.md).

    Strong disjunctive propagation is what closes ft10 in ~3 s instead of
    ~15-20 s on two workers.  Large shops only improve the warm start, so
    every worker runs large-neighbourhood search there.
    """
    p = solver.parameters
    p.max_time_in_seconds = max(0.05, time_limit)
    p.num_workers = workers
    p.use_strong_propagation_in_disjunctive = True
    p.use_lns_only = n_tasks > LARGE


def read_back(solver, shop: Shop, v: _Vars) -> list[Placement]:
    """The solver's placements as (machine, start, end) per task."""
    placed = []
    for t in range(len(shop.options)):
        if t in shop.fixed:
            m, s = shop.fixed[t]
        else:
            m = next(m for m, lit in v.choice[t].items()
                     if lit is True or solver.boolean_value(lit))
            s = solver.value(v.start[t])
        placed.append((m, s, s + shop.minutes(t, m)))
    return placed


def solve(shop: Shop, hint: list[Placement], hint_value: int, *,
          objective: str = "makespan", lower_bound: int = 0,
          time_limit: float = 10.0, horizon: int | None = None,
          progress=None, workers: int = 2) -> Result:
    """Improve the hinted schedule with CP-SAT within ``time_limit`` seconds.

    ``hint`` must be feasible; it is returned unchanged if the solver finds
    nothing better in time.  For makespan the horizon defaults to the hint's
    makespan, which no better schedule can exceed.
    """
    t0 = time.monotonic()
    if hint_value <= lower_bound:
        return Result(hint, hint_value, hint_value, "optimal")
    horizon = horizon or max((e for _, _, e in hint), default=0)
    model, v = build(shop, horizon)
    obj = add_objective(model, shop, v, objective, lower_bound, max(horizon, hint_value))
    add_hint(model, shop, v, hint, obj, hint_value)
    solver = cp_model.CpSolver()
    configure(solver, time_limit - (time.monotonic() - t0), workers, len(shop.options))
    rec = _Recorder(t0, progress, hint_value)
    status = solver.solve(model, rec)
    wall = time.monotonic() - t0
    if status not in STATUS:  # nothing found in time: the hint stands
        return Result(hint, hint_value, lower_bound, "feasible", wall, 0.0, rec.history)
    value = int(round(solver.objective_value))
    bound = max(lower_bound, math.ceil(solver.best_objective_bound - 1e-6))
    best_t = next((t for t, val in rec.history if val == value), wall)
    return Result(read_back(solver, shop, v), value, min(bound, value), STATUS[status],
                  wall, best_t, rec.history)
