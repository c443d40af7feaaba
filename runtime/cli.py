"""``takt``: the command line. User mistakes print a message to stderr and
exit non-zero, never a traceback."""
from __future__ import annotations

import json
import sys
import click
import yaml

from . import migrate
from .db import get_db
from .definition import DefinitionError, load_document



def _app():
    """The app of this instance, its system tables brought up to date first."""
    from .app import create_app
    app = create_app()
    migrate.upgrade(get_db(app))
    return app


def _fail(message: str, code: int = 1):
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group()
def main():
    """Takt: no-code apps for the shop floor."""


@main.group()
def db():
    """The metadata database."""


@db.command("upgrade")
def db_upgrade():
    """Create or migrate the system tables."""
    _app()
    click.echo("database is up to date")


@main.group("app")
def app_group():
    """App definitions: validate, load (publish), export."""


@app_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path())
def app_validate(files):
    """Check definition files; prints every problem with its path, nothing when valid."""
    from .validator import validate
    failed = False
    for name in files:
        try:
            problems = validate(load_document(name))
        except DefinitionError as err:
            problems, failed = [err], True
        for problem in problems:
            click.echo(f"{name}: {problem}", err=True)
        failed = failed or bool(problems)
    sys.exit(1 if failed else 0)


@app_group.command("load")
@click.argument("file", type=click.Path())
@click.option("--confirm-destructive", is_flag=True, help="Apply changes that delete or rewrite data.")
@click.option("--comment", default=None)
@click.option("--dry-run", is_flag=True, help="Print the plan only.")
def app_load(file, confirm_destructive, comment, dry_run):
    """Validate a definition and publish it as the app's next version."""
    _publish_reporting(file, lambda: load_document(file), comment, DefinitionError,
                       confirm_destructive=confirm_destructive, dry_run=dry_run)


def _publish_reporting(source, make_doc, comment, user_errors, confirm_destructive=False, dry_run=False):
    """Publish what ``make_doc`` returns; every refusal becomes a message and exit 1."""
    from .publish import InvalidDefinition, PublishRefused, publish
    from .store import UnknownApp
    database = get_db(_app())
    try:
        result = publish(database, make_doc(), user="cli", comment=comment,
                         confirm_destructive=confirm_destructive, dry_run=dry_run)
    except (UnknownApp, user_errors) as err:
        _fail(str(err))
    except InvalidDefinition as err:
        for problem in err.problems:
            click.echo(f"{source}: {problem}", err=True)
        _fail(str(err))
    except PublishRefused as err:
        _print_plan(err.plan, err=True)
        _fail(str(err) + ("" if err.plan.blocking else " (add --confirm-destructive)"))
    _print_plan(result.plan)
    click.echo(f"{'would publish' if dry_run else 'published'} {result.slug} version {result.version}")


def _print_plan(plan, err=False):
    for change in plan.changes:
        mark = "BLOCKED " if change.blocking else ("DESTRUCTIVE " if change.destructive else "")
        click.echo(f"  - {mark}{change.message}", err=err)


@app_group.command("export")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml")
@click.option("--version", "number", type=int, default=None)
def app_export(slug, fmt, number):
    """Print the live (or a given) version's definition."""
    from .store import UnknownApp, version_definition
    with get_db(_app()).read() as conn:
        try:
            doc = version_definition(conn, slug, number)
        except UnknownApp as err:
            _fail(str(err))
    if fmt == "json":
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        click.echo(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), nl=False)


@app_group.command("list")
def app_list():
    """Apps and their live version."""
    from .labels import label_text
    from .store import list_apps
    with get_db(_app()).read() as conn:
        for app in list_apps(conn):
            name = label_text((app["definition"] or {}).get("name"), "en", app["slug"])
            click.echo(f"{app['slug']}\tv{app['version']}\t{name}")


@app_group.command("versions")
@click.argument("slug")
def app_versions(slug):
    """Every published version of an app."""
    from .store import UnknownApp, versions
    with get_db(_app()).read() as conn:
        try:
            rows = versions(conn, slug)
        except UnknownApp as err:
            _fail(str(err))
    for row in rows:
        live = " (live)" if row["live"] else ""
        click.echo(f"v{row['number']}{live}\t{row['created_at']:%Y-%m-%d %H:%M}\t{row['created_by'] or ''}\t{row['comment'] or ''}")


