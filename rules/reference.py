"""The reference interpreter: slow, obviously correct, and the traced path.

It walks the tree node by node and reports every sub-expression's value to a tracer.
Tests hold the compiled code to it (compiled == reference over generated expressions
and evidence), and `takedown explain` runs it to show a full evaluation trace. The fast
path never comes here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from rules import nodes as n
from rules import runtime as rt
from rules.checker import Matcher

__all__ = ["Tracer", "NullTracer", "RecordingTracer", "evaluate"]


class Tracer(Protocol):
    """What the traced path tells: each node's value, with the variables then bound."""

    def value(self, node: n.Node, value: Any, env: Mapping[str, Any]) -> None: ...


class NullTracer:
    def value(self, node, value, env) -> None:
        pass


class RecordingTracer:
    """Keeps every (node, value, bindings) event in evaluation order."""

    def __init__(self) -> None:
        self.events: list[tuple[n.Node, Any, dict]] = []

    def value(self, node, value, env) -> None:
        self.events.append((node, value, dict(env)))


def evaluate(node: n.Node, env: Mapping[str, Any], params: Mapping[str, Any],
             verdicts: Mapping[str, Mapping[int, Any]], lexicons: Mapping[str, Any],
             tracer: Tracer | None = None) -> Any:
    """The value of `node` with `env` binding evidence roots and variables.

    `params` holds parameter values for the evaluation date; `verdicts` maps a rule id
    to {id(subject): verdict}; `lexicons` maps a lexicon name to its `Lexicon`.
    """
    interpreter = _Interpreter(params, verdicts, lexicons, tracer or NullTracer())
    return interpreter.eval(node, dict(env))


class _Interpreter:
    def __init__(self, params, verdicts, lexicons, tracer):
        self.params = params
        self.verdicts = verdicts
        self.lexicons = lexicons
        self.tracer = tracer
        self.patterns: dict[str, Any] = {}

    def eval(self, node: n.Node, env: dict) -> Any:
        value = getattr(self, "eval_" + type(node).__name__)(node, env)
        self.tracer.value(node, value, env)
        return value

    def eval_Literal(self, node: n.Literal, env):
        return node.value

    def eval_ListLiteral(self, node: n.ListLiteral, env):
        return tuple(self.eval(item, env) for item in node.items)

    def eval_Path(self, node: n.Path, env):
        value = env.get(node.root)
        for name in node.names[1:]:
            if not isinstance(value, Mapping):
                return None
            value = value.get(name)
        return value

    def eval_Param(self, node: n.Param, env):
        return self.params.get(node.name)

    def eval_Not(self, node: n.Not, env):
        return rt.not3(self.eval(node.operand, env))

    def eval_And(self, node: n.And, env):
        left = self.eval(node.left, env)
        if left is False:
            return False
        return rt.and3(left, self.eval(node.right, env))

    def eval_Or(self, node: n.Or, env):
        left = self.eval(node.left, env)
        if left is True:
            return True
        return rt.or3(left, self.eval(node.right, env))

    def eval_Compare(self, node: n.Compare, env):
        return rt.compare(node.op, self.eval(node.left, env), self.eval(node.right, env))

    def eval_Arith(self, node: n.Arith, env):
        return rt.arith(node.op, self.eval(node.left, env), self.eval(node.right, env))

    def eval_Neg(self, node: n.Neg, env):
        return rt.negate(self.eval(node.operand, env))

    def eval_IsKnown(self, node: n.IsKnown, env):
        known = rt.is_known(self.eval(node.operand, env))
        return not known if node.negated else known

    def eval_Member(self, node: n.Member, env):
        result = rt.member(self.eval(node.element, env), self.eval(node.collection, env))
        return rt.not3(result) if node.negated else result

    def eval_Contains(self, node: n.Contains, env):
        return rt.contains(self.eval(node.text, env), self.eval(node.needle, env))

    def eval_Matches(self, node: n.Matches, env):
        pattern = self.patterns.get(node.pattern)
        if pattern is None:
            pattern = self.patterns[node.pattern] = Matcher(node.pattern)
        return rt.matches(pattern, self.eval(node.text, env))

    def eval_Mentions(self, node: n.Mentions, env):
        return rt.mentions(self.lexicons[node.lexicon], self.eval(node.text, env))

    def eval_Violates(self, node: n.Violates, env):
        subject = self.eval(node.subject, env)
        if subject is None:
            return None
        return self.verdicts.get(node.rule, {}).get(id(subject))

    def eval_Within(self, node: n.Within, env):
        return rt.within(self.eval(node.subject, env), self.eval(node.duration, env),
                         node.direction, self.eval(node.anchor, env))

    def eval_Quantifier(self, node: n.Quantifier, env):
        collection = self.eval(node.collection, env)
        if collection is None:
            return {"count": rt.UNKNOWN_COUNT, "share": rt.UNKNOWN_SHARE}.get(node.kind)
        results = []
        for item in collection:
            if node.condition is None:
                results.append(True)
                continue
            inner = dict(env)
            inner[node.var] = item
            results.append(self.eval(node.condition, inner))
        return {"any": rt.any3, "all": rt.all3, "none": rt.none3, "count": rt.count3,
                "share": rt.share3}[node.kind](results)
