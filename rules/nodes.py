"""The syntax tree of the expression language.

Every node is a frozen, slotted dataclass that carries the `Span` of the text it came
from, so any later pass can point at the exact characters a user wrote. Spans take no
part in equality: two trees are equal when they say the same thing, wherever it was
written (the printer's round trip relies on this).

Names follow the grammar rules they come from (`rules/grammar.lark`). Paths are kept as
written; the checker resolves what each one names (evidence, variable or parameter).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

__all__ = [
    "Span", "Node", "Literal", "ListLiteral", "Path", "Param", "Not", "And", "Or", "Compare",
    "Arith", "Neg", "IsKnown", "Member", "Contains", "Matches", "Mentions", "Violates",
    "Within", "Quantifier", "Money", "children", "walk",
]


@dataclass(frozen=True, slots=True)
class Span:
    """Character offsets into one expression string, end exclusive."""

    start: int
    end: int


NO_SPAN = Span(0, 0)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency; amounts in different currencies never compare."""

    amount: int | float
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


@dataclass(frozen=True, slots=True)
class Node:
    span: Span = field(default=NO_SPAN, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A constant. `kind` is one of: bool, number, ratio, text, date, duration, money."""

    value: bool | int | float | str | datetime.date | datetime.timedelta | Money
    kind: str
    # How the user wrote it (`90 days`, `50%`, `£300`), so the printer gives it back.
    text: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Path(Node):
    """A dotted name: `post.signals.price`, `p.posted`, `page_violation_limit`."""

    names: tuple[str, ...]
    name_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)

    @property
    def root(self) -> str:
        return self.names[0]

    def __str__(self) -> str:
        return ".".join(self.names)


@dataclass(frozen=True, slots=True)
class Param(Node):
    """A parameter of the rule set, such as a threshold; the checker turns a bare name
    that names a parameter into this node. Its value depends on the evaluation date."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class And(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Compare(Node):
    op: str  # one of == != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Arith(Node):
    op: str  # one of + - * /
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class IsKnown(Node):
    """`x is known` (or `x is unknown` when `negated`): never itself unknown."""

    operand: Node
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Member(Node):
    """`x in collection` (or `x not in collection` when `negated`)."""

    element: Node
    collection: Node
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Contains(Node):
    """Case-insensitive substring test on text."""

    text: Node
    needle: Node


@dataclass(frozen=True, slots=True)
class Matches(Node):
    """A regular expression (RE2 syntax, linear time) searched in text."""

    text: Node
    pattern: str
    pattern_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Mentions(Node):
    """Text mentions a word or phrase of a named lexicon, after normalisation."""

    text: Node
    lexicon: str
    lexicon_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Violates(Node):
    """`subject violates rule-id`: the rule fired on that subject and no exception overrode it."""

    subject: Node
    rule: str
    rule_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Within(Node):
    """`date within duration before|after anchor`, both ends included."""

    subject: Node
    duration: Node
    direction: str  # "before" or "after"
    anchor: Node


@dataclass(frozen=True, slots=True)
class Quantifier(Node):
    """`any|all|none|count|share(var in collection where condition)`."""

    kind: str
    var: str
    collection: Node
    condition: Node | None
    var_span: Span = field(default=NO_SPAN, compare=False, repr=False)


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of `node`, left to right."""
    match node:
        case Literal() | Path() | Param():
            return ()
        case ListLiteral(items=items):
            return items
        case Not(operand=o) | Neg(operand=o) | IsKnown(operand=o):
            return (o,)
        case And(left=a, right=b) | Or(left=a, right=b) | Compare(left=a, right=b) | Arith(
            left=a, right=b
        ):
            return (a, b)
        case Member(element=a, collection=b):
            return (a, b)
        case Contains(text=a, needle=b):
            return (a, b)
        case Matches(text=a) | Mentions(text=a):
            return (a,)
        case Violates(subject=a):
            return (a,)
        case Within(subject=a, duration=b, anchor=c):
            return (a, b, c)
        case Quantifier(collection=c, condition=w):
            return (c,) if w is None else (c, w)
    raise TypeError(f"not a node: {node!r}")


def walk(node: Node):
    """Every node of the tree, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))
