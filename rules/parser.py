"""Parse condition strings into `rules.nodes` trees.

The grammar lives in `grammar.lark` (LALR, positions propagated). Errors never escape as
exceptions: `parse` returns the tree or None together with diagnostics whose positions
are mapped into the user's file through an `ExpressionOrigin`.
"""

from __future__ import annotations

import datetime
import json
from functools import cache
from importlib import resources

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from rules import nodes as n
from rules.diagnostics import Diagnostic, ExpressionOrigin

__all__ = ["parse", "MAX_EXPRESSION_LENGTH", "MAX_DEPTH", "MAX_NODE_DEPTH"]

MAX_EXPRESSION_LENGTH = 4000
# Depth of the tree once chains of `and` (or of `or`) count as one level. Every pass
# over the tree is recursive, and the generated code must stay within CPython's limits.
MAX_DEPTH = 40
# Depth counting every node, each link of a chain included. The compiler flattens chains,
# but the printer, the checker and the interpreter recurse into each link, about three
# Python frames a level: this keeps them well inside CPython's 1000 frames.
MAX_NODE_DEPTH = 200

DAYS_PER_UNIT = {"day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30,
                 "year": 365, "years": 365}
CURRENCY_SIGNS = {"£": "GBP", "€": "EUR", "$": "USD"}

# What the user sees instead of Lark's terminal names in "expected ..." hints.
_TOKEN_WORDS = {
    "AND": "and", "OR": "or", "NOT": "not", "IN": "in", "IS": "is", "KNOWN": "known",
    "UNKNOWN": "unknown", "CONTAINS": "contains", "MATCHES": "matches",
    "MENTIONS": "mentions", "VIOLATES": "violates", "WITHIN": "within", "WHERE": "where",
    "LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "COMMA": ",", "DOT": ".",
    "COMPARE": "a comparison (== != < <= > >=)", "ADD_OP": "+ or -", "MUL_OP": "* or /",
    "NUMBER": "a number", "NAME": "a name", "FIELD": "a field name", "RULE_ID": "a rule id", "DATE": "a date",
    "DOUBLE_STRING": "a text in quotes", "SINGLE_STRING": "a text in quotes",
    "CURRENCY": "a currency code", "CURRENCY_SIGN": "£, € or $", "PERCENT": "%",
    "TRUE": "true", "FALSE": "false", "MINUS": "-", "BEFORE": "before", "AFTER": "after",
    "ANY": "any", "ALL": "all", "NONE": "none", "COUNT": "count", "SHARE": "share",
    "$END": "the end of the condition",
}


class _LiteralError(Exception):
    def __init__(self, message: str, token: Token, hint: str = ""):
        super().__init__(message)
        self.token = token
        self.hint = hint


@cache
def _lark() -> Lark:
    grammar = resources.files("rules").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def _span(item) -> n.Span:
    if isinstance(item, Token):
        return n.Span(_at(item.start_pos), _at(item.end_pos))
    return n.Span(item.meta.start_pos, item.meta.end_pos)


def _at(position: int | None) -> int:
    """A position Lark gives as optional; with `propagate_positions` it is always set."""
    return position or 0


