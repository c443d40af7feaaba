"""General scheduling API on plain data (used by the Takt scheduling block).

Times are integer minutes from the plan's origin.  Calendar rule: an
operation -- its setup plus its processing -- is placed wholly inside one
working window of its machine and never overlaps the machine's down time;
it does not pause across a shift gap.  Operations that already started
(``Problem.fixed``) keep their machine and start and are exempt from
calendar rules: they are facts, not plans.

``solve`` warm-starts CP-SAT from the best dispatching rule; ``dispatch``
answers instantly; ``check`` explains in plain English why a hand-edited
schedule is infeasible; ``reschedule`` replans from ``now``;
``capacity_load`` buckets loaded vs available minutes per machine.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from blocks.scheduling import cpsat
from blocks.scheduling import dispatch as rules
from blocks.scheduling.dispatch import INF, NoFitError, Shop, subtract_intervals

OBJECTIVES = ("makespan", "weighted_tardiness")


class ScheduleInputError(ValueError):
    """The problem cannot be scheduled; the message names the faulty entry."""


@dataclass
class Operation:
    """One step of a job; ``durations`` maps each eligible machine to minutes."""

    job: str
    seq: int
    durations: dict
    setup: int = 0


@dataclass
class Job:
    """A job / work order.  Jobs without a Job entry get the defaults."""

    id: str
    release: int = 0
    due: int | None = None
    weight: int = 1


@dataclass
class Machine:
    """A machine; ``windows=None`` means always available, ``[]`` never."""

    id: str
    windows: list[tuple[int, int]] | None = None
    down: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Fixed:
    """An operation that already started: it keeps ``machine`` and ``start``."""

    job: str
    seq: int
    machine: str
    start: int


@dataclass
class Problem:
    """Everything a schedule must respect."""

    machines: list[Machine]
    operations: list[Operation]
    jobs: list[Job] = field(default_factory=list)
    fixed: list[Fixed] = field(default_factory=list)


@dataclass
class RushOrder:
    """A job inserted by ``reschedule`` together with its operations."""

    job: Job
    operations: list[Operation]


@dataclass
class Assignment:
    """Where and when an operation runs; setup occupies [start, start + setup)."""

    job: str
    seq: int
    machine: str
    start: int
    end: int
    setup: int = 0


@dataclass
class Schedule:
    """A complete plan with its objective value and a proven lower bound."""

    assignments: list[Assignment]
    objective: str = "makespan"
    value: int = 0
    lower_bound: int = 0
    status: str = "feasible"
    rule: str | None = None

    @property
    def makespan(self) -> int:
        """Latest end of any assignment."""
        return max((a.end for a in self.assignments), default=0)


@dataclass
class LoadBucket:
    """Loaded vs available minutes of one machine in one time bucket."""

    machine: str
    start: int
    end: int
    loaded: int
    available: int

    @property
    def overloaded(self) -> bool:
        """More work than working minutes in this bucket."""
        return self.loaded > self.available


# ------------------------------------------------------------------ compile

@dataclass
class _Compiled:
    """A validated problem: the index-based Shop plus the maps back to names."""

    shop: Shop
    ops: list[Operation]
    machine_ids: list
    job_ids: list


def _name(op: Operation) -> str:
    """How messages refer to an operation."""
    return f"operation {op.seq} of job {op.job!r}"


def _minutes(value, what: str) -> int:
    """A non-negative whole number of minutes, or a ScheduleInputError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ScheduleInputError(f"{what} must be a whole number of minutes, got {value!r}")
    if value < 0:
        raise ScheduleInputError(f"{what} is negative ({value})")
    return int(value)


def _spans(spans, what: str) -> list[tuple[int, int]]:
    """Validate (start, end) intervals and return them sorted and merged."""
    out = []
    for a, b in sorted((_minutes(a, what), _minutes(b, what)) for a, b in spans):
        if b <= a:
            raise ScheduleInputError(f"{what}: interval ({a}, {b}) ends before it starts")
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _windows(m: Machine) -> list[tuple[int, int]]:
    """A machine's validated working windows; always open when it has none."""
    return [(0, INF)] if m.windows is None else _spans(m.windows, f"windows of machine {m.id!r}")


