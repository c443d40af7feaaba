"""Automations: "when this happens to a record (and this holds), do that".

A record hook matches every change against the live app's enabled automations
(event and table; for transitions the workflow and transition name), checks the
trigger's condition over the record and runs the actions:

- ``sync`` (default): in the transaction of the change. A failing action rolls
  the change back and surfaces as ``ValidationFailed`` naming the automation.
- ``background``: a ``queued`` run is recorded with the change; after the commit
  a job (kind ``automation``) runs the actions in a new transaction.

Values are expressions over the triggering record with ``current_user`` the
user who made the change; the writes themselves run as the system actor
``automation:<name>`` (so they are audited as such and pass permissions).
Every run is logged in ``takt_automation_runs``. An automation that triggers
itself again, directly or through others, is not run again: the chain of
automations running in this call stack (or job) is tracked, and the repeat is
logged as ``skipped_loop``, as is a chain deeper than ``MAX_CHAIN``.

Scheduled automations (``event: schedule``) run from ``run_due_schedules``,
which ``scheduler_loop`` calls every ``SCHEDULER_INTERVAL_SECONDS``.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import functools
import json
import logging
import threading
import time
import sqlalchemy as sa

from . import jobs, notifications, service, users, webhooks, workflow
from .db import get_db
from .expressions import ExpressionError, compile_expression
from .fieldtypes import FieldError, dumps, field_type
from .models import utcnow
from .models_automation import AutomationRun
from .permissions import Actor
from .record_checks import Issue, NotFound, RecordError, ValidationFailed
from .records import Records, serialize
from .store import list_apps, live_app

log = logging.getLogger(__name__)

MAX_CHAIN = 5
DEFAULT_SCHEDULER_INTERVAL = 30
#: Keys ("slug.name") of the automations running in this call stack, outermost first.
_CHAIN: contextvars.ContextVar[tuple] = contextvars.ContextVar("takt_automation_chain", default=())


class ActionFailed(Exception):
    def __init__(self, action: str, error: Exception):
        super().__init__(f"{action}: {describe(error)}")


class Run:
    """What one run of one automation works with."""

    def __init__(self, app, auto: dict, records, conn, tdef=None, record=None, event="schedule", extra=None):
        self.app, self.auto, self.records, self.conn = app, auto, records, conn
        self.tdef, self.record, self.event, self.extra = tdef, record, event, extra or {}
        self.writer = Records(records.database, records.live, Actor.system(f"automation:{auto['name']}"),
                              records.hooks)

    @property
    def slug(self) -> str:
        return self.records.live.slug

    @property
    def key(self) -> str:
        return f"{self.slug}.{self.auto['name']}"

    @functools.cached_property
    def inputs(self) -> dict:
        record = serialize(self.tdef, self.record, self.records.live) if self.record is not None else None
        actor = self.records.actor
        return _jsonable({"record": record, "extra": self.extra, "user_id": actor.user_id, "user": actor.username})

    def row(self, outcome: str, message: str | None = None, millis: int | None = None, started_at=None) -> dict:
        """The takt_automation_runs row of this run."""
        return {"app_slug": self.slug, "automation": self.auto["name"], "event": self.event,
                "mode": self.auto.get("mode", "sync"), "table_name": self.tdef.name if self.tdef else None,
                "record_id": self.record.get("id") if self.record else None, "inputs": self.inputs,
                "outcome": outcome, "message": message, "started_at": started_at or utcnow(), "duration_ms": millis}


def init_app(app) -> None:
    if app.extensions.get("takt.automations"):  # once per app: a second hook would run everything twice
        return
    app.extensions["takt.automations"] = True
    webhooks.install_transaction_callbacks(get_db(app).engine)
    service.register_hook(app, functools.partial(record_hook, app))


# -- triggering --------------------------------------------------------------
def record_hook(app, records, conn, change) -> None:
    """A record hook (see ``service.register_hook``): start every automation this change triggers."""
    record = change.after if change.after is not None else change.before
    for auto in triggered(records.live.appdef, change):
        change.touched = True  # actions may have changed the record: the caller reads it again
        start(Run(app, auto, records, conn, change.table, record, change.event, change.extra))


def triggered(appdef, change) -> list[dict]:
    return [a for a in appdef.doc.get("automations", []) if a.get("enabled", True) and _matches(a["trigger"], change)]


def _matches(trigger: dict, change) -> bool:
    if trigger["event"] != change.event:
        return False
    if change.event == "transition":
        flow = change.table.workflow() or {}
        wanted = (trigger.get("workflow"), trigger.get("transition"))
        return (flow.get("name"), change.extra.get("transition")) == wanted
    return trigger.get("table") == change.table.name


def start(run: Run) -> None:
    """Condition, loop check, then run now (sync) or queue (background)."""
    background = run.auto.get("mode") == "background"
    try:
        if not _condition_holds(run):
            return
    except Exception as err:
        message = f"condition: {describe(err)}"
        _failed(run, message, 0, in_transaction=background)
        if background:  # the change stands; only the run failed
            return
        raise _refusal(run, message) from err
    chain = _CHAIN.get()
    if run.key in chain or len(chain) >= MAX_CHAIN:
        _insert_run(run.conn, run.row("skipped_loop", _loop_message(chain, run.key)))
    elif background:
        _queue(run, chain)
    else:
        _run_sync(run, chain)


def _condition_holds(run: Run) -> bool:
    condition = run.auto["trigger"].get("condition")
    return condition is None or evaluate(run, condition, "boolean") is True


def _loop_message(chain: tuple, key: str) -> str:
    path = " → ".join(k.split(".", 1)[1] for k in (*chain, key))
    if key in chain:
        return f"loop stopped: {path} (automation '{key.split('.', 1)[1]}' is already running for this change)"
    return f"chain stopped: {path} is deeper than {MAX_CHAIN} automations"


def _run_sync(run: Run, chain: tuple) -> None:
    started = time.monotonic()
    run.inputs  # noqa: B018 - capture the record as it triggered, before a set action changes it
    try:
        summary = run_actions(run, chain)
    except Exception as err:
        message = describe(err)
        _failed(run, message, _millis(started), in_transaction=False)
        raise _refusal(run, message) from err
    _insert_run(run.conn, run.row("ok", summary, _millis(started)))


def _refusal(run: Run, message: str) -> ValidationFailed:
    """What the writer of the change sees when a sync run fails (the change is rolled back)."""
    return ValidationFailed([Issue(None, f"automation '{run.auto['name']}' failed: {message}")])


def _failed(run: Run, message: str, millis: int, in_transaction: bool) -> None:
    """Log a failed run: with the change, or apart once its transaction ended (it rolls back)."""
    row = run.row("failed", message, millis)
    if in_transaction:
        _insert_run(run.conn, row)
    else:
        webhooks.after_transaction(run.conn, functools.partial(_insert_apart, run.records.database, row))


def _queue(run: Run, chain: tuple) -> None:
    run_id = _insert_run(run.conn, run.row("queued"))
    params = {"run_id": run_id, "chain": list(chain)}
    webhooks.after_commit(run.conn, functools.partial(_enqueue, run.app, params, run.records.actor.username))


def _enqueue(app, params: dict, username: str) -> None:
    try:
        jobs.enqueue(app, "automation", params, username)
    except Exception as err:
        log.exception("could not queue automation run %s", params["run_id"])
        with get_db(app).write() as conn:
            _finish(conn, params["run_id"], "failed", f"could not queue the job: {describe(err)}", None)


# -- actions -----------------------------------------------------------------
def run_actions(run: Run, chain: tuple) -> str:
    """Run the automation's actions in order, with ``chain`` (the automations running around
    this one) extended by it; returns a one-line summary for the log."""
    done = []
    token = _CHAIN.set((*chain, run.key))
    try:
        for action in run.auto["actions"]:
            kind, spec = next(iter(action.items()))
            try:
                done.append(ACTIONS[kind](run, spec))
            except Exception as err:
                raise ActionFailed(_action_name(kind, spec), err) from err
    finally:
        _CHAIN.reset(token)
    return "; ".join(done)


def _action_name(kind: str, spec: dict) -> str:
    target = spec.get("table") or spec.get("role") or spec.get("user") or spec.get("url") or spec.get("action")
    return f"{kind} {target}" if kind != "set" and target else kind


def _set(run: Run, spec: dict) -> str:
    if run.record is None or run.event == "deleted":
        raise RecordError("set needs the triggering record, and a deleted record cannot be changed")
    values = assign(run, run.tdef, spec)
    version = run.record["_version"]
    run.record = run.writer._update(run.conn, run.tdef, run.record["id"], values, version)
    return f"set {', '.join(values)}"


def _create(run: Run, spec: dict) -> str:
    target = run.records.live.appdef.tables[spec["table"]]
    created = run.writer._create(run.conn, target, assign(run, target, spec["values"]))
    return f"created {target.name} #{created['id']}"


def _update(run: Run, spec: dict) -> str:
    target = run.records.live.appdef.tables[spec["table"]]
    where, values = assign(run, target, spec["where"]), assign(run, target, spec["values"])
    sql = run.writer.sql(target)
    matches = [sql.c[name].is_(None) if value is None else sql.c[name] == value for name, value in where.items()]
    rows = run.conn.execute(sa.select(sql.c.id, sql.c._version).where(*matches).order_by(sql.c.id)).all()
    for record_id, version in rows:
        run.writer._update(run.conn, target, record_id, values, version)
    return f"updated {len(rows)} {target.name} record(s)"


def _notify(run: Run, spec: dict) -> str:
    message = evaluate(run, spec["message"], "text")
    about = {"app_slug": run.slug, "table_name": run.tdef.name if run.tdef else None,
             "record_id": run.record.get("id") if run.record else None, "source": f"automation:{run.auto['name']}"}
    text, told = "" if message is None else str(message), []
    if "role" in spec:
        count = notifications.notify_role(run.conn, spec["role"], text, **about)
        told.append(f"{count} user(s) with role {spec['role']}")
    if "user" in spec:
        notifications.notify_user(run.conn, spec["user"], text, **about)
        told.append(f"user {spec['user']}")
    return "notified " + " and ".join(told)


def _webhook(run: Run, spec: dict) -> str:
    body = webhooks.payload(run.records.live, run.tdef, run.event, run.record, run.extra)
    body["automation"] = run.auto["name"]
    delivery = webhooks.queue_delivery(run.app, run.conn, spec["url"], spec.get("secret"), body,
                                       source=f"automation:{run.auto['name']}")
    return f"webhook delivery #{delivery} queued"


def _block_action(run: Run, spec: dict) -> str:
    action = workflow.BLOCK_ACTIONS.get(spec["action"])
    if action is None:
        raise RecordError(f"block action '{spec['action']}' is not installed")
    action(run.writer, run.conn, run.tdef, run.record, spec.get("params", {}))
    return f"ran {spec['action']}"


def run_transition_action(records, conn, tdef, record, transition: dict, action: dict) -> None:
    """A transition's update / notify / webhook action, run like an automation's, in its transaction."""
    from flask import current_app
    auto = {"name": f"transition_{transition['name']}", "actions": [action]}
    run = Run(current_app._get_current_object(), auto, records, conn, tdef, record, "transition",
              {"transition": transition["name"]})
    kind, spec = next(iter(action.items()))
    try:
        ACTIONS[kind](run, spec)
    except RecordError:
        raise
    except Exception as err:
        raise ValidationFailed([Issue(None, f"transition action {_action_name(kind, spec)} failed: {describe(err)}")]) from err


ACTIONS = {"set": _set, "create": _create, "update": _update, "notify": _notify, "webhook": _webhook,
           "block_action": _block_action}


# -- expressions -------------------------------------------------------------
def evaluate(run: Run, source: str, expect: str | None = None):
    """One expression over the triggering record (or over nothing, for a scheduled run)."""
    if run.tdef is None:
        return compile_expression(source, {}, expect=expect).evaluate({})
    return run.tdef.expression(source, expect).evaluate(workflow._values(run.records, run.conn, run.tdef, run.record))


def assign(run: Run, target, assignments: dict) -> dict:
    """{field: expression} evaluated into values for ``target``'s fields."""
    if run.tdef is not None:
        return workflow._evaluate_into(run.records, run.conn, run.tdef, target, assignments, run.record)
    values = {}
    for name, source in assignments.items():  # no record, so no scope: constants, today(), now()
        result, field = evaluate(run, source), target.fields[name]
        values[name] = field_type(field).coerce(field, result) if result is not None else None
    return values


