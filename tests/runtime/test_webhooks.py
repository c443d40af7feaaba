"""Outbound webhooks against a real HTTP server on 127.0.0.1, in-process and through real RQ."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
import yaml

from runtime import automations, jobs, service, webhooks
from runtime.db import get_db
from runtime.models import Job
from runtime.models_automation import WebhookAttempt, WebhookDelivery
from runtime.permissions import Actor
from runtime.records import ValidationFailed
from runtime.workflow import run_transition
from tests.conftest import REDIS_URL, make_flask_app, require_server
from tests.runtime.test_automations import wait_for_jobs

SECRET = "s3cret"


class Receiver:
    """Records every POST; answers with the queued status codes, then 200."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "body": body,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def json(self, i=0) -> dict:
        return json.loads(self.requests[i]["body"])


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def app_yaml(url: str) -> str:
    return f"""
slug: demo
tables:
  - name: part
    fields:
      - {{name: code, type: text, required: true}}
      - {{name: qty, type: integer}}
      - {{name: status, type: select, options: [new, released]}}
    webhooks:
      - {{url: "{url}", events: [created, transition], secret: {SECRET}}}
      - {{url: "{url}?plain", events: [deleted]}}
workflows:
  - name: part_flow
    table: part
    field: status
    states: [{{name: new}}, {{name: released}}]
    transitions:
      - {{name: release, from: new, to: released}}
"""


@pytest.fixture
def hooked(takt, receiver):
    automations.init_app(takt.app)
    webhooks.init_app(takt.app)
    takt.app.config["WEBHOOK_RETRY_DELAYS"] = (0, 0.01, 0.02)
    takt.publish(app_yaml(receiver.url))
    return takt, service.records_for(takt.app, "demo", Actor.system("test"))


def republish(takt, doc):
    takt.publish(doc)
    return service.records_for(takt.app, "demo", Actor.system("test"))


def job_row(database, job_id) -> dict:
    with database.read() as conn:
        return dict(conn.execute(sa.select(Job).where(Job.id == job_id)).mappings().one())


def deliveries(takt) -> list[dict]:
    with takt.db.read() as conn:
        return [dict(r) for r in conn.execute(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).mappings()]


def attempts(takt) -> list[tuple]:
    with takt.db.read() as conn:
        return conn.execute(sa.select(WebhookAttempt.attempt, WebhookAttempt.status_code, WebhookAttempt.error)
                            .order_by(WebhookAttempt.id)).all()


def test_created_record_is_posted_with_body_and_signature(hooked, receiver):
    takt, records = hooked
    part = records.create("part", {"code": "P1", "qty": 4})
    records.update("part", part["id"], {"qty": 5}, version=part["_version"])  # no webhook listens to updates
    wait_for_jobs(takt.db)
    [request] = receiver.requests
    body = receiver.json()
    assert body["event"] == "created" and body["app"] == "demo" and body["table"] == "part"
    assert body["record"]["id"] == part["id"] and body["record"]["code"] == "P1" and body["record"]["qty"] == 4
    assert "transition" not in body
    expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["x-takt-signature"] == expected
    assert request["headers"]["content-type"].startswith("application/json")
    assert request["headers"]["x-takt-event"] == "created"
    [delivery] = deliveries(takt)
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1 and delivery["job_id"]
    assert attempts(takt) == [(1, 200, None)]


def test_transition_and_delete_payloads(hooked, receiver):
    takt, records = hooked
    part = records.create("part", {"code": "P1"})
    released = run_transition(records, "part", part["id"], "release", part["_version"])
    records.delete("part", part["id"], version=released["_version"])
    wait_for_jobs(takt.db)
    by_event = {json.loads(r["body"])["event"]: r for r in receiver.requests}
    assert set(by_event) == {"created", "transition", "deleted"}
    moved = json.loads(by_event["transition"]["body"])
    assert moved["transition"] == {"name": "release", "from": "new", "to": "released"}
    assert moved["record"]["status"] == "released"
    gone = by_event["deleted"]
    assert gone["path"] == "/hook?plain" and "x-takt-signature" not in gone["headers"]  # no secret, no signature
    assert json.loads(gone["body"])["record"]["code"] == "P1"


def test_a_rolled_back_write_sends_nothing(hooked, receiver):
    takt, records = hooked
    doc = yaml.safe_load(app_yaml(receiver.url))
    doc["automations"] = [{"name": "refuse", "trigger": {"event": "created", "table": "part"},
                           "actions": [{"notify": {"user": "nobody", "message": "'x'"}}]}]
    records = republish(takt, doc)
    with pytest.raises(ValidationFailed, match="automation 'refuse' failed"):
        records.create("part", {"code": "P1"})
    wait_for_jobs(takt.db)
    assert deliveries(takt) == [] and receiver.requests == []
    assert takt.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_a_failing_endpoint_is_retried_and_every_attempt_logged(hooked, receiver):
    takt, records = hooked
    receiver.answers[:] = [500, 502, 503]
    records.create("part", {"code": "P1"})
    wait_for_jobs(takt.db)
    assert len(receiver.requests) == 3
    assert [(n, code) for n, code, _ in attempts(takt)] == [(1, 500), (2, 502), (3, 503)]
    assert all(error.startswith("HTTP 5") for _, _, error in attempts(takt))
    [delivery] = deliveries(takt)
    assert delivery["status"] == "failed" and delivery["attempts"] == 3 and delivery["finished_at"] is not None
    job = job_row(takt.db, delivery["job_id"])
    assert job["status"] == "failed" and "failed after 3 attempt(s)" in job["error"]


