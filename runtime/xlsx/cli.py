"""The ``takt xlsx …`` commands as plain functions returning the exit code.

``runtime/cli.py`` wires them as click commands; each takes the Flask app
(migrated), prints results on stdout and problems on stderr, and returns
0 when it did what was asked, 1 for input a person must fix — never a
traceback for bad input.
"""
from __future__ import annotations

import sys

import click
import yaml

from ..listing import Filter
from ..publish import InvalidDefinition, PublishRefused
from ..record_checks import RecordError
from ..store import UnknownApp
from .read import XlsxError

SHOWN_ISSUES = 50
USER_ERRORS = (XlsxError, RecordError, UnknownApp, InvalidDefinition, PublishRefused)


def _err(message: str) -> None:
    click.echo(message, err=True)


def _fail(message: str) -> int:
    _err(f"error: {message}")
    return 1


def progress_bar(stream=None, width: int = 30):
    """A callable(done, total) drawing ``[#####-----] 12,000/100,000 rows`` on one line."""
    stream = stream or sys.stderr

    def draw(done, total):
        if total:
            filled = min(width, int(width * done / max(total, 1)))
            stream.write(f"\r[{'#' * filled}{'-' * (width - filled)}] {done:,}/{total:,} rows")
        else:
            stream.write(f"\r{done:,} rows")
        stream.flush()
    return draw


def _end_progress(progress_printer) -> None:
    if progress_printer is not None:
        sys.stderr.write("\n")


def new_app(app, file, slug: str, dry_run: bool = False, progress_printer=None) -> int:
    """``takt xlsx new-app FILE --slug SLUG [--dry-run]``."""
    from .newapp import create_from_workbook
    try:
        outcome = create_from_workbook(app, file, slug, dry_run=dry_run, progress=progress_printer)
    except InvalidDefinition as err:
        for problem in err.problems:
            _err(f"{file}: {problem}")
        return _fail(str(err))
    except USER_ERRORS as err:
        return _fail(getattr(err, "message", None) or str(err))
    finally:
        _end_progress(progress_printer)
    inference = outcome.inference
    if dry_run:
        click.echo(yaml.safe_dump(inference.doc, allow_unicode=True, sort_keys=False), nl=False)
    for problem in inference.problems:
        _err(f"note: {problem}")
    _print_issues(outcome.issues)
    if outcome.issues:
        return _fail(f"{len(outcome.issues)} problem(s) in the rows; "
                     + ("nothing would be created" if dry_run else "nothing was created"))
    rows = sum(r.inserted for r in outcome.results)
    verb = "would create" if dry_run else "created"
    click.echo(f"{verb} app {slug} with {len(inference.doc['tables'])} table(s) and {rows:,} row(s)")
    return 0


def import_file(app, file, slug: str, table: str, mode: str = "all_or_nothing", key: str | None = None,
                progress_printer=None, sheet: str | None = None, mapping: dict | None = None) -> int:
    """``takt xlsx import FILE --app SLUG --table TABLE [--mode …] [--key …]``."""
    from .jobs import run_import
    try:
        result = run_import(app, slug, table, file, user=None, mode=mode, key=key, sheet=sheet, mapping=mapping,
                            progress=progress_printer)
    except USER_ERRORS as err:
        return _fail(getattr(err, "message", None) or str(err))
    finally:
        _end_progress(progress_printer)
    for note in result.notes:
        _err(f"note: {note}")
    _print_issues(result.issues)
    if result.report:
        _err(f"error report (bad cells in red, with comments): {result.report}")
    if not result.written:
        return _fail(f"{len(result.issues)} problem(s); nothing was imported (use --mode valid_only to import the "
                     "valid rows)")
    skipped = len({i.row for i in result.issues})
    click.echo(f"{result.inserted:,} inserted, {result.updated:,} updated"
               + (f", {skipped:,} row(s) skipped" if skipped else "") + f" into {slug}.{result.table}")
    return 0


def _print_issues(issues) -> None:
    for issue in issues[:SHOWN_ISSUES]:
        _err(f"  {issue}")
    if len(issues) > SHOWN_ISSUES:
        _err(f"  … and {len(issues) - SHOWN_ISSUES:,} more")


def parse_filter(text: str) -> Filter:
    """``status=open``, ``qty:gt:10``, ``due:between:2026-01-01,2026-12-31``, ``note:blank``."""
    if ":" in text:
        field, op, *value = text.split(":", 2)
        return Filter(field, op, value[0] if value else None)
    field, sep, value = text.partition("=")
    if not sep:
        raise XlsxError(f"cannot read the filter '{text}' (use field=value or field:op:value)")
    return Filter(field, "eq", value)


def export_table(app, slug: str, table: str, out, filters=(), search: str | None = None, sort=(),
                 language: str = "en") -> int:
    """``takt xlsx export --app SLUG --table TABLE --out FILE [--filter …] [--search …] [--sort [-]field]``."""
    from .jobs import run_export
    try:
        parsed = [parse_filter(f) for f in filters]
        order = [(s.lstrip("-"), s.startswith("-")) for s in sort]
        rows = run_export(app, slug, table, out, filters=parsed, search=search, sort=order, language=language)
    except USER_ERRORS as err:
        return _fail(getattr(err, "message", None) or str(err))
    click.echo(f"exported {rows:,} row(s) to {out}")
    return 0


def template(app, slug: str, table: str, out, language: str = "en") -> int:
    """``takt xlsx template --app SLUG --table TABLE --out FILE [--language zh]``."""
    from .export import import_template
    try:
        records = _records(app, slug)
        import_template(records, table, out, language=language)
    except USER_ERRORS as err:
        return _fail(getattr(err, "message", None) or str(err))
    click.echo(f"wrote the import template for {slug}.{table} to {out}")
    return 0


def _records(app, slug):
    from ..permissions import Actor
    from ..service import records_for
    return records_for(app, slug, Actor.system("cli"))