def _machine_index(problem: Problem) -> dict:
    """Machine id -> index, rejecting duplicates."""
    index = {}
    for m in problem.machines:
        if m.id in index:
            raise ScheduleInputError(f"machine {m.id!r} is listed twice")
        index[m.id] = len(index)
    return index


def _check_operation(op: Operation, machines: dict) -> dict:
    """Validate one operation; return machine index -> occupied minutes."""
    if not op.durations:
        raise ScheduleInputError(f"{_name(op)} has no eligible machine")
    setup = _minutes(op.setup, f"setup of {_name(op)}")
    options = {}
    for machine, minutes in op.durations.items():
        if machine not in machines:
            raise ScheduleInputError(f"{_name(op)} names unknown machine {machine!r}")
        what = f"duration of {_name(op)} on {machine!r}"
        options[machines[machine]] = setup + _minutes(minutes, what)
    return options


def _chains(problem: Problem, machines: dict) -> tuple[list, list, list, list]:
    """Operations grouped by job in seq order, with their option lists."""
    by_job: dict = {}
    for op in problem.operations:
        if any(o.seq == op.seq for o in by_job.get(op.job, [])):
            raise ScheduleInputError(f"{_name(op)} appears twice")
        by_job.setdefault(op.job, []).append(op)
    ops, options, chains = [], [], []
    for job_ops in by_job.values():
        job_ops.sort(key=lambda o: o.seq)
        chains.append(list(range(len(ops), len(ops) + len(job_ops))))
        for op in job_ops:
            options.append(sorted(_check_operation(op, machines).items()))
            ops.append(op)
    return list(by_job), ops, options, chains


def _job_data(problem: Problem, job_ids: list) -> tuple[list, list, list]:
    """Release, due date and weight per job (defaults for jobs not listed)."""
    info = {}
    for job in problem.jobs:
        if job.id in info:
            raise ScheduleInputError(f"job {job.id!r} is listed twice")
        if _minutes(job.weight, f"weight of job {job.id!r}") == 0:
            raise ScheduleInputError(f"weight of job {job.id!r} must be positive")
        _minutes(job.release, f"release of job {job.id!r}")
        if job.due is not None:
            _minutes(job.due, f"due date of job {job.id!r}")
        info[job.id] = job
    jobs = [info.get(j, Job(j)) for j in job_ids]
    return [j.release for j in jobs], [j.due for j in jobs], [j.weight for j in jobs]


def _fixed(problem: Problem, machines: dict, ops: list, options: list, chains: list) -> dict:
    """Fixed task -> (machine, start); checks eligibility and prefix order."""
    where = {(op.job, op.seq): t for t, op in enumerate(ops)}
    fixed = {}
    for f in problem.fixed:
        t = where.get((f.job, f.seq))
        if t is None:
            raise ScheduleInputError(f"fixed operation {f.seq} of job {f.job!r} does not exist")
        if machines.get(f.machine) not in dict(options[t]):
            raise ScheduleInputError(f"fixed {_name(ops[t])} is on {f.machine!r},"
                                     " which is not one of its eligible machines")
        fixed[t] = (machines[f.machine], _minutes(f.start, f"start of fixed {_name(ops[t])}"))
    for chain in chains:
        for a, b in zip(chain, chain[1:]):
            if b in fixed and a not in fixed:
                raise ScheduleInputError(f"{_name(ops[b])} is fixed but {_name(ops[a])},"
                                         " which comes before it, is not")
    return fixed


