"""The ``takt`` command line: user mistakes give a message and a non-zero exit, no traceback."""
from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from runtime.cli import main

EXAMPLE = "example_apps/machining.yaml"


@pytest.fixture
def takt_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("TAKT_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)
    return run


def test_valid_definition_prints_nothing(takt_cli):
    result = takt_cli("app", "validate", EXAMPLE)
    assert result.exit_code == 0 and result.output == ""


def test_load_export_round_trip_and_versions(takt_cli, tmp_path):
    assert takt_cli("db", "upgrade").exit_code == 0
    loaded = takt_cli("app", "load", EXAMPLE, "--comment", "first")
    assert loaded.exit_code == 0 and "published machining version 1" in loaded.output
    exported = takt_cli("app", "export", "machining")
    with open(EXAMPLE, encoding="utf-8") as handle:
        assert yaml.safe_load(exported.output) == yaml.safe_load(handle)
    as_json = takt_cli("app", "export", "machining", "--format", "json")
    assert json.loads(as_json.output)["slug"] == "machining"
    assert "machining\tv1\tMachining shop" in takt_cli("app", "list").output
    assert "v1 (live)" in takt_cli("app", "versions", "machining").output


def test_destructive_load_needs_confirmation(takt_cli, tmp_path):
    takt_cli("app", "load", EXAMPLE)
    doc = yaml.safe_load(open(EXAMPLE, encoding="utf-8"))
    doc["tables"][0]["fields"].pop()  # product.cycle_time
    smaller = tmp_path / "smaller.yaml"
    smaller.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    refused = takt_cli("app", "load", str(smaller))
    assert refused.exit_code == 1 and "DESTRUCTIVE" in refused.output and "--confirm-destructive" in refused.output
    assert "Traceback" not in refused.output
    assert takt_cli("app", "load", str(smaller), "--confirm-destructive").exit_code == 0
    assert "v2 (live)" in takt_cli("app", "versions", "machining").output


def test_user_mistakes_give_messages(takt_cli, tmp_path):
    missing = takt_cli("app", "export", "nope")
    assert missing.exit_code == 1 and "no app 'nope'" in missing.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("slug: [unclosed", encoding="utf-8")
    result = takt_cli("app", "load", str(bad))
    assert result.exit_code == 1 and "not valid YAML" in result.output and "Traceback" not in result.output
    assert takt_cli("app", "validate", str(tmp_path / "absent.yaml")).exit_code == 1


def test_user_create(takt_cli):
    result = takt_cli("user", "create", "ann", "--password", "long-enough", "--role", "engineer")
    assert result.exit_code == 0
    again = takt_cli("user", "create", "ann", "--password", "long-enough")
    assert again.exit_code == 1 and "exists already" in again.output
    short = takt_cli("user", "create", "bob", "--password", "short")
    assert short.exit_code == 1 and "at least 8" in short.output


def test_engines_are_wired(takt_cli, tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"horizon": 2, "items": [{"id": "A", "on_hand": 5}],
                                "demand": [{"item": "A", "period": 2, "qty": 8}]}))
    out = tmp_path / "out.json"
    assert takt_cli("mrp", "run", "--input", str(plan), "--out", str(out)).exit_code == 0
    assert json.loads(out.read_text())["items"]["A"]["planned_receipts"] == [0, 3]
    instance = tmp_path / "tiny.txt"
    instance.write_text("2 2\n0 3 1 2\n1 4 0 1\n")
    schedule = tmp_path / "schedule.json"
    result = takt_cli("schedule", "jssp", str(instance), "--time-limit", "2", "--out", str(schedule))
    assert result.exit_code == 0
    assert json.loads(schedule.read_text())["makespan"] == 6  # j0: m0 0-3, m1 4-6; j1: m1 0-4, m0 4-5


def test_blocks_from_the_command_line(takt_cli):
    assert "work_orders" in takt_cli("block", "list").output
    takt_cli("app", "load", EXAMPLE)
    added = takt_cli("app", "add-block", "machining", "work_orders", "--param", "order_prefix=MO")
    assert added.exit_code == 0 and "published machining version 2" in added.output
    assert takt_cli("app", "add-block", "machining", "work_orders").exit_code == 1
    unknown = takt_cli("app", "add-block", "machining", "nope")
    assert unknown.exit_code == 1 and "no block 'nope'" in unknown.output
    removed = takt_cli("app", "remove-block", "machining", "work_orders")  # empty tables: nothing to confirm
    assert removed.exit_code == 0 and "0 record(s) are deleted" in removed.output
    again = takt_cli("app", "remove-block", "machining", "work_orders")
    assert again.exit_code == 1 and "not part of app" in again.output
