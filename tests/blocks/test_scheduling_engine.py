"""The general scheduling API on small hand-made problems with hand-checked answers."""
import random

import pytest

from blocks.scheduling.engine import (
    Assignment, Fixed, Job, Machine, Operation, Problem, RushOrder, Schedule,
    ScheduleInputError, capacity_load, check, dispatch, reschedule, solve,
)

RULES = ("SPT", "EDD", "CR", "MWKR")
QUICK = 2.0  # seconds; every problem here is proven optimal long before


def op(job, seq, setup=0, **durations):
    """Operation shorthand: op("A", 1, M1=5, M2=3)."""
    return Operation(job, seq, durations, setup)


def slots(schedule):
    """{(job, seq): (machine, start, end)} for compact assertions."""
    return {(a.job, a.seq): (a.machine, a.start, a.end) for a in schedule.assignments}


def solved(problem, objective="makespan"):
    """Solve, assert the result checks clean, return it."""
    schedule = solve(problem, objective, time_limit=QUICK)
    assert check(problem, schedule) == []
    return schedule


# ------------------------------------------------------------------ features

def test_alternative_machines_pick_the_faster_or_the_free_one():
    # A takes 10 on M1 or 4 on M2; B only runs on M2 (5).  Both on M2 end
    # at 9, which beats A on M1 in parallel (10).
    problem = Problem([Machine("M1"), Machine("M2")],
                      [op("A", 1, M1=10, M2=4), op("B", 1, M2=5)])
    schedule = solved(problem)
    assert (schedule.value, schedule.status) == (9, "optimal")
    assert {s[0] for s in slots(schedule).values()} == {"M2"}


def test_alternative_machines_run_in_parallel_when_equal():
    problem = Problem([Machine("M1"), Machine("M2")],
                      [op("A", 1, M1=10, M2=10), op("B", 1, M1=10, M2=10)])
    schedule = solved(problem)
    assert schedule.value == 10
    assert {s[0] for s in slots(schedule).values()} == {"M1", "M2"}


def test_operation_is_placed_wholly_inside_one_window():
    # Windows [0, 8) and [10, 30): A#1 (5) at 0; A#2 (6) cannot fit in
    # [5, 8) so it waits for the next shift at 10.
    problem = Problem([Machine("M1", windows=[(0, 8), (10, 30)])],
                      [op("A", 1, M1=5), op("A", 2, M1=6)])
    schedule = solved(problem)
    assert slots(schedule) == {("A", 1): ("M1", 0, 5), ("A", 2): ("M1", 10, 16)}


def test_down_time_is_avoided():
    problem = Problem([Machine("M1", down=[(5, 10)])],
                      [op("A", 1, M1=4), op("A", 2, M1=4)])
    schedule = solved(problem)
    assert slots(schedule) == {("A", 1): ("M1", 0, 4), ("A", 2): ("M1", 10, 14)}


@pytest.mark.parametrize("minutes, start", [(3, 0), (4, 8)])
def test_fixed_operation_keeps_its_slot_and_others_fit_around(minutes, start):
    # B already runs on M1 over [3, 8): a 3-minute job fits before it, a 4-minute one after.
    problem = Problem([Machine("M1")], [op("A", 1, M1=minutes), op("B", 1, M1=5)],
                      fixed=[Fixed("B", 1, "M1", 3)])
    schedule = solved(problem)
    assert slots(schedule)[("B", 1)] == ("M1", 3, 8)
    assert slots(schedule)[("A", 1)] == ("M1", start, start + minutes)


def test_release_and_setup_are_respected():
    problem = Problem([Machine("M1")], [op("A", 1, setup=2, M1=3)], jobs=[Job("A", release=7)])
    schedule = solved(problem)
    assert slots(schedule) == {("A", 1): ("M1", 7, 12)}
    assert schedule.assignments[0].setup == 2


