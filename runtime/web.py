"""The web layer's wiring: i18n, CSRF, error pages and the blueprints.

Each blueprint module is a thin adapter over the record service; this module
only connects them to the app (``init_app``) and renders errors the same way
everywhere: JSON under /api, a page elsewhere, never a bare 500 for bad input.
"""
from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import Babel
from werkzeug.exceptions import HTTPException

from . import auth
from .labels import label_text
from .record_checks import RecordError

BLUEPRINTS = (
    "runtime.auth:bp",
    "runtime.ui:bp",
    "runtime.api:bp",
    "runtime.notifications:bp",
    "runtime.dashboards:bp",
    "runtime.automation_log:bp",
)


def init_app(app) -> None:
    Babel(app, locale_selector=auth.user_language)
    app.before_request(auth.check_csrf)
    app.jinja_env.globals.update(csrf_token=auth.csrf_token, current_actor=auth.current_actor,
                                 user_language=auth.user_language, label_text=label_text)
    for spec in BLUEPRINTS:
        module, name = spec.split(":")
        app.register_blueprint(getattr(__import__(module, fromlist=[name]), name))
    app.register_error_handler(RecordError, _record_error)
    app.register_error_handler(HTTPException, _http_error)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _record_error(err: RecordError):
    if wants_json():
        return jsonify(error=err.message, details=err.details), err.status
    return render_template("error.html", code=err.status, message=err.message), err.status


def _http_error(err: HTTPException):
    if wants_json():
        return jsonify(error=err.description or err.name, details=[]), err.code
    return render_template("error.html", code=err.code, message=err.description or err.name), err.code