def _free(problem: Problem, fixed: dict, options: list, ops: list) -> list:
    """Per machine: working windows minus down time minus fixed operations."""
    free = []
    for i, m in enumerate(problem.machines):
        windows = _windows(m)
        busy = sorted((s, s + dict(options[t])[mm], t) for t, (mm, s) in fixed.items() if mm == i)
        for (_, end, a), (start, _, b) in zip(busy, busy[1:]):
            if start < end:
                raise ScheduleInputError(f"fixed {_name(ops[a])} and fixed {_name(ops[b])}"
                                         f" overlap on machine {m.id!r}")
        cut = [(a, b) for a, b, _ in busy if b > a]
        down = _spans(list(m.down) + cut, f"down time of machine {m.id!r}")
        free.append(subtract_intervals(windows, down))
    return free


def _check_fits(c: _Compiled) -> None:
    """Every operation must fit in some free interval of an eligible machine."""
    for t, opts in enumerate(c.shop.options):
        if t in c.shop.fixed:
            continue
        if not any(b - a >= p for m, p in opts for a, b in c.shop.free[m]):
            names = ", ".join(repr(c.machine_ids[m]) for m, _ in opts)
            raise ScheduleInputError(
                f"infeasible windows: {_name(c.ops[t])} needs {min(p for _, p in opts)}"
                f" uninterrupted minutes but no working window of {names} is that long")


def compile_problem(problem: Problem) -> _Compiled:
    """Validate ``problem`` and translate it to the index-based Shop."""
    machines = _machine_index(problem)
    job_ids, ops, options, chains = _chains(problem, machines)
    release, due, weight = _job_data(problem, job_ids)
    fixed = _fixed(problem, machines, ops, options, chains)
    free = _free(problem, fixed, options, ops)
    shop = Shop(len(machines), chains, options, release, due, weight, free, fixed)
    compiled = _Compiled(shop, ops, list(machines), job_ids)
    _check_fits(compiled)
    return compiled


def _schedule(c: _Compiled, placed, objective: str, value: int, bound: int,
              status: str, rule: str | None) -> Schedule:
    """Translate index placements back into named assignments."""
    out = []
    for t, (m, s, e) in enumerate(placed):
        op = c.ops[t]
        out.append(Assignment(op.job, op.seq, c.machine_ids[m], s, e, op.setup))
    out.sort(key=lambda a: (a.start, str(a.machine)))
    return Schedule(out, objective, value, bound, status, rule)


# -------------------------------------------------------------------- solve

def _objective(objective: str) -> str:
    """Validate the objective name."""
    if objective not in OBJECTIVES:
        raise ScheduleInputError(f"unknown objective {objective!r}; use one of {OBJECTIVES}")
    return objective


def _dispatch(c: _Compiled, rule: str, objective: str):
    """Run one rule (or all with ``rule=None``), naming an op that cannot fit."""
    try:
        if rule is None:
            return rules.best_dispatch(c.shop, objective)
        placed = rules.dispatch(c.shop, rule)
    except NoFitError as exc:
        raise ScheduleInputError(f"infeasible windows: {_name(c.ops[exc.task])} fits in no"
                                 " remaining working window of its machines") from None
    except ValueError as exc:
        raise ScheduleInputError(str(exc)) from None
    return rule.upper(), placed, rules.objective_value(c.shop, placed, objective)


def _simple_bound(shop: Shop, objective: str) -> int:
    """Cheap valid lower bound of the objective."""
    return rules.makespan_lower_bound(shop) if objective == "makespan" else 0


def dispatch(problem: Problem, rule: str, objective: str = "makespan") -> Schedule:
    """Instant schedule by one dispatching rule: SPT, EDD, CR or MWKR."""
    c = compile_problem(problem)
    name, placed, value = _dispatch(c, rule, _objective(objective))
    bound = _simple_bound(c.shop, objective)
    return _schedule(c, placed, objective, value, min(bound, value),
                     "optimal" if value <= bound else "feasible", name)


