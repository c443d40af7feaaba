"""Machine signals: state changes (running / idle / down) and part counters turned
into downtime events and counts.

Three layers, each usable alone:

- ``apply_signal(state, message)``: pure; the machine's last known state and one
  message in, the new state and what to write out.
- ``record_signal(records, conn, code, kind, payload)`` / ``accept_signal(records, …)``:
  write the effects through the record service (``eq_machine`` keeps the state, so
  a restart loses nothing); the REST API can call ``accept_signal`` directly.
- ``MqttAdapter``: a paho-mqtt 2.x client subscribed to
  ``takt/<app>/machines/<code>/state`` (``{"state": "down", "reason": "breakdown", "at": "…"}``)
  and ``takt/<app>/machines/<code>/count`` (``{"total": 1200, "good": 1190, "at": "…"}``,
  cumulative counters as PLCs keep them), writing each message in its own transaction.

``at`` is optional (ISO 8601; the receive time otherwise); a time with an offset is
converted to the plant's local time, like datetime fields.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass, replace

import sqlalchemy as sa

from runtime.labels import option_values
from runtime.permissions import Actor
from runtime.record_checks import RecordError

from .engine import shift_at

log = logging.getLogger(__name__)

STATES = ("running", "idle", "down")
STOP_REASON = {"idle": "idle", "down": "breakdown"}  # reason of a stop the signal does not name
OFF_SHIFT = "off_shift"


class SignalError(ValueError):
    """A message that cannot be applied (bad topic, payload, machine or state)."""


@dataclass(frozen=True)
class MachineState:
    state: str = "unknown"
    since: dt.datetime | None = None
    total: int | None = None  # the last cumulative counters seen, and when
    good: int | None = None
    count_at: dt.datetime | None = None


@dataclass(frozen=True)
class Effects:
    state: MachineState
    close_stop_at: dt.datetime | None = None      # end the running downtime event
    open_stop: tuple | None = None                # (start, reason): begin a downtime event
    counted: tuple | None = None                  # (at, total parts, good parts) since the last count


def parse_message(kind: str, payload, received_at: dt.datetime) -> dict:
    """A topic kind ('state' or 'count') and a JSON payload (bytes, text or dict) → a message."""
    if isinstance(payload, (bytes, str)):
        try:
            payload = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            raise SignalError("the payload is not JSON") from None
    if not isinstance(payload, dict):
        raise SignalError("the payload must be a JSON object")
    message = {"kind": kind, "at": _moment(payload.get("at")) or received_at}
    if kind == "state":
        if payload.get("state") not in STATES:
            raise SignalError(f"state must be one of {', '.join(STATES)}, not {payload.get('state')!r}")
        return {**message, "state": payload["state"], "reason": payload.get("reason")}
    if kind == "count":
        total, good = payload.get("total"), payload.get("good", payload.get("total"))
        if not all(type(v) is int and v >= 0 for v in (total, good)):
            raise SignalError("a count needs cumulative whole numbers 'total' (and 'good')")
        return {**message, "total": total, "good": good}
    raise SignalError(f"unknown signal '{kind}' (state or count)")


def _moment(text) -> dt.datetime | None:
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise SignalError(f"'at' is not an ISO date and time: {text!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    return moment.replace(microsecond=0)


def apply_signal(state: MachineState, message: dict) -> Effects:
    """The machine's state and one message → the new state and what to write.

    A message older than the current state is stale (redelivered or out of order)
    and changes nothing, as does a repeated state. Leaving 'running' opens a
    downtime event; idle ↔ down closes it and opens one with the new reason;
    back to 'running' closes it. Cumulative counters give the parts since the
    last message; a counter below the last one was reset, so it counts from 0
    (which is why a count older than the last one is stale and ignored)."""
    if message["kind"] == "count":
        return _apply_count(state, message)
    new, at = message["state"], message["at"]
    if new == state.state or (state.since is not None and at < state.since):
        return Effects(state)
    moved = replace(state, state=new, since=at)
    close_at = at if state.state in STOP_REASON else None
    if new == "running":
        return Effects(moved, close_stop_at=close_at)
    return Effects(moved, close_stop_at=close_at, open_stop=(at, message.get("reason") or STOP_REASON[new]))


def _apply_count(state: MachineState, message: dict) -> Effects:
    total, good, at = message["total"], message["good"], message["at"]
    if state.count_at is not None and at < state.count_at:  # stale: would look like a counter reset
        return Effects(state)
    moved = replace(state, total=total, good=good, count_at=at)
    if state.total is None:  # the first counter ever seen is the baseline
        return Effects(moved)
    added = total - state.total if total >= state.total else total
    added_good = good - (state.good or 0) if good >= (state.good or 0) else good
    added_good = min(added_good, added)
    return Effects(moved, counted=(at, added, added_good) if added else None)


# -- writing through the record service ------------------------------------------

def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def record_signal(records, conn, code: str, kind: str, payload, received_at: dt.datetime | None = None) -> dict:
    """Apply one signal of machine ``code`` inside the caller's transaction; returns what was written."""
    message = parse_message(kind, payload, received_at or _now())
    tables = records.live.appdef.tables
    machine_sql = records.live.tables["eq_machine"]
    # FOR UPDATE: signals of one machine apply one after the other (PostgreSQL; SQLite has one writer).
    stmt = sa.select(machine_sql).where(machine_sql.c.code == code).with_for_update()
    machine = conn.execute(stmt).mappings().first()
    if machine is None:
        raise SignalError(f"no machine '{code}'")
    state = MachineState(machine["state"] or "unknown", machine["state_since"], machine["counter_total"],
                         machine["counter_good"], machine["counter_at"])
    effects = apply_signal(state, message)
    written = {"machine": code, "closed": None, "opened": None, "counted": None}
    if effects.close_stop_at is not None:
        written["closed"] = _close_stop(records, conn, machine["id"], effects.close_stop_at)
    if effects.open_stop is not None:
        written["opened"] = _open_stop(records, conn, machine["id"], *effects.open_stop)
    if effects.counted is not None:
        written["counted"] = _add_count(records, conn, machine, *effects.counted)
    if effects.state != state:
        records._update(conn, tables["eq_machine"], machine["id"], {}, machine["_version"], action="read",
                        system_values={"state": effects.state.state, "state_since": effects.state.since,
                                       "counter_total": effects.state.total, "counter_good": effects.state.good,
                                       "counter_at": effects.state.count_at})
    return written


