"""Static checks of conditions: names, types and units.

`check_condition` resolves every name of one condition (evidence fields against
`rules.vocabulary`, parameters, lexicons, rules, quantifier variables), works out the
type of every sub-expression and returns the condition with parameters turned into
`Param` nodes, ready for the compiler. Problems become diagnostics with the exact
position of the offending text; checking goes on after an error, with the type `ANY`
standing in so that one mistake is reported once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import re2

from rules import nodes as n
from rules import types as t
from rules import vocabulary
from rules.diagnostics import Diagnostic, ExpressionOrigin, suggest

__all__ = ["Scope", "CheckResult", "check_condition", "SCOPE_ROOTS", "MAX_PATTERN_LENGTH",
           "compile_pattern", "Matcher"]

# Which evidence roots a rule can see, by what it applies to.
SCOPE_ROOTS = {
    "post": ("post", "page", "request"),
    "page": ("page", "request"),
    "request": ("request", "page"),
}

MAX_PATTERN_LENGTH = 500
_RE2_MAX_MEM = 1 << 20  # bytes of automaton a single pattern may use


def compile_pattern(pattern: str):
    """Compile a `matches` pattern with RE2 (linear time, bounded memory)."""
    options = re2.Options()
    options.max_mem = _RE2_MAX_MEM
    options.log_errors = False
    return re2.compile(pattern, options)


class Matcher:
    """A `matches` pattern that only answers whether it is found: RE2's own matcher run
    on the UTF-8 bytes of the text, without the work the `re2` wrapper does for match
    objects and character offsets (which evaluation never reads). The answer is that of
    `compile_pattern(pattern).search(text) is not None`."""

    __slots__ = ("_match",)

    def __init__(self, pattern: str):
        # google-re2's module keeps the compiled RE2 object private; its `Match` is the
        # call every public search makes.
        self._match = compile_pattern(pattern)._regexp.Match

    def is_found(self, text: str) -> bool:
        data = text.encode("utf-8")
        return self._match(_UNANCHORED, data, 0, len(data))[0][0] != -1


_UNANCHORED = re2._Anchor.UNANCHORED


@dataclass(frozen=True, slots=True)
class Scope:
    """What names a condition may use."""

    applies_to: str
    parameters: Mapping[str, t.Type]
    lexicons: frozenset[str]
    rules: Mapping[str, str]  # rule id -> what it applies to
    kind: str = "policy"  # the rule set's kind: policy, enforcement or legal


@dataclass
class CheckResult:
    condition: n.Node | None
    type: t.Type
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Rules this condition refers to with `violates`, for the dependency graph.
    references: set[str] = field(default_factory=set)


def check_condition(node: n.Node, scope: Scope, origin: ExpressionOrigin) -> CheckResult:
    """Resolve names and check types of a rule's `when:` condition."""
    checker = _Checker(scope, origin)
    resolved, typ = checker.visit(node, {})
    if not typ.is_any and typ != t.BOOL:
        checker.error("T003", f"the condition is {t.describe(typ)}, not true or false", node,
                      "compare it with something, for example: ... >= 3, or ... is known")
    return CheckResult(resolved, typ, checker.diagnostics, checker.references)


