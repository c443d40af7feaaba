"""Notifications: written by the example app's automation, read through functions, API and page."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from runtime import automations, notifications, service, users, webhooks
from runtime.definition import load_document
from runtime.models import User
from runtime.permissions import Actor


@pytest.fixture
def shop(takt):
    """The machining example with two supervisors, an inactive one and an operator."""
    automations.init_app(takt.app)
    webhooks.init_app(takt.app)
    takt.publish(load_document("example_apps/machining.yaml"))
    with takt.db.write() as conn:
        ids = {name: users.create_user(conn, name, None, roles=roles) for name, roles in (
            ("sue", ("supervisor",)), ("sid", ("supervisor", "inspector")), ("old", ("supervisor",)),
            ("otto", ("operator",)))}
        conn.execute(sa.update(User).where(User.id == ids["old"]).values(is_active=False))
    records = service.records_for(takt.app, "machining", Actor.system("test"))
    records.create("product", {"code": "P1", "name": "shaft"})
    order = records.create("work_order", {"product": "P1", "quantity": 10, "line": "line_1"})
    return takt, ids, records, order


def fail_inspection(records, order):
    return records.create("inspection", {"work_order": order["id"], "kind": "final", "measured": "10.2"})


def test_notify_role_gives_each_active_user_of_the_role_an_unread_notification(shop):
    takt, ids, records, order = shop
    inspection = fail_inspection(records, order)
    records.create("inspection", {"work_order": order["id"], "kind": "final", "measured": "10.0"})  # a pass
    with takt.db.read() as conn:
        for name in ("sue", "sid"):
            [note] = notifications.list_for(conn, ids[name])
            assert note["message"] == f"Inspection failed on work order #{order['id']} (P1)"
            assert (note["app_slug"], note["table_name"], note["record_id"]) == ("machining", "inspection", inspection["id"])
            assert note["source"] == "automation:failed_inspection_holds_order" and note["read_at"] is None
            assert notifications.unread_count(conn, ids[name]) == 1
        assert notifications.list_for(conn, ids["otto"]) == [] and notifications.list_for(conn, ids["old"]) == []


def test_mark_read_touches_only_the_users_own_notifications(shop):
    takt, ids, records, order = shop
    fail_inspection(records, order)
    fail_inspection(records, order)
    with takt.db.write() as conn:
        first, second = (n["id"] for n in notifications.list_for(conn, ids["sue"]))
        assert notifications.mark_read(conn, ids["sid"], [first]) == 0  # not sid's
        assert notifications.mark_read(conn, ids["sue"], [first]) == 1
        assert notifications.unread_count(conn, ids["sue"]) == 1
        assert [n["id"] for n in notifications.list_for(conn, ids["sue"], unread_only=True)] == [second]
        assert notifications.mark_read(conn, ids["sue"]) == 1
        assert notifications.unread_count(conn, ids["sue"]) == 0 and notifications.unread_count(conn, ids["sid"]) == 2


def test_api_lists_with_the_unread_count_and_marks_read(shop):
    takt, ids, records, order = shop
    fail_inspection(records, order)
    fail_inspection(records, order)
    with takt.db.write() as conn:
        token = users.create_token(conn, ids["sue"], "bell")
    client = takt.app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    body = client.get("/api/v1/notifications", headers=auth).get_json()
    assert body["unread"] == 2 and len(body["notifications"]) == 2
    newest = body["notifications"][0]
    assert newest["message"].startswith("Inspection failed") and newest["read"] is False and newest["table"] == "inspection"
    marked = client.post("/api/v1/notifications/read", json={"ids": [newest["id"]]}, headers=auth).get_json()
    assert marked == {"marked": 1, "unread": 1}
    assert len(client.get("/api/v1/notifications?unread=1", headers=auth).get_json()["notifications"]) == 1
    assert client.post("/api/v1/notifications/read", json={"ids": "all"}, headers=auth).status_code == 400
    assert client.post("/api/v1/notifications/read", json={}, headers=auth).get_json() == {"marked": 1, "unread": 0}
    refused = client.get("/api/v1/notifications")
    assert refused.status_code == 401 and "error" in refused.get_json()


def test_page_lists_notifications_and_marks_all_read(shop):
    takt, ids, records, order = shop
    fail_inspection(records, order)
    client = takt.app.test_client()
    assert client.get("/notifications").status_code == 302  # to the login page
    with client.session_transaction() as session:
        session["user_id"], session["csrf_token"] = ids["sid"], "token"
    page = client.get("/notifications")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"Inspection failed on work order #{order['id']} (P1)" in text and "1 unread" in text
    assert client.post("/notifications/read", data={}).status_code == 400  # no CSRF token
    done = client.post("/notifications/read", data={"csrf_token": "token"})
    assert done.status_code == 302
    with takt.db.read() as conn:
        assert notifications.unread_count(conn, ids["sid"]) == 0
    assert "unread" not in client.get("/notifications").get_data(as_text=True).split("<main")[1].split("</h1>")[0]
