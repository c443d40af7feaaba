"""Evaluate a checked expression tree against a record's values.

A plain tree walk: the tree is at most MAX_DEPTH deep and the language has no loops,
so evaluation always ends quickly.  Null rules (documented in docs/expressions.md):
arithmetic with null gives null; ``=`` and ``!=`` treat null as a value (null = null is
true); ordering comparisons with null are false; ``and``, ``or``, ``not`` and ``if``
count null as false; ``and``/``or`` short-circuit and ``if`` evaluates one branch.
"""

from __future__ import annotations

import datetime as dt
import decimal
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from runtime.expressions.functions import FUNCTIONS, Function, call_type
from runtime.expressions.rules import (
    DECIMAL, as_datetime, binary_type, bounded, checked_text, kind_of, lookup, to_text, truth,
    unary_type,
)
from runtime.expressions.syntax import (
    COMPARISONS, EMPTY, MAX_EXPONENT, MAX_NUMBER, ExpressionError, Node, at,
)

_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_INTEGER = {"+": operator.add, "-": operator.sub, "*": operator.mul}
_DECIMALS = {"+": DECIMAL.add, "-": DECIMAL.subtract, "*": DECIMAL.multiply, "/": DECIMAL.divide}


@dataclass(frozen=True)
class Context:
    values: Mapping[str, object]
    now: dt.datetime


def evaluate_node(node: Node, values: Mapping[str, object] = EMPTY,
                  now: dt.datetime | None = None) -> object:
    """Evaluate ``node``.  Every problem comes out as an ExpressionError: the last
    except clause is a safety net for odd caller values, not the normal path."""
    context = Context(values, now or dt.datetime.now())
    try:
        return _evaluate(node, context)
    except ExpressionError:
        raise
    except (ArithmeticError, TypeError, ValueError) as error:
        raise ExpressionError(f"could not evaluate the expression: {error}") from error


def _evaluate(node: Node, context: Context) -> object:
    return _HANDLERS[node.kind](node, context)


def _literal(node: Node, context: Context) -> object:
    return node.value


def _name(node: Node, context: Context) -> object:
    with at(node.pos):
        return lookup(context.values, node.value)


def _list(node: Node, context: Context) -> list:
    return [_evaluate(item, context) for item in node.args]


def _unary(node: Node, context: Context) -> object:
    value = _evaluate(node.args[0], context)
    with at(node.pos):
        if node.value == "not":
            return not truth(value)
        unary_type("-", kind_of(value))
        return None if value is None else -value


def _binary(node: Node, context: Context) -> object:
    if node.value in ("and", "or"):
        return _logic(node, context)
    left, right = (_evaluate(arg, context) for arg in node.args)
    with at(node.pos):
        return apply_binary(node.value, left, right)


def _logic(node: Node, context: Context) -> bool:
    """``and`` stops at the first false, ``or`` at the first true."""
    first = _condition(node.args[0], context)
    if first == (node.value == "or"):
        return first
    return _condition(node.args[1], context)


def _condition(node: Node, context: Context) -> bool:
    value = _evaluate(node, context)
    with at(node.pos):
        return truth(value)


def _call(node: Node, context: Context) -> object:
    fn = FUNCTIONS[node.value]
    if fn.lazy:
        args = [partial(_evaluate, arg, context) for arg in node.args]
    else:
        args = [_evaluate(arg, context) for arg in node.args]
    with at(node.pos):
        return _invoke(fn, args, node, context)


def _invoke(fn: Function, args: list, node: Node, context: Context) -> object:
    """Re-check argument kinds at run time: fields typed "any" may hold anything."""
    if not fn.lazy:
        if not fn.nulls and any(arg is None for arg in args):
            return None
        call_type(fn, [kind_of(arg) for arg in args], [arg.pos for arg in node.args])
    prefix = (context,) if fn.context else ()
    return checked_text(fn.impl(*prefix, *args))


