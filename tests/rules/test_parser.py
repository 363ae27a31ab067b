"""Tests for rules.parser: what each piece of condition text becomes, and where and how a
mistake is reported.

Trees are compared with trees built by hand (spans take no part in equality); errors by
their code, their exact 1-based line and column in the condition, and their hint.
"""

import datetime

import pytest

from rules import nodes as n
from rules import vocabulary
from rules.checker import Scope, check_condition
from rules.diagnostics import ExpressionOrigin, SourceText
from rules.parser import MAX_DEPTH, MAX_EXPRESSION_LENGTH, MAX_NODE_DEPTH, parse
from rules.printer import unparse


def tree(text: str) -> n.Node:
    node, diagnostics = parse(text, ExpressionOrigin.plain(text))
    assert not diagnostics, [(d.code, d.message) for d in diagnostics]
    return node


def error(text: str):
    """The one diagnostic a wrong condition gives; checks that no tree comes with it."""
    node, diagnostics = parse(text, ExpressionOrigin.plain(text))
    assert node is None
    (diagnostic,) = diagnostics
    return diagnostic


def where(diagnostic) -> tuple[int, int, int]:
    """(line, column, end column) of a diagnostic, all counted from 1."""
    loc = diagnostic.location
    return loc.line, loc.column, loc.end_column


def path(dotted: str) -> n.Path:
    return n.Path(tuple(dotted.split(".")))


def number(value) -> n.Literal:
    return n.Literal(value, "number")


def text(value: str) -> n.Literal:
    return n.Literal(value, "text")


A, B, C = path("a"), path("b"), path("c")


# --- precedence and associativity --------------------------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    ("a or b and c", n.Or(A, n.And(B, C))),
    ("a and b or c", n.Or(n.And(A, B), C)),
    ("not a and b", n.And(n.Not(A), B)),
    ("not a or b", n.Or(n.Not(A), B)),
    ("not (a and b)", n.Not(n.And(A, B))),
    ("not not a", n.Not(n.Not(A))),
    ("a and b and c", n.And(n.And(A, B), C)),
    ("a or b or c", n.Or(n.Or(A, B), C)),
    ("a or (b or c)", n.Or(A, n.Or(B, C))),
    ("(((a)))", A),
])
def test_logical_precedence(source, expected):
    assert tree(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ("1 + 2 * 3", n.Arith("+", number(1), n.Arith("*", number(2), number(3)))),
    ("1 * 2 + 3", n.Arith("+", n.Arith("*", number(1), number(2)), number(3))),
    ("(1 + 2) * 3", n.Arith("*", n.Arith("+", number(1), number(2)), number(3))),
    ("1 - 2 - 3", n.Arith("-", n.Arith("-", number(1), number(2)), number(3))),
    ("8 / 4 / 2", n.Arith("/", n.Arith("/", number(8), number(4)), number(2))),
    ("-1 * 2", n.Arith("*", n.Neg(number(1)), number(2))),
    ("1 - -2", n.Arith("-", number(1), n.Neg(number(2)))),
    ("-3", n.Neg(number(3))),
])
def test_arithmetic_precedence(source, expected):
    assert tree(source) == expected


def test_predicates_bind_tighter_than_not_and_looser_than_arithmetic():
    assert tree("not a == b") == n.Not(n.Compare("==", A, B))
    assert tree("a + 1 > b * 2") == n.Compare(
        ">", n.Arith("+", A, number(1)), n.Arith("*", B, number(2)))
    assert tree("a is known and b") == n.And(n.IsKnown(A), B)
    assert tree("a in [1] or b") == n.Or(n.Member(A, n.ListLiteral((number(1),))), B)


def test_comparisons_do_not_chain():
    diagnostic = error("a == 1 == 2")
    assert diagnostic.code == "P001"
    assert where(diagnostic) == (1, 8, 10)


# --- literals ------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "days"), [
    ("1 day", 1), ("2 days", 2), ("1 week", 7), ("3 weeks", 21), ("1 month", 30),
    ("2 months", 60), ("1 year", 365), ("2 years", 730), ("0 days", 0),
])
def test_durations_count_whole_days(source, days):
    assert tree(source) == n.Literal(datetime.timedelta(days=days), "duration")


def test_percentages_are_ratios():
    assert tree("50%") == n.Literal(0.5, "ratio")
    assert tree("12.5%") == n.Literal(0.125, "ratio")
    assert tree("100%") == n.Literal(1.0, "ratio")


@pytest.mark.parametrize(("source", "amount", "currency"), [
    ("£300", 300, "GBP"), ("300 GBP", 300, "GBP"), ("€1500.50", 1500.5, "EUR"),
    ("1500.5 EUR", 1500.5, "EUR"), ("$20", 20, "USD"), ("£ 300", 300, "GBP"),
])
def test_money_with_a_sign_or_a_code(source, amount, currency):
    assert tree(source) == n.Literal(n.Money(amount, currency), "money")


