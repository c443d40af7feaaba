"""Dashboards: every widget is ONE aggregating SQL statement, run in the database.

``widget_statement`` compiles a widget's query — its own filters, the
dashboard's date range and field filters (on the tables that have those
fields) and the reader's row-level condition — into a single Core select:
a value (count/sum/avg/min/max), one row per group or time bucket, or a few
rows for a table widget. Python only turns the (already aggregated) result
into JSON with labels in the reader's language; it never sees the records.

Time buckets are labelled in SQL with the same text on both databases
(``2026-12-03``, ``2026-12-03 08:00``, ``2026-11`` and the Monday that starts
an ISO week), through the ``TimeBucket`` construct that compiles per dialect.
The page and its JSON feed live in ``dashboard_views``; ``bp`` is re-exported here.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

from .definition import TableDef
from .fieldtypes import expression_type, field_type
from .labels import label_text, option_label
from .linked import sql_columns
from .listing import Filter, filter_clause
from .models import User
from .permissions import allowed, row_filter
from .record_checks import Forbidden, Issue, NotFound, ValidationFailed

UNITS = ("hour", "day", "week", "month")
DEFAULT_ROWS = 20
MAX_FILLED_BUCKETS = 1000
JSON_STORED = ("multi_select", "attachment")
_RECORD_ID = re.compile(r"[0-9]{1,18}")
BLANK = {"en": "(blank)", "zh": "（空）"}
YES_NO = ({"en": "No", "zh": "否"}, {"en": "Yes", "zh": "是"})
AGGREGATE_LABELS = {"count": {"en": "Count", "zh": "数量"}, "sum": {"en": "Sum", "zh": "合计"},
                    "avg": {"en": "Average", "zh": "平均"}, "min": {"en": "Minimum", "zh": "最小"},
                    "max": {"en": "Maximum", "zh": "最大"}}


# -- time buckets ----------------------------------------------------------------------------
class TimeBucket(FunctionElement):
    """A date/datetime column as the text label of its hour, day, week (Monday) or month."""

    type = sa.String()
    name = "time_bucket"
    inherit_cache = True
    _traverse_internals = FunctionElement._traverse_internals + [("unit", InternalTraversal.dp_string)]

    def __init__(self, column, unit: str):
        if unit not in UNITS:
            raise ValueError(f"unknown time bucket unit '{unit}' (use {', '.join(UNITS)})")
        self.unit = unit
        super().__init__(column)


_SQLITE_BUCKETS = {  # 'weekday 0' moves to the coming Sunday (or stays), -6 days is that week's Monday
    "hour": "strftime('%Y-%m-%d %H:00', {})", "day": "strftime('%Y-%m-%d', {})",
    "week": "strftime('%Y-%m-%d', {}, 'weekday 0', '-6 days')", "month": "strftime('%Y-%m', {})",
}
_POSTGRES_FORMATS = {"hour": "YYYY-MM-DD HH24:00", "day": "YYYY-MM-DD", "week": "YYYY-MM-DD", "month": "YYYY-MM"}


def _bucket_column(element, compiler, **kw) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(TimeBucket, "sqlite")
def _sqlite_bucket(element, compiler, **kw):
    return _SQLITE_BUCKETS[element.unit].format(_bucket_column(element, compiler, **kw))


@compiles(TimeBucket, "postgresql")
def _postgres_bucket(element, compiler, **kw):
    column = _bucket_column(element, compiler, **kw)
    return f"to_char(date_trunc('{element.unit}', CAST({column} AS TIMESTAMP)), '{_POSTGRES_FORMATS[element.unit]}')"


@compiles(TimeBucket)
def _other_bucket(element, compiler, **kw):
    raise sa.exc.CompileError(f"time buckets are not implemented for {compiler.dialect.name}")


def bucket_range(unit: str, first: str, last: str) -> list[str] | None:
    """Every bucket label from first to last (for gap-free time axes), or None if too many."""
    step, fmt = _BUCKET_STEPS[unit]
    current, end, labels = dt.datetime.strptime(first, fmt), dt.datetime.strptime(last, fmt), []
    while current <= end:
        if len(labels) >= MAX_FILLED_BUCKETS:
            return None
        labels.append(current.strftime(fmt))
        current = step(current)
    return labels


def _next_month(moment: dt.datetime) -> dt.datetime:
    return moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)


_BUCKET_STEPS = {
    "hour": (lambda m: m + dt.timedelta(hours=1), "%Y-%m-%d %H:00"),
    "day": (lambda m: m + dt.timedelta(days=1), "%Y-%m-%d"),
    "week": (lambda m: m + dt.timedelta(days=7), "%Y-%m-%d"),
    "month": (_next_month, "%Y-%m"),
}


# -- compiling one widget --------------------------------------------------------------------
def widget_statement(live, tdef: TableDef, query: dict, dashboard_filters=(), visible=None, readable=None):
    """ONE select for a widget's query.

    ``visible`` is the reader's row-level condition on ``tdef`` (or None);
    ``readable(target, alias)`` gives the row condition under which a linked
    record's title may be shown (None: all, False: none) — without it links show as ids.
    A query with group_by/time_bucket gives rows (bucket, key, title, value); with
    columns, the records' columns (id first); otherwise a single value.
    """
    sql = live.tables[tdef.name]
    where = [_clause(tdef, sql, Filter(f["field"], f.get("op", "eq"), f.get("value")))
             for f in query.get("filters", [])]
    where += [_dashboard_clause(live, tdef, sql, f) for f in dashboard_filters if f.field in tdef.fields]
    if visible is not None:
        where.append(visible)
    if query.get("group_by") or query.get("time_bucket"):
        return _grouped(live, tdef, sql, query, readable).where(*where)
    if query.get("columns"):
        return _listed(live, tdef, sql, query, readable).where(*where)
    return sa.select(_aggregate(tdef, sql, query).label("value")).select_from(sql).where(*where)


def _stored(tdef: TableDef, sql, name: str, purpose: str):
    if name not in tdef.fields or not field_type(tdef.fields[name]).stored:
        raise ValidationFailed([Issue(name, f"cannot {purpose} '{name}': not a stored field of {tdef.name}")])
    return sql.c[name]


def _clause(tdef, sql, flt: Filter):
    fdef = tdef.fields.get(flt.field)
    if fdef is not None and not field_type(fdef).stored:
        raise ValidationFailed([Issue(flt.field, f"cannot filter by '{flt.field}': it is not stored in a column")])
    if fdef is not None and fdef["type"] in JSON_STORED and flt.op not in ("contains", "blank", "not_blank"):
        raise ValidationFailed([Issue(flt.field, f"a {fdef['type']} field can only be filtered with "
                                                 "contains, blank or not_blank")])
    return filter_clause(tdef, sql, flt)


def _dashboard_clause(live, tdef, sql, flt: Filter):
    """A dashboard filter; a link filtered by code (not id) matches through a subquery."""
    fdef = tdef.fields[flt.field]
    values = flt.value if isinstance(flt.value, list) else [flt.value]
    if fdef["type"] not in ("link", "user") or all(_RECORD_ID.fullmatch(str(v)) for v in values):
        return _clause(tdef, sql, flt)
    if fdef["type"] == "user":
        target, keys = User.__table__, [User.__table__.c.username, User.__table__.c.display_name]
    else:
        target_def = live.appdef.tables[fdef["table"]]
        target = live.tables[target_def.name]
        keys = [target.c._name] + ([sa.cast(target.c[target_def.title_field], sa.Text)] if target_def.title_field else [])
    texts = [str(v) for v in values]
    ids = [int(v) for v in texts if _RECORD_ID.fullmatch(v)]
    match = sa.or_(target.c.id.in_(ids), *(key.in_(texts) for key in keys))
    return sql.c[flt.field].in_(sa.select(target.c.id).where(match).scalar_subquery())


def _aggregate(tdef, sql, query):
    kind, name = query.get("aggregate", "count"), query.get("field")
    if kind == "count":
        return sa.func.count(_stored(tdef, sql, name, "count")) if name else sa.func.count()
    if not name:
        raise ValidationFailed([Issue("field", f"aggregate {kind} needs the field to {kind}")])
    column = _stored(tdef, sql, name, kind)
    if kind in ("sum", "avg") and expression_type(tdef.fields[name]) != "number":
        raise ValidationFailed([Issue(name, f"cannot {kind} '{name}': it is not a number field")])
    if kind == "avg":
        return sa.func.avg(column, type_=sa.Float())
    if kind == "sum":
        return sa.func.coalesce(sa.func.sum(column), 0)
    return getattr(sa.func, kind)(column)


def _grouped(live, tdef, sql, query, readable):
    columns, source, where = [], sql, []
    bucket = query.get("time_bucket")
    if bucket:  # records without a date have no place on a time axis
        dated = _stored(tdef, sql, bucket["field"], "bucket")
        columns.append(TimeBucket(dated, bucket["unit"]).label("bucket"))
        where.append(dated.isnot(None))
    name = query.get("group_by")
    if name:
        key = _stored(tdef, sql, name, "group by")
        columns.append((sa.cast(key, sa.Text) if tdef.fields[name]["type"] in JSON_STORED else key).label("group_key"))
        title = _title_join(live, tdef.fields[name], key, readable)
        if title is not None:
            alias, title_column, on = title
            source = source.outerjoin(alias, on)
            columns.append(title_column.label("group_title"))
    value = _aggregate(tdef, sql, query).label("value")
    stmt = sa.select(*columns, value).select_from(source).where(*where).group_by(*columns)
    limit = query.get("limit")
    if bucket:
        stmt = stmt.order_by(columns[0].desc() if limit else columns[0])
    elif limit:
        stmt = stmt.order_by(value.desc().nulls_last(), *columns)
    return stmt.limit(limit) if limit else stmt


def _listed(live, tdef, sql, query, readable):
    columns, source = [sql.c.id], sql
    for name in query["columns"]:
        column = _stored(tdef, sql, name, "show")
        columns.append(column)
        title = _title_join(live, tdef.fields[name], column, readable)
        if title is not None:
            alias, title_column, on = title
            source = source.outerjoin(alias, on)
            columns.append(title_column.label(f"{name}__title"))
    return (sa.select(*columns).select_from(source).order_by(sql.c.id.desc())
            .limit(query.get("limit", DEFAULT_ROWS)))


def _title_join(live, fdef, column, readable):
    """(alias, title column, ON clause) showing a linked record's title, or None."""
    if readable is None or fdef["type"] not in ("link", "user"):
        return None
    if fdef["type"] == "user":
        users = User.__table__.alias()
        return users, users.c.display_name, users.c.id == column
    target = live.appdef.tables[fdef["table"]]
    alias = live.tables[target.name].alias()
    condition = readable(target, alias)
    if condition is False:
        return None
    title = alias.c[target.title_field] if target.title_field else alias.c._name
    on = alias.c.id == column if condition is None else sa.and_(alias.c.id == column, condition)
    return alias, sa.func.coalesce(sa.cast(title, sa.Text), alias.c._name), on


