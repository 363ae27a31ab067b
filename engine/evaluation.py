"""Evaluate evidence under the rule sets in force: the engine's main job.

`Evaluator` loads and compiles rule sets once and then runs them on many requests:
`run` evaluates every rule set in force, and `decide` combines the runs (with the
weighing of what the evidence leaves open, from `engine.probability`) into the answer
to the request. This is the fast path, and it knows nothing of explanations: `Engine`
(engine/api.py), above the weighing and the explanation, puts the three together and
adds the traced path when asked.
"""

from __future__ import annotations

import datetime
from collections import ChainMap
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Self

import rules
from engine.decision import (
    DECISIVE,
    OUTCOMES,
    UNKNOWN_WEIGHT,
    Decision,
    Escalation,
    RuleError,
    RulesetContribution,
    combine,
    headline,
    likelihood,
    outcome_of,
    post_decision,
    rank,
    scope_of,
    scoped,
    within_scope,
)
from engine.evidence import Evidence, Pointers
from engine.extraction.provenance import extracted_signals

if TYPE_CHECKING:  # the weighing reads the evaluation, never the other way round
    from engine.probability import Weighing

__all__ = ["Evaluator", "RulesetRun", "RulesError", "NoRulesetInForce", "decide", "bounds_of",
           "leaf_likelihood", "with_policy_results", "BEFORE_HISTORY_DAYS"]

ENGINE = {"name": "takedown", "version": rules.__version__}


class RulesError(Exception):
    """The rule sets have errors; `diagnostics` says which."""

    def __init__(self, diagnostics: list[rules.Diagnostic]):
        super().__init__(f"{sum(d.is_error for d in diagnostics)} errors in the rule sets")
        self.diagnostics = diagnostics


class NoRulesetInForce(Exception):
    def __init__(self, platform: str, day: datetime.date):
        super().__init__(f"no rule set covers {platform or 'an unnamed platform'} on {day}")
        self.platform, self.day = platform, day


@dataclass(frozen=True, slots=True)
class RulesetRun:
    """One rule set's evaluation of one request, with the records it read (for
    enforcement and legal rule sets, the target with the policy results filled in)."""

    compiled: rules.CompiledRuleSet
    params: dict
    evaluation: rules.Evaluation
    target: dict
    request: dict
    pointers: ChainMap  # id() of a record -> its JSON pointer in the evidence

    @property
    def posts(self) -> list:
        return self.target.get("posts") or []

    def pointer_of(self, record) -> str | None:
        key = id(record)
        for layer in self.pointers.maps:  # ChainMap.get would look twice, in Python
            found = layer.get(key)
            if found is not None:
                return found
        return None

    @property
    def ruleset(self) -> rules.RuleSet:
        return self.compiled.ruleset

    def bounds(self) -> tuple[str, str]:
        """The outcome this rule set surely leads to, and the most it could lead to."""
        verdicts = self.compiled.verdicts
        sure, maybe = set(), set()
        for rule, applies_to, _, _, exceptions, holds, _ in self.evaluation.results:
            if holds is not False:
                maybe.add((verdicts[rule], applies_to))
                if holds is True:
                    sure.add((verdicts[rule], applies_to))
            # An exception that gives a verdict of its own (not `allowed`) replaces the rule's.
            for exception, applies in exceptions:
                verdict = verdicts[exception]
                if verdict == "allowed" or applies is False:
                    continue
                if applies is True:
                    sure.add((verdict, applies_to))
                maybe.add((verdict, applies_to))
        return outcome_of(sure), outcome_of(maybe)


# A request made before the earliest version encoded for its platform is decided under
# that version, as an estimate of the policy then, for this many days before it: the
# further back, the less it says (policies were first published in 2015-2018), and past
# that the engine says no rule set is in force. `Engine(before_history_days=0)`, or
# `--strict-dates`, decides only under versions in force.
BEFORE_HISTORY_DAYS = 4 * 365


