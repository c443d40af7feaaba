"""static/conditions.js against the server's own evaluator: the same expression trees
(``Expression.to_json()``), the same values, the same answers — or, for what the
browser cannot know (fields of linked records), the fallback."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from runtime.definition import CURRENT_USER_SCOPE
from runtime.expressions import compile_expression

pytestmark = pytest.mark.browser

SCOPE = {"priority": "text", "quantity": "number", "notes": "text", "code": "text", "price": "number",
         "due_date": "date", "flag": "boolean", "tags": "list", "current_user": CURRENT_USER_SCOPE,
         "product": {"material": "text"}}
ROWS = [
    {"priority": "rush", "quantity": 12, "notes": "late", "code": "WO-1", "price": Decimal("1.55"),
     "due_date": dt.date(2026, 12, 3), "flag": True, "tags": ["a", "b"]},
    {"priority": None, "quantity": None, "notes": None, "code": None, "price": None, "due_date": None,
     "flag": False, "tags": None},
    {"priority": "low", "quantity": 3, "notes": "", "code": "X", "price": Decimal("0"), "due_date": dt.date(2025, 1, 1),
     "flag": False, "tags": ["c"]},
]
EXPRESSIONS = [
    "priority = 'rush'", "priority != 'rush'", "quantity > 10 and priority != 'low'", "quantity >= 10",
    "not (quantity > 5)", "priority in ('rush', 'high')", "priority not in ('rush')", "is_blank(notes)",
    "coalesce(quantity, 0) + 1 > 1", "if(quantity > 10, 'big', 'small') = 'big'", "len(notes) > 3",
    "upper(priority) = 'RUSH'", "contains(notes, 'at')", "startswith(code, 'WO')", "quantity % 5 = 2",
    "round(price * 2, 1) = 3.1", "year(due_date) = 2026", "has_role('supervisor')", "quantity > 5 or notes = 'x'",
    "-quantity < 0", "text(quantity) & 'pcs' = '12pcs'", "min(quantity, 3) = 3", "flag", "not flag",
    "'b' in tags", "quantity / 4 = 3", "quantity - 2 * 3 = 6", "quantity ^ 2 > 100", "trim(' x ') = 'x'",
    "is_blank(tags)", "priority = null", "endswith(code, '1')",
]


def browser_scope(row):
    values = {k: (v.isoformat() if isinstance(v, dt.date) else float(v) if isinstance(v, Decimal) else v)
              for k, v in row.items()}
    return {**values, "current_user": {"roles": ["operator", "supervisor"]}}


def test_the_browser_interpreter_agrees_with_the_server(open_page):
    page = open_page("supervisor", "/apps/machining/work_order/new")
    for row in ROWS:
        scope = {**row, "current_user": {"roles": ["operator", "supervisor"]}}
        for source in EXPRESSIONS:
            expression = compile_expression(source, SCOPE, expect="boolean")
            expected = expression.evaluate(scope) is True
            got = page.evaluate("([tree, scope]) => TaktConditions.test(tree, scope, 'fallback')",
                                [expression.to_json(), browser_scope(row)])
            assert got == expected, (source, row)


def test_what_the_browser_cannot_know_falls_back(open_page):
    page = open_page("supervisor", "/apps/machining/work_order/new")
    tree = compile_expression("product.material = 'steel'", SCOPE, expect="boolean").to_json()
    scope = {**browser_scope(ROWS[0]), "product": {"id": 1}}
    assert page.evaluate("([tree, scope]) => TaktConditions.test(tree, scope, 'fallback')", [tree, scope]) == "fallback"
    tree = compile_expression("days_between(due_date, due_date) = 0", SCOPE, expect="boolean").to_json()
    assert page.evaluate("([tree, scope]) => TaktConditions.test(tree, scope, 'fallback')", [tree, scope]) == "fallback"
