"""Dispatching rules over a compiled shop: instant, always-feasible schedules.

A :class:`Shop` is the lean form that both the dispatcher and the CP-SAT
model read: tasks in job chains, each with one or more (machine, minutes)
options, and per machine the sorted *free* intervals (working windows minus
down time minus fixed operations).  Because every calendar rule is folded
into those free intervals, "place an operation wholly inside one free
interval" is all either engine needs to know about shifts.

The schedule builder is the non-delay generator: at each step find the
earliest moment any waiting operation could start, and let the rule pick
among the operations that could start on that machine at that moment.  On
the classic instances it beat Giffler & Thompson's active generator in 96
of 100 (instance, rule) pairs (ft10 MWKR: 1108 vs 1178; see the docs).
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from blocks.scheduling.jssp import Instance

INF = 10**12  # "no end" for always-open machines; far beyond any horizon
RULES = ("SPT", "EDD", "CR", "MWKR")

Placement = tuple[int, int, int]  # (machine, start, end)


class NoFitError(ValueError):
    """A task fits in no free interval of any eligible machine."""

    def __init__(self, task: int):
        """Keep the task index so the caller can name the operation."""
        super().__init__(f"task {task} fits in no free interval of its machines")
        self.task = task


@dataclass
class Shop:
    """A scheduling problem with all names replaced by indexes.

    ``options[t]`` lists ``(machine, minutes)``; minutes include setup.
    ``free[m]`` is the sorted list of disjoint ``(start, end)`` intervals in
    which machine ``m`` may run new work.  ``fixed`` maps a task to its
    pinned ``(machine, start)``; fixed tasks form a prefix of their job.
    """

    n_machines: int
    chains: list[list[int]]
    options: list[list[tuple[int, int]]]
    release: list[int] = field(default_factory=list)
    due: list[int | None] = field(default_factory=list)
    weight: list[int] = field(default_factory=list)
    free: list[list[tuple[int, int]]] = field(default_factory=list)
    fixed: dict[int, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self):
        """Fill per-job and per-machine defaults so callers pass only what matters."""
        n = len(self.chains)
        self.release = self.release or [0] * n
        self.due = self.due or [None] * n
        self.weight = self.weight or [1] * n
        self.free = self.free or [[(0, INF)] for _ in range(self.n_machines)]
        self.task_job = [0] * len(self.options)
        self._minutes = [dict(o) for o in self.options]
        for j, chain in enumerate(self.chains):
            for t in chain:
                self.task_job[t] = j

    def minutes(self, task: int, machine: int) -> int:
        """Occupied minutes of ``task`` on ``machine`` (KeyError if ineligible)."""
        return self._minutes[task][machine]


def shop_from_instance(inst: Instance) -> Shop:
    """Compile a classic job-shop instance: one option per task, no calendars."""
    options, chains = [], []
    for job in inst.jobs:
        chains.append(list(range(len(options), len(options) + len(job))))
        options += [[(m, d)] for m, d in job]
    return Shop(inst.n_machines, chains, options)


# ------------------------------------------------------------------ timeline

def subtract_intervals(free: list[tuple[int, int]],
                       cut: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ``free`` intervals minus sorted, merged ``cut`` intervals.

    How calendars become free intervals: windows minus down time minus
    fixed operations.
    """
    out = []
    for a, b in free:
        for c, d in cut:
            if d <= a or c >= b:
                continue
            if c > a:
                out.append((a, c))
            a = max(a, d)
            if a >= b:
                break
        if a < b:
            out.append((a, b))
    return out


class Timeline:
    """One machine's free intervals, kept sorted; supports fit and occupy."""

    def __init__(self, free: list[tuple[int, int]]):
        """Copy the intervals so dispatching never mutates the shop."""
        self.starts = [a for a, _ in free]
        self.ends = [b for _, b in free]

    def earliest(self, t: int, p: int) -> int | None:
        """First start >= t where [start, start + p) fits in one free interval."""
        i = bisect_left(self.ends, t + p)
        while i < len(self.ends):
            s = max(self.starts[i], t)
            if s + p <= self.ends[i]:
                return s
            i += 1
        return None

    def occupy(self, s: int, e: int) -> None:
        """Remove [s, e) from the free interval that contains it."""
        if e <= s:
            return
        i = bisect_left(self.ends, e)
        a, b = self.starts[i], self.ends[i]
        pieces = [(x, y) for x, y in ((a, s), (e, b)) if y > x]
        self.starts[i:i + 1] = [x for x, _ in pieces]
        self.ends[i:i + 1] = [y for _, y in pieces]


