"""The REST API (``/api/v1``): a thin JSON adapter over the record service.

Permissions, row rules, value validation, audit and hooks all live in the
record service (built with ``service.records_for``); this module only turns
HTTP into calls. It parses JSON strictly, checks a body's shape against the
table's generated schema (``openapi``) so a malformed body gets one clear
answer before anything runs, reads versions from ``_version`` or ``If-Match``,
and renders results as JSON. Errors are ``RecordError``s, which ``web`` renders
as ``{"error": …, "details": [{field, message}]}``.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify, request, url_for

from . import openapi, users
from .auth import current_actor
from .db import get_db
from .definition import AppDef
from .fieldtypes import field_type
from .labels import label_text, option_label, option_values
from .listing import MAX_PER_PAGE, ListQuery, Filter
from .models import ApiToken, AuditEntry
from .permissions import ACTIONS, allowed
from .record_checks import Forbidden, Issue, NotFound, RecordError, ValidationFailed
from .records import serialize
from .records_bulk import BulkFailed, bulk_write
from .service import records_for
from .store import UnknownApp, list_apps
from .workflow import available, run_transition

bp = Blueprint("api", __name__, url_prefix="/api/v1")

RECORD_ID = re.compile(r"[1-9][0-9]{0,17}")          # always fits a 64-bit id column
IF_MATCH = re.compile(r'(?:W/)?"?([0-9]{1,9})"?')
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,64}")    # printable ASCII; the _client_id column holds 64
MAX_PAGE = 1_000_000
TOKEN_CHECK = openapi.validator(openapi.TOKEN_CREATE)
TRANSITION_CHECK = openapi.validator(openapi.TRANSITION_BODY)


class BadRequest(RecordError):
    status = 400


class Unauthorized(RecordError):
    status = 401


# -- request plumbing --------------------------------------------------------------

@bp.before_request
def _signed_in():
    """Scripts get a 401 they can act on, never the login page's redirect."""
    if current_actor() is None:
        raise Unauthorized("sign in, or send 'Authorization: Bearer <token>' with a valid, unrevoked token")


@bp.after_request
def _headers(response):
    response.headers["X-Content-Type-Options"] = "nosniff"   # JSON is never sniffed into HTML
    response.headers.setdefault("Cache-Control", "no-store")
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="takt"'
    return response


@bp.errorhandler(sa.exc.DataError)
def _data_error(err):
    """Safety net: the database refused a value the checks let through (out of range, NUL byte…)."""
    reason = str(getattr(err, "orig", err)).splitlines()[0][:200]
    current_app.logger.warning("API input reached the database unchecked: %s", reason, exc_info=err)
    return jsonify(error=f"a value does not fit the database: {reason}", details=[]), 422