def describe(err: Exception) -> str:
    """A message a plant engineer can act on."""
    if isinstance(err, RecordError):
        return err.message
    if isinstance(err, LookupError) and err.args:
        return str(err.args[0])
    if isinstance(err, (ActionFailed, ExpressionError, FieldError)):
        return str(err)
    log.error("automation step failed unexpectedly", exc_info=err)
    return f"{type(err).__name__}: {err}"


# -- background runs ---------------------------------------------------------
@jobs.handler("automation")
def _background_job(ctx, params) -> dict:
    return run_background(ctx.app, params["run_id"], tuple(params.get("chain", ())))


def run_background(app, run_id: int, chain: tuple = ()) -> dict:
    """Run a queued run's actions in a new transaction; mark it ok or failed (and raise)."""
    database = get_db(app)
    with database.read() as conn:
        row = conn.execute(sa.select(AutomationRun).where(AutomationRun.id == run_id)).mappings().first()
    if row is None:  # its change never committed after all
        return {"run_id": run_id, "outcome": "skipped", "message": "no such run"}
    started = time.monotonic()
    try:
        with database.write() as conn:
            summary = run_actions(_background_run(app, conn, row), chain)
            _finish(conn, run_id, "ok", summary, _millis(started))
    except Exception as err:
        message = describe(err)
        with database.write() as conn:
            _finish(conn, run_id, "failed", message, _millis(started))
        raise RecordError(f"automation '{row['automation']}' failed: {message}") from err
    return {"run_id": run_id, "outcome": "ok", "message": summary}


