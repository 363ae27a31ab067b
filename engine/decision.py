"""Decisions: what the engine predicts for one request, and why.

Outcomes are ranked: `no_action` < `geo_blocked` < `posts_removed` < `page_removed`.
Each rule set gives a lower bound (from rules that surely hold) and an upper bound (as
if every rule whose result is unknown held). Between them, `engine.probability` weighs
each outcome with the priors declared for the facts nobody assessed. A decision answers
the request that was made (its *scope*): a request about posts is answered with at most
`posts_removed`, and a chance that the platform goes further and takes the page down is
reported as an escalation. The decision's outcome is the most probable outcome of that
scope when its probability reaches `DECISIVE`, and `undetermined` otherwise.

The likelihood of acceptance is a noisy-OR of the confidences of the rules that hold
(docs/decisions.md gives the method):

    likelihood = 1 - (1 - LEAK) * product over action rules r of (1 - w_r * c_r)

where c_r is the rule's declared confidence and w_r is 1 if the rule holds on some
subject, UNKNOWN_WEIGHT if it may hold (unknown), and 0 otherwise; each `deficient`
request rule that holds then multiplies the likelihood by (1 - w * c). LEAK is the
chance a platform acts for reasons no rule captures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

__all__ = ["OUTCOMES", "UNDETERMINED", "SCOPES", "DECISIVE", "rank", "Decision", "Reason",
           "Threshold", "AppliedException", "MissingFact", "Effect", "Escalation", "PostDecision",
           "RulesetContribution", "outcome_of", "combine", "likelihood", "scope_of", "within_scope",
           "scoped", "headline", "LEAK", "UNKNOWN_WEIGHT"]

OUTCOMES = ("no_action", "geo_blocked", "posts_removed", "page_removed")
UNDETERMINED = "undetermined"
_RANKS = {**{outcome: index for index, outcome in enumerate(OUTCOMES)}, UNDETERMINED: 0}
ACTION_VERDICTS = ("violates", "remove_page", "geo_block", "illegal")
LEAK = 0.02
UNKNOWN_WEIGHT = 0.5
# The most probable outcome is the decision's outcome when its probability is above
# this: more likely than all the others together. Otherwise the decision is
# `undetermined` (an even split between two outcomes included).
DECISIVE = 0.5
# What a request can ask for: the whole target, or only its posts.
SCOPES = {"page": "page_removed", "posts": "posts_removed"}


def rank(outcome: str) -> int:
    """An outcome's place in the order; `undetermined` counts as its lower bound."""
    return _RANKS[outcome]


def outcome_of(held: set[tuple[str, str]]) -> str:
    """The outcome that a set of (verdict, applies_to) holding together leads to."""
    verdicts = {verdict for verdict, _ in held}
    if "remove_page" in verdicts:
        return "page_removed"
    if "violates" in verdicts:
        return "posts_removed"
    if verdicts & {"geo_block", "illegal"}:
        return "geo_blocked"
    return "no_action"


def combine(lower: str, upper: str) -> str:
    """The outcome the bounds alone allow: sure when they agree or when something is
    sure to happen (a rule set's own line in a decision)."""
    if lower == upper or rank(lower) > 0:
        return lower
    return UNDETERMINED


def scope_of(request: Mapping, target: Mapping) -> str:
    """What the request is about: "posts" when it asks for posts to be removed or
    withheld, or flags a single post; "page" otherwise (the whole target)."""
    if target.get("kind") == "post" or request.get("asks") in ("remove_posts", "geo_block"):
        return "posts"
    return "page"


def within_scope(outcome: str, scope: str) -> str:
    """An outcome as an answer to a request of `scope`: removing the page removes the
    posts a post request asked about."""
    limit = SCOPES[scope]
    return limit if outcome != UNDETERMINED and rank(outcome) > rank(limit) else outcome


def scoped(distribution: dict[str, float], scope: str) -> dict[str, float]:
    out = dict.fromkeys(OUTCOMES, 0.0)
    for outcome, p in distribution.items():
        out[within_scope(outcome, scope)] += p
    return out


def headline(distribution: dict[str, float]) -> tuple[str, float]:
    """The most probable outcome and its probability, or `undetermined` with the best
    one's probability when none is above DECISIVE."""
    best = max(OUTCOMES, key=lambda o: (round(distribution.get(o, 0.0), 9), -rank(o)))
    p = distribution.get(best, 0.0)
    return (best if p > DECISIVE + 1e-9 else UNDETERMINED), p


def likelihood(weights: list[tuple[str, float, float]]) -> float:
    """`weights` holds (verdict, w, confidence) for each rule; see the module docstring."""
    keep = 1.0 - LEAK
    for verdict, w, confidence in weights:
        if verdict in ACTION_VERDICTS:
            keep *= 1.0 - w * confidence
    result = 1.0 - keep
    for verdict, w, confidence in weights:
        if verdict == "deficient":
            result *= 1.0 - w * confidence
    return round(min(max(result, 0.0), 1.0), 4)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _json(value: Any) -> Any:
    """Dataclasses to dicts and tuples to lists, recursively. `dataclasses.asdict` does the
    same with deep copies, several times slower: this runs for every decision served."""
    kind = type(value)
    if kind in (str, int, float, bool) or value is None:
        return value
    if kind in (list, tuple):
        return [_json(v) for v in value]
    if kind is dict:
        return {k: _json(v) for k, v in value.items()}
    names = _FIELD_NAMES.get(kind)
    if names is None:
        if not is_dataclass(value):
            return value
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(value))
    return {name: _json(getattr(value, name)) for name in names}


@dataclass(frozen=True, slots=True)
class Citation:
    source: str
    title: str
    section: str
    says: str
    url: str


