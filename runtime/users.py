"""Users, their roles and the ``Actor`` a request or job runs as."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from .models import ApiToken, User, UserRole, utcnow
from .permissions import Actor

USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@")


class UserError(ValueError):
    pass


def create_user(conn, username: str, password: str | None, roles=("operator",), *, display_name=None,
                language="en", attributes=None) -> int:
    username = (username or "").strip().lower()
    if not username or len(username) > 80 or not set(username) <= USERNAME_CHARS:
        raise UserError("username: use 1-80 lowercase letters, digits, '.', '_', '-' or '@'")
    if password is not None and len(password) < 8:
        raise UserError("password: use at least 8 characters")
    if conn.execute(sa.select(User.id).where(User.username == username)).first():
        raise UserError(f"user '{username}' exists already")
    user_id = conn.execute(sa.insert(User).values(
        username=username, display_name=display_name or username, language=language,
        password_hash=generate_password_hash(password) if password else None,
        attributes=attributes or {}, is_active=True, created_at=utcnow()).returning(User.id)).scalar_one()
    set_roles(conn, user_id, roles)
    return user_id


def set_roles(conn, user_id: int, roles) -> None:
    conn.execute(sa.delete(UserRole).where(UserRole.user_id == user_id))
    rows = [{"user_id": user_id, "role": r} for r in sorted(set(roles))]
    if rows:
        conn.execute(sa.insert(UserRole), rows)


def authenticate(conn, username: str, password: str) -> int | None:
    row = conn.execute(sa.select(User.id, User.password_hash, User.is_active)
                       .where(User.username == (username or "").strip().lower())).first()
    if row is None or not row.is_active or not row.password_hash:
        return None
    return row.id if check_password_hash(row.password_hash, password or "") else None


def actor(conn, user_id: int) -> Actor | None:
    row = conn.execute(sa.select(User).where(User.id == user_id, User.is_active.is_(True))).mappings().first()
    if row is None:
        return None
    roles = conn.execute(sa.select(UserRole.role).where(UserRole.user_id == user_id)).scalars().all()
    attributes = {**(row["attributes"] or {}), "display_name": row["display_name"]}
    return Actor(row["id"], row["username"], frozenset(roles), attributes, row["language"] or "en")


def actor_by_name(conn, username: str) -> Actor | None:
    user_id = conn.execute(sa.select(User.id).where(User.username == username)).scalar()
    return actor(conn, user_id) if user_id is not None else None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(conn, user_id: int, name: str) -> str:
    token = "takt_" + secrets.token_urlsafe(32)
    conn.execute(sa.insert(ApiToken).values(user_id=user_id, name=name[:100] or "token",
                                            token_hash=token_hash(token), created_at=utcnow()))
    return token


TOKEN_USE_RESOLUTION = dt.timedelta(minutes=5)


def token_lookup(conn, token: str):
    """(token id, user id, whether ``last_used_at`` is due for a refresh), or None; reads only."""
    row = conn.execute(sa.select(ApiToken.id, ApiToken.user_id, ApiToken.last_used_at)
                       .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None))).first()
    if row is None:
        return None
    stale = row.last_used_at is None or utcnow() - row.last_used_at > TOKEN_USE_RESOLUTION
    return row.id, row.user_id, stale


def touch_token(conn, token_id: int) -> None:
    conn.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


def revoke_token(conn, user_id: int, token_id: int) -> bool:
    return conn.execute(sa.update(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
                        .values(revoked_at=utcnow())).rowcount == 1
