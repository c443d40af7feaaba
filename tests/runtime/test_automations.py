"""Automations over SQLite and PostgreSQL: triggers, conditions, actions, modes, loops, schedules."""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa

from runtime import automations, service, users, webhooks
from runtime.models import AuditEntry, Job
from runtime.models_automation import AutomationRun
from runtime.permissions import Actor
from runtime.records import ValidationFailed
from runtime.workflow import run_transition

QC_APP = """
slug: demo
roles: [{name: supervisor}, {name: inspector}]
tables:
  - name: part
    fields:
      - {name: code, type: text, required: true, unique: true}
      - {name: blocked, type: boolean, default: false}
      - {name: note, type: text}
  - name: inspection
    fields:
      - {name: part, type: text, required: true}
      - {name: measured, type: decimal, scale: 3}
      - {name: upper_limit, type: decimal, scale: 3, default: 10.05}
      - name: result
        type: formula
        result_type: text
        expression: "if(is_blank(measured), 'pending', if(measured <= upper_limit, 'pass', 'fail'))"
      - {name: remarks, type: text}
    permissions:
      - {role: inspector, read: true, create: true}
  - name: nonconformance
    fields:
      - {name: inspection, type: link, table: inspection, required: true}
      - {name: description, type: text, required: true}
      - {name: raised_by, type: text}
    permissions:
      - {role: supervisor, read: true, create: true, update: true}
automations:
  - name: failed_inspection_opens_nc
    trigger: {event: created, table: inspection, condition: "result = 'fail'"}
    actions:
      - create:
          table: nonconformance
          values:
            inspection: "id"
            description: "'Part ' & part & ' measured ' & text(measured)"
            raised_by: "current_user.username"
      - update: {table: part, where: {code: "part"}, values: {blocked: "true", note: "'failed inspection #' & text(id)"}}
"""


def wait_for_jobs(database):
    """Until every background job has ended (jobs queue further jobs before they end)."""
    while True:
        with database.read() as conn:
            busy = conn.execute(sa.select(sa.func.count()).select_from(Job)
                                .where(Job.status.in_(("queued", "running")))).scalar()
        if not busy:
            return
        time.sleep(0.02)


def runs(takt) -> list[dict]:
    with takt.db.read() as conn:
        return [dict(r) for r in conn.execute(sa.select(AutomationRun).order_by(AutomationRun.id)).mappings()]


@pytest.fixture
def wired(takt):
    automations.init_app(takt.app)
    webhooks.init_app(takt.app)
    return takt


def records_as(takt, actor=None, slug="demo"):
    return service.records_for(takt.app, slug, actor or Actor.system("test"))


@pytest.fixture
def qc(wired):
    wired.publish(QC_APP)
    records_as(wired).create("part", {"code": "P1"})
    return wired


INSPECTOR = Actor(7, "ines", frozenset({"inspector"}))


def test_failed_inspection_creates_a_nonconformance_and_updates_the_part(qc):
    inspection = records_as(qc, INSPECTOR).create("inspection", {"part": "P1", "measured": "10.2"})
    system = records_as(qc)
    [nc] = system.list("nonconformance").rows
    assert nc["inspection"] == inspection["id"]
    assert nc["description"] == "Part P1 measured 10.200"
    assert nc["raised_by"] == "ines"  # current_user is the user who made the change
    part = system.find("part", "code", "P1")
    assert part["blocked"] is True and part["note"] == f"failed inspection #{inspection['id']}"
    [run] = runs(qc)
    assert (run["automation"], run["event"], run["outcome"], run["record_id"]) == \
        ("failed_inspection_opens_nc", "created", "ok", inspection["id"])
    assert run["inputs"]["record"]["measured"] == 10.2 and run["inputs"]["user"] == "ines"
    assert "created nonconformance" in run["message"] and "updated 1 part record(s)" in run["message"]
    assert run["duration_ms"] >= 0
    with qc.db.read() as conn:  # written as the automation, although the inspector may not create NCs
        who = conn.execute(sa.select(AuditEntry.username).where(AuditEntry.table_name == "nonconformance")).scalar()
    assert who == "automation:failed_inspection_opens_nc"


