"""Hypothesis strategies for the rule language: well-typed conditions and the evidence
they run on.

Conditions are drawn as `rules.nodes` trees, shaped exactly as the parser would build
them (bare names for parameters, `Neg` rather than negative literals, ratios as a
percentage over 100), so that a tree and its printed text are interchangeable. Paths
come from `rules.vocabulary` itself, walked by type, so the strategies cover every
field a rule may read and follow the vocabulary when it grows.

Evidence is a page (the flagged target) with its posts and a request, in which every
field may be absent: absent is unknown, which is what exercises the three-valued logic.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import nodes as n
from rules import types as t
from rules import vocabulary
from rules.checker import SCOPE_ROOTS, Scope
from rules.lexicon import Lexicon
from rules.parser import parse
from rules.ruleset import Parameter

__all__ = [
    "POST_RULE", "PAGE_RULE", "RULES", "LEXICON", "LEXICONS", "PARAMETERS",
    "PARAMETER_VALUES", "LEVELS", "scope", "is_writable", "literals", "conditions",
    "quantified", "memberships", "counts", "ratios", "values", "Evidence", "evidence",
    "unknowns", "resolve", "resolutions", "dated_parameters", "evidence_pool",
]

# The rule set the generated conditions live in: two rules to ask `violates` about,
# one lexicon and one parameter of each unit.
POST_RULE = "sells-crossing"
PAGE_RULE = "dedicated-page"
RULES = {POST_RULE: "post", PAGE_RULE: "page"}
LEXICON = Lexicon.build("smuggling_terms", {
    "en": ["small boat", "crossing*", "smuggl*", "no risk"],
    "fr": ["passeur", "traversée"],
    "ar": ["تهريب"],
})
LEXICONS = {LEXICON.name: LEXICON}
PARAMETERS = {"min_followers": t.COUNT, "share_threshold": t.RATIO, "price_floor": t.MONEY,
              "recent_window": t.DURATION}
PARAMETER_VALUES = {"min_followers": 1000, "share_threshold": 0.5,
                    "price_floor": n.Money(100, "GBP"),
                    "recent_window": datetime.timedelta(days=90)}
LEVELS = ("post", "page", "request")


def scope(level: str) -> Scope:
    """The scope the checker needs for a condition of a rule that applies to `level`.

    The rule set is an enforcement one, which may read every field of the vocabulary,
    the policy results the engine derives included."""
    return Scope(level, PARAMETERS, frozenset(LEXICONS), RULES, kind="enforcement")


# Texts that evidence holds and conditions look for, so that `contains`, `in`, `==`,
# `matches` and `mentions` come out true as well as false.
_SENTENCES = (
    "Small boat to UK tonight, 5 places left",
    "Crossing guaranteed, no risk. WhatsApp +44 7700 900123",
    "passeur disponible, traversée rapide 1500 EUR",
    "تهريب إلى أوروبا",
    "Safety advice for people at sea: call 112",
    "News: smugglers arrested in Calais",
    "wa.me/447700900123",
    "",
)
_WORDS_BY_FIELD = {
    "language": ("ar", "fa", "en", "fr", "ku", "ps"),
    "kind": ("phone", "whatsapp", "telegram", "email", "page", "group"),
    "payment": ("on_arrival", "hawala", "bank_transfer", "cash", "crypto"),
    "document_kinds": ("passport", "visa", "id_card", "residence_permit"),
    "mode": ("boat", "jet_boat", "lorry", "flight"),
    "jurisdiction": ("GB", "FR", "DE"),
}
_NEEDLES = ("boat", "BOAT", "+44", "passeur", "crossing", "wa.me", "Calais", "tonight", "")
_PATTERNS = (r"\+?\d[\d ]{6,}\d", r"(?i)wa\.me/\d+", r"(?i)\bboat\b", r"^$",
             r"(?i)[0-9]+ ?(gbp|eur|£|€)", "tonight|today")

_FIRST_DAY = datetime.date(2018, 1, 1)
_LAST_DAY = datetime.date(2025, 12, 31)
_VARIABLES = {"post": ("p", "q"), "contact": ("c", "d"), "media": ("m", "k")}
_UNITS = ("day", "days", "week", "weeks", "month", "months", "year", "years")
_DAYS_PER_UNIT = {"day": 1, "week": 7, "month": 30, "year": 365}
_ORDERINGS = ("==", "!=", "<", "<=", ">", ">=")
_EQUALITIES = ("==", "!=")


def _choice(*options: st.SearchStrategy) -> st.SearchStrategy:
    """One of `options`, each as likely as the others. (`st.one_of` flattens nested
    one_ofs and so weights each option by how many branches it has inside.)"""
    return st.sampled_from(options).flatmap(lambda option: option)


# --- literals, with the values the parser gives them ------------------------------------------
# (A literal's `text`, how it was written, takes no part in equality and is left empty.)

def _number(value) -> n.Literal:
    return n.Literal(value, "number")


def _percent(percent) -> n.Literal:
    return n.Literal(percent / 100, "ratio")


def _duration(amount: int, unit: str) -> n.Literal:
    days = amount * _DAYS_PER_UNIT[unit.removesuffix("s")]
    return n.Literal(datetime.timedelta(days=days), "duration")


def _money(amount, currency: str) -> n.Literal:
    return n.Literal(n.Money(amount, currency), "money")


def _text(value: str) -> n.Literal:
    return n.Literal(value, "text")


_free_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_floats = st.floats(min_value=1e-6, max_value=1e17, allow_nan=False, allow_infinity=False)
_counts = st.integers(0, 12).map(_number)
_plain_numbers = st.one_of(st.integers(0, 10**6), _floats).map(_number)
_percents = st.one_of(st.integers(0, 100), st.integers(0, 1000).map(lambda x: x / 10)).map(
    _percent)
_amounts = st.one_of(st.integers(0, 5000), st.integers(0, 500_000).map(lambda c: c / 100))
_money_literals = st.builds(_money, _amounts, st.sampled_from(("GBP", "EUR")))
_date_literals = st.dates(_FIRST_DAY, _LAST_DAY).map(lambda d: n.Literal(d, "date"))
_duration_literals = st.builds(_duration, st.integers(0, 400), st.sampled_from(_UNITS))
_needles = st.one_of(st.sampled_from(_NEEDLES), _free_text).map(_text)
_bool_literals = st.booleans().map(lambda b: n.Literal(b, "bool"))


def literals() -> st.SearchStrategy[n.Literal]:
    """Every kind of literal, with values over wide ranges (the printer's hard cases)."""
    return _choice(_plain_numbers, _percents, _money_literals, _date_literals,
                   _duration_literals, _bool_literals, _free_text.map(_text))


def _texts_for(field: str) -> st.SearchStrategy[str]:
    words = _WORDS_BY_FIELD.get(field)
    if words is not None:
        return st.sampled_from(words)
    return st.one_of(st.sampled_from(_SENTENCES), _free_text)


# --- paths of the vocabulary, by type ---------------------------------------------------------

Bindings = tuple[tuple[str, str], ...]  # (name, record) for each root and bound variable


@cache
def is_writable(name: str) -> bool:
    """Whether a condition can name this field (`post.NAME`): a reserved word cannot."""
    node, _ = parse("post." + name)
    return node == n.Path(("post", name))


def _fields(record: str, prefix: tuple[str, ...], depth: int = 0) -> Iterator[tuple]:
    """(path, type) of every field reachable from a record without entering a list,
    leaving out the fields no condition can name."""
    for name, typ in vocabulary.RECORDS[record].items():
        if not is_writable(name):
            continue
        path = (*prefix, name)
        if typ.kind == "record":
            if depth < 2:
                yield from _fields(typ.name, path, depth + 1)
        else:
            yield path, typ


def _sort(typ: t.Type) -> str:
    """The sort of values a field holds, as the strategies group them."""
    if typ.kind == "number":
        return "count"
    if typ.kind == "list":
        element = typ.element
        if element.kind == "text":
            return "texts"
        return "records:" + element.name
    return typ.kind  # bool date money text


@cache
def _paths(bindings: Bindings) -> Mapping[str, tuple]:
    """Paths readable under `bindings`, by sort; `record:NAME` lists the bound records."""
    by_sort: dict[str, list] = {}
    for root, record in bindings:
        by_sort.setdefault("record:" + record, []).append((root,))
        for path, typ in _fields(record, (root,)):
            by_sort.setdefault(_sort(typ), []).append(path)
    return {sort: tuple(paths) for sort, paths in by_sort.items()}


def _paths_of(bindings: Bindings, sort: str) -> st.SearchStrategy[n.Path]:
    return st.sampled_from(_paths(bindings)[sort]).map(n.Path)


def _level_bindings(level: str) -> Bindings:
    return tuple((root, root) for root in SCOPE_ROOTS[level])


def _parameter(name: str) -> st.SearchStrategy[n.Path]:
    return st.just(n.Path((name,)))


# --- value expressions -------------------------------------------------------------------------

def _quantifier(kind: str, bindings: Bindings, depth: int, known_tests: bool):
    """`kind(v in collection where condition)` over a list of records in scope; lists
    of posts come up as often as all the others together, and their `where` part is
    often a signal of the post itself, the case that makes a count partly known."""
    choices = []
    for sort, paths in _paths(bindings).items():
        if not sort.startswith("records:"):
            continue
        record = sort.removeprefix("records:")
        taken = {name for name, _ in bindings}
        var = next((v for v in _VARIABLES[record] if v not in taken), None)
        if var is None:
            continue
        inner_bindings = (*bindings, (var, record))
        inner = _conditions(inner_bindings, depth - 1, known_tests)
        wheres = [st.none(), inner, inner]
        own = [path for path in _paths(inner_bindings).get("bool", ()) if path[0] == var]
        if own:
            wheres += [st.sampled_from(own).map(n.Path)] * 2
        quantifier = st.builds(n.Quantifier, st.just(kind), st.just(var),
                               st.sampled_from(paths).map(n.Path), _choice(*wheres))
        choices += [quantifier] * (2 if record == "post" else 1)
    return _choice(*choices)


@cache
def _counts_of(bindings: Bindings, depth: int, known_tests: bool):
    atoms = [_paths_of(bindings, "count"), _counts, _parameter("min_followers")]
    if depth > 0:
        atoms += [_quantifier("count", bindings, depth, known_tests)] * 2
    atom = _choice(*atoms)
    return _choice(
        atom,
        atom,
        st.builds(n.Arith, st.sampled_from("+-"), atom, atom),
        st.builds(n.Arith, st.just("*"), _counts, atom),
        st.builds(n.Neg, atom),
    )


@cache
def _ratios_of(bindings: Bindings, depth: int, known_tests: bool):
    choices = [_percents, _parameter("share_threshold")]
    if depth > 0:
        share = _quantifier("share", bindings, depth, known_tests)
        count = _quantifier("count", bindings, depth, known_tests)
        count_or_path = _choice(count, _paths_of(bindings, "count"))
        choices += [share, share, st.builds(n.Arith, st.just("/"), count_or_path, count_or_path)]
    return _choice(*choices)


def _money_of(bindings: Bindings):
    """Amounts; never two literals in one comparison, which the checker refuses (T006)
    when their currencies differ."""
    path = _paths_of(bindings, "money") | _parameter("price_floor")
    return path | st.builds(n.Arith, st.just("*"), path, _counts)


def _dates_of(bindings: Bindings):
    path = _paths_of(bindings, "date")
    return st.one_of(path, _date_literals,
                     st.builds(n.Arith, st.sampled_from("+-"), path, _duration_literals))


def _durations_of(bindings: Bindings):
    path = _paths_of(bindings, "date")
    return st.one_of(_duration_literals, _parameter("recent_window"),
                     st.builds(n.Arith, st.just("-"), path, path))


def _any_texts(bindings: Bindings):
    """A text or a list of texts: what contains, matches and mentions read."""
    return _paths_of(bindings, "text") | _paths_of(bindings, "texts")


@cache
def _values_of(bindings: Bindings, depth: int, known_tests: bool):
    """A value of any sort: what `is known` may ask about."""
    return _choice(
        st.sampled_from(sorted(_paths(bindings))).flatmap(lambda s: _paths_of(bindings, s)),
        _counts_of(bindings, depth, known_tests), _ratios_of(bindings, depth, known_tests),
        _dates_of(bindings), _durations_of(bindings), _money_of(bindings),
    )


# --- conditions ---------------------------------------------------------------------------------

def _compare(ops, left, right):
    return st.builds(n.Compare, st.sampled_from(ops), left, right)


@cache
def _text_lists(field: str) -> st.SearchStrategy[n.ListLiteral]:
    return st.lists(_texts_for(field).map(_text), min_size=1, max_size=3).map(
        lambda items: n.ListLiteral(tuple(items)))


_count_lists = st.lists(_counts, min_size=1, max_size=3).map(
    lambda items: n.ListLiteral(tuple(items)))
_money_lists = st.lists(_money_literals, min_size=1, max_size=3).map(
    lambda items: n.ListLiteral(tuple(items)))


@cache
def _list_members(bindings: Bindings, depth: int, known_tests: bool):
    """`x in [...]`, negated or not, for a text field, a count or an amount."""
    def in_list(path: tuple) -> st.SearchStrategy[n.Member]:
        return st.builds(n.Member, st.just(n.Path(path)), _text_lists(path[-1]),
                         st.booleans())

    return _choice(st.sampled_from(_paths(bindings)["text"]).flatmap(in_list),
                   st.builds(n.Member, _counts_of(bindings, depth, known_tests), _count_lists,
                             st.booleans()),
                   st.builds(n.Member, _money_of(bindings), _money_lists, st.booleans()))


def _members(bindings: Bindings, depth: int, known_tests: bool):
    """`x in [...]` and `"a" in list`, negated or not."""
    def in_field(path: tuple) -> st.SearchStrategy[n.Member]:
        return st.builds(n.Member, _texts_for(path[-1]).map(_text), st.just(n.Path(path)),
                         st.booleans())

    return _choice(_list_members(bindings, depth, known_tests),
                   st.sampled_from(_paths(bindings)["texts"]).flatmap(in_field))


def _violations(bindings: Bindings):
    """`subject violates rule` for the rules decided before this one or with it (a post
    rule cannot ask about a page rule, R006). The first binding is the rule's own level:
    `SCOPE_ROOTS` lists it first."""
    level = LEVELS.index(bindings[0][0])
    choices = []
    for rule, record in RULES.items():
        subjects = _paths(bindings).get("record:" + record)
        if subjects and LEVELS.index(record) <= level:
            choices.append(st.builds(n.Violates, st.sampled_from(subjects).map(n.Path),
                                     st.just(rule)))
    return _choice(*choices)


@cache
def _predicates(bindings: Bindings, depth: int, known_tests: bool):
    counts = _counts_of(bindings, depth, known_tests)
    ratios = _ratios_of(bindings, depth, known_tests)
    dates = _dates_of(bindings)
    choices = [
        _paths_of(bindings, "bool"),
        _paths_of(bindings, "bool"),
        _bool_literals,
        _compare(_EQUALITIES, _paths_of(bindings, "bool"),
                 _bool_literals | _paths_of(bindings, "bool")),
        _compare(_ORDERINGS, counts, counts),
        _compare(_ORDERINGS, ratios, ratios),
        _compare(_ORDERINGS, _money_of(bindings), _money_literals | _money_of(bindings)),
        _compare(_ORDERINGS, dates, dates),
        _compare(_ORDERINGS, _durations_of(bindings), _durations_of(bindings)),
        _compare(_EQUALITIES, _paths_of(bindings, "text"),
                 _texts_for("kind").map(_text) | _needles),
        st.builds(n.Within, _paths_of(bindings, "date"), _durations_of(bindings),
                  st.sampled_from(("before", "after")), dates),
        _members(bindings, depth, known_tests),
        st.builds(n.Contains, _any_texts(bindings), _needles),
        st.builds(n.Matches, _any_texts(bindings), st.sampled_from(_PATTERNS)),
        st.builds(n.Mentions, _any_texts(bindings), st.just(LEXICON.name)),
        _violations(bindings),
    ]
    if known_tests:
        choices.append(st.builds(n.IsKnown, _values_of(bindings, depth, known_tests),
                                 st.booleans()))
    if depth > 0:
        choices += [_quantifier(kind, bindings, depth, known_tests)
                    for kind in ("any", "all", "none")]
    return _choice(*choices)


@cache
def _conditions(bindings: Bindings, depth: int, known_tests: bool):
    leaf = _predicates(bindings, depth, known_tests)
    if depth == 0:
        return leaf
    sub = _conditions(bindings, depth - 1, known_tests)
    return _choice(
        leaf,
        leaf,
        st.builds(n.Not, sub),
        st.builds(n.And, sub, sub),
        st.builds(n.Or, sub, sub),
    )


def conditions(level: str = "post", depth: int = 2,
               known_tests: bool = True) -> st.SearchStrategy[n.Node]:
    """Well-typed conditions of a rule that applies to `level`.

    `depth` bounds the nesting of and/or/not and of quantifiers. Without `known_tests`
    there is no `is known` or `is unknown`: the only operators whose value may change
    from settled to the opposite when an unknown becomes known.
    """
    return _conditions(_level_bindings(level), depth, known_tests)


def quantified(level: str = "post", depth: int = 2,
               known_tests: bool = True) -> st.SearchStrategy[n.Quantifier]:
    """`any`, `all` or `none` over a list in scope, with or without a `where` part."""
    bindings = _level_bindings(level)
    return _choice(*(_quantifier(kind, bindings, depth, known_tests)
                     for kind in ("any", "all", "none")))


def memberships(level: str = "post", depth: int = 2,
                known_tests: bool = True) -> st.SearchStrategy[n.Member]:
    """`x in [...]` and `x not in [...]` with a list literal: texts, counts, amounts."""
    return _list_members(_level_bindings(level), depth, known_tests)


def counts(level: str = "post", depth: int = 2,
           known_tests: bool = True) -> st.SearchStrategy[n.Node]:
    """Count expressions: fields, literals, `count(...)` and arithmetic on them."""
    return _counts_of(_level_bindings(level), depth, known_tests)


def ratios(level: str = "post", depth: int = 2,
           known_tests: bool = True) -> st.SearchStrategy[n.Node]:
    """Ratio expressions: `share(...)`, percentages, count / count."""
    return _ratios_of(_level_bindings(level), depth, known_tests)


def values(level: str = "post", depth: int = 1) -> st.SearchStrategy[n.Node]:
    """Well-typed expressions of any sort (not only conditions)."""
    return _values_of(_level_bindings(level), depth, True)


# --- evidence -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evidence:
    """A target page with its posts, a request, and the verdicts `violates` reads.

    Verdicts are kept by position (one per post, one for the page) because `violates`
    looks them up by the identity of the subject, which a copy does not keep.
    """

    page: dict
    request: dict
    post_verdicts: tuple[bool | None, ...]
    page_verdict: bool | None

    @property
    def posts(self) -> list:
        return self.page.get("posts") or []

    def verdicts(self) -> dict[str, dict[int, bool | None]]:
        """{rule id: {id(subject): verdict}}, as the compiler and the reference take it."""
        return {POST_RULE: {id(p): v for p, v in zip(self.posts, self.post_verdicts,
                                                     strict=True)},
                PAGE_RULE: {id(self.page): self.page_verdict}}

    def subjects(self, level: str) -> list:
        """What `post` is bound to: each post in turn for a post rule, else nothing."""
        return list(self.posts) if level == "post" else [None]


_verdict = st.sampled_from((True, False, None))
_evidence_counts = st.integers(0, 12) | st.integers(0, 10**6)
_evidence_dates = st.dates(_FIRST_DAY, _LAST_DAY)
_evidence_money = st.builds(n.Money, _amounts, st.sampled_from(("GBP", "EUR")))


def _maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly a value of `strategy`, sometimes None: an item of a list that is unknown."""
    return st.tuples(st.integers(0, 4), strategy).map(lambda p: p[1] if p[0] else None)


def _field_values(typ: t.Type, field: str) -> st.SearchStrategy:
    match typ.kind:
        case "bool":
            return st.booleans()
        case "number":
            return _evidence_counts
        case "date":
            return _evidence_dates
        case "money":
            return _evidence_money
        case "text":
            return _texts_for(field)
        case "record":
            return _records(typ.name)
        case "list" if typ.element.kind == "text":
            return st.lists(_maybe(_texts_for(field)), max_size=3)
        case "list":
            return st.lists(_maybe(_records(typ.element.name)), max_size=3)
    raise AssertionError(typ)


@cache
def _records(record: str, max_posts: int = 6) -> st.SearchStrategy[dict]:
    """A record with each field present or absent (absent is unknown)."""
    optional = {field: _field_values(typ, field)
                for field, typ in vocabulary.RECORDS[record].items()}
    if record == "page":
        optional["posts"] = st.lists(_records("post"), max_size=max_posts)
    required = {}
    if record == "request":
        required["submitted"] = optional.pop("submitted")
    return st.fixed_dictionaries(required, optional=optional)


@st.composite
def evidence(draw, max_posts: int = 6) -> Evidence:
    """A page with 0 to `max_posts` posts (or no list of posts at all: unknown), a
    request with its date, and verdicts for both rules on every subject."""
    page = draw(_records("page", max_posts))
    request = draw(_records("request"))
    post_verdicts = tuple(draw(_verdict) for _ in page.get("posts") or ())
    return Evidence(page, request, post_verdicts, draw(_verdict))


Location = tuple  # ("page" | "request", key or index, ...), ending at a boolean field


def unknowns(ev: Evidence) -> list[Location]:
    """Every boolean field that is absent (unknown) and that a fact could fill in: in
    the page, each post and the request, including fields of absent sub-records."""
    found: list[Location] = []

    def visit(value, record: str, at: Location) -> None:
        for field, typ in vocabulary.RECORDS[record].items():
            if typ.kind == "bool" and field not in value:
                found.append((*at, field))
            elif typ.kind == "record":
                visit(value.get(field) or {}, typ.name, (*at, field))
        if record == "page":
            for index, post in enumerate(value.get("posts") or ()):
                visit(post, "post", (*at, "posts", index))

    visit(ev.page, "page", ("page",))
    visit(ev.request, "request", ("request",))
    return found


def resolve(ev: Evidence, location: Location, value: bool) -> Evidence:
    """A copy of the evidence with the unknown field at `location` now known."""
    roots = {"page": copy.deepcopy(ev.page), "request": copy.deepcopy(ev.request)}
    target = roots[location[0]]
    for key in location[1:-1]:  # an index into a list of posts, or a field
        target = target[key] if isinstance(key, int) else target.setdefault(key, {})
    assert location[-1] not in target, "only an unknown field can be resolved"
    target[location[-1]] = value
    return Evidence(roots["page"], roots["request"], ev.post_verdicts, ev.page_verdict)


def resolutions(ev: Evidence, *trees: n.Node) -> st.SearchStrategy[tuple[Location, bool]]:
    """An unknown boolean field of `ev` and the value it turns out to have; mostly a
    field that one of `trees` reads, since a random one would rarely matter. Draws
    nothing (the test case is dropped) when every boolean is already known."""
    places = unknowns(ev)
    if not places:
        return st.nothing()
    read = {name for tree in trees for node in n.walk(tree) if isinstance(node, n.Path)
            for name in node.names[1:]}
    relevant = [place for place in places if place[-1] in read]
    choice = st.sampled_from(places)
    if relevant:
        choice = _choice(*[st.sampled_from(relevant)] * 3, choice)
    return st.tuples(choice, st.booleans())


@cache
def evidence_pool(size: int, max_posts: int = 6) -> tuple[Evidence, ...]:
    """`size` pieces of evidence, the same on every run: what a test runs many trees on
    when drawing fresh evidence for each would cost more than the test itself."""
    found: list[Evidence] = []

    @settings(max_examples=size, database=None, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(evidence(max_posts))
    def draw(ev):
        found.append(ev)

    draw()
    return tuple(found)


# --- dated parameters ----------------------------------------------------------------------------

_PARAMETER_UNITS = {"min_followers": "count", "share_threshold": "ratio",
                    "price_floor": "money", "recent_window": "days"}
_parameter_values = {
    "count": _evidence_counts,
    "ratio": st.sampled_from((0, 0.05, 0.5, 1)) | st.floats(0, 1),
    "money": _evidence_money,
    "days": st.integers(0, 400).map(lambda days: datetime.timedelta(days=days)),
}


@st.composite
def dated_parameters(draw) -> dict:
    """The values of `PARAMETERS` on a day drawn with them, each read from a table of one
    to three dated values, as a rule set holds them (the first starts on or before the
    day; the others before or after it)."""
    day = draw(_evidence_dates)
    values = {}
    for name, unit in _PARAMETER_UNITS.items():
        starts = {draw(st.dates(_FIRST_DAY, day))}
        starts |= set(draw(st.lists(_evidence_dates, max_size=2)))
        table = tuple((start, draw(_parameter_values[unit])) for start in sorted(starts))
        values[name] = Parameter(name, unit, table).value_on(day)
    return values
