"""Decisions: what the engine predicts for one request, and why.

Outcomes are ranked: `no_action` < `geo_blocked` < `posts_removed` < `page_removed`.
Each rule set gives a lower bound (from rules that surely hold) and an upper bound (as
if every rule whose result is unknown held). The decision's outcome is the lower bound
when both agree, or when something is sure to happen and only more could; when nothing
is sure but something could happen, the outcome is `undetermined`, and `missing` says
which facts would settle it.

The likelihood of acceptance is a noisy-OR of the confidences of the rules that hold
(docs/decisions.md gives the method):

    likelihood = 1 - (1 - LEAK) * product over action rules r of (1 - w_r * c_r)

where c_r is the rule's declared confidence and w_r is 1 if the rule holds on some
subject, UNKNOWN_WEIGHT if it may hold (unknown), and 0 otherwise; each `deficient`
request rule that holds then multiplies the likelihood by (1 - w * c). LEAK is the
chance a platform acts for reasons no rule captures.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

__all__ = ["OUTCOMES", "UNDETERMINED", "rank", "Decision", "Reason", "Threshold",
           "AppliedException", "MissingFact", "PostDecision", "RulesetContribution",
           "outcome_of", "combine", "likelihood", "LEAK", "UNKNOWN_WEIGHT"]

OUTCOMES = ("no_action", "geo_blocked", "posts_removed", "page_removed")
UNDETERMINED = "undetermined"
ACTION_VERDICTS = ("violates", "remove_page", "geo_block", "illegal")
LEAK = 0.02
UNKNOWN_WEIGHT = 0.5


def rank(outcome: str) -> int:
    """An outcome's place in the order; `undetermined` counts as its lower bound."""
    return 0 if outcome == UNDETERMINED else OUTCOMES.index(outcome)


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
    if lower == upper or rank(lower) > 0:
        return lower
    return UNDETERMINED


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
class MissingFact:
    fact: str  # the vocabulary path, e.g. post.signals.offers_crossing
    pointers: tuple[str, ...]
    posts: tuple[str, ...]
    if_true: str | None
    if_false: str | None
    text: str


@dataclass(frozen=True, slots=True)
class PostDecision:
    id: str
    outcome: str  # removed, kept, undetermined
    rules: tuple[str, ...]


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
    reasons: tuple[Reason, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    exceptions: tuple[AppliedException, ...] = ()
    missing: tuple[MissingFact, ...] = ()
    deficiencies: tuple[Reason, ...] = ()
    errors: tuple[RuleError, ...] = ()
    engine: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)
    # The signals the decision read that an extractor established rather than an analyst
    # (engine.extraction.provenance): pointer, fact, value, confidence, spans.
    extracted: tuple[dict, ...] = ()

    def as_json(self) -> dict:
        out = _json(self)
        out["bounds"] = {"lower": self.bounds[0], "upper": self.bounds[1]}
        return out
