"""Job-shop format, schedule checker, dispatching rules and the CP-SAT model."""
import os
from pathlib import Path

import pytest

from blocks.scheduling import cpsat, dispatch, jssp
from blocks.scheduling.jssp import JsspFormatError, Op

BENCH = Path(os.environ.get("TAKT_JSSP_BENCH", "/work/shared/bench/jssp"))
needs_bench = pytest.mark.skipif(not (BENCH / "optima.csv").exists(),
                                 reason="benchmark instances not available")

FT06 = """\
# Fisher and Thompson 6x6 instance
6 6
2  1  0  3  1  6  3  7  5  3  4  6
1  8  2  5  4 10  5 10  0 10  3  4
2  5  3  4  5  8  0  9  1  1  4  7
1  5  0  5  2  5  3  3  4  8  5  9
2  9  1  3  4  5  5  4  0  3  3  1
1  3  3  3  5  9  0 10  4  4  2  1
"""

TINY = jssp.Instance("tiny", 2, [[(0, 3), (1, 2)], [(1, 4), (0, 1)]])


def bench_instances():
    """Names of the stored benchmark instances (empty when not available)."""
    if not (BENCH / "optima.csv").exists():
        return []
    return [line.split(",")[0] for line in (BENCH / "optima.csv").read_text().split()[1:]]


def schedule(inst, placed):
    """Placements from the dispatcher/solver as checker records."""
    shop = dispatch.shop_from_instance(inst)
    return [Op(j, k, *placed[t]) for j, c in enumerate(shop.chains) for k, t in enumerate(c)]


# ------------------------------------------------------------------ parsing

def test_parse_ft06_reads_header_jobs_and_skips_comments():
    inst = jssp.parse(FT06, "ft06")
    assert (inst.n_jobs, inst.n_machines) == (6, 6)
    assert inst.jobs[0][:2] == [(2, 1), (0, 3)]
    assert inst.jobs[5][-1] == (2, 1)


def test_format_round_trips():
    inst = jssp.parse(FT06, "ft06")
    assert jssp.parse(jssp.format_instance(inst), "ft06").jobs == inst.jobs


@pytest.mark.parametrize("text, fragment", [
    ("", "empty file"),
    ("# only a comment\n\n", "empty file"),
    ("2\n0 1 1 2\n", "missing header"),
    ("2 2\n0 1 1 2\n", "header says 2 jobs but 1 job lines follow"),
    ("1 2\n0 1 1\n", "expected 2 'machine time' pairs"),
    ("1 2\n0 1 x 2\n", "'x' in the job line is not an integer"),
    ("a 2\n0 1 1 2\n", "'a' in the header is not an integer"),
    ("1 2\n0 1 2 2\n", "machine 2, outside 0..1"),
    ("1 2\n0 1 1 -2\n", "negative time"),
    ("0 2\n", "must be positive"),
])
def test_bad_files_give_clear_messages(text, fragment):
    with pytest.raises(JsspFormatError, match="bad") as info:
        jssp.parse(text, "bad")
    assert fragment in str(info.value)


def test_error_names_the_line_number():
    with pytest.raises(JsspFormatError, match="line 4"):
        jssp.parse("# c\n2 2\n0 1 1 2\n0 1 1\n", "f")


