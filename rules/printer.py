"""Print a tree back as canonical condition text.

`parse(unparse(tree)) == tree` for every tree (a property test holds it), which is
what `takedown fmt` and error messages that quote a sub-expression rely on. Parentheses
are written only where precedence needs them.

`unparse_pretty` lays the same text out over lines for rule files (`takedown fmt`), and
`changed_parts` names, in the same canonical text, what differs between two trees
(`takedown diff`). Both read `and`/`or` chains as lists of operands, as people do.
"""

from __future__ import annotations

import datetime
import decimal
import json
from typing import Any

from rules import nodes as n

__all__ = ["unparse", "unparse_pretty", "changed_parts"]

# Binding strength: higher binds tighter.
_OR, _AND, _NOT, _PREDICATE, _SUM, _PRODUCT, _UNARY, _ATOM = range(8)


def _precedence(node: n.Node) -> int:
    match node:
        case n.Or():
            return _OR
        case n.And():
            return _AND
        case n.Not():
            return _NOT
        case n.Compare() | n.IsKnown() | n.Member() | n.Contains() | n.Matches() | n.Mentions() \
                | n.Violates() | n.Within():
            return _PREDICATE
        case n.Arith(op=op):
            return _SUM if op in "+-" else _PRODUCT
        case n.Neg():
            return _UNARY
    return _ATOM


def unparse(node: n.Node) -> str:
    return _Printer().show(node)


class _Printer:
    def show(self, node: n.Node) -> str:
        return getattr(self, "show_" + type(node).__name__)(node)

    def wrap(self, node: n.Node, minimum: int) -> str:
        text = self.show(node)
        return f"({text})" if _precedence(node) < minimum else text

    def show_Literal(self, node: n.Literal) -> str:
        value: Any = node.value  # of the type `kind` names
        match node.kind:
            case "bool":
                return "true" if value else "false"
            case "number":
                return _number(value)
            case "ratio":
                percent = round(value * 100, 10)
                return _number(int(percent) if float(percent).is_integer() else percent) + "%"
            case "text":
                return json.dumps(value, ensure_ascii=False)
            case "date":
                return value.isoformat()
            case "duration":
                return _duration(value)
            case "money":
                return f"{_number(value.amount)} {value.currency}"
        raise AssertionError(node.kind)

    def show_ListLiteral(self, node: n.ListLiteral) -> str:
        return "[" + ", ".join(self.show(i) for i in node.items) + "]"

    def show_Path(self, node: n.Path) -> str:
        return ".".join(node.names)

    def show_Param(self, node: n.Param) -> str:
        return node.name

    def show_Or(self, node: n.Or) -> str:
        return f"{self.wrap(node.left, _OR)} or {self.wrap(node.right, _AND)}"

    def show_And(self, node: n.And) -> str:
        return f"{self.wrap(node.left, _AND)} and {self.wrap(node.right, _NOT)}"

    def show_Not(self, node: n.Not) -> str:
        return f"not {self.wrap(node.operand, _NOT)}"

    def show_Compare(self, node: n.Compare) -> str:
        return f"{self.wrap(node.left, _SUM)} {node.op} {self.wrap(node.right, _SUM)}"

    def show_Arith(self, node: n.Arith) -> str:
        own = _SUM if node.op in "+-" else _PRODUCT
        return f"{self.wrap(node.left, own)} {node.op} {self.wrap(node.right, own + 1)}"

    def show_Neg(self, node: n.Neg) -> str:
        return f"-{self.wrap(node.operand, _UNARY)}"

    def show_IsKnown(self, node: n.IsKnown) -> str:
        return f"{self.wrap(node.operand, _SUM)} is {'unknown' if node.negated else 'known'}"

    def show_Member(self, node: n.Member) -> str:
        word = "not in" if node.negated else "in"
        return f"{self.wrap(node.element, _SUM)} {word} {self.wrap(node.collection, _SUM)}"

    def show_Contains(self, node: n.Contains) -> str:
        return f"{self.wrap(node.text, _SUM)} contains {self.wrap(node.needle, _SUM)}"

    def show_Matches(self, node: n.Matches) -> str:
        if "'" not in node.pattern and "\n" not in node.pattern:
            pattern = f"'{node.pattern}'"
        else:
            pattern = json.dumps(node.pattern, ensure_ascii=False)
        return f"{self.wrap(node.text, _SUM)} matches {pattern}"

    def show_Mentions(self, node: n.Mentions) -> str:
        return f"{self.wrap(node.text, _SUM)} mentions {node.lexicon}"

    def show_Violates(self, node: n.Violates) -> str:
        return f"{self.wrap(node.subject, _SUM)} violates {node.rule}"

    def show_Within(self, node: n.Within) -> str:
        return (f"{self.wrap(node.subject, _SUM)} within {self.wrap(node.duration, _SUM)} "
                f"{node.direction} {self.wrap(node.anchor, _SUM)}")

    def show_Quantifier(self, node: n.Quantifier) -> str:
        where = f" where {self.show(node.condition)}" if node.condition is not None else ""
        return f"{node.kind}({node.var} in {self.show(node.collection)}{where})"


