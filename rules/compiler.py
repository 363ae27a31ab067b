"""Compile checked conditions to Python functions, once per rule set.

Following Jinja2's model, the compiler writes plain Python source, compiles it once and
keeps it. The generated code is boring and sealed:
- it contains no text the user wrote: every literal (numbers, texts, field names,
  dates, patterns, lexicons) is taken from a constant table and bound to a generated
  name; identifiers are generated too;
- it calls only the small runtime in `rules.runtime` and the builtins `len`, `id` and
  `type`, and is executed with no other builtins;
- it does no tracing: the traced path is the reference interpreter.

Each condition becomes `def rule_N(post, page, request, P, V)` where `P` maps parameter
names to their values on the evaluation date and `V` maps a rule id to the verdicts
already reached, {id(subject): True, False or None}.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rules import nodes as n
from rules import runtime as rt
from rules.checker import Matcher
from rules.ruleset import Rule, RuleSet

__all__ = ["CompiledRuleSet", "compile_conditions", "compile_ruleset", "evaluation_order"]

ConditionFunction = Callable[[Any, Any, Any, Mapping, Mapping], Any]

_RUNTIME_NAMES = ("compare", "arith", "negate", "is_known", "member", "contains", "matches",
                  "mentions", "within", "any3", "all3", "none3", "count3", "share3", "not3")
_BUILTINS = {"len": len, "id": id, "type": type}


@dataclass(frozen=True, slots=True)
class CompiledRuleSet:
    """A rule set's conditions as functions, and the order to evaluate its rules in."""

    ruleset: RuleSet
    functions: Mapping[str, ConditionFunction]  # rule or exception id -> condition
    order: tuple[Rule, ...]  # post rules, then page rules, then request rules
    source: str
    verdicts: Mapping[str, str]  # rule or exception id -> its verdict
    severe: frozenset[str]  # ids of the rules whose severity is `severe`


def evaluation_order(ruleset: RuleSet) -> tuple[Rule, ...]:
    """Rules in an order where every rule comes after the rules it refers to with
    `violates`: post rules first, then page rules, then request rules; within a level,
    dependencies first (the loader has refused cycles)."""
    level = {"post": 0, "page": 1, "request": 2}
    by_id = {r.id: r for r in ruleset.rules}
    done: dict[str, None] = {}

    def deps(rule: Rule) -> list[str]:
        out: list[str] = []
        for r in (rule, *rule.exceptions):
            if r.condition is not None:
                out.extend(x.rule for x in n.walk(r.condition) if isinstance(x, n.Violates))
        return out

    def visit(rule: Rule) -> None:
        if rule.id in done:
            return
        done[rule.id] = None  # mark first: cycles were refused when loading
        for dep in deps(rule):
            if dep in by_id:
                visit(by_id[dep])
        done.pop(rule.id)
        done[rule.id] = None

    for rule in sorted(ruleset.rules, key=lambda r: level[r.applies_to]):
        visit(rule)
    ordered = [by_id[rid] for rid in done]
    return tuple(sorted(ordered, key=lambda r: level[r.applies_to]))


def compile_ruleset(ruleset: RuleSet) -> CompiledRuleSet:
    conditions = [(r.id, r.condition) for r in ruleset.all_rules() if r.condition is not None]
    functions, source = compile_conditions(
        conditions, ruleset.lexicons, filename=f"<{ruleset.id} {ruleset.version}>")
    verdicts = {r.id: r.verdict for r in ruleset.all_rules()}
    severe = frozenset(r.id for r in ruleset.all_rules() if r.severity == "severe")
    return CompiledRuleSet(ruleset, functions, evaluation_order(ruleset), source, verdicts,
                           severe)


def compile_conditions(conditions: Sequence[tuple[str, n.Node]],
                       lexicons: Mapping[str, Any],
                       filename: str = "<rules>") -> tuple[dict[str, ConditionFunction], str]:
    """Compile (key, condition) pairs; returns {key: function} and the generated source."""
    gen = _Generator(lexicons)
    bodies = []
    for index, (_key, condition) in enumerate(conditions):
        gen.reset_scope()
        expression = gen.expr(condition, {"post": "post", "page": "page", "request": "request"})
        bodies.append(f"    def rule_{index}(post, page, request, P, V):\n"
                      f"        return {expression}\n")
    lines = ["def _factory(K, R):"]
    lines += [f"    k{i} = K[{i}]" for i in range(len(gen.constants))]
    lines += [f"    _{name} = R.{name}" for name in _RUNTIME_NAMES]
    lines += ["    _E = R.EMPTY",
              "    _UNKNOWN_COUNT = R.UNKNOWN_COUNT", "    _UNKNOWN_SHARE = R.UNKNOWN_SHARE"]
    lines += bodies
    lines.append("    return (" + "".join(f"rule_{i}, " for i in range(len(bodies))) + ")")
    source = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = {"__builtins__": _BUILTINS}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - generated, no user text
    functions = namespace["_factory"](tuple(gen.constants), _Runtime)
    return {key: fn for (key, _), fn in zip(conditions, functions, strict=True)}, source


