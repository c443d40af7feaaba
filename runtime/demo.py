"""``takt demo``: an instance with the example apps, demo records and logins."""
from __future__ import annotations

from importlib import resources

import sqlalchemy as sa
import yaml

from . import migrate
from .db import get_db
from .definition import parse_document
from .models import User
from .permissions import Actor
from .publish import publish
from .records import Records
from .store import live_app, version_definition
from .users import create_user

DEMO_LOGINS = (
    ("admin", "takt-admin", ("admin",)),
    ("engineer", "takt-engineer", ("engineer",)),
    ("operator", "takt-operator", ("operator",)),
    ("supervisor", "takt-supervisor", ("operator", "supervisor")),
)
DEMO_ATTRIBUTES = {"operator": {"line": "line_1", "station": "CNC-01"}, "supervisor": {"line": "line_1"}}


def example_documents() -> dict[str, tuple[dict, dict]]:
    """slug → (definition, demo data) for every app shipped in ``example_apps``."""
    folder = resources.files("example_apps")
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml") and not entry.name.endswith(".data.yaml"):
            doc = parse_document(entry.read_text(encoding="utf-8"), entry.name)
            data_file = folder.joinpath(entry.name.replace(".yaml", ".data.yaml"))
            data = yaml.safe_load(data_file.read_text(encoding="utf-8")) if data_file.is_file() else {}
            found[doc["slug"]] = (doc, data or {})
    return found


def prepare_demo(app) -> None:
    database = get_db(app)
    migrate.upgrade(database)
    _create_logins(database)
    for slug, (doc, data) in example_documents().items():
        if _live_definition(database, slug) == doc:
            continue
        fresh = _live_definition(database, slug) is None
        publish(database, doc, user="demo", comment="example app", confirm_destructive=True)
        if fresh:
            _load_data(database, slug, data)


def _live_definition(database, slug):
    with database.read() as conn:
        try:
            return version_definition(conn, slug)
        except LookupError:
            return None


def _create_logins(database) -> None:
    with database.write() as conn:
        for username, password, roles in DEMO_LOGINS:
            if conn.execute(sa.select(User.id).where(User.username == username)).first() is None:
                create_user(conn, username, password, roles, attributes=DEMO_ATTRIBUTES.get(username))


def _load_data(database, slug, data) -> None:
    records = Records(database, live_app(database, slug), Actor.system("demo"))
    for table, rows in data.items():
        for row in rows:
            records.create(table, row)
