"""The list view's columns, filters and query, read from the URL.

``?q=`` searches, ``?sort=due_date`` / ``?sort=-due_date`` sorts, ``?page=`` pages,
``?f_line=line_1`` filters a field by equality and ``?f_due_date_from=`` /
``?f_due_date_to=`` bound a date range. Everything becomes one ``ListQuery``
for ``Records.list``; unknown names in the URL are ignored, not errors.
"""
from __future__ import annotations

from dataclasses import dataclass

from .definition import TableDef
from .fieldtypes import field_type
from .labels import label_text, option_label, option_values
from .listing import Filter, ListQuery
from .ui_values import is_number, state_field, state_labels

PER_PAGE = 50
DEFAULT_COLUMNS = 6
FILTER_TYPES = ("select", "date")


@dataclass
class Column:
    name: str
    fdef: dict
    label: str
    sortable: bool
    number: bool


def columns(tdef: TableDef, lang: str) -> list[Column]:
    names = [n for n in tdef.doc.get("list_fields", []) if n in tdef.fields]
    if not names:
        names = [n for n, f in tdef.fields.items() if f["type"] not in ("child_rows", "long_text")][:DEFAULT_COLUMNS]
    return [Column(n, tdef.fields[n], label_text(tdef.fields[n].get("label"), lang, n),
                   field_type(tdef.fields[n]).stored, is_number(tdef.fields[n]) and field_type(tdef.fields[n]).stored)
            for n in names]


def list_query(tdef: TableDef, args, shown: list[Column]) -> ListQuery:
    return ListQuery(filters=filters(tdef, args), search=(args.get("q") or "").strip() or None,
                     sort=sort_order(tdef, args.get("sort", "")), page=_page(args.get("page")),
                     per_page=PER_PAGE, totals=[c.name for c in shown if c.number])


def sort_order(tdef: TableDef, text: str) -> list[tuple[str, bool]]:
    name, descending = text.lstrip("-"), text.startswith("-")
    if name in ("_name", "_created_at", "_updated_at") or (
            name in tdef.fields and field_type(tdef.fields[name]).stored):
        return [(name, descending)]
    return []


def _page(text) -> int:
    try:
        return max(1, int(text or 1))
    except ValueError:
        return 1


def filters(tdef: TableDef, args) -> list[Filter]:
    found = []
    for key, value in args.items():
        if not key.startswith("f_") or value in ("", None):
            continue
        name, op = _filter_key(tdef, key[2:])
        if name is not None:
            found.append(Filter(name, op, value))
    return found


def _filter_key(tdef: TableDef, key: str) -> tuple[str | None, str]:
    if key in tdef.fields and field_type(tdef.fields[key]).stored:
        return key, "eq"
    for suffix, op in (("_from", "ge"), ("_to", "le")):
        name = key[: -len(suffix)]
        if key.endswith(suffix) and name in tdef.fields and tdef.fields[name]["type"] in ("date", "datetime",
                                                                                           "integer", "decimal"):
            return name, op
    return None, "eq"


@dataclass
class FilterControl:
    name: str
    label: str
    kind: str  # "select" or "range"
    options: list  # (value, label) pairs for selects
    value: str = ""
    low: str = ""
    high: str = ""
    input_type: str = "date"


def filter_controls(tdef: TableDef, lang: str, args) -> list[FilterControl]:
    """A select per select field, a from/to pair per date field."""
    controls = []
    for name, fdef in tdef.fields.items():
        if fdef["type"] not in FILTER_TYPES:
            continue
        label = label_text(fdef.get("label"), lang, name)
        if fdef["type"] == "select":
            controls.append(FilterControl(name, label, "select", _options(tdef, fdef, lang), args.get(f"f_{name}", "")))
        else:
            controls.append(FilterControl(name, label, "range", [], low=args.get(f"f_{name}_from", ""),
                                          high=args.get(f"f_{name}_to", ""),
                                          input_type="date" if fdef["type"] == "date" else "datetime-local"))
    return controls


def _options(tdef: TableDef, fdef: dict, lang: str) -> list[tuple[str, str]]:
    if fdef["name"] == state_field(tdef):
        states = state_labels(tdef, lang)
        return [(v, states.get(v, (v, None))[0]) for v in option_values(fdef)]
    return [(v, option_label(fdef, v, lang)) for v in option_values(fdef)]


def link_filters(tdef: TableDef, args) -> dict:
    """The ``f_`` arguments that filter on a link field (shown as 'linked to …' chips)."""
    return {k[2:]: v for k, v in args.items() if k.startswith("f_") and k[2:] in tdef.fields
            and tdef.fields[k[2:]]["type"] == "link" and v}