def _background_run(app, conn, row) -> Run:
    live = live_app(get_db(app), row["app_slug"], conn)
    auto = next((a for a in live.appdef.doc.get("automations", []) if a["name"] == row["automation"]), None)
    if auto is None:
        raise LookupError(f"automation '{row['automation']}' is no longer in the live version of '{live.slug}'")
    inputs = row["inputs"] or {}
    user_id = inputs.get("user_id")  # current_user: who made the change, if still active
    actor = users.actor(conn, user_id) if user_id is not None else None
    actor = actor or Actor.system(inputs.get("user") or "system")
    records = service.records_for(app, live.slug, actor)
    tdef = live.appdef.tables.get(row["table_name"]) if row["table_name"] else None
    record = _current(records, conn, tdef, row["record_id"], inputs.get("record"))
    run = Run(app, auto, records, conn, tdef, record, row["event"], inputs.get("extra"))
    run.inputs = inputs
    return run


def _current(records, conn, tdef, record_id, snapshot):
    """The record as it is now, or as it was (``snapshot``) if it is gone."""
    if tdef is None or record_id is None:
        return None
    try:
        return records._get(conn, tdef, record_id, action="read")
    except NotFound:
        return _from_json(tdef, snapshot or {"id": record_id})


def _from_json(tdef, data: dict) -> dict:
    record = dict(data)
    for name, field in tdef.fields.items():
        if record.get(name) is not None and field["type"] != "child_rows":
            try:
                record[name] = field_type(field).coerce(field, record[name])
            except FieldError:
                pass  # keep the JSON value: the expression reports what it cannot use
    return record


