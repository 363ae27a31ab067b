"""Every evidence fixture, decided by the bundled rule sets, gives what its `x-expect`
block says; `x-expect-as-of` gives what it says on other dates.

The fixtures are found by glob, so a fixture added later is checked without a change
here. An expectation block may hold:

    outcome      the decision's outcome
    bounds       {lower, upper}: the sure bounds
    probability  {min, max}: bounds on the probability of the outcome, both included
    escalation   {sure, min, max}: for a request about posts, the target's removal
    fired        rules that must hold, or exceptions that must apply (as `fired` in the
                 tests embedded in rule files, rules/ruleset.schema.json)
    not_fired    rules and exceptions that must not hold or apply
    exceptions   exceptions that must apply
    thresholds   {rule: {observed, required, ...}}: a comparison of the rule that matches
    missing      facts (vocabulary paths) that must be among the missing facts
    likelihood   {min, max}: bounds on the likelihood, both included
"""

import datetime
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from engine import Decision, Engine, load_evidence
from engine.cli import main
from engine.extraction import Extractor, with_extraction
from tests.engine.support import (
    CORE,
    EVIDENCE_SCHEMA,
    SCENARIOS,
    fixture_id,
    fixture_paths,
    scenario_paths,
)

EXPECTATION_KEYS = {"outcome", "bounds", "probability", "escalation", "fired", "not_fired",
                    "exceptions", "thresholds", "missing", "likelihood"}

ALL = fixture_paths()
EVIDENCE = Draft202012Validator(json.loads(EVIDENCE_SCHEMA.read_text(encoding="utf-8")),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def _document(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _cases() -> list:
    """(fixture, as-of date or None, expectation) for every expectation of every fixture;
    each scenario folder is listed as skipped, with the reason it carries none."""
    out = []
    for path in ALL:
        document = _document(path)
        if "x-expect" in document:
            out.append(pytest.param(path, None, document["x-expect"], id=fixture_id(path)))
        for day, expect in document.get("x-expect-as-of", {}).items():
            out.append(pytest.param(path, day, expect, id=f"{fixture_id(path)}@{day}"))
    for folder, reason in SCENARIOS.items():
        out.append(pytest.param(None, None, {}, id=f"{folder}/",
                                marks=pytest.mark.skip(reason=f"{folder}/ is {reason}")))
    return out


def unmet(decision: Decision, expect: dict) -> list[str]:
    """Each way `decision` falls short of `expect`, in words; empty when it meets it."""
    problems = []
    unknown = set(expect) - EXPECTATION_KEYS
    if unknown:
        problems.append(f"unknown expectation keys {sorted(unknown)}; known: "
                        f"{sorted(EXPECTATION_KEYS)}")
    if "outcome" in expect and decision.outcome != expect["outcome"]:
        problems.append(f"outcome {decision.outcome}, expected {expect['outcome']} "
                        f"(bounds {decision.bounds[0]}..{decision.bounds[1]})")
    for side, got in zip(("lower", "upper"), decision.bounds, strict=True):
        if side in expect.get("bounds", {}) and expect["bounds"][side] != got:
            problems.append(f"{side} bound {got}, expected {expect['bounds'][side]}")
    problems += _within("probability", decision.probability, expect.get("probability"))
    if "escalation" in expect:
        want, got = expect["escalation"], decision.escalation
        if got is None:
            problems.append("no escalation, expected one")
        else:
            if "sure" in want and got.sure != want["sure"]:
                problems.append(f"escalation sure is {got.sure}, expected {want['sure']}")
            problems += _within("escalation probability", got.probability, want)
    held = {r.rule for r in decision.reasons + decision.deficiencies}
    applied = {e.exception for e in decision.exceptions}
    for rule in expect.get("fired", []):
        if rule not in held | applied:
            problems.append(f"`{rule}` did not fire; the rules that held: {sorted(held)}, "
                            f"the exceptions that applied: {sorted(applied)}")
    for rule in expect.get("not_fired", []):
        if rule in held | applied:
            problems.append(f"`{rule}` fired, and should not have")
    for exception in expect.get("exceptions", []):
        if exception not in applied:
            problems.append(f"the exception `{exception}` did not apply; those that did: "
                            f"{sorted(applied)}")
    thresholds = decision.as_json()["thresholds"]  # observed in its JSON form: [lo, hi]
    for rule, want in expect.get("thresholds", {}).items():
        found = [t for t in thresholds if t["rule"] == rule]
        if not any(all(t.get(k) == v for k, v in want.items()) for t in found):
            got = [{k: t.get(k) for k in want} for t in found]
            problems.append(f"threshold of `{rule}`: expected {want}, got {got or 'none'}")
    facts = {m.fact for m in decision.missing}
    for fact in expect.get("missing", []):
        if fact not in facts:
            problems.append(f"`{fact}` is not among the missing facts {sorted(facts)}")
    problems += _within("likelihood", decision.likelihood, expect.get("likelihood"))
    return problems


def _within(name: str, value: float, limits: dict | None) -> list[str]:
    if not limits or not ({"min", "max"} & set(limits)):
        return []
    low, high = limits.get("min", 0.0), limits.get("max", 1.0)
    return [] if low <= value <= high else [f"{name} {value} is outside [{low}, {high}]"]


@pytest.mark.parametrize(("path", "day", "expect"), _cases())
def test_fixture_meets_its_expectation(engine: Engine, path: Path, day: str | None,
                                       expect: dict):
    evidence, problems = load_evidence(path)
    assert evidence is not None, [f"{d.code} {d.pointer} {d.message}" for d in problems]
    as_of = datetime.date.fromisoformat(day) if day else None
    problems = unmet(engine.check(evidence, as_of=as_of), expect)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ALL + scenario_paths(), ids=fixture_id)
def test_fixture_is_valid_evidence(path: Path):
    errors = [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in EVIDENCE.iter_errors(_document(path))]
    assert not errors
    evidence, problems = load_evidence(path)
    assert evidence is not None
    assert problems == []


def test_every_fixture_says_what_it_expects():
    assert ALL, "no fixtures found"
    silent = [fixture_id(p) for p in ALL if not _document(p).get("x-expect")]
    assert not silent, f"fixtures without an x-expect block, or with an empty one: {silent}"


def test_scenarios_expect_nothing_of_their_own():
    """A scenario's files leave their decisions to the rule sets in force: an `x-expect`
    there would be checked by nothing."""
    assert scenario_paths(), "no scenario found"
    pinned = [fixture_id(p) for p in scenario_paths()
              if {"x-expect", "x-expect-as-of"} & set(_document(p))]
    assert not pinned, f"scenario files with expectations: {pinned}"


@pytest.fixture(scope="module")
def extractor(engine: Engine) -> Extractor:
    return Extractor.from_rulesets(engine.registry)


@pytest.mark.parametrize("path", CORE, ids=fixture_id)
def test_cli_decides_as_the_api_does(engine: Engine, extractor, bundled_rules: Path, capsys,
                                     path: Path):
    # `takedown check` first reads what the texts show, where analysts left signals out.
    evidence, _ = with_extraction(extractor, load_evidence(path)[0], "found")
    decision = engine.check(evidence)

    assert main(["check", str(path), "--rules", str(bundled_rules), "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)

    assert printed["outcome"] == decision.outcome
    assert printed["likelihood"] == decision.likelihood
    assert printed == decision.as_json()
