"""Background jobs: RQ workers on Redis when ``REDIS_URL`` is set, threads otherwise.

Either way the job's state lives in ``takt_jobs`` (status, rows done of total,
result, error), so any web process can show progress and a cancel request
reaches the job wherever it runs: the job polls ``cancelled()`` between batches.
"""
from __future__ import annotations

import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa

from .db import get_db
from .models import Job, utcnow

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
        with self.database.write() as conn:
            conn.execute(sa.update(Job).where(Job.id == self.job_id).values(**values))

    def cancelled(self) -> bool:
        with self.database.read() as conn:
            return bool(conn.execute(sa.select(Job.cancel_requested).where(Job.id == self.job_id)).scalar())


def init_app(app) -> None:
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
        _finish(database, job_id, "done", result=result)
    except JobCancelled as err:
        _finish(database, job_id, "cancelled", error=str(err) or "cancelled")
    except Exception as err:  # a job must always end with a status a person can read
        status = "cancelled" if type(err).__name__ == "Cancelled" else "failed"
        message = getattr(err, "message", None) or str(err) or type(err).__name__
        result = getattr(getattr(err, "result", None), "__dict__", None)
        _finish(database, job_id, status, error=message,
                result=_jsonable(result) if result else {"trace": traceback.format_exc(limit=5)} if status == "failed" else None)


def _jsonable(result: dict) -> dict:
    from .fieldtypes import dumps
    import json
    return json.loads(dumps({k: [e.as_dict() if hasattr(e, "as_dict") else e for e in v] if isinstance(v, list) else v
                             for k, v in result.items()}))


def _finish(database, job_id, status, result=None, error=None):
    with database.write() as conn:
        conn.execute(sa.update(Job).where(Job.id == job_id).values(
            status=status, result=result, error=error, finished_at=utcnow()))


def job_status(database, job_id: str) -> dict | None:
    with database.read() as conn:
        row = conn.execute(sa.select(Job).where(Job.id == job_id)).mappings().first()
    return dict(row) if row else None


def request_cancel(database, job_id: str) -> bool:
    with database.write() as conn:
        return conn.execute(sa.update(Job).where(Job.id == job_id, Job.status.in_(("queued", "running")))
                            .values(cancel_requested=True)).rowcount == 1
