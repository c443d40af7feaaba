"""The dashboard page and its JSON feed (``bp``, registered as ``runtime.dashboards:bp``).

``GET /apps/<slug>/dashboards/<name>`` renders the grid, the filter bar and
empty cards; ``dashboard.js`` fills them from ``…/data?from=&to=&<field>=``
and refreshes every ``refresh_seconds``. A bad filter value answers 422 with
the field's own message, never a 500.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from .auth import current_actor, login_required, user_language
from .dashboards import YES_NO, run_dashboard, value_label
from .labels import label_text, option_values
from .listing import Filter
from .record_checks import Issue, NotFound, RecordError, ValidationFailed
from .service import records_for
from .store import UnknownApp
from .ui_records import navigation

bp = Blueprint("dashboards", __name__)
DEFAULT_LAYOUT = {"w": 4, "h": 3}


def _dashboard(slug: str, name: str):
    """(records, dashboard definition) for the signed-in reader, or NotFound."""
    try:
        records = records_for(current_app, slug, current_actor())
    except UnknownApp:
        raise NotFound(f"no published app '{slug}'") from None
    board = records.live.appdef.named("dashboards").get(name)
    if board is None:
        raise NotFound(f"app '{slug}' has no dashboard '{name}'")
    return records, board


@bp.get("/apps/<slug>/dashboards/<name>")
@login_required
def page(slug, name):
    records, board = _dashboard(slug, name)
    language = user_language()
    appdef = records.live.appdef
    widgets = [{"name": w["name"], "type": w["type"], "style": grid_style(w.get("layout", {})),
                "title": label_text(w.get("title"), language, w["name"])} for w in board["widgets"]]
    config = {"dataUrl": url_for("dashboards.data", slug=slug, name=name), "language": language,
              "refreshSeconds": board.get("refresh_seconds"), "text": _texts(),
              "widgets": [{"name": w["name"], "type": w["type"]} for w in board["widgets"]]}
    app = {"slug": slug, "label": appdef.label(language), "nav": navigation(records.live, records.actor, language)}
    return render_template("dashboard.html", app=app, board=board, widgets=widgets, config=config,
                           title=label_text(board.get("label"), language, board["name"]),
                           filters=filter_inputs(appdef, board, language),
                           date_label=_date_label(appdef, board, language), args=request.args)


@bp.get("/apps/<slug>/dashboards/<name>/data")
def data(slug, name):
    if current_actor() is None:
        return _error("sign in to see this dashboard", 401)
    try:
        records, board = _dashboard(slug, name)
        result = run_dashboard(records, board, dashboard_filters(board, request.args), language=user_language())
    except RecordError as err:
        return _error(err.message, err.status, err.details)
    response = jsonify(result)
    response.headers["Cache-Control"] = "no-store"
    return response


def _texts() -> dict:
    return {"updated": _("Updated"), "failed": _("Could not load the dashboard; it will try again."),
            "noCharts": _("Charts are not available: the Chart.js files are missing (run make static).")}


def _error(message: str, status: int, details=None):
    return jsonify(error=message, details=details or []), status


def grid_style(layout: dict) -> str:
    """CSS custom properties placing a widget on the 12-column grid (dashboard.css reads them)."""
    w, h = layout.get("w", DEFAULT_LAYOUT["w"]), layout.get("h", DEFAULT_LAYOUT["h"])
    x = min(layout.get("x", 0), 11)
    column = f"{x + 1} / span {min(w, 12 - x)}" if "x" in layout else f"span {w}"
    row = f"{layout['y'] + 1} / span {h}" if "y" in layout else f"span {h}"
    return f"--col: {column}; --row: {row};"


def _widget_tables(appdef, board):
    names = dict.fromkeys(w["query"]["table"] for w in board["widgets"])
    return [appdef.tables[n] for n in names if n in appdef.tables]


def _field(appdef, board, name):
    """(table, field) of the first widget table that has the field, or (None, None)."""
    return next(((t, t.fields[name]) for t in _widget_tables(appdef, board) if name in t.fields), (None, None))


def filter_inputs(appdef, board: dict, language: str) -> list[dict]:
    """The filter bar's inputs: label and (for selects) options, from the first widget table with the field."""
    inputs = []
    for name in board.get("filter_fields", []):
        tdef, fdef = _field(appdef, board, name)
        if fdef is None:
            continue
        options = None
        if fdef["type"] in ("select", "multi_select"):
            options = [(v, value_label(tdef, fdef, v, language)) for v in option_values(fdef)]
        elif fdef["type"] == "boolean":
            options = [("true", label_text(YES_NO[True], language)), ("false", label_text(YES_NO[False], language))]
        inputs.append({"name": name, "label": label_text(fdef.get("label"), language, name), "options": options,
                       "input": {"date": "date", "datetime": "date", "integer": "number"}.get(fdef["type"], "text")})
    return inputs


