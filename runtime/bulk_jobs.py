"""Background job kinds of the record service's bulk path.

``import_rows`` loads rows from a JSON file through ``bulk_write`` with
progress and cancel; the Excel importer and the API queue it for large loads.
"""
from __future__ import annotations

import json

from .jobs import handler
from .permissions import Actor
from .records_bulk import BulkFailed, bulk_write
from .service import records_for
from .users import actor_by_name


def _actor(ctx) -> Actor:
    if ctx.user:
        with ctx.database.read() as conn:
            found = actor_by_name(conn, ctx.user)
        if found is not None:
            return found
    return Actor.system("job")


@handler("import_rows")
def import_rows(ctx, params: dict) -> dict:
    """params: app, table, path (JSON list of row objects), mode, key."""
    with open(params["path"], encoding="utf-8") as handle:
        rows = json.load(handle)
    records = records_for(ctx.app, params["app"], _actor(ctx))
    ctx.progress(0, len(rows))
    try:
        result = bulk_write(records, params["table"], rows, mode=params.get("mode", "all_or_nothing"),
                            key=params.get("key"), progress=lambda done, _total: ctx.progress(done, len(rows)),
                            cancelled=ctx.cancelled, total=len(rows))
    except BulkFailed as failed:
        failed.result.errors = failed.result.errors[:1000]
        raise
    return {"inserted": result.inserted, "updated": result.updated,
            "errors": [e.as_dict() for e in result.errors[:1000]]}
