"""Block actions of the equipment block, callable from automations and transitions by name."""
from __future__ import annotations

import datetime as dt

from runtime.record_checks import Issue, ValidationFailed
from runtime.workflow import register_action

from .engine import CheckRefused, judge_check as judge

RESULT_FIELDS = ("item", "answer", "reading")


@register_action("equipment.judge_check")
def judge_check(records, conn, tdef, check, params):
    """Judge a new care check item by item; with findings, open a maintenance order (``open_order``)."""
    tables = records.live.appdef.tables
    checklist = records._get(conn, tables["eq_checklist"], check["checklist"], action="read")
    if checklist["machine"] is not None and checklist["machine"] != check["machine"]:
        raise ValidationFailed([Issue("checklist", f"check list {checklist['code']} belongs to another machine")])
    rows = check.get("results") or []
    try:
        verdicts, findings = judge(checklist.get("items") or [], rows)
    except CheckRefused as refused:
        raise ValidationFailed([Issue("results", str(refused))]) from None
    results = [{**{k: row[k] for k in RESULT_FIELDS if row[k] is not None}, "passed": passed}
               for row, passed in zip(rows, verdicts)]
    values = {"result": "fail" if findings else "pass", "findings": "\n".join(findings) or None, "results": results}
    after = records._update(conn, tdef, check["id"], {}, check["_version"], system_values=values, action="read")
    if findings and str(params.get("open_order", "true")).lower() == "true":
        records._create(conn, tables["eq_maint_order"], {
            "machine": check["machine"], "check": after["id"],
            "problem": f"Care check {after['_name']} found:\n{after['findings']}"})


@register_action("equipment.end_downtime")
def end_downtime(records, conn, tdef, order, params):
    """A verified repair ends the downtime it was raised for, if nothing (a signal) has ended it yet."""
    if order["downtime"] is None:
        return
    downtime_def = records.live.appdef.tables["eq_downtime"]
    stop = records._get(conn, downtime_def, order["downtime"], action="read")
    if stop["ended_at"] is None:
        end = max(order["verified_at"] or dt.datetime.now().replace(microsecond=0), stop["started_at"])
        records._update(conn, downtime_def, stop["id"], {}, stop["_version"], system_values={"ended_at": end},
                        action="read")