class _CachedLexicon:
    """A lexicon whose answers are remembered per text: several rules, and the engine's
    what-if runs, ask the same lexicon about the same post text."""

    __slots__ = ("lexicon", "matches")

    def __init__(self, lexicon: Any, size: int = 4096):
        self.lexicon = lexicon
        self.matches = lru_cache(maxsize=size)(lexicon.matches)


class _Runtime:
    """The names generated code may reach: the runtime functions and a few constants."""

    EMPTY: Mapping = {}
    UNKNOWN_COUNT = rt.UNKNOWN_COUNT
    UNKNOWN_SHARE = rt.UNKNOWN_SHARE


for _name in _RUNTIME_NAMES:
    setattr(_Runtime, _name, staticmethod(getattr(rt, _name)))


def _may_be_interval(node: n.Node) -> bool:
    """Whether a numeric expression can evaluate to an `Interval` (it has a count or a
    share outside any quantifier's condition)."""
    match node:
        case n.Quantifier(kind=kind):
            return kind in ("count", "share")
        case n.Arith(left=a, right=b):
            return _may_be_interval(a) or _may_be_interval(b)
        case n.Neg(operand=a):
            return _may_be_interval(a)
    return False


def _may_be_money(node: n.Node) -> bool:
    match node:
        case n.Literal(kind=kind):
            return kind == "money"
        case n.Arith(left=a, right=b):
            return _may_be_money(a) or _may_be_money(b)
        case n.Neg(operand=a):
            return _may_be_money(a)
    # A path or a parameter may hold money: only the checker's types say, and the
    # compiler does not depend on them, so stay general.
    return isinstance(node, n.Path | n.Param)