# -- running widgets --------------------------------------------------------------------------
@dataclass
class CompiledWidget:
    widget: dict
    tdef: TableDef
    query: dict
    statement: object
    language: str = "en"
    colors: dict = field(default_factory=dict)


def compile_widget(records, widget: dict, filters=(), language: str | None = None) -> CompiledWidget:
    """Check the reader may read the widget's table and build its one statement."""
    tdef = records.table(widget["query"]["table"], "read")
    query = dict(widget["query"])
    if widget["type"] == "table" and not (query.get("columns") or query.get("group_by") or query.get("time_bucket")):
        query["columns"] = _default_columns(tdef)
    statement = widget_statement(records.live, tdef, query, filters, _row_condition(records, tdef),
                                 _readable(records))
    return CompiledWidget(widget, tdef, query, statement, language or records.actor.language,
                          _option_colors(tdef, query.get("group_by")))


def run_widget(records, dashboard: dict, widget: dict, filters=(), *, conn=None, language=None) -> dict:
    """A widget's data, JSON-ready: {"value"}, {"labels", "values"} or {"columns", "rows"}.

    ``filters`` are the dashboard's, already parsed (``dashboard_views.dashboard_filters``);
    ``dashboard`` is the widget's board, kept in the signature for callers that render one widget.
    """
    compiled = compile_widget(records, widget, filters, language)
    if conn is not None:
        return read_widget(conn, compiled)
    with records.database.read() as conn:
        return read_widget(conn, compiled)


