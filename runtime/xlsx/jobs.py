"""Excel import and export as services and as background jobs.

``run_import`` / ``run_export`` do the work for the CLI, the web UI and the
job kinds ``xlsx_import`` / ``xlsx_export``; ``start_import`` /
``start_export`` run small files inline and queue big ones (more rows than
``JOB_ROW_THRESHOLD``) as jobs. A job reports rows done/total, polls its
cancel flag between batches, and keeps its result with the job — for an
import, the counts, the first 1,000 problems and the error report's path.
"""
from __future__ import annotations

import uuid
from pathlib import Path

from ..jobs import enqueue, handler
from ..listing import Filter, ListQuery
from ..permissions import Actor
from ..record_checks import RecordError
from ..service import records_for
from ..users import actor_by_name
from . import mappings
from .importer import ImportResult, import_sheet
from .read import open_workbook
from .report import write_report


class XlsxImportFailed(RecordError):
    """All-or-nothing import with bad cells: nothing was written. ``details[0]`` holds the report path."""

    status = 422

    def __init__(self, result: ImportResult):
        self.result = result
        super().__init__(f"{len(result.issues)} problem(s) in sheet '{result.sheet}'; nothing was imported",
                         [{"report": result.report}] + [i.as_dict() for i in result.issues[:999]])


def xlsx_folder(flask_app, kind: str) -> Path:
    folder = Path(flask_app.instance_path) / "xlsx" / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def actor_for(flask_app, username: str | None) -> Actor:
    if username:
        from ..db import get_db
        with get_db(flask_app).read() as conn:
            found = actor_by_name(conn, username)
        if found is not None:
            return found
    return Actor.system("xlsx")


def run_import(flask_app, slug: str, table: str, path, *, user: str | None = None, mode: str = "all_or_nothing",
               key: str | None = None, sheet: str | None = None, mapping: dict | None = None,
               progress=None, cancelled=None, report: bool = True) -> ImportResult:
    """Import ``path`` into the app's table; writes the error report when there are problems and
    remembers the column mapping when rows went in."""
    records = records_for(flask_app, slug, actor_for(flask_app, user))
    database = records.database
    known = mappings.remembered(database, slug, table)
    result = import_sheet(records, table, path, mode=mode, key=key, sheet=sheet, mapping=mapping,
                          remembered=known, progress=progress, cancelled=cancelled,
                          batch_size=flask_app.config.get("BULK_BATCH_SIZE", 2000))
    if result.issues and report:
        result.report = write_report(path, result, xlsx_folder(flask_app, "reports") / f"{uuid.uuid4().hex}.xlsx")
    if result.written and result.inserted + result.updated:
        mappings.remember(database, slug, result.table, result.mapping, user)
    return result


def run_export(flask_app, slug: str, table: str, path, *, user: str | None = None, filters=(), search=None,
               sort=(), language: str = "en", progress=None, cancelled=None) -> int:
    from .export import export_table
    records = records_for(flask_app, slug, actor_for(flask_app, user))
    query = ListQuery(filters=[f if isinstance(f, Filter) else Filter(**f) for f in filters], search=search,
                      sort=[tuple(s) for s in sort])
    return export_table(records, table, path, query, language=language, progress=progress, cancelled=cancelled)


def count_rows(path, sheet: str | None = None) -> int:
    """Rows in the sheet (from the XML scan, without reading the cells)."""
    with open_workbook(path) as book:
        return book.sheet(sheet).estimated_rows


def start_import(flask_app, slug: str, table: str, path, *, user: str | None = None, **options) -> dict:
    """{'job_id': …} for big files, else {'result': ImportResult.as_dict()} after importing inline."""
    if count_rows(path, options.get("sheet")) > flask_app.config["JOB_ROW_THRESHOLD"]:
        params = {"app": slug, "table": table, "path": str(path), **options}
        return {"job_id": enqueue(flask_app, "xlsx_import", params, user)}
    return {"result": run_import(flask_app, slug, table, path, user=user, **options).as_dict()}


def start_export(flask_app, slug: str, table: str, *, user: str | None = None, rows: int, **options) -> dict:
    """``rows``: how many records match (the list view knows). Big exports become jobs."""
    if rows > flask_app.config["JOB_ROW_THRESHOLD"]:
        return {"job_id": enqueue(flask_app, "xlsx_export", {"app": slug, "table": table, **options}, user)}
    path = xlsx_folder(flask_app, "exports") / f"{table}-{uuid.uuid4().hex[:8]}.xlsx"
    count = run_export(flask_app, slug, table, path, user=user, **options)
    return {"result": {"path": str(path), "rows": count}}


def report_path(status: dict) -> str | None:
    """The error report of a finished xlsx_import job (done or failed), if any."""
    result = status.get("result") or {}
    if result.get("report"):
        return result["report"]
    details = result.get("details") or []
    return details[0].get("report") if details and isinstance(details[0], dict) else None


@handler("xlsx_import")
def xlsx_import(ctx, params: dict) -> dict:
    """params: app, table, path, and optionally mode, key, sheet, mapping."""
    options = {k: params[k] for k in ("mode", "key", "sheet", "mapping") if params.get(k) is not None}
    ctx.progress(0, None)
    result = run_import(ctx.app, params["app"], params["table"], params["path"], user=ctx.user,
                        progress=ctx.progress, cancelled=ctx.cancelled, **options)
    if not result.written:
        raise XlsxImportFailed(result)
    return result.as_dict()


@handler("xlsx_export")
def xlsx_export(ctx, params: dict) -> dict:
    """params: app, table, and optionally filters [{field, op, value}], search, sort, language."""
    path = xlsx_folder(ctx.app, "exports") / f"{params['table']}-{ctx.job_id}.xlsx"
    options = {k: params[k] for k in ("filters", "search", "sort", "language") if params.get(k) is not None}
    rows = run_export(ctx.app, params["app"], params["table"], path, user=ctx.user,
                      progress=ctx.progress, cancelled=ctx.cancelled, **options)
    return {"path": str(path), "rows": rows}
