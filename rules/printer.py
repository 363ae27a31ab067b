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
        value = node.value
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
