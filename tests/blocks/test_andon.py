"""Andon block: time rules with hand-computed values, then calls acknowledged,
resolved, escalated by the scheduler and shown on the board."""
import datetime as dt

import pytest

from blocks.andon.board import board
from blocks.andon.engine import (TimeStats, colour, due_for_escalation, minutes, resolution_minutes,
                                 response_minutes, time_stats)
from runtime import automations, notifications, users
from runtime.models import utcnow
from runtime.records import ValidationFailed
from runtime.workflow import run_transition

from .shopfloor import rows, wire

T0 = dt.datetime(2026, 11, 3, 8, 0, 0)


def at(minute: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minute)


def test_response_and_resolution_minutes():
    call = {"raised_at": T0, "acknowledged_at": at(3.5), "resolved_at": at(20)}
    assert (response_minutes(call), resolution_minutes(call)) == (3.5, 20)
    assert response_minutes({"raised_at": T0, "resolved_at": at(7)}) == 7  # resolved on the spot
    assert response_minutes({"raised_at": T0}) is None and minutes(None, T0) is None


def test_board_colours_at_the_thresholds():
    assert [colour(m, 5, 10) for m in (0, 4.99, 5, 9.99, 10, 60)] == ["green", "green", "amber", "amber", "red", "red"]


def test_due_for_escalation():
    calls = [{"id": 1, "status": "open", "raised_at": at(0)},                           # waited 12: due
             {"id": 2, "status": "open", "raised_at": at(2.5)},                         # waited 9.5: not yet
             {"id": 3, "status": "acknowledged", "raised_at": at(-30)},                 # answered
             {"id": 4, "status": "open", "raised_at": at(-5), "escalation_level": 1}]   # escalated already
    assert [c["id"] for c in due_for_escalation(calls, at(12), 10)] == [1]
    assert [c["id"] for c in due_for_escalation(calls, at(12), 10, level=2)] == [1, 4]


def test_time_stats_per_call_type():
    calls = [{"call_type": "material", "raised_at": T0, "acknowledged_at": at(2), "resolved_at": at(12)},
             {"call_type": "material", "raised_at": T0, "acknowledged_at": at(4), "resolved_at": at(30)},
             {"call_type": "material", "raised_at": T0},
             {"call_type": "help", "raised_at": T0, "resolved_at": at(1)}]
    stats = time_stats(calls)
    assert stats["material"] == TimeStats(calls=3, answered=2, resolved=2, mean_response=3, max_response=4,
                                          mean_resolution=21, max_resolution=30)
    assert stats["help"] == TimeStats(1, 1, 1, 1, 1, 1, 1)


def _minutes_between(call, start, end):
    return round(minutes(call[start], call[end]), 1)


def test_acknowledge_resolve_escalate_and_board(takt):
    records = wire(takt, "andon")
    records.create("wo_workstation", {"code": "ST-1", "name": "Press", "area": "A1"})
    records.create("wo_workstation", {"code": "ST-2", "name": "Weld", "area": "B2"})
    with takt.db.write() as conn:
        lead = users.create_user(conn, "lead", None, roles=("team_lead",))
    now = dt.datetime.now().replace(microsecond=0)
    late = records.create("andon_call", {"station": "ST-1", "call_type": "material", "raised_at": now - dt.timedelta(minutes=15)})
    fresh = records.create("andon_call", {"station": "ST-2", "call_type": "quality", "raised_at": now - dt.timedelta(minutes=1)})
    answered = records.create("andon_call", {"station": "ST-1", "call_type": "equipment", "raised_at": now - dt.timedelta(minutes=30)})
    assert (late["status"], late["area"], late["_name"][:3]) == ("open", "A1", "AD-")

    run_transition(records, "andon_call", answered["id"], "acknowledge", answered["_version"])
    answered = records.get("andon_call", answered["id"])  # the transition returns the record before its block actions
    assert answered["acknowledged_by"] == "test" and answered["response_minutes"] >= 30
    assert answered["response_minutes"] == _minutes_between(answered, "raised_at", "acknowledged_at")

    [outcome] = automations.run_due_schedules(takt.app)
    assert outcome["outcome"] == "ok"
    late, fresh = records.get("andon_call", late["id"]), records.get("andon_call", fresh["id"])
    assert (late["escalation_level"], fresh["escalation_level"]) == (1, 0)
    with takt.db.read() as conn:
        [note] = notifications.list_for(conn, lead)
    assert note["message"].startswith(f"Andon {late['_name']}: material call at station ST-1 not acknowledged for 1")
    automations.run_due_schedules(takt.app, utcnow() + dt.timedelta(minutes=5))  # again: no second notice
    with takt.db.read() as conn:
        assert len(notifications.list_for(conn, lead)) == 1

    shown = board(records, now=late["raised_at"] + dt.timedelta(minutes=20))
    assert [(c["number"], c["elapsed_minutes"], c["colour"], c["status"]) for c in shown] == [
        (answered["_name"], 35, "red", "acknowledged"), (late["_name"], 20, "red", "open"), (fresh["_name"], 6, "amber", "open")]
    assert [c["station"] for c in board(records, area="B2", now=fresh["raised_at"])] == ["ST-2"]
    assert board(records, area="B2", now=fresh["raised_at"])[0]["colour"] == "green"

    with pytest.raises(ValidationFailed, match="Choose the cause"):
        run_transition(records, "andon_call", late["id"], "resolve", late["_version"])
    late = records.update("andon_call", late["id"], {"cause": "material_shortage"}, version=late["_version"])
    run_transition(records, "andon_call", late["id"], "resolve", late["_version"])
    late = records.get("andon_call", late["id"])
    assert late["acknowledged_at"] == late["resolved_at"] and late["response_minutes"] == late["resolution_minutes"]
    assert late["resolution_minutes"] == _minutes_between(late, "raised_at", "resolved_at") >= 15
    assert [c["number"] for c in board(records, now=now)] == [answered["_name"], fresh["_name"]]
    assert len(rows(records, "andon_call", status="resolved")) == 1
