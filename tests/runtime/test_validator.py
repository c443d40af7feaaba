"""Tests for the app-definition validator (runtime/validator.py, runtime/validator_flows.py).

Most cases are files in ``tests/runtime/broken/``: each is a small definition whose
header names every problem it must report, one per line::

    # expect: <JSON pointer> <part of the message>

The document root is written ``/``, as the CLI prints it. A file must report each
expected problem at exactly that path, and nothing else.
"""
from __future__ import annotations

import copy
import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.validator import Problem, validate

ROOT = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).parent / "broken"
BROKEN_FILES = sorted(BROKEN.glob("*.yaml"))
EXAMPLE = ROOT / "example_apps" / "machining.yaml"
TAKT = Path(sys.executable).with_name("takt")
EXPECT = re.compile(r"^# expect: (/\S*) (.+)$", re.MULTILINE)


def expectations(path: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2).strip()) for m in EXPECT.finditer(path.read_text(encoding="utf-8"))]


def shown_path(problem: Problem) -> str:
    return problem.path or "/"


def matches(problem: Problem, expected: tuple[str, str]) -> bool:
    path, text = expected
    return shown_path(problem) == path and text in problem.message


def problems_of(path: Path) -> list[Problem]:
    return validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def resolve(doc, pointer: str):
    """The element a JSON pointer names, or KeyError/IndexError/TypeError."""
    node = doc
    for part in pointer.split("/")[1:] if pointer else []:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def run_cli(*files):
    return subprocess.run([str(TAKT), "app", "validate", *map(str, files)],
                          capture_output=True, text=True, cwd=ROOT, check=False)


# -- the broken files ----------------------------------------------------------

def test_there_are_enough_small_broken_files_each_with_expectations():
    assert len(BROKEN_FILES) >= 20
    for path in BROKEN_FILES:
        assert expectations(path), f"{path.name} has no '# expect: <pointer> <message>' line"
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 60, f"{path.name} is not a small snippet"


@pytest.mark.parametrize("path", BROKEN_FILES, ids=lambda p: p.stem)
def test_broken_file_reports_every_expected_problem_and_nothing_else(path):
    problems = problems_of(path)
    assert all(isinstance(p, Problem) and p.message for p in problems)
    expected = expectations(path)
    missing = [e for e in expected if not any(matches(p, e) for p in problems)]
    unexpected = [str(p) for p in problems if not any(matches(p, e) for e in expected)]
    assert not missing, f"not reported: {missing}\nreported: {[str(p) for p in problems]}"
    assert not unexpected, f"reported but not expected: {unexpected}"


@pytest.mark.parametrize("path", BROKEN_FILES, ids=lambda p: p.stem)
def test_problem_paths_point_into_the_document(path):
    """Each path names an element of the file, or a key missing from an element that is there."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for problem in problems_of(path):
        parent = problem.path.rsplit("/", 1)[0] if problem.path else ""
        resolve(doc, parent)


@pytest.mark.parametrize("path", BROKEN_FILES, ids=lambda p: p.stem)
def test_validate_leaves_the_document_unchanged(path):
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    before = copy.deepcopy(doc)
    validate(doc)
    assert doc == before


# -- the command line ------------------------------------------------------------

@pytest.mark.parametrize("name", ["several_problems", "hostile_identifiers", "unknown_top_level_key",
                                  "formula_cycle", "unknown_roles"])
def test_cli_prints_every_problem_with_its_path_and_fails(name):
    path = BROKEN / f"{name}.yaml"
    result = run_cli(path)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    for where, text in expectations(path):
        prefix = f"{path}: {where}: "
        assert any(line.startswith(prefix) and text in line for line in lines), (where, text, result.stderr)
    assert "Traceback" not in result.stderr


def test_cli_refuses_a_file_that_is_not_a_mapping():
    result = run_cli(BROKEN / "not_a_mapping.yaml")
    assert result.returncode == 1
    assert "must be a mapping" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_is_silent_and_succeeds_on_the_example_app():
    result = run_cli(EXAMPLE)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_cli_checks_every_file_it_is_given():
    result = run_cli(EXAMPLE, BROKEN / "duplicate_table.yaml")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{BROKEN / 'duplicate_table.yaml'}: /tables/1/name: "
        "table 'part' is defined twice (first at index 0); names must be unique"]


def test_example_app_is_valid():
    assert validate(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))) == []


# -- names ---------------------------------------------------------------------------

def one_table(table="part", field="code", slug="demo"):
    return {"slug": slug, "tables": [{"name": table, "fields": [{"name": field, "type": "text"}]}]}


SQL_WORDS = ["select", "order", "from", "group", "table", "where", "user", "drop", "delete", "index", "key"]


@pytest.mark.parametrize("word", SQL_WORDS)
def test_sql_keywords_are_valid_names_everywhere(word):
    """They are slugs like any other; quoting them in SQL is SQLAlchemy's job."""
    assert validate(one_table(table=word, field=word, slug=word)) == []


