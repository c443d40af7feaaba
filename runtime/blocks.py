"""Adding a block to an app definition, and taking it out again.

A block's ``fragment`` (tables, forms, workflows, automations, dashboards,
roles, navigation — in the app schema) is rendered with the block's
parameters (``${name}`` placeholders, e.g. which existing table a link goes
to or a naming prefix) and merged into the definition. The result is a plain
definition: it passes the one validator and publishes like any other change,
and afterwards every merged element is editable like the user's own.
"""
from __future__ import annotations

import copy
import json
import re

from blocks.registry import Block, BlockError

SECTIONS = ("roles", "tables", "forms", "workflows", "automations", "dashboards")
PLACEHOLDER = re.compile(r"\$\{([a-z][a-z0-9_]*)\}")


def block_params(block: Block, given: dict, doc: dict) -> dict:
    """Given parameters checked against the manifest, defaults filled in."""
    declared = {p["name"]: p for p in block.manifest.get("parameters", [])}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise BlockError(f"block '{block.name}' has no parameter {', '.join(unknown)} "
                         f"(parameters: {', '.join(declared) or 'none'})")
    params = {}
    tables = {t.get("name") for t in doc.get("tables", [])}
    for name, spec in declared.items():
        value = given.get(name, spec.get("default"))
        if value is None:
            raise BlockError(f"block '{block.name}' needs parameter '{name}': {spec.get('help', '')}".rstrip(": "))
        if spec.get("type") == "table" and value not in tables and value not in _fragment_tables(block):
            raise BlockError(f"parameter '{name}': the app has no table '{value}'")
        if not re.fullmatch(r"[A-Za-z0-9_\- {}#]*", str(value)):
            raise BlockError(f"parameter '{name}': use letters, digits, _ - # {{ }} and spaces only")
        params[name] = str(value)
    return params


def _fragment_tables(block: Block) -> set:
    return {t["name"] for t in block.manifest.get("fragment", {}).get("tables", [])}


def render_fragment(block: Block, params: dict) -> dict:
    text = json.dumps(block.manifest.get("fragment", {}), ensure_ascii=False)
    return json.loads(PLACEHOLDER.sub(lambda m: params.get(m.group(1), m.group(0)), text))


def add_block(doc: dict, block: Block, given: dict | None = None) -> dict:
    installed = {b["name"] for b in doc.get("blocks", [])}
    if block.name in installed:
        raise BlockError(f"block '{block.name}' is already part of app '{doc.get('slug')}'")
    missing = [r for r in block.manifest.get("requires", []) if r not in installed]
    if missing:
        raise BlockError(f"block '{block.name}' needs block(s) {', '.join(missing)} in the app first")
    params = block_params(block, given or {}, doc)
    fragment = render_fragment(block, params)
    result = copy.deepcopy(doc)
    for section in SECTIONS:
        existing = {item.get("name") for item in result.get(section, [])}
        for item in fragment.get(section, []):
            if item.get("name") in existing:
                if section == "roles":
                    continue
                raise BlockError(f"block '{block.name}': the app already has a {section[:-1]} named '{item['name']}'")
            result.setdefault(section, []).append(item)
    result.setdefault("navigation", []).extend(fragment.get("navigation", []))
    entry = {"name": block.name, "version": str(block.manifest.get("version", "1")), "params": params}
    result.setdefault("blocks", []).append(entry)
    return result


def remove_block(doc: dict, block: Block) -> dict:
    """Take out what the block added (as rendered with the parameters it was added with)."""
    entry = next((b for b in doc.get("blocks", []) if b["name"] == block.name), None)
    if entry is None:
        raise BlockError(f"block '{block.name}' is not part of app '{doc.get('slug')}'")
    dependants = [b["name"] for b in doc.get("blocks", []) if b["name"] != block.name
                  and block.name in _requires(b["name"])]
    if dependants:
        raise BlockError(f"remove {', '.join(dependants)} first: they need block '{block.name}'")
    fragment = render_fragment(block, entry.get("params", {}))
    result = copy.deepcopy(doc)
    for section in SECTIONS:
        if section == "roles":
            continue
        names = {item.get("name") for item in fragment.get(section, [])}
        result[section] = [item for item in result.get(section, []) if item.get("name") not in names]
    added_nav = fragment.get("navigation", [])
    result["navigation"] = [item for item in result.get("navigation", []) if item not in added_nav]
    result["blocks"] = [b for b in result["blocks"] if b["name"] != block.name]
    return {k: v for k, v in result.items() if v != [] or k in ("tables",)}


def _requires(name: str) -> list:
    from blocks.registry import available
    block = available().get(name)
    return block.manifest.get("requires", []) if block else []


def init_app(app) -> None:
    """Import every installed block's actions so transitions and automations find them,
    and register the blueprints of blocks that bring screens of their own."""
    from blocks.registry import available
    for block in available().values():
        block.load_actions()
        blueprint = block.blueprint()
        if blueprint is not None:
            app.register_blueprint(blueprint)
