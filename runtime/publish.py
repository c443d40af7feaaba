"""Publishing: turn a validated definition into a new immutable version and
the real tables it describes.

``plan`` diffs the live definition against the new one and says, change by
change, what will happen to existing data (counting the rows it touches).
``publish`` refuses blocking changes, asks for confirmation of destructive
ones, and applies everything plus the version row in ONE transaction, so a
failure leaves the previous version exactly as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

from .definition import AppDef, TableDef
from .fieldtypes import FieldError, field_type
from .models import App, AppVersion, utcnow
from .store import forget_live
from .tables import build_table, field_column, field_indexes, system_indexes
from .validator import Problem, validate


class InvalidDefinition(ValueError):
    def __init__(self, problems: list[Problem]):
        super().__init__(f"the definition has {len(problems)} problem(s)")
        self.problems = problems


class PublishRefused(RuntimeError):
    """Blocking changes, or destructive ones without confirmation; nothing was changed."""

    def __init__(self, plan: "Plan", reason: str):
        super().__init__(reason)
        self.plan = plan


@dataclass
class Change:
    kind: str
    table: str
    message: str
    field: str | None = None
    destructive: bool = False
    blocking: bool = False
    apply: object = None  # callable(ops, conn) or None

    def as_dict(self):
        return {"kind": self.kind, "table": self.table, "field": self.field, "message": self.message,
                "destructive": self.destructive, "blocking": self.blocking}


@dataclass
class Plan:
    slug: str
    from_version: int | None
    changes: list[Change] = field(default_factory=list)

    @property
    def destructive(self) -> list[Change]:
        return [c for c in self.changes if c.destructive]

    @property
    def blocking(self) -> list[Change]:
        return [c for c in self.changes if c.blocking]

    def as_dict(self):
        return {"app": self.slug, "from_version": self.from_version, "changes": [c.as_dict() for c in self.changes]}


@dataclass
class Published:
    slug: str
    version: int
    plan: Plan


def publish(database, doc: dict, *, user: str | None = None, comment: str | None = None,
            confirm_destructive: bool = False, dry_run: bool = False) -> Published:
    problems = validate(doc)
    if problems:
        raise InvalidDefinition(problems)
    with database.write() as conn:
        app_row = _lock_app(conn, doc["slug"])
        old_doc, old_number = _live(conn, app_row)
        plan = make_plan(conn, old_doc, doc, old_number)
        if plan.blocking:
            raise PublishRefused(plan, "the publish is blocked: " + "; ".join(c.message for c in plan.blocking))
        if plan.destructive and not confirm_destructive:
            raise PublishRefused(plan, "the publish has destructive changes; confirm them to go ahead")
        if dry_run:
            conn.rollback()
            return Published(doc["slug"], (old_number or 0) + 1, plan)
        ops = Operations(MigrationContext.configure(conn))
        for change in plan.changes:
            if change.apply is not None:
                change.apply(ops, conn)
        number = _insert_version(conn, app_row, doc, user, comment)
    forget_live(database, doc["slug"])
    return Published(doc["slug"], number, plan)


def _lock_app(conn, slug):
    row = conn.execute(sa.select(App.id, App.live_version_id).where(App.slug == slug).with_for_update()).first()
    if row is None:
        conn.execute(sa.insert(App).values(slug=slug, created_at=utcnow()))
        row = conn.execute(sa.select(App.id, App.live_version_id).where(App.slug == slug)).first()
    return row


def _live(conn, app_row):
    if app_row.live_version_id is None:
        return None, None
    row = conn.execute(sa.select(AppVersion.definition, AppVersion.number)
                       .where(AppVersion.id == app_row.live_version_id)).first()
    return row.definition, row.number


def _insert_version(conn, app_row, doc, user, comment) -> int:
    last = conn.execute(sa.select(sa.func.max(AppVersion.number)).where(AppVersion.app_id == app_row.id)).scalar()
    number = (last or 0) + 1
    version_id = conn.execute(sa.insert(AppVersion).values(
        app_id=app_row.id, number=number, definition=doc, comment=comment,
        created_by=user, created_at=utcnow()).returning(AppVersion.id)).scalar_one()
    conn.execute(sa.update(App).where(App.id == app_row.id).values(live_version_id=version_id))
    return number


# -- the diff ------------------------------------------------------------------

def make_plan(conn, old_doc: dict | None, new_doc: dict, old_number: int | None = None) -> Plan:
    plan = Plan(new_doc["slug"], old_number)
    old = AppDef(old_doc) if old_doc else None
    new = AppDef(new_doc)
    old_tables = dict(old.tables) if old else {}
    matched = set()
    for name, table in new.tables.items():
        source = old_tables.get(name) or old_tables.get(table.doc.get("previous_name"))
        if source is None or source.name in matched:
            plan.changes.append(_create_table(table))
            continue
        matched.add(source.name)
        plan.changes += diff_table(conn, source, table)
    for name, table in old_tables.items():
        if name not in matched:
            plan.changes.append(_drop_table(conn, table))
    return plan


def _count(conn, table_def: TableDef, where=None) -> int:
    table = sa.table(table_def.sql_name)
    stmt = sa.select(sa.func.count()).select_from(table)
    if where is not None:
        stmt = stmt.where(where)
    return conn.execute(stmt).scalar_one()


def _create_table(table: TableDef) -> Change:
    def apply(ops, conn):
        build_table(sa.MetaData(), table).create(conn)
    return Change("create_table", table.name, f"new table '{table.name}' is created", apply=apply)


def _drop_table(conn, table: TableDef) -> Change:
    rows = _count(conn, table)
    def apply(ops, conn):
        build_table(sa.MetaData(), table).drop(conn)
    return Change("drop_table", table.name, f"table '{table.name}' is removed and its {rows} record(s) are deleted",
                  destructive=rows > 0, apply=apply)


def diff_table(conn, old: TableDef, new: TableDef) -> list[Change]:
    changes = []
    if old.child != new.child:
        return [Change("child_flag", new.name, f"table '{new.name}' cannot switch between child and normal table; "
                                               "create a new table instead", blocking=True)]
    if old.name != new.name:
        changes.append(_rename_table(conn, old, new))
    old_fields = {n: f for n, f in old.fields.items() if field_type(f).stored}
    matched = set()
    for name, fdef in new.fields.items():
        if not field_type(fdef).stored:
            continue
        source = old_fields.get(name) or old_fields.get(fdef.get("previous_name"))
        if source is None or source["name"] in matched:
            changes += _add_field(conn, new, fdef)
            continue
        matched.add(source["name"])
        changes += diff_field(conn, new, old, source, fdef)
    for name, fdef in old_fields.items():
        if name not in matched:
            changes.append(_drop_field(conn, new, old, fdef))
    return changes


def _rename_table(conn, old: TableDef, new: TableDef) -> Change:
    def apply(ops, conn):
        # Index names derive from the table name: move them along, with the old
        # fields' settings, so the field-level changes that follow find them.
        for name, columns, unique in system_indexes(old):
            ops.drop_index(name, table_name=old.sql_name)
        for field in old.stored_fields:
            _drop_indexes(ops, old.sql_name, field)
        ops.rename_table(old.sql_name, new.sql_name)
        for name, columns, unique in system_indexes(new):
            ops.create_index(name, new.sql_name, columns, unique=unique)
        for field in old.stored_fields:
            _create_indexes(ops, new.sql_name, field)
    return Change("rename_table", new.name, f"table '{old.name}' is renamed to '{new.name}'; its records are kept, "
                                            "but exports, API clients and links by the old name must change",
                  destructive=True, apply=apply)


def _drop_indexes(ops, sql_table, field):
    for name, _unique in field_indexes(sql_table, field):
        ops.drop_index(name, table_name=sql_table)


def _create_indexes(ops, sql_table, field):
    for name, unique in field_indexes(sql_table, field):
        ops.create_index(name, sql_table, [field["name"]], unique=unique)


def _add_field(conn, table: TableDef, fdef) -> list[Change]:
    default = fdef.get("default")
    def apply(ops, conn):
        ops.add_column(table.sql_name, field_column(fdef))
        if default is not None:
            value = field_type(fdef).coerce(fdef, default)
            sql = sa.table(table.sql_name, sa.column(fdef["name"], field_type(fdef).column_type(fdef)))
            conn.execute(sa.update(sql).values({fdef["name"]: value}))
        _create_indexes(ops, table.sql_name, fdef)
    note = f"; existing records get the default {default!r}" if default is not None else ""
    if fdef.get("required") and default is None:
        note += "; existing records have no value until they are next edited"
    changes = [Change("add_field", table.name, f"field '{fdef['name']}' is added to '{table.name}'{note}",
                      field=fdef["name"], apply=apply)]
    if fdef["type"] == "formula":
        changes.append(_recompute(table, fdef))
    return changes


def _drop_field(conn, table: TableDef, old: TableDef, fdef) -> Change:
    values = _count(conn, old, sa.column(fdef["name"]).isnot(None))
    def apply(ops, conn):
        _drop_indexes(ops, table.sql_name, fdef)
        ops.drop_column(table.sql_name, fdef["name"])
    return Change("drop_field", table.name,
                  f"field '{fdef['name']}' is removed from '{table.name}' and its {values} stored value(s) are deleted",
                  field=fdef["name"], destructive=True, apply=apply)


def diff_field(conn, table: TableDef, old_table: TableDef, old, new) -> list[Change]:
    changes = []
    name = new["name"]
    if old["name"] != name:
        changes.append(_rename_field(table, old, new))
    if field_type(old).storage_key(old) != field_type(new).storage_key(new) or \
            (old["type"] != new["type"] and _narrows(old, new)):
        changes.append(_convert_field(conn, table, old_table, old, new))
        # the rewrite builds the new indexes itself; only a blocking duplicate check remains
        changes += [c for c in _index_changes(conn, table, old_table, old, new) if c.blocking]
    else:
        changes += _index_changes(conn, table, old_table, old, new)
    if new["type"] == "formula" and (old.get("expression") != new.get("expression") or old["type"] != "formula"):
        changes.append(_recompute(table, new))
    if new["type"] in ("select", "multi_select") and old["type"] == new["type"]:
        changes += _removed_options(conn, old_table, old, new)
    return changes


def _narrows(old, new) -> bool:
    """A type change that keeps the column type can still make old values invalid (text → select)."""
    return new["type"] in ("select", "barcode", "text") and old["type"] != "formula"


def _rename_field(table, old, new) -> Change:
    def apply(ops, conn):
        _drop_indexes(ops, table.sql_name, old)
        ops.alter_column(table.sql_name, old["name"], new_column_name=new["name"])
        _create_indexes(ops, table.sql_name, {**old, "name": new["name"]})
    return Change("rename_field", table.name, f"field '{old['name']}' is renamed to '{new['name']}'; its values are kept, "
                                              "but imports, exports and API clients using the old name must change",
                  field=new["name"], destructive=True, apply=apply)


def _convert_field(conn, table, old_table, old, new) -> Change:
    """Convert stored values with the new type's own coercion, counting what does not fit."""
    rows = _column_values(conn, old_table, old["name"])
    kind = field_type(new)
    converted, failed = {}, []
    for record_id, value in rows:
        try:
            converted[record_id] = kind.check_range(new, kind.coerce(new, _plain(value)))
        except FieldError as err:
            converted[record_id] = None
            failed.append((record_id, value, str(err)))
    examples = "; ".join(f"record {rid}: {str(v)[:30]!r} {msg}" for rid, v, msg in failed[:5])
    message = (f"field '{new['name']}' changes from {old['type']} to {new['type']}: {len(rows) - len(failed)} value(s) convert"
               + (f", {len(failed)} cannot and will be cleared ({examples})" if failed else ""))

    def apply(ops, conn):
        _rewrite_column(ops, conn, table, old, new, converted)
    return Change("convert_field", table.name, message, field=new["name"], destructive=bool(failed), apply=apply)


