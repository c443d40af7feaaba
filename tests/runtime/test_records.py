"""The record service on SQLite and PostgreSQL: every field type, validation,
optimistic concurrency, naming series under concurrency, audit, permissions."""
from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from runtime.models import AuditEntry
from runtime.permissions import Actor
from runtime.records import Conflict, Forbidden, ListQuery, NotFound, ValidationFailed
from runtime.listing import Filter

ALL_TYPES = """
slug: demo
roles: [{name: supervisor}]
tables:
  - name: part
    title_field: code
    fields:
      - {name: code, type: barcode, required: true, unique: true}
      - {name: title, type: text, max_length: 20}
  - name: item
    naming: "IT-{YYYY}-{####}"
    fields:
      - {name: title, type: text, required: true, label: {en: Title, zh: 标题}}
      - {name: notes, type: long_text}
      - {name: qty, type: integer, min: 0, max: 1000}
      - {name: price, type: decimal, scale: 2}
      - {name: ok, type: boolean}
      - {name: due, type: date}
      - {name: at, type: datetime}
      - {name: took, type: duration}
      - {name: color, type: select, options: [red, green, 蓝色]}
      - {name: tags, type: multi_select, options: [a, b, c]}
      - {name: part, type: link, table: part}
      - {name: owner, type: user}
      - {name: code, type: barcode, pattern: "[A-Z]{2}[0-9]+"}
      - {name: file, type: attachment}
      - {name: total, type: formula, result_type: decimal, expression: "qty * price"}
      - {name: lines, type: child_rows, table: item_line}
      - {name: select, type: text}
      - {name: order, type: integer}
  - name: item_line
    child: true
    fields:
      - {name: n, type: integer, required: true}
      - {name: what, type: text}
"""

GOOD = {
    "title": "<script>alert(1)</script> 轴", "notes": "line one\nline two", "qty": "12", "price": "3.50",
    "ok": "yes", "due": "2026-11-03", "at": "2026-11-03T08:30:00", "took": "1h 30m", "color": "蓝色",
    "tags": "a, c", "part": "P1", "code": "AB123", "file": {"key": "uploads/x/a.pdf", "name": "a.pdf", "size": 3},
    "lines": [{"n": 1, "what": "first"}, {"n": 2}], "select": "keyword column", "order": 7,
}


@pytest.fixture
def demo(takt):
    takt.publish(ALL_TYPES)
    takt.records().create("part", {"code": "P1", "title": "part one"})
    return takt


def test_every_field_type_round_trips(demo):
    records = demo.records()
    created = records.create("item", GOOD)
    again = records.get("item", created["id"])
    assert again["title"] == "<script>alert(1)</script> 轴"
    assert again["qty"] == 12 and again["price"] == Decimal("3.50") and again["total"] == Decimal("42.00")
    assert again["ok"] is True and again["due"] == dt.date(2026, 11, 3)
    assert again["at"] == dt.datetime(2026, 11, 3, 8, 30) and again["took"] == 5400
    assert again["color"] == "蓝色" and again["tags"] == ["a", "c"] and again["part"] == 1
    assert again["file"]["name"] == "a.pdf" and again["code"] == "AB123"
    assert [(line["n"], line["what"]) for line in again["lines"]] == [(1, "first"), (2, None)]
    assert again["select"] == "keyword column" and again["order"] == 7
    assert again["_name"] == f"IT-{dt.date.today():%Y}-0001" and again["_version"] == 1


@pytest.mark.parametrize("field,value,message", [
    ("qty", "abc", "is not a whole number"),
    ("qty", "1.5", "whole number"),
    ("qty", 5000, "at most 1000"),
    ("price", "1.234", "more than 2 decimal places"),
    ("ok", "perhaps", "is not yes/no"),
    ("due", "03/11/2026", "is not a date"),
    ("at", "yesterday", "is not a date and time"),
    ("took", "forever", "is not a duration"),
    ("color", "purple", "is not one of the options"),
    ("tags", ["a", "z"], "is not one of the options"),
    ("part", "NOPE", "no part record 'NOPE'"),
    ("part", 999, "no part record '999'"),
    ("code", "ab-1", "does not have the expected format"),
    ("total", 5, "is computed"),
    ("nonsense", 1, "unknown field"),
])
def test_bad_values_get_field_level_messages(demo, field, value, message):
    with pytest.raises(ValidationFailed) as failed:
        demo.records().create("item", {"title": "x", field: value})
    assert any(i.field == field and message in i.message for i in failed.value.issues), failed.value.issues


def test_all_problems_reported_at_once_and_nothing_written(demo):
    with pytest.raises(ValidationFailed) as failed:
        demo.records().create("item", {"qty": -1, "color": "x", "lines": [{"what": "no n"}]})
    fields = {i.field for i in failed.value.issues}
    assert {"title", "qty", "color", "lines[0].n"} <= fields
    assert demo.records().list("item").total == 0


def test_unique_field_refuses_duplicates(demo):
    with pytest.raises(ValidationFailed) as failed:
        demo.records().create("part", {"code": "P1"})
    assert "already used" in failed.value.issues[0].message