_HANDLERS = {"literal": _literal, "name": _name, "list": _list, "unary": _unary,
             "binary": _binary, "call": _call}


def apply_binary(op: str, left: object, right: object) -> object:
    if op in ("in", "not in"):
        return _member(left, right) == (op == "in")
    if op in COMPARISONS:
        return compare(op, left, right)
    binary_type(op, kind_of(left), kind_of(right))
    if op == "&":
        return checked_text(to_text(left) + to_text(right))
    if left is None or right is None:
        return None
    return _arithmetic(op, left, right)


def compare(op: str, left: object, right: object) -> bool:
    if op in ("=", "!="):
        return equal(left, right) == (op == "=")
    if left is None or right is None:
        return False
    binary_type(op, kind_of(left), kind_of(right))
    try:
        return _ORDER[op](*_promoted(left, right))
    except TypeError:
        raise ExpressionError("cannot compare date-times with and without a time zone") from None


def equal(left: object, right: object) -> bool:
    """Null equals only null; values of different types are simply not equal."""
    if left is None or right is None:
        return left is right
    kinds = {kind_of(left), kind_of(right)}
    if len(kinds) > 1 and kinds != {"date", "datetime"}:
        return False
    first, second = _promoted(left, right)
    return first == second


def _promoted(left: object, right: object) -> tuple[object, object]:
    """A date compared with a date-time counts as its midnight."""
    if isinstance(left, dt.date) and isinstance(right, dt.date):
        if isinstance(left, dt.datetime) != isinstance(right, dt.datetime):
            return as_datetime(left, right), as_datetime(right, left)
    return left, right


def _member(item: object, items: object) -> bool:
    if items is None:
        return False
    if not isinstance(items, (list, tuple)):
        raise ExpressionError(f"'in' needs a list on the right, got {kind_of(items)}")
    return any(equal(item, other) for other in items)


def _arithmetic(op: str, left: int | Decimal, right: int | Decimal) -> int | Decimal:
    try:
        return bounded(_calculate(op, left, right))
    except decimal.Overflow:
        raise ExpressionError("number is too large") from None
    except (decimal.DivisionByZero, ZeroDivisionError):
        raise ExpressionError("division by zero") from None
    except decimal.InvalidOperation:
        raise ExpressionError(f"{left} {op} {right} has no numeric result") from None


def _calculate(op: str, left: int | Decimal, right: int | Decimal) -> int | Decimal:
    """Whole numbers stay exact ints; anything with a fraction uses DECIMAL."""
    if op == "^":
        return _power(left, right)
    if op in "/%" and right == 0:
        raise ExpressionError("division by zero")
    integers = isinstance(left, int) and isinstance(right, int)
    if op == "%":
        return left % right if integers else _remainder(Decimal(left), Decimal(right))
    if integers and op in _INTEGER:
        return _INTEGER[op](left, right)
    if integers and left % right == 0:
        return left // right
    return _DECIMALS[op](Decimal(left), Decimal(right))


def _remainder(left: Decimal, right: Decimal) -> Decimal:
    """Like Excel's MOD: the result takes the sign of the divisor."""
    rest = DECIMAL.remainder(left, right)
    return DECIMAL.add(rest, right) if rest and (rest < 0) != (right < 0) else rest


def _power(base: int | Decimal, exponent: int | Decimal) -> int | Decimal:
    """Exponents are limited to ±64 and bases to 1e100, so 9^9^9 fails at once."""
    if abs(exponent) > MAX_EXPONENT:
        raise ExpressionError(f"exponent {exponent} is too large (at most {MAX_EXPONENT})")
    if abs(base) >= MAX_NUMBER:
        raise ExpressionError("number is too large")
    if base == 0 and exponent < 0:
        raise ExpressionError("division by zero")  # Decimal would quietly give Infinity
    if isinstance(base, int) and isinstance(exponent, int) and exponent >= 0:
        return base**exponent
    return DECIMAL.power(Decimal(base), Decimal(exponent))
