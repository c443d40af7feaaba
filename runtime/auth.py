"""Who is asking: session login for browsers, personal API tokens for scripts.

CSRF: every state-changing request authenticated by the session cookie must
carry the session's token (form field ``csrf_token`` or header
``X-CSRF-Token``); bearer-token requests carry no cookie, so they need none.
Failed logins are counted in the database, shared by every web process.
"""
from __future__ import annotations

import datetime as dt
import hmac
import secrets
import time

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from . import users
from .db import get_db
from .models import LoginFailure, User, utcnow

bp = Blueprint("auth", __name__)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def current_actor():
    """The signed-in Actor, or None; resolved once per request."""
    if "actor" not in g:
        g.actor = _resolve_actor()
    return g.actor


def _resolve_actor():
    database = get_db()
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        g.auth_method = "token"
        return _token_actor(database, header[7:].strip())
    g.auth_method = "session"
    user_id = session.get("user_id")
    if user_id is None:
        return None
    with database.read() as conn:
        return users.actor(conn, user_id)


def _token_actor(database, token: str):
    """Scripts send a token with every call: its user is kept for a moment (like the live
    version), so a revocation in another process takes effect within that time."""
    key = users.token_hash(token)
    cached = database.token_cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    with database.read() as conn:
        found = users.token_lookup(conn, token)
        actor = users.actor(conn, found[1]) if found else None
    if found and found[2]:  # last use recorded every few minutes, not on every request
        with database.write() as conn:
            users.touch_token(conn, found[0])
    if actor is not None:
        database.token_cache[key] = (time.monotonic() + database.live_seconds, actor)
    return actor


def csrf_token() -> str:
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    return session["csrf_token"]


def check_csrf():
    """before_request hook: refuse a cookie-authenticated state change without the token."""
    if request.method in SAFE_METHODS or request.headers.get("Authorization", "").startswith("Bearer "):
        return None
    if request.path.startswith("/api/") and session.get("user_id") is None:
        return None  # no session to ride on: the API answers 401 itself
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf_token", "")
    if not expected or not hmac.compare_digest(sent, expected):
        if request.path.startswith("/api/"):
            from flask import jsonify
            return jsonify(error="missing or wrong CSRF token; reload the page and try again", details=[]), 400
        abort(400, description=_("The form expired or was sent from another site. Reload the page and try again."))
    return None


def login_required(view):
    from functools import wraps

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_actor() is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)
    return wrapped


def _too_many_failures(conn, username: str, address: str) -> bool:
    since = utcnow() - dt.timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    count = conn.execute(sa.select(sa.func.count()).select_from(LoginFailure).where(
        LoginFailure.at >= since, sa.or_(LoginFailure.username == username, LoginFailure.address == address))).scalar()
    return count >= current_app.config["LOGIN_ATTEMPTS"]


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html")
    username = request.form.get("username", "").strip().lower()[:80]
    address = (request.remote_addr or "?")[:64]
    with get_db().write() as conn:
        if _too_many_failures(conn, username, address):
            flash(_("Too many failed sign-ins. Wait a few minutes and try again."), "error")
            return render_template("login.html", username=username), 429
        user_id = users.authenticate(conn, username, request.form.get("password", ""))
        if user_id is None:
            conn.execute(sa.insert(LoginFailure).values(username=username, address=address, at=utcnow()))
    if user_id is None:
        flash(_("Wrong username or password."), "error")
        return render_template("login.html", username=username), 401
    session.clear()
    session["user_id"] = user_id
    csrf_token()
    target = request.args.get("next") or "/"
    return redirect(target if target.startswith("/") and not target.startswith("//") else "/")


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language():
    choice = request.form.get("language", "en")
    if choice not in current_app.config["LANGUAGES"]:
        abort(400)
    session["language"] = choice
    actor = current_actor()
    if actor is not None:
        with get_db().write() as conn:
            conn.execute(sa.update(User).where(User.id == actor.user_id).values(language=choice))
    target = request.form.get("next") or "/"
    return redirect(target if target.startswith("/") and not target.startswith("//") else "/")


def user_language() -> str:
    """Session choice first, then the user's saved language, then the browser's."""
    languages = current_app.config["LANGUAGES"]
    if session.get("language") in languages:
        return session["language"]
    actor = current_actor() if request else None
    if actor is not None and actor.language in languages:
        return actor.language
    return request.accept_languages.best_match(languages) or languages[0]
