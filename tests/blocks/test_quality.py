"""Quality block: the judging and yield rules with hand-computed values, then
inspections → NCR → hold → disposition through the record service and automations."""
from decimal import Decimal

import pytest

from blocks.quality.engine import (ATTRIBUTE, PASS_FAIL, Characteristic, InspectionRefused, Yield, first_pass_yield,
                                   judge, judge_inspection, rolled_throughput_yield)
from runtime.records import ValidationFailed
from runtime.workflow import run_transition

from .shopfloor import rows, wire, work_order

DIAMETER = Characteristic("Diameter", nominal=Decimal("10.00"), lower=Decimal("9.95"), upper=Decimal("10.05"), unit="mm")
BURR = Characteristic("Burr free", kind=PASS_FAIL)
COLOUR = Characteristic("Colour", kind=ATTRIBUTE, choices=("silver", "grey", "black"), accept=("silver", "grey"))


def test_numeric_limits_are_inclusive():
    assert judge(DIAMETER, "9.95").passed and judge(DIAMETER, Decimal("10.05")).passed
    low, high = judge(DIAMETER, "9.949"), judge(DIAMETER, 10.06)
    assert not low.passed and low.detail == "Diameter: 9.949 mm < lower limit 9.95"
    assert not high.passed and high.detail == "Diameter: 10.06 mm > upper limit 10.05"
    assert judge(Characteristic("Length", upper=Decimal(5)), -100).passed  # one-sided limit
    with pytest.raises(InspectionRefused, match="needs a measured value"):
        judge(DIAMETER, None)


def test_pass_fail_and_attribute_answers():
    assert judge(BURR, answer="OK").passed and judge(BURR, answer="合格").passed
    assert not judge(BURR, answer="NG").passed
    with pytest.raises(InspectionRefused, match="answer pass or fail"):
        judge(BURR, answer="maybe")
    assert judge(COLOUR, answer="Grey").passed and not judge(COLOUR, answer="black").passed
    with pytest.raises(InspectionRefused, match="not one of silver, grey, black"):
        judge(COLOUR, answer="red")
    assert Characteristic.from_row({"name": "C", "kind": "attribute", "choices": "A，B; C", "accept": "a"}).choices == ("a", "b", "c")


def test_a_unit_fails_when_any_characteristic_fails():
    results = [{"unit_no": 1, "characteristic": "Diameter", "measured": "10.01"},
               {"unit_no": 1, "characteristic": "burr free", "answer": "pass"},
               {"unit_no": 2, "characteristic": "Diameter", "measured": "10.07"},
               {"unit_no": 2, "characteristic": "Burr free", "answer": "fail"},
               {"unit_no": 3, "characteristic": "Diameter", "measured": "9.99"},
               {"unit_no": 3, "characteristic": "Burr free", "answer": "ok"}]
    judged = judge_inspection([DIAMETER, BURR], results, 3)
    assert [v.passed for v in judged.verdicts] == [True, True, False, False, True, True]
    assert (judged.units_inspected, judged.units_passed, judged.units_failed, judged.passed) == (3, 2, 1, False)
    assert judged.findings == "unit 2: Diameter: 10.07 mm > upper limit 10.05\nunit 2: Burr free: fail"
    assert judge_inspection([DIAMETER, BURR], results[:2], 1).passed


def test_incomplete_or_unknown_results_are_refused():
    one = {"unit_no": 1, "characteristic": "Diameter", "measured": "10"}
    with pytest.raises(InspectionRefused, match="missing for unit 1: Burr free, unit 2: Diameter, unit 2: Burr free"):
        judge_inspection([DIAMETER, BURR], [one], 2)
    with pytest.raises(InspectionRefused, match="given twice"):
        judge_inspection([DIAMETER], [one, one], 1)
    with pytest.raises(InspectionRefused, match="outside the sample of 1"):
        judge_inspection([DIAMETER], [{**one, "unit_no": 2}], 1)
    with pytest.raises(InspectionRefused, match="'Weight' is not a characteristic"):
        judge_inspection([DIAMETER], [{**one, "characteristic": "Weight"}], 1)


def test_first_pass_yield_ignores_reinspections():
    inspections = [  # op 10: 5 + 3 inspected first time, 4 + 3 passed; the re-inspection of 1 unit does not count
        {"op": 10, "units_inspected": 5, "units_passed": 4, "first_pass": True},
        {"op": 10, "units_inspected": 1, "units_passed": 1, "first_pass": False},
        {"op": 10, "units_inspected": 3, "units_passed": 3, "first_pass": True},
        {"op": 20, "units_inspected": 4, "units_passed": 3, "first_pass": True}]
    yields = first_pass_yield(inspections, "op")
    assert yields == {10: Yield(8, 7), 20: Yield(4, 3)}
    assert yields[10].fpy == 7 / 8 and yields[20].fpy == 0.75
    assert rolled_throughput_yield([yields[10].fpy, yields[20].fpy]) == pytest.approx(0.65625)  # 7/8 × 3/4
    assert Yield(0, 0).fpy is None