# -- scheduled runs ----------------------------------------------------------
def run_due_schedules(app, now: dt.datetime | None = None) -> list[dict]:
    """Run every enabled scheduled automation whose last run is ``every_minutes`` old or older.

    ``now`` is naive UTC (``models.utcnow()``); returns one {app, automation, outcome} per run started."""
    now = now or utcnow()
    database = get_db(app)
    with database.read() as conn:
        due = [(entry["slug"], auto) for entry in list_apps(conn) for auto in _scheduled(entry["definition"])
               if _is_due(conn, entry["slug"], auto, now)]
    return [_run_scheduled(app, slug, auto, now) for slug, auto in due]


def _scheduled(definition: dict | None) -> list[dict]:
    return [a for a in (definition or {}).get("automations", [])
            if a.get("enabled", True) and a["trigger"]["event"] == "schedule"]


def _is_due(conn, slug: str, auto: dict, now: dt.datetime) -> bool:
    last = conn.execute(sa.select(sa.func.max(AutomationRun.started_at)).where(
        AutomationRun.app_slug == slug, AutomationRun.automation == auto["name"],
        AutomationRun.event == "schedule")).scalar()
    return last is None or now - last >= dt.timedelta(minutes=auto["trigger"]["every_minutes"])


def _run_scheduled(app, slug: str, auto: dict, now: dt.datetime) -> dict:
    database = get_db(app)
    run = Run(app, auto, service.records_for(app, slug, Actor.system("scheduler")), None)
    run.inputs = {"now": now.isoformat(timespec="seconds")}
    started = time.monotonic()
    try:
        with database.write() as conn:
            run.conn = conn
            outcome = _scheduled_step(run, now, started)
    except Exception as err:
        _insert_apart(database, run.row("failed", describe(err), _millis(started), started_at=now))
        outcome = "failed"
    return {"app": slug, "automation": auto["name"], "outcome": outcome}


