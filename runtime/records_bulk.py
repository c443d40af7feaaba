"""The bulk path of the record service: thousands of rows per statement.

The rules are the record service's own (field coercion, defaults, required,
formulas, links, uniqueness); what changes is the batching: links and unique
keys are checked with one query per batch, naming-series numbers are reserved
per batch, and rows go out as one multi-row INSERT. The whole import is one
transaction, so a failure — or a killed process — leaves the table as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from . import naming
from .fieldtypes import FieldError, field_type
from .linked import RowCache
from .models import utcnow
from .permissions import row_allowed
from .record_checks import Issue, ValidationFailed, apply_defaults, compute_formulas, lookup_ids


OUTSIDE = object()  # an upsert key that matches a record the actor may not update


class Cancelled(Exception):
    """The user cancelled the import; the transaction is rolled back."""


@dataclass
class RowError:
    row: int          # index in the input, from 0 (callers map it to a sheet row)
    field: str | None
    value: object
    message: str

    def as_dict(self):
        return {"row": self.row, "field": self.field, "value": self.value, "message": self.message}


@dataclass
class BulkResult:
    inserted: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)


class BulkFailed(ValidationFailed):
    """All-or-nothing import with bad rows: nothing was written."""

    def __init__(self, result: BulkResult):
        self.result = result
        issues = [Issue(e.field, f"row {e.row + 1}: {e.message}") for e in result.errors[:50]]
        super().__init__(issues)
        self.message = f"{len(result.errors)} problem(s) in the rows; nothing was imported"


def bulk_write(records, table: str, rows, *, mode="all_or_nothing", key: str | None = None,
               batch_size: int = 2000, progress=None, cancelled=None, total=None) -> BulkResult:
    """Validate and insert (or upsert by ``key``) an iterable of value dicts."""
    if mode not in ("all_or_nothing", "valid_only"):
        raise ValueError(f"unknown import mode '{mode}'")
    tdef = records.table(table, "create")
    if key is not None and key not in tdef.fields:
        raise ValidationFailed([Issue(key, f"cannot upsert by '{key}': no such field in {tdef.name}")])
    if key is not None:
        records.table(table, "update")
    writer = _BatchWriter(records, tdef, key, mode)
    with records.database.write() as conn:
        batch, done = [], 0
        for row in rows:
            batch.append(row)
            if len(batch) >= batch_size:
                done = writer.flush(conn, batch, done, progress, total, cancelled)
                batch = []
        writer.flush(conn, batch, done, progress, total, cancelled)
        if writer.result.errors and mode == "all_or_nothing":
            raise BulkFailed(writer.result)
        records.audit(conn, tdef, None, "bulk_import",
                      {"inserted": writer.result.inserted, "updated": writer.result.updated,
                       "skipped_rows": len({e.row for e in writer.result.errors})})
    return writer.result


class _BatchWriter:
    def __init__(self, records, tdef, key, mode):
        self.records, self.tdef, self.key, self.mode = records, tdef, key, mode
        self.sql = records.live.tables[tdef.name]
        self.result = BulkResult()
        self.coercers = [(name, field_type(f).converter(f)) for name, f in tdef.fields.items()
                         if field_type(f).stored and f["type"] != "formula"]
        self.required = [n for n, f in tdef.fields.items() if f.get("required") and f["type"] not in ("formula", "child_rows")]
        self.computed_defaults = any("default_expression" in f for f in tdef.fields.values())
        self.defaults = {n: field_type(f).coerce(f, f["default"]) for n, f in tdef.fields.items() if "default" in f}
        flow = tdef.workflow()
        if flow is not None:
            self.defaults[flow.get("field", "state")] = flow.get("initial") or flow["states"][0]["name"]
        self.seen_unique: dict[str, set] = {f: set() for f, d in tdef.fields.items() if d.get("unique")}

    def flush(self, conn, batch, done, progress, total, cancelled) -> int:
        if not batch:
            return done
        if cancelled is not None and cancelled():
            raise Cancelled("the import was cancelled; nothing was written")
        prepared = self._prepare(conn, batch, done)
        if not (self.result.errors and self.mode == "all_or_nothing"):
            self._write(conn, prepared)
        done += len(batch)
        if progress is not None:
            progress(done, total)
        return done

    # -- validation ---------------------------------------------------------
    def _prepare(self, conn, batch, offset) -> list[tuple[int, dict]]:
        cache = RowCache(conn, self.records.live)
        coerced = [(offset + i, values, self._row(offset + i, values)) for i, values in enumerate(batch)]
        existing = self._existing_keys(conn, [r for _, _, r in coerced if r is not None])
        good = []
        for index, values, record in coerced:
            if record is None:
                continue
            target = existing.get(record.get(self.key)) if self.key is not None else None
            record = self._complete(index, values, record, cache, target)
            if record is not None:
                good.append((index, record))
        good = self._links(conn, good)
        return self._unique(conn, good)

    def _existing_keys(self, conn, records) -> dict:
        """Upsert: key value → id of the record it updates."""
        if self.key is None:
            return {}
        column = self.sql.c[self.key]
        keys = list({r.get(self.key) for r in records if r.get(self.key) is not None})
        existing = {}
        visible = self.records.visible(self.tdef, "update")
        for start in range(0, len(keys), 5000):
            stmt = sa.select(column, self.sql.c.id, (visible if visible is not None else sa.true()).label("mine"))
            for key, record_id, mine in conn.execute(stmt.where(column.in_(keys[start:start + 5000]))):
                existing[key] = record_id if mine else OUTSIDE
        return existing

    def _error(self, row, field, value, message):
        self.result.errors.append(RowError(row, field, value, message))

    def _row(self, index, values):
        if not isinstance(values, dict):
            self._error(index, None, None, "must be an object of field values")
            return None
        errors_before = len(self.result.errors)
        fields = self.tdef.fields
        for name in values:
            if name not in fields:
                self._error(index, name, values[name], f"unknown field in {self.tdef.name}")
            elif fields[name]["type"] in ("formula", "child_rows"):
                self._error(index, name, values[name], "cannot be imported (computed or child rows)")
        record = {}
        for name, convert in self.coercers:
            if name in values:
                value = values[name]
                try:
                    record[name] = convert(value) if value is not None else None
                except FieldError as err:
                    self._error(index, name, value, str(err))
        return record if len(self.result.errors) == errors_before else None

    def _complete(self, index, values, record, cache, target):
        """Defaults, state, required and formulas; an upsert's update touches only given fields."""
        issues: list[Issue] = []
        actor = self.records.actor
        if target is None:
            for name, default in self.defaults.items():
                if name not in values:
                    record[name] = default
            if self.computed_defaults:
                apply_defaults(self.tdef, record, set(values) | set(self.defaults), cache, actor, issues)
            issues += [Issue(n, "is required") for n in self.required if record.get(n) is None]
        elif target is OUTSIDE:
            issues.append(Issue(self.key, "matches a record outside the rows you may update (row rule)"))
        else:
            issues += [Issue(n, "is required") for n in self.required if n in record and record[n] is None]
            record["id"] = target
        if self.tdef.formulas and not issues and target is None:
            compute_formulas(self.tdef, record, cache, actor, issues)
        if not issues and not row_allowed(actor, self.tdef, record, "create"):
            issues.append(Issue(None, "outside the rows you may write (row rule)"))
        for issue in issues:
            self._error(index, issue.field, values.get(issue.field) if issue.field else None, issue.message)
        return None if issues else record

    def _links(self, conn, good):
        for fdef in self.tdef.fields.values():
            if fdef["type"] not in ("link", "user"):
                continue
            name = fdef["name"]
            wanted = list({r[name] for _, r in good if r.get(name) is not None})
            if not wanted:
                continue
            found = lookup_ids(conn, self.records.live, fdef, wanted)
            kept = []
            for index, record in good:
                value = record.get(name)
                if value is not None and value not in found:
                    self._error(index, name, str(value), f"no {fdef.get('table', 'user')} record '{value}'")
                    continue
                if value is not None:
                    record[name] = found[value]
                kept.append((index, record))
            good = kept
        return good

    def _unique(self, conn, good):
        for name, seen in self.seen_unique.items():
            values = [r[name] for _, r in good if r.get(name) is not None]
            column = self.sql.c[name]
            existing = {}
            if name != self.key:
                for start in range(0, len(values), 5000):
                    chunk = values[start:start + 5000]
                    existing.update(conn.execute(sa.select(column, self.sql.c.id).where(column.in_(chunk))).all())
            kept = []
            for index, record in good:
                value = record.get(name)
                taken = value in existing and existing[value] != record.get("id")
                if value is not None and (taken or value in seen):
                    where = "another row of this file" if value in seen else "an existing record"
                    self._error(index, name, value, f"'{value}' is already used by {where}")
                    continue
                if value is not None:
                    seen.add(value)
                kept.append((index, record))
            good = kept
        return good

    # -- writing ------------------------------------------------------------
    def _write(self, conn, prepared):
        self._insert(conn, [r for _, r in prepared if "id" not in r])
        self._update(conn, [(i, r) for i, r in prepared if "id" in r])

    def _insert(self, conn, rows):
        if not rows:
            return
        actor, now = self.records.actor, utcnow()
        stamp = {"_version": 1, "_created_at": now, "_updated_at": now, "_created_by": actor.user_id,
                 "_updated_by": actor.user_id, "_client_id": None, "_name": None}
        names = ([None] * len(rows) if not self.tdef.naming else
                 naming.next_names(conn, self.records.live.slug, self.tdef.name, self.tdef.naming, len(rows)))
        columns = [n for n, _ in self.coercers] + [f["name"] for f in self.tdef.formulas]
        payload = [{**dict.fromkeys(columns), **row, **stamp, "_name": name} for row, name in zip(rows, names)]
        conn.execute(sa.insert(self.sql), payload)
        self.result.inserted += len(rows)

    def _update(self, conn, updates):
        if not updates:
            return
        actor, now = self.records.actor, utcnow()
        sql = self.sql
        for _, record in updates:
            values = {k: v for k, v in record.items() if k != "id"}
            conn.execute(sa.update(sql).where(sql.c.id == record["id"]).values(
                {**values, "_version": sql.c._version + 1, "_updated_at": now, "_updated_by": actor.user_id}))
        self.result.updated += len(updates)

