"""Dashboards on SQLite and PostgreSQL: aggregates, time buckets, dashboard filters and
row-level rules checked against values computed by hand from the records the tests
create; one SQL statement per widget; the page, its JSON feed and the vendored Chart.js."""
from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from runtime import vendor
from runtime.dashboard_views import dashboard_filters
from runtime.dashboards import TimeBucket, bucket_range, run_dashboard, run_widget, widget_statement
from runtime.demo import example_documents
from runtime.listing import Filter
from runtime.permissions import Actor
from runtime.record_checks import Forbidden, ValidationFailed
from runtime.users import create_user

ROOT = Path(__file__).resolve().parents[2]

APP = """
slug: demo
roles: [{name: supervisor}]
tables:
  - name: machine
    label: {en: Machine, zh: 设备}
    title_field: code
    fields:
      - {name: code, type: barcode, required: true, unique: true}
    permissions:
      - {role: supervisor, read: true, create: true}
  - name: work_order
    label: {en: Work order, zh: 工单}
    list_fields: [line, quantity, machine, due]
    fields:
      - {name: quantity, type: integer, label: {en: Quantity, zh: 数量}}
      - {name: price, type: decimal, scale: 2}
      - {name: due, type: date, label: {en: Due, zh: 交期}}
      - {name: done_at, type: datetime}
      - {name: took, type: duration}
      - name: line
        type: select
        label: {en: Line, zh: 产线}
        options: [{value: line_1, label: {en: Line 1, zh: 一线}}, {value: line_2, label: {en: Line 2, zh: 二线}}]
      - {name: status, type: select, options: [open, done]}
      - {name: machine, type: link, table: machine}
      - {name: steps, type: child_rows, table: step}
    permissions:
      - {role: supervisor, read: true, create: true, update: true}
      - {role: operator, read: true, rows: "line = current_user.line"}
  - name: step
    child: true
    fields:
      - {name: minutes, type: integer}
  - name: downtime
    fields:
      - {name: minutes, type: integer}
      - {name: line, type: select, options: [line_1, line_2]}
dashboards:
  - name: shop
    label: {en: Shop floor, zh: 车间}
    date_field: due
    filter_fields: [line, machine]
    refresh_seconds: 30
    widgets:
      - {name: open_orders, type: number, title: {en: Open orders, zh: 未完工},
         query: {table: work_order, filters: [{field: status, op: eq, value: open}]}, layout: {x: 0, y: 0, w: 3, h: 2}}
      - {name: qty_by_line, type: bar, title: {en: Quantity by line, zh: 各产线数量},
         query: {table: work_order, group_by: line, aggregate: sum, field: quantity}, layout: {x: 3, y: 0, w: 5, h: 4}}
      - {name: per_week, type: line, query: {table: work_order, time_bucket: {field: due, unit: week}}}
      - {name: by_machine, type: pie, query: {table: work_order, group_by: machine}}
      - {name: latest, type: table, query: {table: work_order, limit: 3}}
      - {name: machines, type: number, query: {table: machine}}
      - {name: downtime_total, type: number, query: {table: downtime, aggregate: sum, field: minutes}}
      - {name: step_minutes, type: number, query: {table: step, aggregate: sum, field: minutes}}
      - {name: monthly_by_line, type: line, query: {table: work_order, group_by: line, time_bucket: {field: due, unit: month}}}
      - {name: status_table, type: table, query: {table: work_order, group_by: status}}
  - name: finished
    date_field: done_at
    widgets:
      - {name: done, type: number, query: {table: work_order}}
navigation:
  - {dashboard: shop}
  - {table: work_order}
"""