def test_weighted_tardiness_puts_the_heavy_urgent_job_first():
    # J1: 10 min due 10 weight 1; J2: 5 min due 5 weight 10.
    # J2 first -> J1 is 5 late -> 5.  J1 first -> J2 is 10 late x 10 -> 100.
    problem = Problem([Machine("M1")], [op("J1", 1, M1=10), op("J2", 1, M1=5)],
                      jobs=[Job("J1", due=10, weight=1), Job("J2", due=5, weight=10)])
    schedule = solved(problem, "weighted_tardiness")
    assert (schedule.value, schedule.status) == (5, "optimal")
    assert slots(schedule)[("J2", 1)] == ("M1", 0, 5)


def test_solve_with_a_rule_only_dispatches():
    problem = Problem([Machine("M1")], [op("A", 1, M1=3), op("B", 1, M1=1)])
    schedule = solve(problem, rule="spt")
    assert schedule.rule == "SPT"
    assert slots(schedule)[("B", 1)] == ("M1", 0, 1)


def test_progress_reports_the_warm_start_then_improvements():
    problem = Problem([Machine(m) for m in ("M1", "M2", "M3")],
                      [op(j, k, **{m: d}) for j, row in enumerate(
                          [[("M1", 3), ("M2", 2), ("M3", 2)], [("M1", 2), ("M3", 1), ("M2", 4)],
                           [("M2", 4), ("M3", 3), ("M1", 1)]]) for k, (m, d) in enumerate(row)])
    seen = []
    schedule = solve(problem, time_limit=QUICK, progress=seen.append)
    assert seen and seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen)
    assert seen[-1] == schedule.value


def mixed_problem():
    """Alternatives, calendars, down time, releases, setups and a fixed op."""
    machines = [Machine("L1", windows=[(0, 40), (50, 120)]), Machine("L2", down=[(15, 25)]),
                Machine("M1")]
    ops = [op("A", 1, L1=10, L2=12), op("A", 2, setup=3, M1=7), op("A", 3, L2=5),
           op("B", 1, M1=6), op("B", 2, L1=8, L2=9), op("C", 1, L2=4), op("C", 2, L1=9),
           op("C", 3, M1=4, L1=6)]
    jobs = [Job("A", due=30, weight=2), Job("B", release=5, due=20), Job("C", due=25)]
    return Problem(machines, ops, jobs, fixed=[Fixed("C", 1, "L2", 0)])


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_respects_every_constraint(rule):
    problem = mixed_problem()
    for objective in ("makespan", "weighted_tardiness"):
        schedule = dispatch(problem, rule, objective)
        assert check(problem, schedule) == []


def test_solve_never_loses_to_dispatch_on_the_mixed_problem():
    problem = mixed_problem()
    for objective in ("makespan", "weighted_tardiness"):
        schedule = solved(problem, objective)
        assert schedule.lower_bound <= schedule.value
        assert schedule.value <= min(dispatch(problem, r, objective).value for r in RULES)


# ------------------------------------------------------------------- check

def test_check_explains_each_kind_of_hand_edit_problem():
    problem = Problem([Machine("M1", windows=[(0, 10)], down=[(6, 8)]), Machine("M2")],
                      [op("A", 1, M1=4), op("A", 2, M1=3), op("B", 1, M2=2), op("C", 1, M1=2)],
                      fixed=[Fixed("C", 1, "M1", 0)])
    edited = Schedule([Assignment("A", 1, "M1", 2, 6), Assignment("A", 2, "M1", 5, 8),
                       Assignment("B", 1, "M1", 0, 2), Assignment("C", 1, "M1", 1, 3),
                       Assignment("Z", 1, "M2", 0, 1)])
    problems = check(problem, edited)
    expected = [
        "operation 1 of job 'Z' is not in the problem",
        "operation 1 of job 'B' cannot run on 'M1'; eligible: 'M2'",
        "operation 1 of job 'C' already started on 'M1' at 0; it cannot move",
        "operation 2 of job 'A' starts at 5, before operation 1 of job 'A' ends at 6",
        "operation 2 of job 'A' [5, 8) overlaps down time [6, 8) of 'M1'",
    ]
    for message in expected:
        assert message in problems
    assert any("overlap on 'M1'" in p for p in problems)