def test_a_sign_and_a_code_mean_the_same_amount():
    assert tree("£300") == tree("300 GBP")
    assert unparse(tree("£300")) == "300 GBP"


def test_numbers_keep_int_or_float():
    three = tree("3")
    assert three == number(3) and type(three.value) is int
    assert tree("3.25") == number(3.25)
    assert tree("0.00001") == number(0.00001)


def test_dates_and_booleans():
    assert tree("2024-02-29") == n.Literal(datetime.date(2024, 2, 29), "date")
    assert tree("true") == n.Literal(True, "bool")
    assert tree("false") == n.Literal(False, "bool")


@pytest.mark.parametrize(("source", "value"), [
    (r'"a \"quoted\" word"', 'a "quoted" word'),
    (r'"back\\slash"', "back\\slash"),
    (r'"caf\u00e9"', "café"),
    (r'"tab\there"', "tab\there"),
    ('"#crossing"', "#crossing"),  # a # inside a text starts no comment
    ("'say \"hi\"'", 'say "hi"'),
    (r"'\d+ GBP'", "\\d+ GBP"),  # single quotes keep backslashes as written
    ('""', ""),
])
def test_texts(source, value):
    assert tree(source) == text(value)


def test_patterns_are_kept_as_written():
    assert tree(r"post.text matches '\+44\d+'") == n.Matches(path("post.text"), r"\+44\d+")
    assert tree(r'post.text matches "\\d"') == n.Matches(path("post.text"), r"\d")


def test_lists():
    assert tree("[]") == n.ListLiteral(())
    assert tree("[1, 2,]") == n.ListLiteral((number(1), number(2)))
    assert tree('post.language not in ["ar", "fa"]') == n.Member(
        path("post.language"), n.ListLiteral((text("ar"), text("fa"))), negated=True)


def test_comments_run_to_the_end_of_the_line():
    assert tree("a # the page's own claim\n and b") == n.And(A, B)


# --- the other constructs ------------------------------------------------------------------

def test_quantifiers_with_and_without_where():
    assert tree("count(p in page.posts)") == n.Quantifier(
        "count", "p", path("page.posts"), None)
    assert tree("share(p in page.posts where p.by_admin) >= 50%") == n.Compare(
        ">=", n.Quantifier("share", "p", path("page.posts"), path("p.by_admin")),
        n.Literal(0.5, "ratio"))


def test_within_is_one_predicate():
    assert tree("p.posted within 90 days before request.submitted") == n.Within(
        path("p.posted"), n.Literal(datetime.timedelta(days=90), "duration"), "before",
        path("request.submitted"))


def test_is_known_and_is_unknown():
    assert tree("post.signals.price is known") == n.IsKnown(path("post.signals.price"))
    assert tree("post.signals.price is unknown") == n.IsKnown(
        path("post.signals.price"), negated=True)


@pytest.mark.parametrize("rule", ["sells-crossing", "uk-osa-2023-s1", "a1-b2-c3",
                                  "not-allowed", "x"])
def test_rule_ids_after_violates_may_have_hyphens(rule):
    assert tree(f"post violates {rule}") == n.Violates(path("post"), rule)


def test_a_rule_id_ends_where_the_condition_goes_on():
    assert tree("post violates x-1 and b") == n.And(n.Violates(path("post"), "x-1"), B)


def test_mentions_names_a_lexicon():
    assert tree("post.text mentions smuggling_terms") == n.Mentions(
        path("post.text"), "smuggling_terms")


def test_spans_point_at_what_was_written():
    source = "any(p in page.posts where p violates sells-crossing) and post.signals.price >= £300"
    node = tree(source)
    quantifier, compare = node.left, node.right
    assert source[quantifier.span.start:quantifier.span.end].startswith("any(")
    assert source[quantifier.var_span.start:quantifier.var_span.end] == "p"
    violates = quantifier.condition
    assert source[violates.rule_span.start:violates.rule_span.end] == "sells-crossing"
    assert source[compare.right.span.start:compare.right.span.end] == "£300"
    price = compare.left
    assert [source[s.start:s.end] for s in price.name_spans] == ["post", "signals", "price"]


# --- reserved words --------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "column"), [
    ("and == 1", 1),                   # not a name
    ("any(and in page.posts)", 5),     # not a variable
    ("x mentions and", 12),            # not a lexicon
    ("count > 1", 7),                  # `count` only opens a quantifier
])
def test_keywords_are_reserved(source, column):
    diagnostic = error(source)
    assert diagnostic.code == "P001"
    assert where(diagnostic)[1] == column


def test_names_that_start_with_a_keyword_are_names():
    assert tree("request.notice.good_faith and notable") == n.And(
        path("request.notice.good_faith"), path("notable"))
    assert tree("anyone or index") == n.Or(path("anyone"), path("index"))


def test_after_a_dot_a_keyword_names_a_field():
    # The vocabulary has `policy.violates`; the grammar reads any word after a dot as a field.
    assert tree("post.policy.violates") == path("post.policy.violates")


