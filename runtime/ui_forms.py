"""Forms: the layout a form definition describes, a record as the form's inputs
hold it, reading a submitted form back, and saving it through the record service
with every problem reported at once, next to its field (conditions: ui_conditions).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .definition import TableDef
from .fieldtypes import FieldError, LookupKey, field_type
from .labels import label_text, option_label, option_values
from .record_checks import Conflict, Issue, ValidationFailed
from .ui_conditions import condition_issues
from .ui_messages import translate
from .ui_values import format_duration, state_field

#: Field type → the widget it gets when the form does not name one.
TYPE_WIDGETS = {"text": "text", "long_text": "textarea", "integer": "number", "decimal": "number",
                "duration": "duration", "boolean": "checkbox", "date": "date", "datetime": "datetime",
                "select": "select", "multi_select": "multi", "link": "link", "user": "user",
                "barcode": "barcode", "attachment": "readonly", "formula": "readonly", "child_rows": "grid"}
#: Widgets a form may ask for, and the field types each one suits (None: every type).
WIDGET_TYPES = {"textarea": {"text", "long_text"}, "radio": {"select"}, "switch": {"boolean"},
                "checkbox": {"boolean"}, "scan_lookup": {"text", "barcode", "link"}, "barcode": {"text", "barcode"},
                "hidden": None, "readonly": None, "input": {"text", "long_text", "barcode"}}
WIDGET_NAMES = {"scan_lookup": "scan", "switch": "checkbox", "input": "text"}
_CHILD_KEY = re.compile(r"^(\w+)\[(\d+)\]\.(\w+)$")


@dataclass
class FormField:
    name: str
    fdef: dict
    widget: str
    label: str
    help: str = ""
    visible_if: str | None = None
    required_if: str | None = None
    read_only: bool = False
    required: bool = False
    scan: bool = False
    children: list["FormField"] = field(default_factory=list)
    options: list = field(default_factory=list)  # (value, label) of select fields

    @property
    def editable(self) -> bool:
        return not self.read_only


@dataclass
class Section:
    index: int
    label: str
    visible_if: str | None
    columns: list[list[FormField]]

    @property
    def fields(self) -> list[FormField]:
        return [f for column in self.columns for f in column]


@dataclass
class Layout:
    table: TableDef
    form: dict | None
    sections: list[Section]

    @property
    def fields(self) -> list[FormField]:
        return [f for s in self.sections for f in s.fields]

    @property
    def name(self) -> str | None:
        return self.form["name"] if self.form else None


def find_form(tdef: TableDef, name: str | None = None, kiosk: bool = False) -> dict | None:
    """The named form of this table, else its first (kiosk or ordinary) form, else None."""
    forms = [f for f in tdef.app.doc.get("forms", []) if f.get("table") == tdef.name]
    if name:
        return next((f for f in forms if f["name"] == name), None)
    return next((f for f in forms if bool(f.get("kiosk")) == kiosk), None)


def build_layout(tdef: TableDef, form: dict | None, lang: str, creating: bool, locked=frozenset()) -> Layout:
    """The form's sections (all fields in one when there is no form); ``locked`` fields are shown, not edited."""
    sections = form["sections"] if form else [{"columns": [_default_names(tdef, creating)]}]
    built = []
    for index, section in enumerate(sections):
        columns = [[f for f in (_form_field(tdef, item, lang, creating, form, locked) for item in column) if f]
                   for column in section["columns"]]
        built.append(Section(index, label_text(section.get("label"), lang), section.get("visible_if"), columns))
    return Layout(tdef, form, built)


def _default_names(tdef: TableDef, creating: bool) -> list[str]:
    hidden = {state_field(tdef)} if creating else set()
    return [name for name, fdef in tdef.fields.items()
            if name not in hidden and not (creating and fdef["type"] == "formula")]