def _number(value) -> str:
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value)) + ".0"
        # Positional notation: the grammar has no exponents, and repr writes 1e-05.
        # The digits are repr's, the shortest that read back as the same float.
        return format(decimal.Decimal(repr(value)), "f")
    return str(value)


def _duration(value: datetime.timedelta) -> str:
    days = value.days
    if value.seconds or value.microseconds:
        return f"{_number(value.total_seconds() / 86400)} days"
    if days and days % 365 == 0:
        years = days // 365
        return f"{years} year{'s' if years != 1 else ''}"
    if days and days % 7 == 0 and days % 30:
        weeks = days // 7
        return f"{weeks} week{'s' if weeks != 1 else ''}"
    return f"{days} day{'s' if days != 1 else ''}"


# Laying canonical text out over lines

def unparse_pretty(node: n.Node, width: int = 80) -> str:
    """The canonical text of `node`, broken over lines of at most `width` characters
    where the expression allows it.

    The text is `unparse(node)` with line breaks and indentation added, so it parses to
    the same tree; a condition that fits on one line is exactly `unparse(node)`. A
    longer one is broken from the outside in:

    - a chain of `or` (or of `and`) puts one operand per line, each after the first
      led by its operator, under the first operand;
    - after a quantifier's `where`, which goes on a line of its own under the variable,
      the operators of a chain end where `where` ends, so the operands line up;
    - an operand in parentheses is broken inside them, one column in;
    - any other operator that does not fit starts the next line, two columns in.

    Names, literals and anything else that cannot be broken stay whole, even when they
    are longer than `width`.
    """
    return "\n".join(_Layout(width).lay(node, 0, 0))


def _operands(node: n.Node) -> list[tuple[n.Node, int]]:
    """The operands of an `and` or `or` chain, left to right, each with the precedence
    below which the printer puts it in parentheses (as `unparse` does)."""
    kind = type(node)
    right_minimum = _AND if kind is n.Or else _NOT
    out: list[tuple[n.Node, int]] = []
    while isinstance(node, n.And | n.Or) and type(node) is kind:
        out.append((node.right, right_minimum))
        node = node.left
    out.append((node, _OR if kind is n.Or else _AND))
    out.reverse()
    return out