ORDERS = [
    {"line": "line_1", "status": "open", "quantity": 10, "price": "2.50", "due": "2026-03-02",
     "done_at": "2026-03-02T08:15:00", "took": 600, "machine": "M1", "steps": [{"minutes": 5}, {"minutes": 7}]},
    {"line": "line_1", "status": "done", "quantity": 20, "price": "4.00", "due": "2026-03-04",
     "done_at": "2026-03-04T09:40:00", "took": 900, "machine": "M1", "steps": [{"minutes": 11}]},
    {"line": "line_2", "status": "open", "quantity": 5, "price": "1.25", "due": "2026-03-08",
     "done_at": "2026-03-08T23:59:00", "took": 300, "machine": "M2", "steps": [{"minutes": 3}]},
    {"line": "line_2", "status": "done", "quantity": 40, "price": "3.00", "due": "2026-03-09",
     "done_at": "2026-03-09T00:00:00", "took": 1200, "machine": None, "steps": []},
    {"line": None, "status": "open", "quantity": 7, "price": None, "due": "2026-04-01",
     "done_at": None, "took": None, "machine": "M2", "steps": []},
    {"line": "line_1", "status": "open", "quantity": 13, "price": "0.75", "due": "2026-04-30",
     "done_at": "2026-04-30T17:05:00", "took": 60, "machine": None, "steps": [{"minutes": 2}]},
]
DOWNTIME = [{"minutes": 30, "line": "line_1"}, {"minutes": 45, "line": "line_2"}, {"minutes": 15, "line": "line_1"}]
LINE_LABELS = {"line_1": "Line 1", "line_2": "Line 2", None: "(blank)"}
OPERATOR = Actor(1001, "op", frozenset({"operator"}), {"line": "line_1"}, "en")


@pytest.fixture
def shop(takt):
    takt.publish(APP)
    records = takt.records()
    for code in ("M1", "M2"):
        records.create("machine", {"code": code})
    for order in ORDERS:
        records.create("work_order", {k: v for k, v in order.items() if v is not None})
    for row in DOWNTIME:
        records.create("downtime", row)
    return takt


def board(takt, name="shop"):
    return takt.live().appdef.named("dashboards")[name]


def widget(kind="bar", **query):
    return {"name": "w", "type": kind, "query": {"table": "work_order", **query}}


def run(takt, spec, filters=(), actor=None, language="en"):
    return run_widget(takt.records(actor=actor), board(takt), spec, filters, language=language)


def pairs(result):
    return dict(zip(result["labels"], result["values"]))


def number(value):
    return None if value is None else float(Decimal(str(value)))


def by_hand(orders, key, aggregate, field=None):
    """The expected aggregate per group, computed from the test's own list."""
    groups = {}
    for order in orders:
        groups.setdefault(key(order), []).append(number(order[field]) if field else 1)
    result = {}
    for group, values in groups.items():
        present = [v for v in values if v is not None]
        result[group] = {"count": len(present), "sum": sum(present),
                         "avg": sum(present) / len(present) if present else None,
                         "min": min(present, default=None), "max": max(present, default=None)}[aggregate]
    return result


def monday(text):
    day = dt.date.fromisoformat(text[:10])
    return (day - dt.timedelta(days=day.weekday())).isoformat()


# -- aggregates ---------------------------------------------------------------------------------
@pytest.mark.parametrize("aggregate, field", [
    ("count", None), ("count", "price"), ("sum", "quantity"), ("avg", "quantity"),
    ("min", "quantity"), ("max", "quantity"), ("sum", "price"), ("avg", "price"), ("sum", "took"),
])
def test_aggregate_per_group_equals_hand_computed(shop, aggregate, field):
    query = {"group_by": "line", "aggregate": aggregate, **({"field": field} if field else {})}
    result = run(shop, widget(**query))
    expected = {LINE_LABELS[k]: v for k, v in by_hand(ORDERS, lambda o: o["line"], aggregate, field).items()}
    assert pairs(result) == pytest.approx(expected)
    assert result["labels"] == ["Line 1", "Line 2", "(blank)"]  # option order, blanks last
    assert result["keys"] == ["line_1", "line_2", None]


def test_number_widget_applies_its_own_filters(shop):
    assert run(shop, widget("number", filters=[{"field": "status", "op": "eq", "value": "open"}]))["value"] == 4
    total = run(shop, widget("number", aggregate="sum", field="price",
                             filters=[{"field": "status", "op": "in", "value": ["done"]}]))
    assert total == {"value": 7, "format": "decimal"}
    assert run(shop, widget("number", aggregate="avg", field="took"))["value"] == pytest.approx(612)
    assert run(shop, widget("number", aggregate="max", field="due"))["value"] == "2026-04-30"


def test_aggregates_over_no_rows(shop):
    none = [{"field": "quantity", "op": "gt", "value": 1000}]
    assert run(shop, widget("number", filters=none))["value"] == 0
    assert run(shop, widget("number", aggregate="sum", field="quantity", filters=none))["value"] == 0
    assert run(shop, widget("number", aggregate="avg", field="quantity", filters=none))["value"] is None
    assert run(shop, widget(group_by="line", filters=none)) == {
        "labels": [], "values": [], "keys": [], "colors": [], "format": "integer"}