def _plain(value):
    from decimal import Decimal
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _column_values(conn, table_def, column):
    sql = sa.table(table_def.sql_name, sa.column("id"), sa.column(column))
    return conn.execute(sa.select(sql.c.id, sql.c[column]).where(sql.c[column].isnot(None))).all()


def _rewrite_column(ops, conn, table, old, new, converted):
    temp = f"{new['name']}_tmp_conv"
    current = new["name"]  # a rename, if any, has already been applied
    _drop_indexes(ops, table.sql_name, {**old, "name": current})
    ops.add_column(table.sql_name, sa.Column(temp, field_type(new).column_type(new)))
    sql = sa.table(table.sql_name, sa.column("id"), sa.column(temp, field_type(new).column_type(new)))
    updates = [{"rid": rid, "val": value} for rid, value in converted.items() if value is not None]
    if updates:
        conn.execute(sa.update(sql).where(sql.c.id == sa.bindparam("rid")).values({temp: sa.bindparam("val")}), updates)
    ops.drop_column(table.sql_name, current)
    ops.alter_column(table.sql_name, temp, new_column_name=new["name"])
    _create_indexes(ops, table.sql_name, new)


def _index_changes(conn, table, old_table, old, new) -> list[Change]:
    before = field_indexes(table.sql_name, {**old, "name": new["name"]})
    after = field_indexes(table.sql_name, new)
    if before == after:
        return []
    if new.get("unique") and not old.get("unique"):
        dupes = _duplicates(conn, old_table, old["name"])
        if dupes:
            shown = ", ".join(f"{v!r} ×{n}" for v, n in dupes[:5])
            return [Change("add_unique", table.name, f"field '{new['name']}' cannot become unique: {len(dupes)} value(s) "
                                                     f"occur more than once ({shown}); fix those records first",
                           field=new["name"], blocking=True)]

    def apply(ops, conn):
        _drop_indexes(ops, table.sql_name, {**old, "name": new["name"]})
        _create_indexes(ops, table.sql_name, new)
    what = "unique" if new.get("unique") else ("no longer unique" if old.get("unique") else "index changed")
    return [Change("index", table.name, f"field '{new['name']}': {what}", field=new["name"], apply=apply)]


def _duplicates(conn, table_def, column):
    sql = sa.table(table_def.sql_name, sa.column(column))
    stmt = (sa.select(sql.c[column], sa.func.count()).where(sql.c[column].isnot(None))
            .group_by(sql.c[column]).having(sa.func.count() > 1).limit(20))
    return conn.execute(stmt).all()


def _removed_options(conn, old_table, old, new) -> list[Change]:
    from .labels import option_values
    gone = [v for v in option_values(old) if v not in option_values(new)]
    if not gone or new["type"] != "select":
        return []
    column = sa.column(old["name"])
    used = _count(conn, old_table, column.in_(gone))
    if not used:
        return []
    return [Change("remove_options", old_table.name,
                   f"options {', '.join(gone)} are removed from '{new['name']}' but {used} record(s) still hold them; "
                   "the values are kept and shown as they are until those records are edited",
                   field=new["name"], destructive=True)]


def _recompute(table: TableDef, fdef) -> Change:
    def apply(ops, conn):
        from .records import recompute_formulas
        recompute_formulas(conn, table)
    return Change("recompute", table.name, f"formula '{fdef['name']}' is computed for every existing record",
                  field=fdef["name"], apply=apply)
