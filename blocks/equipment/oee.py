"""OEE of one machine on one day, per shift and for the day, from the app's records.

Five queries (machine, calendar and its shifts, the day's stops, the day's counts);
the arithmetic is ``engine.day_oee``.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from runtime.record_checks import NotFound

from .engine import Stop, day_oee, shift_windows


def oee_report(records, machine_code: str, day: dt.date, now: dt.datetime | None = None) -> dict:
    """{"machine", "day", "shifts": {shift: figures}, "day_total": figures}; figures as ``Oee.as_dict``.

    A stop still going on counts until ``now`` (default: the plant's local time)."""
    for table in ("eq_machine", "eq_downtime", "eq_count"):
        records.table(table, "read")  # the table-level read permission
    machine = records.find("eq_machine", "code", machine_code)
    if machine is None:
        raise NotFound(f"no machine '{machine_code}'")
    with records.database.read() as conn:
        shifts = []
        if machine["calendar"] is not None:
            calendar = records._get(conn, records.live.appdef.tables["eq_calendar"], machine["calendar"])
            shifts = calendar.get("shifts") or []
        windows = shift_windows(shifts, day)
        stops = _stops(records, conn, machine["id"], windows)
        counts = _counts(records, conn, machine["id"], day)
    figures = day_oee(windows, stops, machine["ideal_cycle_minutes"] or 0, counts,
                      now or dt.datetime.now().replace(microsecond=0))
    return {"machine": machine_code, "day": day.isoformat(),
            "shifts": {name: oee.as_dict() for name, oee in figures["shifts"].items()},
            "day_total": figures["day"].as_dict()}


def _stops(records, conn, machine_id: int, windows) -> list[Stop]:
    if not windows:
        return []
    sql = records.live.tables["eq_downtime"]
    start, end = windows[0].start, max(w.end for w in windows)
    stmt = sa.select(sql.c.started_at, sql.c.ended_at, sql.c.planned).where(
        sql.c.machine == machine_id, sql.c.started_at < end, sa.or_(sql.c.ended_at.is_(None), sql.c.ended_at > start))
    return [Stop(r.started_at, r.ended_at, bool(r.planned)) for r in conn.execute(stmt)]


def _counts(records, conn, machine_id: int, day: dt.date) -> dict:
    sql = records.live.tables["eq_count"]
    stmt = sa.select(sql.c.shift, sql.c.total, sql.c.good).where(sql.c.machine == machine_id, sql.c.day == day)
    return {r.shift: (r.total or 0, r.good or 0) for r in conn.execute(stmt)}
