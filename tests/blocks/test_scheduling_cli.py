"""``takt schedule jssp`` as a function: exit codes, messages, JSON contract."""
import io
import json

import pytest

from blocks.scheduling import jssp as fmt
from blocks.scheduling.cli import jssp
from tests.blocks.test_scheduling_jssp import FT06

CONTRACT_KEYS = {"makespan", "lower_bound", "operations", "status", "gap"}
OP_KEYS = {"job", "op", "machine", "start", "end"}


@pytest.fixture
def ft06(tmp_path):
    """ft06 written to a temporary file."""
    path = tmp_path / "ft06.txt"
    path.write_text(FT06)
    return path


def run(path, out, time_limit=5.0, rule=None):
    """Call the command; return (exit code, stderr text)."""
    err = io.StringIO()
    code = jssp(str(path), str(out), time_limit, rule, stderr=err)
    return code, err.getvalue()


def as_ops(doc):
    """The JSON operations as checker records."""
    return [fmt.Op(**o) for o in doc["operations"]]


def test_cpsat_run_writes_the_contract_json(ft06, tmp_path):
    out = tmp_path / "schedule.json"
    assert run(ft06, out) == (0, "")
    doc = json.loads(out.read_text())
    assert CONTRACT_KEYS <= set(doc)
    assert all(set(o) == OP_KEYS for o in doc["operations"])
    assert (doc["makespan"], doc["lower_bound"], doc["status"], doc["gap"]) == (55, 55, "optimal", 0.0)
    assert fmt.check(fmt.parse(FT06), as_ops(doc)) == []
    assert doc["makespan"] == fmt.makespan(as_ops(doc))


@pytest.mark.parametrize("rule", ["mwkr", "SPT", "Edd", "cr"])
def test_rule_run_dispatches_only(ft06, tmp_path, rule):
    out = tmp_path / "schedule.json"
    assert run(ft06, out, rule=rule) == (0, "")
    doc = json.loads(out.read_text())
    assert CONTRACT_KEYS <= set(doc)
    assert doc["rule"] == rule.upper() and list(doc["dispatch"]) == [rule.upper()]
    assert "solver_bound" not in doc
    assert doc["status"] == "feasible" and doc["gap"] > 0
    assert fmt.check(fmt.parse(FT06), as_ops(doc)) == []


@pytest.mark.parametrize("text, fragment", [
    ("", "empty file"),
    ("6\n", "missing header"),
    ("1 2\n0 1 1\n", "expected 2 'machine time' pairs"),
    ("1 2\n0 one 1 2\n", "is not an integer"),
    ("1 2\n0 1 5 2\n", "outside 0..1"),
])
def test_bad_file_exits_2_with_a_message_and_no_traceback(tmp_path, text, fragment):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    code, err = run(path, tmp_path / "out.json")
    assert code == 2
    assert fragment in err and "bad.txt" in err and "Traceback" not in err
    assert not (tmp_path / "out.json").exists()


def test_missing_file_unknown_rule_bad_limit_and_bad_out_exit_2(ft06, tmp_path):
    code, err = run(tmp_path / "nope.txt", tmp_path / "o.json")
    assert code == 2 and "cannot read" in err
    code, err = run(ft06, tmp_path / "o.json", rule="FIFO")
    assert code == 2 and "unknown rule 'FIFO'" in err
    code, err = run(ft06, tmp_path / "o.json", time_limit=0)
    assert code == 2 and "--time-limit" in err
    code, err = run(ft06, tmp_path / "no" / "dir" / "o.json")
    assert code == 2 and "cannot write" in err
