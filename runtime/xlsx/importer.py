"""Import a sheet into an existing table through the record service's bulk path.

Columns are mapped to fields by an explicit mapping, then the mapping
remembered for the (app, table), then field name, then label in any language
(case, spaces and a trailing "(unit)" ignored). Cells are normalised by
``coerce.py`` and streamed to ``bulk_write`` in batches: the sheet is read
once, never materialised as a second list. ``bulk_write`` decides every value
and runs the whole import in ONE transaction, so all-or-nothing really is
(a killed process leaves the table as it was).

Every problem comes back as a ``CellIssue`` — sheet, row number as Excel
shows it, column letter and header, the value, the reason — and, on request,
as a copy of the input with the bad cells red and commented (``report.py``).
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from itertools import chain

from ..fieldtypes import LookupKey
from ..record_checks import lookup_ids
from ..records_bulk import BulkFailed, bulk_write
from .coerce import NOT_IMPORTABLE, normaliser
from .read import BadCell, XlsxError, column_letter, open_workbook
from .table import Header, data_rows, find_header, header_of, match_key, split_head

MODES = ("all_or_nothing", "valid_only")


class ImportRefused(XlsxError):
    """The sheet cannot be mapped onto the table (no header, a missing required column, …)."""


@dataclass
class CellIssue:
    sheet: str
    row: int            # as Excel shows it
    column: str         # letter, '' for a problem of the whole row
    header: str
    value: object
    reason: str

    def as_dict(self) -> dict:
        value = self.value if isinstance(self.value, (int, float, str, type(None))) else str(self.value)
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "header": self.header,
                "value": value, "reason": self.reason}

    def __str__(self):
        where = f"{self.sheet}!{self.column}{self.row}" if self.column else f"{self.sheet} row {self.row}"
        header = f" ({self.header})" if self.header else ""
        shown = "" if self.value is None else f" '{self.value}'"
        return f"{where}{header}{shown}: {self.reason}"


@dataclass
class Column:
    number: int          # 1 = A
    field: str
    header: str
    convert: object


@dataclass
class ImportResult:
    table: str
    sheet: str
    mode: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    issues: list[CellIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mapping: dict = field(default_factory=dict)     # header text → field name
    header_row: int = 0
    report: str | None = None

    @property
    def written(self) -> bool:
        """Whether the rows went in (all of them, or the valid ones in valid-only mode)."""
        return not self.issues or self.mode == "valid_only"

    def as_dict(self, limit: int = 1000) -> dict:
        return {"table": self.table, "sheet": self.sheet, "mode": self.mode, "rows": self.rows,
                "inserted": self.inserted, "updated": self.updated, "written": self.written,
                "error_count": len(self.issues), "errors": [i.as_dict() for i in self.issues[:limit]],
                "notes": self.notes, "mapping": self.mapping, "report": self.report}


def import_sheet(records, table: str, path, *, mode: str = "all_or_nothing", key: str | None = None,
                 sheet: str | None = None, mapping: dict | None = None, remembered: dict | None = None,
                 progress=None, cancelled=None, batch_size: int = 2000, header_row: int | None = None,
                 by_column: dict[int, str] | None = None) -> ImportResult:
    """Read ``path`` and write its rows into ``table``; raises XlsxError for input that cannot be mapped.

    ``mapping``: header text → field name; ``by_column``: column number → field name (wins over headers);
    ``header_row``: the header's row number when known (else it is found)."""
    if mode not in MODES:
        raise ImportRefused(f"unknown mode '{mode}' (use {' or '.join(MODES)})")
    tdef = records.table(table, "update" if key else "create")
    with open_workbook(path) as book:
        source = book.sheet(sheet or _matching_sheet(book, tdef))
        head, rest = split_head(source.rows())
        header = (next((header_of(n, v) for n, v in head if n == header_row), None) if header_row
                  else find_header(head, _known_keys(tdef, mapping, remembered)))
        if header is None:
            raise ImportRefused(f"sheet '{source.name}': no header row found in its first rows; the header must "
                                f"name the fields ({_field_list(tdef)})")
        result = ImportResult(tdef.name, source.name, mode, header_row=header.row)
        columns = map_columns(tdef, header, mapping, remembered, result.notes, by_column)
        key = _key_field(tdef, columns, key, source.name)
        result.mapping = {c.header: c.field for c in columns}
        feed = _Feed(records, tdef, columns, batch_size)
        rows = feed.rows(data_rows(chain(head, rest), header, source.merges))
        total = max(source.estimated_rows - sum(1 for n, _ in head if n <= header.row), 0)
        try:
            written = bulk_write(records, tdef.name, rows, mode=mode, key=key, batch_size=batch_size,
                                 progress=progress, cancelled=cancelled, total=total)
        except BulkFailed as failed:
            written = failed.result
        result.rows, result.inserted, result.updated = feed.count, written.inserted, written.updated
        result.issues = [_issue(source.name, header, columns, feed.numbers, e) for e in written.errors]
        result.issues.sort(key=lambda i: (i.row, i.column.rjust(3)))
    return result


def _matching_sheet(book, tdef) -> str | None:
    names = {match_key(tdef.name), match_key(tdef.label("en")), match_key(tdef.label("zh"))}
    return next((n for n in book.visible_sheet_names if match_key(n) in names), None)


def _known_keys(tdef, mapping, remembered) -> set[str]:
    keys = {match_key(h) for h in {**(remembered or {}), **(mapping or {})}}
    for name, fdef in tdef.fields.items():
        keys |= {match_key(t) for t in _names_of(fdef)}
    return keys


