"""The generated apps' pages through Flask's test client, on SQLite and PostgreSQL:
every page renders, permissions are refused, typed values survive a rejected
submit, conditions are enforced on the server, hostile text stays text, and
the language switch gives Chinese."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from runtime.demo import prepare_demo
from runtime.i18n import compile_catalogs
from runtime.models import AuditEntry

PASSWORDS = {"admin": "takt-admin", "operator": "takt-operator", "supervisor": "takt-supervisor",
             "engineer": "takt-engineer"}


@pytest.fixture(scope="module", autouse=True)
def catalogs():
    compile_catalogs()


@pytest.fixture
def shop(takt):
    prepare_demo(takt.app)
    return takt


class Browser:
    """A test client signed in as one user, sending the session's CSRF token with each POST."""

    def __init__(self, app, user=None):
        self.client = app.test_client()
        if user:
            self.client.get("/login")
            response = self.post("/login", {"username": user, "password": PASSWORDS[user]})
            assert response.status_code == 302, response.get_data(as_text=True)

    @property
    def token(self):
        with self.client.session_transaction() as session:
            return session.get("csrf_token", "")

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, **kwargs):
        return self.client.post(url, data={**(data or {}), "csrf_token": self.token}, **kwargs)

    def html(self, url, status=200):
        response = self.get(url)
        assert response.status_code == status, response.get_data(as_text=True)[:2000]
        return response.get_data(as_text=True)


def order_id(takt, number=1):
    return takt.records("machining").list("work_order").rows[-number]["id"]


def new_order(**values):
    return {"product": "", "product__text": "SH-1001", "quantity": "10", "due_date": "2026-12-24",
            "priority": "normal", "line": "line_1", "notes": "", "_client_id": "", **values}


# -- pages render -----------------------------------------------------------------
PAGES = [
    ("/", "Machining shop"),
    ("/apps/machining", "Inspection station"),
    ("/apps/machining/work_order", "WO-"),
    ("/apps/machining/work_order/new", "Routing steps"),
    ("/apps/machining/work_order/{id}", "History"),
    ("/apps/machining/work_order/{id}/edit", "Routing steps"),
    ("/apps/machining/work_order/{id}/delete", "Delete"),
    ("/apps/machining/product", "SH-1001"),
    ("/apps/machining/product/new", "Unit price"),
    ("/apps/machining/inspection", "Inspection"),
    ("/apps/machining/inspection/new", '<option value="1" >admin</option>'),
    ("/apps/machining/kiosk/inspection_kiosk?station=CNC-01", "CNC-01"),
]


@pytest.mark.parametrize("url, expected", PAGES)
def test_each_page_renders_for_an_admin(shop, url, expected):
    html = Browser(shop.app, "admin").html(url.format(id=order_id(shop)))
    assert expected in html
    assert 'name="csrf-token"' in html


def test_pages_need_a_sign_in(shop):
    response = Browser(shop.app).get("/apps/machining/work_order")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_app_table_and_record_are_404(shop):
    browser = Browser(shop.app, "admin")
    browser.html("/apps/nope", 404)
    browser.html("/apps/machining/nope", 404)
    browser.html("/apps/machining/work_order/999999", 404)
    browser.html("/apps/machining/routing_step", 404)  # child rows live inside their parent


# -- list -----------------------------------------------------------------------------
def test_list_searches_filters_sorts_pages_and_totals(shop):
    browser = Browser(shop.app, "admin")
    html = browser.html("/apps/machining/work_order?f_line=line_2")
    assert "BU-0330" in html and "CV-7001" in html and "FL-2040" not in html
    assert "1,500 pcs" in html  # total of the quantity column over the filtered rows
    html = browser.html("/apps/machining/product?q=flange")
    assert "FL-2040" in html and "SH-1001" not in html
    html = browser.html("/apps/machining/work_order?sort=-quantity")
    quantities = re.findall(r"([\d,]+) pcs\s*</td>", html)
    assert quantities[:2] == ["1,000", "500"]
    html = browser.html("/apps/machining/work_order?f_due_date_from=2026-12-06&f_due_date_to=2026-12-10")
    assert html.count("/apps/machining/work_order/") - html.count("/apps/machining/work_order/new") >= 2
    assert "BU-0330" in html and "SH-1001" not in html
    records = shop.records("machining")
    for i in range(60):
        records.create("product", {"code": f"ZZ-{i:03d}", "name": "bulk"})
    html = browser.html("/apps/machining/product?q=ZZ-")
    assert "page 1 of 2" in html and 'rel="next"' in html
    assert "ZZ-000" in browser.html("/apps/machining/product?q=ZZ-&page=2&sort=-code")