@pytest.mark.parametrize("answers, logged, status", [
    ([503], [(1, 503), (2, 200)], "delivered"),  # a server error is retried
    ([410], [(1, 410)], "failed"),               # a refusal is final
])
def test_retry_stops_at_success_or_refusal(hooked, receiver, answers, logged, status):
    takt, records = hooked
    receiver.answers[:] = answers
    records.create("part", {"code": "P1"})
    wait_for_jobs(takt.db)
    assert [(n, code) for n, code, _ in attempts(takt)] == logged
    assert deliveries(takt)[0]["status"] == status


def test_an_unreachable_endpoint_logs_the_error(hooked):
    takt, records = hooked
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    doc = yaml.safe_load(app_yaml(f"http://127.0.0.1:{port}/hook"))
    records = republish(takt, doc)
    records.create("part", {"code": "P1"})
    wait_for_jobs(takt.db)
    logged = attempts(takt)
    assert [(n, code) for n, code, _ in logged] == [(1, None), (2, None), (3, None)]
    assert all("refused" in error.lower() for _, _, error in logged)


def test_an_automation_webhook_action_posts_after_the_commit(hooked, receiver):
    takt, records = hooked
    doc = yaml.safe_load(app_yaml(receiver.url))
    doc["tables"][0].pop("webhooks")
    doc["automations"] = [{"name": "tell_erp", "trigger": {"event": "created", "table": "part", "condition": "qty > 10"},
                           "actions": [{"webhook": {"url": receiver.url + "?erp", "secret": "erp-key"}}]}]
    records = republish(takt, doc)
    records.create("part", {"code": "small", "qty": 1})
    records.create("part", {"code": "big", "qty": 50})
    wait_for_jobs(takt.db)
    [request] = receiver.requests
    body = json.loads(request["body"])
    assert request["path"] == "/hook?erp" and body["automation"] == "tell_erp" and body["record"]["code"] == "big"
    assert request["headers"]["x-takt-signature"] == \
        "sha256=" + hmac.new(b"erp-key", request["body"], hashlib.sha256).hexdigest()


def test_pending_deliveries_are_dispatched_again(hooked, receiver, monkeypatch):
    takt, records = hooked
    monkeypatch.setattr(jobs, "enqueue", lambda *a, **k: (_ for _ in ()).throw(ConnectionError("redis down")))
    records.create("part", {"code": "P1"})  # the write succeeds although the queue is down
    assert [d["status"] for d in deliveries(takt)] == ["pending"]
    monkeypatch.undo()
    import datetime as dt
    assert webhooks.dispatch_pending(takt.app, older_than=dt.timedelta(0)) == 1
    wait_for_jobs(takt.db)
    assert [d["status"] for d in deliveries(takt)] == ["delivered"] and len(receiver.requests) == 1


@pytest.mark.redis
def test_a_webhook_job_runs_through_real_rq(database_url, tmp_path, monkeypatch, receiver):
    require_server("redis")
    queue_name = f"takt-test-{uuid.uuid4().hex[:12]}"
    app = make_flask_app(database_url, tmp_path, REDIS_URL=REDIS_URL, RQ_QUEUE=queue_name)
    for name, value in (("DATABASE_URL", database_url), ("TAKT_INSTANCE_PATH", str(tmp_path / "instance")),
                        ("TAKT_SECRET_KEY", "test"), ("REDIS_URL", REDIS_URL)):
        monkeypatch.setenv(name, value)
    automations.init_app(app)
    webhooks.init_app(app)
    from runtime.publish import publish
    publish(get_db(app), yaml.safe_load(app_yaml(receiver.url)), user="test")
    queue = jobs.queue(app)
    try:
        part = service.records_for(app, "demo", Actor.system("test")).create("part", {"code": "P1"})
        assert queue.count == 1 and receiver.requests == []  # queued on Redis, not run in-process
        from rq import SimpleWorker
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        [request] = receiver.requests
        assert json.loads(request["body"])["record"]["id"] == part["id"]
        with get_db(app).read() as conn:
            delivery = conn.execute(sa.select(WebhookDelivery)).mappings().one()
        assert delivery["status"] == "delivered"
        assert job_row(get_db(app), delivery["job_id"])["status"] == "done"
    finally:
        queue.delete(delete_jobs=True)
        get_db(app).dispose()
