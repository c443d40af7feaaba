"""The generated apps' pages: start page, app home, lists, forms, record detail,
workflow buttons, delete and the kiosk. Thin views: the record service does the
work (``records_for``), ``ui_forms`` / ``ui_lists`` / ``ui_records`` /
``ui_values`` shape it for the templates, and every template can be overridden
per app (``apps/<slug>/<page>``) or per table (``apps/<slug>/<table>/<page>``).
"""
from __future__ import annotations

import re
import uuid

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from . import ui_conditions, ui_forms, ui_lists, ui_records
from .auth import current_actor, login_required, user_language
from .labels import label_text
from .listing import ListQuery
from .permissions import allowed
from .records import Conflict, RecordError
from .service import records_for
from .store import UnknownApp
from .ui_values import Formatter, record_title, state_field, user_options
from .web import wants_json
from .workflow import run_transition

bp = Blueprint("ui", __name__)


# -- helpers -------------------------------------------------------------------
@bp.context_processor
def _template_helpers():
    return {"url_with": _url_with}


def _url_with(**changes) -> str:
    """This page's URL with some query arguments changed (None or '' removes one)."""
    args = {**request.args.to_dict(), **changes}
    return url_for(request.endpoint, **request.view_args, **{k: v for k, v in args.items() if v not in (None, "")})


def _records(slug: str):
    try:
        return records_for(current_app, slug, current_actor())
    except UnknownApp:
        abort(404, description=_("There is no app '%(slug)s'.", slug=slug))


def _table(records, table: str, action: str = "read"):
    tdef = records.table(table, action)
    if tdef.child:
        abort(404, description=_("Rows of '%(table)s' are edited inside their parent record.", table=tdef.label(user_language())))
    return tdef


def _page(template: str, records=None, table_name: str | None = None, status: int = 200, **context):
    """Render the table's own template if it has one, then the app's, then the default."""
    names = [template]
    if records is not None:
        slug = records.live.slug
        names = ([f"apps/{slug}/{table_name}/{template}"] if table_name else []) + [f"apps/{slug}/{template}", template]
        context.setdefault("app", {"slug": slug, "label": records.live.appdef.label(user_language()),
                                   "nav": ui_records.navigation(records.live, records.actor, user_language())})
    return render_template(names, **context), status


def _safe_next(default: str) -> str:
    target = request.values.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else default


def _form_page(records, layout, raw, record=None, outcome=None, status=200, template="form.html", **extra):
    fmt = Formatter(records, user_language())
    return _page(template, records, layout.table.name, status, layout=layout, raw=raw, record=record,
                 errors=outcome.errors if outcome else {}, general=outcome.general if outcome else [],
                 error_fields={re.split(r"[\[.]", k, maxsplit=1)[0] for k in (outcome.errors if outcome else {})},
                 conditions=ui_conditions.conditions_json(layout, records.actor, record),
                 users=user_options(records.database) if any(f.widget == "user" for f in layout.fields) else [],
                 client_id=request.form.get("_client_id") or uuid.uuid4().hex, table=layout.table,
                 title=record_title(layout.table, record) if record and "id" in record else None, fmt=fmt, **extra)


def _link_titles(records, tdef, record):
    fmt = Formatter(records, user_language()).load(tdef, [record])
    return fmt.title


# -- start page and app home ----------------------------------------------------
@bp.route("/")
@login_required
def apps():
    from .db import get_db
    return _page("apps.html", apps=ui_records.usable_apps(get_db(), current_actor(), user_language()))


@bp.route("/apps/<slug>")
@login_required
def app_home(slug):
    records = _records(slug)
    return _page("app_home.html", records, description=records.live.appdef.doc.get("description"))


# -- list -------------------------------------------------------------------------
@bp.route("/apps/<slug>/<table>")
@login_required
def list_view(slug, table):
    records = _records(slug)
    tdef, lang = _table(records, table), user_language()
    shown = ui_lists.columns(tdef, lang)
    problem, page = None, None
    try:
        page = records.list(tdef.name, ui_lists.list_query(tdef, request.args, shown))
    except RecordError as err:
        problem = err.message
    fmt = Formatter(records, lang).load(tdef, page.rows if page else [])
    linked = ui_lists.link_filters(tdef, request.args)
    for name, value in linked.items():
        fmt.load_titles(tdef.fields[name]["table"], {int(value)} if value.isdigit() else set())
    return _page("list.html", records, tdef.name, table=tdef, columns=shown, page=page, fmt=fmt, problem=problem,
                 filters=ui_lists.filter_controls(tdef, lang, request.args), link_filters=linked,
                 sort=request.args.get("sort", ""), can_create=allowed(records.actor, tdef, "create"))


