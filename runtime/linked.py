"""Reading linked records inside expressions, lazily, in Python and in SQL.

``work_order.product.code`` in a formula walks two links. In Python each hop
is a ``LinkedRecord`` that loads its row on first use (one query per record,
cached for the operation); in SQL each hop is a correlated scalar subquery,
so row rules over linked fields still run inside the database.
"""
from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from .definition import AppDef


class RowCache:
    """Rows loaded during one operation, keyed by (table, id)."""

    def __init__(self, conn, live):
        self.conn, self.live, self.rows = conn, live, {}

    def row(self, table: str, record_id: int):
        key = (table, record_id)
        if key not in self.rows:
            sql = self.live.tables[table]
            self.rows[key] = self.conn.execute(sa.select(sql).where(sql.c.id == record_id)).mappings().first()
        return self.rows[key]


class LinkedRecord(Mapping):
    def __init__(self, cache: RowCache, table: str, record_id: int):
        self.cache, self.table, self.record_id = cache, table, record_id

    def _row(self):
        row = self.cache.row(self.table, self.record_id)
        return row or {}

    def __getitem__(self, key):
        return expression_values(self.cache, self.table, self._row()).get(key)

    def __iter__(self):
        return iter(self._row())

    def __len__(self):
        return len(self._row())


def expression_values(cache: RowCache, table: str, record: Mapping) -> dict:
    """A record's values as expressions see them: links become lazy records."""
    tdef = cache.live.appdef.tables[table]
    values = dict(record)
    for field in tdef.links:
        value = record.get(field["name"])
        values[field["name"]] = LinkedRecord(cache, field["table"], value) if isinstance(value, int) else None
    return values


def sql_columns(app: AppDef, tables: dict, table: str):
    """A column resolver for ``expressions.to_sql``: field paths → SQL expressions."""
    from .expressions import ExpressionError

    def column(path, table=table, source=None):
        sql = source if source is not None else tables[table]
        name, rest = path[0], path[1:]
        if name not in sql.c:
            raise ExpressionError(f"'{name}' cannot be used in a database rule")
        if not rest:
            return sql.c[name]
        field = app.tables[table].fields.get(name)
        if field is None or field["type"] != "link":
            raise ExpressionError(f"'{name}' is not a link, so '{'.'.join(path)}' cannot be followed")
        target = tables[field["table"]].alias()
        inner = column(rest, field["table"], target)
        return sa.select(inner).where(target.c.id == sql.c[name]).scalar_subquery()

    return column
