"""First-pass yield of an app's inspections, per operation or per product (two queries)."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from .engine import Yield, first_pass_yield as compute

KEYS = {"operation": ("wo_operation", "_name"), "product": ("wo_product", "code")}


def first_pass_yield(records, by: str = "operation", since: dt.datetime | None = None,
                     until: dt.datetime | None = None) -> dict[str, Yield]:
    """{operation number or product code: Yield} over the judged inspections created in [since, until)
    (naive UTC, like every record's ``_created_at``)."""
    if by not in KEYS:
        raise ValueError(f"first-pass yield is per operation or per product, not '{by}'")
    tdef = records.table("qc_inspection", "read")
    sql = records.sql(tdef)
    stmt = sa.select(sql.c[by], sql.c.units_inspected, sql.c.units_passed, sql.c.first_pass).where(
        sql.c.result.is_not(None))
    condition = records.visible(tdef)
    if condition is not None:
        stmt = stmt.where(condition)
    if since is not None:
        stmt = stmt.where(sql.c._created_at >= since)
    if until is not None:
        stmt = stmt.where(sql.c._created_at < until)
    with records.database.read() as conn:
        yields = compute((dict(r) for r in conn.execute(stmt).mappings()), by)
        table, column = KEYS[by]
        target = records.live.tables[table]
        names = dict(conn.execute(sa.select(target.c.id, target.c[column]).where(target.c.id.in_(list(yields)))).all())
    return {names.get(key, str(key)): value for key, value in yields.items()}