def run_dashboard(records, dashboard: dict, filters=(), *, language=None) -> dict:
    """Every widget in one read transaction. Bad filters fail the whole request (before any query);
    a widget over a table the reader may not read reports its error in place."""
    compiled, results = [], {}
    for widget in dashboard.get("widgets", []):
        try:
            compiled.append(compile_widget(records, widget, filters, language))
        except (Forbidden, NotFound) as err:
            results[widget["name"]] = {"error": err.message}
    with records.database.read() as conn:
        for item in compiled:
            results[item.widget["name"]] = read_widget(conn, item)
    return {"widgets": {w["name"]: results[w["name"]] for w in dashboard.get("widgets", [])}}


def _row_condition(records, tdef: TableDef):
    """The reader's rows of tdef; a child table's rows follow the rows of their parents."""
    if not tdef.child:
        return records.visible(tdef)
    sql = records.sql(tdef)
    parts = []
    for parent in records.live.appdef.tables.values():
        for child_field in parent.child_fields:
            if child_field["table"] != tdef.name or not allowed(records.actor, parent, "read"):
                continue
            belongs = sa.and_(sql.c._parent_table == parent.name, sql.c._parent_field == child_field["name"])
            visible = records.visible(parent)
            if visible is not None:
                parent_sql = records.sql(parent)
                belongs = sa.and_(belongs, sql.c._parent_id.in_(sa.select(parent_sql.c.id).where(visible)))
            parts.append(belongs)
    return sa.or_(*parts) if parts else sa.false()