def _form_field(tdef, item, lang, creating, form, locked) -> FormField | None:
    spec = {"field": item} if isinstance(item, str) else item
    fdef = tdef.fields.get(spec["field"])
    if fdef is None:
        return None
    name = fdef["name"]
    if creating and name == state_field(tdef):
        return None
    widget = _widget(fdef, spec.get("widget"))
    read_only = bool(spec.get("read_only") or fdef.get("read_only") or fdef["type"] in ("formula", "attachment")
                     or name == state_field(tdef) or widget == "readonly" or name in locked)
    scan = widget in ("scan", "barcode") or bool(form and form.get("kiosk") and form.get("lookup_field") == name)
    item_field = FormField(name, fdef, "readonly" if read_only and widget != "hidden" else widget,
                           label_text(spec.get("label") or fdef.get("label"), lang, name),
                           label_text(spec.get("help") or fdef.get("help"), lang),
                           spec.get("visible_if"), spec.get("required_if"), read_only,
                           bool(fdef.get("required")), scan)
    if fdef["type"] == "child_rows":
        item_field.children = _child_fields(tdef.app.tables[fdef["table"]], lang)
    item_field.options = _options(fdef, lang)
    return item_field


def _options(fdef: dict, lang: str) -> list[tuple[str, str]]:
    return [(value, option_label(fdef, value, lang)) for value in option_values(fdef)]


def _widget(fdef: dict, asked: str | None) -> str:
    default = TYPE_WIDGETS[fdef["type"]]
    if not asked or asked == "default" or asked not in WIDGET_TYPES:
        return default
    suits = WIDGET_TYPES[asked]
    if suits is not None and fdef["type"] not in suits:
        return default
    if asked in ("scan_lookup", "barcode") and fdef["type"] == "link":
        return "scan"
    return WIDGET_NAMES.get(asked, asked)


def _child_fields(child: TableDef, lang: str) -> list[FormField]:
    fields = []
    for name, fdef in child.fields.items():
        if fdef["type"] in ("child_rows", "formula", "attachment") or fdef.get("read_only"):
            continue
        widget = {"link": "text", "user": "text", "multi": "text", "textarea": "text"}.get(
            TYPE_WIDGETS[fdef["type"]], TYPE_WIDGETS[fdef["type"]])
        fields.append(FormField(name, fdef, widget, label_text(fdef.get("label"), lang, name),
                                required=bool(fdef.get("required")), options=_options(fdef, lang)))
    return fields


# -- values for the inputs ----------------------------------------------------
def input_values(layout: Layout, record: dict, link_titles) -> dict:
    """A stored record as the form's inputs hold it (the same shape ``parse`` gives back)."""
    raw = {}
    for item in layout.fields:
        raw[item.name] = _input_value(item, record.get(item.name), link_titles)
    return raw


def _input_value(item: FormField, value, link_titles):
    kind = item.fdef["type"]
    if item.widget == "grid":
        return [{c.name: _input_value(c, row.get(c.name), link_titles) for c in item.children} for row in value or []]
    if value is None:
        return {"id": "", "text": ""} if item.widget in ("link", "scan") and kind == "link" else (
            [] if item.widget == "multi" else "")
    if kind == "link" and item.widget in ("link", "scan"):
        return {"id": str(value), "text": link_titles(item.fdef["table"], value)}
    if kind == "boolean":
        return bool(value)
    if kind == "multi_select":
        return list(value) if item.widget == "multi" else ", ".join(value)
    if kind == "datetime":
        return value.isoformat(timespec="seconds")
    if kind == "duration":
        return format_duration(value)
    if kind == "link" or kind == "user":
        return str(value)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def initial_record(tdef: TableDef, args) -> dict:
    """A new record's starting values: the fields' defaults, then ``?field=value`` from the URL."""
    record = {}
    for name, fdef in tdef.fields.items():
        given = args.get(name) if name in args else fdef.get("default")
        if given is None or not field_type(fdef).stored:
            continue
        try:
            value = field_type(fdef).coerce(fdef, given)
        except FieldError:
            continue
        record[name] = None if isinstance(value, LookupKey) else value
    return record


# -- reading a submitted form -------------------------------------------------
@dataclass
class Submission:
    raw: dict  # what the inputs held, to show again
    values: dict  # what goes to the record service