def test_a_bad_filter_value_is_a_message_not_an_error_page(shop):
    html = Browser(shop.app, "admin").html("/apps/machining/work_order?f_due_date_from=yesterday")
    assert "is not a date" in html


# -- forms: typed values kept, field-level messages ------------------------------------
def test_rejected_submit_keeps_every_typed_value_with_messages_by_the_fields(shop):
    browser = Browser(shop.app, "supervisor")
    response = browser.post("/apps/machining/work_order/new", new_order(
        quantity="twelve", due_date="2026-12-24", priority="rush", notes="", product__text="NO-SUCH",
        **{"steps[0].step_no": "x1", "steps[0].operation": "Turning", "steps[0].workstation": "CNC-09",
           "steps[5].step_no": "", "steps[5].operation": ""}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="twelve"' in html and 'value="NO-SUCH"' in html and 'value="2026-12-24"' in html
    assert 'value="CNC-09"' in html and 'value="x1"' in html
    assert re.search(r'<option value="rush"\s+selected', html)
    assert _message_near(html, "quantity", "is not a whole number")
    assert _message_near(html, "notes", "is required")
    assert _message_near(html, "product", "no record &#39;NO-SUCH&#39; found")
    assert "steps[0].step_no" in html and "is not a whole number" in html
    assert "steps[1]" not in html.replace("steps[__i__]", "")  # the blank row was dropped
    assert shop.records("machining").list("work_order").total == 5


def _message_near(html, field, message):
    block = re.search(rf'data-field="{field}".*?</div>\s*</div>|data-field="{field}".*?error-text.*?</p>', html, re.S)
    return block is not None and message in block.group(0)


def test_required_if_is_enforced_on_the_server_and_hidden_fields_are_neither_required_nor_saved(shop):
    browser = Browser(shop.app, "supervisor")
    response = browser.post("/apps/machining/work_order/new", new_order(priority="rush", notes="  "))
    assert response.status_code == 422 and "is required" in response.get_data(as_text=True)
    response = browser.post("/apps/machining/work_order/new", new_order(priority="rush", notes="customer waits"))
    assert response.status_code == 302
    rush = shop.records("machining").get("work_order", int(response.headers["Location"].rsplit("/", 1)[1]))
    assert rush["notes"] == "customer waits" and rush["priority"] == "rush"
    response = browser.post("/apps/machining/work_order/new", new_order(priority="normal", notes="typed, then hidden"))
    assert response.status_code == 302
    normal = shop.records("machining").get("work_order", int(response.headers["Location"].rsplit("/", 1)[1]))
    assert normal["notes"] is None


def test_conditions_reach_the_browser_as_expression_trees(shop):
    html = Browser(shop.app, "admin").html("/apps/machining/work_order/new")
    data = re.search(r'<script type="application/json" id="conditions-json">(.*?)</script>', html, re.S).group(1)
    import json
    spec = json.loads(data)
    assert spec["fields"]["notes"]["visible"]["ast"]["op"] == "="
    assert spec["fields"]["notes"]["required"]["source"] == "priority = 'rush'"
    assert spec["types"]["quantity"] == "number"


def test_create_with_child_rows_then_edit_and_stale_version(shop):
    browser = Browser(shop.app, "supervisor")
    response = browser.post("/apps/machining/work_order/new", new_order(**{
        "steps[0].step_no": "1", "steps[0].operation": "Turning", "steps[3].step_no": "2", "steps[3].operation": "Milling"}))
    assert response.status_code == 302
    record_id = int(response.headers["Location"].rsplit("/", 1)[1])
    saved = shop.records("machining").get("work_order", record_id)
    assert [s["operation"] for s in saved["steps"]] == ["Turning", "Milling"]
    edit = f"/apps/machining/work_order/{record_id}/edit"
    form = browser.html(edit)
    assert 'value="SH-1001"' in form and 'name="steps[1].operation" value="Milling"' in form
    changed = new_order(quantity="25", _version="1", product=str(saved["product"]),
                        **{"steps[0].step_no": "1", "steps[0].operation": "Turning"})
    assert browser.post(edit, changed).status_code == 302
    after = shop.records("machining").get("work_order", record_id)
    assert after["quantity"] == 25 and len(after["steps"]) == 1
    stale = browser.post(edit, {**changed, "quantity": "30"})
    assert stale.status_code == 422 and "changed by someone else" in stale.get_data(as_text=True)
    assert 'value="30"' in stale.get_data(as_text=True)


def test_double_submit_with_the_same_client_id_creates_one_record(shop):
    browser = Browser(shop.app, "supervisor")
    first = browser.post("/apps/machining/work_order/new", new_order(_client_id="abc123"))
    second = browser.post("/apps/machining/work_order/new", new_order(_client_id="abc123"))
    assert first.headers["Location"] == second.headers["Location"]
    assert shop.records("machining").list("work_order").total == 6


# -- permissions --------------------------------------------------------------------
def test_operator_gets_refusals_not_forms(shop):
    browser = Browser(shop.app, "operator")
    assert browser.get("/apps/machining/work_order/new").status_code == 403
    assert browser.get(f"/apps/machining/work_order/{order_id(shop)}/delete").status_code == 403
    line_2 = shop.records("machining").list("work_order", _query(line="line_2")).rows[0]["id"]
    assert browser.get(f"/apps/machining/work_order/{line_2}").status_code == 404
    html = browser.html("/apps/machining/work_order")
    assert "BU-0330" not in html and "SH-1001" in html  # the row rule: only line_1
    assert ">New<" not in html


def test_transition_buttons_follow_roles_and_refusals_are_messages(shop):
    first = order_id(shop)
    operator = Browser(shop.app, "operator")
    html = operator.html(f"/apps/machining/work_order/{first}")
    assert 'data-transition="start"' in html and 'data-transition="hold"' not in html
    response = operator.post(f"/apps/machining/work_order/{first}/transitions/hold", {"version": "1"})
    assert response.status_code == 302
    assert "needs one of the roles" in operator.html(f"/apps/machining/work_order/{first}")
    supervisor = Browser(shop.app, "supervisor")
    assert 'data-transition="hold"' in supervisor.html(f"/apps/machining/work_order/{first}")
    supervisor.post(f"/apps/machining/work_order/{first}/transitions/hold", {"version": "1"})
    html = supervisor.html(f"/apps/machining/work_order/{first}")
    assert "Hold: done" in html and "On hold" in html and 'data-transition="resume"' in html
    stale = supervisor.post(f"/apps/machining/work_order/{first}/transitions/resume", {"version": "1"},
                            headers={"Accept": "application/json"})
    assert stale.status_code == 409 and stale.get_json()["ok"] is False


def test_history_shows_changes_and_transitions(shop):
    first = order_id(shop)
    supervisor = Browser(shop.app, "supervisor")
    supervisor.post(f"/apps/machining/work_order/{first}/transitions/start", {"version": "1"})
    html = supervisor.html(f"/apps/machining/work_order/{first}")
    history = html[html.index('id="history"'):]
    assert "Start: Released → In progress" in history and "supervisor" in history
    assert "created the record" in history and "SH-1001" in history
    with shop.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(AuditEntry)
                            .where(AuditEntry.record_id == first, AuditEntry.table_name == "work_order")).scalar() == 2


def test_delete_asks_first_and_refuses_linked_records(shop):
    admin = Browser(shop.app, "admin")
    records = shop.records("machining")
    lonely = records.create("product", {"code": "DEL-1", "name": "to delete"})
    page = admin.html(f"/apps/machining/product/{lonely['id']}/delete")
    assert "Delete DEL-1?" in page
    assert records.list("product", _query(code="DEL-1")).total == 1  # a GET deletes nothing
    response = admin.post(f"/apps/machining/product/{lonely['id']}/delete", {"version": "1"})
    assert response.status_code == 302 and records.list("product", _query(code="DEL-1")).total == 0
    linked = records.list("product", _query(code="SH-1001")).rows[0]["id"]
    admin.post(f"/apps/machining/product/{linked}/delete", {"version": "1"})
    assert "cannot delete" in admin.html(f"/apps/machining/product/{linked}")


def test_detail_shows_links_both_ways(shop):
    admin = Browser(shop.app, "admin")
    product = shop.records("machining").list("product", _query(code="SH-1001")).rows[0]["id"]
    html = admin.html(f"/apps/machining/product/{product}")
    assert "WO-" in html and f"f_product={product}" in html  # work orders linking here
    assert f"/apps/machining/work_order/new?product={product}" in html
    html = admin.html(f"/apps/machining/work_order/{order_id(shop)}")
    assert f'href="/apps/machining/product/{product}"' in html


def _query(**equal):
    from runtime.listing import Filter, ListQuery
    return ListQuery(filters=[Filter(k, "eq", v) for k, v in equal.items()])


# -- lookups and kiosk ---------------------------------------------------------------
def test_lookup_searches_as_you_type(shop):
    found = Browser(shop.app, "operator").get("/apps/machining/product/lookup?q=FL",
                                              headers={"Accept": "application/json"}).get_json()
    assert [f["text"] for f in found] == ["FL-2040"] and "Flange" in found[0]["detail"]


def test_kiosk_scan_finds_the_linked_record_with_its_buttons(shop):
    operator = Browser(shop.app, "operator")
    number = shop.records("machining").get("work_order", order_id(shop))["_name"]
    answer = operator.get(f"/apps/machining/kiosk/inspection_kiosk/scan?code={number.lower()}",
                          headers={"Accept": "application/json"})
    data = answer.get_json()
    assert answer.status_code == 200 and data["ok"] and data["link"]["text"] == number
    assert [t["name"] for t in data["record"]["transitions"]] == ["start"]
    missing = operator.get("/apps/machining/kiosk/inspection_kiosk/scan?code=NOPE", headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.get_json()["ok"] is False


def test_kiosk_records_carry_the_station(shop):
    operator = Browser(shop.app, "operator")
    order = order_id(shop)
    url = "/apps/machining/kiosk/inspection_kiosk"
    refused = operator.post(url, {"work_order": str(order), "kind": "patrol", "measured": "10.01"})
    assert refused.status_code == 422 and "no station" in refused.get_data(as_text=True)
    bad = operator.post(url + "?station=CNC-01", {"work_order": str(order), "kind": "", "measured": "ten"})
    assert bad.status_code == 422 and 'value="ten"' in bad.get_data(as_text=True)
    saved = operator.post(url + "?station=CNC-01", {"work_order": str(order), "kind": "patrol", "measured": "10.01"})
    assert saved.status_code == 302 and "station=CNC-01" in saved.headers["Location"]
    inspection = shop.records("machining").list("inspection").rows[0]
    assert inspection["station"] == "CNC-01" and inspection["result"] == "pass"
    assert "was saved" in operator.html(saved.headers["Location"])


# -- escaping ------------------------------------------------------------------------------
HOSTILE = "<script>alert(1)</script>"
ATTRIBUTE = '"onmouseover=alert(1) x="'


def test_hostile_labels_and_values_stay_text(takt):
    takt.publish(f"""
slug: evil
name: {{en: '{HOSTILE}'}}
tables:
  - name: thing
    label: {{en: '{HOSTILE}'}}
    title_field: title
    fields:
      - {{name: title, type: text, label: {{en: '{ATTRIBUTE}'}}}}
      - name: kind
        type: select
        label: '{HOSTILE}'
        options: [{{value: a, label: '{ATTRIBUTE}', color: "#ff0000"}}, b]
      - {{name: qty, type: integer, unit: '<i>"u=</i>'}}
      - {{name: note, type: long_text, help: '{ATTRIBUTE}'}}
forms:
  - name: thing_form
    table: thing
    sections:
      - label: '{HOSTILE}'
        columns: [[title, kind, qty, {{field: note, visible_if: "title = '</script><script>alert(2)</script>'"}}]]
""")
    from runtime.demo import _create_logins
    _create_logins(takt.db)
    thing = takt.records("evil").create("thing", {"title": HOSTILE + ATTRIBUTE, "kind": "a", "qty": 1,
                                                  "note": ATTRIBUTE + HOSTILE})
    browser = Browser(takt.app, "admin")
    for url in ("/", "/apps/evil", "/apps/evil/thing", "/apps/evil/thing/new", f"/apps/evil/thing/{thing['id']}",
                f"/apps/evil/thing/{thing['id']}/edit", f"/apps/evil/thing/{thing['id']}/delete",
                f"/apps/evil/thing?q={HOSTILE}"):
        html = browser.html(url)
        assert "<script>alert" not in html, url
        assert "</script><script>" not in html, url
        assert 'x="' not in html.replace('x="{{', ""), url
        assert "&lt;script&gt;" in html, url
        assert "<i>" not in html, url
    bad = browser.post("/apps/evil/thing/new", {"title": HOSTILE, "qty": ATTRIBUTE})
    assert bad.status_code == 422 and "<script>alert" not in bad.get_data(as_text=True)


# -- language --------------------------------------------------------------------------------
def test_switching_to_chinese_translates_the_ui_and_the_app_labels(shop):
    browser = Browser(shop.app, "supervisor")
    response = browser.post("/language", {"language": "zh", "next": "/apps/machining/work_order"})
    assert response.status_code == 302
    html = browser.html("/apps/machining/work_order")
    assert "工单" in html and "搜索" in html and "新建" in html and "退出登录" in html and "加急" in html
    assert 'lang="zh-CN"' in html
    html = browser.html(f"/apps/machining/work_order/{order_id(shop)}")
    assert "开工" in html and "历史" in html and "已下达" in html
    bad = browser.post("/apps/machining/work_order/new", new_order(quantity="-1"))
    assert "不能小于 1" in bad.get_data(as_text=True)
    browser.post("/language", {"language": "en", "next": "/"})
    assert "Search" in browser.html("/apps/machining/work_order")


def test_catalogues_translate_every_ui_string_into_chinese():
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    from babel.messages.pofile import read_po
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    with (root / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {message[2] if isinstance(message[2], str) else message[2][0]
             for message in extract_from_dir(str(root), method_map, options_map)}
    with (root / "runtime/translations/zh/LC_MESSAGES/messages.po").open("rb") as source:
        zh = read_po(source)
    missing = sorted(m for m in found if not (zh.get(m) and zh.get(m).string and not zh.get(m).fuzzy))
    assert not missing, f"untranslated UI strings (run pybabel extract/update, then translate): {missing}"
    assert compile_catalogs(force=True)  # every catalogue compiles


def test_navigation_is_filtered_by_role_and_permission(takt):
    takt.publish("""
slug: plant
name: Plant
roles: [{name: supervisor}]
tables:
  - name: machine
    fields: [{name: code, type: text}]
  - name: secret
    fields: [{name: code, type: text}]
    permissions: [{role: supervisor, read: true}]
navigation:
  - {table: machine}
  - {table: secret}
  - {table: machine, label: Supervisors only, roles: [supervisor]}
""")
    from runtime.demo import _create_logins
    _create_logins(takt.db)
    operator = Browser(takt.app, "operator").html("/apps/plant")
    assert "Machine" in operator and "Secret" not in operator and "Supervisors only" not in operator
    supervisor = Browser(takt.app, "supervisor").html("/apps/plant")
    assert "Secret" in supervisor and "Supervisors only" in supervisor
    assert Browser(takt.app, "operator").get("/apps/plant/secret").status_code == 403
    assert "Plant" in Browser(takt.app, "operator").html("/")
