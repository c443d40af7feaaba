"""Notifications: short messages for users, written by automations (``notify``).

Functions take the connection of the caller's transaction, so a notification
about a change commits with it. ``bp`` serves the list page (``/notifications``)
and the JSON API (``/api/v1/notifications``, with the unread count for the bell).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for

from .auth import current_actor, login_required
from .db import get_db
from .models import User, UserRole, utcnow
from .models_automation import Notification

bp = Blueprint("notifications", __name__)
PAGE_SIZE, MAX_PAGE = 50, 200


def notify_user(conn, username: str, message: str, **about) -> int:
    """Notify one active user; ``about``: app_slug, table_name, record_id, source. Raise LookupError if unknown."""
    user_id = conn.execute(sa.select(User.id).where(User.username == username, User.is_active.is_(True))).scalar()
    if user_id is None:
        raise LookupError(f"there is no active user '{username}' to notify")
    return _insert(conn, [user_id], message, about)


def notify_role(conn, role: str, message: str, **about) -> int:
    """Notify every active user holding ``role``; returns how many (0 is not an error)."""
    user_ids = conn.execute(sa.select(User.id).join(UserRole, UserRole.user_id == User.id)
                            .where(UserRole.role == role, User.is_active.is_(True))).scalars().all()
    return _insert(conn, user_ids, message, about)


def _insert(conn, user_ids, message, about) -> int:
    now = utcnow()
    rows = [{"user_id": uid, "message": message, "created_at": now, "read_at": None, **about} for uid in user_ids]
    if rows:
        conn.execute(sa.insert(Notification), rows)
    return len(rows)


def unread_count(conn, user_id: int) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(Notification)
                        .where(Notification.user_id == user_id, Notification.read_at.is_(None))).scalar()


def list_for(conn, user_id: int, limit: int = PAGE_SIZE, unread_only: bool = False) -> list[dict]:
    """The user's newest notifications first."""
    stmt = sa.select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    stmt = stmt.order_by(Notification.id.desc()).limit(limit)
    return [dict(row) for row in conn.execute(stmt).mappings()]


def mark_read(conn, user_id: int, ids=None) -> int:
    """Mark the user's notifications ``ids`` (all of them when None) read; returns how many changed."""
    stmt = sa.update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    return conn.execute(stmt.values(read_at=utcnow())).rowcount


# -- web ---------------------------------------------------------------------
@bp.get("/notifications")
@login_required
def page():
    actor = current_actor()
    with get_db().read() as conn:
        items = list_for(conn, actor.user_id, MAX_PAGE)
        unread = unread_count(conn, actor.user_id)
    return render_template("notifications.html", notifications=items, unread=unread)


@bp.post("/notifications/read")
@login_required
def read_from_page():
    ids = request.form.getlist("id", type=int) or None
    with get_db().write() as conn:
        mark_read(conn, current_actor().user_id, ids)
    return redirect(url_for(".page"))


@bp.get("/api/v1/notifications")
def api_list():
    actor = _api_actor()
    limit = min(request.args.get("limit", PAGE_SIZE, type=int) or PAGE_SIZE, MAX_PAGE)
    unread_only = request.args.get("unread", "").lower() in ("1", "true", "yes")
    with get_db().read() as conn:
        items = list_for(conn, actor.user_id, limit, unread_only)
        unread = unread_count(conn, actor.user_id)
    return jsonify(unread=unread, notifications=[_as_json(n) for n in items])


@bp.post("/api/v1/notifications/read")
def api_mark_read():
    """Body ``{"ids": [1, 2]}`` marks those read; no ``ids`` marks all."""
    actor = _api_actor()
    ids = (request.get_json(silent=True) or {}).get("ids")
    if ids is not None and (not isinstance(ids, list) or not all(type(i) is int for i in ids)):
        abort(400, description="ids must be a list of notification ids")
    with get_db().write() as conn:
        marked = mark_read(conn, actor.user_id, ids)
        unread = unread_count(conn, actor.user_id)
    return jsonify(marked=marked, unread=unread)


def _api_actor():
    actor = current_actor()
    if actor is None:
        abort(401, description="sign in or send an API token (Authorization: Bearer …)")
    return actor


def _as_json(row: dict) -> dict:
    return {"id": row["id"], "message": row["message"], "app": row["app_slug"], "table": row["table_name"],
            "record_id": row["record_id"], "source": row["source"],
            "created_at": row["created_at"].isoformat(timespec="seconds"),
            "read": row["read_at"] is not None}