def test_condition_false_does_nothing(qc):
    records_as(qc, INSPECTOR).create("inspection", {"part": "P1", "measured": "10.01"})
    assert records_as(qc).list("nonconformance").total == 0
    assert records_as(qc).find("part", "code", "P1")["blocked"] is False
    assert runs(qc) == []


def test_a_failing_sync_action_rolls_the_write_back(qc):
    doc = qc.live().appdef.doc
    doc["automations"][0]["actions"][0]["create"]["values"]["description"] = "remarks"  # blank → required fails
    qc.publish(doc)
    with pytest.raises(ValidationFailed) as failed:
        records_as(qc, INSPECTOR).create("inspection", {"part": "P1", "measured": "10.2"})
    message = failed.value.message
    assert "automation 'failed_inspection_opens_nc' failed" in message
    assert "create nonconformance: description:" in message
    system = records_as(qc)
    assert system.list("inspection").total == 0 and system.list("nonconformance").total == 0
    assert system.find("part", "code", "P1")["blocked"] is False
    [run] = runs(qc)  # logged although the change it belonged to was rolled back
    assert run["outcome"] == "failed" and "description" in run["message"] and run["record_id"] is not None


LOOP_APP = """
slug: demo
tables:
  - name: counter
    fields:
      - {name: code, type: text, required: true}
      - {name: n, type: integer, default: 0}
  - name: mirror
    fields:
      - {name: code, type: text, required: true}
      - {name: n, type: integer, default: 0}
automations:
  - name: bump_self
    trigger: {event: updated, table: counter}
    actions:
      - update: {table: counter, where: {code: "code"}, values: {n: "n + 1"}}
"""


def test_an_automation_updating_its_own_table_is_stopped_and_logged(wired):
    wired.publish(LOOP_APP)
    records = records_as(wired)
    counter = records.create("counter", {"code": "C"})
    records.update("counter", counter["id"], {"n": 10}, version=counter["_version"])
    assert records.get("counter", counter["id"])["n"] == 11  # ran once, not again and again
    loop, ok = runs(wired)  # the inner, skipped trigger is logged before the outer run ends
    assert ok["outcome"] == "ok" and loop["outcome"] == "skipped_loop"
    assert loop["automation"] == "bump_self" and "loop stopped: bump_self → bump_self" in loop["message"]


def test_a_loop_through_another_automation_is_stopped(wired):
    doc = __import__("yaml").safe_load(LOOP_APP)
    doc["automations"] = [
        {"name": "counter_to_mirror", "trigger": {"event": "updated", "table": "counter"},
         "actions": [{"update": {"table": "mirror", "where": {"code": "code"}, "values": {"n": "n"}}}]},
        {"name": "mirror_to_counter", "trigger": {"event": "updated", "table": "mirror"},
         "actions": [{"update": {"table": "counter", "where": {"code": "code"}, "values": {"n": "n + 1"}}}]},
    ]
    wired.publish(doc)
    records = records_as(wired)
    counter = records.create("counter", {"code": "C"})
    records.create("mirror", {"code": "C"})
    records.update("counter", counter["id"], {"n": 5}, version=counter["_version"])
    assert records.get("counter", counter["id"])["n"] == 6
    assert records.find("mirror", "code", "C")["n"] == 5
    outcomes = [(r["automation"], r["outcome"]) for r in runs(wired)]
    assert sorted(outcomes) == [("counter_to_mirror", "ok"), ("counter_to_mirror", "skipped_loop"),
                                ("mirror_to_counter", "ok")]
    [loop] = [r for r in runs(wired) if r["outcome"] == "skipped_loop"]
    assert "counter_to_mirror → mirror_to_counter → counter_to_mirror" in loop["message"]


def test_a_deep_chain_is_stopped_at_the_limit(wired):
    tables = [{"name": f"t{i}", "fields": [{"name": "code", "type": "text"}]} for i in range(8)]
    chain = [{"name": f"a{i}", "trigger": {"event": "created", "table": f"t{i}"},
              "actions": [{"create": {"table": f"t{i + 1}", "values": {"code": "code"}}}]} for i in range(7)]
    wired.publish({"slug": "demo", "tables": tables, "automations": chain})
    records_as(wired).create("t0", {"code": "x"})
    outcomes = {r["automation"]: r["outcome"] for r in runs(wired)}
    assert outcomes == {"a0": "ok", "a1": "ok", "a2": "ok", "a3": "ok", "a4": "ok", "a5": "skipped_loop"}
    assert "deeper than 5" in next(r["message"] for r in runs(wired) if r["outcome"] == "skipped_loop")
    assert records_as(wired).list("t5").total == 1 and records_as(wired).list("t6").total == 0


