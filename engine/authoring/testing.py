"""Run the tests embedded in rule files: each case is evidence with the decision a
legal team expects, checked against what the engine decides.

A case runs as of its `as_of`; without one, as of the request's submission date when
the version under test was in force then, and otherwise as of the first day of that
version, so a test written in a version's file always exercises that version.
"""

from __future__ import annotations

import datetime
import difflib
import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import rules
from engine.api import Engine
from engine.authoring.coverage import Coverage
from engine.decision import Decision
from engine.evaluation import NoRulesetInForce
from engine.evidence import Evidence, load_evidence, parse_evidence

__all__ = ["CaseResult", "run_tests", "junit_xml", "render_results"]


@dataclass
class CaseResult:
    ruleset: rules.RuleSet
    case: rules.TestCase
    failures: list[str] = field(default_factory=list)
    expected: dict = field(default_factory=dict)
    actual: dict = field(default_factory=dict)
    trace: list[str] = field(default_factory=list)
    seconds: float = 0.0
    decision: Decision | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def _evidence(ruleset: rules.RuleSet, case: rules.TestCase) -> tuple[Evidence | None, list]:
    if isinstance(case.evidence, dict):
        return parse_evidence(case.evidence, f"{ruleset.path}: {case.name}")
    path = Path(ruleset.path).parent / case.evidence
    return load_evidence(path)


def _as_of(ruleset: rules.RuleSet, case: rules.TestCase, evidence: Evidence) -> datetime.date:
    if case.as_of:
        return case.as_of
    if evidence.submitted and ruleset.is_in_force(evidence.submitted):
        return evidence.submitted
    return ruleset.effective_from


def run_case(engine: Engine, ruleset: rules.RuleSet, case: rules.TestCase,
             coverage: Coverage | None = None) -> CaseResult:
    """Run one embedded test; with `coverage`, also record what it exercised of `ruleset`."""
    result = CaseResult(ruleset, case, expected=dict(case.expect))
    started = time.perf_counter()
    evidence, problems = _evidence(ruleset, case)
    if evidence is None:
        result.failures.append("the evidence is invalid: " + "; ".join(
            f"{d.code} {d.pointer} {d.message}" for d in problems[:5]))
        return result
    day = _as_of(ruleset, case, evidence)
    if not ruleset.is_in_force(day):
        result.failures.append(f"the case runs as of {day}, when version {ruleset.version} "
                               "was not in force")
    try:
        decision = engine.check(evidence, day, case.platform or None)
    except NoRulesetInForce as error:
        result.failures.append(str(error))
        return result
    result.decision = decision
    used = {(r.id, r.version) for r in decision.rulesets}
    if (ruleset.id, ruleset.version) not in used and not result.failures:
        result.failures.append(f"version {ruleset.version} of {ruleset.id} was not used: "
                               f"the decision used {sorted(used)}")
    result.actual = _actual(decision)
    _compare(result, decision)
    result.trace = _trace(decision)
    result.seconds = time.perf_counter() - started
    if coverage is not None:  # the traced path, kept out of the test's own time
        runs, _, _ = engine.run(evidence, day, case.platform or None)
        coverage.record(ruleset, case.name, runs, day)
    return result


def _actual(decision: Decision) -> dict:
    return {
        "outcome": decision.outcome,
        "bounds": {"lower": decision.bounds[0], "upper": decision.bounds[1]},
        "probability": decision.probability,
        "fired": sorted(_fired(decision)),
        "thresholds": {t.rule: {"observed": t.observed, "required": t.required}
                       for t in decision.thresholds},
        "missing": [m.fact for m in decision.missing],
        "likelihood": decision.likelihood,
    }


def _fired(decision: Decision) -> set[str]:
    return ({r.rule for r in decision.reasons} | {r.rule for r in decision.deficiencies}
            | {e.exception for e in decision.exceptions})