def test_check_flags_wrong_duration_outside_window_and_missing_op():
    problem = Problem([Machine("M1", windows=[(0, 10), (20, 30)])],
                      [op("A", 1, setup=1, M1=4), op("A", 2, M1=2)])
    problems = check(problem, Schedule([Assignment("A", 1, "M1", 8, 12)]))
    assert "operation 1 of job 'A' on 'M1' takes 5 minutes (setup included), not 4" in problems
    assert "operation 1 of job 'A' [8, 12) on 'M1' is not inside one working window" in problems
    assert "operation 2 of job 'A' is not scheduled" in problems


# -------------------------------------------------------------- reschedule

def test_reschedule_keeps_started_ops_and_fits_breakdown_and_rush_order():
    problem = Problem([Machine("M1"), Machine("M2")],
                      [op("A", 1, M1=10), op("A", 2, M2=10), op("B", 1, M1=10)])
    plan = solve(problem, time_limit=QUICK)
    assert plan.value == 20
    rush = RushOrder(Job("R", due=0, weight=100), [op("R", 1, M1=5)])
    new = reschedule(problem, plan, now=5, down=[("M2", 5, 30)], rush_orders=[rush],
                     time_limit=QUICK)
    started = [a for a in plan.assignments if a.start < 5]
    assert all(slots(new)[(a.job, a.seq)] == (a.machine, a.start, a.end) for a in started)
    moved = [a for a in new.assignments if a.start >= 5]
    assert all(a.start >= 5 for a in moved)
    assert slots(new)[("A", 2)][1] >= 30  # M2 is down until 30
    assert ("R", 1) in slots(new)
    assert new.value == 40  # A#2 on M2 over [30, 40) once M2 is back


def test_reschedule_rejects_unknown_down_machine():
    problem = Problem([Machine("M1")], [op("A", 1, M1=1)])
    with pytest.raises(ScheduleInputError, match="'M9'"):
        reschedule(problem, solve(problem, time_limit=QUICK), 0, down=[("M9", 0, 1)])


# ----------------------------------------------------------------- capacity

def test_capacity_load_numbers_are_hand_checked():
    # Windows [0, 30) and [40, 60), down [50, 55); buckets of 25 minutes:
    # available 25, 5 + 10 = 15, 10 - 5 = 5; loaded 5, 5 + 10 = 15, 10.
    problem = Problem([Machine("M1", windows=[(0, 30), (40, 60)], down=[(50, 55)])],
                      [op("A", 1, M1=10), op("A", 2, M1=20)])
    plan = Schedule([Assignment("A", 1, "M1", 20, 30), Assignment("A", 2, "M1", 40, 60)])
    rows = capacity_load(problem, plan, 25)
    assert [(r.start, r.end, r.loaded, r.available, r.overloaded) for r in rows] == [
        (0, 25, 5, 25, False), (25, 50, 15, 15, False), (50, 75, 10, 5, True)]


# ------------------------------------------------------------- bad problems

