"""The values a rule-set file becomes: frozen, with the place each came from.

A `RuleSet` is one version of one rule set (one YAML file). Rules and their exceptions
share one namespace of ids. Parameters hold values by the date they start to apply, as
OpenFisca does, so one file can say "5 from 2019-09-03, 3 from 2024-10-02".
"""

from __future__ import annotations

import bisect
import datetime
from dataclasses import dataclass, field
from typing import Any

from rules.diagnostics import Location
from rules.nodes import Node

__all__ = ["Source", "Citation", "Parameter", "Prior", "Rule", "TestCase", "RuleSet", "VERDICTS",
           "RULE_VERDICTS", "SUBJECTS", "KINDS"]

# What a rule or an exception can conclude.
VERDICTS = ("violates", "remove_page", "geo_block", "illegal", "deficient", "allowed")
# `allowed` only ever overrides: it is the verdict of an exception.
RULE_VERDICTS = tuple(v for v in VERDICTS if v != "allowed")
SUBJECTS = ("post", "page", "request")
# What a rule set encodes, in the order the engine runs them: policy rule sets first,
# then enforcement and legal rule sets, which read what the policies concluded. A rule
# set of kind `priors` has no rules: it states how likely unassessed facts are.
KINDS = ("policy", "enforcement", "legal", "priors")


@dataclass(frozen=True, slots=True)
class Source:
    key: str
    title: str
    url: str
    retrieved: datetime.date | None
    publisher: str = ""
    section: str = ""
    published: datetime.date | None = None
    note: str = ""
    location: Location | None = field(default=None, compare=False)

    def as_json(self) -> dict:
        out = {"key": self.key, "title": self.title, "url": self.url,
               "retrieved": self.retrieved.isoformat() if self.retrieved else None}
        if self.publisher:
            out["publisher"] = self.publisher
        if self.section:
            out["section"] = self.section
        return out


@dataclass(frozen=True, slots=True)
class Citation:
    source: str
    section: str
    says: str
    url: str = ""


def _value_on(values: tuple[tuple[datetime.date, Any], ...], day: datetime.date) -> Any:
    starts = [start for start, _ in values]
    index = bisect.bisect_right(starts, day) - 1
    return values[index][1] if index >= 0 else None


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    unit: str
    # (start date, value), sorted by date; a value applies until the next one starts.
    values: tuple[tuple[datetime.date, Any], ...]
    estimated: str = ""
    note: str = ""
    source: str = ""
    location: Location | None = field(default=None, compare=False)

    @property
    def is_estimated(self) -> bool:
        return bool(self.estimated)

    def value_on(self, day: datetime.date) -> Any:
        """The value in force on `day`, or None before the first one."""
        return _value_on(self.values, day)

    def period_on(self, day: datetime.date) -> tuple[datetime.date, datetime.date | None] | None:
        """The (start, next start) of the value in force on `day`."""
        starts = [start for start, _ in self.values]
        index = bisect.bisect_right(starts, day) - 1
        if index < 0:
            return None
        end = starts[index + 1] if index + 1 < len(starts) else None
        return starts[index], end


@dataclass(frozen=True, slots=True)
class Prior:
    """How likely a yes/no fact is when the evidence leaves it unassessed.

    `fact` is a vocabulary path (`page.signals.dedicated`); the prior applies to every
    subject the path names (each post, for a `post.` fact) on which `given` is true, or
    always when there is no `given`. Probabilities are dated, as parameter values are.
    """

    id: str
    fact: str
    given: Node | None
    given_text: str
    probabilities: tuple[tuple[datetime.date, float], ...]
    source: str = ""
    estimated: str = ""
    note: str = ""
    location: Location | None = field(default=None, compare=False)

    @property
    def root(self) -> str:
        return self.fact.split(".", 1)[0]

    @property
    def is_estimated(self) -> bool:
        return bool(self.estimated)

    def probability_on(self, day: datetime.date) -> float | None:
        return _value_on(self.probabilities, day)


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule, or an exception of a rule (then `overrides` names it)."""

    id: str
    applies_to: str
    cites: tuple[Citation, ...]
    when: str
    condition: Node | None
    verdict: str
    confidence: float = 0.5
    title: str = ""
    message: str = ""
    severity: str = ""
    priority: int = 0
    overrides: str = ""
    exceptions: tuple[Rule, ...] = ()
    location: Location | None = field(default=None, compare=False)
    when_location: Location | None = field(default=None, compare=False)

    @property
    def is_exception(self) -> bool:
        return bool(self.overrides)

    @property
    def has_exceptions(self) -> bool:
        return bool(self.exceptions)


@dataclass(frozen=True, slots=True)
class TestCase:
    name: str
    evidence: str | dict
    expect: dict
    as_of: datetime.date | None = None
    platform: str = ""
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class RuleSet:
    id: str
    platform: str
    version: str
    effective_from: datetime.date
    effective_until: datetime.date | None
    language: int
    sources: dict[str, Source]
    parameters: dict[str, Parameter]
    lexicons: dict[str, Any]
    rules: tuple[Rule, ...]
    tests: tuple[TestCase, ...] = ()
    priors: tuple[Prior, ...] = ()
    surfaces: tuple[str, ...] = ()
    kind: str = "policy"
    title: str = ""
    description: str = ""
    path: str = ""
    sha256: str = ""
    effective_location: Location | None = field(default=None, compare=False)

    def is_in_force(self, day: datetime.date) -> bool:
        return self.effective_from <= day and (
            self.effective_until is None or day < self.effective_until)

    def all_rules(self) -> tuple[Rule, ...]:
        """Rules and exceptions, each rule followed by its exceptions."""
        out: list[Rule] = []
        for rule in self.rules:
            out.append(rule)
            out.extend(rule.exceptions)
        return tuple(out)

    def rule(self, rule_id: str) -> Rule | None:
        for rule in self.all_rules():
            if rule.id == rule_id:
                return rule
        return None

    def parameter_values(self, day: datetime.date) -> dict[str, Any]:
        return {name: p.value_on(day) for name, p in self.parameters.items()}

    def covers(self, platform_or_surface: str) -> bool:
        return self.platform in ("any", platform_or_surface) or platform_or_surface in self.surfaces

    def identity(self) -> dict:
        return {"id": self.id, "version": self.version, "sha256": self.sha256,
                "kind": self.kind, "platform": self.platform,
                "effective": {"from": self.effective_from.isoformat(),
                              "until": self.effective_until.isoformat()
                              if self.effective_until else None}}