def _readable(records):
    """readable(target, alias) for widget_statement: titles only of linked records the reader may see."""
    def readable(target: TableDef, alias):
        if not allowed(records.actor, target, "read"):
            return False
        resolve = sql_columns(records.live.appdef, records.live.tables, target.name)
        return row_filter(records.actor, target, lambda path: resolve(path, target.name, alias))
    return readable


def _default_columns(tdef: TableDef) -> list[str]:
    listed = [n for n in tdef.doc.get("list_fields", []) if n in tdef.fields and field_type(tdef.fields[n]).stored]
    return listed or [f["name"] for f in tdef.stored_fields][:5]


def _option_colors(tdef: TableDef, name: str | None) -> dict:
    if not name or name not in tdef.fields:
        return {}
    colors = {o["value"]: o["color"] for o in tdef.fields[name].get("options", [])
              if isinstance(o, dict) and o.get("color")}
    flow = tdef.workflow()
    if flow and flow.get("field", "state") == name:
        colors.update({s["name"]: s["color"] for s in flow.get("states", []) if s.get("color")})
    return colors


def read_widget(conn, compiled: CompiledWidget) -> dict:
    rows = conn.execute(compiled.statement).mappings().all()
    query = compiled.query
    if query.get("group_by") or query.get("time_bucket"):
        shaped = _series(compiled, rows) if query.get("group_by") and query.get("time_bucket") else _groups(compiled, rows)
        return _as_table(compiled, shaped) if compiled.widget["type"] == "table" else shaped
    if query.get("columns"):
        return _rows(compiled, rows)
    return {"value": plain(rows[0]["value"]), "format": _value_format(compiled)}


