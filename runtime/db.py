"""The database handle of one Flask app (no module-level engine).

SQLite gets WAL, foreign keys and a busy timeout; write transactions on
SQLite start with ``BEGIN IMMEDIATE`` so that two writers queue up instead of
failing with "database is locked" when a read transaction tries to upgrade.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

WRITE = "takt_write"


class Database:
    def __init__(self, url: str, echo: bool = False, live_seconds: float = 2.0):
        self.url = sa.make_url(url)
        self.engine = sa.create_engine(self.url, echo=echo, **self._engine_options())
        self.live_cache: dict = {}  # version id → LiveApp; versions are immutable
        self.live_by_slug: dict = {}  # slug → (expires, LiveApp): which version is live, briefly
        self.live_seconds = live_seconds
        self.token_cache: dict = {}  # token hash → (expires, Actor); cleared on revoke in this process
        if self.is_sqlite:
            _configure_sqlite(self.engine)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def _engine_options(self) -> dict:
        if self.url.get_backend_name() == "sqlite":
            database = self.url.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            return {"connect_args": {"timeout": 30, "check_same_thread": False}}
        return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}

    @contextlib.contextmanager
    def write(self):
        """A connection in a write transaction: commits on success, rolls back on error."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def read(self):
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    def dispose(self):
        self.engine.dispose()


def _configure_sqlite(engine):
    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(conn):
        if conn.get_execution_options().get(WRITE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def init_app(app):
    app.extensions["takt.db"] = Database(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False),
                                         live_seconds=app.config["LIVE_VERSION_CACHE_SECONDS"])


def get_db(app=None) -> Database:
    return (app or current_app).extensions["takt.db"]
