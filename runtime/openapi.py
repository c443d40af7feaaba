"""The REST API's contract, built from the live metadata: per-table JSON
Schemas and the OpenAPI 3.1 document.

A table's request schema checks SHAPE only — a JSON object, no unknown keys,
the JSON types each field type accepts (``fieldtypes.json_schema``). Value
rules (options, lengths, ranges, patterns, links, required-after-defaults)
stay with the record service, the only validator of values, so a value is
never judged by two sets of rules with two sets of messages. The OpenAPI
document shows the full ``json_schema`` (options as ``enum`` and so on) because
it helps clients and fuzzers produce meaningful values; the server still
enforces only the shape of it.
"""
from __future__ import annotations

import functools

import jsonschema

from .definition import TableDef
from .fieldtypes import FIELD_TYPES, field_type
from .labels import label_text
from .listing import MAX_PER_PAGE, OPS
from .permissions import Actor, allowed

API = "/api/v1"
MAX_INT32 = 2**31 - 1
SHAPE_KEYS = {"type", "items", "properties", "additionalProperties", "required", "readOnly"}
RESERVED_PARAMS = ("page", "per_page", "sort", "q")
SYSTEM_OUTPUT = {
    "id": {"type": "integer"}, "_name": {"type": ["string", "null"]}, "_version": {"type": "integer"},
    "_created_at": {"type": ["string", "null"]}, "_updated_at": {"type": ["string", "null"]},
}
VERSION = {"type": "integer", "minimum": 1, "maximum": MAX_INT32,
           "description": "The version you read; a stale one is refused with 409."}


# -- field and table schemas -----------------------------------------------------

def state_field(tdef: TableDef) -> str | None:
    flow = tdef.workflow()
    return flow.get("field", "state") if flow else None


def writable(tdef: TableDef, fdef: dict, creating: bool) -> bool:
    """Fields a client sends values for; the record service refuses (and explains) the others."""
    if field_type(fdef).computed or fdef.get("read_only"):
        return False
    return creating or fdef["name"] != state_field(tdef)


def _nullable(schema: dict) -> dict:
    if "type" not in schema:
        return schema
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    out = {**schema, "type": types + (["null"] if "null" not in types else [])}
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def shape_only(schema: dict) -> dict:
    """Drop the value keywords (enum, maxLength, format…): the record service judges values."""
    out = {k: v for k, v in schema.items() if k in SHAPE_KEYS}
    if isinstance(out.get("items"), dict):
        out["items"] = shape_only(out["items"])
    if "properties" in out:
        out["properties"] = {k: shape_only(v) for k, v in out["properties"].items()}
    return out


def field_input(tdef: TableDef, fdef: dict, mode: str) -> dict:
    """The documented request schema of one field (value keywords included).

    Exactly what the field type declares it accepts; only bulk rows also take
    null for every field, because the bulk path reads null as a blank cell.
    """
    label = label_text(fdef.get("label"), "en", fdef["name"])
    if not writable(tdef, fdef, mode in ("create", "row")):
        return {"readOnly": True, "title": label}
    if fdef["type"] == "child_rows":
        child = tdef.app.tables[fdef["table"]]
        return {"type": "array", "items": table_input(child, "create"), "title": label}
    schema = dict(field_type(fdef).json_schema(fdef))
    return {**(_nullable(schema) if mode == "row" else schema), "title": label}


def field_output(tdef: TableDef, fdef: dict) -> dict:
    kind = field_type(fdef)
    if fdef["type"] == "child_rows":
        return {"type": "array", "items": record_output(tdef.app.tables[fdef["table"]])}
    if kind.computed:
        kind = FIELD_TYPES[fdef.get("result_type", "text")]
    return _nullable(shape_only(dict(kind.json_schema(fdef))))


def required_on_create(tdef: TableDef) -> list[str]:
    """Required fields the record service cannot fill in itself (no default, not the state)."""
    return [name for name, f in tdef.fields.items()
            if f.get("required") and writable(tdef, f, True) and name != state_field(tdef)
            and "default" not in f and "default_expression" not in f]