def test_an_app_made_of_sql_keywords_is_valid():
    doc = yaml.safe_load("""
        slug: select
        roles: [{name: group}]
        tables:
          - name: order
            fields:
              - {name: select, type: select, options: [from, where]}
              - {name: table, type: link, table: from}
              - {name: group, type: integer}
              - {name: by, type: formula, result_type: integer, expression: "group * 2"}
            permissions: [{role: group, read: true, rows: "select = 'from'"}]
          - name: from
            fields: [{name: where, type: text}]
        forms:
          - {name: insert, table: order, sections: [{columns: [[select, table, group]]}]}
        workflows:
          - name: update
            table: order
            field: select
            states: [{name: from}, {name: where}]
            transitions: [{name: join, from: from, to: where, roles: [group], guard: "group > 0"}]
        dashboards:
          - name: union
            widgets: [{name: limit, type: bar, query: {table: order, group_by: select, aggregate: sum, field: group}}]
        navigation: [{table: order}, {form: insert}, {dashboard: union}]
    """)
    assert validate(doc) == []


HOSTILE = ["users; DROP TABLE x", "工单", "a" * 200, "Select", "work-order", "1st_op", "a__b", "_x", "x_", "", "qty "]


@pytest.mark.parametrize("name", HOSTILE, ids=repr)
@pytest.mark.parametrize("where", ["table", "field"])
def test_hostile_names_are_refused_with_a_hint_to_use_the_label(name, where):
    doc = one_table(**{where: name})
    pointer = "/tables/0/name" if where == "table" else "/tables/0/fields/0/name"
    at_name = [p for p in validate(doc) if p.path == pointer]
    assert at_name, validate(doc)
    assert all("label" in p.message for p in at_name), at_name


def test_names_at_the_length_limit_are_accepted_and_one_more_is_refused():
    assert validate(one_table(table="t" * 30, field="f" * 40)) == []
    problems = validate(one_table(table="t" * 31, field="f" * 41))
    assert {p.path for p in problems} == {"/tables/0/name", "/tables/0/fields/0/name"}
    assert all("too long" in p.message and "label" in p.message for p in problems)


# -- regressions -------------------------------------------------------------------

def test_formula_copying_a_linked_field_of_the_same_name_is_not_a_cycle():
    doc = yaml.safe_load("""
        slug: demo
        tables:
          - name: product
            fields: [{name: unit_cost, type: formula, result_type: decimal, expression: "1.5 * 2"}]
          - name: line
            fields:
              - {name: product, type: link, table: product}
              - {name: unit_cost, type: formula, result_type: decimal, expression: "product.unit_cost"}
              - {name: status, type: formula, expression: "if(unit_cost > 0, 'label', 'none')"}
              - {name: label, type: formula, expression: "status & '!'"}
    """)
    assert validate(doc) == []


def test_formula_cycle_is_reported_at_the_right_field_after_a_duplicate():
    doc = yaml.safe_load("""
        slug: demo
        tables:
          - name: calc
            fields:
              - {name: a, type: integer}
              - {name: a, type: integer}
              - {name: x, type: formula, result_type: integer, expression: "y + a"}
              - {name: y, type: formula, result_type: integer, expression: "x + 1"}
    """)
    assert {str(p) for p in validate(doc)} == {
        "/tables/0/fields/1/name: field 'a' is defined twice (first at index 0); names must be unique",
        "/tables/0/fields/2/expression: formulas depend on each other in a circle: x → y → x",
    }