class _Checker:
    def __init__(self, scope: Scope, origin: ExpressionOrigin):
        self.scope = scope
        self.origin = origin
        self.diagnostics: list[Diagnostic] = []
        self.references: set[str] = set()

    def error(self, code: str, message: str, node_or_span, hint: str = "") -> None:
        span = node_or_span.span if isinstance(node_or_span, n.Node) else node_or_span
        self.diagnostics.append(self.origin.diagnostic(code, message, span.start, span.end, hint))

    # Each visit returns the (possibly rewritten) node and its type.

    def visit(self, node: n.Node, env: dict[str, t.Type]) -> tuple[n.Node, t.Type]:
        method = getattr(self, "visit_" + type(node).__name__)
        return method(node, env)

    def visit_Literal(self, node: n.Literal, env):
        kind = node.kind
        typ = {"bool": t.BOOL, "number": t.NUMBER, "ratio": t.RATIO, "text": t.TEXT,
               "date": t.DATE, "duration": t.DURATION, "money": t.MONEY}[kind]
        return node, typ

    def visit_ListLiteral(self, node: n.ListLiteral, env):
        items, types = [], []
        for item in node.items:
            resolved, typ = self.visit(item, env)
            items.append(resolved)
            types.append(typ)
        element = t.ANY
        for item, typ in zip(node.items, types, strict=True):
            if typ.is_any:
                continue
            if element.is_any:
                element = typ
            elif not _compatible(element, typ):
                self.error("T001", f"a list mixes {t.describe(element)} and {t.describe(typ)}",
                           item, "all items of a list must be of one kind")
        return dataclasses.replace(node, items=tuple(items)), t.list_of(element)

    def visit_Path(self, node: n.Path, env):
        root = node.root
        if root in env:
            base = env[root]
        elif root in vocabulary.ROOTS:
            if root not in SCOPE_ROOTS[self.scope.applies_to]:
                hint = (f"a {self.scope.applies_to} rule looks at posts through a quantifier, "
                        "for example any(p in page.posts where p.signals.offers_crossing)"
                        if root == "post" else
                        f"a {self.scope.applies_to} rule sees: "
                        + ", ".join(SCOPE_ROOTS[self.scope.applies_to]))
                self.error("N005", f"`{root}` is not available in a {self.scope.applies_to} rule",
                           node, hint)
                return node, t.ANY
            base = vocabulary.ROOTS[root]
        elif root in self.scope.parameters and len(node.names) == 1:
            return n.Param(root, span=node.span), self.scope.parameters[root]
        else:
            candidates = list(env) + list(SCOPE_ROOTS[self.scope.applies_to]) + list(
                self.scope.parameters)
            guess = suggest(root, candidates)
            if len(node.names) == 1:
                hint = (f"did you mean `{guess}`?" if guess else
                        "a bare name must be a parameter of this rule set or a quantifier variable")
                self.error("N002", f"unknown name `{root}`", node, hint)
            else:
                hint = f"did you mean `{guess}`?" if guess else "a path starts with post, page or request"
                self.error("N001", f"unknown evidence field `{node}`", node, hint)
            return node, t.ANY
        return node, self._walk_fields(node, base)

    def _walk_fields(self, node: n.Path, typ: t.Type) -> t.Type:
        for index, name in enumerate(node.names[1:], start=1):
            span = node.name_spans[index] if len(node.name_spans) > index else node.span
            start, end = span.start, span.end
            if typ.kind != "record":
                prefix = ".".join(node.names[:index])
                self.error("N001", f"`{prefix}` is {t.describe(typ)} and has no field `{name}`",
                           n.Span(start, end),
                           "a quantifier looks inside a list: any(x in ... where x.field ...)"
                           if typ.kind == "list" else "")
                return t.ANY
            fields = vocabulary.RECORDS[typ.name or ""]
            if name not in fields:
                prefix = ".".join(node.names[:index])
                guess = suggest(name, fields)
                hint = (f"did you mean `{prefix}.{guess}`?" if guess
                        else f"the fields of {prefix} are: " + ", ".join(sorted(fields)))
                self.error("N001", f"unknown evidence field `{prefix}.{name}`",
                           n.Span(start, end), hint)
                return t.ANY
            if (typ.name, name) in vocabulary.DERIVED and self.scope.kind == "policy":
                prefix = ".".join(node.names[:index])
                self.error("N009", f"`{prefix}.{name}` is not available in a policy rule set",
                           n.Span(start, end),
                           "policy results are what policy rule sets produce; read them from a "
                           "rule set of kind enforcement or legal")
                return t.ANY
            typ = fields[name]
        return typ

    def visit_Param(self, node: n.Param, env):
        return node, self.scope.parameters.get(node.name, t.ANY)

    def _condition(self, node: n.Node, env, role: str) -> n.Node:
        resolved, typ = self.visit(node, env)
        if not typ.is_any and typ != t.BOOL:
            self.error("T003", f"{role} is {t.describe(typ)}, not true or false", node,
                       "compare it with something, for example: ... >= 3, or ... is known")
        return resolved

    def visit_Not(self, node: n.Not, env):
        operand = self._condition(node.operand, env, "the operand of `not`")
        return dataclasses.replace(node, operand=operand), t.BOOL

    def visit_And(self, node: n.And, env):
        left = self._condition(node.left, env, "the left side of `and`")
        right = self._condition(node.right, env, "the right side of `and`")
        return dataclasses.replace(node, left=left, right=right), t.BOOL

    def visit_Or(self, node: n.Or, env):
        left = self._condition(node.left, env, "the left side of `or`")
        right = self._condition(node.right, env, "the right side of `or`")
        return dataclasses.replace(node, left=left, right=right), t.BOOL

    def visit_Compare(self, node: n.Compare, env):
        left, lt = self.visit(node.left, env)
        right, rt = self.visit(node.right, env)
        result = dataclasses.replace(node, left=left, right=right)
        if lt.is_any or rt.is_any:
            return result, t.BOOL
        if not _compatible(lt, rt):
            self._mismatch(node, lt, rt, f"`{node.op}` compares")
        elif lt.kind == "record":
            self.error("T001", f"`{node.op}` cannot compare {t.describe(lt)} as a whole", node,
                       "compare one of its fields, for example c.kind == \"whatsapp\"")
        elif node.op not in ("==", "!=") and lt.kind in ("bool", "text", "list"):
            self.error("T001", f"`{node.op}` does not order {t.describe(lt)}", node,
                       "only numbers, money, dates and durations are ordered; use == or !=")
        elif lt.kind == "money":
            self._same_currency(left, right, node)
        return result, t.BOOL

    def _same_currency(self, left: n.Node, right: n.Node, node: n.Node) -> None:
        if isinstance(left, n.Literal) and isinstance(right, n.Literal):
            a, b = getattr(left.value, "currency", None), getattr(right.value, "currency", None)
            if a != b:
                self.error("T006", f"{a} is compared with {b}", node,
                           "the language has no exchange rates; use one currency")

    def _mismatch(self, node: n.Node, lt: t.Type, rt: t.Type, what: str) -> None:
        numeric = {"number", "money", "duration"}
        code = "T002" if lt.kind in numeric and rt.kind in numeric else "T001"
        hint = ""
        if code == "T002":
            hint = "check which parameter or field was meant: units must agree"
        elif {lt.kind, rt.kind} == {"date", "number"}:
            hint = "to compare with a number of days, write a duration: 90 days"
        elif {lt.kind, rt.kind} == {"date", "text"}:
            hint = "dates are written without quotes: 2022-12-07"
        self.error(code, f"{what} {t.describe(lt)} with {t.describe(rt)}", node, hint)

    def visit_Arith(self, node: n.Arith, env):
        left, lt = self.visit(node.left, env)
        right, rt = self.visit(node.right, env)
        result = dataclasses.replace(node, left=left, right=right)
        if lt.is_any or rt.is_any:
            return result, t.ANY
        typ = _arith_type(node.op, lt, rt)
        if typ is None:
            self._mismatch(node, lt, rt, f"`{node.op}` combines")
            return result, t.ANY
        if typ.kind == "money" and node.op in "+-":
            self._same_currency(left, right, node)
        return result, typ

    def visit_Neg(self, node: n.Neg, env):
        operand, typ = self.visit(node.operand, env)
        if not typ.is_any and typ.kind not in ("number", "money", "duration"):
            self.error("T001", f"`-` cannot negate {t.describe(typ)}", node)
            typ = t.ANY
        return dataclasses.replace(node, operand=operand), typ

    def visit_IsKnown(self, node: n.IsKnown, env):
        operand, _ = self.visit(node.operand, env)
        return dataclasses.replace(node, operand=operand), t.BOOL

    def visit_Member(self, node: n.Member, env):
        element, et = self.visit(node.element, env)
        collection, ct = self.visit(node.collection, env)
        result = dataclasses.replace(node, element=element, collection=collection)
        if ct.is_any:
            return result, t.BOOL
        if ct.kind != "list":
            self.error("T004", f"`in` needs a list, not {t.describe(ct)}", node.collection,
                       'for example: post.language in ["ar", "fa"]')
        elif not et.is_any and ct.element is not None and not ct.element.is_any and not _compatible(et, ct.element):
            self._mismatch(node, et, ct.element, "`in` looks for")
        return result, t.BOOL

    def visit_Contains(self, node: n.Contains, env):
        text, tt = self.visit(node.text, env)
        needle, nt = self.visit(node.needle, env)
        result = dataclasses.replace(node, text=text, needle=needle)
        if not tt.is_any and tt != t.TEXT and tt != t.list_of(t.TEXT):
            self.error("T005", f"`contains` needs text, not {t.describe(tt)}", node.text,
                       "use it on post.text, post.translation, page.name, page.description...")
        if not nt.is_any and nt != t.TEXT:
            self.error("T005", f"`contains` looks for a text, not {t.describe(nt)}", node.needle)
        return result, t.BOOL

    def _text_operand(self, node: n.Node, env, op: str):
        text, tt = self.visit(node, env)
        if not tt.is_any and tt != t.TEXT and tt != t.list_of(t.TEXT):
            self.error("T005", f"`{op}` needs text, not {t.describe(tt)}", node,
                       "use it on post.text, post.translation, page.name, page.description...")
        return text

    def visit_Matches(self, node: n.Matches, env):
        text = self._text_operand(node.text, env, "matches")
        span = node.pattern_span
        if len(node.pattern) > MAX_PATTERN_LENGTH:
            self.error("L005", f"the pattern is {len(node.pattern)} characters long, more than "
                       f"{MAX_PATTERN_LENGTH}", span, "use a lexicon and `mentions` for word lists")
        else:
            try:
                compile_pattern(node.pattern)
            except re2.error as error:
                # google-re2 raises with the RE2 message as bytes: str() would show b'...'.
                reason = error.args[0] if error.args else b""
                message = (reason.decode("utf-8", "replace") if isinstance(reason, bytes)
                           else str(reason)) or "invalid pattern"
                code = "L005" if "too large" in message or "memory" in message else "P004"
                self.error(code, f"invalid regular expression: {message}", span,
                           "RE2 syntax: no back-references or look-around; write patterns "
                           "in '...' so that backslashes stay as written")
        return dataclasses.replace(node, text=text), t.BOOL

    def visit_Mentions(self, node: n.Mentions, env):
        text = self._text_operand(node.text, env, "mentions")
        if node.lexicon not in self.scope.lexicons:
            guess = suggest(node.lexicon, self.scope.lexicons)
            hint = f"did you mean `{guess}`?" if guess else "declare it under `lexicons:`"
            self.error("N003", f"unknown lexicon `{node.lexicon}`", node.lexicon_span, hint)
        return dataclasses.replace(node, text=text), t.BOOL

    def visit_Violates(self, node: n.Violates, env):
        subject, st = self.visit(node.subject, env)
        result = dataclasses.replace(node, subject=subject)
        target = self.scope.rules.get(node.rule)
        if target is None:
            guess = suggest(node.rule, self.scope.rules)
            hint = f"did you mean `{guess}`?" if guess else "name a rule of this rule set"
            self.error("N004", f"unknown rule `{node.rule}`", node.rule_span, hint)
            return result, t.BOOL
        self.references.add(node.rule)
        if _LEVELS[target] > _LEVELS[self.scope.applies_to]:
            self.error("R006", f"`{node.rule}` is a {target} rule, decided after this "
                       f"{self.scope.applies_to} rule", node.rule_span,
                       "post rules are decided first, then page rules, then request rules; "
                       "a rule can only ask about rules decided before it or with it")
            return result, t.BOOL
        if not st.is_any and (st.kind != "record" or st.name != target):
            self.error("T007", f"`{node.rule}` applies to a {target}, not to "
                       f"{t.describe(st)}", node.subject,
                       f"ask about a {target}: for example "
                       + ("any(p in page.posts where p violates " + node.rule + ")"
                          if target == "post" else f"{target} violates {node.rule}"))
        return result, t.BOOL

    def visit_Within(self, node: n.Within, env):
        subject, st = self.visit(node.subject, env)
        duration, dt = self.visit(node.duration, env)
        anchor, at = self.visit(node.anchor, env)
        for part, typ, want, role in ((node.subject, st, t.DATE, "what is tested"),
                                      (node.duration, dt, t.DURATION, "the window"),
                                      (node.anchor, at, t.DATE, "the anchor")):
            if not typ.is_any and typ != want:
                self.error("T001", f"in `within`, {role} is {t.describe(typ)}, not "
                           f"{t.describe(want)}", part,
                           "for example: p.posted within 90 days before request.submitted")
        return dataclasses.replace(node, subject=subject, duration=duration, anchor=anchor), t.BOOL

    def visit_Quantifier(self, node: n.Quantifier, env):
        collection, ct = self.visit(node.collection, env)
        element = t.ANY
        if not ct.is_any:
            if ct.kind != "list":
                self.error("T004", f"`{node.kind}` needs a list, not {t.describe(ct)}",
                           node.collection, "for example: page.posts or post.signals.contacts")
            else:
                element = ct.element or t.ANY
        if (node.var in env or node.var in vocabulary.ROOTS
                or node.var in self.scope.parameters):
            self.error("N006", f"the variable `{node.var}` hides another name", node.var_span,
                       "choose another variable name, for example p for a post, c for a contact")
        inner = dict(env)
        inner[node.var] = element
        condition = None
        if node.condition is not None:
            condition = self._condition(node.condition, inner, "the `where` part")
        result = dataclasses.replace(node, collection=collection, condition=condition)
        typ = {"count": t.COUNT, "share": t.RATIO}.get(node.kind, t.BOOL)
        return result, typ


