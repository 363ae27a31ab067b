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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules.compiler import CompiledRuleSet
from rules.runtime import and3, not3, or3

__all__ = ["RuleResult", "Evaluation", "run_rules"]


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule on one subject. `post` is the index of the post for post rules."""

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
    functions = compiled.functions
    verdicts: dict[str, dict[int, bool | None]] = {}
    results: list[RuleResult] = []
    posts = page.get("posts") or ()
    for rule in compiled.order:
        table: dict[int, bool | None] = {}
        verdicts[rule.id] = table
        exceptions = sorted(rule.exceptions, key=lambda e: -e.priority)
        if rule.applies_to == "post":
            subjects = [(index, post) for index, post in enumerate(posts)]
        else:
            subjects = [(None, page if rule.applies_to == "page" else request)]
        condition = functions.get(rule.id)
        for index, subject in subjects:
            post = subject if index is not None else None
            error = ""
            try:
                fires = condition(post, page, request, params, verdicts) if condition else None
            except Exception as failure:  # one failing rule must not stop the others
                fires, error = None, _describe(failure)
            applied: list[tuple[str, bool | None]] = []
            holds = fires
            if fires is not False and exceptions:
                any_applies: bool | None = False
                for exception in exceptions:
                    function = functions.get(exception.id)
                    try:
                        applies = function(post, page, request, params, verdicts) if function else None
                    except Exception as failure:
                        applies, error = None, error or _describe(failure)
                    applied.append((exception.id, applies))
                    any_applies = or3(any_applies, applies)
                    if applies is True:
                        break
                holds = and3(fires, not3(any_applies))
            table[id(subject)] = holds
            results.append(RuleResult(rule.id, rule.applies_to, index, fires, tuple(applied),
                                      holds, error))
    return Evaluation(tuple(results), verdicts)


def _describe(failure: Exception) -> str:
    return f"{type(failure).__name__}: {failure}"[:300]