@v_args(meta=True)
class _ToNodes(Transformer):
    """Lark tree -> nodes. Each method receives the rule's `meta` (its positions)."""

    def start(self, meta, children):
        return children[0]

    def _s(self, meta):
        return n.Span(meta.start_pos, meta.end_pos)

    def or_(self, meta, c):
        return n.Or(c[0], c[1], span=self._s(meta))

    def and_(self, meta, c):
        return n.And(c[0], c[1], span=self._s(meta))

    def not_(self, meta, c):
        return n.Not(c[0], span=self._s(meta))

    def compare(self, meta, c):
        return n.Compare(str(c[1]), c[0], c[2], span=self._s(meta))

    def arith(self, meta, c):
        return n.Arith(str(c[1]), c[0], c[2], span=self._s(meta))

    def neg(self, meta, c):
        return n.Neg(c[0], span=self._s(meta))

    def is_known(self, meta, c):
        return n.IsKnown(c[0], span=self._s(meta))

    def is_unknown(self, meta, c):
        return n.IsKnown(c[0], negated=True, span=self._s(meta))

    def member(self, meta, c):
        return n.Member(c[0], c[1], span=self._s(meta))

    def not_member(self, meta, c):
        return n.Member(c[0], c[1], negated=True, span=self._s(meta))

    def contains(self, meta, c):
        return n.Contains(c[0], c[1], span=self._s(meta))

    def matches(self, meta, c):
        pattern = c[1]
        return n.Matches(c[0], pattern.value, pattern_span=pattern.span, span=self._s(meta))

    def mentions(self, meta, c):
        return n.Mentions(c[0], str(c[1]), lexicon_span=_span(c[1]), span=self._s(meta))

    def violates(self, meta, c):
        return n.Violates(c[0], str(c[1]), rule_span=_span(c[1]), span=self._s(meta))

    def within(self, meta, c):
        return n.Within(c[0], c[1], c[2], c[3], span=self._s(meta))

    def quantifier(self, meta, c):
        kind, var, collection, condition = c
        return n.Quantifier(kind, str(var), collection, condition,
                            var_span=_span(var), span=self._s(meta))

    def path(self, meta, c):
        return n.Path(tuple(str(t) for t in c), name_spans=tuple(_span(t) for t in c),
                      span=self._s(meta))

    def list(self, meta, c):
        return n.ListLiteral(tuple(x for x in c if x is not None), span=self._s(meta))

    # literals

    def number(self, meta, c):
        text = str(c[0])
        return n.Literal(_number(text), "number", text, span=self._s(meta))

    def percent(self, meta, c):
        value = _number(str(c[0]))
        return n.Literal(value / 100, "ratio", f"{c[0]}%", span=self._s(meta))

    def duration(self, meta, c):
        amount = _number(str(c[0]))
        unit = c[1]
        days = amount * DAYS_PER_UNIT[unit]
        if days != int(days):
            raise _LiteralError(f"{c[0]} {unit} is not a whole number of days", c[0],
                                "dates move in whole days: write the duration in days")
        days = int(days)
        return n.Literal(datetime.timedelta(days=days), "duration", f"{c[0]} {unit}",
                         span=self._s(meta))

    def money(self, meta, c):
        amount = _number(str(c[0]))
        return n.Literal(n.Money(amount, str(c[1])), "money", f"{c[0]} {c[1]}",
                         span=self._s(meta))

    def money_sign(self, meta, c):
        amount = _number(str(c[1]))
        return n.Literal(n.Money(amount, CURRENCY_SIGNS[str(c[0])]), "money", f"{c[0]}{c[1]}",
                         span=self._s(meta))

    def date(self, meta, c):
        token = c[0]
        try:
            value = datetime.date.fromisoformat(str(token))
        except ValueError:
            raise _LiteralError(f"{token} is not a date that exists", token,
                                "dates are written YYYY-MM-DD") from None
        return n.Literal(value, "date", str(token), span=self._s(meta))

    def string(self, meta, c):
        token = c[0]
        try:
            value = json.loads(str(token))
        except ValueError:
            raise _LiteralError("bad escape in text", token,
                                r'inside "..." write \" for a quote and \\ for a backslash, '
                                "or use '...' where backslashes are kept as written") from None
        return _Text(value, n.Span(token.start_pos, token.end_pos), str(token))

    def raw_string(self, meta, c):
        token = c[0]
        return _Text(str(token)[1:-1], n.Span(token.start_pos, token.end_pos), str(token))

    def true(self, meta, c):
        return n.Literal(True, "bool", "true", span=self._s(meta))

    def false(self, meta, c):
        return n.Literal(False, "bool", "false", span=self._s(meta))

    def quantifier_kind(self, meta, c):
        return str(c[0])

    def unit(self, meta, c):
        return str(c[0])

    def direction(self, meta, c):
        return str(c[0])

    def __default__(self, data, children, meta):  # pragma: no cover - grammar and class agree
        raise AssertionError(f"no node for grammar rule {data}")


class _Text:
    """A text literal before it is known whether it is a value or a `matches` pattern."""

    __slots__ = ("value", "span", "text")

    def __init__(self, value: str, span: n.Span, text: str):
        self.value, self.span, self.text = value, span, text

    def node(self) -> n.Literal:
        return n.Literal(self.value, "text", self.text, span=self.span)


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _texts_to_literals(node):
    """Text literals stay `_Text` during the transform; turn the ones used as values into
    `Literal` nodes (a `matches` pattern is kept as a plain string on its node)."""
    if isinstance(node, _Text):
        return node.node()
    if not isinstance(node, n.Node):
        return node
    changes = {}
    for name in node.__dataclass_fields__:
        value = getattr(node, name)
        if isinstance(value, _Text | n.Node):
            changes[name] = _texts_to_literals(value)
        elif isinstance(value, tuple) and value and isinstance(value[0], _Text | n.Node):
            changes[name] = tuple(_texts_to_literals(v) for v in value)
    if not changes:
        return node
    import dataclasses

    return dataclasses.replace(node, **changes)


def _depth(node: n.Node) -> int:
    """Nesting depth, counting a chain of one boolean operator as a single level."""
    kids = n.children(node)
    if not kids:
        return 1
    same = type(node) in (n.And, n.Or)
    return max(_depth(k) - (same and type(k) is type(node)) for k in kids) + 1


def _node_depth(node: n.Node) -> int:
    """Nesting depth, counting every node."""
    return 1 + max(map(_node_depth, n.children(node)), default=0)


def _bracket_depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]":
            depth -= 1
    return deepest


def _expected_words(expected) -> str:
    words = sorted({_TOKEN_WORDS.get(t, t.lower()) for t in expected if not t.startswith("__")})
    if len(words) > 8:
        words = words[:8] + ["..."]
    return ", ".join(words)