# --------------------------------------------------------------------- rules

def remaining_work(shop: Shop) -> list[int]:
    """Per task: shortest possible work from it to the end of its job."""
    rem = [0] * len(shop.options)
    for chain in shop.chains:
        acc = 0
        for t in reversed(chain):
            acc += min(p for _, p in shop.options[t])
            rem[t] = acc
    return rem


def due_dates(shop: Shop, rem: list[int]) -> list[int]:
    """Job due dates; a job without one is due at release + its total work.

    The classic job shop has no due dates, so EDD and CR fall back on this
    "total work content" due date and stay meaningful.
    """
    return [d if d is not None else shop.release[j] + (rem[c[0]] if c else 0)
            for j, (d, c) in enumerate(zip(shop.due, shop.chains))]


def rule_key(rule: str):
    """The priority function for ``rule`` (smaller key = dispatched first)."""
    name = rule.upper()
    keys = {
        "SPT": lambda t, p, now, due, rem: p,
        "EDD": lambda t, p, now, due, rem: due,
        "CR": lambda t, p, now, due, rem: (due - now) / max(rem, 1),
        "MWKR": lambda t, p, now, due, rem: -rem,
    }
    if name not in keys:
        raise ValueError(f"unknown rule {rule!r}; choose one of {', '.join(RULES)}")
    return keys[name]


# ------------------------------------------------------------------ dispatch

class _State:
    """Mutable bookkeeping of one dispatch run (kept out of the loop body)."""

    def __init__(self, shop: Shop):
        """Start with fixed tasks placed and each job at its first free task."""
        self.shop = shop
        self.lines = [Timeline(f) for f in shop.free]
        self.placed: list[Placement | None] = [None] * len(shop.options)
        self.ready = list(shop.release)
        self.next = [0] * len(shop.chains)
        self.est: dict[int, dict[int, int]] = {}
        self.first: dict[int, tuple[int, int]] = {}
        self.by_machine: list[set[int]] = [set() for _ in range(shop.n_machines)]
        for t, (m, s) in shop.fixed.items():
            self.placed[t] = (m, s, s + shop.minutes(t, m))
        for j in range(len(shop.chains)):
            self.advance(j)

    def task(self, j: int) -> int:
        """The next unscheduled task of job ``j``."""
        return self.shop.chains[j][self.next[j]]

    def advance(self, j: int) -> None:
        """Skip fixed tasks of job j, then register its next task as a candidate."""
        chain = self.shop.chains[j]
        while self.next[j] < len(chain) and self.placed[self.task(j)] is not None:
            self.ready[j] = max(self.ready[j], self.placed[self.task(j)][2])
            self.next[j] += 1
        if self.next[j] == len(chain):
            self.est.pop(j, None)
            self.first.pop(j, None)
            return
        self.est[j] = {m: self.lines[m].earliest(self.ready[j], p)
                       for m, p in self.shop.options[self.task(j)]}
        for m in self.est[j]:
            self.by_machine[m].add(j)
        self.first[j] = self._first(j)

    def refresh(self, j: int, m: int) -> None:
        """Recompute job j's earliest start on machine m (None: never fits)."""
        p = self.shop.minutes(self.task(j), m)
        self.est[j][m] = self.lines[m].earliest(self.ready[j], p)
        self.first[j] = self._first(j)

    def _first(self, j: int) -> tuple[int, int]:
        """(earliest start, machine) of job j's next task over its options."""
        starts = [(s, m) for m, s in self.est[j].items() if s is not None]
        if not starts:
            raise NoFitError(self.task(j))
        return min(starts)

    def best_machine(self, j: int) -> int:
        """The machine on which job j's next task would finish first."""
        t = self.task(j)
        return min((s + self.shop.minutes(t, m), m)
                   for m, s in self.est[j].items() if s is not None)[1]

    def place(self, j: int, m: int) -> None:
        """Put job j's next task on machine m at its earliest start."""
        t = self.task(j)
        s = self.est[j][m]
        e = s + self.shop.minutes(t, m)
        self.lines[m].occupy(s, e)
        self.placed[t] = (m, s, e)
        self.ready[j] = e
        for mm, _ in self.shop.options[t]:
            self.by_machine[mm].discard(j)
        self.next[j] += 1
        self.advance(j)
        for other in self.by_machine[m]:
            self.refresh(other, m)


