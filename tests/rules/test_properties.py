"""The laws of the rule language, checked on generated conditions and evidence.

- the strategies draw only well-typed conditions (the checker finds nothing to say);
- compiled code and the reference interpreter agree on every condition and count, with
  unknown facts, intervals and dated parameters (`make fuzz` checks over 100,000 pairs);
- three-valued logic is Kleene's, in the runtime and in evaluated conditions;
- learning a fact never overturns a settled result (monotonicity), and counts only
  narrow within their bounds;
- printing and parsing are inverse: parse(unparse(tree)) == tree.
"""

import functools
import itertools
import math
import os
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import nodes as n
from rules.checker import check_condition
from rules.compiler import compile_conditions
from rules.diagnostics import ExpressionOrigin
from rules.parser import parse
from rules.printer import unparse
from rules.reference import evaluate
from rules.runtime import Interval, and3, not3, or3
from tests.drills import report, size
from tests.rules.strategies import (
    LEVELS,
    LEXICONS,
    PARAMETER_VALUES,
    conditions,
    counts,
    dated_parameters,
    evidence,
    evidence_pool,
    literals,
    memberships,
    quantified,
    ratios,
    resolutions,
    resolve,
    scope,
    values,
)

# Generation dominates the run time; these counts keep the file to about ten seconds.
LAWS = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
EVALUATION = settings(LAWS, max_examples=120)
# Compiled == reference: each tree drawn runs on one day's values of dated parameters, on
# the evidence drawn with it and on POOLED pieces from a pool drawn once (drawing is the
# cost). `make test` checks some 600 (tree, evidence) pairs; `make fuzz` runs the long
# form, 2 x 4,500 trees on 19 pieces each: over 100,000 pairs that compare a value (a
# post rule on evidence without posts compares none, and is not counted).
DIFFERENTIAL = settings(LAWS, max_examples=size(
    120, int(os.environ.get("TAKEDOWN_DIFFERENTIAL_TREES", 4_500))))
POOLED = size(3, 18)
POOL = size(20, 600)

levels = st.sampled_from(LEVELS)


# --- helpers --------------------------------------------------------------------------------

def checked(tree: n.Node, level: str, *, expect_condition: bool = True) -> n.Node:
    """The tree as the checker hands it to the compiler (parameters resolved); fails the
    test on any diagnostic."""
    text = unparse(tree)
    result = check_condition(tree, scope(level), ExpressionOrigin.plain(text))
    found = [(d.code, d.message) for d in result.diagnostics
             if expect_condition or d.code != "T003"]
    assert not found, f"{text}: {found}"
    return result.condition


def reparsed(tree: n.Node) -> n.Node:
    """The tree printed and read back: what the rest of the pipeline really receives."""
    text = unparse(tree)
    node, diagnostics = parse(text)
    assert not diagnostics, (text, diagnostics)
    return node


def compiled(trees: dict[str, n.Node], level: str, ev) -> dict[str, list]:
    """Each tree's value by the compiled code, for each subject of the evidence."""
    functions, _ = compile_conditions(list(trees.items()), LEXICONS)
    verdicts = ev.verdicts()
    return {key: [fn(post, ev.page, ev.request, PARAMETER_VALUES, verdicts)
                  for post in ev.subjects(level)]
            for key, fn in functions.items()}


def interpreted(trees: dict[str, n.Node], level: str, ev) -> dict[str, list]:
    """Each tree's value by the reference interpreter, for each subject of the evidence."""
    verdicts = ev.verdicts()
    return {key: [evaluate(tree, {"post": post, "page": ev.page, "request": ev.request},
                           PARAMETER_VALUES, verdicts, LEXICONS)
                  for post in ev.subjects(level)]
            for key, tree in trees.items()}


EVALUATORS = {"compiled": compiled, "reference": interpreted}


def same(a, b) -> bool:
    """Equal values of the same type; intervals by their bounds."""
    if type(a) is not type(b):
        return False
    if type(a) is Interval:
        return _same_number(a.lo, b.lo) and _same_number(a.hi, b.hi)
    return _same_number(a, b) if type(a) is float else a == b


def _same_number(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float)
                      and math.isnan(a) and math.isnan(b))


def within_bounds(before, after) -> bool:
    """Whether `after` says no less than `before`: equal when `before` was settled,
    inside its bounds when it was an interval; anything when it was unknown."""
    if before is None:
        return True
    if type(before) is not Interval:
        return same(before, after)
    if after is None:
        return False
    lo, hi = (after.lo, after.hi) if type(after) is Interval else (after, after)
    return before.lo <= lo and hi <= before.hi


# --- the strategies are well-typed -----------------------------------------------------------

@LAWS
@given(st.data())
def test_generated_conditions_pass_the_checker(data):
    level = data.draw(levels)
    tree = data.draw(conditions(level))
    checked(tree, level)
    checked(reparsed(tree), level)


@LAWS
@given(st.data())
def test_generated_counts_and_ratios_pass_the_checker(data):
    level = data.draw(levels)
    tree = data.draw(counts(level) | ratios(level) | values(level))
    checked(tree, level, expect_condition=False)


