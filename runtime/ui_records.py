"""What the app pages show around records: the apps a user may use, an app's
navigation, the records linking to a record, its history and a short summary
(kiosk scans). Each function takes what it needs; none reads the request.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _

from .definition import TableDef
from .labels import label_text
from .listing import Filter, ListQuery
from .models import AuditEntry
from .permissions import allowed
from .records import Forbidden, NotFound
from .store import UnknownApp, list_apps, live_app
from .ui_lists import columns
from .ui_values import Cell, Formatter, record_title, state_field, state_labels
from .workflow import available

BACK_LINK_ROWS = 10
HISTORY_ROWS = 200


@dataclass
class NavItem:
    label: str
    url: str
    kind: str  # table, form, kiosk or dashboard


def _role_ok(actor, roles) -> bool:
    return not roles or actor.full_access or bool(actor.roles & set(roles))


def navigation(live, actor, lang: str) -> list[NavItem]:
    """The definition's navigation, minus what this user may not open; every readable table without one."""
    appdef = live.appdef
    items = appdef.doc.get("navigation") or [{"table": t.name} for t in appdef.tables.values() if not t.child]
    entries = [_nav_entry(appdef, item, actor, lang) for item in items if _role_ok(actor, item.get("roles"))]
    return [e for e in entries if e is not None]


def _nav_entry(appdef, item, actor, lang) -> NavItem | None:
    slug = appdef.slug
    if "table" in item:
        tdef = appdef.tables.get(item["table"])
        if tdef is None or tdef.child or not allowed(actor, tdef, "read"):
            return None
        return NavItem(label_text(item.get("label"), lang) or tdef.label(lang),
                       url_for("ui.list_view", slug=slug, table=tdef.name), "table")
    if "form" in item:
        form = appdef.named("forms").get(item["form"])
        tdef = appdef.tables.get(form["table"]) if form else None
        if tdef is None or not allowed(actor, tdef, "create"):
            return None
        label = label_text(item.get("label") or form.get("label"), lang, form["name"])
        if form.get("kiosk"):
            return NavItem(label, url_for("ui.kiosk", slug=slug, form_name=form["name"]), "kiosk")
        return NavItem(label, url_for("ui.new", slug=slug, table=tdef.name, form=form["name"]), "form")
    if "dashboard" in item:
        board = appdef.named("dashboards").get(item["dashboard"])
        if board is None:
            return None
        return NavItem(label_text(item.get("label") or board.get("label"), lang, board["name"]),
                       f"/apps/{slug}/dashboards/{board['name']}", "dashboard")
    return None


def usable_apps(database, actor, lang: str) -> list[dict]:
    """Live apps in which this user can open at least one page."""
    with database.read() as conn:
        rows = list_apps(conn)
    found = []
    for row in rows:
        try:
            live = live_app(database, row["slug"])
        except UnknownApp:
            continue
        nav = navigation(live, actor, lang)
        if nav or actor.full_access:
            found.append({"slug": row["slug"], "label": live.appdef.label(lang),
                          "description": label_text(live.appdef.doc.get("description"), lang),
                          "url": url_for("ui.app_home", slug=row["slug"]), "nav": nav})
    return found


# -- records linking here ----------------------------------------------------
@dataclass
class BackLinks:
    table: TableDef
    label: str
    field_label: str
    rows: list = field(default_factory=list)  # (title, href, [Cell])
    columns: list = field(default_factory=list)
    total: int = 0
    more_url: str = ""
    new_url: str | None = None


def back_links(records, tdef: TableDef, record_id: int, lang: str) -> list[BackLinks]:
    found = []
    for other in records.live.appdef.tables.values():
        links = [link for link in other.links if link["table"] == tdef.name] if not other.child else []
        for link in links:
            group = _back_link_group(records, other, link, record_id, lang)
            if group is not None:
                group.field_label = group.field_label if len(links) > 1 else ""
                found.append(group)
    return found


def _back_link_group(records, other: TableDef, link: dict, record_id: int, lang: str) -> BackLinks | None:
    try:
        page = records.list(other.name, ListQuery(filters=[Filter(link["name"], "eq", record_id)],
                                                  per_page=BACK_LINK_ROWS))
    except Forbidden:
        return None
    if not page.total and not allowed(records.actor, other, "create"):
        return None
    shown = [c for c in columns(other, lang) if c.name != link["name"]][:4]
    fmt = Formatter(records, lang).load(other, page.rows)
    rows = [(record_title(other, r), url_for("ui.detail", slug=records.live.slug, table=other.name, record_id=r["id"]),
             [fmt.cell(other, c.fdef, r.get(c.name)) for c in shown]) for r in page.rows]
    slug = records.live.slug
    more = url_for("ui.list_view", slug=slug, table=other.name, **{f"f_{link['name']}": record_id})
    new = url_for("ui.new", slug=slug, table=other.name, **{link["name"]: record_id}) \
        if allowed(records.actor, other, "create") else None
    return BackLinks(other, other.label(lang), label_text(link.get("label"), lang, link["name"]), rows,
                     shown, page.total, more, new)