def dispatch(shop: Shop, rule: str) -> list[Placement]:
    """Schedule every task with the non-delay generator and ``rule``.

    The chosen task goes to whichever eligible machine finishes it first.
    Returns ``(machine, start, end)`` per task.  Raises NoFitError when a
    task cannot fit into any free interval of its eligible machines.
    """
    key = rule_key(rule)
    rem = remaining_work(shop)
    due = due_dates(shop, rem)
    st = _State(shop)
    while st.first:
        now, m_star = min(st.first.values())
        conflict = [j for j in st.by_machine[m_star] if st.est[j][m_star] == now]
        chosen = min(conflict, key=lambda j: (
            key(st.task(j), shop.minutes(st.task(j), m_star), now, due[j],
                rem[st.task(j)]), j))
        st.place(chosen, st.best_machine(chosen))
    return st.placed


# -------------------------------------------------------------------- bounds

def earliest_starts(shop: Shop) -> list[int]:
    """Release date (or fixed predecessor) plus the shortest work before each task."""
    lows = [0] * len(shop.options)
    for j, chain in enumerate(shop.chains):
        acc = shop.release[j]
        for t in chain:
            if t in shop.fixed:
                acc = shop.fixed[t][1]
            lows[t] = acc
            acc += min(p for _, p in shop.options[t])
    return lows


def makespan_lower_bound(shop: Shop) -> int:
    """max(longest job from its release, best one-machine bound).

    A machine's bound counts only tasks that can run nowhere else: the time
    its free minutes, from the smallest head, cover their load, plus the
    smallest tail (work left after such a task).
    """
    lows, rem = earliest_starts(shop), remaining_work(shop)
    bound = max((lows[c[-1]] + rem[c[-1]] for c in shop.chains if c), default=0)
    bound = max([bound] + [s + shop.minutes(t, m) for t, (m, s) in shop.fixed.items()])
    for m in range(shop.n_machines):
        mine = [t for t, o in enumerate(shop.options)
                if len(o) == 1 and o[0][0] == m and t not in shop.fixed]
        if mine:
            load = sum(shop.options[t][0][1] for t in mine)
            done = _capacity_reached(shop.free[m], min(lows[t] for t in mine), load)
            bound = max(bound, done + min(rem[t] - shop.options[t][0][1] for t in mine))
    return bound


def _capacity_reached(free: list[tuple[int, int]], t0: int, load: int) -> int:
    """Earliest time by which ``load`` free minutes after ``t0`` have passed."""
    for a, b in free:
        a = max(a, t0)
        if b > a:
            if b - a >= load:
                return a + load
            load -= b - a
    return INF


# ----------------------------------------------------------------- objective

def job_completion(shop: Shop, placed: list[Placement]) -> list[int]:
    """End time of each job's last task (its release when it has no tasks)."""
    return [placed[c[-1]][2] if c else shop.release[j]
            for j, c in enumerate(shop.chains)]


def objective_value(shop: Shop, placed: list[Placement], objective: str) -> int:
    """Makespan, or the weighted tardiness over jobs that have a due date."""
    done = job_completion(shop, placed)
    if objective == "makespan":
        return max(done, default=0)
    return sum(w * max(0, c - d) for c, d, w in zip(done, shop.due, shop.weight)
               if d is not None)


def best_dispatch(shop: Shop, objective: str = "makespan",
                  rules: tuple[str, ...] = RULES) -> tuple[str, list[Placement], int]:
    """Run every rule and keep the best: the warm start for CP-SAT."""
    best = None
    for rule in rules:
        placed = dispatch(shop, rule)
        value = objective_value(shop, placed, objective)
        if best is None or value < best[2]:
            best = (rule, placed, value)
    return best