@dataclass(frozen=True, slots=True)
class Span:
    pointer: str  # the text it is in
    start: int
    end: int
    text: str
    label: str  # the lexicon entry, pattern or annotation label that matched
    by: str | None = None  # the analyst, for annotations


@dataclass(frozen=True, slots=True)
class Reason:
    ruleset: str
    rule: str
    verdict: str
    subject: str  # "post", "page" or "request"
    post: str | None
    title: str
    message: str
    confidence: float
    citations: tuple[Citation, ...]
    evidence: tuple[dict, ...]  # {pointer, value}
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True)
class Threshold:
    ruleset: str
    rule: str
    parameter: str
    estimated: bool
    comparison: str  # the operator, e.g. ">="
    required: Any
    observed: Any  # a number, or [lo, hi] when evidence is unknown
    met: bool | None
    margin: str
    text: str
    out_of: int | None = None


@dataclass(frozen=True, slots=True)
class AppliedException:
    ruleset: str
    exception: str
    overrides: str
    verdict: str
    subject: str
    post: str | None
    citations: tuple[Citation, ...]


@dataclass(frozen=True, slots=True)
class Effect:
    """What the decision would be if some unknown facts were established."""

    value: Any  # the value the facts are given (true, false)
    outcome: str
    probability: float  # of that outcome
    shift: float  # how far the whole distribution moves (total variation distance)
    settled: bool  # whether the sure bounds then agree
    chance: float = 0.0  # how likely the facts are to turn out so, as weighed now


@dataclass(frozen=True, slots=True)
class MissingFact:
    fact: str  # the vocabulary path, e.g. post.signals.offers_crossing; "a + b" for a combination
    pointers: tuple[str, ...]
    posts: tuple[str, ...]
    if_true: str | None  # the outcome if confirmed, when it differs from the decision's
    if_false: str | None  # the outcome if ruled out, when it differs
    text: str
    effects: tuple[Effect, ...] = ()
    shift: float = 0.0  # the largest of the effects' shifts: how far the fact can move it
    expected_shift: float = 0.0  # the effects' shifts weighed by their chances: the rank
    facts: tuple[str, ...] = ()  # for a combination, its facts


@dataclass(frozen=True, slots=True)
class Escalation:
    """A request about posts that could take the whole target down."""

    outcome: str
    probability: float
    sure: bool
    rules: tuple[str, ...]  # the page rules that hold or may hold
    missing: tuple[MissingFact, ...] = ()  # what would settle it
    text: str = ""


@dataclass(frozen=True, slots=True)
class PostDecision:
    id: str
    outcome: str  # removed, kept, removed with the page
    rules: tuple[str, ...]
    probability: float = 0.0  # that a policy rule holds on it
    sure: bool = True  # whether the evidence settles it


# A decision has a `PostDecision` for every post, and the `__init__` dataclasses writes for
# a frozen class calls `object.__setattr__`, looked up each time, once a field: 0.6 µs a
# post, 4 % of the fast path on a page of 25 posts. `post_decision` builds the same object
# in 0.36 µs by calling each slot's own descriptor, which is where that call ends up.
_POST_FIELDS = ("id", "outcome", "rules", "probability", "sure")
if tuple(f.name for f in fields(PostDecision)) != _POST_FIELDS:  # fail at import, not silently
    raise TypeError("PostDecision's fields changed: update post_decision to set each of them")
_set_id, _set_outcome, _set_rules, _set_probability, _set_sure = (
    getattr(PostDecision, name).__set__ for name in _POST_FIELDS)
_new = object.__new__


def post_decision(id: str, outcome: str, rules: tuple[str, ...], probability: float,
                  sure: bool) -> PostDecision:
    """`PostDecision(id, outcome, rules, probability, sure)`, for the fast path."""
    made = _new(PostDecision)
    _set_id(made, id)
    _set_outcome(made, outcome)
    _set_rules(made, rules)
    _set_probability(made, probability)
    _set_sure(made, sure)
    return made


@dataclass(frozen=True, slots=True)
class RulesetContribution:
    id: str
    version: str
    sha256: str
    kind: str
    outcome: str
    fired: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleError:
    ruleset: str
    rule: str
    post: str | None
    error: str


@dataclass(frozen=True, slots=True)
class Decision:
    request: str
    platform: str
    as_of: str
    outcome: str
    likelihood: float
    bounds: tuple[str, str]
    rulesets: tuple[RulesetContribution, ...]
    posts: tuple[PostDecision, ...]
    scope: str = "page"
    probability: float = 1.0  # of `outcome`; of the most probable one when undetermined
    distribution: dict = field(default_factory=dict)  # outcome -> probability, within scope
    unresolved: float = 0.0  # probability left at its lower bound, unweighed
    escalation: Escalation | None = None
    priors: tuple[dict, ...] = ()  # the priors weighed: ruleset, prior, fact
    reasons: tuple[Reason, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    exceptions: tuple[AppliedException, ...] = ()
    missing: tuple[MissingFact, ...] = ()
    deficiencies: tuple[Reason, ...] = ()
    errors: tuple[RuleError, ...] = ()
    engine: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)
    # When the request is older than the platform's encoded history: the first day of the
    # versions applied, as an estimate of the policy then (engine.evaluation
    # BEFORE_HISTORY_DAYS); empty when every version applied was in force on `as_of`.
    before_history: str = ""
    # The signals the decision read that an extractor established rather than an analyst
    # (engine.extraction.provenance): pointer, fact, value, confidence, spans.
    extracted: tuple[dict, ...] = ()

    def as_json(self) -> dict:
        out = _json(self)
        out["bounds"] = {"lower": self.bounds[0], "upper": self.bounds[1]}
        return out
