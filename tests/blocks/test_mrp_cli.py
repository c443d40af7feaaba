"""Tests for blocks/mrp/cli.py: file in, file out, exit codes and messages."""
import io
import json
import os

from blocks.mrp.cli import EXIT_BAD_INPUT, EXIT_OK, run, write_json
from blocks.mrp.engine import run_mrp

PLAN = {"horizon": 4,
        "items": [{"id": "A", "lead_time": 1}, {"id": "B", "lot_sizing": {"rule": "FOQ", "qty": 0.5}}],
        "bom": [{"parent": "A", "child": "B", "qty_per": 0.3}],
        "demand": [{"item": "A", "period": 3, "qty": 7}]}


def call(tmp_path, text=None, plan=None, out_name="result.json"):
    """Write the plan (JSON text or object) to a file, run the CLI; return (code, stderr, out path)."""
    source = tmp_path / "plan.json"
    if plan is not None:
        text = json.dumps(plan)
    if text is not None:
        source.write_text(text, encoding="utf-8")
    stderr = io.StringIO()
    target = tmp_path / out_name
    code = run(str(source), str(target), stderr=stderr)
    return code, stderr.getvalue(), target


def test_writes_the_engine_result(tmp_path):
    code, err, target = call(tmp_path, plan=PLAN)
    assert (code, err) == (EXIT_OK, "")
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(run_mrp(PLAN)))
    assert written["items"]["B"]["gross"] == [0.0, 2.1, 0.0, 0.0]      # 7 × 0.3, no float noise
    assert sorted(os.listdir(tmp_path)) == ["plan.json", "result.json"]     # no temp file left


def test_keeps_non_ascii_item_ids(tmp_path):
    plan = {"horizon": 1, "items": [{"id": "齿轮"}], "demand": [{"item": "齿轮", "period": 1, "qty": 2}]}
    code, _, target = call(tmp_path, plan=plan)
    assert code == EXIT_OK
    assert "齿轮" in target.read_text(encoding="utf-8")


def test_bad_json_exits_2_with_position(tmp_path):
    code, err, target = call(tmp_path, text='{"horizon": 4,\n "items": [}')
    assert code == EXIT_BAD_INPUT
    assert "plan.json is not valid JSON" in err and "line 2" in err
    assert "Traceback" not in err
    assert not target.exists()


def test_missing_file_exits_2(tmp_path):
    code, err, _ = call(tmp_path)
    assert code == EXIT_BAD_INPUT
    assert err.startswith("error: cannot read input file") and "No such file" in err
    assert "Traceback" not in err


def test_file_that_is_not_utf8_exits_2(tmp_path):
    (tmp_path / "plan.json").write_bytes(b'{"horizon": 1, "items": [{"id": "\xff"}]}')
    code, err, _ = call(tmp_path)
    assert code == EXIT_BAD_INPUT
    assert "is not UTF-8 text" in err


def test_invalid_plan_exits_2_naming_each_entry(tmp_path):
    plan = dict(PLAN, demand=[{"item": "A", "period": 9, "qty": 1}, {"item": "X9", "period": 1, "qty": 1}])
    code, err, target = call(tmp_path, plan=plan)
    assert code == EXIT_BAD_INPUT
    assert "invalid MRP plan" in err
    assert "demand[0]: period 9 is outside 1..4" in err
    assert "demand[1]: unknown item 'X9' (item)" in err
    assert "Traceback" not in err
    assert not target.exists()


def test_json_that_is_not_a_plan_exits_2(tmp_path):
    code, err, _ = call(tmp_path, text="[1, 2, 3]")
    assert code == EXIT_BAD_INPUT
    assert "plan: expected a JSON object, got a list" in err


def test_unwritable_output_exits_2_and_leaves_nothing_behind(tmp_path):
    code, err, _ = call(tmp_path, plan=PLAN, out_name="missing-folder/result.json")
    assert code == EXIT_BAD_INPUT
    assert "cannot write output file" in err
    assert os.listdir(tmp_path) == ["plan.json"]


def test_output_replaces_an_existing_file(tmp_path):
    (tmp_path / "result.json").write_text("old", encoding="utf-8")
    code, _, target = call(tmp_path, plan=PLAN)
    assert code == EXIT_OK
    assert json.loads(target.read_text(encoding="utf-8"))["items"]["A"]["planned_releases"] == [0, 7, 0, 0]


def test_sliced_writer_produces_the_same_json_as_the_standard_encoder():
    result = run_mrp({"horizon": 3, "items": [{"id": f"I{k}", "lead_time": 1} for k in range(7)],
                      "demand": [{"item": f"I{k}", "period": 2 + k % 2, "qty": k} for k in range(7)]})
    result["empty"] = []
    for size in (1, 2, 3, 100):
        text = io.StringIO()
        write_json(result, text, size=size)
        assert json.loads(text.getvalue()) == result
        assert text.getvalue() == json.dumps(result, ensure_ascii=False)