@bp.errorhandler(OverflowError)
@bp.errorhandler(InvalidOperation)
def _number_error(err):
    """Safety net: a number too large or too precise for the checks that should have refused it."""
    current_app.logger.warning("API number input slipped past validation: %r", err, exc_info=err)
    return jsonify(error="a number is too large or has too many digits", details=[]), 422


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _body(optional: bool = False) -> dict:
    """The JSON object sent; numbers with a fraction become Decimal so no digit is lost."""
    raw = request.get_data(cache=True)
    if optional and not raw.strip():
        return {}
    if not request.is_json:
        raise BadRequest("send the body as JSON with the header 'Content-Type: application/json'")
    try:
        data = json.loads(raw, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError) as err:
        raise BadRequest(f"the body is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"the body must be a JSON object, not {openapi.json_type(data)}")
    return data


def _refuse(problems: list[dict]):
    raise ValidationFailed([Issue(p["field"], p["message"]) for p in problems])


def _shaped(tdef, mode: str) -> dict:
    body = _body()
    problems = openapi.table_problems(tdef, mode, body)
    if problems:
        _refuse(problems)
    return body


def _checked(checker, optional=False) -> dict:
    body = _body(optional)
    problems = openapi.problems(checker, body)
    if problems:
        _refuse(problems)
    return body


def _number_id(text: str, what: str = "record") -> int:
    if not RECORD_ID.fullmatch(text):
        raise NotFound(f"'{text[:40]}' is not a {what} id")
    return int(text)


def _version(body: dict) -> int | None:
    """The version the client read: ``_version`` in the body or the If-Match header."""
    sent = body.pop("_version", None)
    header = request.headers.get("If-Match")
    if header is None:
        return sent
    match = IF_MATCH.fullmatch(header.strip())
    if match is None:
        raise BadRequest('If-Match must be the record version you read, such as "3"')
    version = int(match.group(1))
    if sent is not None and sent != version:
        raise BadRequest(f"_version ({sent}) and If-Match ({version}) disagree")
    return version


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise BadRequest("Idempotency-Key must be 1-64 printable ASCII characters")
    return key


def _int_arg(name: str, default: int, highest: int) -> int:
    text = request.args.get(name, "")
    if text == "":
        return default
    if not re.fullmatch(r"[0-9]{1,9}", text) or not 1 <= int(text) <= highest:
        message = f"must be a whole number from 1 to {highest}"
        raise BadRequest(f"{name} {message}", [{"field": name, "message": message}])
    return int(text)


# -- records -----------------------------------------------------------------------

def _records(slug: str):
    try:
        return records_for(current_app, slug, current_actor())
    except UnknownApp as err:
        raise NotFound(str(err)) from None


def _table(slug: str, table: str, action: str = "read"):
    """The record service and the table, refusing what the actor may not do to it at all."""
    records = _records(slug)
    tdef = records.table(table, action)
    if tdef.child:
        raise NotFound(f"'{table}' is a child table: read and write its rows through the parent record's field")
    return records, tdef


def _record_json(records, tdef, record, status=200):
    response = jsonify(serialize(tdef, record, records.live))
    response.status_code = status
    response.headers["ETag"] = f'"{record["_version"]}"'
    return response


def _filter_key(tdef, key: str) -> tuple[str, str]:
    """``field`` or ``field__op``; identifiers may contain '__', so a whole field name wins."""
    if key in tdef.fields or key in ("id", "_name") or "__" not in key:
        return key, "eq"
    name, op = key.rsplit("__", 1)
    return name, op


def _filters(tdef) -> list[Filter]:
    filters = []
    for key in request.args:
        if key in openapi.RESERVED_PARAMS:
            continue
        name, op = _filter_key(tdef, key)
        if name in tdef.fields and not field_type(tdef.fields[name]).stored:
            raise ValidationFailed([Issue(name, "cannot filter by child rows; read the record for them")])
        filters += [Filter(name, op, value) for value in request.args.getlist(key)]
    return filters


def _sort(text: str) -> list[tuple[str, bool]]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    return [(p.lstrip("-"), p.startswith("-")) for p in parts]


def _listed(records, table, query):
    """Safety net: listing compiles some filters and sorts the database cannot run (JSON columns on
    PostgreSQL, lt/gt on yes/no fields); answer 422 instead of 500 until it refuses them itself."""
    try:
        return records.list(table, query)
    except (sa.exc.ProgrammingError, sa.exc.ArgumentError) as err:
        current_app.logger.warning("API list query the database could not run: %s", err, exc_info=err)
        raise ValidationFailed([Issue(None, "this filter or sort cannot be applied to the fields it names")]) from None


@bp.get("/apps/<slug>/<table>")
def list_records(slug, table):
    records, tdef = _table(slug, table)
    query = ListQuery(filters=_filters(tdef), search=request.args.get("q") or None,
                      sort=_sort(request.args.get("sort", "")), page=_int_arg("page", 1, MAX_PAGE),
                      per_page=_int_arg("per_page", 50, MAX_PER_PAGE))
    page = _listed(records, table, query)
    children = {f["name"] for f in tdef.child_fields}   # not loaded for lists: read the record for them
    data = [{k: v for k, v in serialize(tdef, row).items() if k not in children} for row in page.rows]
    return jsonify(data=data, total=page.total, page=page.page, per_page=page.per_page)


@bp.post("/apps/<slug>/<table>")
def create_record(slug, table):
    records, tdef = _table(slug, table, "create")
    body = _shaped(tdef, "create")
    record = records.create(table, body, client_id=_idempotency_key())
    response = _record_json(records, tdef, record, 201)
    response.headers["Location"] = url_for(".get_record", slug=slug, table=table, record_id=record["id"])
    return response


@bp.get("/apps/<slug>/<table>/<record_id>")
def get_record(slug, table, record_id):
    records, tdef = _table(slug, table)
    return _record_json(records, tdef, records.get(table, _number_id(record_id)))


@bp.route("/apps/<slug>/<table>/<record_id>", methods=["PATCH", "PUT"])
def update_record(slug, table, record_id):
    """PATCH changes the fields sent; PUT must send every writable field (null clears one)."""
    records, tdef = _table(slug, table, "update")
    record_id = _number_id(record_id)
    body = _shaped(tdef, "put" if request.method == "PUT" else "patch")
    version = _version(body)
    return _record_json(records, tdef, records.update(table, record_id, body, version=version))


@bp.delete("/apps/<slug>/<table>/<record_id>")
def delete_record(slug, table, record_id):
    records, _ = _table(slug, table, "delete")
    records.delete(table, _number_id(record_id), version=_version({}))
    return "", 204


@bp.get("/apps/<slug>/<table>/<record_id>/transitions")
def list_transitions(slug, table, record_id):
    records, tdef = _table(slug, table)
    record = records.get(table, _number_id(record_id))
    language = current_actor().language
    data = [{"name": t["name"], "label": label_text(t.get("label"), language, t["name"]), "to": t["to"]}
            for t in available(records, tdef, record)]
    return jsonify(data=data)


@bp.post("/apps/<slug>/<table>/<record_id>/transitions/<name>")
def post_transition(slug, table, record_id, name):
    records, tdef = _table(slug, table)
    record_id = _number_id(record_id)
    body = _checked(TRANSITION_CHECK, optional=True)
    after = run_transition(records, table, record_id, name, _version(body))
    return _record_json(records, tdef, after)


@bp.get("/apps/<slug>/<table>/<record_id>/history")
def history(slug, table, record_id):
    """The audit trail of a record, to whoever may read the record itself."""
    records, tdef = _table(slug, table)
    record = records.get(table, _number_id(record_id))
    page, per_page = _int_arg("page", 1, MAX_PAGE), _int_arg("per_page", 100, MAX_PER_PAGE)
    where = (AuditEntry.app_slug == slug, AuditEntry.table_name == tdef.name, AuditEntry.record_id == record["id"])
    with records.database.read() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(AuditEntry).where(*where)).scalar()
        rows = conn.execute(sa.select(AuditEntry).where(*where).order_by(AuditEntry.id)
                            .limit(per_page).offset((page - 1) * per_page)).mappings().all()
    data = [{"id": r["id"], "action": r["action"], "at": _iso(r["at"]), "username": r["username"],
             "changes": r["changes"]} for r in rows]
    return jsonify(data=data, total=total, page=page, per_page=per_page)