class _Layout:
    """Each method returns lines: the first is placed by the caller at column `col`
    (it has no indentation of its own), the others carry their full indentation.
    `trail` counts characters the caller will add after the last line (closing
    parentheses); `room` counts characters of a keyword written just before the first
    line (`where `), which the operators of a chain can align with."""

    def __init__(self, width: int):
        self.width = width
        self.flat = _Printer()

    def lay(self, node: n.Node, col: int, trail: int, room: int = 0) -> list[str]:
        flat = self.flat.show(node)
        if col + len(flat) + trail <= self.width:
            return [flat]
        method = getattr(self, "lay_" + type(node).__name__, None)
        return [flat] if method is None else method(node, col, trail, room)

    def operand(self, node: n.Node, minimum: int, col: int, trail: int) -> list[str]:
        """`node` as an operand: in parentheses when it binds more loosely than `minimum`."""
        if _precedence(node) >= minimum:
            return self.lay(node, col, trail)
        lines = self.lay(node, col + 1, trail + 1, room=1)
        return ["(" + lines[0], *lines[1:-1], lines[-1] + ")"] if len(lines) > 1 else [
            f"({lines[0]})"]

    def chain(self, node: n.Node, word: str, col: int, trail: int, room: int) -> list[str]:
        lead = word + " "
        if len(lead) <= room:  # after `where`: operators end where the operands start
            word_col, operand_col = col - len(lead), col
        else:
            word_col, operand_col = col, col + len(lead)
        operands = _operands(node)
        lines: list[str] = []
        for index, (child, minimum) in enumerate(operands):
            last = index == len(operands) - 1
            if index == 0:
                lines += self.operand(child, minimum, col, trail if last else 0)
                continue
            part = self.operand(child, minimum, operand_col, trail if last else 0)
            lines.append(" " * word_col + lead + part[0])
            lines += part[1:]
        return lines

    def lay_Or(self, node: n.Or, col: int, trail: int, room: int) -> list[str]:
        return self.chain(node, "or", col, trail, room)

    def lay_And(self, node: n.And, col: int, trail: int, room: int) -> list[str]:
        return self.chain(node, "and", col, trail, room)

    def lay_Not(self, node: n.Not, col: int, trail: int, room: int) -> list[str]:
        return self.prefixed("not ", self.operand(node.operand, _NOT, col + 4, trail))

    def lay_Neg(self, node: n.Neg, col: int, trail: int, room: int) -> list[str]:
        return self.prefixed("-", self.operand(node.operand, _UNARY, col + 1, trail))

    @staticmethod
    def prefixed(prefix: str, lines: list[str]) -> list[str]:
        return [prefix + lines[0], *lines[1:]]

    def fits(self, lines: list[str], col: int) -> bool:
        return col + len(lines[0]) <= self.width and all(len(x) <= self.width for x in lines[1:])

    def binary(self, left: n.Node, left_minimum: int, op: str, right: n.Node,
               right_minimum: int, col: int, trail: int) -> list[str]:
        """`left op right`, with the right operand broken where it stands when the left
        one is short (`x in [...]`), else with `op` leading the next line, two columns in."""
        lines = self.operand(left, left_minimum, col, 0)
        if len(lines) == 1:
            head = f"{lines[0]} {op} "
            part = self.operand(right, right_minimum, col + len(head), trail)
            tight = [head + part[0], *part[1:]]
            if self.fits(tight[:-1] + [tight[-1] + " " * trail], col):
                return tight
        indent = col + 2
        part = self.operand(right, right_minimum, indent + len(op) + 1, trail)
        return [*lines, " " * indent + f"{op} " + part[0], *part[1:]]

    def lay_Compare(self, node: n.Compare, col: int, trail: int, room: int) -> list[str]:
        return self.binary(node.left, _SUM, node.op, node.right, _SUM, col, trail)

    def lay_Arith(self, node: n.Arith, col: int, trail: int, room: int) -> list[str]:
        own = _SUM if node.op in "+-" else _PRODUCT
        return self.binary(node.left, own, node.op, node.right, own + 1, col, trail)

    def lay_Member(self, node: n.Member, col: int, trail: int, room: int) -> list[str]:
        word = "not in" if node.negated else "in"
        return self.binary(node.element, _SUM, word, node.collection, _SUM, col, trail)

    def lay_Contains(self, node: n.Contains, col: int, trail: int, room: int) -> list[str]:
        return self.binary(node.text, _SUM, "contains", node.needle, _SUM, col, trail)

    def suffixed(self, operand: n.Node, suffix: str, col: int, trail: int) -> list[str]:
        lines = self.operand(operand, _SUM, col, trail + len(suffix))
        return [*lines[:-1], lines[-1] + suffix]

    def lay_IsKnown(self, node: n.IsKnown, col: int, trail: int, room: int) -> list[str]:
        return self.suffixed(node.operand, " is unknown" if node.negated else " is known",
                             col, trail)

    def lay_Matches(self, node: n.Matches, col: int, trail: int, room: int) -> list[str]:
        flat = self.flat.show(node)
        pattern = flat[len(self.flat.wrap(node.text, _SUM)):]  # " matches '...'"
        return self.suffixed(node.text, pattern, col, trail)

    def lay_Mentions(self, node: n.Mentions, col: int, trail: int, room: int) -> list[str]:
        return self.suffixed(node.text, f" mentions {node.lexicon}", col, trail)

    def lay_Violates(self, node: n.Violates, col: int, trail: int, room: int) -> list[str]:
        return self.suffixed(node.subject, f" violates {node.rule}", col, trail)

    def lay_Within(self, node: n.Within, col: int, trail: int, room: int) -> list[str]:
        lines = self.operand(node.subject, _SUM, col, 0)
        indent = col + 2
        duration = self.operand(node.duration, _SUM, indent + len("within "), 0)
        lines += [" " * indent + "within " + duration[0], *duration[1:]]
        lead = f" {node.direction} "
        anchor = self.operand(node.anchor, _SUM, len(lines[-1]) + len(lead), trail)
        lines[-1] += lead + anchor[0]
        return [*lines, *anchor[1:]]

    def lay_Quantifier(self, node: n.Quantifier, col: int, trail: int, room: int) -> list[str]:
        head = f"{node.kind}({node.var} in "
        has_where = node.condition is not None
        collection = self.lay(node.collection, col + len(head), 0 if has_where else trail + 1)
        lines = [head + collection[0], *collection[1:]]
        if node.condition is not None:
            where_col = col + len(node.kind) + 1  # under the variable
            condition = self.lay(node.condition, where_col + len("where "), trail + 1,
                                 room=len("where "))
            lines += [" " * where_col + "where " + condition[0], *condition[1:]]
        lines[-1] += ")"
        return lines

    def lay_ListLiteral(self, node: n.ListLiteral, col: int, trail: int, room: int) -> list[str]:
        """Items fill each line, the next lines starting under the first item."""
        lines: list[str] = []
        current, used, empty = "[", col + 1, True
        for index, item in enumerate(node.items):
            last = index == len(node.items) - 1
            piece = self.flat.show(item) + ("]" if last else ",")
            extra = trail if last else 0
            if not empty and used + 1 + len(piece) + extra > self.width:
                lines.append(current)
                current, used = " " * (col + 1) + piece, col + 1 + len(piece)
            else:
                current += ("" if empty else " ") + piece
                used += (0 if empty else 1) + len(piece)
            empty = False
        if empty:
            current += "]"
        return [*lines, current]


