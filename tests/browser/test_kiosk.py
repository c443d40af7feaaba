"""The shop floor in a real browser: scanning in kiosk mode at 1024×768, a field
error fixed and saved, workflow buttons by role (and the API agreeing), the
audit trail, live form conditions, and the Chinese UI. Real clicks and typing.
Screenshots land in artifacts/screenshots/ for a person to look at."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from runtime.listing import Filter, ListQuery

pytestmark = pytest.mark.browser

KIOSK = "/apps/machining/kiosk/inspection_kiosk"


def first_order(server, line="line_1"):
    rows = server.records().list("work_order", ListQuery(filters=[Filter("line", "eq", line)], sort=[("id", False)])).rows
    return rows[0]


def small_targets(page):
    return page.evaluate("""() => [...document.querySelectorAll(
            'button, a.button, select, textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio])')]
        .filter(el => el.offsetParent !== null)
        .map(el => [el.name || el.textContent.trim(), el.getBoundingClientRect()])
        .filter(([, box]) => box.width < 44 || box.height < 44)
        .map(([name, box]) => `${name}: ${Math.round(box.width)}x${Math.round(box.height)}`)""")


def test_operator_scans_fixes_an_error_saves_and_starts_the_order(open_page, server, screenshot):
    order = first_order(server)
    page = open_page("operator", f"{KIOSK}?station=CNC-01", width=1024, height=768)
    expect(page.locator("[data-station-name]")).to_have_text("CNC-01")
    expect(page.locator("input[name=work_order__text]")).to_be_focused()  # ready for the first scan

    page.keyboard.type(order["_name"])
    page.keyboard.press("Enter")  # the scanner's Enter: a lookup, not a submit
    expect(page.locator(".banner.ok")).to_contain_text(order["_name"])
    expect(page.locator("[data-scan-result]")).to_be_visible()
    expect(page.locator("[data-record-transitions] button", has_text="Start")).to_be_visible()
    expect(page.locator("select[name=kind]")).to_be_focused()  # focus moved on to the next field
    assert server.records().list("inspection").total == 0
    assert small_targets(page) == []  # gloves: every control at least 44 px each way
    screenshot(page, "kiosk")

    page.select_option("select[name=kind]", "patrol")
    page.click("input[name=measured]")
    page.keyboard.type("ten")
    page.click("[data-kiosk-save]")
    expect(page.locator(".banner.bad")).to_be_visible()
    expect(page.locator('[data-field="measured"] .error-text')).to_contain_text("not a number")
    expect(page.locator("input[name=measured]")).to_have_value("ten")
    expect(page.locator("select[name=kind]")).to_have_value("patrol")
    expect(page.locator("input[name=work_order__text]")).to_have_value(order["_name"])
    expect(page.locator("[data-scan-result]")).to_be_visible()  # the scanned order is shown again
    screenshot(page, "kiosk-error")

    page.click("input[name=measured]", click_count=3)
    page.keyboard.type("10.02")
    page.click("[data-kiosk-save]")
    expect(page.locator(".banner.ok")).to_contain_text("was saved")
    expect(page.locator("input[name=work_order__text]")).to_be_focused()
    inspection = server.records().list("inspection").rows[0]
    assert inspection["station"] == "CNC-01" and inspection["work_order"] == order["id"]
    assert str(inspection["measured"]) == "10.020" and inspection["result"] == "pass"

    page.keyboard.type(order["_name"])
    page.keyboard.press("Enter")
    page.click("[data-record-transitions] button:has-text('Start')")
    expect(page.locator(".banner.ok")).to_contain_text("In progress")
    expect(page.locator("[data-record-state]")).to_have_text("In progress")
    expect(page.locator("[data-record-transitions] button", has_text="Start")).to_have_count(0)
    assert server.records().get("work_order", order["id"])["status"] == "in_progress"
    assert not page.errors


def test_a_wrong_scan_is_red_and_keeps_the_focus_for_the_next_one(open_page):
    page = open_page("operator", f"{KIOSK}?station=CNC-01", width=1024, height=768)
    page.keyboard.type("WO-NOT-THERE")
    page.keyboard.press("Enter")
    expect(page.locator(".banner.bad")).to_contain_text("WO-NOT-THERE")
    expect(page.locator("input[name=work_order__text]")).to_be_focused()
    assert page.evaluate("getSelection().toString() || document.activeElement.selectionEnd") != 0


def test_the_station_is_remembered(open_page):
    page = open_page("operator", f"{KIOSK}?station=ASSY-07", width=1024, height=768)
    expect(page.locator("[data-station-name]")).to_have_text("ASSY-07")
    page.goto(KIOSK)  # no station in the URL: the remembered one comes back
    expect(page).to_have_url(re.compile(r"station=ASSY-07"))
    page.click("[data-station-button]")
    page.fill("#station-input", "")
    page.keyboard.type("CNC-02")
    page.keyboard.press("Enter")
    expect(page.locator("[data-station-name]")).to_have_text("CNC-02")


def test_operator_has_no_hold_button_and_the_api_refuses_it(open_page, server, screenshot):
    order = first_order(server)
    page = open_page("operator", f"/apps/machining/work_order/{order['id']}")
    expect(page.locator("button[data-transition=start]")).to_be_visible()
    expect(page.locator("button[data-transition=hold]")).to_have_count(0)
    screenshot(page, "detail-operator")
    status = page.evaluate("""async (id) => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const response = await fetch(`/api/v1/apps/machining/work_order/${id}/transitions/hold`, {
            method: 'POST', credentials: 'same-origin',
            headers: {'X-CSRF-Token': token, 'Content-Type': 'application/json', 'Accept': 'application/json'},
            body: JSON.stringify({version: 1})});
        return response.status;
    }""", order["id"])
    assert not 200 <= status < 300
    assert server.records().get("work_order", order["id"])["status"] == "released"


def test_admin_edits_an_order_and_reads_the_audit_trail(open_page, server, screenshot):
    order = first_order(server)
    page = open_page("admin", "/apps/machining/work_order")
    screenshot(page, "list")
    page.click(f"text={order['_name']}")
    page.click("a:has-text('Edit')")
    page.click("input[name=quantity]", click_count=3)
    page.keyboard.type("150")
    screenshot(page, "form")
    page.click("button:has-text('Save')")
    expect(page.locator(".flash.success")).to_contain_text("was saved")
    history = page.locator("#history")
    expect(history).to_contain_text("admin")
    expect(history).to_contain_text("Quantity: 120 pcs → 150 pcs")
    expect(history).to_contain_text("created the record")
    screenshot(page, "detail")


def test_form_conditions_link_picker_and_rows_work_live(open_page, server, screenshot):
    page = open_page("supervisor", "/apps/machining/work_order/new")
    notes = page.locator('[data-field="notes"]')
    expect(notes).to_be_hidden()  # visible_if: priority = 'rush'
    page.select_option("select[name=priority]", "rush")
    expect(notes).to_be_visible()
    expect(notes.locator(".req-if")).to_be_visible()  # required_if holds now
    page.click("input[name=product__text]")
    page.keyboard.type("FL")
    expect(page.locator(".suggestions li")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.locator("input[name=product__text]")).to_have_value("FL-2040")
    page.click("input[name=quantity]")
    page.keyboard.type("40")
    page.select_option("select[name=line]", "line_1")
    page.click("[data-grid-add]")
    page.keyboard.type("1")
    page.keyboard.press("Tab")
    page.keyboard.type("Turning")
    page.click("button:has-text('Save')")
    expect(page.locator('[data-field="notes"] .error-text')).to_contain_text("is required")
    expect(page.locator("input[name=quantity]")).to_have_value("40")
    expect(page.locator('input[name="steps[0].operation"]')).to_have_value("Turning")
    screenshot(page, "form-error")
    page.click("textarea[name=notes]")
    page.keyboard.type("customer line stop")
    page.click("button:has-text('Save')")
    expect(page.locator(".flash.success")).to_be_visible()
    found = server.records().list("work_order", ListQuery(filters=[Filter("quantity", "eq", 40)])).rows[0]
    saved = server.records().get("work_order", found["id"])
    assert saved["notes"] == "customer line stop" and saved["steps"][0]["operation"] == "Turning"
    assert not page.errors


def test_the_ui_switches_to_chinese(open_page, screenshot):
    page = open_page("supervisor", "/apps/machining/work_order")
    page.select_option("select[name=language]", "zh")
    expect(page.locator("button.link")).to_have_text("退出登录")
    expect(page.locator("h1")).to_have_text("工单")
    expect(page.locator("a.button.primary")).to_have_text("新建")
    expect(page.locator("table.records")).to_contain_text("加急")
    screenshot(page, "zh-list")
    page.goto(f"{KIOSK}?station=CNC-01")
    page.set_viewport_size({"width": 1024, "height": 768})
    expect(page.locator(".kiosk-bar h1")).to_have_text("检验工位")
    expect(page.locator("[data-kiosk-save]")).to_have_text("保存")
    screenshot(page, "zh-kiosk")