def _open_stop(records, conn, machine_id: int, start: dt.datetime, reason: str) -> int:
    """A reason the app does not know is kept in the note, so the stop itself is never lost."""
    downtime = records.live.appdef.tables["eq_downtime"]
    values = {"machine": machine_id, "started_at": start, "reason": reason, "source": "signal"}
    if reason not in option_values(downtime.fields["reason"]):
        values.update(reason="unclassified", note=f"signal reason: {reason}"[:200])
    return records._create(conn, downtime, values)["id"]


def _close_stop(records, conn, machine_id: int, end: dt.datetime) -> int | None:
    sql = records.live.tables["eq_downtime"]
    stop = conn.execute(sa.select(sql.c.id, sql.c._version, sql.c.started_at).where(
        sql.c.machine == machine_id, sql.c.ended_at.is_(None)).order_by(sql.c.started_at.desc()).limit(1)).first()
    if stop is None:
        return None
    records._update(conn, records.live.appdef.tables["eq_downtime"], stop.id, {}, stop._version, action="read",
                    system_values={"ended_at": max(end, stop.started_at)})
    return stop.id


def _add_count(records, conn, machine, at: dt.datetime, total: int, good: int) -> int:
    """Add parts to the machine's count of the shift they were made in (created on first use)."""
    tables = records.live.appdef.tables
    shifts = _shifts(records, conn, machine["calendar"])
    window = shift_at(shifts, at)
    day, shift = (window.day, window.name) if window else (at.date(), OFF_SHIFT)
    sql = records.live.tables["eq_count"]
    row = conn.execute(sa.select(sql).where(sql.c.machine == machine["id"], sql.c.day == day,
                                            sql.c.shift == shift)).mappings().first()
    if row is None:
        created = records._create(conn, tables["eq_count"], {"machine": machine["id"], "day": day, "shift": shift,
                                                             "total": total, "good": good, "source": "signal"})
        return created["id"]
    records._update(conn, tables["eq_count"], row["id"], {}, row["_version"], action="read",
                    system_values={"total": row["total"] + total, "good": row["good"] + good})
    return row["id"]


