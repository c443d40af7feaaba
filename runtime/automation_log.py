"""The automation run log: every run of an app's automations, its inputs and outcome.

Read-only, for admins and engineers (the people who build automations)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request

from .auth import current_actor, login_required
from .db import get_db
from .models_automation import AutomationRun
from .store import UnknownApp, live_app

bp = Blueprint("automation_log", __name__)
PAGE = 100


@bp.get("/apps/<slug>/automations/runs")
@login_required
def runs(slug):
    if not current_actor().full_access:
        abort(403)
    database = get_db()
    try:
        live = live_app(database, slug)
    except UnknownApp:
        abort(404)
    stmt = sa.select(AutomationRun).where(AutomationRun.app_slug == slug)
    if request.args.get("automation"):
        stmt = stmt.where(AutomationRun.automation == request.args["automation"][:60])
    if request.args.get("outcome"):
        stmt = stmt.where(AutomationRun.outcome == request.args["outcome"][:20])
    with database.read() as conn:
        rows = conn.execute(stmt.order_by(AutomationRun.id.desc()).limit(PAGE)).mappings().all()
    return render_template("automation_runs.html", app=live.appdef, runs=rows,
                           automations=live.appdef.named("automations"))
