"""Outbound webhooks: a signed JSON POST per table event or automation action.

A write that should be announced records a delivery (status ``pending``) in its
own transaction; only once that transaction commits is the delivery handed to a
background job (``webhook``), so a rolled-back write sends nothing and the job
always finds its row. The job POSTs ``{event, app, table, record, transition?}``
with ``X-Takt-Signature: sha256=<HMAC-SHA256 of the body>`` when the webhook has
a secret, retries with backoff (``WEBHOOK_RETRY_DELAYS``) and logs every attempt,
with its status code or error, in ``takt_webhook_attempts``.

This module also holds the small "run this after the transaction" mechanism
(``after_commit``) that automations use to queue their background runs.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import http.client
import json
import logging
import time
import urllib.error
import urllib.request

import sqlalchemy as sa

from . import jobs, service
from .db import get_db
from .fieldtypes import dumps
from .models import utcnow
from .models_automation import WebhookAttempt, WebhookDelivery
from .records import serialize

log = logging.getLogger(__name__)

#: Seconds to wait before each attempt (the first is normally 0): 3 attempts by default.
DEFAULT_RETRY_DELAYS = (0, 2, 8)
#: Seconds one POST may take before it counts as failed.
DEFAULT_TIMEOUT = 10
SIGNATURE_HEADER = "X-Takt-Signature"


class DeliveryFailed(Exception):
    """Every attempt of a delivery failed; the job ends failed with this message."""


# -- after the transaction ---------------------------------------------------
# Callbacks are kept on the pooled connection's ``info`` until its transaction
# ends, then run when the connection goes back to the pool: after the COMMIT
# (SQLAlchemy's "commit" event fires just before it), when SQLite's write lock
# is free again, so a callback may open its own write transaction.
_PENDING, _READY = "takt.tx_pending", "takt.tx_ready"


def after_commit(conn, fn) -> None:
    """Call ``fn()`` once the transaction of ``conn`` has committed; never if it rolls back."""
    _register(conn, fn, ("commit",))


def after_transaction(conn, fn) -> None:
    """Call ``fn()`` once the transaction of ``conn`` has ended, committed or rolled back."""
    _register(conn, fn, ("commit", "rollback"))


def _register(conn, fn, outcomes) -> None:
    install_transaction_callbacks(conn.engine)
    conn.info.setdefault(_PENDING, []).append((outcomes, fn))


def install_transaction_callbacks(engine) -> None:
    if not sa.event.contains(engine, "checkin", _run_ready):
        sa.event.listen(engine, "commit", _committed)
        sa.event.listen(engine, "rollback", _rolled_back)
        sa.event.listen(engine, "checkin", _run_ready)


def _committed(conn) -> None:
    _transaction_ended(conn, "commit")


def _rolled_back(conn) -> None:
    _transaction_ended(conn, "rollback")


def _transaction_ended(conn, outcome) -> None:
    pending = conn.info.pop(_PENDING, None)
    if pending:
        conn.info.setdefault(_READY, []).extend(fn for outcomes, fn in pending if outcome in outcomes)


def _run_ready(dbapi_connection, connection_record) -> None:
    connection_record.info.pop(_PENDING, None)  # the pool's reset rolled these back
    for fn in connection_record.info.pop(_READY, []):
        try:
            fn()
        except Exception:  # the write itself succeeded; never fail it from here
            log.exception("after-transaction callback %r failed", fn)


# -- recording deliveries ----------------------------------------------------
def init_app(app) -> None:
    if app.extensions.get("takt.webhooks"):  # once per app: a second hook would run everything twice
        return
    app.extensions["takt.webhooks"] = True
    install_transaction_callbacks(get_db(app).engine)
    service.register_hook(app, functools.partial(record_hook, app))


def record_hook(app, records, conn, change) -> None:
    """A record hook: one delivery per table webhook listening to this event."""
    hooks = [h for h in change.table.doc.get("webhooks", []) if change.event in h["events"]]
    if not hooks:
        return
    record = change.after if change.after is not None else change.before
    body = payload(records.live, change.table, change.event, record, change.extra)
    for hook in hooks:
        queue_delivery(app, conn, hook["url"], hook.get("secret"), body, source=f"table:{change.table.name}")


def payload(live, tdef, event: str, record: dict | None, extra: dict | None = None) -> dict:
    """``{event, app, table, record, transition?}`` in JSON form."""
    body = {"event": event, "app": live.slug}
    if tdef is not None:
        body["table"] = tdef.name
        body["record"] = serialize(tdef, record, live) if record is not None else None
    if extra and extra.get("transition"):
        body["transition"] = {"name": extra["transition"], "from": extra.get("from"), "to": extra.get("to")}
    return json.loads(dumps(body))


def queue_delivery(app, conn, url: str, secret: str | None, body: dict, source: str) -> int:
    """Record a pending delivery in ``conn``'s transaction; its job is queued after the commit."""
    record = body.get("record") or {}
    delivery_id = conn.execute(sa.insert(WebhookDelivery).values(
        app_slug=body["app"], table_name=body.get("table"), record_id=record.get("id"), event=body["event"],
        source=source[:80], url=url, secret=secret, payload=body, status="pending", attempts=0,
        created_at=utcnow()).returning(WebhookDelivery.id)).scalar_one()
    after_commit(conn, functools.partial(dispatch, app, delivery_id))
    return delivery_id


