"""Equipment block: shift calendars, OEE and care checks with hand-computed values,
then downtime → maintenance order → repair, care checks and the OEE report through
the record service."""
import datetime as dt

import pytest

from blocks.equipment.engine import (CheckRefused, Oee, ShiftWindow, Stop, day_oee, judge_check, overlap_minutes,
                                     shift_at, shift_oee, shift_windows)
from blocks.equipment.oee import oee_report
from runtime import users
from runtime.records import ValidationFailed
from runtime.workflow import run_transition

from .shopfloor import rows, wire

SHIFTS = [{"name": "A", "start": "06:00", "end": "14:00", "break_minutes": 30},
          {"name": "B", "start": "14:00", "end": "22:00", "break_minutes": 30},
          {"name": "N", "start": "22:00", "end": "06:00", "break_minutes": 30,
           "weekdays": ["mon", "tue", "wed", "thu", "fri"]}]
FRI, SAT = dt.date(2026, 11, 6), dt.date(2026, 11, 7)


def t(day: dt.date, clock: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(clock))


def test_oee_of_the_worked_example():
    oee = Oee(planned_minutes=480, downtime_minutes=60, ideal_cycle_minutes=1.0, total=400, good=380)
    assert oee.run_minutes == 420 and oee.availability == 0.875
    assert oee.performance == pytest.approx(400 / 420) and oee.quality == 0.95
    assert oee.oee == pytest.approx(380 / 480)  # = good parts × ideal cycle / planned time
    empty = Oee(0, 0, 1.0, 0, 0)
    assert (empty.availability, empty.performance, empty.quality, empty.oee) == (None, None, None, None)


def test_shift_windows_and_night_shift():
    friday = shift_windows(SHIFTS, FRI)
    assert [(w.name, w.start, w.end, w.planned_minutes) for w in friday] == [
        ("A", t(FRI, "06:00"), t(FRI, "14:00"), 450), ("B", t(FRI, "14:00"), t(FRI, "22:00"), 450),
        ("N", t(FRI, "22:00"), t(SAT, "06:00"), 450)]
    assert [w.name for w in shift_windows(SHIFTS, SAT)] == ["A", "B"]  # no night shift on Saturday
    assert (shift_at(SHIFTS, t(SAT, "03:00")).name, shift_at(SHIFTS, t(SAT, "03:00")).day) == ("N", FRI)
    assert shift_at(SHIFTS, t(SAT, "23:00")) is None and shift_at(SHIFTS, t(SAT, "06:00")).name == "A"
    assert overlap_minutes(t(FRI, "13:30"), t(FRI, "14:30"), t(FRI, "06:00"), t(FRI, "14:00")) == 30


def test_shift_oee_with_planned_and_unplanned_stops():
    window = ShiftWindow("A", FRI, t(FRI, "06:00"), t(FRI, "14:00"), 30)               # 450 planned
    stops = [Stop(t(FRI, "07:00"), t(FRI, "07:45")),                                    # 45 down
             Stop(t(FRI, "13:30"), t(FRI, "14:30")),                                    # 30 of it in A
             Stop(t(FRI, "10:00"), t(FRI, "10:30"), planned=True),                      # planned: 450 → 420
             Stop(t(FRI, "05:00"), t(FRI, "05:50"))]                                    # before the shift
    oee = shift_oee(window, stops, 0.5, total=600, good=570)
    assert (oee.planned_minutes, oee.downtime_minutes, oee.run_minutes) == (420, 75, 345)
    assert oee.availability == pytest.approx(345 / 420) and oee.performance == pytest.approx(300 / 345)
    assert oee.quality == 0.95 and oee.oee == pytest.approx(285 / 420)
    ongoing = shift_oee(window, [Stop(t(FRI, "13:00"), None)], 0.5, 0, 0, now=t(FRI, "13:20"))
    assert ongoing.downtime_minutes == 20


def test_day_oee_sums_the_shifts():
    windows = shift_windows(SHIFTS, SAT)                                                # A and B, 450 each
    stops = [Stop(t(SAT, "13:00"), t(SAT, "15:00"))]                                    # 60 in A, 60 in B
    figures = day_oee(windows, stops, 1.0, {"A": (390, 380), "B": (300, 270)})
    assert figures["shifts"]["A"].availability == pytest.approx(390 / 450)
    assert figures["shifts"]["A"].performance == 1.0
    assert figures["shifts"]["B"].performance == pytest.approx(300 / 390)
    day = figures["day"]
    assert (day.planned_minutes, day.downtime_minutes, day.total, day.good) == (900, 120, 690, 650)
    assert day.oee == pytest.approx(650 / 900)


ITEMS = [{"item": "Oil level", "kind": "pass_fail"},
         {"item": "Air pressure", "kind": "reading", "lower": 5.5, "upper": 6.5, "unit": "bar"}]