@bp.route("/apps/<slug>/<table>/lookup")
@login_required
def lookup(slug, table):
    """Search-as-you-type for link pickers: [{id, text, detail}]."""
    records = _records(slug)
    tdef = records.table(table)
    query = ListQuery(search=request.args.get("q", "").strip() or None, per_page=10, with_total=False)
    rows = records.list(tdef.name, query).rows
    fmt = Formatter(records, user_language()).load(tdef, rows)
    shown = [c for c in ui_lists.columns(tdef, user_language()) if c.name != tdef.title_field][:2]
    return jsonify([{"id": r["id"], "text": record_title(tdef, r),
                     "detail": " · ".join(t for t in (fmt.cell(tdef, c.fdef, r.get(c.name)).text for c in shown) if t)}
                    for r in rows])


# -- create and edit --------------------------------------------------------------
@bp.route("/apps/<slug>/<table>/new", methods=["GET", "POST"])
@login_required
def new(slug, table):
    records = _records(slug)
    tdef = _table(records, table, "create")
    form = ui_forms.find_form(tdef, request.args.get("form"))
    layout = ui_forms.build_layout(tdef, form, user_language(), creating=True)
    if request.method == "GET":
        start = ui_forms.initial_record(tdef, request.args)
        return _form_page(records, layout, ui_forms.input_values(layout, start, _link_titles(records, tdef, start)))
    outcome = ui_forms.submit(records, layout, request.form)
    if outcome.record is not None:
        flash(_("%(title)s was saved.", title=record_title(tdef, outcome.record)), "success")
        return redirect(url_for("ui.detail", slug=slug, table=tdef.name, record_id=outcome.record["id"]))
    return _form_page(records, layout, outcome.raw, outcome=outcome, status=422)