def solve(problem: Problem, objective: str = "makespan", time_limit: float = 10.0,
          rule: str | None = None, progress=None) -> Schedule:
    """Best schedule found within ``time_limit`` seconds.

    With ``rule`` only that dispatching rule runs.  Otherwise CP-SAT starts
    from the best rule's schedule; ``progress(value)`` is called with that
    value and then with every improvement CP-SAT finds.
    """
    if rule is not None:
        return dispatch(problem, rule, objective)
    c = compile_problem(problem)
    name, placed, value = _dispatch(c, None, _objective(objective))
    if progress is not None:
        progress(value)
    horizon = max((e for _, _, e in placed), default=0)
    if objective != "makespan":
        horizon += sum(max(p for _, p in o) for o in c.shop.options)
    result = cpsat.solve(c.shop, placed, value, objective=objective,
                         lower_bound=_simple_bound(c.shop, objective),
                         time_limit=time_limit, horizon=horizon, progress=progress)
    return _schedule(c, result.placed, objective, result.value, result.bound,
                     result.status, name)


def reschedule(problem: Problem, schedule: Schedule, now: int, down=(),
               rush_orders=(), objective: str = "makespan", time_limit: float = 10.0,
               rule: str | None = None, progress=None) -> Schedule:
    """Replan from ``now``: started operations stay, the rest move.

    ``down`` adds ``(machine, start, end)`` breakdowns; ``rush_orders`` adds
    RushOrder jobs.  Nothing new may start before ``now``.  An operation
    already running when its machine goes down keeps its slot (it is fixed);
    leave it out of ``schedule`` to have it planned again.
    """
    started = [Fixed(a.job, a.seq, a.machine, a.start)
               for a in schedule.assignments if a.start < now]
    known = {(f.job, f.seq) for f in problem.fixed}
    extra_down: dict = {}
    for machine, t1, t2 in down:
        if machine not in {m.id for m in problem.machines}:
            raise ScheduleInputError(f"down time names unknown machine {machine!r}")
        extra_down.setdefault(machine, []).append((t1, t2))
    machines = [replace(m, down=list(m.down) + extra_down.get(m.id, [])
                        + ([(0, now)] if now > 0 else [])) for m in problem.machines]
    new = replace(problem, machines=machines,
                  operations=problem.operations + [o for r in rush_orders for o in r.operations],
                  jobs=problem.jobs + [r.job for r in rush_orders],
                  fixed=problem.fixed + [f for f in started if (f.job, f.seq) not in known])
    return solve(new, objective, time_limit, rule, progress)


# -------------------------------------------------------------------- check

def check(problem: Problem, schedule: Schedule) -> list[str]:
    """Every reason ``schedule`` is infeasible for ``problem``, in plain English.

    Meant for hand edits (an operation dragged in a Gantt chart): [] means OK.
    """
    c = compile_problem(problem)
    where = {(op.job, op.seq): t for t, op in enumerate(c.ops)}
    found, problems = {}, []
    for a in schedule.assignments:
        t = where.get((a.job, a.seq))
        if t is None:
            problems.append(f"operation {a.seq} of job {a.job!r} is not in the problem")
        elif t in found:
            problems.append(f"{_name(c.ops[t])} is scheduled twice")
        else:
            found[t] = a
            problems += _check_assignment(c, problem, t, a)
    problems += [f"{_name(op)} is not scheduled" for t, op in enumerate(c.ops) if t not in found]
    problems += _check_order(c, found) + _check_overlaps(c, found)
    return problems