def test_bad_widget_filter_values_are_validation_errors(shop):
    with pytest.raises(ValidationFailed, match="not a whole number"):
        run(shop, widget("number", filters=[{"field": "quantity", "op": "gt", "value": "lots"}]))


# -- time buckets -------------------------------------------------------------------------------
BUCKETS = {
    "day": lambda text: text[:10],
    "week": monday,
    "month": lambda text: text[:7],
    "hour": lambda text: f"{text[:10]} {text[11:13]}:00",
}


@pytest.mark.parametrize("unit, field", [("day", "due"), ("week", "due"), ("month", "due"),
                                         ("hour", "done_at"), ("day", "done_at"), ("week", "done_at")])
def test_time_buckets_count_and_sum_like_hand_computed(shop, unit, field):
    dated = [o for o in ORDERS if o[field]]
    for aggregate, value_field in (("count", None), ("sum", "quantity")):
        spec = widget("line", time_bucket={"field": field, "unit": unit}, aggregate=aggregate,
                      **({"field": value_field} if value_field else {}))
        result = run(shop, spec)
        expected = by_hand(dated, lambda o: BUCKETS[unit](o[field]), aggregate, value_field)
        assert {k: v for k, v in pairs(result).items() if v} == expected
        axis = bucket_range(unit, min(expected), max(expected)) or sorted(expected)  # no gaps, unless too long
        assert result["labels"] == axis
        assert result["unit"] == unit


def test_week_buckets_start_on_monday(shop):
    result = run(shop, widget("line", time_bucket={"field": "due", "unit": "week"}))
    # Mon 2 Mar, Wed 4 Mar and Sun 8 Mar share a week; Mon 9 Mar starts the next
    assert result["labels"][:2] == ["2026-03-02", "2026-03-09"] and result["values"][:2] == [3, 1]


def test_limited_time_buckets_are_the_latest_ones(shop):
    result = run(shop, widget("line", time_bucket={"field": "due", "unit": "day"}, limit=2))
    assert pairs(result) == {"2026-04-01": 1, "2026-04-30": 1}


def test_bucket_and_group_give_one_series_per_group(shop):
    result = run(shop, widget("line", group_by="line", time_bucket={"field": "due", "unit": "month"},
                              aggregate="sum", field="quantity"))
    assert result["labels"] == ["2026-03", "2026-04"]
    assert [(s["label"], s["values"]) for s in result["series"]] == [
        ("Line 1", [30, 13]), ("Line 2", [45, 0]), ("(blank)", [0, 7])]


def test_bucket_units_are_not_mixed_up_by_the_statement_cache(shop):
    day = run(shop, widget("line", time_bucket={"field": "due", "unit": "day"}))
    month = run(shop, widget("line", time_bucket={"field": "due", "unit": "month"}))
    assert day["labels"][0] == "2026-03-02" and month["labels"] == ["2026-03", "2026-04"]