def dispatch(app, delivery_id: int) -> None:
    """Queue the job of a committed delivery (left pending if the queue is down)."""
    try:
        job_id = jobs.enqueue(app, "webhook", {"delivery_id": delivery_id})
    except Exception:
        log.exception("could not queue webhook delivery %s; dispatch_pending() will retry", delivery_id)
        return
    status = sa.case((WebhookDelivery.status == "pending", "queued"), else_=WebhookDelivery.status)
    with get_db(app).write() as conn:
        conn.execute(sa.update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                     .values(job_id=job_id, status=status))


def dispatch_pending(app, older_than: dt.timedelta = dt.timedelta(minutes=1)) -> int:
    """Queue deliveries still pending after ``older_than`` (the queue was down); the scheduler calls it."""
    with get_db(app).read() as conn:
        ids = conn.execute(sa.select(WebhookDelivery.id).where(
            WebhookDelivery.status == "pending", WebhookDelivery.created_at <= utcnow() - older_than)).scalars().all()
    for delivery_id in ids:
        dispatch(app, delivery_id)
    return len(ids)


# -- delivering --------------------------------------------------------------
@jobs.handler("webhook")
def _delivery_job(ctx, params) -> dict:
    return deliver(ctx.app, params["delivery_id"])


def deliver(app, delivery_id: int) -> dict:
    """POST one delivery, retrying with the configured delays; raise DeliveryFailed when all fail."""
    database = get_db(app)
    with database.read() as conn:
        row = conn.execute(sa.select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)).mappings().first()
    if row is None or row["status"] == "delivered":
        return {"skipped": "delivered already" if row else "no such delivery"}
    body = json.dumps(row["payload"], ensure_ascii=False, separators=(",", ":")).encode()
    headers = signed_headers(body, row["secret"], row["event"], delivery_id)
    timeout = app.config.get("WEBHOOK_TIMEOUT", DEFAULT_TIMEOUT)
    attempt, status, error = row["attempts"], None, None
    for delay in app.config.get("WEBHOOK_RETRY_DELAYS", DEFAULT_RETRY_DELAYS):
        time.sleep(delay)
        attempt += 1
        status, error, millis = post(row["url"], body, headers, timeout)
        delivered = status is not None and 200 <= status < 300
        _log_attempt(database, delivery_id, attempt, status, error, millis, delivered)
        if delivered:
            return {"delivered": True, "attempts": attempt, "status_code": status}
        if not _worth_retrying(status):
            break
    _finish(database, delivery_id, "failed")
    raise DeliveryFailed(f"webhook to {row['url']} failed after {attempt} attempt(s): {error}")


def signed_headers(body: bytes, secret: str | None, event: str, delivery_id: int) -> dict:
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Takt-Webhooks/1",
               "X-Takt-Event": event, "X-Takt-Delivery": str(delivery_id)}
    if secret:
        headers[SIGNATURE_HEADER] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return headers


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (logged as its status), not a reason to re-send the payload elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int | None, str | None, int]:
    """(status code or None, error text or None, milliseconds)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.monotonic()
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status, error = response.status, None
    except urllib.error.HTTPError as err:
        status, error = err.code, f"HTTP {err.code} {err.reason}"
        err.close()
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
        status, error = None, str(getattr(err, "reason", None) or err) or type(err).__name__
    return status, error, int((time.monotonic() - started) * 1000)


def _worth_retrying(status: int | None) -> bool:
    """Network errors, timeouts and server errors are retried; a refusal (4xx) is final."""
    return status is None or status >= 500 or status in (408, 429)


def _log_attempt(database, delivery_id, attempt, status, error, millis, delivered) -> None:
    with database.write() as conn:
        conn.execute(sa.insert(WebhookAttempt).values(delivery_id=delivery_id, attempt=attempt, at=utcnow(),
                                                      status_code=status, error=error, duration_ms=millis))
        values = {"attempts": attempt, "last_error": error}
        if delivered:
            values.update(status="delivered", finished_at=utcnow())
        conn.execute(sa.update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(values))


def _finish(database, delivery_id, status) -> None:
    with database.write() as conn:
        conn.execute(sa.update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                     .values(status=status, finished_at=utcnow()))