@bp.route("/apps/<slug>/<table>/<int:record_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug, table, record_id):
    records = _records(slug)
    tdef = _table(records, table, "update")
    before = records.get(tdef.name, record_id, action="update")
    form = ui_forms.find_form(tdef, request.args.get("form"))
    layout = ui_forms.build_layout(tdef, form, user_language(), creating=False)
    if request.method == "GET":
        raw = ui_forms.input_values(layout, before, _link_titles(records, tdef, before))
        return _form_page(records, layout, raw, record=before, version=before["_version"])
    outcome = ui_forms.submit(records, layout, request.form, before=before)
    if outcome.record is not None:
        flash(_("%(title)s was saved.", title=record_title(tdef, outcome.record)), "success")
        return redirect(url_for("ui.detail", slug=slug, table=tdef.name, record_id=record_id))
    return _form_page(records, layout, outcome.raw, record=before, outcome=outcome, status=422,
                      version=request.form.get("_version", before["_version"]))


# -- detail, transitions, delete ---------------------------------------------------
@bp.route("/apps/<slug>/<table>/<int:record_id>")
@login_required
def detail(slug, table, record_id):
    records = _records(slug)
    tdef, lang = _table(records, table), user_language()
    record = records.get(tdef.name, record_id)
    layout = ui_forms.build_layout(tdef, ui_forms.find_form(tdef), lang, creating=False)
    shown = {f.name for f in layout.fields} | {state_field(tdef)}
    rest = [f for f in ui_forms.build_layout(tdef, None, lang, creating=False).fields if f.name not in shown]
    actor = records.actor
    return _page("detail.html", records, tdef.name, table=tdef, record=record, layout=layout, rest=rest,
                 fmt=Formatter(records, lang).load(tdef, [record]), title=record_title(tdef, record),
                 state=state_field(tdef), transitions=ui_records.transitions(records, tdef, record, lang),
                 back_links=ui_records.back_links(records, tdef, record["id"], lang),
                 history=ui_records.history(records, tdef, record["id"], lang),
                 can_edit=allowed(actor, tdef, "update"), can_delete=allowed(actor, tdef, "delete"))


@bp.route("/apps/<slug>/<table>/<int:record_id>/transitions/<name>", methods=["POST"])
@login_required
def transition(slug, table, record_id, name):
    records = _records(slug)
    tdef, lang = _table(records, table), user_language()
    back = _safe_next(url_for("ui.detail", slug=slug, table=tdef.name, record_id=record_id))
    try:
        version = int(request.form.get("version", ""))
        after = run_transition(records, tdef.name, record_id, name, version)
    except (RecordError, ValueError) as err:
        message = err.message if isinstance(err, RecordError) else _("The form expired. Reload the page and try again.")
        status = err.status if isinstance(err, RecordError) else 400
        if wants_json():
            return jsonify(ok=False, message=message), status
        flash(message, "error")
        return redirect(back)
    message = _transition_done(records, tdef, name, after, lang)
    if wants_json():
        return jsonify(ok=True, message=message, record=ui_records.summary(records, tdef, after, lang))
    flash(message, "success")
    return redirect(back)


def _transition_done(records, tdef, name, after, lang) -> str:
    spec = next((t for t in (tdef.workflow() or {}).get("transitions", []) if t["name"] == name), {})
    state = state_field(tdef)
    return _("%(action)s: done. %(title)s is now %(state)s.", action=label_text(spec.get("label"), lang, name),
             title=record_title(tdef, after), state=Formatter(records, lang).cell(tdef, tdef.fields[state],
                                                                                  after.get(state)).text)


@bp.route("/apps/<slug>/<table>/<int:record_id>/delete", methods=["GET", "POST"])
@login_required
def delete(slug, table, record_id):
    records = _records(slug)
    tdef = _table(records, table, "delete")
    record = records.get(tdef.name, record_id, action="delete")
    if request.method == "GET":
        return _page("delete.html", records, tdef.name, table=tdef, record=record, title=record_title(tdef, record))
    try:
        records.delete(tdef.name, record_id, version=int(request.form.get("version") or record["_version"]))
    except Conflict as err:
        flash(err.message, "error")
        return redirect(url_for("ui.detail", slug=slug, table=tdef.name, record_id=record_id))
    flash(_("%(title)s was deleted.", title=record_title(tdef, record)), "success")
    return redirect(url_for("ui.list_view", slug=slug, table=tdef.name))


# -- kiosk -----------------------------------------------------------------------
def _kiosk_form(records, form_name: str):
    form = records.live.appdef.named("forms").get(form_name)
    if form is None:
        abort(404, description=_("There is no form '%(form)s'.", form=form_name))
    return form, _table(records, form["table"], "create")


@bp.route("/apps/<slug>/kiosk/<form_name>", methods=["GET", "POST"])
@login_required
def kiosk(slug, form_name):
    records = _records(slug)
    form, tdef = _kiosk_form(records, form_name)
    station = (request.args.get("station") or "").strip()[:80]
    layout = ui_forms.build_layout(tdef, form, user_language(), creating=True, locked={form.get("station_field")})
    bound = {form["station_field"]: station} if form.get("station_field") else {}  # shown, and saved with each record
    page = {"template": "kiosk.html", "form": form, "station": station, "record": bound}
    if request.method == "GET":
        start = ui_forms.initial_record(tdef, {})
        return _form_page(records, layout, ui_forms.input_values(layout, start, _link_titles(records, tdef, start)),
                          **page)
    if bound and not station:
        outcome = ui_forms.Outcome(None, ui_forms.parse(layout, request.form).raw,
                                   general=[_("This kiosk has no station yet: choose one first.")])
    else:
        outcome = ui_forms.submit(records, layout, request.form, extra=bound)
    if outcome.record is not None:
        flash(_("%(title)s was saved.", title=record_title(tdef, outcome.record)), "success")
        return redirect(url_for("ui.kiosk", slug=slug, form_name=form_name, station=station or None))
    return _form_page(records, layout, outcome.raw, outcome=outcome, status=422, **page)


@bp.route("/apps/<slug>/kiosk/<form_name>/scan")
@login_required
def kiosk_scan(slug, form_name):
    """A scanned code: the record it names, its summary and its workflow buttons (JSON)."""
    records = _records(slug)
    form, tdef = _kiosk_form(records, form_name)
    code, lang = (request.args.get("code") or "").strip(), user_language()
    found_table, record = ui_records.scan(records, tdef, form.get("lookup_field"), code)
    if record is None:
        return jsonify(ok=False, message=_("Nothing found for '%(code)s'.", code=code)), 404
    summary = ui_records.summary(records, found_table, record, lang)
    return jsonify(ok=True, message=_("%(table)s %(title)s", table=summary["table_label"], title=summary["title"]),
                   field=form.get("lookup_field"), record=summary,
                   link={"id": record["id"], "text": summary["title"]} if found_table is not tdef else None)
