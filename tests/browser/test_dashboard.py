"""A dashboard in the browser shows numbers that match the records, and refreshes."""
from __future__ import annotations

import pytest

from runtime.listing import Filter, ListQuery

pytestmark = pytest.mark.browser


def chart_data(page, widget: str) -> dict:
    """Labels and values the chart on the page is drawing (read from Chart.js itself)."""
    return page.evaluate("""(name) => {
        const canvas = document.querySelector(`[data-widget="${name}"] canvas`);
        const chart = Chart.getChart(canvas);
        return {labels: chart.data.labels, values: chart.data.datasets[0].data};
    }""", widget)


def test_dashboard_numbers_match_the_records_and_refresh(open_page, server, screenshot):
    records = server.records()
    open_states = ["released", "in_progress", "on_hold"]
    expected_open = records.list("work_order", ListQuery(filters=[Filter("status", "in", open_states)])).total
    page = open_page("admin", "/apps/machining/dashboards/overview")
    number = page.locator('[data-widget="open_orders"] [data-value]')
    number.filter(has_text=str(expected_open)).wait_for()
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('[data-widget=\"quantity_by_line\"] canvas'))")
    by_line = chart_data(page, "quantity_by_line")
    rows = records.list("work_order", ListQuery(per_page=500)).rows
    totals = {}
    for row in rows:
        totals[row["line"]] = totals.get(row["line"], 0) + row["quantity"]
    assert dict(zip(by_line["labels"], by_line["values"])) == totals
    screenshot(page, "dashboard")

    records.create("work_order", {"product": "SH-1001", "quantity": 7, "line": "line_2"})
    page.click("#dash-refresh")
    number.filter(has_text=str(expected_open + 1)).wait_for()
    assert page.errors == []