def test_care_check_items():
    assert judge_check(ITEMS, [{"item": "oil level", "answer": "正常"}, {"item": "Air pressure", "reading": "6.0"}]) == ([True, True], [])
    verdicts, findings = judge_check(ITEMS, [{"item": "Oil level", "answer": "NG"}, {"item": "Air pressure", "reading": 5.2}])
    assert verdicts == [False, False] and findings == ["Oil level: NG", "Air pressure: 5.2 bar below 5.5"]
    with pytest.raises(CheckRefused, match="no result for Air pressure"):
        judge_check(ITEMS, [{"item": "Oil level", "answer": "OK"}])
    with pytest.raises(CheckRefused, match="answer OK or NG, not 'maybe'"):
        judge_check(ITEMS, [{"item": "Oil level", "answer": "maybe"}, {"item": "Air pressure", "reading": 6}])


def test_breakdown_repair_check_and_oee_report(takt):
    records = wire(takt, "equipment")
    with takt.db.write() as conn:
        users.create_user(conn, "mech", None, roles=("maintenance",))
    records.create("eq_calendar", {"code": "3S", "name": "Three shifts", "shifts": SHIFTS})
    records.create("eq_machine", {"code": "CNC-1", "name": "Lathe", "calendar": "3S", "ideal_cycle_minutes": "1"})

    an_hour_ago = dt.datetime.now().replace(microsecond=0) - dt.timedelta(hours=1)
    stop = records.create("eq_downtime", {"machine": "CNC-1", "started_at": an_hour_ago, "reason": "breakdown"})
    [order] = rows(records, "eq_maint_order")
    assert (order["machine"], order["downtime"], order["priority"], order["status"]) == (stop["machine"], stop["id"], "urgent", "reported")
    with pytest.raises(ValidationFailed, match="Choose who repairs it"):
        run_transition(records, "eq_maint_order", order["id"], "assign", order["_version"])
    order = records.update("eq_maint_order", order["id"], {"assignee": "mech"}, version=order["_version"])
    order = run_transition(records, "eq_maint_order", order["id"], "assign", order["_version"])
    order = run_transition(records, "eq_maint_order", order["id"], "start_repair", order["_version"])
    order = records.update("eq_maint_order", order["id"], {"repair_note": "Replaced belt"}, version=order["_version"])
    run_transition(records, "eq_maint_order", order["id"], "verify", order["_version"])
    ended = records.get("eq_downtime", stop["id"])
    assert ended["ended_at"] == records.get("eq_maint_order", order["id"])["verified_at"] and ended["minutes"] >= 60

    records.create("eq_checklist", {"code": "CL-CNC", "name": "Lathe daily", "items": ITEMS})
    ok = records.create("eq_check", {"machine": "CNC-1", "checklist": "CL-CNC", "results": [
        {"item": "Oil level", "answer": "OK"}, {"item": "Air pressure", "reading": "6"}]})
    ok = records.get("eq_check", ok["id"])
    assert ok["result"] == "pass" and [r["passed"] for r in ok["results"]] == [True, True]
    bad = records.create("eq_check", {"machine": "CNC-1", "checklist": "CL-CNC", "results": [
        {"item": "Oil level", "answer": "OK"}, {"item": "Air pressure", "reading": "7"}]})
    bad = records.get("eq_check", bad["id"])
    assert (bad["result"], bad["findings"]) == ("fail", "Air pressure: 7 bar above 6.5")
    [from_check] = rows(records, "eq_maint_order", check=bad["id"])
    assert from_check["problem"].endswith("Air pressure: 7 bar above 6.5")
    with pytest.raises(ValidationFailed, match="no result for Air pressure"):
        records.create("eq_check", {"machine": "CNC-1", "checklist": "CL-CNC", "results": [{"item": "Oil level", "answer": "OK"}]})

    # Saturday: A 06-14 and B 14-22, 450 planned minutes each; 60 unplanned minutes in each, 30 planned in B.
    machine = records.find("eq_machine", "code", "CNC-1")["id"]
    records.create("eq_downtime", {"machine": machine, "started_at": t(SAT, "13:00"), "ended_at": t(SAT, "15:00"), "reason": "setup"})
    records.create("eq_downtime", {"machine": machine, "started_at": t(SAT, "18:00"), "ended_at": t(SAT, "18:30"),
                                   "reason": "planned_maintenance", "planned": True})
    records.create("eq_count", {"machine": machine, "day": SAT, "shift": "A", "total": 390, "good": 380})
    records.create("eq_count", {"machine": machine, "day": SAT, "shift": "B", "total": 300, "good": 270})
    report = oee_report(records, "CNC-1", SAT)
    a, b, day = report["shifts"]["A"], report["shifts"]["B"], report["day_total"]
    assert (a["planned_minutes"], a["downtime_minutes"], a["availability"], a["performance"]) == (450, 60, 390 / 450, 1.0)
    assert (b["planned_minutes"], b["run_minutes"]) == (420, 360)
    assert b["oee"] == pytest.approx(360 / 420 * 300 / 360 * 270 / 300)
    assert (day["planned_minutes"], day["downtime_minutes"], day["good"]) == (870, 120, 650)
    assert day["oee"] == pytest.approx(650 / 870)