@pytest.mark.parametrize("problem, fragment", [
    (Problem([Machine("M1")], [op("A", 1, M9=3)]), "unknown machine 'M9'"),
    (Problem([Machine("M1")], [op("A", 1, M1=-3)]), "duration of operation 1 of job 'A' on 'M1' is negative"),
    (Problem([Machine("M1")], [op("A", 1)]), "operation 1 of job 'A' has no eligible machine"),
    (Problem([Machine("M1", windows=[(0, 5)])], [op("A", 1, M1=6)]), "infeasible windows"),
    (Problem([Machine("M1", windows=[(0, 5)])], [op("A", 1, M1=3), op("A", 2, M1=3)]),
     "infeasible windows: operation 2 of job 'A'"),
    (Problem([Machine("M1"), Machine("M1")], [op("A", 1, M1=1)]), "machine 'M1' is listed twice"),
    (Problem([Machine("M1")], [op("A", 1, M1=1), op("A", 1, M1=2)]), "appears twice"),
    (Problem([Machine("M1")], [op("A", 1, M1=1.5)]), "whole number of minutes"),
    (Problem([Machine("M1", windows=[(5, 2)])], [op("A", 1, M1=1)]), "ends before it starts"),
    (Problem([Machine("M1")], [op("A", 1, M1=1), op("A", 2, M1=1)], fixed=[Fixed("A", 2, "M1", 5)]),
     "operation 2 of job 'A' is fixed but operation 1 of job 'A'"),
    (Problem([Machine("M1"), Machine("M2")], [op("A", 1, M1=1)], fixed=[Fixed("A", 1, "M2", 0)]),
     "not one of its eligible machines"),
    (Problem([Machine("M1")], [op("A", 1, M1=4), op("B", 1, M1=4)],
             fixed=[Fixed("A", 1, "M1", 0), Fixed("B", 1, "M1", 2)]), "overlap on machine 'M1'"),
    (Problem([Machine("M1")], [op("A", 1, M1=1)], jobs=[Job("A", weight=0)]), "weight of job 'A'"),
])
def test_bad_problems_raise_naming_the_entry(problem, fragment):
    with pytest.raises(ScheduleInputError) as info:
        solve(problem, time_limit=QUICK)
    assert fragment in str(info.value)


def test_unknown_rule_and_objective_are_input_errors():
    problem = Problem([Machine("M1")], [op("A", 1, M1=1)])
    with pytest.raises(ScheduleInputError, match="unknown rule"):
        solve(problem, rule="FIFO")
    with pytest.raises(ScheduleInputError, match="unknown objective"):
        solve(problem, "profit")


# ---------------------------------------------- random problems, all engines

def random_problem(seed):
    """A small problem mixing every feature, with at most one fixed op per machine."""
    rng = random.Random(seed)
    names = [f"M{i}" for i in range(rng.randint(2, 4))]
    shifts = [None, [(0, 50), (60, 200), (220, 2000)], [(10, 400), (420, 2000)]]
    machines = [Machine(m, rng.choice(shifts), [(t, t + rng.randint(1, 15))]
                        if rng.random() < 0.5 else []) for m, t in zip(names, (30, 90, 150, 300))]
    ops, jobs, fixed = [], [], []
    for j in range(rng.randint(3, 5)):
        for k in range(rng.randint(1, 4)):
            eligible = rng.sample(names, rng.randint(1, 2))
            ops.append(op(f"J{j}", k, rng.randint(0, 3), **{m: rng.randint(1, 20) for m in eligible}))
        jobs.append(Job(f"J{j}", rng.randint(0, 20), rng.randint(20, 120), rng.randint(1, 5)))
    for machine in rng.sample(names, 2):
        first = next((o for o in ops if o.seq == 0 and machine in o.durations
                      and all(f.job != o.job for f in fixed)), None)
        if first is not None:
            fixed.append(Fixed(first.job, 0, machine, rng.randint(20, 40)))
    return Problem(machines, ops, jobs, fixed)


@pytest.mark.parametrize("seed", range(25))
def test_every_rule_is_feasible_on_random_problems(seed):
    problem = random_problem(seed)
    for rule in RULES:
        for objective in ("makespan", "weighted_tardiness"):
            assert check(problem, dispatch(problem, rule, objective)) == [], (rule, objective)


@pytest.mark.parametrize("seed", range(4))
def test_solve_is_feasible_and_no_worse_than_dispatch_on_random_problems(seed):
    problem = random_problem(seed)
    for objective in ("makespan", "weighted_tardiness"):
        schedule = solve(problem, objective, time_limit=1.0)
        assert check(problem, schedule) == []
        assert schedule.lower_bound <= schedule.value
        assert schedule.value <= min(dispatch(problem, r, objective).value for r in RULES)