def _scheduled_step(run: Run, now: dt.datetime, started: float) -> str:
    if not _condition_holds(run):
        return "condition false"
    if run.auto.get("mode") == "background":
        run_id = _insert_run(run.conn, run.row("queued", started_at=now))
        webhooks.after_commit(run.conn, functools.partial(_enqueue, run.app, {"run_id": run_id, "chain": []},
                                                          "scheduler"))
        return "queued"
    _insert_run(run.conn, run.row("ok", run_actions(run, ()), _millis(started), started_at=now))
    return "ok"


def scheduler_loop(app, interval: float | None = None, stop: threading.Event | None = None) -> None:
    """Run due scheduled automations (and re-queue stuck webhook deliveries) until ``stop`` is set.

    For ``takt scheduler``: run exactly one per deployment, or scheduled runs may start twice."""
    interval = interval or app.config.get("SCHEDULER_INTERVAL_SECONDS", DEFAULT_SCHEDULER_INTERVAL)
    stop = stop or threading.Event()
    log.info("scheduler started: checking every %s s", interval)
    while not stop.is_set():
        try:
            for started in run_due_schedules(app):
                log.info("scheduled automation %(app)s.%(automation)s: %(outcome)s", started)
            webhooks.dispatch_pending(app)
        except Exception:  # a database restart must not end the scheduler
            log.exception("scheduler tick failed; trying again in %s s", interval)
        stop.wait(interval)


# -- the runs table ----------------------------------------------------------
def _insert_run(conn, row: dict) -> int:
    return conn.execute(sa.insert(AutomationRun).values(row).returning(AutomationRun.id)).scalar_one()


def _insert_apart(database, row: dict) -> None:
    with database.write() as conn:
        _insert_run(conn, row)


def _finish(conn, run_id: int, outcome: str, message: str | None, millis: int | None) -> None:
    conn.execute(sa.update(AutomationRun).where(AutomationRun.id == run_id).values(
        outcome=outcome, message=message, duration_ms=millis))


def _millis(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _jsonable(value):
    return json.loads(dumps(value))
