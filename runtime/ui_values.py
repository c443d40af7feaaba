"""How record values read on screen: one ``Cell`` per value, in the user's language.

Links show the linked record's title (loaded in one query per target table and
page, through the record service, so row rules still apply), users their
display name, select options and workflow states their label and colour.
Templates only print cells; every text goes through Jinja autoescape there.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _

from .definition import TableDef
from .labels import label_text, option_label
from .listing import Filter, ListQuery
from .models import User
from .records import Forbidden, NotFound

NUMBER_TYPES = ("integer", "decimal", "duration")
_COLOR = re.compile(r"#[0-9a-fA-F]{3,8}")


@dataclass(frozen=True)
class Cell:
    """One value as shown: text, an optional link target and an optional colour."""

    text: str = ""
    href: str | None = None
    color: str | None = None
    multiline: bool = False

    def __post_init__(self):
        if self.color is not None and not _COLOR.fullmatch(self.color):
            object.__setattr__(self, "color", None)  # colours go into a style attribute: nothing else may

    @property
    def blank(self) -> bool:
        return self.text == ""


def record_title(tdef: TableDef, row: dict) -> str:
    """What a record is called on screen: its title field, its series name or its id."""
    title = row.get(tdef.title_field) if tdef.title_field else None
    if title not in (None, ""):
        return str(title)
    return row.get("_name") or f"#{row.get('id')}"


def is_number(fdef: dict) -> bool:
    kind = fdef["type"] if fdef["type"] != "formula" else fdef.get("result_type", "text")
    return kind in NUMBER_TYPES


def format_duration(seconds) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def format_number(fdef: dict, value) -> str:
    kind = fdef["type"] if fdef["type"] != "formula" else fdef.get("result_type", "text")
    if kind == "duration":
        return format_duration(value)
    if kind == "integer" or not isinstance(value, (Decimal, float)):
        text = f"{int(value):,}"  # sums of integer columns come back as Decimal on PostgreSQL
    else:
        text = f"{Decimal(str(value)):,.{fdef.get('scale', 2)}f}"
    return f"{text} {fdef['unit']}" if fdef.get("unit") else text


def state_labels(tdef: TableDef, lang: str) -> dict[str, tuple[str, str | None]]:
    """Workflow state name → (label, colour), for the table's state field."""
    flow = tdef.workflow()
    if flow is None:
        return {}
    return {s["name"]: (label_text(s.get("label"), lang, s["name"]), s.get("color")) for s in flow["states"]}


def state_field(tdef: TableDef) -> str | None:
    flow = tdef.workflow()
    return flow.get("field", "state") if flow else None


def option_color(fdef: dict, value) -> str | None:
    for opt in fdef.get("options", []):
        if isinstance(opt, dict) and opt["value"] == value:
            return opt.get("color")
    return None


class Formatter:
    """Formats values of one app for one user; call ``load`` before ``cell`` for links."""

    def __init__(self, records, lang: str):
        self.records, self.lang = records, lang
        self.titles: dict[tuple[str, int], str] = {}
        self.readable: dict[str, bool] = {}
        self.user_names: dict[int, str] = {}

    # -- batch loading -----------------------------------------------------
    def load(self, tdef: TableDef, rows: list[dict]) -> "Formatter":
        """Fetch the titles of every record and user these rows link to."""
        for fdef in tdef.fields.values():
            if fdef["type"] in ("link", "user"):
                ids = {r.get(fdef["name"]) for r in rows} - {None}
                if ids and fdef["type"] == "link":
                    self.load_titles(fdef["table"], ids)
                elif ids:
                    self.load_users(ids)
            elif fdef["type"] == "child_rows":
                child = self.records.live.appdef.tables[fdef["table"]]
                self.load(child, [c for r in rows for c in (r.get(fdef["name"]) or [])])
        return self

    def load_titles(self, table: str, ids) -> None:
        wanted = sorted({int(i) for i in ids if isinstance(i, int)} - {i for t, i in self.titles if t == table})
        if not wanted:
            return
        target = self.records.live.appdef.tables[table]
        try:
            page = self.records.list(table, ListQuery(filters=[Filter("id", "in", wanted)], per_page=len(wanted),
                                                      with_total=False))
        except (Forbidden, NotFound):
            self.readable[table] = False
            return
        self.readable[table] = True
        for row in page.rows:
            self.titles[(table, row["id"])] = record_title(target, row)

    def load_users(self, ids) -> None:
        wanted = [i for i in ids if isinstance(i, int) and i not in self.user_names]
        if not wanted:
            return
        with self.records.database.read() as conn:
            rows = conn.execute(sa.select(User.id, User.username, User.display_name).where(User.id.in_(wanted)))
            self.user_names.update({uid: display or name for uid, name, display in rows})

    # -- one value ---------------------------------------------------------
    def cell(self, tdef: TableDef, fdef: dict, value) -> Cell:
        if value is None or value == [] or value == "":
            return Cell()
        if fdef["name"] == state_field(tdef) and fdef["type"] == "select":
            label, color = state_labels(tdef, self.lang).get(value, (value, None))
            return Cell(label, color=color or "#6c757d")
        return self.plain(fdef, value)

    def plain(self, fdef: dict, value) -> Cell:
        """A value by its field type alone (no workflow state colours)."""
        if value is None or value == [] or value == "":
            return Cell()
        handler = getattr(self, f"_{fdef['type']}", None)
        return handler(fdef, value) if handler else Cell(str(value))

    def title(self, table: str, record_id) -> str:
        return self.titles.get((table, record_id), f"#{record_id}")

    def _link(self, fdef, value):
        known = (fdef["table"], value) in self.titles
        href = url_for("ui.detail", slug=self.records.live.slug, table=fdef["table"], record_id=value) if known else None
        return Cell(self.title(fdef["table"], value), href)

    def _user(self, fdef, value):
        return Cell(self.user_names.get(value, f"#{value}"))

    def _select(self, fdef, value):
        return Cell(option_label(fdef, value, self.lang), color=option_color(fdef, value))

    def _multi_select(self, fdef, value):
        return Cell(", ".join(option_label(fdef, v, self.lang) for v in value))

    def _boolean(self, fdef, value):
        return Cell(_("Yes") if value else _("No"))

    def _date(self, fdef, value):
        return Cell(value.isoformat() if isinstance(value, dt.date) else str(value))

    def _datetime(self, fdef, value):
        return Cell(value.strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else str(value))

    def _number(self, fdef, value):
        return Cell(format_number(fdef, value))

    _integer = _decimal = _duration = _number

    def _long_text(self, fdef, value):
        return Cell(str(value), multiline=True)

    def _attachment(self, fdef, value):
        return Cell(str(value.get("name") or value.get("key")) if isinstance(value, dict) else str(value))

    def _child_rows(self, fdef, value):
        return Cell(_("%(count)s rows", count=len(value)))

    def _formula(self, fdef, value):
        return self.plain({**fdef, "type": fdef.get("result_type", "text")}, value)


def user_options(database) -> list[tuple[int, str]]:
    """(id, name) of active users, for user fields."""
    with database.read() as conn:
        rows = conn.execute(sa.select(User.id, User.username, User.display_name)
                            .where(User.is_active.is_(True)).order_by(User.username))
        return [(uid, display or name) for uid, name, display in rows]
