"""Shared fixtures: a fresh Takt app per test over SQLite and over PostgreSQL,
apps built from small YAML snippets, and the servers the suite talks to.

Outside CI a test whose server is down is skipped with how to start it; with
CI=true it fails instead, so a green CI run really did talk to every server.
"""
from __future__ import annotations

import os
import socket
import uuid

import pytest
import sqlalchemy as sa
import yaml

from runtime import migrate
from runtime.app import create_app
from runtime.db import get_db
from runtime.permissions import Actor
from runtime.publish import publish
from runtime.records import Records
from runtime.store import live_app

PG_URL = os.environ.get("TAKT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TAKT_TEST_REDIS", "redis://127.0.0.1:6379/0")
START = {
    "postgres": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "redis": 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no',
    "mqtt": "mosquitto -d -c /etc/mosquitto/mosquitto.conf",
}
PORTS = {"postgres": 5432, "redis": 6379, "mqtt": 1883}


def require_server(name: str) -> None:
    """Skip (or, under CI, fail) when a server the test needs is not listening."""
    try:
        socket.create_connection(("127.0.0.1", PORTS[name]), timeout=2).close()
    except OSError:
        message = f"{name} is not running on 127.0.0.1:{PORTS[name]}; start it with: {START[name]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'takt.db'}"
        return
    request.applymarker(pytest.mark.postgres)
    require_server("postgres")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.schema.DropSchema(schema, cascade=True))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'takt.db'}"


def make_flask_app(url, tmp_path, **extra):
    app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "SECRET_KEY": "test", "REDIS_URL": "", "WTF_CSRF_ENABLED": True, **extra})
    migrate.upgrade(get_db(app))
    return app


class TaktHarness:
    """One Flask app and its database, with helpers to publish YAML snippets."""

    def __init__(self, app):
        self.app = app
        self.db = get_db(app)

    def publish(self, definition, **options):
        doc = yaml.safe_load(definition) if isinstance(definition, str) else definition
        return publish(self.db, doc, user="test", **options)

    def live(self, slug="demo"):
        return live_app(self.db, slug)

    def records(self, slug="demo", actor: Actor | None = None, hooks=()):
        return Records(self.db, self.live(slug), actor or Actor.system("test"), hooks)

    def scalar(self, stmt):
        with self.db.read() as conn:
            return conn.execute(stmt).scalar()


@pytest.fixture
def takt(database_url, tmp_path):
    app = make_flask_app(database_url, tmp_path)
    yield TaktHarness(app)
    get_db(app).dispose()


@pytest.fixture
def takt_sqlite(sqlite_url, tmp_path):
    app = make_flask_app(sqlite_url, tmp_path)
    yield TaktHarness(app)
    get_db(app).dispose()