def test_a_number_formula_without_result_type_is_accepted():
    doc = yaml.safe_load("""
        slug: demo
        tables:
          - name: job
            fields:
              - {name: quantity, type: integer}
              - {name: doubled, type: formula, expression: "quantity * 2"}
              - {name: title, type: formula, expression: "'Job ' & text(quantity)"}
    """)
    assert validate(doc) == []


@pytest.mark.parametrize("value", [dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, 8, 0), float("nan"), [1], {"a": 1}],
                         ids=repr)
@pytest.mark.parametrize("kind", ["text", "integer", "decimal", "boolean", "date", "select", "duration"])
def test_a_default_of_any_yaml_value_is_reported_not_raised(kind, value):
    field = {"name": "f", "type": kind, "default": value}
    if kind == "select":
        field["options"] = ["a"]
    doc = {"slug": "demo", "tables": [{"name": "t", "fields": [field]}]}
    problems = validate(doc)
    assert all(p.path == "/tables/0/fields/0/default" for p in problems), problems


def test_a_misspelt_field_type_does_not_hide_the_other_problems():
    doc = yaml.safe_load("""
        slug: demo
        tables:
          - name: job
            fields:
              - {name: quantity, type: number}
              - {name: total, type: formula, result_type: decimal, expression: "quantity * prize"}
        forms:
          - {name: job_form, table: job, sections: [{columns: [[quantity, titel]]}]}
    """)
    assert {p.path for p in validate(doc)} == {
        "/tables/0/fields/0/type", "/tables/0/fields/1/expression", "/forms/0/sections/0/columns/0/1"}


# -- never raises --------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
    st.sampled_from(["", "a", "job", "state", "select", "text", "link", "formula", "id", "工单", "x y", "{#}"]),
    st.dates(), st.datetimes())
KEYS = st.one_of(st.text(max_size=10), st.sampled_from(["name", "type", "table", "fields", "options", "slug"]),
                 st.integers(), st.booleans())
YAML_LIKE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=25)


def assert_problem_list(result):
    assert isinstance(result, list)
    for problem in result:
        assert isinstance(problem, Problem)
        assert isinstance(problem.path, str) and (problem.path == "" or problem.path.startswith("/"))
        assert isinstance(problem.message, str) and problem.message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(YAML_LIKE)
def test_any_value_gives_problems_never_an_exception(value):
    assert_problem_list(validate(value))


SECTIONS = ["slug", "tables", "roles", "forms", "workflows", "automations", "dashboards", "navigation"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(SECTIONS), st.lists(st.dictionaries(KEYS, YAML_LIKE, max_size=5), max_size=3)
                       | YAML_LIKE, max_size=6))
def test_garbage_sections_give_problems_never_an_exception(doc):
    assert_problem_list(validate(doc))


EXAMPLE_DOC = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def _locations(node, path=()):
    yield path
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield from _locations(child, (*path, key))


LOCATIONS = [loc for loc in _locations(EXAMPLE_DOC) if loc]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(LOCATIONS), st.none() | YAML_LIKE.map(lambda v: (v,))), min_size=1, max_size=3))
def test_damaged_example_gives_problems_never_an_exception(damage):
    """The example app with a few values replaced by garbage (or removed)."""
    assert_problem_list(validate(damaged(EXAMPLE_DOC, damage)))


def damaged(doc, damage):
    doc = copy.deepcopy(doc)
    for location, replacement in damage:
        try:
            parent = doc
            for part in location[:-1]:
                parent = parent[part]
            if replacement is None:
                del parent[location[-1]]
            else:
                parent[location[-1]] = replacement[0]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or reshaped this place
    return doc


NAMES = st.sampled_from(["a", "b", "state", "job", "step", "qty", "when"])
FIELD = st.fixed_dictionaries(
    {"name": NAMES,
     "type": st.sampled_from(["text", "integer", "decimal", "boolean", "date", "datetime", "duration", "select",
                              "multi_select", "link", "user", "barcode", "formula", "child_rows", "long_text"])},
    optional={"options": st.lists(st.sampled_from(["a", "b", "open", "done"]), min_size=1, max_size=3),
              "table": NAMES, "expression": st.sampled_from(["a + 1", "a", "b & 'x'", "qty > 2", "today()", "a.b"]),
              "result_type": st.sampled_from(["text", "integer", "decimal", "boolean", "date"]),
              "default": SCALARS, "min": st.integers(-3, 3) | st.floats(), "max": st.integers(-3, 3),
              "scale": st.integers(0, 4), "pattern": st.sampled_from(["[a-z]+", "(", "*", "\\d{2}"]),
              "unique": st.booleans(), "default_expression": st.sampled_from(["1", "today()", "'x'", "a"])})