def _shifts(records, conn, calendar_id) -> list[dict]:
    if calendar_id is None:
        return []
    calendar = records._get(conn, records.live.appdef.tables["eq_calendar"], calendar_id, action="read")
    return calendar.get("shifts") or []


def accept_signal(records, code: str, kind: str, payload, received_at: dt.datetime | None = None) -> dict:
    """``record_signal`` in a transaction of its own: for the REST API and the MQTT adapter."""
    with records.database.write() as conn:
        return record_signal(records, conn, code, kind, payload, received_at)


# -- MQTT ---------------------------------------------------------------------------

def topic_filters(slug: str) -> list[str]:
    return [f"takt/{slug}/machines/+/state", f"takt/{slug}/machines/+/count"]


def parse_topic(slug: str, topic: str) -> tuple[str, str]:
    """'takt/<slug>/machines/<code>/<kind>' → (code, kind)."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[:3] != ["takt", slug, "machines"] or parts[4] not in ("state", "count"):
        raise SignalError(f"topic '{topic}' is not takt/{slug}/machines/<code>/state or /count")
    return parts[3], parts[4]


class MqttAdapter:
    """Subscribes to one app's machine topics and writes each message through the record service.

    ``start()`` connects and runs paho's network thread; ``processed`` counts the
    messages handled (written or rejected, see ``rejected``), and
    ``wait_for(n)`` blocks until n messages have been handled."""

    def __init__(self, app, slug: str, host: str = "127.0.0.1", port: int = 1883, client_id: str = "",
                 qos: int = 1, actor: Actor | None = None):
        import paho.mqtt.client as mqtt

        self.app, self.slug, self.host, self.port, self.qos = app, slug, host, port, qos
        self.actor = actor or Actor.system(f"mqtt:{slug}")
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"takt-{slug}-signals")
        self.client.on_connect, self.client.on_subscribe = self._on_connect, self._on_subscribe
        self.client.on_message = self._on_message
        self.subscribed = threading.Event()
        self.processed, self.rejected = 0, []
        self._handled = threading.Condition()

    def start(self) -> None:
        self.client.connect(self.host, self.port)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self) -> None:
        """For a long-running process (one per app): reconnects by itself."""
        self.client.connect(self.host, self.port)
        self.client.loop_forever(retry_first_connection=True)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("MQTT connection refused: %s", reason_code)
            return
        client.subscribe([(topic, self.qos) for topic in topic_filters(self.slug)])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        self.subscribed.set()

    def _on_message(self, client, userdata, msg):
        self.handle(msg.topic, msg.payload)

    def handle(self, topic: str, payload) -> dict | None:
        """Write one message; a bad one is logged and kept in ``rejected``, never raised into paho."""
        from runtime import service

        try:
            code, kind = parse_topic(self.slug, topic)
            return accept_signal(service.records_for(self.app, self.slug, self.actor), code, kind, payload)
        except (SignalError, RecordError) as err:
            log.warning("machine signal on %s rejected: %s", topic, err)
            self.rejected.append((topic, str(err)))
        except Exception as err:  # a database outage must not kill the network thread
            log.exception("machine signal on %s failed", topic)
            self.rejected.append((topic, f"{type(err).__name__}: {err}"))
        finally:
            with self._handled:
                self.processed += 1
                self._handled.notify_all()
        return None

    def wait_for(self, count: int) -> None:
        with self._handled:
            self._handled.wait_for(lambda: self.processed >= count)