def test_bucket_range_steps_months_and_refuses_huge_axes():
    assert bucket_range("month", "2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert bucket_range("hour", "2026-03-01 22:00", "2026-03-02 01:00")[-1] == "2026-03-02 01:00"
    assert bucket_range("day", "2020-01-01", "2026-01-01") is None


# -- dashboard filters --------------------------------------------------------------------------
def test_date_range_is_inclusive_and_only_touches_tables_with_the_date_field(shop):
    filters = dashboard_filters(board(shop), {"from": "2026-03-04", "to": "2026-03-09"})
    result = run_dashboard(shop.records(), board(shop), filters)["widgets"]
    in_range = [o for o in ORDERS if "2026-03-04" <= o["due"] <= "2026-03-09"]
    assert result["open_orders"]["value"] == sum(o["status"] == "open" for o in in_range) == 1
    assert pairs(result["qty_by_line"]) == {"Line 1": 20, "Line 2": 45}
    assert result["machines"]["value"] == 2  # machine has no 'due'
    assert result["downtime_total"]["value"] == 90


def test_date_range_covers_the_whole_last_day_of_a_datetime_field(shop):
    finished = board(shop, "finished")
    filters = dashboard_filters(finished, {"from": "2026-03-04", "to": "2026-03-08"})
    assert run_widget(shop.records(), finished, finished["widgets"][0], filters)["value"] == 2  # 09:40 and 23:59
    filters = dashboard_filters(finished, {"to": "2026-03-08T12:00"})
    assert run_widget(shop.records(), finished, finished["widgets"][0], filters)["value"] == 2


def test_field_filters_apply_to_tables_that_have_the_field(shop):
    result = run_dashboard(shop.records(), board(shop), dashboard_filters(board(shop), {"line": "line_1"}))["widgets"]
    assert result["open_orders"]["value"] == 2
    assert result["downtime_total"]["value"] == 45
    assert result["machines"]["value"] == 2  # machine has no 'line'
    both = dashboard_filters(board(shop), _multi({"line": ["line_1", "line_2"]}))
    assert run_widget(shop.records(), board(shop), board(shop)["widgets"][0], both)["value"] == 3


def test_link_filters_accept_ids_and_codes(shop):
    spec = board(shop)["widgets"][1]
    by_code = run_widget(shop.records(), board(shop), spec, dashboard_filters(board(shop), {"machine": "M1"}))
    assert pairs(by_code) == {"Line 1": 30}
    by_id = run_widget(shop.records(), board(shop), spec, dashboard_filters(board(shop), {"machine": "2"}))
    assert pairs(by_id) == {"Line 2": 5, "(blank)": 7}
    nothing = run_widget(shop.records(), board(shop), spec, dashboard_filters(board(shop), {"machine": "M9"}))
    assert nothing["values"] == []


@pytest.mark.parametrize("args, message", [
    ({"from": "yesterday"}, "'yesterday' is not a date"),
    ({"to": "2026-02-30"}, "is not a date"),
    ({"from": "2026-03-09", "to": "2026-03-01"}, "is after"),
    ({"shift": "night"}, "no filter 'shift'"),
])
def test_bad_dashboard_arguments_are_refused_before_any_query(shop, args, message):
    with pytest.raises(ValidationFailed, match=message):
        dashboard_filters(board(shop), args)


def test_bad_filter_values_fail_with_the_fields_own_message(shop):
    filters = dashboard_filters(board(shop), {"line": "line_9"})
    with pytest.raises(ValidationFailed, match="'line_9' is not one of the options"):
        run_dashboard(shop.records(), board(shop), filters)


class _multi(dict):
    def getlist(self, key):
        return self.get(key, [])


# -- row-level rules ----------------------------------------------------------------------------
def test_operator_sees_only_totals_of_their_line(shop):
    result = run_dashboard(shop.records(actor=OPERATOR), board(shop), [])["widgets"]
    mine = [o for o in ORDERS if o["line"] == "line_1"]
    assert result["open_orders"]["value"] == sum(o["status"] == "open" for o in mine) == 2
    assert pairs(result["qty_by_line"]) == {"Line 1": sum(o["quantity"] for o in mine)}
    assert sum(result["per_week"]["values"]) == len(mine)
    assert result["step_minutes"]["value"] == sum(s["minutes"] for o in mine for s in o["steps"]) == 25
    assert result["downtime_total"]["value"] == 90  # downtime declares no permissions: open to all


def test_supervisor_sees_every_row(shop):
    supervisor = Actor(1002, "sup", frozenset({"supervisor"}), {"line": "line_1"})
    result = run_dashboard(shop.records(actor=supervisor), board(shop), [])["widgets"]
    assert result["open_orders"]["value"] == 4 and result["step_minutes"]["value"] == 28


def test_widgets_over_tables_the_reader_may_not_read_report_it_in_place(shop):
    result = run_dashboard(shop.records(actor=OPERATOR), board(shop), [])["widgets"]
    assert "may not read" in result["machines"]["error"]
    with pytest.raises(Forbidden):
        run(shop, board(shop)["widgets"][5], actor=OPERATOR)


def test_linked_titles_only_where_the_reader_may_read_them(shop):
    spec = board(shop)["widgets"][3]
    assert pairs(run(shop, spec)) == {"M1": 2, "M2": 2, "(blank)": 2}
    assert pairs(run(shop, spec, actor=OPERATOR)) == {"#1": 2, "(blank)": 1}


# -- labels and table widgets -------------------------------------------------------------------
def test_select_labels_in_the_readers_language(shop):
    result = run(shop, widget(group_by="line"), language="zh")
    assert result["labels"] == ["一线", "二线", "（空）"]


def test_table_widget_lists_the_newest_rows_with_display_values(shop):
    result = run(shop, board(shop)["widgets"][4], language="zh")
    assert [c["label"] for c in result["columns"]] == ["产线", "数量", "Machine", "交期"]
    assert result["rows"] == [["一线", 13, None, "2026-04-30"], [None, 7, "M2", "2026-04-01"],
                              ["二线", 40, None, "2026-03-09"]]


def test_grouped_table_widget(shop):
    result = run(shop, board(shop)["widgets"][9])
    assert [c["label"] for c in result["columns"]] == ["Status", "Count"]
    assert result["rows"] == [["open", 4], ["done", 2]]


def test_top_groups_with_a_limit(shop):
    result = run(shop, widget(group_by="machine", aggregate="sum", field="quantity", limit=1))
    assert pairs(result) == {"(blank)": 53}


# -- one statement per widget -------------------------------------------------------------------
@pytest.fixture
def statements(shop):
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"):
            seen.append(statement)
    sa.event.listen(shop.db.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(shop.db.engine, "before_cursor_execute", record)


def test_each_widget_is_exactly_one_statement(shop, statements):
    dashboard = board(shop)
    filters = dashboard_filters(dashboard, {"from": "2026-01-01", "to": "2026-12-31", "line": "line_1",
                                            "machine": "M1"})
    records = shop.records(actor=OPERATOR)
    for spec in dashboard["widgets"]:
        if spec["query"]["table"] == "machine":
            continue
        statements.clear()
        run_widget(records, dashboard, spec, filters)
        assert len(statements) == 1, (spec["name"], statements)
        assert statements[0].lstrip().upper().startswith("SELECT")
    records = shop.records()
    statements.clear()
    run_dashboard(records, dashboard, filters)
    assert len(statements) == len(dashboard["widgets"])


def test_aggregation_happens_in_sql():
    from runtime.definition import AppDef
    from runtime.store import LiveApp
    from runtime.tables import build_tables
    import yaml

    appdef = AppDef(yaml.safe_load(APP))
    live = LiveApp(0, 0, 1, appdef, build_tables(appdef))
    tdef = appdef.tables["work_order"]
    query = {"table": "work_order", "group_by": "line", "aggregate": "avg", "field": "quantity",
             "time_bucket": {"field": "due", "unit": "week"}}
    stmt = widget_statement(live, tdef, query, [Filter("line", "eq", "line_1")], None)
    pg = str(stmt.compile(dialect=postgresql.dialect()))
    lite = str(stmt.compile(dialect=sqlite.dialect()))
    assert "to_char(date_trunc('week', CAST(demo__work_order.due AS TIMESTAMP)), 'YYYY-MM-DD')" in pg
    assert "strftime('%Y-%m-%d', demo__work_order.due, 'weekday 0', '-6 days')" in lite
    for sql in (pg, lite):
        assert re.search(r"avg\(demo__work_order\.quantity\)", sql) and "GROUP BY" in sql
        assert sql.count("SELECT") == 1


def test_time_bucket_refuses_unknown_units_and_dialects():
    with pytest.raises(ValueError, match="unknown time bucket unit"):
        TimeBucket(sa.column("d"), "year")
    from sqlalchemy.dialects import mysql
    with pytest.raises(sa.exc.CompileError, match="mysql"):
        sa.select(TimeBucket(sa.column("d"), "day")).compile(dialect=mysql.dialect())


# -- the page and its JSON feed -----------------------------------------------------------------
def login(takt, username="op", roles=("operator",), language="en", line="line_1"):
    with takt.db.write() as conn:
        user_id = create_user(conn, username, "password1", roles, language=language, attributes={"line": line})
    client = takt.app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user_id
    return client


def test_data_feed_gives_every_widget_as_json(shop):
    client = login(shop)
    response = client.get("/apps/demo/dashboards/shop/data?from=2026-03-01&to=2026-03-31&line=line_1")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    widgets = response.get_json()["widgets"]
    assert sorted(widgets) == sorted(w["name"] for w in board(shop)["widgets"])
    assert widgets["open_orders"] == {"value": 1, "format": "integer"}
    assert pairs(widgets["qty_by_line"]) == {"Line 1": 30}


@pytest.mark.parametrize("query, message", [
    ("from=03/04/2026", "not a date"),
    ("to=2026-13-01", "not a date"),
    ("line=line_9", "not one of the options"),
    ("from=2026-04-01&to=2026-03-01", "is after"),
    ("machine=1.5x&line=line_1", None),
    ("colour=red", "no filter 'colour'"),
])
def test_bad_filters_answer_422_with_a_message(shop, query, message):
    response = login(shop).get(f"/apps/demo/dashboards/shop/data?{query}")
    if message is None:  # an unknown code is a valid filter that matches nothing
        assert response.status_code == 200
        return
    assert response.status_code == 422
    assert message in response.get_json()["error"]


@pytest.mark.parametrize("query", [
    "line=%00", "machine=%C2%B2", "machine=" + "9" * 30, "machine=M1%00", "to=9999-12-31", "from=0001-01-01",
    "to=2026-03-08T12:00%2B08:00&from=2026-03-01", "from=2026-03-01T00:00Z&to=2026-03-01", "machine=%27%3B--",
    "line=line_1&line=", "from=%F0%9F%99%82", "to=" + "1" * 5000,
])
def test_odd_filter_values_never_fail_the_server(shop, query):
    response = login(shop).get(f"/apps/demo/dashboards/shop/data?{query}")
    assert response.status_code in (200, 422), response.get_data(as_text=True)
    assert response.is_json


def test_unknown_dashboards_and_apps_are_404(shop):
    client = login(shop)
    assert client.get("/apps/demo/dashboards/nope").status_code == 404
    assert client.get("/apps/nope/dashboards/shop").status_code == 404
    response = client.get("/apps/demo/dashboards/nope/data")
    assert response.status_code == 404 and "no dashboard 'nope'" in response.get_json()["error"]


def test_signed_out_readers_are_sent_to_sign_in(shop):
    client = shop.app.test_client()
    assert client.get("/apps/demo/dashboards/shop").status_code == 302
    assert client.get("/apps/demo/dashboards/shop/data").status_code == 401


def test_page_places_widgets_on_the_grid_in_the_users_language(shop):
    page = login(shop, language="zh").get("/apps/demo/dashboards/shop").get_data(as_text=True)
    assert "<h1>车间</h1>" in page and "未完工" in page and "各产线数量" in page
    assert re.search(r'<a href="/apps/demo/dashboards/shop" class="nav-dashboard active">车间</a>', page)
    assert 'style="--col: 1 / span 3; --row: 1 / span 2;"' in page
    assert 'style="--col: span 4; --row: span 3;"' in page  # no layout: auto-placed
    assert page.count("<canvas") == 4 and page.count('class="widget-number"') == 4
    assert '<option value="line_1">一线</option>' in page and "vendor/chart.js/chart.umd.min.js" in page
    config = json.loads(re.search(r'<script type="application/json" id="dashboard-config">(.*?)</script>',
                                  page, re.S).group(1))
    assert config["refreshSeconds"] == 30 and config["dataUrl"] == "/apps/demo/dashboards/shop/data"
    assert [w["type"] for w in config["widgets"]][:3] == ["number", "bar", "line"]


def test_the_example_shop_overview_runs(takt):
    takt.publish(example_documents()["machining"][0])
    records = takt.records("machining")
    records.create("product", {"code": "P1", "name": "shaft", "unit_price": "2.00"})
    for quantity, line in ((10, "line_1"), (20, "line_2"), (30, "line_1")):
        records.create("work_order", {"product": "P1", "quantity": quantity, "line": line, "due_date": "2026-12-03"})
    overview = takt.live("machining").appdef.named("dashboards")["overview"]
    result = run_dashboard(records, overview, [])["widgets"]
    assert result["open_orders"]["value"] == 3
    assert pairs(result["by_status"]) == {"Released": 3}
    assert pairs(result["quantity_by_line"]) == {"line_1": 40, "line_2": 20}
    assert pairs(result["orders_per_day"]) == {"2026-12-03": 3}


# -- vendored front-end files -------------------------------------------------------------------
def test_vendor_copies_the_listed_files(tmp_path):
    modules = tmp_path / "node_modules"
    (modules / "lib" / "dist").mkdir(parents=True)
    (modules / "lib" / "dist" / "lib.min.js").write_text("x")
    copied = vendor.copy_vendor(modules, tmp_path / "vendor", {"lib": ("dist/lib.min.js",)})
    assert copied == [tmp_path / "vendor" / "lib" / "lib.min.js"]
    with pytest.raises(vendor.VendorError, match="lib/missing.js"):
        vendor.copy_vendor(modules, tmp_path / "vendor", {"lib": ("missing.js",)})


def test_front_end_packages_are_pinned_exactly():
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    for name in vendor.VENDOR:
        version = package["dependencies"][name]
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} must be pinned to an exact version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