def table_input(tdef: TableDef, mode: str) -> dict:
    """Request body of one table: create, patch (partial), put (every writable field) or a bulk row."""
    properties = {name: field_input(tdef, f, mode) for name, f in tdef.fields.items()}
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if mode == "create":
        schema["required"] = required_on_create(tdef)
    elif mode in ("patch", "put"):
        properties["_version"] = VERSION
    if mode == "put":
        schema["required"] = [n for n, f in tdef.fields.items() if writable(tdef, f, False)]
    return schema


def record_output(tdef: TableDef) -> dict:
    properties = dict(SYSTEM_OUTPUT)
    properties.update({name: field_output(tdef, f) for name, f in tdef.fields.items()})
    return {"type": "object", "properties": properties, "required": ["id", "_version"]}


# -- checking a body ---------------------------------------------------------------

@functools.lru_cache(maxsize=512)
def _table_validator(tdef: TableDef, mode: str):
    """Compiled once per table and mode; a TableDef belongs to one immutable published version."""
    return validator(shape_only(table_input(tdef, mode)))


def validator(schema: dict) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema)


def table_problems(tdef: TableDef, mode: str, body) -> list[dict]:
    return problems(_table_validator(tdef, mode), body)


def problems(checker: jsonschema.Draft202012Validator, instance, prefix: str = "") -> list[dict]:
    """Schema errors as ``[{field, message}]``, the record service's own details format."""
    out: list[dict] = []
    for error in checker.iter_errors(instance):
        for item in _describe(error, prefix):
            if item not in out:
                out.append(item)
    return out


def _path(parts, prefix="") -> str | None:
    text = prefix
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or None


def _describe(error, prefix) -> list[dict]:
    where = list(error.absolute_path)
    if error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        return [{"field": _path(where + [key], prefix), "message": f"unknown field (known: {', '.join(sorted(known))})"}
                for key in error.instance if key not in known]
    if error.validator == "required":
        return [{"field": _path(where + [name], prefix), "message": "is required"}
                for name in error.validator_value if name not in error.instance]
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return [{"field": _path(where, prefix), "message": f"must be {' or '.join(wanted)}, not {json_type(error.instance)}"}]
    return [{"field": _path(where, prefix), "message": error.message}]


def json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for kind, name in ((str, "string"), (dict, "object"), (list, "array"), (int, "integer")):
        if isinstance(value, kind):
            return name
    return "number"


# -- the OpenAPI document -----------------------------------------------------------

ERROR = {"type": "object", "required": ["error"],
         "properties": {"error": {"type": "string"}, "details": {"type": "array", "items": {"type": "object"}}}}
ROW_ERROR = {"type": "object", "properties": {"row": {"type": "integer"}, "field": {"type": ["string", "null"]},
                                              "value": {}, "message": {"type": "string"}}}
BULK_RESULT = {"type": "object", "properties": {
    "inserted": {"type": "integer"}, "updated": {"type": "integer"}, "skipped": {"type": "integer"},
    "errors": {"type": "array", "items": ROW_ERROR}}}
TOKEN = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "created_at": {"type": ["string", "null"]},
    "last_used_at": {"type": ["string", "null"]}, "revoked_at": {"type": ["string", "null"]}}}