def test_background_mode_runs_after_the_commit_through_the_job_runner(qc):
    doc = qc.live().appdef.doc
    doc["automations"][0]["mode"] = "background"
    qc.publish(doc)
    inspection = records_as(qc, INSPECTOR).create("inspection", {"part": "P1", "measured": "10.2"})
    wait_for_jobs(qc.db)
    [nc] = records_as(qc).list("nonconformance").rows
    assert nc["inspection"] == inspection["id"] and nc["raised_by"] == "ines"
    [run] = runs(qc)
    assert run["outcome"] == "ok" and run["mode"] == "background" and run["duration_ms"] is not None
    with qc.db.read() as conn:
        job = conn.execute(sa.select(Job).where(Job.kind == "automation")).mappings().one()
    assert job["status"] == "done" and job["created_by"] == "ines"


def test_a_failing_background_run_keeps_the_change_and_logs_the_failure(qc):
    doc = qc.live().appdef.doc
    doc["automations"][0]["mode"] = "background"
    doc["automations"][0]["actions"][0]["create"]["values"]["description"] = "remarks"
    qc.publish(doc)
    records_as(qc, INSPECTOR).create("inspection", {"part": "P1", "measured": "10.2"})
    wait_for_jobs(qc.db)
    assert records_as(qc).list("inspection").total == 1
    assert records_as(qc).list("nonconformance").total == 0
    [run] = runs(qc)
    assert run["outcome"] == "failed" and "description" in run["message"]
    with qc.db.read() as conn:
        job = conn.execute(sa.select(Job).where(Job.kind == "automation")).mappings().one()
    assert job["status"] == "failed" and "failed_inspection_opens_nc" in job["error"]


FLOW_APP = """
slug: demo
tables:
  - name: order
    fields:
      - {name: code, type: text, required: true}
      - {name: status, type: select, options: [open, done]}
      - {name: closed_by, type: text}
  - name: log
    fields:
      - {name: text, type: text}
workflows:
  - name: order_flow
    table: order
    field: status
    states: [{name: open}, {name: done}]
    transitions:
      - {name: finish, from: open, to: done}
automations:
  - name: on_finish
    trigger: {event: transition, workflow: order_flow, transition: finish}
    actions:
      - set: {closed_by: "current_user.username"}
      - create: {table: log, values: {text: "code & ' finished by ' & current_user.username"}}
"""


def test_a_transition_triggers_and_set_changes_the_record(wired):
    wired.publish(FLOW_APP)
    records = records_as(wired, Actor(3, "olga", frozenset({"admin"})))
    order = records.create("order", {"code": "O1"})
    run_transition(records, "order", order["id"], "finish", order["_version"])
    after = records.get("order", order["id"])
    assert after["status"] == "done" and after["closed_by"] == "olga"
    assert [r["text"] for r in records.list("log").rows] == ["O1 finished by olga"]
    [run] = runs(wired)
    assert (run["event"], run["outcome"]) == ("transition", "ok")
    assert run["inputs"]["record"]["closed_by"] is None  # the record as it triggered, before set
    assert run["inputs"]["extra"] == {"transition": "finish", "from": "open", "to": "done"}


SCHEDULE_APP = """
slug: demo
tables:
  - name: reminder
    fields:
      - {name: text, type: text}
      - {name: due, type: date}
automations:
  - name: shift_check
    trigger: {event: schedule, every_minutes: 10}
    actions:
      - create: {table: reminder, values: {text: "'check the coolant'", due: "today()"}}
"""


