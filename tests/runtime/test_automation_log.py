"""The automation run log page: every run with its outcome, for builders only."""
from __future__ import annotations

import pytest

from runtime import automations
from runtime.definition import load_document
from runtime.users import create_user


@pytest.fixture
def client(takt):
    automations.init_app(takt.app)
    takt.publish(load_document("example_apps/machining.yaml"))
    records = takt.records("machining")
    records.create("product", {"code": "P1", "name": "shaft"})
    order = records.create("work_order", {"product": "P1", "quantity": 3, "line": "line_1"})
    records.create("inspection", {"work_order": order["id"], "kind": "final", "measured": "11.000"})
    with takt.db.write() as conn:
        create_user(conn, "eng", "long-enough", ["engineer"])
        create_user(conn, "op", "long-enough", ["operator"])
    return takt.app.test_client()


def sign_in(client, user):
    client.get("/login")
    with client.session_transaction() as session:
        token = session["csrf_token"]
    client.post("/login", data={"username": user, "password": "long-enough", "csrf_token": token})


def test_engineer_sees_the_failed_inspection_run(client):
    sign_in(client, "eng")
    page = client.get("/apps/machining/automations/runs")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "A failed inspection notifies the supervisor" in text and ">ok<" in text
    assert client.get("/apps/machining/automations/runs?outcome=failed").get_data(as_text=True).count("<tr class=") == 0


def test_operator_may_not_read_the_log(client):
    sign_in(client, "op")
    assert client.get("/apps/machining/automations/runs").status_code == 403