TABLE = st.fixed_dictionaries({"name": NAMES, "fields": st.lists(FIELD, min_size=1, max_size=4)},
                              optional={"child": st.booleans(), "naming": st.sampled_from(["X-{####}", "{YY}{#}", "A"])})
WORKFLOW = st.fixed_dictionaries({
    "name": NAMES, "table": NAMES,
    "states": st.lists(st.fixed_dictionaries({"name": NAMES}), min_size=1, max_size=3),
    "transitions": st.lists(st.fixed_dictionaries(
        {"name": NAMES, "from": NAMES | st.lists(NAMES, min_size=1, max_size=2), "to": NAMES},
        optional={"guard": st.sampled_from(["qty > 1", "qty", "a = 'x'"]), "roles": st.lists(NAMES, max_size=2),
                  "actions": st.lists(st.sampled_from([{"set": {"a": "1"}}, {"set": {"state": "'a'"}},
                                                       {"notify": {"role": "a", "message": "'hi'"}},
                                                       {"create": {"table": "job", "values": {"a": "qty"}}}]),
                                      max_size=2)}), max_size=3)},
    optional={"field": NAMES, "initial": NAMES})
WIDGET = st.fixed_dictionaries({
    "name": NAMES, "type": st.sampled_from(["number", "bar", "line", "pie", "table"]),
    "query": st.fixed_dictionaries({"table": NAMES}, optional={
        "group_by": NAMES, "aggregate": st.sampled_from(["count", "sum", "avg", "min", "max"]), "field": NAMES,
        "time_bucket": st.fixed_dictionaries({"field": NAMES, "unit": st.just("day")}),
        "filters": st.lists(st.fixed_dictionaries({"field": NAMES, "op": st.just("eq"), "value": SCALARS}), max_size=2),
        "columns": st.lists(NAMES, max_size=2)})})
APP = st.fixed_dictionaries(
    {"slug": st.just("demo"), "tables": st.lists(TABLE, max_size=3)},
    optional={"roles": st.lists(st.fixed_dictionaries({"name": NAMES}), max_size=2),
              "forms": st.lists(st.fixed_dictionaries(
                  {"name": NAMES, "table": NAMES,
                   "sections": st.lists(st.fixed_dictionaries({"columns": st.lists(st.lists(NAMES, max_size=3),
                                                                                    min_size=1, max_size=2)}),
                                        min_size=1, max_size=2)},
                  optional={"lookup_field": NAMES}), max_size=2),
              "workflows": st.lists(WORKFLOW, max_size=2),
              "automations": st.lists(st.fixed_dictionaries({
                  "name": NAMES,
                  "trigger": st.sampled_from([{"event": "created", "table": "job"}, {"event": "schedule", "every_minutes": 5},
                                              {"event": "transition", "workflow": "a", "transition": "b"},
                                              {"event": "updated", "table": "step", "condition": "qty > 1"}]),
                  "actions": st.lists(st.sampled_from([{"set": {"qty": "1"}}, {"notify": {"user": "x", "message": "1"}},
                                                       {"update": {"table": "job", "where": {"a": "a"},
                                                                   "values": {"b": "1"}}}]),
                                      min_size=1, max_size=2)}), max_size=2),
              "dashboards": st.lists(st.fixed_dictionaries({"name": NAMES, "widgets": st.lists(WIDGET, max_size=3)}),
                                     max_size=2),
              "navigation": st.lists(st.fixed_dictionaries({}, optional={"table": NAMES, "form": NAMES,
                                                                          "dashboard": NAMES}), max_size=2)})


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(APP)
def test_plausible_apps_give_problems_never_an_exception(doc):
    """Well-formed documents whose names refer to each other at random: these reach every
    meaning check with the schema passing, where a crash would not be tolerated."""
    assert_problem_list(validate(doc))