# What differs between two trees

def changed_parts(old: n.Node, new: n.Node) -> list[tuple[str | None, str | None]]:
    """The smallest sub-expressions in which `old` and `new` differ, as pairs of
    canonical texts (old, new); None stands for an operand that one side does not have.

    Trees are compared as `==` does, ignoring how they were written. Two `and` (or two
    `or`) chains are compared operand by operand, whatever their order: an operand only
    one side has is reported alone. Otherwise the comparison descends while exactly one
    direct part differs, so that `count(...) >= 5` against `count(...) >= 3` gives
    `5` and `3`. Empty when the trees are equal.
    """
    if old == new:
        return []
    if type(old) is type(new) and isinstance(old, n.And | n.Or):
        removed = [child for child, _ in _operands(old)]
        added = []
        for child, _ in _operands(new):
            if child in removed:
                removed.remove(child)
            else:
                added.append(child)
        if len(removed) == 1 and len(added) == 1:
            return changed_parts(removed[0], added[0])
        if removed or added:
            return [(unparse(x), None) for x in removed] + [(None, unparse(y)) for y in added]
        return [(unparse(old), unparse(new))]  # the same operands in another order
    if type(old) is type(new) and _own_fields(old) == _own_fields(new):
        pairs = [(a, b) for a, b in zip(n.children(old), n.children(new), strict=True) if a != b]
        if len(pairs) == 1:
            return changed_parts(*pairs[0])
    return [(unparse(old), unparse(new))]


def _own_fields(node: n.Node) -> tuple:
    """What a node says besides its sub-expressions: an operator, a rule id, a value."""
    values = []
    for name in node.__dataclass_fields__:
        spec = node.__dataclass_fields__[name]
        value = getattr(node, name)
        if not spec.compare or isinstance(value, n.Node):
            continue
        if isinstance(value, tuple) and value and isinstance(value[0], n.Node):
            values.append(len(value))
            continue
        values.append(value)
    return tuple(values)
