"""Apps and their published versions, as the rest of the code sees them.

``LiveApp`` bundles what a request needs about the live version: the
definition view and its SQLAlchemy tables. It is cached per version id on the
``Database`` object (versions are immutable, so the cache never goes stale).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from .definition import AppDef
from .models import App, AppVersion
from .tables import build_tables


class UnknownApp(LookupError):
    pass


@dataclass(frozen=True)
class LiveApp:
    app_id: int
    version_id: int
    version: int
    appdef: AppDef
    tables: dict

    @property
    def slug(self) -> str:
        return self.appdef.slug


def live_app(database, slug: str, conn=None) -> LiveApp:
    cached = database.live_by_slug.get(slug)
    if cached is not None and cached[0] > time.monotonic() and conn is None:
        return cached[1]
    live = _live_app(database, slug, conn)
    database.live_by_slug[slug] = (time.monotonic() + database.live_seconds, live)
    return live


def forget_live(database, slug: str) -> None:
    """After a publish in this process, serve the new version at once."""
    database.live_by_slug.pop(slug, None)


def _live_app(database, slug: str, conn=None) -> LiveApp:
    stmt = (sa.select(App.id, AppVersion.id, AppVersion.number)
            .join(AppVersion, AppVersion.id == App.live_version_id)
            .where(App.slug == slug))
    if conn is None:
        with database.read() as conn:
            return _live(database, conn, stmt, slug)
    return _live(database, conn, stmt, slug)


def _live(database, conn, stmt, slug) -> LiveApp:
    row = conn.execute(stmt).first()
    if row is None:
        raise UnknownApp(f"no published app '{slug}'")
    app_id, version_id, number = row
    cache = database.live_cache
    if version_id not in cache:
        definition = conn.execute(sa.select(AppVersion.definition).where(AppVersion.id == version_id)).scalar_one()
        appdef = AppDef(definition)
        cache[version_id] = LiveApp(app_id, version_id, number, appdef, build_tables(appdef))
    return cache[version_id]


def list_apps(conn) -> list[dict]:
    stmt = (sa.select(App.slug, AppVersion.number, AppVersion.definition, AppVersion.created_at)
            .join(AppVersion, AppVersion.id == App.live_version_id, isouter=True)
            .order_by(App.slug))
    return [{"slug": slug, "version": number, "definition": definition, "published_at": at}
            for slug, number, definition, at in conn.execute(stmt)]


def versions(conn, slug: str) -> list[dict]:
    stmt = (sa.select(AppVersion.number, AppVersion.comment, AppVersion.created_by, AppVersion.created_at,
                      (App.live_version_id == AppVersion.id).label("live"))
            .join(App, App.id == AppVersion.app_id)
            .where(App.slug == slug)
            .order_by(AppVersion.number))
    rows = [dict(r._mapping) for r in conn.execute(stmt)]
    if not rows and conn.execute(sa.select(App.id).where(App.slug == slug)).first() is None:
        raise UnknownApp(f"no app '{slug}'")
    return rows


def version_definition(conn, slug: str, number: int | None = None) -> dict:
    stmt = sa.select(AppVersion.definition).join(App, App.id == AppVersion.app_id).where(App.slug == slug)
    stmt = stmt.where(AppVersion.number == number) if number else stmt.where(AppVersion.id == App.live_version_id)
    definition = conn.execute(stmt).scalar()
    if definition is None:
        raise UnknownApp(f"no app '{slug}'" + (f" version {number}" if number else ""))
    return definition