class _Generator:
    def __init__(self, lexicons: Mapping[str, Any]):
        self.lexicons = lexicons
        self.constants: list[Any] = []
        self._constant_index: dict[tuple, int] = {}
        self._temps = 0
        self._vars = 0
        self._matchers: dict[str, _CachedLexicon] = {}

    def _matcher(self, name: str) -> _CachedLexicon:
        found = self._matchers.get(name)
        if found is None:
            found = self._matchers[name] = _CachedLexicon(self.lexicons[name])
        return found

    def reset_scope(self) -> None:
        self._temps = 0
        self._vars = 0

    def const(self, value: Any) -> str:
        key = (type(value).__name__, repr(value)) if _is_plain(value) else ("id", id(value))
        index = self._constant_index.get(key)
        if index is None:
            index = self._constant_index[key] = len(self.constants)
            self.constants.append(value)
        return f"k{index}"

    def temp(self) -> str:
        self._temps += 1
        return f"t{self._temps}"

    def expr(self, node: n.Node, names: dict[str, str]) -> str:
        return getattr(self, "gen_" + type(node).__name__)(node, names)

    # values

    def gen_Literal(self, node: n.Literal, names):
        if node.kind == "bool":
            return "True" if node.value else "False"
        return self.const(node.value)

    def gen_ListLiteral(self, node: n.ListLiteral, names):
        literals = [i for i in node.items if isinstance(i, n.Literal)]
        if len(literals) == len(node.items):
            return self.const(tuple(i.value for i in literals))
        return "(" + "".join(self.expr(i, names) + ", " for i in node.items) + ")"

    def gen_Path(self, node: n.Path, names):
        code = names[node.root]
        if len(node.names) == 1:
            return code
        code = f"({code} or _E)"
        for name in node.names[1:-1]:
            code = f"({code}.get({self.const(name)}) or _E)"
        return f"{code}.get({self.const(node.names[-1])})"

    def gen_Param(self, node: n.Param, names):
        return f"P[{self.const(node.name)}]"

    # logic: Kleene's, short-circuiting, chains flattened so that long conditions do not
    # nest parentheses deeper than CPython allows

    def _chain(self, node: n.Node, cls) -> list[n.Node]:
        if isinstance(node, n.And | n.Or) and type(node) is cls:
            return self._chain(node.left, cls) + self._chain(node.right, cls)
        return [node]

    def gen_And(self, node: n.And, names):
        return self._junction(self._chain(node, n.And), names, stop=False)

    def gen_Or(self, node: n.Or, names):
        return self._junction(self._chain(node, n.Or), names, stop=True)

    def _junction(self, items: list[n.Node], names, stop: bool) -> str:
        word = "True" if stop else "False"
        temps, parts = [], []
        for item in items:
            t = self.temp()
            temps.append(t)
            parts.append(f"{word} if ({t} := {self.expr(item, names)}) is {word} else ")
        unknown = " or ".join(f"{t} is None" for t in temps)
        other = "False" if stop else "True"
        return "(" + "".join(parts) + f"(None if {unknown} else {other}))"

    def gen_Not(self, node: n.Not, names):
        t = self.temp()
        return f"(None if ({t} := {self.expr(node.operand, names)}) is None else not {t})"

    def gen_Compare(self, node: n.Compare, names):
        left, right = node.left, node.right
        if (_may_be_interval(left) or _may_be_interval(right) or _may_be_money(left)
                or _may_be_money(right)):
            return (f"_compare({self.const(node.op)}, {self.expr(left, names)}, "
                    f"{self.expr(right, names)})")
        a, b = self.temp(), self.temp()
        return (f"(None if ({a} := {self.expr(left, names)}) is None or "
                f"({b} := {self.expr(right, names)}) is None else {a} {node.op} {b})")

    def gen_Arith(self, node: n.Arith, names):
        return (f"_arith({self.const(node.op)}, {self.expr(node.left, names)}, "
                f"{self.expr(node.right, names)})")

    def gen_Neg(self, node: n.Neg, names):
        return f"_negate({self.expr(node.operand, names)})"

    def gen_IsKnown(self, node: n.IsKnown, names):
        inner = self.expr(node.operand, names)
        if _may_be_interval(node.operand):
            test = f"_is_known({inner})"
            return f"(not {test})" if node.negated else test
        return f"({inner} is {'' if node.negated else 'not '}None)"

    def gen_Member(self, node: n.Member, names):
        element = self.expr(node.element, names)
        collection = node.collection
        # A set lookup is plain equality: not for a count known within bounds, nor for
        # amounts, which in different currencies are neither equal nor unequal.
        if (isinstance(collection, n.ListLiteral) and collection.items
                and not _may_be_interval(node.element)
                and all(isinstance(i, n.Literal) and _is_plain(i.value)
                        and i.kind != "money" for i in collection.items)):
            members = self.const(frozenset(i.value for i in collection.items
                                           if isinstance(i, n.Literal)))
            t = self.temp()
            word = "not in" if node.negated else "in"
            return f"(None if ({t} := {element}) is None else {t} {word} {members})"
        test = f"_member({element}, {self.expr(collection, names)})"
        return f"_not3({test})" if node.negated else test

    def gen_Contains(self, node: n.Contains, names):
        return f"_contains({self.expr(node.text, names)}, {self.expr(node.needle, names)})"

    def gen_Matches(self, node: n.Matches, names):
        pattern = self.const(Matcher(node.pattern))
        return f"_matches({pattern}, {self.expr(node.text, names)})"

    def gen_Mentions(self, node: n.Mentions, names):
        lexicon = self.const(self._matcher(node.lexicon))
        return f"_mentions({lexicon}, {self.expr(node.text, names)})"

    def gen_Violates(self, node: n.Violates, names):
        return f"V[{self.const(node.rule)}].get(id({self.expr(node.subject, names)}))"

    def gen_Within(self, node: n.Within, names):
        s, d, a = self.temp(), self.temp(), self.temp()
        test = f"{a} - {d} <= {s} <= {a}" if node.direction == "before" else f"{a} <= {s} <= {a} + {d}"
        return (f"(None if ({s} := {self.expr(node.subject, names)}) is None or "
                f"({d} := {self.expr(node.duration, names)}) is None or "
                f"({a} := {self.expr(node.anchor, names)}) is None else {test})")

    def gen_Quantifier(self, node: n.Quantifier, names):
        c = self.temp()
        collection = self.expr(node.collection, names)
        unknown = {"count": "_UNKNOWN_COUNT", "share": "_UNKNOWN_SHARE"}.get(node.kind, "None")
        if node.condition is None:
            size = {"any": f"len({c}) > 0", "all": "True", "none": f"len({c}) == 0",
                    "count": f"len({c})", "share": f"(1.0 if {c} else 0.0)"}[node.kind]
            return f"({unknown} if ({c} := {collection}) is None else {size})"
        self._vars += 1
        var = f"v{self._vars}"
        inner = dict(names)
        inner[node.var] = var
        condition = self.expr(node.condition, inner)
        return (f"({unknown} if ({c} := {collection}) is None else "
                f"_{node.kind}3({condition} for {var} in {c}))")


def _is_plain(value: Any) -> bool:
    """Values that are their own repr-identity and hashable (for constant sharing)."""
    return isinstance(value, str | int | float | bool | datetime.date | datetime.timedelta
                      | n.Money)