# -- bulk --------------------------------------------------------------------------

@bp.post("/apps/<slug>/<table>/bulk")
def bulk(slug, table):
    """Many rows in one transaction; a row's shape problems are row errors like any other."""
    records, tdef = _table(slug, table, "create")
    max_rows = current_app.config["JOB_ROW_THRESHOLD"]
    body = _checked(openapi.validator(openapi.bulk_envelope(tdef, max_rows)))
    mode = body.get("mode", "all_or_nothing")
    rows, positions, errors = _shaped_rows(tdef, body["rows"])
    if errors and mode == "all_or_nothing":
        return _bulk_refused(errors)
    try:
        result = bulk_write(records, table, rows, mode=mode, key=body.get("key"),
                            batch_size=current_app.config["BULK_BATCH_SIZE"])
    except BulkFailed as failed:
        return _bulk_refused(errors + _row_errors(failed.result.errors, positions))
    errors = sorted(errors + _row_errors(result.errors, positions), key=lambda e: e["row"])
    return jsonify(inserted=result.inserted, updated=result.updated,
                   skipped=len({e["row"] for e in errors}), errors=errors)


def _shaped_rows(tdef, rows) -> tuple[list, list[int], list[dict]]:
    """Rows whose shape is right, their positions in the request, and row errors for the rest."""
    good, positions, errors = [], [], []
    for index, row in enumerate(rows):
        problems = openapi.table_problems(tdef, "row", row)
        for p in problems:
            value = row.get(p["field"]) if isinstance(row, dict) and p["field"] in row else None
            errors.append({"row": index, "field": p["field"], "value": value, "message": p["message"]})
        if not problems:
            good.append(row)
            positions.append(index)
    return good, positions, errors


def _row_errors(errors, positions) -> list[dict]:
    return [{**e.as_dict(), "row": positions[e.row]} for e in errors]


def _bulk_refused(errors):
    rows = len({e["row"] for e in errors})
    details = [{"field": f"rows[{e['row']}]" + (f".{e['field']}" if e["field"] else ""), "message": e["message"]}
               for e in errors[:100]]
    return jsonify(error=f"{len(errors)} problem(s) in {rows} row(s); nothing was written", details=details,
                   inserted=0, updated=0, skipped=rows, errors=errors), 422


# -- account and metadata ------------------------------------------------------------

def _iso(value):
    return value.isoformat(timespec="seconds") if value is not None else None


