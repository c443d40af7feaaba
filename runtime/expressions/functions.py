"""The built-in functions of the expression language, one small function each.

Each built-in is registered with its signature (which docs/expressions.md repeats
verbatim, checked by a test), the types it accepts and the type it returns.  Unless a
function says it handles nulls, a null argument makes the result null without calling
it, so the implementations only ever see real values of the declared types.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from runtime.expressions.rules import (
    DECIMAL, as_datetime, bounded, checked_text, fits, kind_of, lookup, short_text, tidy,
    to_text, truth, unify, whole,
)
from runtime.expressions.syntax import MAX_TEXT, ExpressionError


@dataclass(frozen=True)
class Function:
    """A built-in function.  ``signature`` is also what docs/expressions.md shows."""

    name: str
    signature: str
    params: tuple[str, ...]  # accepted types per argument; the last repeats if variadic
    result: str | Callable[[list[str]], str]
    impl: Callable
    min_args: int
    max_args: int | None
    nulls: bool = False  # impl handles null arguments; otherwise null in gives null out
    lazy: bool = False  # impl receives zero-argument callables (if, coalesce)
    context: bool = False  # impl receives the evaluation context first (clock, user)
    reads: tuple[str, ...] | None = None  # a name path the function reads implicitly


FUNCTIONS: dict[str, Function] = {}


def function(signature: str, params: tuple[str, ...], result, **flags) -> Callable:
    """Register a built-in; the signature gives the name and the argument count."""
    name, _, rest = signature.partition("(")
    names = [p.strip() for p in rest.rstrip(")").split(",") if p.strip()]
    variadic = names[-1:] == ["..."]
    required = sum("=" not in p for p in names) - variadic

    def register(impl: Callable) -> Callable:
        FUNCTIONS[name] = Function(name, signature, params, result, impl, required,
                                   None if variadic else len(names), **flags)
        return impl
    return register


def call_type(fn: Function, arg_types: list[str], positions: list[int]) -> str:
    """Check arity and argument types of a call and return its result type."""
    count = len(arg_types)
    if count < fn.min_args or (fn.max_args is not None and count > fn.max_args):
        raise ExpressionError(f"{fn.signature} takes {_arity(fn)}, got {count}")
    for index, (actual, pos) in enumerate(zip(arg_types, positions)):
        wanted = fn.params[min(index, len(fn.params) - 1)]
        if not fits(actual, wanted):
            raise ExpressionError(
                f"{fn.name}() needs {wanted.replace('|', ' or ')} as argument {index + 1}, "
                f"got {actual}", pos)
    return fn.result(arg_types) if callable(fn.result) else fn.result


def _arity(fn: Function) -> str:
    if fn.max_args is None:
        return f"at least {fn.min_args} argument{'s' * (fn.min_args != 1)}"
    if fn.max_args == 0:
        return "no arguments"
    low = "" if fn.min_args == fn.max_args else f"{fn.min_args} or "
    return f"{low}{fn.max_args} argument{'s' * (fn.max_args != 1)}"


def _same_branch_type(types: list[str]) -> str:
    return unify(types[1:])


@function("if(condition, when_true, when_false)", ("boolean", "any", "any"),
          _same_branch_type, lazy=True, nulls=True)
def _if(condition, when_true, when_false):
    return when_true() if truth(condition()) else when_false()


@function("coalesce(value, ...)", ("any",), unify, lazy=True, nulls=True)
def _coalesce(*values):
    return next((v for v in (thunk() for thunk in values) if v is not None), None)


def _extreme(pick: Callable, values: tuple) -> object:
    present = [value for value in values if value is not None]
    return pick(present) if present else None


@function("min(value, ...)", ("number|text|date|datetime",), unify, nulls=True)
def _min(*values):
    return _extreme(min, values)


@function("max(value, ...)", ("number|text|date|datetime",), unify, nulls=True)
def _max(*values):
    return _extreme(max, values)


@function("round(x, digits=0)", ("number", "number"), "number")
def _round(x, digits=0):
    places = whole(digits, "round() digits")
    if not -20 <= places <= 20:
        raise ExpressionError("round() digits must be between -20 and 20")
    try:
        rounded = Decimal(x).quantize(Decimal(1).scaleb(-places), decimal.ROUND_HALF_UP, DECIMAL)
    except decimal.InvalidOperation:
        return x  # more digits than Decimal keeps: already coarser than asked for
    return int(rounded) if places <= 0 else rounded


@function("abs(x)", ("number",), "number")
def _abs(x):
    return abs(x)


def _integral(x, rounding: str) -> int:
    return x if isinstance(x, int) else int(x.to_integral_value(rounding))


@function("floor(x)", ("number",), "number")
def _floor(x):
    return _integral(x, decimal.ROUND_FLOOR)


@function("ceil(x)", ("number",), "number")
def _ceil(x):
    return _integral(x, decimal.ROUND_CEILING)


@function("len(text)", ("text|list",), "number")
def _len(text):
    return len(text)


@function("upper(text)", ("text",), "text")
def _upper(text):
    return text.upper()


@function("lower(text)", ("text",), "text")
def _lower(text):
    return text.lower()


@function("trim(text)", ("text",), "text")
def _trim(text):
    return text.strip(" ")


def _count(n, what: str) -> int:
    count = whole(n, what)
    if count < 0:
        raise ExpressionError(f"{what} cannot be negative, got {count}")
    return count


@function("left(text, n)", ("text", "number"), "text")
def _left(text, n):
    return text[:_count(n, "left() length")]


@function("right(text, n)", ("text", "number"), "text")
def _right(text, n):
    return text[max(len(text) - _count(n, "right() length"), 0):]


@function("substr(text, start, length=rest)", ("text", "number", "number"), "text")
def _substr(text, start, length=None):
    first = whole(start, "substr() start")
    if first < 1:
        raise ExpressionError(f"substr() start counts from 1, got {first}")
    first = min(first, len(text) + 1) - 1
    return text[first:] if length is None else text[first:first + _count(length, "substr() length")]


@function("replace(text, find, replacement)", ("text", "text", "text"), "text")
def _replace(text, find, replacement):
    if not find:
        return text
    size = len(text) + text.count(find) * (len(replacement) - len(find))
    if size > MAX_TEXT:
        raise ExpressionError(f"text result is too long ({size} characters, at most {MAX_TEXT})")
    return text.replace(find, replacement)


@function("contains(text, part)", ("text", "text"), "boolean")
def _contains(text, part):
    return part.lower() in text.lower()


@function("startswith(text, prefix)", ("text", "text"), "boolean")
def _startswith(text, prefix):
    return text.lower().startswith(prefix.lower())


@function("endswith(text, suffix)", ("text", "text"), "boolean")
def _endswith(text, suffix):
    return text.lower().endswith(suffix.lower())


@function("concat(value, ...)", ("any",), "text", nulls=True)
def _concat(*values):
    return checked_text("".join(to_text(value) for value in values))


@function("text(value)", ("any",), "text")
def _text(value):
    return to_text(value)


_NUMBER_TEXT = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")


@function("number(value)", ("text|number",), "number")
def _number(value):
    if not isinstance(value, str):
        return value
    if not _NUMBER_TEXT.fullmatch(value):
        raise ExpressionError(f"number(): {short_text(value)!r} is not a number")
    parsed = Decimal(value.strip())
    return bounded(int(parsed) if "." not in value else parsed)


@function("is_blank(value)", ("any",), "boolean", nulls=True)
def _is_blank(value):
    return value is None or (isinstance(value, (str, list, tuple)) and len(value) == 0)


@function("today()", (), "date", context=True)
def _today(context):
    return context.now.date()


@function("now()", (), "datetime", context=True)
def _now(context):
    return context.now


@function("date(year, month, day)", ("number", "number", "number"), "date")
def _date(year, month, day):
    parts = [whole(part, "date() " + name) for part, name in
             ((year, "year"), (month, "month"), (day, "day"))]
    try:
        return dt.date(*parts)
    except (ValueError, OverflowError):
        raise ExpressionError(f"date({', '.join(map(str, parts))}) is not a valid date") from None


@function("year(d)", ("date|datetime",), "number")
def _year(d):
    return d.year


@function("month(d)", ("date|datetime",), "number")
def _month(d):
    return d.month


@function("day(d)", ("date|datetime",), "number")
def _day(d):
    return d.day


@function("weekday(d)", ("date|datetime",), "number")
def _weekday(d):
    return d.isoweekday()


def _between(start: dt.date, end: dt.date, unit_seconds: int) -> int | Decimal:
    try:
        delta = as_datetime(end, start) - as_datetime(start, end)
    except TypeError:
        raise ExpressionError("cannot mix date-times with and without a time zone") from None
    micro = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return tidy(DECIMAL.divide(Decimal(micro), Decimal(unit_seconds * 1_000_000)))


@function("days_between(start, end)", ("date|datetime", "date|datetime"), "number")
def _days_between(start, end):
    return _between(start, end, 86400)


@function("hours_between(start, end)", ("date|datetime", "date|datetime"), "number")
def _hours_between(start, end):
    return _between(start, end, 3600)


@function("minutes_between(start, end)", ("date|datetime", "date|datetime"), "number")
def _minutes_between(start, end):
    return _between(start, end, 60)


def _shifted(moment: dt.date, amount, unit_seconds: int) -> dt.date:
    try:
        micro = int(DECIMAL.multiply(Decimal(amount), Decimal(unit_seconds * 1_000_000)))
        return moment + dt.timedelta(microseconds=micro)
    except (OverflowError, decimal.Overflow):
        raise ExpressionError("the resulting date is out of range") from None


def _date_like(types: list[str]) -> str:
    return types[0] if types[0] in ("date", "datetime") else "any"


@function("add_days(d, n)", ("date|datetime", "number"), _date_like)
def _add_days(d, n):
    if not isinstance(d, dt.datetime):
        whole(n, "add_days() on a date: the number of days")
    return _shifted(d, n, 86400)


@function("add_hours(dt, n)", ("date|datetime", "number"), "datetime")
def _add_hours(moment, n):
    return _shifted(as_datetime(moment), n, 3600)


@function("has_role(role)", ("text",), "boolean", context=True,
          reads=("current_user", "roles"))
def _has_role(context, role):
    roles = lookup(context.values, ("current_user", "roles"))
    if isinstance(roles, str):
        roles = [roles]  # a single role as text, never a substring test
    if roles is not None and not isinstance(roles, (list, tuple)):
        raise ExpressionError(f"current_user.roles must be a list, got {kind_of(roles)}")
    return role in (roles or ())