def _date_label(appdef, board: dict, language: str) -> str | None:
    name = board.get("date_field")
    _table, fdef = _field(appdef, board, name) if name else (None, None)
    return label_text(fdef.get("label"), language, name) if fdef else None


# -- the filter bar's arguments ------------------------------------------------------------------
def dashboard_filters(dashboard: dict, args) -> list[Filter]:
    """Request arguments (``from``, ``to``, one per filter field) → filters, or ValidationFailed.

    ``to`` is inclusive: a date ``to`` becomes "before the next day", so it covers
    that whole day on a datetime field too. Repeating a field gives "any of these".
    """
    names = dashboard.get("filter_fields", [])
    unknown = [k for k in args if k not in ("from", "to", *names) and not k.startswith("_")]
    if unknown:
        raise ValidationFailed([Issue(k, f"this dashboard has no filter '{k}' (filters: "
                                         f"{', '.join(('from', 'to', *names))})") for k in unknown])
    if any("\x00" in value for key in args for value in _all(args, key) if value):
        raise ValidationFailed([Issue(None, "filter values cannot contain NUL characters")])
    filters = _date_range(dashboard, _arg(args, "from"), _arg(args, "to"))
    for name in names:
        values = [v.strip() for v in _all(args, name) if v and v.strip()]
        if len(values) == 1:
            filters.append(Filter(name, "eq", values[0]))
        elif values:
            filters.append(Filter(name, "in", values))
    return filters


def _arg(args, name) -> str:
    return (args.get(name) or "").strip()


def _all(args, name) -> list[str]:
    if hasattr(args, "getlist"):
        return args.getlist(name)
    value = args.get(name)
    return value if isinstance(value, list) else [value]


def _date_range(dashboard, start: str, end: str) -> list[Filter]:
    if not start and not end:
        return []
    date_field = dashboard.get("date_field")
    if not date_field:
        raise ValidationFailed([Issue("from" if start else "to", "this dashboard has no date range")])
    start_value, end_value = _moment("from", start), _moment("to", end)
    if start_value and end_value and _as_datetime(start_value) > _as_datetime(end_value):
        raise ValidationFailed([Issue("from", f"{start} is after {end}")])
    filters = [Filter(date_field, "ge", start_value.isoformat())] if start_value else []
    if isinstance(end_value, dt.datetime) or end_value == dt.date.max:
        filters.append(Filter(date_field, "le", end_value.isoformat()))
    elif end_value:
        filters.append(Filter(date_field, "lt", (end_value + dt.timedelta(days=1)).isoformat()))
    return filters


def _moment(name: str, text: str):
    """A date, or a naive local datetime (an offset is converted, as datetime fields do)."""
    if not text:
        return None
    try:
        if len(text) <= 10:
            return dt.date.fromisoformat(text)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed([Issue(name, f"'{text[:40]}' is not a date (use YYYY-MM-DD)")]) from None
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo is not None else moment


def _as_datetime(value) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