class Evaluator:
    """Rule sets loaded and compiled once, for many evaluations."""

    def __init__(self, registry: rules.Registry, before_history_days: int = BEFORE_HISTORY_DAYS):
        self.registry = registry
        self.before_history_days = before_history_days
        self._compiled: dict[tuple[str, str], rules.CompiledRuleSet] = {}
        self._stage_cache: dict[tuple[str, datetime.date], list] = {}

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path],
                   before_history_days: int = BEFORE_HISTORY_DAYS) -> Self:
        """Load rule sets from files or directories; raises `RulesError` on errors."""
        registry, diagnostics = rules.load_registry(paths)
        if rules.has_errors(diagnostics):
            raise RulesError(diagnostics)
        return cls(registry, before_history_days)

    def share_compiled(self, other: Evaluator) -> None:
        """Take from `other` the compiled rule sets this registry has too (the same id
        and bytes): after a reload that changed one file, that file alone is compiled."""
        wanted = {(ruleset.id, ruleset.sha256) for ruleset in self.registry}
        self._compiled.update((key, found) for key, found in other._compiled.items()
                              if key in wanted)

    def compiled(self, ruleset: rules.RuleSet) -> rules.CompiledRuleSet:
        key = (ruleset.id, ruleset.sha256)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = rules.compile_ruleset(ruleset)
        return found

    def rulesets_for(self, platform: str, day: datetime.date) -> list[rules.RuleSet]:
        """The rule sets in force; raises `NoRulesetInForce` unless one of them is a
        policy of the platform itself (legal tests and priors alone predict nothing)."""
        return self._in_force(platform, day)[0]

    def _in_force(self, platform: str, day: datetime.date) -> tuple[list[rules.RuleSet],
                                                                     datetime.date]:
        """The rule sets for a request of `day`, and the day whose versions they are:
        `day`, or, shortly before the platform's history starts, its first day."""
        found = self.registry.in_force(platform, day)
        if _has_policy(found):
            return found, day
        first = self._first_day(platform)
        if first is not None and day < first and (first - day).days <= self.before_history_days:
            found = self.registry.in_force(platform, first)
            if _has_policy(found):
                return found, first
        raise NoRulesetInForce(platform, day)

    def _first_day(self, platform: str) -> datetime.date | None:
        starts = [r.effective_from for r in self.registry
                  if r.kind == "policy" and r.platform != "any" and r.covers(platform)
]
        return min(starts, default=None)

    def run(self, evidence: Evidence, as_of: datetime.date | None = None,
            platform: str | None = None, target=None, request=None) -> tuple[list[RulesetRun], datetime.date, str]:
        """Evaluate every rule set in force; `target`/`request` replace the evidence's
        runtime records (the explanation's what-if runs use this)."""
        day = as_of or evidence.submitted
        assert day is not None, "evidence read by parse_evidence always has its date"
        name = platform or evidence.platform
        target = evidence.target if target is None else target
        request = evidence.request if request is None else request
        runs: list[RulesetRun] = []
        # The staged copies' pointers go into a layer of their own: copying the evidence's
        # (one per record) for every run cost more than a rule set's evaluation.
        pointers: ChainMap = ChainMap({}, evidence.pointers)  # type: ignore[arg-type]
        staged: dict | None = None
        for ruleset, compiled, params in self._stages(name, day):
            if ruleset.kind != "policy" and staged is None:
                staged = with_policy_results(target, runs)
                pointers.maps[0] = Pointers(partial(_staged_pointers, staged))  # type: ignore[call-overload]
            records = target if ruleset.kind == "policy" else staged
            assert records is not None
            runs.append(RulesetRun(compiled, params,
                                   rules.run_rules(compiled, records, request, params),
                                   records, request, pointers))
        return runs, day, name

    def _stages(self, platform: str, day: datetime.date) -> list[tuple[rules.RuleSet,
                                                                      rules.CompiledRuleSet,
                                                                      dict]]:
        """The rule sets in force, compiled, in the order they run, with their parameter
        values: worked out once a platform and day (the weighing runs the same request
        hundreds of times). Raises `NoRulesetInForce`."""
        key = (platform, day)
        found = self._stage_cache.get(key)
        if found is None:
            in_force, versions_of = self._in_force(platform, day)
            found = [(ruleset, self.compiled(ruleset), ruleset.parameter_values(versions_of))
                     for ruleset in sorted(in_force, key=lambda r: _STAGES[r.kind])]
            if len(self._stage_cache) >= 4096:
                self._stage_cache.clear()
            self._stage_cache[key] = found
        return found


_STAGES = {kind: index for index, kind in enumerate(rules.KINDS)}


