"""Block actions of the andon block: recording response and resolution times on the
transitions, and escalating calls nobody acknowledges (run by a scheduled automation)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from runtime import notifications
from runtime.workflow import register_action

from .engine import due_for_escalation, minutes, resolution_minutes, response_minutes


def local_now() -> dt.datetime:
    """The plant's local time, the clock of datetime fields and of ``now()`` in expressions."""
    return dt.datetime.now().replace(microsecond=0)


def _tenths(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 1)))


@register_action("andon.record_times")
def record_times(records, conn, tdef, call, params):
    """After acknowledge / resolve: store the response and resolution minutes."""
    values = {"response_minutes": _tenths(response_minutes(call)),
              "resolution_minutes": _tenths(resolution_minutes(call))}
    if call["resolved_at"] is not None and call["acknowledged_at"] is None:
        values.update(acknowledged_at=call["resolved_at"], acknowledged_by=call["resolved_by"])
    records._update(conn, tdef, call["id"], {}, call["_version"], system_values=values, action="read")


@register_action("andon.escalate")
def escalate(records, conn, tdef, record, params):
    """Raise calls still open after ``after_minutes`` to escalation ``level`` and notify ``role``.

    Meant for a scheduled automation (no triggering record); each call is escalated
    once per level, so the role hears of it once however often the schedule runs."""
    after, level, role = float(params.get("after_minutes", 10)), int(params.get("level", 1)), params["role"]
    now = local_now()
    call_def = records.live.appdef.tables["andon_call"]
    calls, stations = _waiting(records, conn)
    for call in due_for_escalation(calls, now, after, level):
        waited = int(minutes(call["raised_at"], now))
        message = (f"Andon {call['_name']}: {call['call_type']} call at station {stations[call['id']]} "
                   f"not acknowledged for {waited} min")
        notifications.notify_role(conn, role, message, app_slug=records.live.slug, table_name="andon_call",
                                  record_id=call["id"], source="andon.escalate")
        records._update(conn, call_def, call["id"], {}, call["_version"], action="read",
                        system_values={"escalation_level": level, "escalated_at": now})


def _waiting(records, conn) -> tuple[list[dict], dict]:
    """The open calls (locked, so two schedulers cannot both escalate one) and their station codes."""
    call, station = records.live.tables["andon_call"], records.live.tables["wo_workstation"]
    stmt = (sa.select(call, station.c.code.label("station_code")).join(station, station.c.id == call.c.station)
            .where(call.c.status == "open").order_by(call.c.raised_at).with_for_update(of=call))
    rows = [dict(r) for r in conn.execute(stmt).mappings()]
    return rows, {r["id"]: r["station_code"] for r in rows}
