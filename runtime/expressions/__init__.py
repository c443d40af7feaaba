"""Takt's one sandboxed expression language.

Formula fields, default values, visibility and required conditions, workflow guards,
automation conditions and row-level permission rules all use this small language, so a
plant engineer learns it once (reference: docs/expressions.md).  The package is split
by stage, each module small enough to read in one sitting:

- ``syntax``: limits, ``ExpressionError``, tokenizer and Pratt parser (no eval, no ``ast``);
- ``rules``: types and value conversions shared by every later stage;
- ``functions``: the built-in functions; ``checker``: names, types, constant folding;
- ``evaluator``: the interpreter; ``sql``: the compiler to SQLAlchemy Core.

Only the names in ``__all__`` are public; other modules depend on exactly these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from runtime.expressions.checker import check, check_expected, node_paths
from runtime.expressions.evaluator import evaluate_node
from runtime.expressions.functions import FUNCTIONS
from runtime.expressions.sql import to_sql
from runtime.expressions.syntax import (
    EMPTY, MAX_LENGTH, TYPES, ExpressionError, Node, parse, too_long,
)

__all__ = ["Expression", "ExpressionError", "FUNCTIONS", "TYPES", "check_expression",
           "compile_expression", "to_sql"]

JSON_VERSION = 1


class Expression:
    """A parsed and type-checked expression; immutable, so it can be cached and shared.

    ``root`` is the typed tree, used by the SQL compiler; ``paths`` lists every name
    path read, so callers know which fields (and links to join) a rule depends on.
    """

    __slots__ = ("source", "type", "paths", "root")

    def __init__(self, source: str, root: Node):
        self.source = source
        self.root = root
        self.type = root.type
        self.paths = frozenset(node_paths(root))

    def __repr__(self) -> str:
        return f"Expression({self.source!r}, type={self.type!r})"

    def evaluate(self, values: Mapping[str, object] = EMPTY, *,
                 now: dt.datetime | None = None) -> object:
        """Evaluate with ``values`` (name → value, linked records as Mappings).
        ``now`` fixes the clock for today()/now(); it defaults to the local time."""
        return evaluate_node(self.root, values, now)

    def to_json(self) -> dict:
        """The tree as plain JSON, for a small browser-side interpreter.  Decimal
        literals are written as strings to stay exact; ints, text, booleans, null as is."""
        return {"version": JSON_VERSION, "source": self.source, "type": self.type,
                "ast": _node_json(self.root)}


def _node_json(node: Node) -> dict:
    data: dict = {"kind": node.kind, "pos": node.pos, "type": node.type}
    if node.kind == "literal":
        data["value"] = str(node.value) if isinstance(node.value, Decimal) else node.value
    elif node.kind == "name":
        data["path"] = list(node.value)
    elif node.kind == "call":
        data["function"] = node.value
    elif node.kind in ("unary", "binary"):
        data["op"] = node.value
    if node.args:
        data["args"] = [_node_json(arg) for arg in node.args]
    return data


def compile_expression(source: str, scope: Mapping[str, object], *,
                       expect: str | None = None) -> Expression:
    """Parse and type-check ``source`` against ``scope``; raise ExpressionError.

    ``scope`` maps names to type strings ("number", "text", …) or to Mappings of a
    linked record's fields; ``expect`` is the type the result must have, if any.
    """
    if not isinstance(source, str):
        raise ExpressionError("the expression must be text")
    if len(source) > MAX_LENGTH:
        raise too_long(source)
    root = check(parse(source), scope)
    check_expected(root.type, expect)
    return Expression(source, root)


def check_expression(source: str, scope: Mapping[str, object], *,
                     expect: str | None = None) -> list[ExpressionError]:
    """The problems with ``source`` ([] when it is fine), for definition validators."""
    try:
        compile_expression(source, scope, expect=expect)
    except ExpressionError as error:
        return [error]
    return []
