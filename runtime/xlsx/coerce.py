"""Spreadsheet-isms → values the field types accept, before ``bulk_write``.

This is not a validator: the record service's field rules still decide every
value. It only undoes what spreadsheets and people do to values — dates typed
as ``2026/11/03`` or ``2026年11月3日``, Excel serial numbers, ``1,200`` and
``5 kg``, 是/否 and ✓/✗, whole numbers stored as floats, labels typed instead
of option values — and turns formula errors into a ``BadCell`` carrying the
reason. A ``BadCell`` is no value any field type accepts, so ``bulk_write``
refuses it as an ordinary cell error; the importer then reports our reason.

``normaliser(field)`` returns one callable per column; each has a fast path
for the value type calamine already gives.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

from ..labels import option_values
from .read import BadCell, cell_text

ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                         "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"})
DATE_FORMATS = "2026-11-03, 2026/11/03, 3.11.2026 or 2026年11月3日"
_TIME = r"(?:[ T]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?)?"
_YMD = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME)
_DMY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})" + _TIME)
_CHINESE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?"
                      r"(?:\s*(\d{1,2})\s*[:：时点]\s*(\d{1,2})\s*分?(?:\s*(\d{1,2})\s*秒?)?)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:[, '’]\d{3})+(?:\.\d+)?")
_MISGROUPED = re.compile(r"[+-]?\d+(?:,\d+)+(?:\.\d+)?")  # '1,5': a decimal comma, not thousands
_WITH_UNIT = re.compile(r"([+-]?[\d.,' ’]*\d)\s*([^\d\s.,+-].*)")
_SERIAL_MAX = 2958465  # 9999-12-31
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_SYMBOLS = {"√": True, "✔": True, "☑": True, "×": False, "✗": False, "✘": False, "☐": False}


def error_cell(value):
    """A BadCell for text that is an Excel error code (a pasted '#N/A'), else None."""
    if value in ERROR_CODES:
        return BadCell(value, f"the cell shows the formula error {value}; fix the formula or type the value")
    return None


# -- parsing helpers (also used by type inference) ---------------------------

def parse_text_date(text: str):
    """A date or datetime typed as text in one of the accepted forms, None if it is none of them,
    or a BadCell when it has a date's shape but is no real date (2026/02/30)."""
    text = unicodedata.normalize("NFKC", text).strip()
    for pattern, order in ((_YMD, (0, 1, 2)), (_DMY, (2, 1, 0)), (_CHINESE, (0, 1, 2))):
        match = pattern.fullmatch(text)
        if match:
            parts = match.groups()
            year, month, day = (int(parts[i]) for i in order)
            try:
                if parts[3] is None:
                    return dt.date(year, month, day)
                return dt.datetime(year, month, day, int(parts[3]), int(parts[4]), int(parts[5] or 0))
            except ValueError:
                return BadCell(text, f"'{text}' is not a real date")
    return None


def from_serial(number: float, with_time: bool):
    """Excel's serial day number (1900 system) → date/datetime, or None outside Excel's range."""
    if not 1 <= number <= _SERIAL_MAX:
        return None
    moment = _EXCEL_EPOCH + dt.timedelta(days=number)
    return moment.replace(microsecond=0) if with_time else moment.date()


def parse_number_text(text: str, unit: str | None):
    """'1,200' → '1200'; '5 kg' → '5' when the field's unit is kg; a BadCell for another unit.
    Text that is no number comes back unchanged for the field type to refuse."""
    text = unicodedata.normalize("NFKC", text).strip()
    if _GROUPED.fullmatch(text):
        return re.sub(r"[, '’]", "", text)
    if _MISGROUPED.fullmatch(text):
        return BadCell(text, f"'{text}' is ambiguous: write 1.5 for a decimal, 1,500 for thousands")
    match = _WITH_UNIT.fullmatch(text)
    if match:
        number, given = match.group(1), match.group(2).strip()
        if unit and given.casefold() == unit.casefold():
            return re.sub(r"[, '’]", "", number)
        if unit:
            return BadCell(text, f"'{text}' is in {given}, but this column takes {unit}")
    return text


# -- one normaliser per field type --------------------------------------------

def normaliser(field: dict):
    """The callable that prepares one column's cells for ``field``."""
    factory = NORMALISERS.get(field["type"])
    if factory is None:
        raise ValueError(f"fields of type {field['type']} cannot be imported from a spreadsheet")
    return factory(field)


