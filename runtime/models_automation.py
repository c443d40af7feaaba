"""System tables of automations, notifications and outbound webhooks.

Rows are written with SQLAlchemy Core on the connection of the change that
caused them, so a notification or a pending delivery commits or rolls back
with its record (see ``runtime.models`` for the other system tables).
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .fieldtypes import BIG_ID
from .models import Base, utcnow


class Notification(Base):
    """A message for one user, shown in the bell until it is read."""

    __tablename__ = "takt_notifications"
    __table_args__ = (sa.Index("ix_takt_notifications_user", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("takt_users.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(sa.Text)
    app_slug: Mapped[str | None] = mapped_column(sa.String(24))
    table_name: Mapped[str | None] = mapped_column(sa.String(30))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    source: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]


class AutomationRun(Base):
    """One run of an automation: queued (background, not run yet), ok, failed or skipped_loop.

    Scheduled automations find their last run here (``started_at``)."""

    __tablename__ = "takt_automation_runs"
    __table_args__ = (sa.Index("ix_takt_automation_runs_last", "app_slug", "automation", "started_at"),)
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    app_slug: Mapped[str] = mapped_column(sa.String(24))
    automation: Mapped[str] = mapped_column(sa.String(60))
    event: Mapped[str] = mapped_column(sa.String(20))
    mode: Mapped[str] = mapped_column(sa.String(20), default="sync")
    table_name: Mapped[str | None] = mapped_column(sa.String(30))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    inputs: Mapped[dict] = mapped_column(default=dict)
    outcome: Mapped[str] = mapped_column(sa.String(20))
    message: Mapped[str | None] = mapped_column(sa.Text)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int | None]


class WebhookDelivery(Base):
    """One payload for one URL: pending → queued → delivered or failed."""

    __tablename__ = "takt_webhook_deliveries"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    app_slug: Mapped[str] = mapped_column(sa.String(24))
    table_name: Mapped[str | None] = mapped_column(sa.String(30))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    event: Mapped[str] = mapped_column(sa.String(20))
    source: Mapped[str] = mapped_column(sa.String(80))
    url: Mapped[str] = mapped_column(sa.String(2000))
    secret: Mapped[str | None] = mapped_column(sa.String(200))
    payload: Mapped[dict]
    status: Mapped[str] = mapped_column(sa.String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    job_id: Mapped[str | None] = mapped_column(sa.String(36))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]


class WebhookAttempt(Base):
    """The delivery log: every POST tried, with the status code or the error."""

    __tablename__ = "takt_webhook_attempts"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("takt_webhook_deliveries.id", ondelete="CASCADE"),
                                             index=True)
    attempt: Mapped[int]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    duration_ms: Mapped[int | None]
