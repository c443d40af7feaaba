"""Field types: one small class per type, found by name in ``FIELD_TYPES``.

Everything that depends on a field's type lives here — the SQL column, how a
submitted value is coerced and checked, how it goes out as JSON, what the API's
JSON Schema accepts, which form widget renders it and which expression type it
has — so adding a type is adding one class, not editing ``if type == ...``
chains across the code base.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from .labels import option_values

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MAX_TEXT = 255
MAX_LONG_TEXT = 100_000
_TRUE = {"true", "1", "yes", "y", "on", "是", "对", "✓", "x"}
_FALSE = {"false", "0", "no", "n", "off", "否", "不", ""}
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|min|s|sec)\b", re.I)


class FieldError(ValueError):
    """A value a field cannot hold; the message is shown next to the field."""


class FieldType:
    """Base class. ``field`` arguments are field definition dicts."""

    name = ""
    expr_type = "any"
    widget = "input"
    stored = True
    computed = False

    def column_type(self, field):
        return sa.Text()

    def coerce(self, field, value):
        """Turn a submitted value into the stored Python value or raise FieldError."""
        raise NotImplementedError

    def check_range(self, field, value):
        return value

    #: Python types whose values need no conversion (exact type match), for the bulk fast path.
    ready_types: tuple = ()

    def converter(self, field):
        """One callable doing coerce + range check: the bulk path calls it per cell."""
        coerce, ready = self.coerce, self.ready_types
        if not ready:
            return lambda value: coerce(field, value)
        return lambda value: value if type(value) in ready else coerce(field, value)

    def to_json(self, field, value):
        return value

    def json_schema(self, field) -> dict:
        return {"type": "string"}

    def definition_problems(self, field) -> list[tuple[str, str]]:
        """(sub-path, message) pairs for options that make no sense for this type."""
        return []

    def storage_key(self, field):
        """Two definitions with equal keys store values the same way (no migration needed)."""
        return type(self.column_type(field)).__name__


class TextType(FieldType):
    name = "text"
    expr_type = "text"
    limit = MAX_TEXT

    def coerce(self, field, value):
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal, float)):
            raise FieldError("must be text")
        text = str(value) if not isinstance(value, str) else value
        text = text.strip() if self.name != "long_text" else text
        if text == "":
            return None
        if "\x00" in text:
            raise FieldError("contains a NUL character; remove it")
        limit = field.get("max_length", self.limit)
        if len(text) > limit:
            raise FieldError(f"is too long ({len(text)} characters, at most {limit})")
        pattern = field.get("pattern")
        if pattern and not re.fullmatch(pattern, text):
            raise FieldError(f"'{text[:40]}' does not have the expected format ({pattern})")
        return text

    def json_schema(self, field):
        return {"type": ["string", "null"], "maxLength": field.get("max_length", self.limit)}

    def converter(self, field):
        limit, slow = field.get("max_length", self.limit), self.coerce
        if field.get("pattern") or self.name == "long_text":
            return lambda value: slow(field, value)

        def convert(value):
            if type(value) is str:
                text = value.strip()
                if text and len(text) <= limit:
                    return text
            return slow(field, value)
        return convert

    def definition_problems(self, field):
        pattern = field.get("pattern")
        if pattern:
            try:
                re.compile(pattern)
            except re.error as err:
                return [("pattern", f"is not a valid regular expression: {err}")]
        return []


class LongTextType(TextType):
    name = "long_text"
    widget = "textarea"
    limit = MAX_LONG_TEXT


class BarcodeType(TextType):
    """Scanners type the code and Enter; stray CR/LF and spaces are stripped."""

    name = "barcode"
    widget = "barcode"


class NumberType(FieldType):
    """Shared min/max handling for integer, decimal and duration."""

    expr_type = "number"
    widget = "number"

    def check_range(self, field, value):
        if value is None:
            return value
        low, high = field.get("min"), field.get("max")
        if low is not None and value < Decimal(str(low)):
            raise FieldError(f"must be at least {low}")
        if high is not None and value > Decimal(str(high)):
            raise FieldError(f"must be at most {high}")
        return value

    def converter(self, field):
        """Number types check their range inside ``coerce`` already."""
        if field.get("min") is None and field.get("max") is None:
            return FieldType.converter(self, field)
        return lambda value: self.coerce(field, value)

    def definition_problems(self, field):
        low, high = field.get("min"), field.get("max")
        if low is not None and high is not None and low > high:
            return [("min", f"min ({low}) is greater than max ({high})")]
        return []


def _number(value, what):
    if isinstance(value, bool):
        raise FieldError(f"must be {what}, not true/false")
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise FieldError(f"must be {what}, not {value}")
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        if "," in text:
            if not _THOUSANDS.fullmatch(text):
                raise FieldError(f"'{value[:40]}' is ambiguous: write decimals with a dot and thousands as 1,200")
            text = text.replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise FieldError(f"'{value[:40]}' is not {what}") from None
        if not number.is_finite():
            raise FieldError(f"'{value[:40]}' is not {what}")
        return number
    raise FieldError(f"must be {what}")


class IntegerType(NumberType):
    name = "integer"
    ready_types = (int,)

    def column_type(self, field):
        return sa.BigInteger()

    def coerce(self, field, value):
        if type(value) is int:
            return self.check_range(field, value)
        number = _number(value, "a whole number")
        if number is None:
            return None
        if number != number.to_integral_value():
            raise FieldError(f"must be a whole number, got {value}")
        if abs(number) >= 2**63:
            raise FieldError("is too large")
        return self.check_range(field, int(number))

    def json_schema(self, field):
        return {"type": ["integer", "null"]}


class DecimalType(NumberType):
    name = "decimal"

    def column_type(self, field):
        return sa.Numeric(18, field.get("scale", 2), asdecimal=True)

    def coerce(self, field, value):
        number = _number(value, "a number")
        if number is None:
            return None
        scale = field.get("scale", 2)
        if number.adjusted() >= 18 - scale:
            raise FieldError("is too large")
        if -number.as_tuple().exponent > scale and number != number.quantize(Decimal(1).scaleb(-scale)):
            raise FieldError(f"has more than {scale} decimal places")
        if abs(number) >= Decimal(10) ** (18 - scale):
            raise FieldError("is too large")
        return self.check_range(field, number.quantize(Decimal(1).scaleb(-scale)))

    def to_json(self, field, value):
        if value is None:
            return None
        return float(value) if field.get("scale", 2) else int(value)

    def converter(self, field):
        """Bulk fast path: a Decimal that already fits the scale and size needs no work."""
        if field.get("min") is not None or field.get("max") is not None:
            return lambda value: self.coerce(field, value)
        scale, limit, coerce = field.get("scale", 2), 18 - field.get("scale", 2), self.coerce

        def convert(value):
            if type(value) is Decimal and value.is_finite() and -value.as_tuple().exponent <= scale \
                    and value.adjusted() < limit:
                return value
            return coerce(field, value)
        return convert

    def json_schema(self, field):
        return {"type": ["number", "string", "null"]}

    def storage_key(self, field):
        return f"Numeric({field.get('scale', 2)})"


class DurationType(NumberType):
    """Stored as whole seconds; typed as 90, '1:30:00', '1h 30m' or 'PT1H30M'."""

    name = "duration"

    def column_type(self, field):
        return sa.BigInteger()

    def coerce(self, field, value):
        if isinstance(value, str):
            value = _parse_duration(value)
            if value is None:
                return None
        number = _number(value, "a duration in seconds")
        if number is None:
            return None
        if number < 0:
            raise FieldError("must not be negative")
        if number >= 2**63:
            raise FieldError("is too long a duration")
        return self.check_range(field, int(number.to_integral_value()))

    def json_schema(self, field):
        return {"type": ["integer", "string", "null"]}


def _parse_duration(text: str):
    text = text.strip()
    if text == "":
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return Decimal(text)
    if re.fullmatch(r"\d+:\d{1,2}(:\d{1,2})?", text):
        parts = [int(p) for p in text.split(":")] + [0]
        hours, minutes, seconds = parts[0], parts[1], parts[2] if len(parts) > 3 else 0
        return hours * 3600 + minutes * 60 + seconds
    iso = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", text.upper())
    if iso and text.upper() not in ("P", "PT"):
        days, hours, minutes, seconds = (int(g or 0) for g in iso.groups())
        return ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    parts = _DURATION_PART.findall(text)
    if parts and _DURATION_PART.sub("", text).strip() == "":
        scale = {"d": 86400, "h": 3600, "m": 60, "min": 60, "s": 1, "sec": 1}
        return sum(Decimal(num) * scale[unit.lower()] for num, unit in parts)
    raise FieldError(f"'{text[:40]}' is not a duration (try 90, 1:30:00 or 1h 30m)")


class BooleanType(FieldType):
    name = "boolean"
    ready_types = (bool,)
    expr_type = "boolean"
    widget = "checkbox"

    def column_type(self, field):
        return sa.Boolean(create_constraint=False)

    def coerce(self, field, value):
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise FieldError(f"'{str(value)[:40]}' is not yes/no")

    def json_schema(self, field):
        return {"type": ["boolean", "string", "integer", "null"]}


class DateType(FieldType):
    name = "date"
    ready_types = (dt.date,)
    expr_type = "date"
    widget = "date"

    def column_type(self, field):
        return sa.Date()

    def coerce(self, field, value):
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            text = value.strip()
            if text == "":
                return None
            try:
                return dt.date.fromisoformat(text[:10]) if len(text) <= 10 else dt.datetime.fromisoformat(text).date()
            except ValueError:
                raise FieldError(f"'{text[:40]}' is not a date (use YYYY-MM-DD)") from None
        raise FieldError("must be a date (YYYY-MM-DD)")

    def to_json(self, field, value):
        return value.isoformat() if value is not None else None

    def json_schema(self, field):
        return {"type": ["string", "null"], "format": "date"}


class DateTimeType(FieldType):
    """Naive datetimes in the plant's local time; aware ones are converted to it."""

    name = "datetime"
    expr_type = "datetime"
    widget = "datetime"

    def column_type(self, field):
        return sa.DateTime()

    def coerce(self, field, value):
        if isinstance(value, str):
            text = value.strip()
            if text == "":
                return None
            try:
                value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise FieldError(f"'{text[:40]}' is not a date and time (use YYYY-MM-DD HH:MM)") from None
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone().replace(tzinfo=None)
            return value.replace(microsecond=0)
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time())
        raise FieldError("must be a date and time")

    def to_json(self, field, value):
        return value.isoformat(timespec="seconds") if value is not None else None

    def converter(self, field):
        coerce = self.coerce

        def convert(value):
            if type(value) is dt.datetime and value.tzinfo is None and not value.microsecond:
                return value
            return coerce(field, value)
        return convert

    def json_schema(self, field):
        return {"type": ["string", "null"]}