@bp.get("/me")
def me():
    actor = current_actor()
    return jsonify(id=actor.user_id, username=actor.username, roles=sorted(actor.roles), language=actor.language,
                   display_name=actor.attributes.get("display_name", actor.username), auth=g.get("auth_method"))


@bp.get("/tokens")
def list_tokens():
    columns = (ApiToken.id, ApiToken.name, ApiToken.created_at, ApiToken.last_used_at, ApiToken.revoked_at)
    with get_db().read() as conn:
        rows = conn.execute(sa.select(*columns).where(ApiToken.user_id == current_actor().user_id)
                            .order_by(ApiToken.id)).mappings().all()
    return jsonify(data=[{k: _iso(v) if k.endswith("_at") else v for k, v in r.items()} for r in rows])


@bp.post("/tokens")
def create_token():
    """The token is shown in this response only; the database keeps its hash."""
    name = _checked(TOKEN_CHECK)["name"]
    with get_db().write() as conn:
        token = users.create_token(conn, current_actor().user_id, name)
        token_id = conn.execute(sa.select(ApiToken.id).where(ApiToken.token_hash == users.token_hash(token))).scalar_one()
    return jsonify(id=token_id, name=name[:100], token=token), 201


@bp.delete("/tokens/<token_id>")
def revoke_token(token_id):
    token_id = _number_id(token_id, "token")
    with get_db().write() as conn:
        if not users.revoke_token(conn, current_actor().user_id, token_id):
            raise NotFound(f"you have no token {token_id}")
    get_db().token_cache.clear()  # this process stops accepting it at once
    return "", 204


def _published() -> list[AppDef]:
    with get_db().read() as conn:
        return [AppDef(a["definition"]) for a in list_apps(conn) if a["definition"]]


@bp.get("/apps")
def apps():
    actor = current_actor()
    visible = [(a, openapi.readable_tables(a, actor)) for a in _published()]
    return jsonify(data=[{"slug": a.slug, "name": a.label(actor.language), "tables": [t.name for t in tables]}
                         for a, tables in visible if tables])


@bp.get("/apps/<slug>")
def app_detail(slug):
    actor = current_actor()
    appdef = _records(slug).live.appdef
    tables = openapi.readable_tables(appdef, actor)
    if not tables:
        raise Forbidden(f"you may not read any table of '{slug}'")
    return jsonify(slug=slug, name=appdef.label(actor.language),
                   description=label_text(appdef.doc.get("description"), actor.language),
                   tables=[_table_info(t, actor) for t in tables])


def _table_info(tdef, actor) -> dict:
    language = actor.language
    info = {"name": tdef.name, "label": tdef.label(language), "title_field": tdef.title_field,
            "naming": tdef.naming, "list_fields": tdef.doc.get("list_fields"),
            "permissions": {action: allowed(actor, tdef, action) for action in ACTIONS},
            "fields": [_field_info(tdef, f, language) for f in tdef.fields.values()]}
    flow = tdef.workflow()
    if flow is not None:
        info["workflow"] = _workflow_info(flow, language)
    return info


def _field_info(tdef, fdef, language) -> dict:
    info = {k: v for k, v in fdef.items() if k not in ("previous_name", "label", "help", "options")}
    info["label"] = label_text(fdef.get("label"), language, fdef["name"])
    info["read_only"] = bool(field_type(fdef).computed or fdef.get("read_only"))
    if "help" in fdef:
        info["help"] = label_text(fdef["help"], language)
    if "options" in fdef:
        info["options"] = [{"value": v, "label": option_label(fdef, v, language)} for v in option_values(fdef)]
    if fdef["type"] == "child_rows":
        child = tdef.app.tables[fdef["table"]]
        info["fields"] = [_field_info(child, f, language) for f in child.fields.values()]
    return info


def _workflow_info(flow, language) -> dict:
    states = [{"name": s["name"], "label": label_text(s.get("label"), language, s["name"]),
               "final": bool(s.get("final"))} for s in flow["states"]]
    transitions = [{"name": t["name"], "label": label_text(t.get("label"), language, t["name"]),
                    "from": [t["from"]] if isinstance(t["from"], str) else t["from"], "to": t["to"],
                    "roles": t.get("roles", [])} for t in flow["transitions"]]
    return {"field": flow.get("field", "state"), "initial": flow.get("initial") or flow["states"][0]["name"],
            "states": states, "transitions": transitions}


@bp.get("/openapi.json")
def openapi_document():
    """Generated from the live definitions on every call: a publish shows up at once."""
    return jsonify(openapi.document(_published(), current_actor(), current_app.config["JOB_ROW_THRESHOLD"]))