# --- compiled code == reference interpreter --------------------------------------------------

@dataclass
class Differential:
    """The pooled evidence, and a count of what was compared."""

    pool: tuple
    counts: dict = field(default_factory=lambda: dict.fromkeys(
        ("trees", "pairs", "subjects", "unknown", "intervals"), 0))


@pytest.fixture(scope="module")
def differential():
    """The pool (drawn here: hypothesis draws nothing inside a test) and the counts,
    reported once both tests are done."""
    found = Differential(evidence_pool(POOL))
    yield found
    report("compiled-vs-reference", found.counts)


def _compare(data, ev, tree: n.Node, level: str, differential: Differential) -> None:
    """The tree's values, compiled and interpreted, on `ev` and on pooled evidence."""
    params = data.draw(dated_parameters())
    pool = differential.pool
    others = data.draw(st.lists(st.sampled_from(pool), min_size=POOLED, max_size=POOLED))
    functions, _ = compile_conditions([("x", tree)], LEXICONS)
    counts = differential.counts
    counts["trees"] += 1
    for one in (ev, *others):
        verdicts = one.verdicts()
        for post in one.subjects(level):
            fast = functions["x"](post, one.page, one.request, params, verdicts)
            slow = evaluate(tree, {"post": post, "page": one.page, "request": one.request},
                            params, verdicts, LEXICONS)
            assert same(fast, slow), (unparse(tree), params, fast, slow)
            counts["subjects"] += 1
            counts["unknown"] += slow is None
            counts["intervals"] += type(slow) is Interval
        counts["pairs"] += bool(one.subjects(level))  # a post rule on no posts compares nothing


@DIFFERENTIAL
@given(data=st.data(), ev=evidence())
def test_compiled_conditions_equal_the_reference(data, ev, differential):
    level = data.draw(levels)
    tree = checked(reparsed(data.draw(conditions(level))), level)
    slow = interpreted({"c": tree}, level, ev)["c"]
    assert all(type(v) is bool or v is None for v in slow), slow
    _compare(data, ev, tree, level, differential)


@DIFFERENTIAL
@given(data=st.data(), ev=evidence())
def test_compiled_counts_and_ratios_equal_the_reference(data, ev, differential):
    level = data.draw(levels)
    tree = checked(reparsed(data.draw(counts(level) | ratios(level))), level,
                   expect_condition=False)
    _compare(data, ev, tree, level, differential)


# --- Kleene's three-valued logic -------------------------------------------------------------

T, F, U = True, False, None
KLEENE = (T, F, U)

AND = {(T, T): T, (T, F): F, (T, U): U,
       (F, T): F, (F, F): F, (F, U): F,
       (U, T): U, (U, F): F, (U, U): U}
OR = {(T, T): T, (T, F): T, (T, U): T,
      (F, T): T, (F, F): F, (F, U): U,
      (U, T): T, (U, F): U, (U, U): U}
NOT = {T: F, F: T, U: U}


@pytest.mark.parametrize(("a", "b"), list(itertools.product(KLEENE, repeat=2)))
def test_and3_and_or3_truth_tables(a, b):
    assert and3(a, b) is AND[a, b]
    assert or3(a, b) is OR[a, b]


@pytest.mark.parametrize("a", KLEENE)
def test_not3_truth_table(a):
    assert not3(a) is NOT[a]


@pytest.mark.parametrize(("a", "b", "c"), list(itertools.product(KLEENE, repeat=3)))
def test_runtime_obeys_the_laws_of_kleene_logic(a, b, c):
    assert not3(and3(a, b)) is or3(not3(a), not3(b))
    assert not3(or3(a, b)) is and3(not3(a), not3(b))
    assert and3(a, or3(a, b)) is a
    assert or3(a, and3(a, b)) is a
    assert and3(a, b) is and3(b, a)
    assert or3(a, b) is or3(b, a)
    assert and3(a, and3(b, c)) is and3(and3(a, b), c)
    assert or3(a, or3(b, c)) is or3(or3(a, b), c)
    assert and3(a, or3(b, c)) is or3(and3(a, b), and3(a, c))
    assert not3(not3(a)) is a
    assert and3(a, a) is a
    assert or3(a, a) is a


def _law_forms(a: n.Node, b: n.Node) -> dict[str, n.Node]:
    return {
        "a": a,
        "not (a and b)": n.Not(n.And(a, b)),
        "not a or not b": n.Or(n.Not(a), n.Not(b)),
        "not (a or b)": n.Not(n.Or(a, b)),
        "not a and not b": n.And(n.Not(a), n.Not(b)),
        "a and (a or b)": n.And(a, n.Or(a, b)),
        "a or (a and b)": n.Or(a, n.And(a, b)),
        "a and b": n.And(a, b),
        "b and a": n.And(b, a),
        "a or b": n.Or(a, b),
        "b or a": n.Or(b, a),
        "not not a": n.Not(n.Not(a)),
    }