class SelectType(FieldType):
    name = "select"
    expr_type = "text"
    widget = "select"

    def coerce(self, field, value):
        if value is None or (isinstance(value, str) and value.strip() == ""):
            return None
        if not isinstance(value, str):
            raise FieldError("must be one of the options")
        value = value.strip()
        allowed = option_values(field)
        if value not in allowed:
            shown = ", ".join(allowed[:10]) + (" …" if len(allowed) > 10 else "")
            raise FieldError(f"'{value[:40]}' is not one of the options: {shown}")
        return value

    def json_schema(self, field):
        return {"type": ["string", "null"], "enum": option_values(field) + [None]}

    def converter(self, field):
        allowed = frozenset(option_values(field))
        return lambda value: value if value in allowed and type(value) is str else self.coerce(field, value)

    def definition_problems(self, field):
        values = option_values(field)
        dupes = sorted({v for v in values if values.count(v) > 1})
        return [("options", f"option '{v}' is listed twice") for v in dupes]


class MultiSelectType(SelectType):
    name = "multi_select"
    expr_type = "list"
    converter = FieldType.converter

    def column_type(self, field):
        return sa.JSON()

    def coerce(self, field, value):
        if value is None:
            return None
        if isinstance(value, str):
            value = [part for part in re.split(r"[,;，；]", value) if part.strip()]
        if not isinstance(value, list):
            raise FieldError("must be a list of options")
        chosen = [SelectType.coerce(self, field, item) for item in value]
        return [item for i, item in enumerate(chosen) if item is not None and item not in chosen[:i]] or None

    def json_schema(self, field):
        return {"type": ["array", "null"], "items": {"enum": option_values(field)}}


