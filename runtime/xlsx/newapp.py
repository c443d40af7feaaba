"""A new app from a workbook: infer the definition, publish it and load every
sheet's rows — all in ONE database transaction, so a bad cell anywhere (or a
killed process) leaves no app and no rows behind. A dry run does the same
work and rolls it back, which reports exact per-cell problems without
creating anything.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from ..db import get_db
from ..permissions import Actor
from ..publish import publish
from ..records import Records
from ..service import HOOKS_KEY
from ..store import forget_live, live_app
from .importer import import_sheet
from .infer import Inference, infer_app
from .read import open_workbook


class _Rollback(Exception):
    pass


class OneTransaction:
    """Looks like ``Database`` to publish and the record service, but every read and
    write is a savepoint on one connection whose outer transaction we commit or roll back."""

    def __init__(self, database, conn):
        self.database, self.conn = database, conn
        # What this transaction publishes may roll back: keep it out of the shared caches.
        self.live_cache: dict = {}
        self.live_by_slug: dict = {}
        self.token_cache: dict = {}

    def __getattr__(self, name):
        return getattr(self.database, name)   # is_sqlite, live_seconds, engine, …

    @contextlib.contextmanager
    def write(self):
        with self.conn.begin_nested():
            yield self.conn

    read = write


@dataclass
class NewApp:
    inference: Inference
    results: list = field(default_factory=list)       # ImportResult per sheet, in load order
    created: bool = False

    @property
    def issues(self):
        return [issue for result in self.results for issue in result.issues]


def create_from_workbook(flask_app, path, slug: str, *, dry_run: bool = False, user: str = "xlsx",
                         progress=None) -> NewApp:
    """Raises XlsxError for unreadable input and InvalidDefinition / PublishRefused from publish."""
    path = Path(path)
    with open_workbook(path) as book:
        outcome = NewApp(infer_app(book, slug))
    database = get_db(flask_app)
    try:
        with database.write() as conn:
            shared = OneTransaction(database, conn)
            publish(shared, outcome.inference.doc, user=user, comment=f"created from {path.name}")
            records = Records(shared, live_app(shared, slug), Actor.system(user), flask_app.extensions.get(HOOKS_KEY, ()))
            for plan in outcome.inference.load_order():
                result = import_sheet(records, plan.table, path, sheet=plan.sheet, header_row=plan.header_row,
                                      by_column=plan.columns, progress=progress)
                outcome.results.append(result)
                if result.issues:
                    break
            if dry_run or outcome.issues:
                raise _Rollback()
    except _Rollback:
        return outcome
    forget_live(database, slug)
    outcome.created = True
    return outcome