@pytest.mark.parametrize("mode, started", [("sync", "ok"), ("background", "queued")])
def test_a_scheduled_automation_runs_when_due_and_not_before(wired, mode, started):
    doc = __import__("yaml").safe_load(SCHEDULE_APP)
    doc["automations"][0]["mode"] = mode
    wired.publish(doc)
    t0 = dt.datetime(2026, 3, 2, 8, 0)
    assert [r["outcome"] for r in automations.run_due_schedules(wired.app, t0)] == [started]
    wait_for_jobs(wired.db)
    assert automations.run_due_schedules(wired.app, t0 + dt.timedelta(minutes=9, seconds=59)) == []
    assert [r["outcome"] for r in automations.run_due_schedules(wired.app, t0 + dt.timedelta(minutes=10))] == [started]
    wait_for_jobs(wired.db)
    reminders = records_as(wired).list("reminder").rows
    assert [r["text"] for r in reminders] == ["check the coolant"] * 2 and reminders[0]["due"] is not None
    assert [(r["event"], r["outcome"], r["started_at"]) for r in runs(wired)] == [
        ("schedule", "ok", t0), ("schedule", "ok", t0 + dt.timedelta(minutes=10))]


def test_a_failing_scheduled_run_is_logged_and_waits_for_its_next_turn(wired):
    doc = __import__("yaml").safe_load(SCHEDULE_APP)
    doc["automations"][0]["actions"].append({"notify": {"user": "nobody", "message": "'coolant'"}})
    wired.publish(doc)
    t0 = dt.datetime(2026, 3, 2, 8, 0)
    assert [r["outcome"] for r in automations.run_due_schedules(wired.app, t0)] == ["failed"]
    assert automations.run_due_schedules(wired.app, t0 + dt.timedelta(minutes=1)) == []
    [run] = runs(wired)
    assert run["outcome"] == "failed" and "no active user 'nobody'" in run["message"]
    assert records_as(wired).list("reminder").total == 0


class OneTick(threading.Event):
    """A stop event that ends ``scheduler_loop`` after its first tick."""

    def wait(self, timeout=None):
        self.set()
        return True


def test_scheduler_loop_runs_due_schedules(wired):
    wired.publish(SCHEDULE_APP)
    automations.scheduler_loop(wired.app, interval=1, stop=OneTick())
    assert records_as(wired).list("reminder").total == 1
    assert [r["outcome"] for r in runs(wired)] == ["ok"]


def test_notify_a_user_by_name_and_an_unknown_user_fails_the_write(wired):
    with wired.db.write() as conn:
        users.create_user(conn, "sam", None, roles=("operator",))
    doc = {"slug": "demo", "tables": [{"name": "alarm", "fields": [{"name": "text", "type": "text"}]}],
           "automations": [{"name": "tell_sam", "trigger": {"event": "created", "table": "alarm"},
                            "actions": [{"notify": {"user": "sam", "message": "'Alarm: ' & text"}}]}]}
    wired.publish(doc)
    records_as(wired).create("alarm", {"text": "spindle hot"})
    from runtime import notifications
    with wired.db.read() as conn:
        sam = conn.execute(sa.text("select id from takt_users where username = 'sam'")).scalar()
        assert [n["message"] for n in notifications.list_for(conn, sam)] == ["Alarm: spindle hot"]
    doc["automations"][0]["actions"][0]["notify"]["user"] = "nobody"
    wired.publish(doc)
    with pytest.raises(ValidationFailed, match="no active user 'nobody'"):
        records_as(wired).create("alarm", {"text": "again"})
    assert records_as(wired).list("alarm").total == 1


def test_block_actions_run_with_the_record_and_params_and_a_missing_one_fails(wired, monkeypatch):
    from runtime import workflow
    calls = []
    monkeypatch.setitem(workflow.BLOCK_ACTIONS, "qa.stamp",
                        lambda records, conn, tdef, record, params: calls.append(
                            (records.actor.username, tdef.name, record["text"], params)))
    doc = {"slug": "demo", "tables": [{"name": "alarm", "fields": [{"name": "text", "type": "text"}]}],
           "automations": [{"name": "stamp", "trigger": {"event": "created", "table": "alarm"},
                            "actions": [{"block_action": {"action": "qa.stamp", "params": {"level": 2}}}]}]}
    wired.publish(doc)
    records_as(wired).create("alarm", {"text": "hot"})
    assert calls == [("automation:stamp", "alarm", "hot", {"level": 2})]
    doc["automations"][0]["actions"][0]["block_action"]["action"] = "qa.missing"
    wired.publish(doc)
    with pytest.raises(ValidationFailed, match="block action 'qa.missing' is not installed"):
        records_as(wired).create("alarm", {"text": "again"})