_LEVELS = {"post": 0, "page": 1, "request": 2}


def _compatible(a: t.Type, b: t.Type) -> bool:
    if a.is_any or b.is_any:
        return True
    if a.kind != b.kind:
        return False
    if a.kind == "number":
        return a.unit is None or b.unit is None or a.unit == b.unit
    if a.kind == "list":
        return a.element is None or b.element is None or _compatible(a.element, b.element)
    if a.kind == "record":
        return a.name == b.name
    return True


def _arith_type(op: str, a: t.Type, b: t.Type) -> t.Type | None:
    kinds = (a.kind, b.kind)
    if kinds == ("number", "number"):
        if op in "+-":
            return a if _compatible(a, b) and a.unit else (b if _compatible(a, b) else None)
        if op == "/" and a.unit == b.unit == "count":
            return t.RATIO
        return t.number(a.unit or b.unit) if op == "*" and not (a.unit and b.unit) else t.NUMBER
    if kinds == ("date", "date") and op == "-":
        return t.DURATION
    if kinds == ("date", "duration") and op in "+-":
        return t.DATE
    if kinds == ("duration", "date") and op == "+":
        return t.DATE
    if kinds == ("duration", "duration") and op in "+-":
        return t.DURATION
    if kinds == ("duration", "number") and op in "*/" and b.unit is None:
        return t.DURATION
    if kinds == ("number", "duration") and op == "*" and a.unit is None:
        return t.DURATION
    if kinds == ("money", "money") and op in "+-":
        return t.MONEY
    if kinds == ("money", "number") and op in "*/" and b.unit is None:
        return t.MONEY
    if kinds == ("number", "money") and op == "*" and a.unit is None:
        return t.MONEY
    return None
