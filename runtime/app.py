"""The application factory: the only place a Takt Flask app is assembled."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

import templates as templates_package

from . import automations, blocks, db, jobs, webhooks
from .config import DefaultConfig

STATIC = Path(__file__).parent / "static"


def create_app(test_config: dict | None = None) -> Flask:
    instance = os.environ.get("TAKT_INSTANCE_PATH") or str(Path.cwd() / "instance")
    if test_config and test_config.get("INSTANCE_PATH"):
        instance = test_config["INSTANCE_PATH"]
    app = Flask("runtime", instance_path=instance, instance_relative_config=True,
                template_folder=str(Path(templates_package.__file__).parent), static_folder=str(STATIC))
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("takt.cfg", silent=True)
    app.config.from_prefixed_env("TAKT")
    for key in ("DATABASE_URL", "REDIS_URL"):
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    if test_config:
        app.config.update(test_config)
    _instance_defaults(app)
    db.init_app(app)
    jobs.init_app(app)
    automations.init_app(app)
    webhooks.init_app(app)
    blocks.init_app(app)
    _register_web(app)
    return app


def _instance_defaults(app: Flask) -> None:
    """Embedded shape: the SQLite file and the secret key live in the instance folder."""
    folder = Path(app.instance_path)
    if not app.config["DATABASE_URL"]:
        folder.mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{folder / 'takt.db'}"
    if not app.config["SECRET_KEY"]:
        folder.mkdir(parents=True, exist_ok=True)
        key_file = folder / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        app.config["SECRET_KEY"] = key_file.read_text().strip()


def _register_web(app: Flask) -> None:
    from . import web
    web.init_app(app)
