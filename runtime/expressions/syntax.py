"""Syntax of the expression language: limits, errors, tokenizer and Pratt parser.

User text is never handed to Python's eval, exec, compile or ``ast``.  It is split into
tokens by one linear regular-expression scan and parsed into a tree of small ``Node``
objects.  Names starting with an underscore, attribute access on anything but a field
name, over-long input and deep nesting are all refused here, before any evaluation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

MAX_LENGTH = 4000
MAX_DEPTH = 100
MAX_TEXT = 100_000
MAX_EXPONENT = 64
MAX_NUMBER = 10**100
TYPES = frozenset({"number", "text", "boolean", "date", "datetime", "list", "any", "null"})
KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
EMPTY: Mapping[str, object] = MappingProxyType({})


class ExpressionError(ValueError):
    """Anything wrong with an expression, worded for the person who wrote it.

    ``position`` is the 0-based character offset in the source, or None when the
    problem is not tied to one place (e.g. a runtime value from the database).
    """

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return self.message


@contextmanager
def at(position: int) -> Iterator[None]:
    """Attach a position to errors raised without one, so helpers need not know it."""
    try:
        yield
    except ExpressionError as error:
        if error.position is None:
            error.position = position
        raise


# --------------------------------------------------------------------------- tokens

@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "num", "str", "name", "kw", "op" or "end"
    text: str
    pos: int
    end: int
    value: object = None


_TOKEN_RE = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<num>[0-9]+(?:\.[0-9]+)?)(?P<junk>[A-Za-z0-9_.]*)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<quote>['\"])"
    r"|(?P<op>\*\*|==|!=|<>|<=|>=|[-+*/%^&=<>(),.])"
)
_STRING_BODY = {q: re.compile(rf"(?:[^{q}\\]|\\.)*", re.S) for q in "'\""}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def _tokenize(source: str) -> list[Token]:
    """Split source into tokens; the scan is linear, so long input cannot stall it."""
    tokens, pos = [], 0
    while pos < len(source):
        match = _TOKEN_RE.match(source, pos)
        if match is None:
            raise ExpressionError(f"unexpected character {source[pos]!r}", pos)
        token = _string_token(source, pos) if match.group("quote") else _simple_token(match)
        if token is not None:
            tokens.append(token)
        pos = token.end if token is not None else match.end()
    tokens.append(Token("end", "", len(source), len(source)))
    return tokens


def _simple_token(match: re.Match) -> Token | None:
    text, pos, end = match.group(), match.start(), match.end()
    if match.group("space"):
        return None
    if match.group("num") is not None:
        if match.group("junk"):
            raise ExpressionError(f"invalid number {text!r}", pos)
        return Token("num", text, pos, end, Decimal(text) if "." in text else int(text))
    if match.group("name"):
        return _name_token(text, pos, end)
    return Token("op", text, pos, end)


def _name_token(text: str, pos: int, end: int) -> Token:
    """Keywords are case-insensitive; names starting with '_' are refused outright,
    which closes the classic ``__import__`` / ``__class__`` escape routes."""
    if text.lower() in KEYWORDS:
        return Token("kw", text.lower(), pos, end)
    if text.startswith("_"):
        raise ExpressionError(f"names may not start with an underscore ({text!r})", pos)
    return Token("name", text, pos, end)


def _string_token(source: str, pos: int) -> Token:
    quote = source[pos]
    end = _STRING_BODY[quote].match(source, pos + 1).end()
    if end >= len(source) or source[end] != quote:
        raise ExpressionError(f"text starting here has no closing {quote}", pos)
    value = _unescape(source[pos + 1:end], pos + 1)
    return Token("str", source[pos:end + 1], pos, end + 1, value)


def _unescape(body: str, offset: int) -> str:
    def replacement(match: re.Match) -> str:
        char = match.group(1)
        if char not in _ESCAPES:
            raise ExpressionError(
                f"unknown escape '\\{char}' in text (write '\\\\' for a backslash)",
                offset + match.start())
        return _ESCAPES[char]
    return re.sub(r"\\(.)", replacement, body, flags=re.S)


# --------------------------------------------------------------------------- syntax tree

@dataclass(frozen=True, slots=True)
class Node:
    """One node of the tree.  ``value`` holds the literal, the name path (a tuple),
    the operator or the function name; ``type`` and ``const`` are filled in by the
    checker (``const``: no names and no clock, so it can be evaluated at compile time)."""

    kind: str  # "literal", "name", "list", "unary", "binary" or "call"
    pos: int
    value: object = None
    args: tuple[Node, ...] = ()
    depth: int = 1
    type: str = "any"
    const: bool = False


def _node(kind: str, pos: int, value: object = None, args: tuple[Node, ...] = ()) -> Node:
    """Build a node, refusing trees deeper than MAX_DEPTH.  Long chains such as
    ``a+a+a+…`` nest without parser recursion, and every later tree walk (checker,
    evaluator, SQL compiler) is recursive, so the depth is bounded here, once."""
    depth = 1 + max((arg.depth for arg in args), default=0)
    if depth > MAX_DEPTH:
        raise _too_deep(pos)
    return Node(kind, pos, value, args, depth)


def _too_deep(pos: int | None) -> ExpressionError:
    return ExpressionError(
        f"expression is nested too deeply (more than {MAX_DEPTH} levels); "
        "split it into several fields", pos)


_BINDING = {"or": 10, "and": 20, "=": 40, "!=": 40, "<": 40, "<=": 40, ">": 40, ">=": 40,
            "in": 40, "not in": 40, "&": 50, "+": 60, "-": 60, "*": 70, "/": 70, "%": 70,
            "^": 90}
_SPELLINGS = {"==": "=", "<>": "!=", "**": "^"}
COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">=", "in", "not in"})
_NOT_OPERAND, _NEGATION_OPERAND = 30, 80


class _Parser:
    """Pratt parser.  ``depth`` counts active ``expression`` calls so that 10,000
    opening parentheses end in a clear error instead of a RecursionError."""

    def __init__(self, source: str):
        self.tokens = _tokenize(source)
        self.index = 0
        self.depth = 0

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExpressionError("the expression is empty", 0)
        node = self.expression(0)
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return node

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def expect(self, text: str, message: str) -> None:
        if self.peek().text != text or self.peek().kind not in ("op", "kw"):
            raise ExpressionError(message, self.peek().pos)
        self.advance()

    def unexpected(self, token: Token) -> ExpressionError:
        if token.kind == "end":
            return ExpressionError("the expression ends too early: a value is missing", token.pos)
        if token.text == ".":
            return ExpressionError("'.' can only join field names, as in product.name", token.pos)
        return ExpressionError(f"unexpected {token.text!r}", token.pos)

    def expression(self, min_binding: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _too_deep(self.peek().pos)
        left, chained = self.prefix(), False
        while (op := self.infix_operator()) and _BINDING[op] > min_binding:
            if op in COMPARISONS and chained:
                raise ExpressionError(
                    "comparisons cannot be chained; write 'a < b and b < c'", self.peek().pos)
            chained = op in COMPARISONS
            left = self.infix(op, left)
        self.depth -= 1
        return left

    def infix_operator(self) -> str | None:
        token = self.peek()
        if token.kind == "kw" and token.text == "not" and self.peek(1).text == "in":
            return "not in"
        if token.kind in ("op", "kw"):
            op = _SPELLINGS.get(token.text, token.text)
            return op if op in _BINDING else None
        return None

    def infix(self, op: str, left: Node) -> Node:
        token = self.advance()
        if op == "not in":
            self.advance()
        if op in ("in", "not in"):
            right = self.in_list() if self.peek().text == "(" else self.expression(_BINDING[op])
        else:
            binding = _BINDING[op] - 1 if op == "^" else _BINDING[op]  # ^ is right-associative
            right = self.expression(binding)
        return _node("binary", token.pos, op, (left, right))

    def in_list(self) -> Node:
        """``status in ('a', 'b')``: parentheses after ``in`` always make a list."""
        start = self.advance()
        items = [] if self.peek().text == ")" else self.arguments()
        self.expect(")", "missing ')' to close the list after 'in'")
        return _node("list", start.pos, None, tuple(items))

    def arguments(self) -> list[Node]:
        items = [self.expression(0)]
        while self.peek().text == ",":
            self.advance()
            items.append(self.expression(0))
        return items

    def prefix(self) -> Node:
        token = self.advance()
        if token.kind in ("num", "str"):
            return _node("literal", token.pos, token.value)
        if token.kind == "kw" and token.text in ("true", "false", "null"):
            return _node("literal", token.pos, {"true": True, "false": False}.get(token.text))
        if token.kind == "kw" and token.text == "not":
            return _node("unary", token.pos, "not", (self.expression(_NOT_OPERAND),))
        if token.text == "-" and token.kind == "op":
            return _node("unary", token.pos, "-", (self.expression(_NEGATION_OPERAND),))
        if token.text == "(" and token.kind == "op":
            inner = self.expression(0)
            self.expect(")", "missing ')'")
            return inner
        if token.kind == "name":
            return self.call(token) if self.peek().text == "(" else self.name(token)
        raise self.unexpected(token)

    def name(self, first: Token) -> Node:
        path = [first.text]
        while self.peek().text == "." and self.peek().kind == "op":
            self.advance()
            part = self.advance()
            if part.kind != "name":
                raise ExpressionError("a field name must follow '.'", part.pos)
            path.append(part.text)
        if self.peek().text == "(":
            raise ExpressionError(
                "only functions can be called, as in upper(product.name)", self.peek().pos)
        return _node("name", first.pos, tuple(path))

    def call(self, name: Token) -> Node:
        self.advance()
        args = [] if self.peek().text == ")" else self.arguments()
        self.expect(")", f"missing ')' to close {name.text}(")
        return _node("call", name.pos, name.text.lower(), tuple(args))


def too_long(source: str) -> ExpressionError:
    """The error for input over MAX_LENGTH.  Input that is long because it is deeply
    nested (thousands of '(' or '-') is told so, since that is what needs fixing; a
    rough character scan is enough because the input is refused either way."""
    depth = run = deepest = 0
    for char in source[:MAX_TEXT]:
        if char in "(-":
            depth += char == "("
            run += char == "-"
            deepest = max(deepest, depth + run)
        elif not char.isspace():
            depth -= char == ")"
            run = 0
    if deepest > MAX_DEPTH:
        return _too_deep(None)
    return ExpressionError(
        f"expression is too long ({len(source)} characters, at most {MAX_LENGTH})", MAX_LENGTH)


def parse(source: str) -> Node:
    """Parse source into an untyped tree (length is checked by the caller first)."""
    return _Parser(source).parse()