def _check_assignment(c: _Compiled, problem: Problem, t: int, a: Assignment) -> list[str]:
    """Machine, duration, release, fixed slot and calendar of one assignment."""
    op, shop = c.ops[t], c.shop
    if a.machine not in op.durations:
        names = ", ".join(repr(m) for m in op.durations)
        return [f"{_name(op)} cannot run on {a.machine!r}; eligible: {names}"]
    out, need = [], op.setup + op.durations[a.machine]
    if a.end - a.start != need:
        out.append(f"{_name(op)} on {a.machine!r} takes {need} minutes"
                   f" (setup included), not {a.end - a.start}")
    release = shop.release[shop.task_job[t]]
    if a.start < release:
        out.append(f"{_name(op)} starts at {a.start},"
                   f" before job {op.job!r} is released at {release}")
    if t in shop.fixed:
        m, s = shop.fixed[t]
        if (a.machine, a.start) != (c.machine_ids[m], s):
            out.append(f"{_name(op)} already started on {c.machine_ids[m]!r}"
                       f" at {s}; it cannot move")
        return out
    return out + _check_calendar(problem.machines[c.machine_ids.index(a.machine)], op, a)


def _check_calendar(machine: Machine, op: Operation, a: Assignment) -> list[str]:
    """Inside one working window, clear of down time."""
    out = []
    if not any(w0 <= a.start and a.end <= w1 for w0, w1 in _windows(machine)):
        out.append(f"{_name(op)} [{a.start}, {a.end}) on {machine.id!r}"
                   " is not inside one working window")
    for d0, d1 in machine.down:
        if a.start < d1 and d0 < a.end:
            out.append(f"{_name(op)} [{a.start}, {a.end}) overlaps down time"
                       f" [{d0}, {d1}) of {machine.id!r}")
    return out


def _check_order(c: _Compiled, found: dict) -> list[str]:
    """Each operation starts after the previous one of its job ends."""
    out = []
    for chain in c.shop.chains:
        for a, b in zip(chain, chain[1:]):
            if a in found and b in found and found[b].start < found[a].end:
                out.append(f"{_name(c.ops[b])} starts at {found[b].start}, before"
                           f" {_name(c.ops[a])} ends at {found[a].end}")
    return out


def _check_overlaps(c: _Compiled, found: dict) -> list[str]:
    """No two operations on one machine at the same time."""
    out, by_machine = [], {}
    for t, a in found.items():
        if a.end > a.start:
            by_machine.setdefault(a.machine, []).append((a.start, a.end, t))
    for machine, spans in by_machine.items():
        spans.sort()
        for (s1, e1, t1), (s2, e2, t2) in zip(spans, spans[1:]):
            if s2 < e1:
                out.append(f"{_name(c.ops[t1])} [{s1}, {e1}) and {_name(c.ops[t2])}"
                           f" [{s2}, {e2}) overlap on {machine!r}")
    return out


# ----------------------------------------------------------------- capacity

def capacity_load(problem: Problem, schedule: Schedule, bucket_minutes: int) -> list[LoadBucket]:
    """Per machine and bucket: minutes loaded vs minutes available.

    Buckets run from 0 to the end of the schedule.  Available minutes are
    working windows minus down time; a bucket is overloaded when its load
    exceeds them (possible only in hand-edited or started-late plans).
    """
    if _minutes(bucket_minutes, "bucket size") == 0:
        raise ScheduleInputError("bucket size must be positive")
    unknown = {a.machine for a in schedule.assignments} - set(_machine_index(problem))
    if unknown:
        raise ScheduleInputError(f"schedule uses unknown machine {sorted(map(str, unknown))[0]!r}")
    n = -(-schedule.makespan // bucket_minutes)
    rows = []
    for m in problem.machines:
        free = subtract_intervals(_windows(m), _spans(m.down, f"down time of machine {m.id!r}"))
        busy = [(a.start, a.end) for a in schedule.assignments if a.machine == m.id]
        for k in range(n):
            b0, b1 = k * bucket_minutes, (k + 1) * bucket_minutes
            rows.append(LoadBucket(m.id, b0, b1, _overlap(busy, b0, b1), _overlap(free, b0, b1)))
    return rows


def _overlap(spans: list[tuple[int, int]], b0: int, b1: int) -> int:
    """Total minutes of ``spans`` inside [b0, b1)."""
    return sum(max(0, min(e, b1) - max(s, b0)) for s, e in spans)
