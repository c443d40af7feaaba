"""The record service: the single path for reading and writing app records.

The UI, the REST API, the Excel importer, blocks and background jobs all call
``Records``; nothing else validates or writes records. Each write is one
transaction holding the change, its child rows, its naming-series number, its
audit entry and whatever synchronous automations it triggers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from . import naming
from .definition import TableDef
from .fieldtypes import to_json_value
from .linked import RowCache, sql_columns
from .listing import ListQuery, Page, list_records
from .models import AuditEntry, utcnow
from .permissions import Actor, allowed, row_allowed, row_filter
from .record_checks import (Conflict, Forbidden, Issue, NotFound, RecordError, ValidationFailed,
                            apply_defaults, check_required, check_unique, coerce_values,
                            compute_formulas, resolve_links)
from .store import LiveApp

__all__ = ["Records", "RecordError", "ValidationFailed", "NotFound", "Conflict", "Forbidden", "ListQuery", "Page"]


@dataclass
class Change:
    """What hooks (automations, webhooks) are told after a write, inside its transaction."""

    event: str
    table: TableDef
    before: dict | None
    after: dict | None
    extra: dict = field(default_factory=dict)
    touched: bool = False  # set by a hook whose actions may have written to the record


class Records:
    def __init__(self, database, live: LiveApp, actor: Actor, hooks=()):
        self.database, self.live, self.actor, self.hooks = database, live, actor, tuple(hooks)

    # -- lookups -----------------------------------------------------------
    def table(self, name: str, action: str = "read") -> TableDef:
        tdef = self.live.appdef.tables.get(name)
        if tdef is None:
            raise NotFound(f"no table '{name}' in app '{self.live.slug}'")
        if not allowed(self.actor, tdef, action):
            raise Forbidden(f"you may not {action} records of '{tdef.label(self.actor.language)}'")
        return tdef

    def sql(self, tdef: TableDef) -> sa.Table:
        return self.live.tables[tdef.name]

    def visible(self, tdef: TableDef, action="read"):
        """The row-level condition for this actor, or None."""
        return row_filter(self.actor, tdef, sql_columns(self.live.appdef, self.live.tables, tdef.name), action)

    # -- read --------------------------------------------------------------
    def get(self, table: str, record_id, conn=None, action="read") -> dict:
        tdef = self.table(table, action)
        if conn is None:
            with self.database.read() as conn:
                return self._get(conn, tdef, record_id, action)
        return self._get(conn, tdef, record_id, action)

    def _get(self, conn, tdef, record_id, action="read") -> dict:
        sql = self.sql(tdef)
        record_id = _as_id(record_id)
        stmt = sa.select(sql).where(sql.c.id == record_id)
        condition = self.visible(tdef, action)
        if condition is not None:
            stmt = stmt.where(condition)
        row = conn.execute(stmt).mappings().first()
        if row is None:
            raise NotFound(f"no {tdef.name} record {record_id}")
        record = dict(row)
        for child in tdef.child_fields:
            record[child["name"]] = self._children(conn, tdef, child, record_id)
        return record

    def _children(self, conn, tdef, child_field, parent_id) -> list[dict]:
        sql = self.live.tables[child_field["table"]]
        stmt = (sa.select(sql).where(sql.c._parent_id == parent_id, sql.c._parent_table == tdef.name,
                                     sql.c._parent_field == child_field["name"]).order_by(sql.c._idx, sql.c.id))
        return [dict(r) for r in conn.execute(stmt).mappings()]

    def list(self, table: str, query: ListQuery | None = None) -> Page:
        tdef = self.table(table, "read")
        with self.database.read() as conn:
            return list_records(conn, self.live, tdef, query or ListQuery(), self.visible(tdef))

    def find(self, table: str, field_name: str, value) -> dict | None:
        """The visible record whose field equals value (kiosk scan lookups)."""
        tdef = self.table(table, "read")
        sql = self.sql(tdef)
        column = sql.c._name if field_name == "_name" else sql.c[field_name]
        stmt = sa.select(sql.c.id).where(column == value)
        condition = self.visible(tdef)
        if condition is not None:
            stmt = stmt.where(condition)
        with self.database.read() as conn:
            record_id = conn.execute(stmt.limit(1)).scalar()
            return self._get(conn, tdef, record_id) if record_id is not None else None

    # -- write -------------------------------------------------------------
    def create(self, table: str, values: dict, *, client_id: str | None = None, conn=None) -> dict:
        tdef = self.table(table, "create")
        if conn is not None:
            return self._create(conn, tdef, values, client_id)
        try:
            with self.database.write() as conn:
                return self._create(conn, tdef, values, client_id)
        except sa.exc.IntegrityError:
            if client_id is None:
                raise
        # The same client id arrived twice at once (a retried offline report): the first one won.
        with self.database.read() as conn:
            sql = self.sql(tdef)
            existing = conn.execute(sa.select(sql.c.id).where(sql.c._client_id == str(client_id))).scalar_one()
            return self._get(conn, tdef, existing)

    def _create(self, conn, tdef, values, client_id=None) -> dict:
        sql = self.sql(tdef)
        if client_id is not None:
            existing = conn.execute(sa.select(sql.c.id).where(sql.c._client_id == str(client_id))).scalar()
            if existing is not None:
                return self._get(conn, tdef, existing)
        record, children = self.prepare(conn, tdef, values, None)
        if not row_allowed(self.actor, tdef, self._scope(conn, tdef, record), "create"):
            raise Forbidden("you may only create records inside your own rows (row rule)")
        now = utcnow()
        system = {"_version": 1, "_created_at": now, "_updated_at": now, "_created_by": self.actor.user_id,
                  "_updated_by": self.actor.user_id, "_client_id": client_id}
        if tdef.naming:
            system["_name"] = naming.next_names(conn, self.live.slug, tdef.name, tdef.naming)[0]
        record_id = conn.execute(sa.insert(sql).values({**record, **system}).returning(sql.c.id)).scalar_one()
        self._write_children(conn, tdef, record_id, children)
        if tdef.child_fields:  # child rows get their ids from the database
            after = self._get(conn, tdef, record_id, action="create")
        else:  # everything stored is known already: spare the round trip
            after = {**{c: None for c in sql.c.keys()}, **record, **system, "id": record_id}
        self.audit(conn, tdef, record_id, "create", _diff(tdef, {}, after))
        return self._notify(conn, Change("created", tdef, None, after))

    def update(self, table: str, record_id, values: dict, *, version: int | None, conn=None) -> dict:
        tdef = self.table(table, "update")
        if conn is not None:
            return self._update(conn, tdef, record_id, values, version)
        with self.database.write() as conn:
            return self._update(conn, tdef, record_id, values, version)

    def _update(self, conn, tdef, record_id, values, version, system_values=None, event="updated", extra=None,
                action="update") -> dict:
        before = self._get(conn, tdef, record_id, action=action)
        if version is None:
            raise ValidationFailed([Issue("_version", "is required: send the version you read, to detect concurrent edits")])
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValidationFailed([Issue("_version", "must be a whole number")])
        record, children = self.prepare(conn, tdef, values, before, trusted=system_values)
        if not row_allowed(self.actor, tdef, self._scope(conn, tdef, {**before, **record}), action):
            raise Forbidden("the change would move the record outside your own rows (row rule)")
        sql = self.sql(tdef)
        changed = {k: v for k, v in record.items() if before.get(k) != v}
        stamp = {"_version": sql.c._version + 1, "_updated_at": utcnow(), "_updated_by": self.actor.user_id}
        result = conn.execute(sa.update(sql).where(sql.c.id == before["id"], sql.c._version == version)
                              .values({**changed, **stamp}))
        if result.rowcount != 1:
            raise Conflict(f"{tdef.name} record {before['id']} was changed by someone else "
                           f"(you have version {version}, it is now {before['_version']}); reload and try again")
        self._write_children(conn, tdef, before["id"], children, replace=True)
        after = self._get(conn, tdef, before["id"], action=action)
        kind = "transition" if event == "transition" else "update"
        self.audit(conn, tdef, before["id"], kind, {**_diff(tdef, before, after), **(extra or {})})
        return self._notify(conn, Change(event, tdef, before, after, extra or {}))

    def delete(self, table: str, record_id, *, version: int | None = None, conn=None) -> None:
        tdef = self.table(table, "delete")
        if conn is not None:
            return self._delete(conn, tdef, record_id, version)
        with self.database.write() as conn:
            return self._delete(conn, tdef, record_id, version)

    def _delete(self, conn, tdef, record_id, version):
        before = self._get(conn, tdef, record_id, action="delete")
        self._refuse_if_linked(conn, tdef, before["id"])
        sql = self.sql(tdef)
        stmt = sa.delete(sql).where(sql.c.id == before["id"])
        if version is not None:
            stmt = stmt.where(sql.c._version == version)
        if conn.execute(stmt).rowcount != 1:
            raise Conflict(f"{tdef.name} record {before['id']} was changed by someone else; reload and try again")
        for child in tdef.child_fields:
            self._delete_children(conn, tdef, child, before["id"])
        self.audit(conn, tdef, before["id"], "delete", _diff(tdef, before, {}))
        self._notify(conn, Change("deleted", tdef, before, None))

    # -- shared steps ------------------------------------------------------
    def prepare(self, conn, tdef, values, before, trusted=None, prefix="") -> tuple[dict, dict]:
        """Validated stored values (and child rows) for a create (before=None) or an update."""
        issues: list[Issue] = []
        flow = tdef.workflow()
        state_field = flow.get("field", "state") if flow else None
        clean = coerce_values(tdef, values, issues, prefix, state_field, creating=before is None)
        clean.update(trusted or {})
        children = {f["name"]: clean.pop(f["name"]) for f in tdef.child_fields if f["name"] in clean}
        cache = RowCache(conn, self.live)
        if before is None:
            record = dict(clean)
            apply_defaults(tdef, record, set(clean), cache, self.actor, issues, prefix)
            if flow is not None:
                record[state_field] = self._initial_state(flow, clean.get(state_field), issues, prefix + state_field)
        else:
            record = {**{k: v for k, v in before.items() if k in tdef.fields}, **clean}
            for name in tdef.child_fields:
                record.pop(name["name"], None)
        resolve_links(conn, self.live, tdef, record, issues, prefix)
        check_required(tdef, record, issues, prefix, children if before is not None else
                       {f["name"]: children.get(f["name"], []) for f in tdef.child_fields})
        if not issues:
            compute_formulas(tdef, record, cache, self.actor, issues, prefix)
            check_unique(conn, self.live, tdef, record, issues, before and before["id"], prefix)
        prepared_children = self._prepare_children(conn, tdef, children, issues)
        if issues:
            raise ValidationFailed(issues)
        stored = {f["name"]: record.get(f["name"]) for f in tdef.stored_fields}
        return stored, prepared_children

    def _initial_state(self, flow, given, issues, where):
        initial = flow.get("initial") or flow["states"][0]["name"]
        if given is not None and given != initial:
            issues.append(Issue(where, f"new records start in state '{initial}'; use a transition to change it"))
        return initial

    def _prepare_children(self, conn, tdef, children, issues) -> dict:
        prepared = {}
        for name, rows in children.items():
            child = self.live.appdef.tables[tdef.fields[name]["table"]]
            prepared[name] = []
            for i, row in enumerate(rows):
                try:
                    record, _ = self.prepare(conn, child, row, None, prefix=f"{name}[{i}].")
                    prepared[name].append(record)
                except ValidationFailed as failed:
                    issues.extend(failed.issues)
        return prepared

    def _write_children(self, conn, tdef, parent_id, children, replace=False):
        now = utcnow()
        for name, rows in children.items():
            child_field = tdef.fields[name]
            if replace:
                self._delete_children(conn, tdef, child_field, parent_id)
            sql = self.live.tables[child_field["table"]]
            stamp = {"_version": 1, "_created_at": now, "_updated_at": now, "_created_by": self.actor.user_id,
                     "_updated_by": self.actor.user_id, "_parent_id": parent_id, "_parent_table": tdef.name,
                     "_parent_field": name}
            if rows:
                conn.execute(sa.insert(sql), [{**row, **stamp, "_idx": i} for i, row in enumerate(rows)])

    def _delete_children(self, conn, tdef, child_field, parent_id):
        sql = self.live.tables[child_field["table"]]
        conn.execute(sa.delete(sql).where(sql.c._parent_id == parent_id, sql.c._parent_table == tdef.name,
                                          sql.c._parent_field == child_field["name"]))

    def _refuse_if_linked(self, conn, tdef, record_id):
        """Links carry no SQL foreign key (tables may link in circles), so deletes check here."""
        for other in self.live.appdef.tables.values():
            for link in other.links:
                if link["table"] != tdef.name:
                    continue
                sql = self.live.tables[other.name]
                count = conn.execute(sa.select(sa.func.count()).where(sql.c[link["name"]] == record_id)).scalar()
                if count:
                    raise Conflict(f"cannot delete: {count} {other.label(self.actor.language)} record(s) link to it "
                                   f"through '{link['name']}'")

    def _scope(self, conn, tdef, record) -> dict:
        from .linked import expression_values
        return expression_values(RowCache(conn, self.live), tdef.name, record)

    def audit(self, conn, tdef, record_id, action, changes):
        conn.execute(sa.insert(AuditEntry).values(
            app_slug=self.live.slug, table_name=tdef.name, record_id=record_id, action=action,
            user_id=self.actor.user_id, username=self.actor.username, at=utcnow(), changes=changes))

    def _notify(self, conn, change: Change):
        """Run the hooks; return the record as they left it (an automation may have changed it)."""
        for hook in self.hooks:
            hook(self, conn, change)
        if change.after is None or not change.touched:
            return change.after
        try:
            return self._get(conn, change.table, change.after["id"], action="read")
        except NotFound:  # a hook removed it, or moved it outside this user's rows
            return change.after


def _as_id(record_id) -> int:
    try:
        return int(record_id)
    except (TypeError, ValueError):
        raise NotFound(f"'{record_id}' is not a record id") from None


def _diff(tdef: TableDef, before: dict, after: dict) -> dict:
    """{field: [old, new]} in JSON form, for the audit trail."""
    changes = {}
    for name, fdef in tdef.fields.items():
        old, new = before.get(name), after.get(name)
        if fdef["type"] == "child_rows":
            if old != new:
                changes[name] = [len(old or []), len(new or [])]
            continue
        if old != new:
            changes[name] = [to_json_value(fdef, old), to_json_value(fdef, new)]
    return changes


def serialize(tdef: TableDef, record: dict, live: LiveApp | None = None) -> dict:
    """A record as the API and templates get it: JSON-friendly values, system keys kept."""
    out = {"id": record["id"], "_name": record.get("_name"), "_version": record.get("_version"),
           "_created_at": _iso(record.get("_created_at")), "_updated_at": _iso(record.get("_updated_at"))}
    for name, fdef in tdef.fields.items():
        value = record.get(name)
        if fdef["type"] == "child_rows" and live is not None:
            child = live.appdef.tables[fdef["table"]]
            out[name] = [serialize(child, row) for row in value or []]
        else:
            out[name] = to_json_value(fdef, value)
    return out


def _iso(value):
    return value.isoformat(timespec="seconds") if value is not None else None


def recompute_formulas(conn, tdef: TableDef, batch: int = 1000):
    """After a publish changes a formula: compute it for every existing record."""
    from .tables import build_tables

    live = LiveApp(0, 0, 0, tdef.app, build_tables(tdef.app))
    sql = live.tables[tdef.name]
    actor = Actor.system("publish")
    last = 0
    while True:
        rows = conn.execute(sa.select(sql).where(sql.c.id > last).order_by(sql.c.id).limit(batch)).mappings().all()
        if not rows:
            return
        cache = RowCache(conn, live)
        for row in rows:
            record, issues = dict(row), []
            compute_formulas(tdef, record, cache, actor, issues)
            values = {f["name"]: record[f["name"]] for f in tdef.formulas}
            conn.execute(sa.update(sql).where(sql.c.id == row["id"]).values(values))
        last = rows[-1]["id"]
