"""Run a compiled rule set over one target: every rule, on every subject it applies to.

This is where the language's own meaning of rules ends: a rule *fires* on a subject
when its condition is true; an exception *applies* when its condition is true; and the
rule *holds* (what `subject violates rule` asks) when it fires and none of its
exceptions applies, in Kleene's logic:

    holds = fires and not (exception_1 or exception_2 or ...)

Post rules run on every post, then page rules on the target, then request rules, each
level in dependency order, so `violates` always finds the verdicts it asks about. A
rule that fails at run time is recorded with its error as unknown and does not stop
the others. Deciding what all this means for a takedown request is the engine's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, NamedTuple

from rules.compiler import CompiledRuleSet

__all__ = ["RuleResult", "Evaluation", "run_rules"]


class RuleResult(NamedTuple):
    """One rule on one subject. `post` is the index of the post for post rules.

    A named tuple, not a dataclass: `run_rules` makes one per rule and subject, about a
    hundred for a page of posts, and a tuple is built in a quarter of the time a frozen
    dataclass is (benchmarks/decisions.py)."""

    rule: str
    applies_to: str
    post: int | None
    fires: bool | None
    # (exception id, applies) for each exception evaluated, in precedence order.
    exceptions: tuple[tuple[str, bool | None], ...]
    holds: bool | None
    error: str = ""

    @property
    def overridden_by(self) -> str | None:
        """The exception that took the verdict over, if one surely applies."""
        for exception_id, applies in self.exceptions:
            if applies is True:
                return exception_id
        return None


@dataclass(frozen=True, slots=True)
class Evaluation:
    results: tuple[RuleResult, ...]
    # rule id -> {id(subject): holds}: what `violates` reads.
    verdicts: Mapping[str, Mapping[int, bool | None]]


def run_rules(compiled: CompiledRuleSet, page: Mapping, request: Mapping,
              params: Mapping[str, Any]) -> Evaluation:
    """Evaluate every rule of `compiled` on the target `page` (with its posts) and the
    `request`, with parameter values `params` for the evaluation date."""
    verdicts: dict[str, dict[int, bool | None]] = {}
    results: list[RuleResult] = []
    add_result = results.append
    posts = page.get("posts") or ()
    for rule_id, applies_to, condition, exceptions in _plan(compiled):
        table: dict[int, bool | None] = {}
        verdicts[rule_id] = table
        subjects: Iterable[tuple[int | None, Any]]
        if applies_to == "post":
            subjects = enumerate(posts)
        else:
            subjects = ((None, page if applies_to == "page" else request),)
        for index, subject in subjects:
            post = subject if index is not None else None
            try:
                fires = condition(post, page, request, params, verdicts)
            except Exception as failure:  # one failing rule must not stop the others
                fires, error = None, _describe(failure)
            else:
                error = ""
            if fires is False or not exceptions:
                table[id(subject)] = fires
                add_result(_new(RuleResult, (rule_id, applies_to, index, fires, (), fires,
                                             error)))
                continue
            # holds = fires and not (exception_1 or ...), in Kleene's logic, unrolled:
            # this runs once per rule and post, and rules have one exception or two.
            applied: tuple[tuple[str, bool | None], ...] = ()
            any_applies: bool | None = False
            for exception_id, function in exceptions:
                try:
                    applies = function(post, page, request, params, verdicts)
                except Exception as failure:
                    applies, error = None, error or _describe(failure)
                applied += ((exception_id, applies),)
                if applies is True:
                    any_applies = True
                    break
                if applies is None:
                    any_applies = None
            if any_applies is True:
                holds = False
            elif any_applies is None or fires is None:
                holds = None
            else:
                holds = True
            table[id(subject)] = holds
            add_result(_new(RuleResult, (rule_id, applies_to, index, fires, applied, holds,
                                         error)))
    return Evaluation(tuple(results), verdicts)


Plan = tuple[tuple[str, str, Any, tuple[tuple[str, Any], ...]], ...]
# What `run_rules` runs for each compiled rule set, worked out once: (rule id, what it
# applies to, its function, its exceptions' ids and functions by precedence). Keyed by
# identity; each entry keeps its rule set alive so that an id is never reused, and the
# table is emptied when it grows past _MAX_PLANS (engines compiled over and over).
_PLANS: dict[int, tuple[CompiledRuleSet, Plan]] = {}
_MAX_PLANS = 1024


def _plan(compiled: CompiledRuleSet) -> Plan:
    entry = _PLANS.get(id(compiled))
    if entry is None or entry[0] is not compiled:
        functions = compiled.functions
        plan = []
        for rule in compiled.order:
            ordered = rule.exceptions
            if len(ordered) > 1:  # highest priority first; equal ones keep their written order
                ordered = tuple(sorted(ordered, key=_priority, reverse=True))
            plan.append((rule.id, rule.applies_to, functions.get(rule.id, _unknown),
                         tuple((e.id, functions.get(e.id, _unknown)) for e in ordered)))
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        entry = _PLANS[id(compiled)] = (compiled, tuple(plan))
    return entry[1]


_new = tuple.__new__


def _unknown(post, page, request, params, verdicts) -> None:
    """The condition of a rule written without one: unknown."""
    return None

_priority = attrgetter("priority")


def _describe(failure: Exception) -> str:
    return f"{type(failure).__name__}: {failure}"[:300]