def _groups(compiled: CompiledWidget, rows) -> dict:
    query, language = compiled.query, compiled.language
    if query.get("time_bucket"):
        rows = list(reversed(rows)) if query.get("limit") else rows
        return _filled(compiled, [r["bucket"] for r in rows], [plain(r["value"]) for r in rows])
    fdef = compiled.tdef.fields[query["group_by"]]
    if not query.get("limit"):
        rows = sorted(rows, key=_key_order(fdef))
    keys = [_key(fdef, r["group_key"]) for r in rows]
    return {"labels": [group_label(compiled.tdef, fdef, r["group_key"], r.get("group_title"), language) for r in rows],
            "values": [plain(r["value"]) for r in rows], "keys": keys,
            "colors": [compiled.colors.get(k) if isinstance(k, str) else None for k in keys],
            "format": _value_format(compiled)}


def _filled(compiled, buckets, values) -> dict:
    """Buckets without records get 0 (count/sum) or null, so a time axis has no hidden gaps."""
    unit = compiled.query["time_bucket"]["unit"]
    empty = 0 if compiled.query.get("aggregate", "count") in ("count", "sum") else None
    labels = bucket_range(unit, buckets[0], buckets[-1]) if buckets and not compiled.query.get("limit") else None
    if labels is not None:
        found = dict(zip(buckets, values))
        buckets, values = labels, [found.get(b, empty) for b in labels]
    return {"labels": buckets, "values": values, "keys": list(buckets), "unit": unit,
            "format": _value_format(compiled)}


def _series(compiled: CompiledWidget, rows) -> dict:
    """group_by with time_bucket: one series per group over the shared buckets."""
    fdef = compiled.tdef.fields[compiled.query["group_by"]]
    buckets = sorted({r["bucket"] for r in rows if r["bucket"] is not None})
    labels = bucket_range(compiled.query["time_bucket"]["unit"], buckets[0], buckets[-1]) if buckets else []
    labels = labels if labels is not None else buckets
    empty = 0 if compiled.query.get("aggregate", "count") in ("count", "sum") else None
    groups: dict = {}
    for row in sorted(rows, key=_key_order(fdef)):
        entry = groups.setdefault(_hashable(row["group_key"]), {
            "key": _key(fdef, row["group_key"]), "color": None,
            "label": group_label(compiled.tdef, fdef, row["group_key"], row.get("group_title"), compiled.language),
            "values": dict.fromkeys(labels, empty)})
        if row["bucket"] in entry["values"]:
            entry["values"][row["bucket"]] = plain(row["value"])
    series = [{**g, "color": compiled.colors.get(g["key"]) if isinstance(g["key"], str) else None,
               "values": list(g["values"].values())} for g in groups.values()]
    return {"labels": labels, "series": series, "unit": compiled.query["time_bucket"]["unit"],
            "format": _value_format(compiled)}


def _as_table(compiled: CompiledWidget, shaped: dict) -> dict:
    query, language = compiled.query, compiled.language
    first = query.get("group_by") or query["time_bucket"]["field"]
    columns = [{"name": first, "label": _field_label(compiled.tdef, first, language), "type": "text"}]
    if "series" in shaped:
        columns += [{"name": str(s["key"]), "label": s["label"], "type": _value_format(compiled)} for s in shaped["series"]]
        rows = [[label, *(s["values"][i] for s in shaped["series"])] for i, label in enumerate(shaped["labels"])]
        return {"columns": columns, "rows": rows}
    aggregate = query.get("aggregate", "count")
    columns.append({"name": "value", "label": label_text(AGGREGATE_LABELS[aggregate], language), "type": _value_format(compiled)})
    return {"columns": columns, "rows": [list(pair) for pair in zip(shaped["labels"], shaped["values"])]}


