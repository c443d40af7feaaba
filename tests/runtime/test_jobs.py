"""Background jobs in both shapes: threads in-process, and real RQ on Redis."""
from __future__ import annotations

import json
import time
import uuid

import pytest

from runtime import jobs
from runtime.db import get_db
from tests.conftest import REDIS_URL, make_flask_app, require_server

APP = """
slug: demo
tables:
  - name: part
    fields:
      - {name: code, type: text, required: true, unique: true}
      - {name: qty, type: integer}
"""


def write_rows(tmp_path, rows):
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return str(path)


def wait_for(app, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = jobs.job_status(app, job_id)
        if status["status"] in ("done", "failed", "cancelled"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {status}")


def test_in_process_job_imports_and_reports_progress(takt, tmp_path):
    takt.publish(APP)
    path = write_rows(tmp_path, [{"code": f"P{i}", "qty": i} for i in range(5000)])
    job_id = jobs.enqueue(takt.app, "import_rows", {"app": "demo", "table": "part", "path": path})
    status = wait_for(takt.app, job_id)
    assert status["status"] == "done" and status["done"] == 5000 and status["total"] == 5000
    assert status["result"]["inserted"] == 5000
    assert takt.records().list("part").total == 5000


def test_failed_job_keeps_the_row_errors_and_writes_nothing(takt, tmp_path):
    takt.publish(APP)
    path = write_rows(tmp_path, [{"code": "A", "qty": 1}, {"code": "A", "qty": "x"}, {"qty": 3}])
    job_id = jobs.enqueue(takt.app, "import_rows", {"app": "demo", "table": "part", "path": path})
    status = wait_for(takt.app, job_id)
    assert status["status"] == "failed" and "nothing was imported" in status["error"]
    messages = [d["message"] for d in status["result"]["details"]]
    assert any("not a whole number" in m for m in messages) and any("is required" in m for m in messages)
    assert takt.records().list("part").total == 0


@pytest.mark.redis
def test_job_runs_through_real_rq_on_redis(database_url, tmp_path, monkeypatch):
    require_server("redis")
    from rq import SimpleWorker

    queue_name = f"takt-test-{uuid.uuid4().hex[:8]}"
    settings = {"DATABASE_URL": database_url, "TAKT_INSTANCE_PATH": str(tmp_path / "instance"),
                "TAKT_SECRET_KEY": "test", "REDIS_URL": REDIS_URL, "TAKT_RQ_QUEUE": queue_name}
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    app = make_flask_app(database_url, tmp_path, REDIS_URL=REDIS_URL, RQ_QUEUE=queue_name)
    from tests.conftest import TaktHarness
    takt = TaktHarness(app)
    takt.publish(APP)
    path = write_rows(tmp_path, [{"code": f"R{i}", "qty": i} for i in range(300)])
    job_id = jobs.enqueue(app, "import_rows", {"app": "demo", "table": "part", "path": path})
    queue = jobs.queue(app)
    assert queue.count == 1 and jobs.job_status(app, job_id)["status"] == "queued"
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    status = jobs.job_status(app, job_id)
    assert status["status"] == "done" and status["result"]["inserted"] == 300
    assert takt.records().list("part").total == 300
    queue.delete(delete_jobs=True)