def _text(field):
    def convert(value):
        kind = type(value)
        if kind is str:
            return error_cell(value) or value if value[:1] == "#" else value
        if kind is BadCell or value is None:
            return value
        return cell_text(value)
    return convert


def _number(field, whole: bool):
    unit = field.get("unit")

    def convert(value):
        kind = type(value)
        if kind is int:
            return value
        if kind is float:
            if whole and value.is_integer():
                return int(value)
            return Decimal(f"{value:.15g}") if not whole else value
        if kind is str:
            return error_cell(value) or parse_number_text(value, unit)
        return value
    return convert


def _integer(field):
    return _number(field, whole=True)


def _decimal(field):
    return _number(field, whole=False)


def _date(field, with_time=False):
    def convert(value):
        kind = type(value)
        if kind is dt.date:
            return dt.datetime.combine(value, dt.time()) if with_time else value
        if kind is dt.datetime:
            return value if with_time else value.date()
        if kind is str:
            parsed = error_cell(value) or parse_text_date(value)
            if parsed is None:
                return BadCell(value, f"'{value.strip()[:40]}' is not a date; use {DATE_FORMATS}")
            if isinstance(parsed, dt.datetime) and not with_time:
                return parsed.date()
            return parsed
        if kind in (int, float):
            return _date_number(value, with_time)
        return value
    return convert


def _date_number(value, with_time):
    if isinstance(value, int) and 19000101 <= value <= 21001231:  # 20261103 typed as a number
        try:
            day = dt.date(value // 10000, value // 100 % 100, value % 100)
            return dt.datetime.combine(day, dt.time()) if with_time else day
        except ValueError:
            pass
    parsed = from_serial(float(value), with_time)
    if parsed is None:
        return BadCell(value, f"{cell_text(value)} is not a date; use {DATE_FORMATS}")
    return parsed


def _datetime(field):
    return _date(field, with_time=True)


def _boolean(field):
    def convert(value):
        kind = type(value)
        if kind is bool:
            return value
        if kind is float and value in (0.0, 1.0):
            return bool(value)
        if kind is str:
            text = value.strip()
            return _SYMBOLS.get(text, error_cell(text) or text)
        return value
    return convert


def _duration(field):
    def convert(value):
        if isinstance(value, dt.timedelta):
            return int(value.total_seconds())
        if isinstance(value, dt.time):
            return value.hour * 3600 + value.minute * 60 + value.second
        if type(value) is float:
            return int(value) if value.is_integer() else Decimal(f"{value:.15g}")
        if type(value) is str:
            return error_cell(value) or value
        return value
    return convert


def option_lookup(field) -> dict:
    """Option values and their labels (any language, any case) → the option value."""
    lookup = {}
    for option in field.get("options", []):
        value = option if isinstance(option, str) else option["value"]
        labels = [] if isinstance(option, str) else option.get("label") or []
        labels = [labels] if isinstance(labels, str) else list(labels.values()) if isinstance(labels, dict) else labels
        for text in (*labels, value):
            lookup.setdefault(text.strip().casefold(), value)
    for value in option_values(field):
        lookup[value] = value
    return lookup


def _select(field):
    lookup = option_lookup(field)

    def convert(value):
        if type(value) is str:
            found = lookup.get(value)
            if found is not None:
                return found
            return error_cell(value) or lookup.get(value.strip().casefold(), value)
        if value is None or type(value) is BadCell:
            return value
        text = cell_text(value)
        return lookup.get(text.casefold(), text)
    return convert


def _multi_select(field):
    single = _select(field)

    def convert(value):
        if type(value) is not str:
            value = single(value)
            return [value] if type(value) is str else value
        parts = [p.strip() for p in re.split(r"[,;，；、\n]", value) if p.strip()]
        return [single(p) for p in parts] or None
    return convert


def _code(field):
    """Links and users are typed as codes (product number, username): text for the importer to resolve."""
    def convert(value):
        kind = type(value)
        if kind is str:
            return error_cell(value) or value.strip() or None
        if kind is BadCell or value is None:
            return value
        return cell_text(value)
    return convert


NORMALISERS = {
    "text": _text, "long_text": _text, "barcode": _text,
    "integer": _integer, "decimal": _decimal, "duration": _duration,
    "date": _date, "datetime": _datetime, "boolean": _boolean,
    "select": _select, "multi_select": _multi_select,
    "link": _code, "user": _code,
}
#: Field types a spreadsheet column never fills: computed, rows of another table, or uploaded files
#: (a typed file key could point at someone else's upload).
NOT_IMPORTABLE = frozenset({"formula", "child_rows", "attachment"})