def _rows(compiled: CompiledWidget, rows) -> dict:
    tdef, language, names = compiled.tdef, compiled.language, compiled.query["columns"]
    columns = [{"name": n, "label": _field_label(tdef, n, language), "type": _format(tdef.fields[n]) or "text"}
               for n in names]
    body = [[display(tdef, tdef.fields[n], row[n], row.get(f"{n}__title"), language) for n in names] for row in rows]
    return {"columns": columns, "rows": body, "ids": [row["id"] for row in rows]}


# -- values and labels -------------------------------------------------------------------------
def plain(value):
    """A database value as JSON: whole Decimals as ints, dates as ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def group_label(tdef: TableDef, fdef: dict, key, title, language: str) -> str:
    if key is None:
        return label_text(BLANK, language)
    return display(tdef, fdef, key, title, language)


def display(tdef: TableDef, fdef: dict, value, title=None, language: str = "en"):
    """How a stored value reads on a dashboard, in the reader's language."""
    if value is None:
        return None
    kind = fdef["type"]
    if kind == "select":
        return value_label(tdef, fdef, value, language)
    if kind == "multi_select":
        return ", ".join(option_label(fdef, v, language) for v in _key(fdef, value))
    if kind in ("link", "user"):
        return str(title) if title is not None else f"#{value}"
    if kind == "boolean":
        return label_text(YES_NO[bool(value)], language)
    if kind == "attachment":
        return value.get("name") if isinstance(value, dict) else str(value)
    return plain(value)


def value_label(tdef: TableDef, fdef: dict, value: str, language: str) -> str:
    """A select option's label; a workflow's state field falls back to the state's label."""
    text = option_label(fdef, value, language)
    flow = tdef.workflow()
    if text == value and flow and flow.get("field", "state") == fdef["name"]:
        state = next((s for s in flow.get("states", []) if s["name"] == value and s.get("label")), None)
        return label_text(state["label"], language, value) if state else text
    return text


def _key(fdef, key):
    if fdef["type"] == "multi_select" and isinstance(key, str):
        return json.loads(key)
    return plain(key)


def _hashable(key):
    return json.dumps(key, default=str) if isinstance(key, (list, dict)) else key


def _key_order(fdef):
    """Select groups in option order, others by value (one field's keys share a type); blanks last."""
    options = [o if isinstance(o, str) else o["value"] for o in fdef.get("options", [])]

    def order(row):
        key = row["group_key"]
        if key is None:
            return (2, 0, 0)
        if fdef["type"] == "select" and key in options:
            return (0, options.index(key), 0)
        return (1, 0, key)
    return order


def _field_label(tdef: TableDef, name: str, language: str) -> str:
    return label_text(tdef.fields[name].get("label"), language, name)


def _value_format(compiled: CompiledWidget) -> str | None:
    aggregate = compiled.query.get("aggregate", "count")
    if aggregate == "count":
        return "integer"
    kind = _format(compiled.tdef.fields.get(compiled.query.get("field")))
    return "decimal" if aggregate == "avg" and kind == "integer" else kind


def _format(fdef) -> str | None:
    """A hint for the page: durations are seconds, dates are ISO text."""
    if fdef is None:
        return None
    kind = fdef.get("result_type", fdef["type"]) if fdef["type"] == "formula" else fdef["type"]
    return kind if kind in ("duration", "date", "datetime", "decimal", "integer") else None


def __getattr__(name):  # the blueprint lives with the views; web.BLUEPRINTS names "runtime.dashboards:bp"
    if name == "bp":
        from .dashboard_views import bp
        return bp
    raise AttributeError(name)