PLAN = {"code": "QP-TURN", "name": "Turning", "inspection_type": "first_article", "sample_size": 2,
        "characteristics": [
            {"seq": 1, "name": "Diameter", "nominal": "10", "lower_limit": "9.95", "upper_limit": "10.05", "unit": "mm"},
            {"seq": 2, "name": "Burr free", "kind": "pass_fail"}]}


def results(*units):
    """(diameter, burr) per unit → result rows."""
    return [row for i, (dia, burr) in enumerate(units, 1) for row in
            ({"unit_no": i, "characteristic": "Diameter", "measured": dia},
             {"unit_no": i, "characteristic": "Burr free", "answer": burr})]


def test_inspections_ncr_hold_and_disposition(takt):
    records = wire(takt, "quality")
    op10, op20 = work_order(records)
    records.create("wo_report", {"operation": op10["id"], "kind": "start"})
    plan = records.create("qc_plan", PLAN)

    good = records.create("qc_inspection", {"operation": op10["id"], "plan": "QP-TURN",
                                            "results": results(("10.01", "ok"), ("9.98", "pass"))})
    good = records.get("qc_inspection", good["id"])
    assert (good["result"], good["units_inspected"], good["units_passed"], good["first_pass"]) == ("pass", 2, 2, True)
    assert good["inspection_type"] == "first_article" and good["product"] == records.find("wo_product", "code", "P1")["id"]
    assert [r["passed"] for r in good["results"]] == [True] * 4 and rows(records, "qc_ncr") == []

    bad = records.create("qc_inspection", {"operation": op10["id"], "plan": plan["id"], "inspection_type": "in_process",
                                           "results": results(("10.07", "ok"), ("10.00", "ok"))})
    bad = records.get("qc_inspection", bad["id"])
    assert (bad["result"], bad["units_passed"], bad["findings"]) == ("fail", 1, "unit 1: Diameter: 10.07 mm > upper limit 10.05")
    [ncr] = rows(records, "qc_ncr")
    assert (ncr["inspection"], ncr["operation"], ncr["quantity"], ncr["hold"], ncr["status"]) == (bad["id"], op10["id"], 1, True, "open")
    assert records.get("wo_operation", op10["id"])["status"] == "paused"

    with pytest.raises(ValidationFailed, match=f"on hold until {ncr['_name']}"):
        records.create("wo_report", {"operation": op10["id"], "kind": "report", "good_qty": 5})
    assert records.get("wo_operation", op10["id"])["good_qty"] == 0  # the report was rolled back
    records.create("wo_report", {"operation": op20["id"], "kind": "start"})  # other operations carry on

    run_transition(records, "qc_ncr", ncr["id"], "rework", ncr["_version"])
    assert records.get("qc_ncr", ncr["id"])["disposition"] == "rework"
    records.create("wo_report", {"operation": op10["id"], "kind": "report", "good_qty": 5})
    assert records.get("wo_operation", op10["id"])["status"] == "running"

    again = records.create("qc_inspection", {"operation": op10["id"], "plan": plan["id"], "sample_size": 1,
                                             "reinspection_of": bad["id"], "results": results(("10.02", "ok"))})
    assert records.get("qc_inspection", again["id"])["first_pass"] is False

    from blocks.quality.yields import first_pass_yield as fpy
    assert fpy(records, "operation") == {op10["_name"]: Yield(4, 3)}  # 2/2 + 1/2 first time; re-inspection left out
    assert fpy(records, "product") == {"P1": Yield(4, 3)}


def test_results_that_cannot_be_judged_roll_the_inspection_back(takt):
    records = wire(takt, "quality")
    [op10, _] = work_order(records)
    records.create("qc_plan", {**PLAN, "product": "P1"})
    with pytest.raises(ValidationFailed, match="results are missing for unit 2: Diameter"):
        records.create("qc_inspection", {"operation": op10["id"], "plan": "QP-TURN", "results": results(("10", "ok"))})
    records.create("wo_product", {"code": "P2", "name": "Other"})
    records.create("qc_plan", {**PLAN, "code": "QP-P2", "product": "P2"})
    with pytest.raises(ValidationFailed, match="plan QP-P2 is for another product"):
        records.create("qc_inspection", {"operation": op10["id"], "plan": "QP-P2",
                                         "results": results(("10", "ok"), ("10", "ok"))})
    assert rows(records, "qc_inspection") == []
