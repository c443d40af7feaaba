"""The shop-floor blocks together: manifests keep their names to themselves and label
everything in English and Chinese; work_orders + quality + andon + traceability +
equipment validate and publish as one app whose tables link across blocks."""
import pytest

from blocks.registry import BlockError
from blocks.traceability.genealogy import genealogy
from runtime.blocks import SECTIONS, add_block, remove_block
from runtime.validator import validate

from .shopfloor import SHOP_BLOCKS, app_doc, block, rows, wire, work_order

PREFIX = {"quality": "qc_", "andon": "andon_", "equipment": "eq_", "traceability": "tr_"}


def _labels(node, path="") -> list[tuple[str, object]]:
    """Every label / title in a manifest fragment, with where it is."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("label", "title"):
                found.append((f"{path}/{key}", value))
            found += _labels(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found += _labels(item, f"{path}/{i}")
    return found


@pytest.mark.parametrize("name", SHOP_BLOCKS)
def test_manifest_names_are_prefixed_and_labels_bilingual(name):
    manifest = block(name).manifest
    fragment = manifest["fragment"]
    for section in SECTIONS[1:]:
        for item in fragment.get(section, []):
            assert item["name"].startswith(PREFIX[name]), f"{section}: {item['name']}"
    for table in fragment["tables"]:
        assert len(table["name"]) <= 30 and all(len(f["name"]) <= 40 for f in table["fields"])
    bare = [(where, label) for where, label in [("/label", manifest["label"]), *_labels(fragment)]
            if not (isinstance(label, dict) and label.get("en") and label.get("zh"))]
    assert bare == []
    assert validate(app_doc(name)) == []


def test_blocks_need_work_orders_and_come_out_cleanly():
    with pytest.raises(BlockError, match="needs block\\(s\\) work_orders"):
        add_block({"slug": "plant", "tables": []}, block("quality"))
    everything = app_doc(*SHOP_BLOCKS)
    assert validate(everything) == []
    without_andon = remove_block(everything, block("andon"))
    assert not [t for t in without_andon["tables"] if t["name"].startswith("andon_")]
    assert validate(without_andon) == []


def test_one_app_of_all_blocks_links_across_them(takt):
    records = wire(takt, *SHOP_BLOCKS)
    op10, op20 = work_order(records, quantity=5)
    records.create("wo_report", {"operation": op10["id"], "kind": "start"})

    records.create("qc_plan", {"code": "QP-1", "name": "Final check", "product": "P1", "inspection_type": "final",
                               "characteristics": [{"name": "Length", "lower_limit": "99", "upper_limit": "101"}]})
    inspection = records.create("qc_inspection", {"operation": op10["id"], "plan": "QP-1", "results": [
        {"characteristic": "Length", "measured": "102"}]})
    [ncr] = rows(records, "qc_ncr")
    assert (ncr["operation"], ncr["inspection"]) == (op10["id"], inspection["id"])

    call = records.create("andon_call", {"station": "ST-1", "call_type": "quality", "operation": op10["id"],
                                         "description": f"NCR {ncr['_name']}"})
    assert call["area"] == "A1"

    records.create("eq_machine", {"code": "CNC-1", "name": "Lathe", "area": "A1"})
    records.create("eq_downtime", {"machine": "CNC-1", "reason": "quality", "note": call["_name"]})
    assert rows(records, "eq_downtime")[0]["machine"] == records.find("eq_machine", "code", "CNC-1")["id"]

    records.create("tr_lot", {"code": "M1", "item": "Steel"})
    records.create("tr_consume", {"operation": op10["id"], "lot": "M1", "quantity": "5"})
    records.create("tr_output", {"operation": op20["id"], "lot_code": "F1", "quantity": "5"})
    tree = genealogy(records, "F1")
    first = tree["made_by"][0]["operations"][0]
    assert [m["code"] for m in first["materials"]] == ["M1"]
    assert [(i["number"], i["type"], i["result"]) for i in first["inspections"]] == [(inspection["_name"], "final", "fail")]