@app_group.command("add-block")
@click.argument("slug")
@click.argument("block_name")
@click.option("--param", "params", multiple=True, help="key=value block parameter")
def app_add_block(slug, block_name, params):
    """Merge a block into an app and publish the result."""
    from blocks.registry import BlockError, get
    from .blocks import add_block
    given = dict(p.split("=", 1) for p in params if "=" in p)
    _republish(slug, lambda doc: add_block(doc, get(block_name), given), f"add block {block_name}", BlockError)


@app_group.command("remove-block")
@click.argument("slug")
@click.argument("block_name")
@click.option("--confirm-destructive", is_flag=True, help="Drop the block's tables and their records.")
def app_remove_block(slug, block_name, confirm_destructive):
    """Take a block out of an app (a destructive change: its tables go)."""
    from blocks.registry import BlockError, get
    from .blocks import remove_block
    _republish(slug, lambda doc: remove_block(doc, get(block_name)), f"remove block {block_name}", BlockError,
               confirm_destructive)


def _republish(slug, change, comment, error_type, confirm_destructive=False):
    from .store import version_definition

    def changed():
        with get_db(_app()).read() as conn:
            return change(version_definition(conn, slug))
    _publish_reporting(slug, changed, comment, error_type, confirm_destructive=confirm_destructive)


@main.group("block")
def block_group():
    """Prebuilt blocks."""


@block_group.command("list")
def block_list():
    """Installed blocks, with their parameters."""
    from blocks.registry import available
    from .labels import label_text
    for name, block in available().items():
        manifest = block.manifest
        params = ", ".join(f"{p['name']}={p.get('default', '')}" for p in manifest.get("parameters", []))
        requires = f"  requires: {', '.join(manifest['requires'])}" if manifest.get("requires") else ""
        click.echo(f"{name}\t{manifest.get('version', '')}\t{label_text(manifest.get('label'), 'en', name)}"
                   f"\t{params}{requires}")


@main.group()
def user():
    """Users."""


@user.command("create")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", "roles", multiple=True, default=["operator"], show_default=True)
@click.option("--language", default="en", type=click.Choice(["en", "zh"]))
@click.option("--attr", "attrs", multiple=True, help="key=value user attribute for row rules, e.g. line=line_1")
def user_create(username, password, roles, language, attrs):
    """Create a user with roles (admin, engineer, operator or an app role)."""
    from .users import UserError, create_user
    attributes = dict(a.split("=", 1) for a in attrs if "=" in a)
    database = get_db(_app())
    try:
        with database.write() as conn:
            create_user(conn, username, password, roles, language=language, attributes=attributes)
    except UserError as err:
        _fail(str(err))
    click.echo(f"created user {username} with roles {', '.join(roles)}")


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve(host, port):
    """Serve the web app (embedded shape: one process, jobs in threads)."""
    from werkzeug.serving import run_simple
    run_simple(host, port, _app(), threaded=True)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst):
    """Run an RQ worker for background jobs (scale-out shape, needs REDIS_URL)."""
    from rq import Worker

    from .jobs import queue
    app = _app()
    if not app.config["REDIS_URL"]:
        _fail("REDIS_URL is not set; without it jobs run inside the web process")
    q = queue(app)
    Worker([q], connection=q.connection).work(burst=burst)


@main.command()
@click.option("--app", "slug", required=True, help="The app whose machines send signals")
@click.option("--host", default="127.0.0.1", show_default=True, help="MQTT broker")
@click.option("--port", default=1883, type=int, show_default=True)
def signals(slug, host, port):
    """Record machine signals from MQTT (takt/<app>/machines/<code>/state|count) until stopped."""
    from blocks.equipment.signals import MqttAdapter
    from .store import UnknownApp, live_app
    app = _app()
    try:
        live_app(get_db(app), slug)
    except UnknownApp as err:
        _fail(str(err))
    click.echo(f"listening on mqtt://{host}:{port} for takt/{slug}/machines/+/state and /count")
    MqttAdapter(app, slug, host=host, port=port).run_forever()


