"""Background jobs: RQ workers on Redis when ``REDIS_URL`` is set, threads otherwise.

Either way the job's state lives in ``takt_jobs`` (status, rows done of total,
result, error), so any web process can show progress and a cancel request
reaches the job wherever it runs: the job polls ``cancelled()`` between batches.
"""
from __future__ import annotations

import json
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa

from .db import get_db
from .fieldtypes import dumps
from .models import Job, utcnow
from .record_checks import RecordError
from .records_bulk import Cancelled

HANDLERS: dict = {}


def handler(kind: str):
    """Register the function that runs jobs of ``kind``: fn(ctx, params) -> result dict."""
    def register(fn):
        HANDLERS[kind] = fn
        return fn
    return register


class JobCancelled(Exception):
    pass


@dataclass
class JobContext:
    app: object
    job_id: str
    user: str | None = None

    @property
    def database(self):
        return get_db(self.app)

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        values = {"done": done}
        if total is not None:
            values["total"] = total
        if message is not None:
            values["message"] = message
        if self.database.is_sqlite:
            # SQLite has one writer; the job's own import transaction holds it. The embedded
            # shape is a single process, so progress lives in memory until the job ends.
            _memory(self.app).setdefault(self.job_id, {}).update(values)
            return
        with self.database.write() as conn:
            conn.execute(sa.update(Job).where(Job.id == self.job_id).values(**values))

    def cancelled(self) -> bool:
        if _memory(self.app).get(self.job_id, {}).get("cancel_requested"):
            return True
        with self.database.read() as conn:
            return bool(conn.execute(sa.select(Job.cancel_requested).where(Job.id == self.job_id)).scalar())


def _memory(app) -> dict:
    return app.extensions.setdefault("takt.job_memory", {})


def init_app(app) -> None:
    from . import bulk_jobs  # noqa: F401 - registers the record service's job kinds
    from .xlsx import jobs as _xlsx_jobs  # noqa: F401 - and the Excel import/export ones
    if not app.config["REDIS_URL"]:
        app.extensions["takt.jobs"] = ThreadPoolExecutor(max_workers=app.config["JOB_THREADS"],
                                                         thread_name_prefix="takt-job")


def queue(app):
    from redis import Redis
    from rq import Queue
    return Queue(app.config["RQ_QUEUE"], connection=Redis.from_url(app.config["REDIS_URL"]))


def enqueue(app, kind: str, params: dict, user: str | None = None) -> str:
    if kind not in HANDLERS:
        raise ValueError(f"unknown job kind '{kind}'")
    job_id = str(uuid.uuid4())
    with get_db(app).write() as conn:
        conn.execute(sa.insert(Job).values(id=job_id, kind=kind, status="queued", params=params,
                                           created_by=user, created_at=utcnow()))
    if app.config["REDIS_URL"]:
        queue(app).enqueue("runtime.jobs.run_in_worker", job_id, job_id=job_id, job_timeout=6 * 3600)
    else:
        app.extensions["takt.jobs"].submit(run, app, job_id)
    return job_id


def run_in_worker(job_id: str) -> None:
    """Entry point of an RQ worker: a fresh app from the worker's environment."""
    from .app import create_app
    run(create_app(), job_id)


def run(app, job_id: str) -> None:
    database = get_db(app)
    with database.write() as conn:
        row = conn.execute(sa.select(Job).where(Job.id == job_id)).mappings().one()
        conn.execute(sa.update(Job).where(Job.id == job_id).values(status="running", started_at=utcnow()))
    ctx = JobContext(app, job_id, row["created_by"])
    try:
        with app.app_context():
            result = HANDLERS[row["kind"]](ctx, row["params"])
        _finish(app, job_id, "done", result=result)
    except (JobCancelled, Cancelled) as err:
        _finish(app, job_id, "cancelled", error=str(err) or "cancelled")
    except RecordError as err:  # bad input: the message and row errors are the result
        _finish(app, job_id, "failed", error=err.message, result={"details": _jsonable(err.details[:1000])})
    except Exception as err:  # a job must always end with a status a person can read
        _finish(app, job_id, "failed", error=str(err) or type(err).__name__,
                result={"trace": traceback.format_exc(limit=5)})


def _jsonable(value):
    return json.loads(dumps(value))


def _finish(app, job_id, status, result=None, error=None):
    progress = {k: v for k, v in _memory(app).pop(job_id, {}).items() if k != "cancel_requested"}
    with get_db(app).write() as conn:
        conn.execute(sa.update(Job).where(Job.id == job_id).values(
            status=status, result=result, error=error, finished_at=utcnow(), **progress))


def job_status(app, job_id: str) -> dict | None:
    with get_db(app).read() as conn:
        row = conn.execute(sa.select(Job).where(Job.id == job_id)).mappings().first()
    if row is None:
        return None
    return {**row, **{k: v for k, v in _memory(app).get(job_id, {}).items() if k != "cancel_requested"}}


def request_cancel(app, job_id: str) -> bool:
    status = job_status(app, job_id)
    if status is None or status["status"] not in ("queued", "running"):
        return False
    if job_id in _memory(app) or (get_db(app).is_sqlite and status["status"] == "running"):
        _memory(app).setdefault(job_id, {})["cancel_requested"] = True
        return True
    with get_db(app).write() as conn:
        return conn.execute(sa.update(Job).where(Job.id == job_id, Job.status.in_(("queued", "running")))
                            .values(cancel_requested=True)).rowcount == 1
