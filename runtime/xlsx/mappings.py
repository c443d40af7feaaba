"""Column mappings remembered per (app, table): the next import of the same
kind of sheet maps its headers the way the last successful one did.

Kept in a system table (migration 0004) rather than a file in the instance
folder so every web process and RQ worker sees the same mapping.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, utcnow


class XlsxMapping(Base):
    __tablename__ = "takt_xlsx_mappings"
    app_slug: Mapped[str] = mapped_column(sa.String(24), primary_key=True)
    table_name: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    mapping: Mapped[dict] = mapped_column(default=dict)      # header text → field name
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(sa.String(80))


def remembered(database, slug: str, table: str) -> dict[str, str]:
    with database.read() as conn:
        found = conn.execute(sa.select(XlsxMapping.mapping).where(
            XlsxMapping.app_slug == slug, XlsxMapping.table_name == table)).scalar()
    return dict(found or {})


def remember(database, slug: str, table: str, mapping: dict[str, str], user: str | None = None) -> None:
    """Merge ``mapping`` into what is remembered (headers of earlier files stay known)."""
    with database.write() as conn:
        where = (XlsxMapping.app_slug == slug, XlsxMapping.table_name == table)
        old = conn.execute(sa.select(XlsxMapping.mapping).where(*where)).scalar()
        merged = {**(old or {}), **mapping}
        if old is None:
            conn.execute(sa.insert(XlsxMapping).values(app_slug=slug, table_name=table, mapping=merged,
                                                       updated_at=utcnow(), updated_by=user))
        elif merged != old:
            conn.execute(sa.update(XlsxMapping).where(*where).values(mapping=merged, updated_at=utcnow(),
                                                                     updated_by=user))