@main.command()
def scheduler():
    """Run scheduled automations when due (one per deployment)."""
    from .automations import scheduler_loop
    scheduler_loop(_app())


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the demo database and exit.")
def demo(host, port, no_serve):
    """Create the instance database, load the example apps and demo data, and serve."""
    from .demo import DEMO_LOGINS, prepare_demo
    app = _app()
    prepare_demo(app)
    click.echo(f"Takt demo on http://{host}:{port}/")
    for username, password, roles in DEMO_LOGINS:
        click.echo(f"  login: {username} / {password}  ({', '.join(roles)})")
    if not no_serve:
        from werkzeug.serving import run_simple
        run_simple(host, port, app, threaded=True)


@main.group()
def xlsx():
    """Excel workbooks: new apps from workbooks, imports, exports, templates."""


@xlsx.command("new-app")
@click.argument("file", type=click.Path())
@click.option("--slug", required=True, help="The new app's identifier")
@click.option("--dry-run", is_flag=True, help="Print the inferred schema and problems; create nothing.")
def xlsx_new_app(file, slug, dry_run):
    """Create an app from a workbook (one table per sheet) and load its rows."""
    from .xlsx import cli as xlsx_cli
    sys.exit(xlsx_cli.new_app(_app(), file, slug, dry_run, progress_printer=xlsx_cli.progress_bar()))


@xlsx.command("import")
@click.argument("file", type=click.Path())
@click.option("--app", "slug", required=True)
@click.option("--table", required=True)
@click.option("--mode", type=click.Choice(["all_or_nothing", "valid_only"]), default="all_or_nothing", show_default=True)
@click.option("--key", default=None, help="Upsert: update records whose KEY field matches, insert the rest")
@click.option("--sheet", default=None)
def xlsx_import(file, slug, table, mode, key, sheet):
    """Import a sheet into an existing table, with per-cell errors."""
    from .xlsx import cli as xlsx_cli
    sys.exit(xlsx_cli.import_file(_app(), file, slug, table, mode=mode, key=key, sheet=sheet,
                                  progress_printer=xlsx_cli.progress_bar()))


@xlsx.command("export")
@click.option("--app", "slug", required=True)
@click.option("--table", required=True)
@click.option("--out", required=True, type=click.Path())
@click.option("--filter", "filters", multiple=True, help="field=value or field:op:value")
@click.option("--search", default=None)
@click.option("--sort", "sort", multiple=True, help="field or -field")
@click.option("--language", default="en", type=click.Choice(["en", "zh"]))
def xlsx_export(slug, table, out, filters, search, sort, language):
    """Export a table (optionally filtered) to .xlsx."""
    from .xlsx import cli as xlsx_cli
    sys.exit(xlsx_cli.export_table(_app(), slug, table, out, filters=filters, search=search, sort=sort,
                                   language=language))


@xlsx.command("template")
@click.option("--app", "slug", required=True)
@click.option("--table", required=True)
@click.option("--out", required=True, type=click.Path())
@click.option("--language", default="en", type=click.Choice(["en", "zh"]))
def xlsx_template(slug, table, out, language):
    """Write an import template for a table (labels, dropdowns, formats, hints, an example)."""
    from .xlsx import cli as xlsx_cli
    sys.exit(xlsx_cli.template(_app(), slug, table, out, language=language))


@main.group()
def mrp():
    """Material requirements planning."""


@mrp.command("run")
@click.option("--input", "input_path", required=True, type=click.Path())
@click.option("--out", "out_path", required=True, type=click.Path())
def mrp_run(input_path, out_path):
    """Run the MRP engine on a JSON plan (see docs/mrp.md for the format)."""
    from blocks.mrp.cli import run
    sys.exit(run(input_path, out_path))


@main.group()
def schedule():
    """Finite-capacity scheduling."""


@schedule.command("jssp")
@click.argument("file", type=click.Path())
@click.option("--time-limit", default=10.0, type=float, show_default=True)
@click.option("--rule", default=None, help="SPT, EDD, CR or MWKR: dispatching rule only")
@click.option("--out", required=True, type=click.Path())
def schedule_jssp(file, time_limit, rule, out):
    """Solve a job-shop instance in the standard text format."""
    from blocks.scheduling.cli import jssp
    sys.exit(jssp(file, out, time_limit, rule))