def test_stale_version_gets_a_conflict_and_changes_nothing(demo):
    records = demo.records()
    item = records.create("item", {"title": "a", "qty": 1})
    results = []

    def update(qty):
        try:
            results.append(records.update("item", item["id"], {"qty": qty}, version=1)["qty"])
        except Conflict as err:
            results.append(err)

    threads = [threading.Thread(target=update, args=(n,)) for n in (2, 3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    winners = [r for r in results if not isinstance(r, Conflict)]
    assert len(winners) == 1 and sum(isinstance(r, Conflict) for r in results) == 1
    final = records.get("item", item["id"])
    assert final["qty"] == winners[0] and final["_version"] == 2


def test_fifty_threads_get_fifty_consecutive_names(demo):
    records = demo.records()
    names, errors = [], []

    def create(i):
        try:
            names.append(records.create("item", {"title": f"t{i}"})["_name"])
        except Exception as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(50)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    year = dt.date.today().strftime("%Y")
    assert sorted(names) == [f"IT-{year}-{n:04d}" for n in range(1, 51)]


def test_failed_write_leaves_no_gap_in_the_series(demo):
    records = demo.records()
    records.create("item", {"title": "one"})
    with pytest.raises(ValidationFailed):
        records.create("item", {"title": "two", "lines": [{"n": "x"}]})
    assert records.create("item", {"title": "three"})["_name"].endswith("0002")


def test_audit_entry_for_every_change(demo):
    records = demo.records(actor=Actor(7, "alice", frozenset({"admin"})))
    item = records.create("item", {"title": "a", "qty": 1})
    records.update("item", item["id"], {"qty": 2}, version=1)
    records.delete("item", item["id"])
    with demo.db.read() as conn:
        rows = conn.execute(sa.select(AuditEntry).where(AuditEntry.table_name == "item")
                            .order_by(AuditEntry.id)).mappings().all()
    assert [r["action"] for r in rows] == ["create", "update", "delete"]
    assert rows[1]["changes"] == {"qty": [1, 2]}
    assert rows[1]["username"] == "alice" and rows[1]["user_id"] == 7


def test_delete_refused_while_linked(demo):
    records = demo.records()
    records.create("item", {"title": "a", "part": "P1"})
    with pytest.raises(Conflict, match="link to it"):
        records.delete("part", 1)


def test_list_filters_sorts_pages_in_sql(demo):
    records = demo.records()
    for i in range(30):
        records.create("item", {"title": f"item {i:02d}", "qty": i, "color": ["red", "green"][i % 2]})
    page = records.list("item", ListQuery(filters=[Filter("color", "eq", "red"), Filter("qty", "ge", "10")],
                                          sort=[("qty", True)], page=2, per_page=5, totals=["qty"]))
    assert page.total == 10 and [r["qty"] for r in page.rows] == [18, 16, 14, 12, 10]
    assert page.sums["qty"] == sum(range(10, 30, 2))
    found = records.list("item", ListQuery(search="ITEM 2"))
    assert found.total == 10
    with pytest.raises(ValidationFailed, match="not a whole number"):
        records.list("item", ListQuery(filters=[Filter("qty", "gt", "many")]))
    with pytest.raises(ValidationFailed):
        records.list("item", ListQuery(sort=[("secret", False)]))


def test_search_treats_wildcards_literally(demo):
    records = demo.records()
    records.create("item", {"title": "100% done"})
    records.create("item", {"title": "1000 done"})
    assert records.list("item", ListQuery(search="100%")).total == 1


def test_unknown_record_and_table(demo):
    with pytest.raises(NotFound):
        demo.records().get("item", 12345)
    with pytest.raises(NotFound):
        demo.records().get("item", "1; DROP TABLE x")
    with pytest.raises(NotFound):
        demo.records().list("nope")


ROW_RULES = """
slug: demo
roles: [{name: supervisor}]
tables:
  - name: job
    fields:
      - {name: title, type: text}
      - {name: line, type: select, options: [l1, l2]}
    permissions:
      - {role: operator, read: true, create: true, update: true, rows: "line = current_user.line"}
      - {role: supervisor, read: true}
"""


def test_row_rules_limit_reads_and_writes(takt):
    takt.publish(ROW_RULES)
    admin = takt.records()
    mine = admin.create("job", {"title": "mine", "line": "l1"})
    theirs = admin.create("job", {"title": "theirs", "line": "l2"})
    operator = takt.records(actor=Actor(5, "op", frozenset({"operator"}), {"line": "l1"}))
    assert [r["title"] for r in operator.list("job").rows] == ["mine"]
    with pytest.raises(NotFound):
        operator.get("job", theirs["id"])
    with pytest.raises(NotFound):
        operator.update("job", theirs["id"], {"title": "x"}, version=1)
    with pytest.raises(Forbidden):
        operator.update("job", mine["id"], {"line": "l2"}, version=1)
    with pytest.raises(Forbidden):
        operator.create("job", {"title": "elsewhere", "line": "l2"})
    with pytest.raises(Forbidden):
        operator.delete("job", mine["id"])
    supervisor = takt.records(actor=Actor(6, "sup", frozenset({"supervisor"})))
    assert supervisor.list("job").total == 2
    with pytest.raises(Forbidden):
        supervisor.create("job", {"title": "no"})


def test_client_id_makes_creates_idempotent(demo):
    records = demo.records()
    first = records.create("item", {"title": "scan"}, client_id="tablet-1-0001")
    again = records.create("item", {"title": "scan"}, client_id="tablet-1-0001")
    assert first["id"] == again["id"] and records.list("item").total == 1


@pytest.mark.parametrize("typed,stored", [("1,200", 1200), ("-12,345,678", -12345678), ("1200", 1200)])
def test_thousands_separators_are_read_as_such(demo, typed, stored):
    assert demo.records().create("item", {"title": "t", "qty": 1, "order": typed})["order"] == stored


@pytest.mark.parametrize("typed", ["1,5", "12,34", "1,2345"])
def test_a_decimal_comma_is_refused_rather_than_misread(demo, typed):
    """'1,5' must never become 15."""
    with pytest.raises(ValidationFailed, match="ambiguous"):
        demo.records().create("item", {"title": "t", "price": typed})