def _names_of(fdef) -> list[str]:
    label = fdef.get("label")
    texts = [fdef["name"]] + ([label] if isinstance(label, str) else list((label or {}).values()))
    return [t for t in texts if t]


def map_columns(tdef, header: Header, mapping=None, remembered=None, notes=None, by_column=None) -> list[Column]:
    """Header → field, explicit mapping first; refuses ambiguous or incomplete sheets."""
    notes = notes if notes is not None else []
    lookup = _field_lookup(tdef, mapping, remembered)
    columns, used = [], {}
    for number, text in sorted(header.columns.items()):
        name = (by_column or {}).get(number) or lookup.get(match_key(text))
        if name is None:
            notes.append(f"column {column_letter(number)} '{text}' matches no field of {tdef.name} and is ignored")
            continue
        fdef = tdef.fields[name]
        if fdef["type"] in NOT_IMPORTABLE:
            notes.append(f"column {column_letter(number)} '{text}' is {fdef['type']} field '{name}', "
                         "which is not imported (computed or not a cell value)")
            continue
        if name in used:
            raise ImportRefused(f"columns {column_letter(used[name])} and {column_letter(number)} both map to field "
                                f"'{name}' ('{header.columns[used[name]]}', '{text}'); rename or delete one of them")
        used[name] = number
        columns.append(Column(number, name, text, normaliser(fdef)))
    _check_required(tdef, used)
    if not columns:
        raise ImportRefused(f"no column of the header row (row {header.row}) matches a field of {tdef.name} "
                            f"({_field_list(tdef)})")
    return columns


def _field_lookup(tdef, mapping, remembered) -> dict[str, str]:
    lookup = {}
    for name, fdef in tdef.fields.items():
        for text in reversed(_names_of(fdef)):
            lookup[match_key(text)] = name
    for given in (remembered or {}, mapping or {}):
        for text, name in given.items():
            if name not in tdef.fields:
                raise ImportRefused(f"the column mapping names field '{name}', which {tdef.name} does not have")
            lookup[match_key(text)] = name
    return lookup


def _check_required(tdef, used):
    missing = [f for n, f in tdef.fields.items()
               if f.get("required") and n not in used and f["type"] not in NOT_IMPORTABLE
               and "default" not in f and "default_expression" not in f]
    if missing:
        names = ", ".join(f"'{_names_of(f)[-1]}' ({f['name']})" for f in missing)
        raise ImportRefused(f"the sheet has no column for the required field(s) {names}; add the column(s)")


def _key_field(tdef, columns, key, sheet) -> str | None:
    if key is None:
        return None
    name = key if key in tdef.fields else next((c.field for c in columns if match_key(c.header) == match_key(key)), None)
    if name is None:
        raise ImportRefused(f"cannot upsert by '{key}': no such field or column in {tdef.name}")
    if name not in {c.field for c in columns}:
        raise ImportRefused(f"cannot upsert by '{key}': sheet '{sheet}' has no column for it")
    return name


def _field_list(tdef) -> str:
    return ", ".join(_names_of(f)[-1] for f in tdef.fields.values() if f["type"] not in NOT_IMPORTABLE)


def _issue(sheet, header, columns, numbers, error) -> CellIssue:
    column = next((c for c in columns if c.field == error.field), None)
    value, reason = error.value, error.message
    if isinstance(value, BadCell):
        value, reason = value.value, value.reason
    if column is None:
        return CellIssue(sheet, numbers[error.row], "", error.field or "", value, reason)
    return CellIssue(sheet, numbers[error.row], column_letter(column.number), column.header, value, reason)


class _Feed:
    """Turns sheet rows into value dicts for ``bulk_write``, in batches, resolving link codes."""

    def __init__(self, records, tdef, columns, batch_size):
        self.records, self.batch_size = records, batch_size
        self.cols = [(c.number - 1, c.field, c.convert) for c in columns]
        self.links = [(c.field, tdef.fields[c.field]) for c in columns if tdef.fields[c.field]["type"] in ("link", "user")]
        self.numbers = array("q")    # bulk_write's row index → Excel row number
        self.count = 0

    def rows(self, rows):
        batch = []
        for number, values in rows:
            record = self._record(values)
            if not record:
                continue
            self.numbers.append(number)
            batch.append(record)
            if len(batch) >= self.batch_size:
                yield from self._resolved(batch)
                batch = []
        yield from self._resolved(batch)

    def _record(self, values) -> dict:
        record, width = {}, len(values)
        for index, name, convert in self.cols:
            if index < width:
                value = values[index]
                if value is not None:
                    value = convert(value)
                    if value is not None:
                        record[name] = value
        return record

    def _resolved(self, batch):
        self.count += len(batch)
        if self.links and batch:
            self._resolve_links(batch)
        return batch

    def _resolve_links(self, batch):
        """Codes → ids with the record service's own lookup; a code that finds nothing is a BadCell
        (never read as an id: product code '123' is not record 123)."""
        live = self.records.live
        with self.records.database.read() as conn:
            for name, fdef in self.links:
                codes = {r[name] for r in batch if type(r.get(name)) is str}
                if not codes:
                    continue
                by_id = fdef["type"] == "link" and not _has_codes(live, fdef)
                if by_id:
                    continue
                found = lookup_ids(conn, live, fdef, [LookupKey(c) for c in codes])
                target = fdef.get("table", "user")
                for record in batch:
                    code = record.get(name)
                    if type(code) is str:
                        record[name] = found.get(code) or BadCell(code, f"no {target} record '{code}'")


def _has_codes(live, fdef) -> bool:
    target = live.appdef.tables[fdef["table"]]
    return bool(target.title_field or target.naming)