def _has_policy(rulesets: list[rules.RuleSet]) -> bool:
    return any(r.kind == "policy" and r.platform != "any" for r in rulesets)


def _staged_pointers(staged: dict) -> dict[int, str]:
    """The pointers of a staged copy: the target's and its posts', which sit where the
    records they copy sit in the evidence (a post's runtime record is always at
    /target/posts/<its index>)."""
    table = {id(staged): "/target"}
    for index, post in enumerate(staged.get("posts") or ()):
        table[id(post)] = f"/target/posts/{index}"
    return table


def with_policy_results(target: dict, runs: list[RulesetRun]) -> dict:
    """A copy of the target whose posts and page carry `policy`: what the policy rule
    sets concluded, for enforcement and legal rule sets to read."""
    per_post: dict[int, list] = {}
    page: list = []
    for run in runs:
        severe, verdicts = run.compiled.severe, run.compiled.verdicts
        for rule, _, index, _, _, holds, _ in run.evaluation.results:
            # A rule that surely does not hold changes nothing (see _policy_result).
            if holds is False or verdicts[rule] != "violates":
                continue
            bucket = per_post.setdefault(index, []) if index is not None else page
            bucket.append((rule, holds, rule in severe))
    staged = dict(target)
    if "posts" in target:
        staged["posts"] = [
            {**post, "policy": _policy_result(per_post[index]) if index in per_post else
             {"violates": False, "severe": False, "rules": []}}
            for index, post in enumerate(target["posts"] or ())]
    staged["policy"] = _policy_result(page)
    return staged


def _policy_result(held: list) -> dict:
    violates: bool | None = False
    severe: bool | None = False
    ids = []
    for rule, holds, is_severe in held:
        if holds is True:
            ids.append(rule)
            violates = True
            if is_severe:
                severe = True
        elif holds is None:
            if violates is False:
                violates = None
            if is_severe and severe is False:
                severe = None
    return {"violates": violates, "severe": severe, "rules": ids}


def bounds_of(runs: list[RulesetRun], each: list[tuple[str, str]] | None = None) -> tuple[str, str]:
    lower = upper = "no_action"
    for lo, hi in each if each is not None else (run.bounds() for run in runs):
        lower = max(lower, lo, key=rank)
        upper = max(upper, hi, key=rank)
    return lower, upper


def leaf_likelihood(runs: list[RulesetRun]) -> float:
    """The likelihood of acceptance from the rule results of one evaluation."""
    return likelihood(_weights(runs))


def _weights(runs: list[RulesetRun]) -> list[tuple[str, float, float]]:
    weights = []
    for run in runs:
        best: dict[str, float] = {}
        for result in run.evaluation.results:
            w = 1.0 if result.holds is True else UNKNOWN_WEIGHT if result.holds is None else 0.0
            if w > best.get(result.rule, 0.0):
                best[result.rule] = w
        for rule in run.compiled.order:
            weights.append((rule.verdict, best.get(rule.id, 0.0), rule.confidence))
    return weights


