"""The workflow engine over the example app's work-order flow."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from runtime.definition import load_document
from runtime.models import AuditEntry
from runtime.permissions import Actor
from runtime.records import Conflict, Forbidden, ValidationFailed
from runtime.workflow import available, run_transition


@pytest.fixture
def shop(takt):
    takt.publish(load_document("example_apps/machining.yaml"))
    records = takt.records("machining")
    records.create("product", {"code": "P1", "name": "shaft", "unit_price": 2})
    order = records.create("work_order", {"product": "P1", "quantity": 10, "line": "line_1"})
    return takt, order


def test_transition_sets_state_and_fields_and_is_audited(shop):
    takt, order = shop
    operator = takt.records("machining", Actor(3, "op", frozenset({"operator"}), {"line": "line_1"}))
    names = [t["name"] for t in available(operator, operator.table("work_order"), order)]
    assert names == ["start"]
    after = run_transition(operator, "work_order", order["id"], "start", order["_version"])
    assert after["status"] == "in_progress" and after["started_at"] is not None and after["_version"] == 2
    with takt.db.read() as conn:
        entry = conn.execute(sa.select(AuditEntry).where(AuditEntry.action == "transition")).mappings().one()
    assert entry["changes"]["transition"] == "start" and entry["username"] == "op"


def test_refusals_say_why(shop):
    takt, order = shop
    operator = takt.records("machining", Actor(3, "op", frozenset({"operator"}), {"line": "line_1"}))
    with pytest.raises(Forbidden, match="needs one of the roles"):
        run_transition(operator, "work_order", order["id"], "hold", 1)
    with pytest.raises(Conflict, match="cannot run now"):
        run_transition(operator, "work_order", order["id"], "complete", 1)
    started = run_transition(operator, "work_order", order["id"], "start", 1)
    with pytest.raises(ValidationFailed, match="Report all pieces first"):
        run_transition(operator, "work_order", order["id"], "complete", started["_version"])
    with pytest.raises(Conflict, match="changed by someone else"):
        run_transition(takt.records("machining"), "work_order", order["id"], "hold", 1)


def test_state_field_cannot_be_written_directly(shop):
    takt, order = shop
    with pytest.raises(ValidationFailed, match="only through workflow transitions"):
        takt.records("machining").update("work_order", order["id"], {"status": "closed"}, version=1)


def test_operator_of_another_line_cannot_see_or_run(shop):
    takt, order = shop
    other = takt.records("machining", Actor(4, "op2", frozenset({"operator"}), {"line": "line_2"}))
    from runtime.records import NotFound
    with pytest.raises(NotFound):
        run_transition(other, "work_order", order["id"], "start", 1)


def test_transition_notify_and_update_actions_run_in_its_transaction(takt):
    import yaml

    from runtime.models_automation import Notification
    from runtime.users import create_user
    doc = yaml.safe_load("""
slug: demo
roles: [{name: lead}]
tables:
  - name: job
    fields:
      - {name: title, type: text}
      - {name: state, type: select, options: [open, done]}
  - name: log
    fields:
      - {name: job_title, type: text}
      - {name: seen, type: boolean}
workflows:
  - name: flow
    table: job
    states: [{name: open}, {name: done}]
    transitions:
      - name: finish
        from: open
        to: done
        actions:
          - notify: {role: lead, message: "'done: ' & title"}
          - update: {table: log, where: {job_title: "title"}, values: {seen: "true"}}
""")
    takt.publish(doc)
    with takt.db.write() as conn:
        create_user(conn, "lead1", "long-enough", ["lead"])
    records = takt.records()
    job = records.create("job", {"title": "J1"})
    records.create("log", {"job_title": "J1", "seen": False})
    with takt.app.app_context():
        run_transition(records, "job", job["id"], "finish", job["_version"])
    assert records.list("log").rows[0]["seen"] is True
    with takt.db.read() as conn:
        assert conn.execute(sa.select(Notification.message)).scalars().all() == ["done: J1"]