@EVALUATION
@given(st.data(), evidence())
def test_evaluated_conditions_obey_the_laws_of_kleene_logic(data, ev):
    level = data.draw(levels)
    a = checked(data.draw(conditions(level, depth=1), label="a"), level)
    b = checked(data.draw(conditions(level, depth=1), label="b"), level)
    forms = _law_forms(a, b)
    for name, evaluator in EVALUATORS.items():
        v = evaluator(forms, level, ev)
        assert v["not (a and b)"] == v["not a or not b"], name
        assert v["not (a or b)"] == v["not a and not b"], name
        assert v["a and (a or b)"] == v["a"], name
        assert v["a or (a and b)"] == v["a"], name
        assert v["a and b"] == v["b and a"], name
        assert v["a or b"] == v["b or a"], name
        assert v["not not a"] == v["a"], name


@EVALUATION
@given(st.data(), evidence())
def test_is_known_is_never_unknown(data, ev):
    level = data.draw(levels)
    x = checked(data.draw(values(level)), level, expect_condition=False)
    forms = {"known": n.IsKnown(x), "unknown": n.IsKnown(x, negated=True)}
    for name, evaluator in EVALUATORS.items():
        v = evaluator(forms, level, ev)
        assert all(type(r) is bool for r in v["known"]), (name, unparse(x), v)
        assert v["unknown"] == [not r for r in v["known"]], (name, unparse(x), v)


@EVALUATION
@given(st.data(), evidence())
def test_quantifiers_agree_with_each_other(data, ev):
    """none = not any, all(x where c) = none(x where not c), and a count is 0 exactly
    when none holds, in both evaluators."""
    level = data.draw(levels)
    tree = checked(data.draw(quantified(level)), level)
    condition = tree.condition or n.Literal(True, "bool")
    forms = {kind: n.Quantifier(kind, tree.var, tree.collection, condition)
             for kind in ("any", "all", "none", "count")}
    forms["none of not"] = n.Quantifier("none", tree.var, tree.collection, n.Not(condition))
    forms["count == 0"] = n.Compare("==", forms["count"], n.Literal(0, "number"))
    for evaluator in EVALUATORS.values():
        v = evaluator(forms, level, ev)
        assert v["none"] == [not3(r) for r in v["any"]]
        assert v["all"] == v["none of not"]
        assert v["count == 0"] == v["none"]


@EVALUATION
@given(st.data(), evidence())
def test_membership_is_a_disjunction_of_equalities(data, ev):
    """`x in [a, b]` says what `x == a or x == b` says, in three values: a count known
    only within bounds is in a list when the bounds settle it, and unknown otherwise."""
    level = data.draw(levels)
    member = checked(data.draw(memberships(level)), level)
    equalities = [n.Compare("==", member.element, item) for item in member.collection.items]
    expanded = functools.reduce(n.Or, equalities)
    forms = {"in": member, "or": n.Not(expanded) if member.negated else expanded}
    for name, evaluator in EVALUATORS.items():
        v = evaluator(forms, level, ev)
        assert v["in"] == v["or"], (name, unparse(member), v)


# --- monotonicity: a new fact never overturns a settled result ------------------------------

@EVALUATION
@given(st.data(), evidence())
def test_resolving_an_unknown_never_flips_a_settled_result(data, ev):
    level = data.draw(levels)
    # `is known` and `is unknown` are left out: asking whether a fact is known is the
    # one question whose answer a new fact must change.
    trees = {
        "condition": checked(data.draw(conditions(level, known_tests=False)), level),
        "membership": checked(data.draw(memberships(level, known_tests=False)), level),
        "count": checked(data.draw(counts(level, known_tests=False)
                                   | ratios(level, known_tests=False)), level,
                         expect_condition=False),
    }
    place, value = data.draw(resolutions(ev, *trees.values()))
    after = resolve(ev, place, value)
    for name, evaluator in EVALUATORS.items():
        old, new = evaluator(trees, level, ev), evaluator(trees, level, after)
        for key, tree in trees.items():
            for v0, v1 in zip(old[key], new[key], strict=True):
                assert within_bounds(v0, v1), (name, place, value, unparse(tree), v0, v1)


# --- printing and parsing are inverse --------------------------------------------------------

@LAWS
@given(st.data())
def test_parse_of_unparse_is_the_tree(data):
    level = data.draw(levels)
    tree = data.draw(conditions(level) | values(level) | literals())
    text = unparse(tree)
    node, diagnostics = parse(text)
    assert not diagnostics, (text, diagnostics)
    assert node == tree, text
    assert unparse(node) == text


@LAWS
@given(st.data())
def test_every_span_holds_the_text_of_its_node(data):
    """A diagnostic points at `text[span]`: that text must be the node itself."""
    tree = data.draw(conditions(data.draw(levels)))
    text = unparse(tree)
    node, _ = parse(text)
    for sub in n.walk(node):
        written = text[sub.span.start:sub.span.end]
        again, diagnostics = parse(written)
        assert again == sub, (text, written)