TOKEN_CREATE = {"type": "object", "required": ["name"], "additionalProperties": False,
                "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100}}}
TRANSITION_BODY = {"type": "object", "additionalProperties": False, "properties": {"_version": VERSION}}
HISTORY_ENTRY = {"type": "object", "properties": {
    "id": {"type": "integer"}, "action": {"type": "string"}, "at": {"type": ["string", "null"]},
    "username": {"type": ["string", "null"]}, "changes": {"type": "object"}}}


def bulk_body(tdef: TableDef, max_rows: int) -> dict:
    """The bulk envelope; each row's shape is checked separately so a bad row is a row error."""
    keys = [f["name"] for f in tdef.stored_fields if not field_type(f).computed]
    return {"type": "object", "required": ["rows"], "additionalProperties": False, "properties": {
        "rows": {"type": "array", "maxItems": max_rows, "items": table_input(tdef, "row")},
        "mode": {"enum": ["all_or_nothing", "valid_only"]},
        "key": {"enum": keys, "description": "Upsert: update the record whose field has this row's value."}}}


def bulk_envelope(tdef: TableDef, max_rows: int) -> dict:
    body = bulk_body(tdef, max_rows)
    return {**body, "properties": {**body["properties"], "rows": {"type": "array", "maxItems": max_rows}}}


def _json(schema) -> dict:
    return {"application/json": {"schema": schema}}


def _response(description: str, schema=None) -> dict:
    return {"description": description, **({"content": _json(schema)} if schema is not None else {})}


def _operation(op_id: str, tag: str, summary: str, ok: dict, ok_status="200", body=None, params=()) -> dict:
    operation = {"operationId": op_id, "tags": [tag], "summary": summary, "parameters": list(params),
                 "responses": {ok_status: ok, "default": _response("An error", {"$ref": "#/components/schemas/Error"})}}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": _json(body)}
    return operation


def _param(name, where, schema, description="", required=False) -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema,
            **({"description": description} if description else {})}


RECORD_ID = _param("id", "path", {"type": "integer", "minimum": 1})
IF_MATCH = _param("If-Match", "header", {"type": "string", "pattern": "^(W/)?\"?[0-9]{1,10}\"?$"},
                  "The record version you read (instead of `_version` in the body).")


def _page_params() -> list[dict]:
    return [_param("page", "query", {"type": "integer", "minimum": 1}),
            _param("per_page", "query", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE})]


def list_params(tdef: TableDef) -> list[dict]:
    params = _page_params() + [
        _param("sort", "query", {"type": "string"}, "Comma-separated fields; '-' in front sorts descending."),
        _param("q", "query", {"type": "string"}, "Search text fields.")]
    names = ["id", "_name"] + [f["name"] for f in tdef.stored_fields]
    return params + [_param(name, "query", {"type": "string"},
                            f"Filter; also {name}__op= with op one of {', '.join(OPS)}.")
                     for name in names if name not in RESERVED_PARAMS]


def page_of(schema) -> dict:
    return {"type": "object", "required": ["data"], "properties": {
        "data": {"type": "array", "items": schema}, "total": {"type": ["integer", "null"]},
        "page": {"type": "integer"}, "per_page": {"type": "integer"}}}


def table_paths(slug: str, tdef: TableDef, max_rows: int) -> dict:
    base, name, ref = f"{API}/apps/{slug}/{tdef.name}", f"{slug}.{tdef.name}", f"#/components/schemas/{slug}.{tdef.name}"
    record = _response("The record", {"$ref": ref})
    key = _param("Idempotency-Key", "header", {"type": "string", "minLength": 1, "maxLength": 64},
                 "Retrying with the same key returns the record created the first time.")
    paths = {
        base: {"get": _operation(f"list_{slug}_{tdef.name}", slug, f"List {name} records",
                                 _response("A page of records", page_of({"$ref": ref})), params=list_params(tdef)),
               "post": _operation(f"create_{slug}_{tdef.name}", slug, f"Create a {name} record", record, "201",
                                  {"$ref": f"{ref}.create"}, [key])},
        f"{base}/bulk": {"post": _operation(f"bulk_{slug}_{tdef.name}", slug, f"Import {name} records",
                                            _response("Counts and row errors", BULK_RESULT), body=bulk_body(tdef, max_rows))},
        f"{base}/{{id}}": {
            "get": _operation(f"get_{slug}_{tdef.name}", slug, f"Read a {name} record", record, params=[RECORD_ID]),
            "patch": _operation(f"patch_{slug}_{tdef.name}", slug, "Change some fields", record,
                                body={"$ref": f"{ref}.patch"}, params=[RECORD_ID, IF_MATCH]),
            "put": _operation(f"put_{slug}_{tdef.name}", slug, "Replace every writable field", record,
                              body={"$ref": f"{ref}.put"}, params=[RECORD_ID, IF_MATCH]),
            "delete": _operation(f"delete_{slug}_{tdef.name}", slug, f"Delete a {name} record",
                                 _response("Deleted"), "204", params=[RECORD_ID, IF_MATCH])},
        f"{base}/{{id}}/history": {"get": _operation(
            f"history_{slug}_{tdef.name}", slug, "The record's audit trail",
            _response("Audit entries, oldest first", page_of(HISTORY_ENTRY)), params=[RECORD_ID, *_page_params()])},
    }
    flow = tdef.workflow()
    if flow is not None:
        paths.update(_transition_paths(slug, tdef, flow, base, record))
    return paths