class LinkType(FieldType):
    """The id of a record in another table; strings are resolved by the record service."""

    name = "link"
    ready_types = (int,)
    expr_type = "record"
    widget = "link"

    def column_type(self, field):
        return sa.BigInteger()

    def coerce(self, field, value):
        if value is None or isinstance(value, bool):
            if value is None:
                return None
            raise FieldError("must be a record id")
        if isinstance(value, dict) and "id" in value:
            value = value["id"]
        if isinstance(value, str):
            text = value.strip()
            if text == "":
                return None
            if not text.isdigit():
                return LookupKey(text)
            value = int(text)
        if isinstance(value, int):
            if not 0 < value < 2**63:
                raise FieldError(f"{value} is not a record id")
            return value
        raise FieldError("must be a record id or code")

    def json_schema(self, field):
        return {"type": ["integer", "string", "null"]}


class UserType(LinkType):
    name = "user"
    expr_type = "text"
    widget = "select"


class LookupKey(str):
    """A link typed as a code ('P-00012', a product number) rather than an id."""


class AttachmentType(FieldType):
    """A stored file: {key, name, size, content_type}; uploads are saved by the runtime."""

    name = "attachment"
    expr_type = "text"
    widget = "attachment"

    def column_type(self, field):
        return sa.JSON()

    def coerce(self, field, value):
        if value is None or value == "":
            return None
        if isinstance(value, str):
            value = {"key": value, "name": value.rsplit("/", 1)[-1]}
        if not isinstance(value, dict) or not isinstance(value.get("key"), str):
            raise FieldError("must be an uploaded file")
        if ".." in value["key"] or value["key"].startswith("/"):
            raise FieldError("has an invalid file path")
        return {k: value[k] for k in ("key", "name", "size", "content_type") if k in value}

    def json_schema(self, field):
        return {"type": ["object", "string", "null"]}