@pytest.mark.parametrize("field", sorted({f for fields in vocabulary.RECORDS.values()
                                          for f in fields}))
def test_every_field_of_the_vocabulary_can_be_written(field):
    assert tree(f"post.{field}") == n.Path(("post", field))


# --- syntax errors: code, exact place, hint ------------------------------------------------

@pytest.mark.parametrize(("source", "code", "place", "hint"), [
    ("a = b", "P001", (1, 3, 4), "=="),
    ("a && b", "P001", (1, 3, 4), "and"),
    ("a || b", "P001", (1, 3, 4), "or"),
    ("!a", "P001", (1, 1, 2), "not"),
    ("a or or b", "P001", (1, 6, 8), "expected"),
    ("post.Signals", "P001", (1, 6, 7), "lower case"),
    ("post.language == AR", "P001", (1, 18, 19), "lower case"),
    ('x == "abc', "P001", (1, 6, 7), "closed"),
    ("x matches y", "P001", (1, 11, 12), "a text in quotes"),
    ("a and\n  b = 1", "P001", (2, 5, 6), "=="),
    ("a ==", "P002", (1, 4, 5), "expected"),
    ("a ==   ", "P002", (1, 4, 5), "expected"),
    ("a == # the amount", "P002", (1, 4, 5), "expected"),
    ("(a or b", "P002", (1, 7, 8), ")"),
    ("count(p in page.posts where", "P002", (1, 27, 28), "expected"),
    ("   ", "P002", (1, 1, 2), "for example"),
    ("2023-02-30", "P003", (1, 1, 11), "YYYY-MM-DD"),
    ("post.posted > 2023-13-01", "P003", (1, 15, 25), "YYYY-MM-DD"),
    (r'x == "\q"', "P003", (1, 6, 10), "'...'"),
])
def test_syntax_errors(source, code, place, hint):
    diagnostic = error(source)
    assert diagnostic.code == code
    assert where(diagnostic) == place
    assert hint in diagnostic.hint
    assert diagnostic.is_error


def test_a_condition_over_the_length_limit():
    diagnostic = error("a" * (MAX_EXPRESSION_LENGTH + 1))
    assert diagnostic.code == "L003"
    assert where(diagnostic) == (1, 1, 2)
    assert str(MAX_EXPRESSION_LENGTH) in diagnostic.message


def test_a_condition_at_the_length_limit_is_read():
    source = " or ".join(["a"] * 100)
    source += " " * (MAX_EXPRESSION_LENGTH - len(source))
    assert parse(source)[0] is not None


@pytest.mark.parametrize("source", [
    "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1),
    "not " * (MAX_DEPTH + 1) + "a",
    "-" * (MAX_DEPTH + 1) + "1",
    # Deeper than Python's stack: refused with a diagnostic, never a RecursionError.
    "not " * 999 + "a",
    "-" * (MAX_EXPRESSION_LENGTH - 1) + "1",
    " or ".join(["a"] * 790),
])
def test_a_condition_nested_too_deeply(source):
    assert len(source) <= MAX_EXPRESSION_LENGTH
    diagnostic = error(source)
    assert diagnostic.code == "L004"
    assert where(diagnostic) == (1, 1, 2)


def test_a_condition_at_the_depth_limit_is_read():
    assert parse("not " * (MAX_DEPTH - 1) + "a")[0] is not None
    assert parse("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH)[0] is not None


def test_a_chain_of_and_or_counts_as_one_level_up_to_a_limit():
    longest = " or ".join(["post.by_admin"] * MAX_NODE_DEPTH)
    node = tree(longest)
    # Every pass recurses into each link: the longest chain read must not exhaust the
    # stack even when the pass starts deep in one (the loader, a web framework).
    scope = Scope("post", {}, frozenset(), {})

    def from_deep_stack(frames: int, work):
        return work() if frames == 0 else from_deep_stack(frames - 1, work)

    assert from_deep_stack(250, lambda: unparse(node)) == longest
    result = from_deep_stack(250, lambda: check_condition(node, scope, ExpressionOrigin.plain(
        longest)))
    assert not result.diagnostics
    diagnostic = error(" or ".join(["a"] * (MAX_NODE_DEPTH + 1)))
    assert diagnostic.code == "L004"
    assert "chain" in diagnostic.hint


def test_columns_count_from_the_start_of_the_expression_in_its_file():
    # In a rule file the condition sits after `when: `; the origin maps it there.
    condition = "a = b"
    file_text = f"when: {condition}\n"
    origin = ExpressionOrigin(SourceText("rules.yaml", file_text), "/rules/0/when",
                              tuple(range(6, 6 + len(condition) + 1)))
    _, (diagnostic,) = parse(condition, origin)
    assert (diagnostic.location.file, diagnostic.location.line, diagnostic.location.column) == (
        "rules.yaml", 1, 9)
    assert diagnostic.pointer == "/rules/0/when"