def _transition_paths(slug, tdef, flow, base, record) -> dict:
    names = [t["name"] for t in flow["transitions"]]
    listed = {"type": "array", "items": {"type": "object"}}
    name = _param("name", "path", {"type": "string", "enum": names})
    return {
        f"{base}/{{id}}/transitions": {"get": _operation(
            f"transitions_{slug}_{tdef.name}", slug, "Transitions you may run now",
            _response("Available transitions", {"type": "object", "properties": {"data": listed}}), params=[RECORD_ID])},
        f"{base}/{{id}}/transitions/{{name}}": {"post": _operation(
            f"run_transition_{slug}_{tdef.name}", slug, "Run a transition", record, body=TRANSITION_BODY,
            params=[RECORD_ID, name, IF_MATCH])},
    }


def _generic_paths() -> dict:
    obj = {"type": "object"}
    token_id = _param("id", "path", {"type": "integer", "minimum": 1})
    slug = _param("slug", "path", {"type": "string"})
    return {
        f"{API}/me": {"get": _operation("me", "account", "Who you are", _response("The signed-in user", obj))},
        f"{API}/tokens": {
            "get": _operation("list_tokens", "account", "Your API tokens",
                              _response("Tokens", {"type": "object", "properties": {"data": {"type": "array", "items": TOKEN}}})),
            "post": _operation("create_token", "account", "Create an API token (shown once)",
                               _response("The new token", obj), "201", TOKEN_CREATE)},
        f"{API}/tokens/{{id}}": {"delete": _operation("revoke_token", "account", "Revoke a token",
                                                      _response("Revoked"), "204", params=[token_id])},
        f"{API}/apps": {"get": _operation("list_apps", "apps", "Apps you can see", _response("Apps", obj))},
        f"{API}/apps/{{slug}}": {"get": _operation("get_app", "apps", "An app's tables and fields",
                                                   _response("The app", obj), params=[slug])},
        f"{API}/openapi.json": {"get": _operation("openapi", "apps", "This document", _response("OpenAPI 3.1", obj))},
    }


def table_components(slug: str, tdef: TableDef) -> dict:
    name = f"{slug}.{tdef.name}"
    return {name: record_output(tdef), f"{name}.create": table_input(tdef, "create"),
            f"{name}.patch": table_input(tdef, "patch"), f"{name}.put": table_input(tdef, "put")}


def readable_tables(appdef, actor: Actor) -> list[TableDef]:
    """The tables the API serves to this actor (child tables go through their parent)."""
    return [t for t in appdef.tables.values() if not t.child and allowed(actor, t, "read")]


def document(apps, actor: Actor, max_rows: int) -> dict:
    """OpenAPI 3.1 for the given live apps (AppDef views), limited to what the actor may read."""
    paths, schemas = _generic_paths(), {"Error": ERROR}
    tags = [{"name": "account"}, {"name": "apps"}]
    for appdef in apps:
        tables = readable_tables(appdef, actor)
        if tables:
            tags.append({"name": appdef.slug, "description": appdef.label(actor.language)})
        for tdef in tables:
            paths.update(table_paths(appdef.slug, tdef, max_rows))
            schemas.update(table_components(appdef.slug, tdef))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Takt API", "version": "1",
                 "description": "Records of every published app. Send `Authorization: Bearer <token>`; "
                                "browser sessions must also send `X-CSRF-Token` on changes."},
        "servers": [{"url": "/"}],
        "tags": tags,
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session"}}},
        "security": [{"bearer": []}, {"session": []}],
    }
