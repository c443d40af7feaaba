"""Static checks: resolve names against the scope, infer types, fold constants.

A scope maps each name to a type string or to a Mapping of a linked record's fields.
Scopes may be lazy or cyclic (an order links a product that links its orders…), so
names are resolved by walking only as far as each path in the expression goes.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import replace

from runtime.expressions.evaluator import evaluate_node
from runtime.expressions.functions import FUNCTIONS, Function, call_type
from runtime.expressions.rules import binary_type, fits, kind_of, unary_type
from runtime.expressions.syntax import TYPES, ExpressionError, Node, at

_LISTED_FIELDS = 20
_MISSING = object()


def check(root: Node, scope: Mapping[str, object]) -> Node:
    """Return the typed tree.  Constant parts are evaluated once here, so ``2^100000``
    or ``1/0`` is refused when the formula is saved, not when a record is shown."""
    typed = _check(root, scope)
    _fold(typed)
    return typed


def _check(node: Node, scope: Mapping[str, object]) -> Node:
    args = tuple(_check(arg, scope) for arg in node.args)
    with at(node.pos):
        node_type, const = _CHECKS[node.kind](node, args, scope)
    return replace(node, args=args, type=node_type, const=const)


def _literal(node: Node, args: tuple[Node, ...], scope) -> tuple[str, bool]:
    return kind_of(node.value), True


def _name(node: Node, args: tuple[Node, ...], scope) -> tuple[str, bool]:
    return resolve(node.value, scope), False


def _list(node: Node, args: tuple[Node, ...], scope) -> tuple[str, bool]:
    return "list", all(arg.const for arg in args)


def _unary(node: Node, args: tuple[Node, ...], scope) -> tuple[str, bool]:
    return unary_type(node.value, args[0].type), args[0].const


def _binary(node: Node, args: tuple[Node, ...], scope) -> tuple[str, bool]:
    left, right = args
    result = binary_type(node.value, left.type, right.type)
    if node.value in ("in", "not in") and right.kind == "list":
        for item in right.args:
            with at(item.pos):
                binary_type("=", left.type, item.type)
    return result, left.const and right.const


def _call(node: Node, args: tuple[Node, ...], scope) -> tuple[str, bool]:
    fn = _function_named(node.value)
    result = call_type(fn, [arg.type for arg in args], [arg.pos for arg in args])
    if fn.reads:
        _check_reads(fn, scope)
    return result, all(arg.const for arg in args) and not fn.context


_CHECKS = {"literal": _literal, "name": _name, "list": _list, "unary": _unary,
           "binary": _binary, "call": _call}


def _function_named(name: str) -> Function:
    fn = FUNCTIONS.get(name)
    if fn is None:
        close = difflib.get_close_matches(name, list(FUNCTIONS), n=3)
        hint = f" (did you mean {_either(close)}?)" if close else ""
        raise ExpressionError(
            f"unknown function '{name}'{hint}; the expressions guide lists all functions")
    return fn


def _check_reads(fn: Function, scope: Mapping[str, object]) -> None:
    dotted = ".".join(fn.reads)
    try:
        found = resolve(fn.reads, scope)
    except ExpressionError:
        raise ExpressionError(f"{fn.name}() needs {dotted}, which is not available here") from None
    if not fits(found, "list"):
        raise ExpressionError(f"{fn.name}() needs {dotted} to be a list, got {found}")


def resolve(path: tuple[str, ...], scope: Mapping[str, object]) -> str:
    """Type of a name path; a bare linked record is "any" (e.g. ``product = null``)."""
    current: object = scope
    for index, part in enumerate(path):
        if not isinstance(current, Mapping):
            raise ExpressionError(
                f"'{'.'.join(path[:index])}' is {current}, not a linked record, "
                f"so it has no field '{part}'")
        found = current.get(part, _MISSING)  # one lookup: lazy scopes may be costly
        if found is _MISSING:
            raise _unknown_field(path[:index], part, current)
        current = found
    if isinstance(current, Mapping):
        return "any"
    if not isinstance(current, str) or current not in TYPES:
        raise ExpressionError(f"field '{'.'.join(path)}' has unsupported type {current!r}")
    return current


def _unknown_field(prefix: tuple[str, ...], name: str, fields: Mapping) -> ExpressionError:
    known = sorted(str(key) for key in fields)
    close = _suggestions(name, known)
    where = f" in {'.'.join(prefix)}" if prefix else ""
    hint = f" (did you mean {_either(close)}?)" if close else ""
    if not prefix and name.lower() in FUNCTIONS:
        hint = f" (to call the function, write {name.lower()}())"
    ordered = close + [key for key in known if key not in close]
    listing = ", ".join(ordered[:_LISTED_FIELDS]) + (", …" if len(known) > _LISTED_FIELDS else "")
    return ExpressionError(
        f"unknown field '{name}'{where}{hint} — known fields: {listing or 'none'}")


def _suggestions(name: str, known: list[str]) -> list[str]:
    """Close spellings, with a case-only difference first (``Qty`` → ``qty``)."""
    same_letters = [key for key in known if key.lower() == name.lower()]
    close = difflib.get_close_matches(name.lower(), known, n=3, cutoff=0.6)
    return same_letters + [key for key in close if key not in same_letters]


def _either(options: list[str]) -> str:
    return " or ".join(f"'{option}'" for option in options)


def _fold(node: Node) -> None:
    if node.const:
        evaluate_node(node)
        return
    for arg in node.args:
        _fold(arg)


def node_paths(node: Node) -> set[tuple[str, ...]]:
    """Every name path a tree reads, including implicit ones (has_role reads roles)."""
    paths = {node.value} if node.kind == "name" else set()
    fn = FUNCTIONS.get(node.value) if node.kind == "call" else None
    if fn is not None and fn.reads:
        paths.add(fn.reads)
    for arg in node.args:
        paths |= node_paths(arg)
    return paths


def check_expected(actual: str, expect: str | None) -> None:
    """``expect`` is what the caller needs (e.g. "boolean" for a guard); any and null
    results are accepted anywhere because they may hold the right value."""
    if expect is None:
        return
    if expect not in TYPES:
        raise ExpressionError(f"unknown expected type {expect!r}")
    if expect == "any" or actual in ("any", "null") or actual == expect:
        return
    if expect == "boolean":
        raise ExpressionError(
            f"expression must be a boolean condition (true or false), got {actual}", 0)
    raise ExpressionError(f"expression must give {_with_article(expect)}, got {actual}", 0)


def _with_article(type_name: str) -> str:
    return type_name if type_name == "text" else f"a {type_name}"
