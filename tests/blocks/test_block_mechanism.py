"""Blocks are found through entry points, merge into an app as plain
definitions, validate and publish like any change, and come out again."""
from __future__ import annotations

import pytest
import yaml

from blocks.registry import BlockError, available, get
from runtime.blocks import add_block, remove_block
from runtime.publish import PublishRefused
from runtime.validator import validate

BASE = {"slug": "plant", "tables": [{"name": "line", "fields": [{"name": "code", "type": "text"}]}]}


def test_shipped_blocks_are_entry_points_with_valid_manifests():
    blocks = available()
    assert "work_orders" in blocks
    for block in blocks.values():
        manifest = block.manifest
        assert manifest["name"] == block.name and "fragment" in manifest
        doc = BASE
        for required in manifest.get("requires", []):
            doc = add_block(doc, get(required))
        assert validate(add_block(doc, block)) == [], block.name


def test_parameters_are_checked_and_substituted():
    doc = add_block(BASE, get("work_orders"), {"order_prefix": "MO"})
    order = next(t for t in doc["tables"] if t["name"] == "wo_order")
    assert order["naming"] == "MO-{YYYY}{MM}-{####}"
    assert doc["blocks"] == [{"name": "work_orders", "version": "1.0", "params": {"order_prefix": "MO", "report_tolerance": "0"}}]
    with pytest.raises(BlockError, match="no parameter colour"):
        add_block(BASE, get("work_orders"), {"colour": "red"})
    with pytest.raises(BlockError, match="already part"):
        add_block(doc, get("work_orders"))


def test_name_clash_with_the_users_own_table_is_refused():
    clash = {"slug": "plant", "tables": [{"name": "wo_order", "fields": [{"name": "x", "type": "text"}]}]}
    with pytest.raises(BlockError, match="already has a table named 'wo_order'"):
        add_block(clash, get("work_orders"))


def test_add_publish_then_remove_is_a_confirmed_destructive_change(takt):
    takt.publish(BASE)
    with_block = add_block(BASE, get("work_orders"))
    takt.publish(with_block)
    records = takt.records("plant")
    records.create("wo_workstation", {"code": "CNC-1", "name": "Lathe"})
    records.create("wo_product", {"code": "P1", "name": "Shaft", "routing": [
        {"seq": 1, "operation": "Turn", "workstation": "CNC-1"}]})
    without = remove_block(with_block, get("work_orders"))
    # roles stay: users may hold them and other parts of the app may use them
    assert {k: v for k, v in without.items() if k != "roles"} == BASE
    with pytest.raises(PublishRefused) as refused:
        takt.publish(without)
    assert any("record(s) are deleted" in c.message for c in refused.value.plan.destructive)
    takt.publish(without, confirm_destructive=True)
    assert set(takt.live("plant").appdef.tables) == {"line"}


def test_block_yaml_is_readable_yaml():
    assert yaml.safe_load((get("work_orders").folder / "block.yaml").read_text(encoding="utf-8"))["name"] == "work_orders"
