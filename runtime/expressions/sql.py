"""Compile a checked expression to SQLAlchemy Core, so rules and filters run in the database.

The SQL must select exactly the rows for which ``Expression.evaluate`` is true, so the
compiler reproduces the language's null rules instead of SQL's three-valued logic:
comparisons get ``IS NOT NULL`` guards (null compares false), ``=`` between two nullable
sides becomes ``IS NOT DISTINCT FROM`` (null = null), and a nullable condition under
``not``/``and``/``or``/``if`` is tested with ``IS TRUE``.  Every part that depends only
on ``values`` (current_user, today(), literals) is evaluated in Python and sent as a
bound parameter, never formatted into SQL text; only a small set of operators and
functions with the same meaning on SQLite and PostgreSQL is compiled.  Two deliberate
differences remain: division by zero gives null, and upper/lower/contains fold case
for ASCII letters only on SQLite.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from runtime.expressions.checker import node_paths
from runtime.expressions.evaluator import evaluate_node
from runtime.expressions.functions import FUNCTIONS
from runtime.expressions.syntax import COMPARISONS, EMPTY, ExpressionError, Node

_UNSET = object()
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_LIKE = {
    "contains": lambda clause, part: clause.contains(part, autoescape=True),
    "startswith": lambda clause, part: clause.startswith(part, autoescape=True),
    "endswith": lambda clause, part: clause.endswith(part, autoescape=True),
}
_TEXT_FUNCTIONS = {"lower": sa.func.lower, "upper": sa.func.upper, "trim": sa.func.trim,
                   "len": sa.func.length}


@dataclass(frozen=True)
class _Sql:
    """A compiled part: its clause, whether it can be NULL, and, for a bound
    constant, its Python value (so ``in`` can use one expanding parameter)."""

    clause: ColumnElement
    nullable: bool
    value: object = _UNSET

    @property
    def is_null(self) -> bool:
        return self.value is None


def to_sql(expr, column: Callable[[tuple[str, ...]], ColumnElement],
           values: Mapping[str, object] = EMPTY, *,
           now: dt.datetime | None = None) -> ColumnElement:
    """Compile ``expr`` (an Expression).  ``column(path)`` gives the column for a field
    path; names whose first part is a key of ``values`` are bound as parameters."""
    compiler = _Compiler(column, values, now or dt.datetime.now())
    return compiler.compile(expr.root).clause


class _Compiler:
    def __init__(self, column: Callable, values: Mapping[str, object], now: dt.datetime):
        self.column = column
        self.values = values
        self.now = now

    def compile(self, node: Node) -> _Sql:
        if self.is_bound(node):
            return _constant(evaluate_node(node, self.values, self.now), node)
        return _HANDLERS[node.kind](self, node)

    def is_bound(self, node: Node) -> bool:
        return all(path[0] in self.values for path in node_paths(node))

    def name(self, node: Node) -> _Sql:
        return _Sql(self.column(node.value), True)

    def list(self, node: Node) -> _Sql:
        raise ExpressionError("a list can only follow 'in' in a database rule", node.pos)

    def unary(self, node: Node) -> _Sql:
        operand = self.compile(node.args[0])
        if node.value == "not":
            return _Sql(sa.not_(_condition(operand)), False)
        return _Sql(-operand.clause, operand.nullable)

    def binary(self, node: Node) -> _Sql:
        op = node.value
        if op in ("in", "not in"):
            return self.member(node)
        left, right = (self.compile(arg) for arg in node.args)
        if op in ("and", "or"):
            join = sa.and_ if op == "and" else sa.or_
            return _Sql(join(_condition(left), _condition(right)), False)
        if op in COMPARISONS:
            return _Sql(_compare(op, left, right), False)
        if op == "&":
            return _concat(node, left, right)
        return _arithmetic(node, left, right)

    def member(self, node: Node) -> _Sql:
        left = self.compile(node.args[0])
        clause = _any_equal(left, self.items(node.args[1]))
        return _Sql(sa.not_(clause) if node.value == "not in" else clause, False)

    def items(self, node: Node) -> list[_Sql]:
        if node.kind == "list":
            return [self.compile(item) for item in node.args]
        if not self.is_bound(node):
            raise ExpressionError(
                "'in' in a database rule needs a list written in the rule "
                "or taken from the current user", node.pos)
        found = evaluate_node(node, self.values, self.now)
        if found is not None and not isinstance(found, (list, tuple)):
            raise ExpressionError("'in' needs a list on the right", node.pos)
        return [_constant(item, node) for item in found or ()]

    def call(self, node: Node) -> _Sql:
        handler = _CALLS.get(node.value)
        if handler is None:
            reads = FUNCTIONS[node.value].reads
            unless = f" unless {reads[0]} is given as a value" if reads else ""
            raise ExpressionError(
                f"function '{node.value}' cannot be used in a database rule{unless}", node.pos)
        return handler(self, node)

    def args(self, node: Node) -> list[_Sql]:
        return [self.compile(arg) for arg in node.args]


_HANDLERS = {"name": _Compiler.name, "list": _Compiler.list, "unary": _Compiler.unary,
             "binary": _Compiler.binary, "call": _Compiler.call}


def _constant(value: object, node: Node) -> _Sql:
    """A value computed in Python, sent as a bound parameter."""
    if value is None:
        return _Sql(sa.null(), True, None)
    if isinstance(value, bool):
        return _Sql(sa.true() if value else sa.false(), False, value)
    if isinstance(value, (list, tuple, Mapping)):
        what = "a list" if isinstance(value, (list, tuple)) else "a linked record"
        raise ExpressionError(f"{what} cannot be used here in a database rule", node.pos)
    return _Sql(sa.literal(value), False, value)


def _condition(part: _Sql) -> ColumnElement:
    """Two-valued truth: a NULL condition counts as false, as in evaluate()."""
    return part.clause.is_(sa.true()) if part.nullable else part.clause


def _not_null(*parts: _Sql) -> list[ColumnElement]:
    return [part.clause.is_not(None) for part in parts if part.nullable]


def _compare(op: str, left: _Sql, right: _Sql) -> ColumnElement:
    if op in ("=", "!="):
        same = _equal(left, right)
        return same if op == "=" else sa.not_(same)
    if left.is_null or right.is_null:
        return sa.false()
    return sa.and_(_ORDER[op](left.clause, right.clause), *_not_null(left, right))


def _equal(left: _Sql, right: _Sql) -> ColumnElement:
    """Null-safe equality; plain ``=`` plus guards where one side cannot be NULL,
    which keeps the comparison usable by an index."""
    if left.is_null or right.is_null:
        other = right if left.is_null else left
        return sa.true() if other.is_null else other.clause.is_(None)
    if left.nullable and right.nullable:
        return left.clause.is_not_distinct_from(right.clause)
    return sa.and_(left.clause == right.clause, *_not_null(left, right))


def _any_equal(left: _Sql, items: list[_Sql]) -> ColumnElement:
    fixed = [item.value for item in items if item.value is not _UNSET and item.value is not None]
    parts = [_equal(left, item) for item in items if item.value is _UNSET or item.value is None]
    if fixed:
        parts.append(sa.and_(left.clause.in_(fixed), *_not_null(left)))
    return sa.or_(*parts) if parts else sa.false()


def _concat(node: Node, left: _Sql, right: _Sql) -> _Sql:
    """``&`` treats null as empty text, as in evaluate(); only text is joined, because
    number and date formatting differs between Python and each database."""
    if any(arg.type not in ("text", "null") for arg in node.args):
        raise ExpressionError("'&' in a database rule can only join text", node.pos)
    left_text, right_text = (
        sa.func.coalesce(part.clause, "", type_=sa.String) if part.nullable
        else sa.type_coerce(part.clause, sa.String) for part in (left, right))
    return _Sql(left_text.concat(right_text), False)


def _arithmetic(node: Node, left: _Sql, right: _Sql) -> _Sql:
    nullable = left.nullable or right.nullable
    if node.value in ("+", "-", "*"):
        return _Sql(_ARITHMETIC[node.value](left.clause, right.clause), nullable)
    if node.value == "/":
        # Multiplying by 1.0 forces true division on SQLite; NULLIF turns x/0 into NULL.
        numerator = left.clause * sa.literal(Decimal("1.0"))
        if right.value is not _UNSET and right.value != 0:
            return _Sql(numerator / right.clause, nullable)
        return _Sql(numerator / sa.func.nullif(right.clause, 0), True)
    raise ExpressionError(f"operator '{node.value}' cannot be used in a database rule", node.pos)


_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def _if(compiler: _Compiler, node: Node) -> _Sql:
    condition, when_true, when_false = compiler.args(node)
    clause = sa.case((_condition(condition), when_true.clause), else_=when_false.clause)
    return _Sql(clause, when_true.nullable or when_false.nullable)


def _coalesce(compiler: _Compiler, node: Node) -> _Sql:
    parts = compiler.args(node)
    clause = sa.func.coalesce(*(part.clause for part in parts))
    return _Sql(clause, all(part.nullable for part in parts))


def _is_blank(compiler: _Compiler, node: Node) -> _Sql:
    (value,) = compiler.args(node)
    checks = [value.clause.is_(None)] if value.nullable else []
    if node.args[0].type == "text":
        checks.append(value.clause == "")
    return _Sql(sa.or_(*checks) if checks else sa.false(), False)


def _text_function(compiler: _Compiler, node: Node) -> _Sql:
    (value,) = compiler.args(node)
    return _Sql(_TEXT_FUNCTIONS[node.value](value.clause), value.nullable)


def _like(compiler: _Compiler, node: Node) -> _Sql:
    """contains/startswith/endswith ignore case: LIKE over lower() on both sides,
    with %, _ and the escape character in the searched text escaped."""
    text_node, part_node = node.args
    if not compiler.is_bound(part_node):
        raise ExpressionError(
            f"{node.value}() in a database rule needs fixed text to look for", part_node.pos)
    part = evaluate_node(part_node, compiler.values, compiler.now)
    text = compiler.compile(text_node)
    if part is None:
        return _Sql(sa.null(), True, None)
    return _Sql(_LIKE[node.value](sa.func.lower(text.clause), part.lower()), text.nullable)


_CALLS = {"if": _if, "coalesce": _coalesce, "is_blank": _is_blank,
          **{name: _text_function for name in _TEXT_FUNCTIONS},
          **{name: _like for name in _LIKE}}