def parse(layout: Layout, form) -> Submission:
    raw, values = {}, {}
    for item in layout.fields:
        if item.read_only:
            continue
        raw[item.name], value = _parse_one(item, form)
        values[item.name] = value
    return Submission(raw, values)


def _parse_one(item: FormField, form):
    name = item.name
    if item.widget == "checkbox":
        return name in form, name in form
    if item.widget == "multi":
        chosen = form.getlist(name)
        return chosen, chosen or None
    if item.widget == "grid":
        rows = _parse_rows(item, form)
        return rows, [dict(row) for row in rows]
    if item.fdef["type"] == "link" and item.widget in ("link", "scan"):
        picked, text = form.get(name, "").strip(), form.get(f"{name}__text", "")
        return {"id": picked, "text": text}, picked or text
    text = form.get(name, "")
    return text, text


def _parse_rows(item: FormField, form) -> list[dict]:
    """Grid inputs are named ``steps[3].step_no``; rows come back in order, blank rows dropped."""
    rows: dict[int, dict] = {}
    children = {c.name: c for c in item.children}
    for key in form:
        match = _CHILD_KEY.match(key)
        if match and match.group(1) == item.name and match.group(3) in children:
            child = children[match.group(3)]
            value = (key in form) if child.widget == "checkbox" else form.get(key, "")
            rows.setdefault(int(match.group(2)), {})[child.name] = value
    ordered = [rows[i] for i in sorted(rows)]
    return [{c: row.get(c, False if children[c].widget == "checkbox" else "") for c in children}
            for row in ordered if any(v not in ("", False) for v in row.values())]


# -- saving -------------------------------------------------------------------
@dataclass
class Outcome:
    record: dict | None
    raw: dict
    errors: dict = field(default_factory=dict)  # input name → messages
    general: list = field(default_factory=list)  # messages not tied to a field on the form


def submit(records, layout: Layout, form, before: dict | None = None, extra: dict | None = None) -> Outcome:
    """Create (before=None) or update a record from a submitted form; every problem at once."""
    submission = parse(layout, form)
    values = dict(submission.values)
    hidden, issues = condition_issues(records, layout, values, before)
    for name in hidden:
        values.pop(name, None)
    values.update(extra or {})
    try:
        if not issues:
            return Outcome(_write(records, layout.table, values, before, form), submission.raw)
        issues += _service_issues(records, layout.table, values, before, {i.field for i in issues})
    except ValidationFailed as failed:
        issues += failed.issues
    except Conflict as err:
        return Outcome(None, submission.raw, general=[err.message])
    errors, general = issue_messages(layout, issues)
    return Outcome(None, submission.raw, errors, general)


def _write(records, tdef: TableDef, values: dict, before: dict | None, form) -> dict:
    if before is None:
        return records.create(tdef.name, values, client_id=form.get("_client_id") or None)
    try:
        version = int(form.get("_version", ""))
    except ValueError:
        raise ValidationFailed([Issue("_version", "is required")]) from None
    return records.update(tdef.name, before["id"], values, version=version)


def _service_issues(records, tdef: TableDef, values: dict, before: dict | None, known: set) -> list[Issue]:
    """The service's own verdict on values the form already refused, to show everything at once."""
    records.table(tdef.name, "update" if before else "create")
    with records.database.read() as conn:
        try:
            records.prepare(conn, tdef, values, before)
        except ValidationFailed as failed:
            return [i for i in failed.issues if i.field not in known]
    return []


def issue_messages(layout: Layout, issues: list[Issue]) -> tuple[dict, list]:
    """Issues → {input name: [message]} for fields on the form, the rest as general messages."""
    on_form = {f.name: f for f in layout.fields if f.editable}
    errors, general = {}, []
    for issue in issues:
        top = re.split(r"[\[.]", issue.field or "", maxsplit=1)[0]
        message = translate(issue.message)
        if top in on_form:
            errors.setdefault(issue.field, []).append(message)
        elif top in layout.table.fields:
            general.append(f"{label_text(layout.table.fields[top].get('label'), _lang(), top)}: {message}")
        else:
            general.append(message)
    return errors, general


def _lang() -> str:
    from .auth import user_language
    return user_language()
