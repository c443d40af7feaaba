"""Reading an app definition document and looking things up in it.

The JSON document is the only model: ``AppDef`` is a read-only view with
indexes by name so that the validator, the publisher, the record service and
the runtime do not each walk the lists again. Defaults are filled in by these
views, never written into the document (stored definitions stay small).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

import yaml

from .fieldtypes import expression_type, field_type
from .labels import label_text

BUILTIN_ROLES = ("admin", "engineer", "operator")
RESERVED_FIELDS = {"id", "current_user", "true", "false", "null", "and", "or", "not", "in"}
CURRENT_USER_SCOPE = {
    "id": "number", "username": "text", "display_name": "text", "roles": "list",
    "line": "text", "area": "text", "station": "text",
}


class DefinitionError(ValueError):
    """A definition file that cannot even be read (bad YAML/JSON, not a mapping)."""


def load_document(path: str | Path) -> dict:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError(f"{path}: no such file") from None
    except (UnicodeDecodeError, IsADirectoryError) as err:
        raise DefinitionError(f"{path}: cannot read it as UTF-8 text ({err})") from None
    return parse_document(text, path.name)


def parse_document(text: str, source: str = "definition") -> dict:
    try:
        doc = json.loads(text) if source.endswith(".json") else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as err:
        raise DefinitionError(f"{source}: not valid {'JSON' if source.endswith('.json') else 'YAML'}: {err}") from None
    if not isinstance(doc, dict):
        raise DefinitionError(f"{source}: the definition must be a mapping with slug and tables")
    return doc


def sql_table_name(app_slug: str, table_name: str) -> str:
    """Per-app namespace; slugs never contain '__', so names cannot collide."""
    return f"{app_slug}__{table_name}"


class TableDef:
    def __init__(self, app: "AppDef", doc: dict, index: int):
        self.app, self.doc, self.index = app, doc, index
        self.name = doc["name"]
        self.fields: dict[str, dict] = {f["name"]: f for f in doc.get("fields", [])}
        self.child = bool(doc.get("child"))
        self.naming = doc.get("naming")

    @property
    def sql_name(self) -> str:
        return sql_table_name(self.app.slug, self.name)

    def label(self, language="en") -> str:
        return label_text(self.doc.get("label"), language, self.name)

    @cached_property
    def stored_fields(self) -> list[dict]:
        return [f for f in self.fields.values() if field_type(f).stored]

    @cached_property
    def formulas(self) -> list[dict]:
        return [f for f in self.fields.values() if f["type"] == "formula"]

    @cached_property
    def links(self) -> list[dict]:
        return [f for f in self.fields.values() if f["type"] == "link"]

    @cached_property
    def child_fields(self) -> list[dict]:
        return [f for f in self.fields.values() if f["type"] == "child_rows"]

    @property
    def title_field(self) -> str | None:
        return self.doc.get("title_field")

    def workflow(self):
        return next((w for w in self.app.doc.get("workflows", []) if w.get("table") == self.name), None)

    def scope(self) -> "FieldScope":
        return FieldScope(self.app, self.name)

    def expression(self, source: str, expect: str | None = None):
        """Compiled once per published version: the definition never changes under it."""
        from .expressions import compile_expression

        cache = self.__dict__.setdefault("_compiled", {})
        if (source, expect) not in cache:
            cache[(source, expect)] = compile_expression(source, self.scope(), expect=expect)
        return cache[(source, expect)]


class AppDef:
    """A read-only view over one definition document (assumed schema-valid)."""

    def __init__(self, doc: dict):
        self.doc = doc
        self.slug: str = doc["slug"]
        self.tables: dict[str, TableDef] = {}
        for i, table in enumerate(doc.get("tables", [])):
            self.tables.setdefault(table["name"], TableDef(self, table, i))

    def label(self, language="en") -> str:
        return label_text(self.doc.get("name"), language, self.slug)

    def table(self, name: str) -> TableDef:
        return self.tables[name]

    def named(self, section: str) -> dict[str, dict]:
        return {item["name"]: item for item in self.doc.get(section, []) if isinstance(item, dict) and "name" in item}

    @cached_property
    def roles(self) -> set[str]:
        return set(BUILTIN_ROLES) | {r["name"] for r in self.doc.get("roles", [])}


class FieldScope(Mapping):
    """Expression scope of a table: field name → type, a link → the linked table's scope.

    Built lazily so that tables linking to each other (cycles) cost nothing
    until an expression actually walks the link.
    """

    def __init__(self, app: AppDef, table_name: str, with_user: bool = True):
        self.app, self.table_name, self.with_user = app, table_name, with_user

    @cached_property
    def _types(self) -> dict:
        table = self.app.tables[self.table_name]
        types = {"id": "number"}
        for name, field in table.fields.items():
            if field["type"] == "link" and field.get("table") in self.app.tables:
                types[name] = FieldScope(self.app, field["table"], with_user=False)
            else:
                types[name] = expression_type(field)
        if self.with_user:
            types["current_user"] = CURRENT_USER_SCOPE
        return types

    def __getitem__(self, key):
        return self._types[key]

    def __iter__(self):
        return iter(self._types)

    def __len__(self):
        return len(self._types)
