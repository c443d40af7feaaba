"""Who may do what with a table's records, and which rows they see.

admin and engineer may do everything. Other roles get what the table's
``permissions`` grant; a table that declares none is open to every signed-in
user for read, create and update (delete stays with admin and engineer).
A row rule is an expression: a user whose roles grant access through several
entries sees the union of their rows, and one entry without a rule means all rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from .definition import TableDef

FULL_ACCESS = {"admin", "engineer"}
ACTIONS = ("read", "create", "update", "delete")


@dataclass(frozen=True)
class Actor:
    """The user on whose behalf a record operation runs."""

    user_id: int | None
    username: str
    roles: frozenset = frozenset()
    attributes: dict = field(default_factory=dict, hash=False, compare=False)
    language: str = "en"

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        return cls(None, name, frozenset({"admin"}))

    @property
    def full_access(self) -> bool:
        return bool(self.roles & FULL_ACCESS)

    def scope_value(self) -> dict:
        """``current_user`` inside expressions."""
        return {**self.attributes, "id": self.user_id, "username": self.username,
                "display_name": self.attributes.get("display_name", self.username),
                "roles": sorted(self.roles), "line": self.attributes.get("line"),
                "area": self.attributes.get("area"), "station": self.attributes.get("station")}


def _entries(actor: Actor, table: TableDef) -> list[dict]:
    return [p for p in table.doc.get("permissions", []) if p["role"] in actor.roles]


def allowed(actor: Actor, table: TableDef, action: str) -> bool:
    if actor.full_access:
        return True
    declared = table.doc.get("permissions")
    if not declared:
        return action != "delete"
    return any(p.get(action, action == "read") for p in _entries(actor, table))


def row_rules(actor: Actor, table: TableDef, action: str = "read") -> list | None:
    """Compiled rules whose union the actor may touch, or None for every row."""
    if actor.full_access or not table.doc.get("permissions"):
        return None
    rules = []
    for entry in _entries(actor, table):
        if not entry.get(action, action == "read"):
            continue
        if not entry.get("rows"):
            return None
        rules.append(table.expression(entry["rows"], "boolean"))
    return rules


def row_filter(actor: Actor, table: TableDef, columns, action="read"):
    """The SQL condition for the rows the actor may see (None: no condition)."""
    from .expressions import to_sql

    rules = row_rules(actor, table, action)
    if rules is None:
        return None
    if not rules:
        return sa.false()
    values = {"current_user": actor.scope_value()}
    return sa.or_(*(to_sql(rule, columns, values) for rule in rules))


def row_allowed(actor: Actor, table: TableDef, values: dict, action="update") -> bool:
    """Python check of a record about to be written: it must stay inside the actor's rows."""
    rules = row_rules(actor, table, action)
    if rules is None:
        return True
    scope = {**values, "current_user": actor.scope_value()}
    return any(rule.evaluate(scope) is True for rule in rules)