class FormulaType(FieldType):
    """Computed from its expression on every write; stored so lists and SQL can read it."""

    name = "formula"
    computed = True
    widget = "readonly"

    def result(self, field):
        return FIELD_TYPES[field.get("result_type", "text")]

    def column_type(self, field):
        return self.result(field).column_type(field)

    def coerce(self, field, value):
        return self.result(field).coerce(field, value)

    def to_json(self, field, value):
        return self.result(field).to_json(field, value)

    def json_schema(self, field):
        return {"readOnly": True}

    def storage_key(self, field):
        return self.result(field).storage_key(field)


class ChildRowsType(FieldType):
    """Lines inside a record (inspection results inside an inspection): rows of a child table."""

    name = "child_rows"
    expr_type = "list"
    stored = False
    widget = "grid"

    def coerce(self, field, value):
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            raise FieldError("must be a list of rows")
        return value

    def json_schema(self, field):
        return {"type": "array", "items": {"type": "object"}}


FIELD_TYPES: dict[str, FieldType] = {
    cls.name: cls()
    for cls in (TextType, LongTextType, IntegerType, DecimalType, BooleanType, DateType, DateTimeType,
                DurationType, SelectType, MultiSelectType, LinkType, UserType, BarcodeType,
                AttachmentType, FormulaType, ChildRowsType)
}


def field_type(field) -> FieldType:
    return FIELD_TYPES[field["type"]]


def expression_type(field) -> str:
    """The type a field has inside expressions."""
    kind = field_type(field)
    if isinstance(kind, FormulaType):
        return kind.result(field).expr_type
    return kind.expr_type


def to_json_value(field, value):
    return field_type(field).to_json(field, value) if value is not None else None


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
