"""Publishing versions to real tables: additive changes apply, destructive ones
need confirmation and do what the plan says, blocking ones never apply."""
from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa
import yaml

from runtime.publish import InvalidDefinition, PublishRefused
from runtime.records_bulk import bulk_write
from runtime.store import versions

V1 = yaml.safe_load("""
slug: demo
tables:
  - name: order
    fields:
      - {name: code, type: text, required: true}
      - {name: qty, type: integer}
      - {name: note, type: text}
      - {name: weight, type: text}
""")


def v(base, edit):
    doc = copy.deepcopy(base)
    edit(doc)
    return doc


def fields(doc, table=0):
    return doc["tables"][table]["fields"]


@pytest.fixture
def loaded(takt):
    takt.publish(V1)
    rows = ({"code": f"C{i:05d}", "qty": i, "note": f"n{i}" if i % 2 else None,
             "weight": str(i % 50) if i % 1000 else "heavy"} for i in range(10_000))
    result = bulk_write(takt.records(), "order", rows)
    assert result.inserted == 10_000
    return takt


def snapshot(takt, columns=("id", "code", "qty", "note")):
    live = takt.live()
    table = live.tables["order"]
    with takt.db.read() as conn:
        return conn.execute(sa.select(*(table.c[c] for c in columns)).order_by(table.c.id)).all()


def test_additive_publish_keeps_every_row(loaded):
    before = snapshot(loaded)
    v2 = v(V1, lambda d: fields(d).append({"name": "priority", "type": "select", "options": ["a", "b"], "default": "a"}))
    v2["tables"].append({"name": "station", "fields": [{"name": "code", "type": "text", "unique": True}]})
    result = loaded.publish(v2)
    assert result.version == 2 and not result.plan.destructive
    assert snapshot(loaded) == before
    assert loaded.scalar(sa.select(sa.func.count()).select_from(loaded.live().tables["order"])
                         .where(loaded.live().tables["order"].c.priority == "a")) == 10_000
    loaded.records().create("station", {"code": "S1"})


def test_destructive_publish_needs_confirmation_and_then_does_what_it_said(loaded):
    before = snapshot(loaded)
    v3 = v(V1, lambda d: fields(d).pop(2))  # drop 'note'
    with pytest.raises(PublishRefused) as refused:
        loaded.publish(v3)
    messages = [c.message for c in refused.value.plan.destructive]
    assert messages == ["field 'note' is removed from 'order' and its 5000 stored value(s) are deleted"]
    assert snapshot(loaded) == before and loaded.live().version == 1
    result = loaded.publish(v3, confirm_destructive=True)
    assert result.version == 2
    assert snapshot(loaded, ("id", "code", "qty")) == [row[:3] for row in before]
    assert "note" not in loaded.live().tables["order"].c


def test_type_conversion_says_what_happens_to_each_value(loaded):
    v2 = v(V1, lambda d: fields(d)[3].update(type="integer"))
    with pytest.raises(PublishRefused) as refused:
        loaded.publish(v2)
    message = refused.value.plan.destructive[0].message
    assert "9990 value(s) convert, 10 cannot and will be cleared" in message and "'heavy'" in message
    loaded.publish(v2, confirm_destructive=True)
    table = loaded.live().tables["order"]
    with loaded.db.read() as conn:
        values = dict(conn.execute(sa.select(table.c.code, table.c.weight)).all())
    assert values["C00001"] == 1 and values["C00049"] == 49 and values["C01000"] is None


def test_rename_keeps_data(loaded):
    v2 = v(V1, lambda d: fields(d)[1].update(name="quantity", previous_name="qty"))
    loaded.publish(v2, confirm_destructive=True)
    table = loaded.live().tables["order"]
    assert loaded.scalar(sa.select(sa.func.sum(table.c.quantity))) == sum(range(10_000))


def test_unique_over_duplicates_is_blocked_even_when_confirmed(loaded):
    v2 = v(V1, lambda d: fields(d)[3].update(unique=True))
    with pytest.raises(PublishRefused) as refused:
        loaded.publish(v2, confirm_destructive=True)
    assert "cannot become unique" in refused.value.plan.blocking[0].message
    assert loaded.live().version == 1


def test_drop_table_counts_records(loaded):
    v2 = v(V1, lambda d: d["tables"].append({"name": "other", "fields": [{"name": "x", "type": "text"}]}))
    loaded.publish(v2)
    v3 = v(V1, lambda d: d["tables"].__setitem__(0, {"name": "other", "fields": [{"name": "x", "type": "text"}]}))
    with pytest.raises(PublishRefused) as refused:
        loaded.publish(v3)
    assert "10000 record(s) are deleted" in refused.value.plan.destructive[0].message


def test_invalid_definition_is_not_published(takt):
    with pytest.raises(InvalidDefinition) as invalid:
        takt.publish({"slug": "demo", "tables": [{"name": "t", "fields": [{"name": "a", "type": "link", "table": "zzz"}]}]})
    assert invalid.value.problems[0].path == "/tables/0/fields/0/table"


def test_failed_publish_leaves_previous_version_working(loaded, monkeypatch):
    from runtime import publish as publish_module
    v2 = v(V1, lambda d: fields(d).append({"name": "extra", "type": "integer"}))
    original = publish_module._insert_version

    def explode(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(publish_module, "_insert_version", explode)
    with pytest.raises(RuntimeError):
        loaded.publish(v2)
    monkeypatch.undo()
    assert loaded.live().version == 1
    loaded.records().create("order", {"code": "after"})
    table = sa.table("demo__order")
    with loaded.db.read() as conn:
        columns = [c["name"] for c in sa.inspect(conn).get_columns("demo__order")]
    assert "extra" not in columns and table is not None


def test_formula_change_recomputes_existing_rows(takt):
    doc = yaml.safe_load("""
slug: demo
tables:
  - name: t
    fields:
      - {name: a, type: integer}
      - {name: b, type: formula, result_type: integer, expression: "a * 2"}
""")
    takt.publish(doc)
    takt.records().create("t", {"a": 5})
    doc["tables"][0]["fields"][1]["expression"] = "a * 3"
    takt.publish(doc)
    assert takt.records().list("t").rows[0]["b"] == 15


def test_hostile_but_valid_names_are_stored_safely(takt):
    takt.publish({"slug": "demo", "tables": [{"name": "select", "fields": [
        {"name": "order", "type": "text"}, {"name": "from", "type": "integer", "unique": True}]}]})
    records = takt.records()
    records.create("select", {"order": "x'); DROP TABLE takt_apps; --", "from": 1})
    assert records.list("select").rows[0]["order"] == "x'); DROP TABLE takt_apps; --"
    with takt.db.read() as conn:
        assert versions(conn, "demo")[0]["number"] == 1


@pytest.mark.parametrize("name", ["users; DROP TABLE x", "工单", "x" * 200, "Order", "_hidden", "a__b"])
def test_hostile_identifiers_get_a_clear_message(takt, name):
    with pytest.raises(InvalidDefinition) as invalid:
        takt.publish({"slug": "demo", "tables": [{"name": "t", "fields": [{"name": name, "type": "text"}]}]})
    problem = invalid.value.problems[0]
    assert problem.path == "/tables/0/fields/0/name"
    assert "label" in problem.message or "too long" in problem.message
