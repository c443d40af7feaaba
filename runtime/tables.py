"""SQLAlchemy ``Table`` objects for the user-defined tables of one app version.

Every record table carries the same system columns (their names start with
an underscore, which user identifiers cannot); child tables also carry the
link to the record they belong to.
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa

from .definition import AppDef, TableDef
from .fieldtypes import BIG_ID, field_type

SYSTEM_COLUMNS = ("id", "_name", "_version", "_created_at", "_created_by", "_updated_at", "_updated_by", "_client_id")
CHILD_COLUMNS = ("_parent_id", "_parent_table", "_parent_field", "_idx")


def index_name(kind: str, sql_table: str, column: str) -> str:
    """Short, stable index names: PostgreSQL cuts identifiers at 63 bytes."""
    digest = hashlib.sha1(f"{sql_table}.{column}".encode()).hexdigest()[:20]
    return f"{kind}_{digest}"


def system_columns() -> list[sa.Column]:
    return [
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("_name", sa.String(80)),
        sa.Column("_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("_created_at", sa.DateTime, nullable=False),
        sa.Column("_created_by", sa.BigInteger),
        sa.Column("_updated_at", sa.DateTime, nullable=False),
        sa.Column("_updated_by", sa.BigInteger),
        sa.Column("_client_id", sa.String(64)),
    ]


def child_columns() -> list[sa.Column]:
    return [
        sa.Column("_parent_id", sa.BigInteger, nullable=False),
        sa.Column("_parent_table", sa.String(30), nullable=False),
        sa.Column("_parent_field", sa.String(40), nullable=False),
        sa.Column("_idx", sa.Integer, nullable=False, server_default="0"),
    ]


def field_column(field: dict) -> sa.Column:
    return sa.Column(field["name"], field_type(field).column_type(field))


def field_indexes(sql_table: str, field: dict) -> list[tuple[str, bool]]:
    """(index name, unique) pairs a field needs; links are indexed for joins and delete checks."""
    name = field["name"]
    if field.get("unique"):
        return [(index_name("uq", sql_table, name), True)]
    if field.get("indexed") or field["type"] in ("link", "user"):
        return [(index_name("ix", sql_table, name), False)]
    return []


def system_indexes(table: TableDef) -> list[tuple[str, list[str], bool]]:
    indexes = [(index_name("uq", table.sql_name, "_name"), ["_name"], True),
               (index_name("uq", table.sql_name, "_client_id"), ["_client_id"], True)]
    if table.child:
        indexes.append((index_name("ix", table.sql_name, "_parent_id"), ["_parent_id"], False))
    return indexes


def build_table(metadata: sa.MetaData, table: TableDef) -> sa.Table:
    columns = system_columns() + [field_column(f) for f in table.stored_fields]
    if table.child:
        columns += child_columns()
    sql_table = sa.Table(table.sql_name, metadata, *columns)
    for name, column_names, unique in system_indexes(table):
        sa.Index(name, *(sql_table.c[c] for c in column_names), unique=unique)
    for field in table.stored_fields:
        for name, unique in field_indexes(table.sql_name, field):
            sa.Index(name, sql_table.c[field["name"]], unique=unique)
    return sql_table


def build_tables(app: AppDef) -> dict[str, sa.Table]:
    metadata = sa.MetaData()
    return {name: build_table(metadata, table) for name, table in app.tables.items()}
