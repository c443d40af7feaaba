"""Data for the live andon board: the calls still waiting, with elapsed minutes and colour.

One query. Rendering is someone else's job; this returns plain JSON-ready dicts.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from .actions import local_now
from .engine import WAITING, colour, minutes


def thresholds(records) -> tuple[float, float]:
    """(amber, red) minutes as the block was added to this app (defaults 5 and 10)."""
    entry = next((b for b in records.live.appdef.doc.get("blocks", []) if b["name"] == "andon"), {})
    params = entry.get("params", {})
    return float(params.get("amber_minutes", 5)), float(params.get("red_minutes", 10))


def board(records, area: str | None = None, now: dt.datetime | None = None,
          amber: float | None = None, red: float | None = None) -> list[dict]:
    """Open and acknowledged calls (of one area, or all), longest waiting first."""
    tdef = records.table("andon_call", "read")
    call, station = records.sql(tdef), records.live.tables["wo_workstation"]
    stmt = (sa.select(call.c.id, call.c._name, call.c.call_type, call.c.status, call.c.raised_at, call.c.area,
                      call.c.description, call.c.escalation_level, station.c.code, station.c.name)
            .join(station, station.c.id == call.c.station)
            .where(call.c.status.in_(WAITING)).order_by(call.c.raised_at, call.c.id))
    if area is not None:
        stmt = stmt.where(call.c.area == area)
    condition = records.visible(tdef)
    if condition is not None:
        stmt = stmt.where(condition)
    default_amber, default_red = thresholds(records)
    amber, red, now = amber or default_amber, red or default_red, now or local_now()
    with records.database.read() as conn:
        found = conn.execute(stmt).all()
    return [_entry(row, now, amber, red) for row in found]


def _entry(row, now, amber, red) -> dict:
    elapsed = max(minutes(row.raised_at, now), 0.0)
    return {"id": row.id, "number": row._name, "station": row.code, "station_name": row.name, "area": row.area,
            "call_type": row.call_type, "status": row.status, "description": row.description,
            "raised_at": row.raised_at.isoformat(timespec="seconds"), "elapsed_minutes": int(elapsed),
            "colour": colour(elapsed, amber, red), "escalation_level": row.escalation_level or 0}