def test_load_rejects_binary_file(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(JsspFormatError, match="not a text file"):
        jssp.load(str(path))


def test_random_instance_is_reproducible_and_visits_each_machine_once():
    a, b = jssp.random_instance(5, 4, seed=3), jssp.random_instance(5, 4, seed=3)
    assert a.jobs == b.jobs
    assert all(sorted(m for m, _ in job) == [0, 1, 2, 3] for job in a.jobs)


# ------------------------------------------------------------------ checker

GOOD = [Op(0, 0, 0, 0, 3), Op(0, 1, 1, 4, 6), Op(1, 0, 1, 0, 4), Op(1, 1, 0, 4, 5)]


def test_checker_accepts_valid_schedule_and_bound_is_hand_checked():
    assert jssp.check(TINY, GOOD) == []
    assert jssp.makespan(GOOD) == 6
    # jobs last 5 each; machine 0 carries 3 + 1, machine 1 carries 2 + 4
    assert jssp.simple_lower_bound(TINY) == 6


def replaced(index, op):
    """GOOD with one record swapped."""
    return GOOD[:index] + [op] + GOOD[index + 1:]


def test_checker_catches_overlap_on_a_machine():
    problems = jssp.check(TINY, replaced(3, Op(1, 1, 0, 2, 3)))
    assert any("machine 0" in p and "overlaps" in p for p in problems)


def test_checker_catches_job_order_violation():
    problems = jssp.check(TINY, replaced(1, Op(0, 1, 1, 2, 4)))
    assert "job 0 op 1 starts at 2 before op 0 ends at 3" in problems


def test_checker_catches_wrong_duration():
    problems = jssp.check(TINY, replaced(1, Op(0, 1, 1, 4, 7)))
    assert "job 0 op 1 lasts 3, its duration is 2" in problems


def test_checker_catches_wrong_machine_missing_and_duplicate_ops():
    problems = jssp.check(TINY, [Op(0, 0, 1, 10, 13)] + GOOD[:3])
    assert "job 0 op 0 runs on machine 1, must run on machine 0" in problems
    assert "job 0 op 0 is scheduled more than once" in problems
    assert "job 1 op 1 is not scheduled" in problems


def test_checker_catches_negative_start_and_unknown_op():
    problems = jssp.check(TINY, [Op(0, 0, 0, -1, 2)] + GOOD[1:] + [Op(5, 0, 0, 9, 9)])
    assert "job 0 op 0 starts before time 0" in problems
    assert "job 5 op 0 does not exist" in problems


# ----------------------------------------------------------------- dispatch

def test_timeline_fits_in_gaps_and_splits_free_intervals():
    line = dispatch.Timeline([(0, 10), (20, 30)])
    assert line.earliest(0, 5) == 0
    assert line.earliest(8, 5) == 20
    assert line.earliest(0, 11) is None
    line.occupy(2, 6)
    assert (line.starts, line.ends) == ([0, 6, 20], [2, 10, 30])
    assert line.earliest(0, 3) == 6


def test_subtract_intervals_cuts_down_time_out_of_windows():
    assert dispatch.subtract_intervals([(0, 10), (20, 30)], [(5, 22), (28, 40)]) == [
        (0, 5), (22, 28)]


def test_lower_bound_counts_only_working_minutes():
    # two 5-minute tasks on one machine open [0, 4) and from 10: 4 + 6 -> 16
    shop = dispatch.Shop(1, [[0], [1]], [[(0, 5)], [(0, 5)]], free=[[(0, 4), (10, 100)]])
    assert dispatch.makespan_lower_bound(shop) == 16


def test_unknown_rule_is_rejected():
    with pytest.raises(ValueError, match="choose one of SPT, EDD, CR, MWKR"):
        dispatch.dispatch(dispatch.shop_from_instance(TINY), "FIFO")


@pytest.mark.parametrize("rule", ["spt", "EDD", "Cr", "MWKR"])
def test_rules_are_case_insensitive_and_feasible_on_ft06(rule):
    inst = jssp.parse(FT06, "ft06")
    ops = schedule(inst, dispatch.dispatch(dispatch.shop_from_instance(inst), rule))
    assert jssp.check(inst, ops) == []
    assert jssp.makespan(ops) >= 55


@needs_bench
@pytest.mark.parametrize("name", bench_instances())
def test_every_rule_is_feasible_on_every_instance(name):
    inst = jssp.load(str(BENCH / name))
    shop = dispatch.shop_from_instance(inst)
    for rule in dispatch.RULES:
        ops = schedule(inst, dispatch.dispatch(shop, rule))
        assert jssp.check(inst, ops) == [], rule


def test_dispatch_is_feasible_on_a_large_generated_instance():
    inst = jssp.random_instance(100, 20, seed=1)
    rule, placed, value = dispatch.best_dispatch(dispatch.shop_from_instance(inst))
    ops = schedule(inst, placed)
    assert jssp.check(inst, ops) == []
    assert value == jssp.makespan(ops) >= jssp.simple_lower_bound(inst)


def test_shop_lower_bound_adds_heads_and_tails_to_machine_load():
    # machine 1: smallest head 0, load 2 + 4, smallest tail 0 -> 6
    # machine 0: smallest head 0, load 3 + 1, smallest tail 0 -> 4; jobs: 5
    assert dispatch.makespan_lower_bound(dispatch.shop_from_instance(TINY)) == 6
    shop = dispatch.shop_from_instance(jssp.parse(FT06, "ft06"))
    assert jssp.simple_lower_bound(jssp.parse(FT06, "ft06")) == 47
    assert 47 <= dispatch.makespan_lower_bound(shop) <= 55


# ------------------------------------------------------------------- CP-SAT

def test_cpsat_solves_ft06_to_the_optimum():
    inst = jssp.parse(FT06, "ft06")
    shop = dispatch.shop_from_instance(inst)
    _, hint, value = dispatch.best_dispatch(shop)
    res = cpsat.solve(shop, hint, value, lower_bound=jssp.simple_lower_bound(inst),
                      time_limit=5.0)
    assert (res.value, res.bound, res.status) == (55, 55, "optimal")
    assert jssp.check(inst, schedule(inst, res.placed)) == []
    assert res.history[-1][1] == 55


def test_cpsat_stops_at_once_when_the_hint_meets_the_bound():
    shop = dispatch.shop_from_instance(TINY)
    hint = [(0, 0, 3), (1, 4, 6), (1, 0, 4), (0, 4, 5)]
    res = cpsat.solve(shop, hint, 6, lower_bound=6, time_limit=5.0)
    assert (res.value, res.status, res.placed) == (6, "optimal", hint)


def test_cpsat_improves_or_keeps_the_warm_start_on_a_large_instance():
    inst = jssp.random_instance(60, 20, seed=2)  # 1,200 tasks: the LNS-only path
    shop = dispatch.shop_from_instance(inst)
    _, hint, value = dispatch.best_dispatch(shop)
    res = cpsat.solve(shop, hint, value, lower_bound=jssp.simple_lower_bound(inst),
                      time_limit=1.0)
    assert res.value <= value
    assert jssp.check(inst, schedule(inst, res.placed)) == []
