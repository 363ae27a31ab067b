"""Coverage of rule sets by their embedded tests: what a legal team needs to see before
trusting that every clause of a rule set has been tried.

Coverage is kept per rule-set version, and counts only the tests written in that
version's own file (a test of one version also runs the other rule sets in force, but
says nothing about them). An item is covered when the tests showed each of its sides:

- a rule: seen firing (its condition true) and not firing (false) on some subject;
- an exception: seen taken (it surely applied, so its verdict replaced the rule's) and
  not taken (it was tried, because its rule fired or may have, and surely did not apply);
- a threshold, a comparison (`>=`, `<`...) or a `within` window that reads a parameter:
  seen met and seen missed;
- a dated parameter value in force during the version: read by a test judged on a day
  in its period.

Unknown results are recorded but cover nothing: a side is only shown by a sure answer.

Rule and exception outcomes come from the rule results the fast path computes anyway
(`RuleResult.fires` and `.exceptions`). Thresholds and parameter reads come from the
traced path: the reference interpreter with a `CoverageTracer`, run only when coverage
is asked for. The compiled code does no work for coverage.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import rules
from engine.render import render_table
from rules import nodes as n

__all__ = ["SIDES", "Coverage", "CoverageItem", "CoverageTracer", "RulesetCoverage", "below",
           "coverage_json", "render_coverage", "thresholds_of"]

# The sides each kind of item must be seen on, in the order they are reported.
SIDES: dict[str, tuple[str, ...]] = {
    "rule": ("fires", "does_not_fire"),
    "exception": ("taken", "not_taken"),
    "threshold": ("met", "missed"),
    "parameter": ("used",),
}
KINDS = tuple(SIDES)
_PLURAL = {"rule": "rules", "exception": "exceptions", "threshold": "thresholds",
           "parameter": "parameters"}
_WORDS = {"fires": "firing", "does_not_fire": "not firing", "taken": "taken",
          "not_taken": "not taken", "met": "met", "missed": "missed"}


def thresholds_of(condition: n.Node | None) -> list[n.Node]:
    """The comparisons and `within` windows of a condition that read a parameter.

    A quantifier's `where` is a condition of its own: `count(p in page.posts where
    p.posted within window before ...) >= limit` holds two thresholds, the window
    (inside) and the limit (outside), each judged on its own values."""
    if condition is None:
        return []
    return [node for node in n.walk(condition)
            if isinstance(node, n.Compare | n.Within)
            and any(_reads_parameter(child) for child in n.children(node))]


def _reads_parameter(node: n.Node) -> bool:
    if isinstance(node, n.Param):
        return True
    if isinstance(node, n.Quantifier):
        return _reads_parameter(node.collection)
    return any(_reads_parameter(child) for child in n.children(node))


class CoverageTracer:
    """A `rules.Tracer` that keeps the answers of chosen threshold nodes and the
    parameters read; everything else the interpreter reports is dropped."""

    def __init__(self, thresholds: Mapping[int, Any]):
        self.thresholds = thresholds  # id(node) -> the item it counts for
        self.answers: list[tuple[Any, Any]] = []
        self.parameters: set[str] = set()

    def value(self, node, value, env) -> None:
        key = self.thresholds.get(id(node))
        if key is not None:
            self.answers.append((key, value))
        elif isinstance(node, n.Param):
            self.parameters.add(node.name)


@dataclass(frozen=True, slots=True)
class CoverageItem:
    """One thing the tests of a version should exercise, and what they showed of it."""

    kind: str  # rule, exception, threshold or parameter
    name: str  # a rule or exception id, a threshold's text, a parameter name
    owner: str  # the rule or exception a threshold belongs to; a rule for an exception
    seen: Mapping[str, tuple[str, ...]]  # side -> names of the tests that showed it
    unknown: tuple[str, ...] = ()  # names of the tests that left it unknown
    line: int = 0
    # For a parameter value: the first day of its period within the version, and the
    # day after its last (None: open-ended).
    period: tuple[datetime.date, datetime.date | None] | None = None

    @property
    def sides(self) -> tuple[str, ...]:
        return SIDES[self.kind]

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(side for side in self.sides if not self.seen.get(side))

    @property
    def is_covered(self) -> bool:
        return not self.missing

    def describe(self) -> str:
        """The item in words, as the coverage report lists it."""
        if self.kind == "threshold":
            return f"threshold `{_shorten(self.name, 70)}` in `{self.owner}`"
        if self.kind == "parameter" and self.period is not None:
            start, end = self.period
            until = f" to {end - datetime.timedelta(days=1)}" if end else " on"
            return f"parameter `{self.name}` from {start}{until}"
        return f"{self.kind} `{self.name}`"

    def as_json(self) -> dict:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "line": self.line,
                               "covered": self.is_covered, "missing": list(self.missing),
                               "seen": {side: list(self.seen.get(side, ())) for side in self.sides}}
        if self.owner:
            out["owner"] = self.owner
        if self.unknown:
            out["unknown"] = list(self.unknown)
        if self.period is not None:
            out["period"] = {"from": self.period[0].isoformat(),
                             "until": self.period[1].isoformat() if self.period[1] else None}
        return out


@dataclass(frozen=True, slots=True)
class RulesetCoverage:
    """The coverage of one rule-set version by the tests in its file."""

    ruleset: rules.RuleSet
    tests: int
    items: tuple[CoverageItem, ...]

    def count(self, kind: str | None = None) -> tuple[int, int]:
        """(covered, total) items, of one kind or of all."""
        chosen = [i for i in self.items if kind is None or i.kind == kind]
        return sum(i.is_covered for i in chosen), len(chosen)

    @property
    def percent(self) -> float:
        return _percent(*self.count())

    def as_json(self) -> dict:
        r = self.ruleset
        return {"ruleset": r.id, "version": r.version, "path": r.path, "sha256": r.sha256,
                "tests": self.tests, "percent": round(self.percent, 2),
                "summary": _summary(self.count, self.percent),
                "items": [i.as_json() for i in self.items]}


def _percent(covered: int, total: int) -> float:
    return 100.0 * covered / total if total else 100.0


def _summary(count, percent: float) -> dict:
    out = {}
    for kind in KINDS:
        covered, total = count(kind)
        out[_PLURAL[kind]] = {"covered": covered, "total": total}
    covered, total = count()
    out["all"] = {"covered": covered, "total": total, "percent": round(percent, 2)}
    return out


class _Plan:
    """A version's items in report order, and where each is counted from: the threshold
    nodes of its conditions and the periods of its parameter values."""

    def __init__(self, ruleset: rules.RuleSet):
        self.ruleset = ruleset
        self.items: list[CoverageItem] = []  # as nothing has shown them yet
        self.thresholds: dict[int, int] = {}  # id(node) -> index of its entry
        self.values: dict[tuple[str, datetime.date], int] = {}  # (parameter, first day)
        self.rules: dict[tuple[str, str], int] = {}  # (kind, id) -> index
        for rule in ruleset.rules:
            self.rules["rule", rule.id] = self._add("rule", rule.id, "", rule.location)
            for exception in rule.exceptions:
                self.rules["exception", exception.id] = self._add(
                    "exception", exception.id, rule.id, exception.location)
            for r in (rule, *rule.exceptions):
                written: dict[str, int] = {}
                for node in thresholds_of(r.condition):
                    text = rules.unparse(node)
                    written[text] = written.get(text, 0) + 1
                    name = text if written[text] == 1 else f"{text} (#{written[text]})"
                    self.thresholds[id(node)] = self._add("threshold", name, r.id,
                                                          r.when_location)
        for parameter in ruleset.parameters.values():
            for period in _periods(parameter, ruleset):
                self.values[parameter.name, period[0]] = self._add(
                    "parameter", parameter.name, "", parameter.location, period)

    def _add(self, kind: str, name: str, owner: str, location, period=None) -> int:
        line = location.line if location is not None else 0
        self.items.append(CoverageItem(kind, name, owner, {}, (), line, period))
        return len(self.items) - 1


def _periods(parameter: rules.Parameter, ruleset: rules.RuleSet):
    """The periods of a parameter's values that fall within the version's own period,
    each clipped to it: (first day, day after the last or None)."""
    starts = [start for start, _ in parameter.values]
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else None
        first = max(start, ruleset.effective_from)
        last = end if ruleset.effective_until is None else (
            ruleset.effective_until if end is None else min(end, ruleset.effective_until))
        if last is None or first < last:
            yield first, last


class _Tally:
    """What the tests of one version showed: per entry, side -> test names."""

    def __init__(self, plan: _Plan):
        self.plan = plan
        self.tests = 0
        self.seen: dict[int, dict[str, list[str]]] = {}
        self.unknown: dict[int, list[str]] = {}

    def note(self, index: int | None, answer: Any, test: str) -> None:
        if index is None:
            return
        kind = self.plan.items[index].kind
        if kind == "parameter":
            names = self.seen.setdefault(index, {}).setdefault("used", [])
        elif answer is True or answer is False:
            side = SIDES[kind][0 if answer else 1]
            names = self.seen.setdefault(index, {}).setdefault(side, [])
        else:
            names = self.unknown.setdefault(index, [])
        if test not in names:
            names.append(test)

    def coverage(self) -> RulesetCoverage:
        items = tuple(
            dataclasses.replace(
                item, seen={side: tuple(names) for side, names in self.seen.get(i, {}).items()},
                unknown=tuple(self.unknown.get(i, ())))
            for i, item in enumerate(self.plan.items))
        return RulesetCoverage(self.plan.ruleset, self.tests, items)


class Coverage:
    """Collects, test by test, what the tests of each rule-set version exercised."""

    def __init__(self) -> None:
        self._tallies: dict[tuple[str, str], _Tally] = {}

    def _tally(self, ruleset: rules.RuleSet) -> _Tally:
        key = (ruleset.id, ruleset.version)
        if key not in self._tallies:
            self._tallies[key] = _Tally(_Plan(ruleset))
        return self._tallies[key]

    def expect(self, ruleset: rules.RuleSet) -> None:
        """Report `ruleset` even if none of its tests runs (it then covers nothing)."""
        self._tally(ruleset)

    def record(self, ruleset: rules.RuleSet, test: str, runs: Iterable,
               day: datetime.date) -> None:
        """Add what one test of `ruleset` showed: `runs` are the engine's `RulesetRun`s
        for the test's evidence on `day`; only the run of `ruleset` itself counts."""
        tally = self._tally(ruleset)
        tally.tests += 1
        version = (ruleset.id, ruleset.version)
        run = next((r for r in runs if (r.ruleset.id, r.ruleset.version) == version), None)
        if run is None:
            return
        plan = tally.plan
        by_id = {r.id: r for r in ruleset.all_rules()}
        tracer = CoverageTracer(plan.thresholds)
        for result in run.evaluation.results:
            tally.note(plan.rules.get(("rule", result.rule)), result.fires, test)
            for exception_id, applies in result.exceptions:
                tally.note(plan.rules.get(("exception", exception_id)), applies, test)
            # The traced path, on what the fast path evaluated: the rule's condition and
            # the exceptions it tried, on the same subject, with the same verdicts.
            env = {"page": run.target, "request": run.request}
            if result.post is not None:
                env["post"] = run.posts[result.post]
            for rule_id in (result.rule, *(e for e, _ in result.exceptions)):
                rule = by_id.get(rule_id)
                if rule is not None and rule.condition is not None:
                    rules.evaluate(rule.condition, env, run.params, run.evaluation.verdicts,
                                   ruleset.lexicons, tracer)
        for index, answer in tracer.answers:
            tally.note(index, answer, test)
        for name in sorted(tracer.parameters):
            parameter = ruleset.parameters.get(name)
            period = parameter.period_on(day) if parameter is not None else None
            if period is not None:
                first = max(period[0], ruleset.effective_from)
                tally.note(plan.values.get((name, first)), True, test)

    def report(self) -> list[RulesetCoverage]:
        """Each version's coverage, in the order the versions were first seen."""
        return [tally.coverage() for tally in self._tallies.values()]


def below(report: list[RulesetCoverage], percent: float) -> list[RulesetCoverage]:
    """The versions whose coverage is under `percent`."""
    return [c for c in report if c.percent < percent]


def _total(report: list[RulesetCoverage]):
    """(covered, total) items over every version, of one kind or of all: `count` of the
    whole report."""
    def count(kind: str | None = None) -> tuple[int, int]:
        counts = [c.count(kind) for c in report]
        return sum(a for a, _ in counts), sum(b for _, b in counts)
    return count


def coverage_json(report: list[RulesetCoverage]) -> str:
    """The report as JSON: per version, a summary by kind and every item with the tests
    that showed each of its sides; then the totals."""
    total = _total(report)
    document = {"format": "takedown-coverage", "version": 1,
                "sides": {kind: list(sides) for kind, sides in SIDES.items()},
                "rulesets": [c.as_json() for c in report],
                "total": {"tests": sum(c.tests for c in report),
                          **_summary(total, _percent(*total()))}}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def render_coverage(report: list[RulesetCoverage], verbose: bool = False) -> str:
    """A table of covered/total items by kind for each version, then each item not yet
    covered with the sides no test showed (every item, with `verbose`)."""
    def cells(count) -> tuple[str, ...]:
        fractions = []
        for kind in KINDS:
            covered, total = count(kind)
            fractions.append(f"{covered}/{total}" if total else "-")
        return (*fractions, _shown(_percent(*count())))

    rows = [("rule set", "version", "tests", "rules", "exceptions", "thresholds",
             "parameters", "covered")]
    rows += [(c.ruleset.id, c.ruleset.version, str(c.tests), *cells(c.count)) for c in report]
    rows.append(("total", "", str(sum(c.tests for c in report)), *cells(_total(report))))
    out = [render_table(rows)]
    lines = []
    for c in report:
        for item in sorted(c.items, key=lambda i: i.line):
            if item.is_covered and not verbose:
                continue
            where = f"{c.ruleset.path}:{item.line}" if item.line else c.ruleset.path
            lines.append(f"{where}: {item.describe()}: {_verdict(item)}")
    if lines:
        out += ["", *lines]
    return "\n".join(out)


def _shown(percent: float) -> str:
    """A percentage rounded down, so that 100% is only ever shown for full coverage."""
    return f"{math.floor(percent)}%"


def _verdict(item: CoverageItem) -> str:
    if item.is_covered:
        return "covered"
    if item.kind == "parameter":
        return "no test judged in its period reads it"
    text = "no test shows it " + " or ".join(_WORDS[side] for side in item.missing)
    if item.unknown:
        text += f" (unknown in {len(item.unknown)} test{'s' if len(item.unknown) > 1 else ''})"
    return text


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