# -- history -----------------------------------------------------------------
def history(records, tdef: TableDef, record_id: int, lang: str) -> list[dict]:
    """Audit entries of a record, newest first, with changes as (label, old, new) cells."""
    audit = AuditEntry.__table__
    stmt = (sa.select(audit).where(audit.c.app_slug == records.live.slug, audit.c.table_name == tdef.name,
                                   audit.c.record_id == record_id)
            .order_by(audit.c.at.desc(), audit.c.id.desc()).limit(HISTORY_ROWS))
    with records.database.read() as conn:
        entries = [dict(r) for r in conn.execute(stmt).mappings()]
    fmt = Formatter(records, lang)
    for fdef in tdef.links:
        fmt.load_titles(fdef["table"], {v for e in entries for v in (e["changes"] or {}).get(fdef["name"], [])
                                        if isinstance(v, int)})
    return [_entry(tdef, e, fmt, lang) for e in entries]


def _entry(tdef: TableDef, entry: dict, fmt: Formatter, lang: str) -> dict:
    changes = dict(entry["changes"] or {})
    transition = None
    if "transition" in changes:
        states = state_labels(tdef, lang)
        flow = tdef.workflow() or {"transitions": []}
        spec = next((t for t in flow["transitions"] if t["name"] == changes["transition"]), {})
        transition = (label_text(spec.get("label"), lang, changes.pop("transition")),
                      states.get(changes.pop("from", None), ("", None))[0], states.get(changes.pop("to", None), ("", None))[0])
    lines = []
    for name, pair in changes.items():
        fdef = tdef.fields.get(name)
        if fdef is None or not isinstance(pair, list) or len(pair) != 2 or name == state_field(tdef) and transition:
            continue
        if fdef["type"] == "child_rows" and pair[0] == pair[1]:
            old, new = Cell(_("%(count)s rows", count=pair[0])), Cell(_("rewritten"))
        elif fdef["type"] == "child_rows":
            old, new = (Cell(_("%(count)s rows", count=v)) for v in pair)
        else:
            old, new = (fmt.cell(tdef, fdef, v) for v in pair)
        lines.append((label_text(fdef.get("label"), lang, name), old, new))
    return {"at": entry["at"], "username": entry["username"] or _("system"), "action": entry["action"],
            "transition": transition, "changes": lines}


# -- a short summary (kiosk scans) -------------------------------------------
def summary(records, tdef: TableDef, record: dict, lang: str) -> dict:
    fmt = Formatter(records, lang).load(tdef, [record])
    state = state_field(tdef)
    shown = [c for c in columns(tdef, lang) if c.name != state]
    cells = [(c.label, fmt.cell(tdef, c.fdef, record.get(c.name)).text) for c in shown]
    state_cell = fmt.cell(tdef, tdef.fields[state], record.get(state)) if state else None
    return {"table": tdef.name, "table_label": tdef.label(lang), "id": record["id"], "title": record_title(tdef, record),
            "version": record["_version"], "fields": [[label, text] for label, text in cells],
            "state": {"label": state_cell.text, "color": state_cell.color} if state_cell and not state_cell.blank else None,
            "url": url_for("ui.detail", slug=records.live.slug, table=tdef.name, record_id=record["id"]),
            "transitions": transitions(records, tdef, record, lang)}


def transitions(records, tdef: TableDef, record: dict, lang: str) -> list[dict]:
    return [{"name": t["name"], "label": label_text(t.get("label"), lang, t["name"]),
             "url": url_for("ui.transition", slug=records.live.slug, table=tdef.name, record_id=record["id"],
                            name=t["name"])}
            for t in available(records, tdef, record)]


# -- kiosk scans -------------------------------------------------------------------
def scan(records, tdef: TableDef, lookup_field: str | None, code: str):
    """(table, record) a scanned code names: the link's target by its code, or this table's record."""
    fdef = tdef.fields.get(lookup_field or "")
    if not code or fdef is None:
        return tdef, None
    if fdef["type"] == "link":
        target = records.live.appdef.tables[fdef["table"]]
        return target, find_by_code(records, target, code)
    return tdef, records.find(tdef.name, fdef["name"], code)


def find_by_code(records, tdef: TableDef, code: str) -> dict | None:
    """A record by its series name or title field (as scanned, then upper-cased); by id when it has neither."""
    keys = (["_name"] if tdef.naming else []) + ([tdef.title_field] if tdef.title_field else [])
    for key in keys:
        for candidate in dict.fromkeys((code, code.upper())):
            found = records.find(tdef.name, key, candidate)
            if found is not None:
                return found
    if not keys and code.isdigit():
        try:
            return records.get(tdef.name, int(code))
        except NotFound:
            return None
    return None
