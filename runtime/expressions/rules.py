"""Types and values of the expression language, shared by checker, evaluator and SQL.

The static checker and the evaluator call the same rules (``binary_type`` and friends)
with declared types or with the kinds of actual values, so a type error reads the same
whether it is found when a formula is saved or when a value of type "any" turns up.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Mapping
from decimal import Decimal

from runtime.expressions.syntax import COMPARISONS, MAX_NUMBER, MAX_TEXT, ExpressionError

# Decimal arithmetic: 28 significant digits, and results beyond 1e100 trap as Overflow,
# which keeps every number the language can produce small.
DECIMAL = decimal.Context(
    prec=28, Emax=99, Emin=-99, rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

_ORDERED = ("number", "text", "date", "datetime")
_VERBS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide",
          "%": "take the remainder of", "^": "raise to a power"}


def kind_of(value: object) -> str:
    """The language type of a Python value; "record" marks a linked record (a Mapping)."""
    if value is None:
        return "null"
    for python_type, name in _KINDS:
        if isinstance(value, python_type):
            return name
    return "unsupported"


_KINDS = ((bool, "boolean"), ((int, Decimal), "number"), (str, "text"),
          (dt.datetime, "datetime"), (dt.date, "date"), ((list, tuple), "list"),
          (Mapping, "record"))


def fits(actual: str, wanted: str) -> bool:
    """Whether a value of type ``actual`` may go where ``wanted`` ("a|b" or "any") is."""
    return actual in ("any", "null") or wanted == "any" or actual in wanted.split("|")


def unify(types: list[str]) -> str:
    known = {t for t in types if t != "null"}
    if "any" in known:
        return "any"
    if len(known) > 1:
        raise ExpressionError(f"values have different types: {' and '.join(sorted(known))}")
    return known.pop() if known else "null"


def binary_type(op: str, left: str, right: str) -> str:
    """Result type of ``left op right``; the checker and the evaluator both use it,
    so a type error reads the same whether found at compile time or at run time."""
    if op in ("and", "or"):
        for side in (left, right):
            if not fits(side, "boolean"):
                raise ExpressionError(
                    f"'{op}' needs a true/false condition on each side, got {side}")
        return "boolean"
    if op in ("in", "not in"):
        if not fits(right, "list"):
            raise ExpressionError(f"'{op}' needs a list on the right, like ('a', 'b'), got {right}")
        return "boolean"
    if op in COMPARISONS:
        _need_comparable(op, left, right)
        return "boolean"
    if op == "&":
        return "text"
    if not (fits(left, "number") and fits(right, "number")):
        raise ExpressionError(_arithmetic_message(op, left, right))
    return "number"


def _need_comparable(op: str, left: str, right: str) -> None:
    pair = {left, right}
    if not ("any" in pair or "null" in pair or len(pair) == 1 or pair == {"date", "datetime"}):
        raise ExpressionError(f"cannot compare {left} and {right}")
    if op not in ("=", "!=") and not pair <= {"any", "null", *_ORDERED}:
        bad = next(t for t in (left, right) if t not in ("any", "null", *_ORDERED))
        raise ExpressionError(f"cannot use '{op}' on {bad} values")


def _arithmetic_message(op: str, left: str, right: str) -> str:
    message = f"cannot {_VERBS[op]} {left} and {right}"
    if op in "+-" and {left, right} & {"date", "datetime"}:
        message += "; use add_days(), add_hours() or days_between() for dates"
    if op == "+" and "text" in (left, right):
        message += "; use & to join text"
    return message


def unary_type(op: str, operand: str) -> str:
    if op == "not":
        if not fits(operand, "boolean"):
            raise ExpressionError(f"'not' needs a true/false condition, got {operand}")
        return "boolean"
    if not fits(operand, "number"):
        raise ExpressionError(f"cannot negate {operand}")
    return "number"


def whole(value: int | Decimal, what: str) -> int:
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise ExpressionError(f"{what} must be a whole number, got {value}")
        return int(value)
    return value


def bounded(value: int | Decimal) -> int | Decimal:
    """Every number the language produces stays below 1e100 (Decimals trap beyond it)."""
    if isinstance(value, int) and abs(value) >= MAX_NUMBER:
        raise ExpressionError("number is too large")
    return value


def tidy(value: Decimal) -> int | Decimal:
    return int(value) if value == value.to_integral_value() else value


def short_text(value: str) -> str:
    """Long text is cut when quoted in a message; messages stay readable."""
    return value if len(value) <= 30 else value[:27] + "..."


def to_text(value: object) -> str:
    """Text form used by &, concat() and text(); null becomes ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat(" ")
    if isinstance(value, (list, tuple)):
        return ", ".join(to_text(item) for item in value)
    if isinstance(value, Mapping):
        raise ExpressionError("a linked record cannot be turned into text; use one of its fields")
    return str(value)


def checked_text(value: object) -> object:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise ExpressionError(
            f"text result is too long ({len(value)} characters, at most {MAX_TEXT})")
    return value


def truth(value: object) -> bool:
    """Null counts as false wherever a condition is needed (and, or, not, if)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    raise ExpressionError(f"expected a true/false condition, got {kind_of(value)}")


def as_datetime(value: dt.date, like: dt.date | None = None) -> dt.datetime:
    """A date counts as its midnight (in the other value's time zone, if any)."""
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime(value.year, value.month, value.day, tzinfo=getattr(like, "tzinfo", None))


def lookup(values: Mapping[str, object], path: tuple[str, ...]) -> object:
    """Read a name path from the caller's values.  A missing field or a null link gives
    null, and only ``Mapping.get`` is used, so a lazy record loads just what is named."""
    current: object = values
    for index, part in enumerate(path):
        if current is None:
            return None
        if not isinstance(current, Mapping):
            raise ExpressionError(
                f"'{'.'.join(path[:index])}' is {kind_of(current)}, not a linked record")
        current = current.get(part)
    return normalize(current, path)


def normalize(value: object, path: tuple[str, ...]) -> object:
    """Bring a caller's value into the language: floats become Decimals (via their
    shortest text, so 0.1 stays 0.1), sets become lists, odd objects are refused."""
    if isinstance(value, float):
        value = Decimal(repr(value)) if math.isfinite(value) else Decimal("NaN")
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return _number_value(value, ".".join(path))
    if isinstance(value, (set, frozenset)):
        return list(value)
    if kind_of(value) == "unsupported":
        raise ExpressionError(
            f"field '{'.'.join(path)}' holds a {type(value).__name__}, "
            "which expressions cannot use")
    return value


def _number_value(value: int | Decimal, name: str) -> int | Decimal:
    """Numbers from outside get the same bounds as computed ones; ``DECIMAL.plus``
    also caps extreme exponents (1E-999999 would otherwise print as a huge text)."""
    if isinstance(value, Decimal) and not value.is_finite():
        raise ExpressionError(f"field '{name}' is not a finite number")
    try:
        return bounded(value if isinstance(value, int) else DECIMAL.plus(value))
    except (ExpressionError, decimal.Overflow):
        raise ExpressionError(f"field '{name}' holds a number that is too large") from None