def parse(text: str, origin: ExpressionOrigin | None = None) -> tuple[n.Node | None, list[Diagnostic]]:
    """Parse one condition. Returns the tree (None on error) and the diagnostics."""
    origin = origin or ExpressionOrigin.plain(text)
    if len(text) > MAX_EXPRESSION_LENGTH:
        return None, [origin.diagnostic(
            "L003", f"the condition is {len(text)} characters long, more than "
            f"{MAX_EXPRESSION_LENGTH}", 0, 1, "split it into several rules")]
    if not text.strip():
        return None, [origin.diagnostic("P002", "the condition is empty", 0, 0,
                                        "write a condition, for example: post.signals.offers_crossing")]
    if _bracket_depth(text) > MAX_DEPTH:
        return None, [origin.diagnostic("L004", "the condition is nested too deeply", 0, 1,
                                        f"at most {MAX_DEPTH} levels of parentheses")]
    found = _PARSED.get(text)
    if found is not None:
        return found, []
    try:
        tree: Tree = _lark().parse(text)
        node = _texts_to_literals(_ToNodes().transform(tree))
        if isinstance(node, _Text):
            node = node.node()
        depth, node_depth = _depth(node), _node_depth(node)
    except UnexpectedInput as error:
        return None, [_syntax_diagnostic(error, text, origin)]
    except _LiteralError as error:
        token = error.token
        return None, [origin.diagnostic("P003", str(error), _at(token.start_pos), _at(token.end_pos),
                                        error.hint)]
    except RecursionError:
        return None, [_too_deep(origin)]
    except Exception as error:  # an error wrapped by Lark's visitor
        cause = getattr(error, "orig_exc", None)
        if isinstance(cause, _LiteralError):
            token = cause.token
            return None, [origin.diagnostic("P003", str(cause), _at(token.start_pos), _at(token.end_pos),
                                            cause.hint)]
        if isinstance(cause, RecursionError):
            return None, [_too_deep(origin)]
        raise
    if depth > MAX_DEPTH:
        return None, [origin.diagnostic("L004", "the condition is nested too deeply", 0, 1,
                                        f"at most {MAX_DEPTH} levels of operators")]
    if node_depth > MAX_NODE_DEPTH:
        return None, [_too_deep(origin)]
    if len(_PARSED) >= _PARSED_LIMIT:
        _PARSED.pop(next(iter(_PARSED)))
    _PARSED[text] = node
    return node, []


# Conditions recur from one version of a rule set to the next, and trees are frozen, with
# positions relative to the condition's own text: a condition met again is not parsed
# again. Only trees without diagnostics are kept; the oldest go first.
_PARSED: dict[str, n.Node] = {}
_PARSED_LIMIT = 20_000


def _too_deep(origin: ExpressionOrigin) -> Diagnostic:
    """Every pass over a tree recurses, the parser's own first: a tree too deep for
    Python's stack (hundreds of `not`, or of `or` in one chain) is refused here."""
    return origin.diagnostic("L004", "the condition is nested too deeply", 0, 1,
                             f"at most {MAX_DEPTH} levels of operators, and at most "
                             f"{MAX_NODE_DEPTH} conditions in one chain of and/or; split "
                             "it into several rules")


def _syntax_diagnostic(error: UnexpectedInput, text: str, origin: ExpressionOrigin) -> Diagnostic:
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        # Lark's end token borrows the position of the last token read, which is where
        # the condition really stops (a trailing comment is not part of it).
        token = getattr(error, "token", None)
        end = token.end_pos if token is not None and token.end_pos else len(text.rstrip())
        expected = _expected_words(getattr(error, "expected", ()) or ())
        return origin.diagnostic("P002", "the condition ends too early", max(end - 1, 0), end,
                                 f"expected {expected}" if expected else "")
    if isinstance(error, UnexpectedCharacters):
        start = _at(error.pos_in_stream)
        ch = text[start] if start < len(text) else ""
        expected = _expected_words(error.allowed or ())
        hint = f"expected {expected}" if expected else ""
        if ch == "=":
            hint = "use == to compare"
        elif ch in "&|!":
            hint = "write and, or, not"
        elif ch == "'" or ch == '"':
            hint = "a text must be closed on the same line with the same quote"
        elif ch.isupper():
            hint = "names are written in lower case; currency codes follow an amount (3000 GBP)"
        return origin.diagnostic("P001", f"unexpected character {ch!r}", start, start + 1, hint)
    assert isinstance(error, UnexpectedToken)
    token = error.token
    expected = _expected_words(error.expected or ())
    word = str(token)
    message = f"unexpected {word!r}"
    hint = f"expected {expected}" if expected else ""
    if word == "=":
        hint = "use == to compare"
    elif word in {"&&", "||", "!"}:
        hint = "write and, or, not"
    start = _at(token.start_pos)
    return origin.diagnostic("P001", message, start, token.end_pos or start + len(word), hint)