def _compare(result: CaseResult, decision: Decision) -> None:
    expect = result.case.expect
    fired = _fired(decision)
    if "outcome" in expect and expect["outcome"] != decision.outcome:
        result.failures.append(f"outcome: expected {expect['outcome']}, got {decision.outcome}")
    for rule in expect.get("fired", []):
        if rule not in fired:
            result.failures.append(f"expected `{rule}` to fire; it did not")
    for rule in expect.get("not_fired", []):
        if rule in fired:
            result.failures.append(f"expected `{rule}` not to fire; it did")
    for rule, want in expect.get("thresholds", {}).items():
        found = [t for t in decision.thresholds if t.rule == rule]
        if not found:
            result.failures.append(f"expected a threshold on `{rule}`; none was compared")
            continue
        if not any(_threshold_matches(t, want) for t in found):
            got = ", ".join(f"observed {json.dumps(t.observed)} required {json.dumps(t.required)}"
                            for t in found)
            result.failures.append(f"threshold `{rule}`: expected {json.dumps(want)}, got {got}")
    facts = {m.fact for m in decision.missing}
    for fact in expect.get("missing", []):
        if fact not in facts:
            result.failures.append(f"expected `{fact}` among the missing facts; "
                                   f"missing were {sorted(facts) or 'none'}")
    for side, got in zip(("lower", "upper"), decision.bounds, strict=True):
        want = expect.get("bounds", {}).get(side)
        if want is not None and want != got:
            result.failures.append(f"{side} bound: expected {want}, got {got}")
    escalation = expect.get("escalation")
    if escalation is not None:
        got = decision.escalation
        if got is None:
            result.failures.append("expected an escalation to the target's removal; there is none")
        elif "sure" in escalation and escalation["sure"] != got.sure:
            result.failures.append(f"escalation: expected sure={escalation['sure']}, got {got.sure}")
    for name, value, limits in (
            ("probability", decision.probability, expect.get("probability")),
            ("likelihood", decision.likelihood, expect.get("likelihood")),
            ("escalation probability", decision.escalation.probability if decision.escalation
             else 0.0, escalation if escalation and {"min", "max"} & set(escalation) else None)):
        if limits:
            low, high = limits.get("min", 0.0), limits.get("max", 1.0)
            if not low <= value <= high:
                result.failures.append(f"{name} {value} is outside [{low}, {high}]")


def _threshold_matches(threshold, want: dict) -> bool:
    if "required" in want and want["required"] != threshold.required:
        return False
    return "observed" not in want or want["observed"] == threshold.observed


def _trace(decision: Decision) -> list[str]:
    lines = [f"bounds {decision.bounds[0]} .. {decision.bounds[1]}; probabilities "
             + ", ".join(f"{o} {p:.2f}" for o, p in decision.distribution.items() if p)
             + "; rule sets "
             + ", ".join(f"{r.id}@{r.version}: {r.outcome}" for r in decision.rulesets)]
    for post in decision.posts:
        lines.append(f"post {post.id}: {post.outcome} {list(post.rules)}")
    for reason in decision.reasons:
        where = f"post {reason.post}" if reason.post else reason.subject
        lines.append(f"{reason.ruleset} {reason.rule} holds on {where} ({reason.verdict})")
    for e in decision.exceptions:
        lines.append(f"{e.ruleset} {e.exception} overrides {e.overrides}"
                     + (f" on post {e.post}" if e.post else ""))
    for t in decision.thresholds:
        lines.append(f"threshold {t.text}: {t.margin}")
    return lines


def run_tests(engine: Engine, rulesets: list[rules.RuleSet],
              coverage: Coverage | None = None) -> list[CaseResult]:
    """Run the tests embedded in `rulesets`; with `coverage`, record for each version what
    its own tests exercised (a version without tests is reported too)."""
    results = []
    for ruleset in rulesets:
        if coverage is not None:
            coverage.expect(ruleset)
        results.extend(run_case(engine, ruleset, case, coverage) for case in ruleset.tests)
    return results


def render_results(results: list[CaseResult], verbose: bool = False) -> str:
    out = []
    for r in results:
        mark = "ok  " if r.passed else "FAIL"
        if verbose or not r.passed:
            out.append(f"{mark} {r.ruleset.path}: {r.case.name}")
        if r.passed:
            continue
        for failure in r.failures:
            out.append(f"     - {failure}")
        if r.actual:
            shown = {k: r.actual[k] for k in r.expected if k in r.actual}
            expected = json.dumps(r.expected, indent=2, sort_keys=True, default=str).splitlines()
            actual = json.dumps(shown, indent=2, sort_keys=True, default=str).splitlines()
            diff = difflib.unified_diff(expected, actual, "expected", "actual", lineterm="")
            out.extend("     " + line for line in diff)
        if r.trace:
            out.append("     trace:")
            out.extend("       " + line for line in r.trace)
    failed = sum(not r.passed for r in results)
    out.append(f"{len(results) - failed} passed, {failed} failed")
    return "\n".join(out)


def junit_xml(results: list[CaseResult]) -> str:
    """JUnit XML: one test suite per rule file, one test case per embedded test."""
    suites = ET.Element("testsuites", name="takedown", tests=str(len(results)),
                        failures=str(sum(not r.passed for r in results)))
    by_file: dict[str, list[CaseResult]] = {}
    for r in results:
        by_file.setdefault(r.ruleset.path, []).append(r)
    for path, cases in by_file.items():
        first = cases[0].ruleset
        suite = ET.SubElement(suites, "testsuite", name=f"{first.id}@{first.version}",
                              file=path, tests=str(len(cases)),
                              failures=str(sum(not c.passed for c in cases)),
                              time=f"{sum(c.seconds for c in cases):.4f}")
        for c in cases:
            case = ET.SubElement(suite, "testcase", name=c.case.name,
                                 classname=f"{first.id}.{first.version}", file=path,
                                 time=f"{c.seconds:.4f}")
            if not c.passed:
                failure = ET.SubElement(case, "failure", message=c.failures[0][:500],
                                        type="AssertionError")
                failure.text = "\n".join(c.failures + [""] + c.trace)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
