"""Work-order rules as plain functions, with hand-computed expected values."""
import pytest

from blocks.work_orders.engine import (OperationState, ReportRefused, check_report, check_start, labour_minutes,
                                       next_status, operations_from_routing, parameter_out_of_limits)


def test_routing_explodes_into_operations_in_sequence():
    ops = operations_from_routing(100, [{"seq": 20, "operation": "Mill"}, {"seq": 10, "operation": "Turn"}])
    assert [(o["seq"], o["operation"], o["received_qty"]) for o in ops] == [(10, "Turn", 100), (20, "Mill", 0)]


def test_wip_is_received_minus_reported():
    assert OperationState(10, received=100, good=60, scrap=5).wip == 35


def test_cannot_report_more_than_received():
    op = OperationState(10, received=100, good=60, scrap=5)
    check_report(op, 30, 5)  # 60 + 5 + 35 = 100: exactly what it received
    with pytest.raises(ReportRefused, match="at most 35 more"):
        check_report(op, 30, 6)
    check_report(op, 30, 7, tolerance=2)  # over-run allowance


def test_predecessor_must_have_started():
    with pytest.raises(ReportRefused, match="before operation 10"):
        check_start(OperationState(20, 0, 0, 0), OperationState(10, 100, 0, 0, "waiting"))
    check_start(OperationState(20, 0, 0, 0), OperationState(10, 100, 0, 0, "running"))
    check_start(OperationState(20, 0, 0, 0), OperationState(10, 100, 0, 0, "waiting"), require_predecessor=False)


def test_status_and_limits():
    assert [next_status(k, "waiting") for k in ("start", "pause", "report", "finish")] == ["running", "paused", "running", "done"]
    assert parameter_out_of_limits(10.2, 9.9, 10.1) and not parameter_out_of_limits(10.0, 9.9, 10.1)


def test_labour_minutes_per_operator():
    events = [("ann", "start", 0), ("bob", "start", 10), ("ann", "pause", 30), ("ann", "start", 40),
              ("bob", "finish", 70), ("ann", "finish", 100)]
    assert labour_minutes(events) == {"ann": 90, "bob": 60}