def decide(evidence: Evidence, runs: list[RulesetRun], day: datetime.date, platform: str,
           weighing: Weighing | None = None,
           each: list[tuple[str, str]] | None = None) -> Decision:
    """Combine rule results (and, when the evidence leaves the outcome open, the
    weighing of the unknown facts) into the answer to the request: the fast path's end.
    `each` are the runs' bounds, when already known."""
    if each is None:
        each = [run.bounds() for run in runs]
    lower, upper = bounds_of(runs, each)
    scope = scope_of(evidence.request, evidence.target)
    settled = weighing is None
    if weighing is None:
        full = dict.fromkeys(OUTCOMES, 0.0)
        full[lower] = 1.0
        post_probability = None
        unresolved = 0.0
    else:
        full = weighing.distribution()
        post_probability = weighing.post_probabilities(len(evidence.posts))
        unresolved = weighing.unresolved
        accepted = weighing.likelihood()
    distribution = scoped(full, scope)
    outcome, probability = headline(distribution)
    contributions = []
    errors = []
    weights: list[tuple[str, float, float]] = []  # for the likelihood, when settled
    post_rules: dict[int, list[str]] = {}
    post_state: dict[int, bool | None] = {}
    # One pass over each run's results gathers what the decision says of it, of its
    # posts, and the likelihood's weights (what `leaf_likelihood` computes, without a
    # second pass).
    for run, (lo, hi) in zip(runs, each, strict=True):
        fired: dict[str, None] = {}  # in the order first held
        best: dict[str, float] = {}  # rule -> 1 if it holds somewhere, UNKNOWN_WEIGHT if it may
        verdicts = run.compiled.verdicts
        for rule, _, index, _, exceptions, holds, error in run.evaluation.results:
            if holds is True:
                fired[rule] = None
                best[rule] = 1.0
            elif holds is None and rule not in best:
                best[rule] = UNKNOWN_WEIGHT
            if error:
                errors.append(RuleError(run.ruleset.id, rule,
                                        evidence.post_id(index) if index is not None else None,
                                        error))
            if index is None or holds is False and not exceptions or verdicts[rule] != "violates":
                continue
            if holds is True:
                post_state[index] = True
                post_rules.setdefault(index, []).append(rule)
            elif holds is None and post_state.get(index) is not True:
                post_state[index] = None
                post_rules.setdefault(index, []).append(rule)
            if exceptions:
                for exception_id, applies in exceptions:
                    if applies is True:  # the exception that took the verdict over
                        post_rules.setdefault(index, []).append(exception_id)
                        post_state.setdefault(index, False)
                        break
        if settled:
            weights.extend((rule.verdict, best.get(rule.id, 0.0), rule.confidence)
                           for rule in run.compiled.order)
        contributions.append(RulesetContribution(
            run.ruleset.id, run.ruleset.version, run.ruleset.sha256, run.ruleset.kind,
            combine(lo, hi), tuple(fired)))
    if settled:
        accepted = likelihood(weights)
    posts = []
    page_goes = within_scope(outcome, "page") == "page_removed" and scope == "page"
    kept = "removed with the page" if page_goes else "kept"
    for index, post in enumerate(evidence.posts):  # every run sees the same posts, in order
        state = post_state.get(index, False)
        if post_probability is None:  # settled: a post is removed when a rule surely holds
            removed = state is True
            p = 1.0 if removed else 0.0
        else:
            p = post_probability[index]
            removed = state is True or (state is None and p > DECISIVE)
            p = round(p, 4)
        named = post_rules.get(index)
        posts.append(post_decision(str(post.get("id", index)), "removed" if removed else kept,
                                   tuple(dict.fromkeys(named)) if named else (), p,
                                   state is not None))
    return Decision(
        request=str(evidence.request.get("id", "")), platform=platform, as_of=day.isoformat(),
        outcome=outcome, likelihood=round(accepted, 4),
        bounds=(within_scope(lower, scope), within_scope(upper, scope)),
        rulesets=tuple(contributions), posts=tuple(posts), scope=scope,
        probability=round(probability, 4),
        distribution={o: round(p, 4) for o, p in distribution.items()},
        unresolved=round(unresolved, 4),
        escalation=_escalation(runs, scope, lower, upper, full),
        priors=tuple({"ruleset": r, "prior": p, "fact": f}
                     for r, p, f in (weighing.priors if weighing else ())),
        errors=tuple(errors), engine=dict(ENGINE),
        before_history=min((run.compiled.ruleset.effective_from.isoformat() for run in runs
                            if run.compiled.ruleset.effective_from > day), default=""),
        evidence={"digest": evidence.digest, "name": evidence.name,
                  **({"read_as": [r.as_json() for r in evidence.readings]}
                     if evidence.readings else {})},
        extracted=tuple(extracted_signals(evidence.document)))


def _escalation(runs: list[RulesetRun], scope: str, lower: str, upper: str,
                full: dict[str, float]) -> Escalation | None:
    """For a request about posts: whether the platform could take the target down too."""
    if scope == "page" or upper != "page_removed":
        return None
    held = []
    for run in runs:
        for result in run.evaluation.results:
            if run.compiled.verdicts[result.rule] == "remove_page" and result.holds is not False:
                held.append(result.rule)
    p = full.get("page_removed", 0.0)
    sure = lower == "page_removed"
    text = ("the target itself is also removed" if sure else
            f"the target itself may be removed too ({round(p * 100)}%)")
    return Escalation("page_removed", round(p, 4), sure, tuple(dict.fromkeys(held)), (), text)
