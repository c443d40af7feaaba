"""Building a record service for a request or a job, with the hooks every
write runs (automations, webhooks). Views, the API, jobs and blocks get their
``Records`` here so that no write path forgets a hook."""
from __future__ import annotations

from .db import get_db
from .permissions import Actor
from .records import Records
from .store import live_app

#: Callables (records, conn, change) run inside every write's transaction; filled by init_app of
#: the modules that react to changes (automations, webhooks), in this order.
HOOKS_KEY = "takt.record_hooks"


def register_hook(app, hook) -> None:
    app.extensions.setdefault(HOOKS_KEY, []).append(hook)


def records_for(app, slug: str, actor: Actor) -> Records:
    database = get_db(app)
    return Records(database, live_app(database, slug), actor, hooks=app.extensions.get(HOOKS_KEY, ()))
