"""System tables: the metadata store.

Declared with the ORM for Alembic's sake; the code reads and writes them with
SQLAlchemy Core on the same connection as the records they describe, so an
audit entry or a counter bump commits or rolls back with its change.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .fieldtypes import BIG_ID

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict: sa.JSON, list: sa.JSON}


class App(Base):
    __tablename__ = "takt_apps"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(24), unique=True)
    live_version_id: Mapped[int | None] = mapped_column(BIG_ID)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(sa.String(80))


class AppVersion(Base):
    """Immutable: a published definition. Rolling back publishes an old one anew."""

    __tablename__ = "takt_app_versions"
    __table_args__ = (sa.UniqueConstraint("app_id", "number"),)
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    app_id: Mapped[int] = mapped_column(sa.ForeignKey("takt_apps.id"), index=True)
    number: Mapped[int]
    definition: Mapped[dict]
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "takt_users"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(sa.String(200))
    password_hash: Mapped[str | None] = mapped_column(sa.String(300))
    language: Mapped[str] = mapped_column(sa.String(10), default="en")
    attributes: Mapped[dict] = mapped_column(default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UserRole(Base):
    __tablename__ = "takt_user_roles"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("takt_users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(40), primary_key=True)


class ApiToken(Base):
    __tablename__ = "takt_api_tokens"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("takt_users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class AuditEntry(Base):
    """Who changed what: written in the same transaction as the change, never updated."""

    __tablename__ = "takt_audit"
    __table_args__ = (sa.Index("ix_takt_audit_record", "app_slug", "table_name", "record_id"),)
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    app_slug: Mapped[str] = mapped_column(sa.String(24))
    table_name: Mapped[str] = mapped_column(sa.String(30))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    action: Mapped[str] = mapped_column(sa.String(20))
    user_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    username: Mapped[str | None] = mapped_column(sa.String(80))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changes: Mapped[dict] = mapped_column(default=dict)


class Job(Base):
    __tablename__ = "takt_jobs"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(60))
    status: Mapped[str] = mapped_column(sa.String(20), default="queued")
    params: Mapped[dict] = mapped_column(default=dict)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None]
    message: Mapped[str | None] = mapped_column(sa.Text)
    result: Mapped[dict | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class NamingCounter(Base):
    __tablename__ = "takt_naming_counters"
    app_slug: Mapped[str] = mapped_column(sa.String(24), primary_key=True)
    table_name: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    prefix: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class LoginFailure(Base):
    """Failed logins, kept in the database so every web process sees the same count."""

    __tablename__ = "takt_login_failures"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), index=True)
    address: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
