"""Decisions: their JSON follows engine/decision.schema.json, and each part (outcome,
thresholds, exceptions, missing facts, rule-set identities, evidence digest,
likelihood) says what docs/decisions.md promises.

How a decision is built and explained is tested on the frozen rule sets of
tests/engine/rulesets/ (the `pinned_engine`), so that these tests do not move when the
bundled rule sets do; the schema, the rule-set hashes and the fast path are checked on
every fixture under the bundled rule sets as well.
"""

import datetime
import hashlib
import json
from pathlib import Path

import pytest

from engine import Engine, load_evidence, parse_evidence
from engine.decision import (
    LEAK,
    OUTCOMES,
    UNDETERMINED,
    UNKNOWN_WEIGHT,
    Decision,
    combine,
    likelihood,
    outcome_of,
    rank,
)
from tests.engine.support import (
    CORE,
    DECISION_SCHEMA,
    META,
    decision_schema_errors,
    fixture_id,
    fixture_paths,
)

ALL = fixture_paths()


def _check(engine: Engine, path: Path, **options) -> Decision:
    evidence, problems = load_evidence(path)
    assert evidence is not None, [f"{d.code} {d.pointer} {d.message}" for d in problems]
    return engine.check(evidence, **options)


def _dates(path: Path) -> list[datetime.date | None]:
    """The submission date, and every date the fixture has an expectation for."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return [None, *map(datetime.date.fromisoformat, document.get("x-expect-as-of", {}))]


# --- the published schema ---------------------------------------------------------------

@pytest.mark.parametrize("path", ALL, ids=fixture_id)
def test_decision_json_follows_the_schema(engine: Engine, path: Path):
    for day in _dates(path):
        for explain in (True, False):
            decision = _check(engine, path, as_of=day, explain=explain)
            document = json.loads(json.dumps(decision.as_json()))  # as a client reads it
            assert decision_schema_errors(document) == [], (day, explain)


@pytest.mark.parametrize("path", CORE, ids=fixture_id)
def test_pinned_decision_json_follows_the_schema(pinned_engine: Engine, path: Path):
    for day in _dates(path):
        assert decision_schema_errors(_check(pinned_engine, path, as_of=day).as_json()) == []


def test_the_schema_refuses_what_a_decision_never_holds(pinned_engine: Engine):
    good = _check(pinned_engine, META / "page-two-adverts.json").as_json()
    assert decision_schema_errors(good) == []
    broken = [
        {**good, "outcome": "removed"},
        {**good, "likelihood": 1.5},
        {**good, "as_of": "12/04/2023"},
        {**good, "bounds": {"lower": "undetermined", "upper": "page_removed"}},
        {**good, "surprise": True},
        {**good, "rulesets": [{**good["rulesets"][0], "sha256": "abc"}]},
        {**good, "thresholds": [{**good["thresholds"][0], "observed": "[2, 4]x", "met": "no",
                                 "comparison": "=>"}]},
    ]
    for document in broken:
        assert decision_schema_errors(document), document
    del good["missing"]
    assert decision_schema_errors(good)


def test_every_property_of_the_schema_is_described():
    schema = json.loads(DECISION_SCHEMA.read_text(encoding="utf-8"))

    def described(node: dict) -> bool:
        ref = node.get("$ref", "#/$defs/")
        return "description" in node or "description" in schema["$defs"].get(
            ref.removeprefix("#/$defs/"), {})

    def undescribed(node, where: str = ""):
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if not described(sub):
                    yield f"{where}/properties/{name}"
            for key, value in node.items():
                yield from undescribed(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from undescribed(value, f"{where}/{index}")

    assert list(undescribed(schema)) == []


# --- outcomes and their explanations ------------------------------------------------------

def test_posts_that_violate_below_the_page_threshold_are_removed_alone(pinned_engine: Engine):
    decision = _check(pinned_engine, META / "page-two-adverts.json")

    assert decision.outcome == "posts_removed"
    assert decision.bounds == ("posts_removed", "posts_removed")
    assert {p.id: p.outcome for p in decision.posts} == {
        "p1": "removed", "p2": "removed", "p3": "kept", "p4": "kept"}
    [threshold] = [t for t in decision.thresholds if t.rule == "page-for-smuggling"]
    assert threshold.parameter == "page_violation_limit"
    assert threshold.estimated is True
    assert threshold.comparison == ">="
    assert (threshold.required, threshold.observed, threshold.out_of) == (5, 2, 4)
    assert threshold.met is False
    assert threshold.margin == "3 short"
    assert "2 of 4 posts counted" in threshold.text


def test_the_analysts_annotation_is_a_span_of_the_reason(pinned_engine: Engine):
    decision = _check(pinned_engine, META / "page-two-adverts.json")
    [reason] = [r for r in decision.reasons if r.post == "p1"]
    marked = [s for s in reason.spans if s.by == "analyst-7"]
    assert [(s.pointer, s.start, s.end, s.text, s.label) for s in marked] == [
        ("/target/posts/0/translation", 41, 52, "3000 pounds", "price")]
    assert {"pointer": "/target/posts/0/signals/offers_crossing", "value": True} in reason.evidence


def test_a_page_dedicated_to_crossings_is_removed(pinned_engine: Engine):
    decision = _check(pinned_engine, META / "page-dedicated-to-crossings.json")

    assert decision.outcome == "page_removed"
    assert decision.bounds == ("page_removed", "page_removed")
    [page_reason] = [r for r in decision.reasons if r.rule == "page-for-smuggling"]
    assert (page_reason.subject, page_reason.post, page_reason.verdict) == (
        "page", None, "remove_page")
    assert [c.source for c in page_reason.citations] == ["pages", "strikes"]
    assert {r.post for r in decision.reasons if r.rule == "smuggling-offer"} == {"p1", "p2"}
    assert {p.outcome for p in decision.posts} == {"removed"}


def test_an_asylum_question_is_allowed_and_the_exception_cited(pinned_engine: Engine):
    decision = _check(pinned_engine, META / "asylum-question-allowed.json")

    assert decision.outcome == "no_action"
    assert decision.reasons == ()
    [exception] = decision.exceptions
    assert exception.exception == "safety-or-asylum-information"
    assert (exception.overrides, exception.post, exception.verdict) == (
        "smuggling-request", "p1", "allowed")
    [citation] = exception.citations
    assert citation.section == "Policy rationale"
    assert citation.url.startswith("https://transparency.meta.com/")
    assert citation.title and citation.says


def test_an_unassessed_group_is_weighed_and_says_what_is_missing(pinned_engine: Engine):
    decision = _check(pinned_engine, META / "group-unassessed.json")

    assert decision.bounds == ("no_action", "page_removed")
    assert abs(sum(decision.distribution.values()) - 1) < 1e-3
    assert decision.probability == max(decision.distribution.values())
    [offer] = [m for m in decision.missing if m.fact == "post.signals.offers_crossing"]
    assert offer.posts == ("p1",)
    assert offer.pointers == ("/target/posts/0/signals/offers_crossing",)
    assert "p1" in offer.text
    assert {e.value for e in offer.effects} == {True, False}
    # Ranked by how far each fact is expected to move the probabilities.
    expected = [m.expected_shift for m in decision.missing]
    assert expected == sorted(expected, reverse=True)
    # The group's purpose, never assessed, would take it down if confirmed.
    [purpose] = [m for m in decision.missing if m.fact == "page.signals.dedicated"]
    assert purpose.if_true == "page_removed"


def test_asking_for_a_smuggler_is_judged_by_the_version_in_force(pinned_engine: Engine):
    path = META / "request-for-smuggler.json"
    after = _check(pinned_engine, path)
    before = _check(pinned_engine, path, as_of=datetime.date(2022, 6, 1))

    def policies(decision):
        return [r.version for r in decision.rulesets if r.kind == "policy"]

    assert (after.outcome, policies(after)) == ("posts_removed", ["2022-12-07"])
    assert (before.outcome, policies(before)) == ("no_action", ["2019-09-03"])
    assert before.as_of == "2022-06-01"


# --- replaying a decision -------------------------------------------------------------------

@pytest.mark.parametrize("path", ALL, ids=fixture_id)
def test_rulesets_name_each_rule_set_used_with_its_file_hash(engine: Engine, path: Path):
    for day in _dates(path):
        decision = _check(engine, path, as_of=day)
        in_force = engine.rulesets_for(decision.platform, datetime.date.fromisoformat(decision.as_of))
        assert sorted((r.id, r.version) for r in decision.rulesets) == sorted(
            (r.id, r.version) for r in in_force)
        by_version = {(r.id, r.version): r for r in in_force}
        for used in decision.rulesets:
            ruleset = by_version[(used.id, used.version)]
            assert used.sha256 == hashlib.sha256(Path(ruleset.path).read_bytes()).hexdigest()
            assert used.kind == ruleset.kind
        # What each rule set says fired is exactly what the reasons explain.
        fired = {rule for used in decision.rulesets for rule in used.fired}
        assert fired == {r.rule for r in decision.reasons + decision.deficiencies}


def test_the_evidence_digest_is_the_hash_of_its_canonical_json(pinned_engine: Engine):
    path = META / "page-two-adverts.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    first = _check(pinned_engine, path)
    second = _check(pinned_engine, path)
    assert first.evidence["digest"] == second.evidence["digest"] == expected

    # Layout and key order do not matter; content does.
    reordered = json.dumps(dict(reversed(list(document.items()))), indent=4)
    evidence, _ = parse_evidence(reordered)
    assert evidence.digest == expected
    document["target"]["posts"][2]["signals"]["offers_crossing"] = True
    changed, _ = parse_evidence(json.dumps(document))
    assert changed.digest != expected
    assert pinned_engine.check(changed).evidence["digest"] == changed.digest


@pytest.mark.parametrize("path", ALL, ids=fixture_id)
def test_the_fast_path_decides_as_the_explained_path(engine: Engine, path: Path):
    for day in _dates(path):
        fast = _check(engine, path, as_of=day, explain=False)
        explained = _check(engine, path, as_of=day, explain=True)
        assert (fast.outcome, fast.likelihood, fast.bounds) == (
            explained.outcome, explained.likelihood, explained.bounds)
        assert (fast.rulesets, fast.posts, fast.errors) == (
            explained.rulesets, explained.posts, explained.errors)
        assert (fast.reasons, fast.thresholds, fast.exceptions, fast.missing) == ((),) * 4


# --- the likelihood method ------------------------------------------------------------------

def _noisy_or(*confidences: float) -> float:
    keep = 1 - LEAK
    for c in confidences:
        keep *= 1 - c
    return 1 - keep


def test_no_rule_leaves_the_leak():
    assert likelihood([]) == LEAK
    assert likelihood([("violates", 0.0, 0.9), ("remove_page", 0.0, 0.7)]) == LEAK


@pytest.mark.parametrize("confidence", [0.0, 0.25, 0.5, 0.75, 0.9, 1.0])
@pytest.mark.parametrize("verdict", ["violates", "remove_page", "geo_block", "illegal"])
def test_one_rule_that_holds(verdict: str, confidence: float):
    assert likelihood([(verdict, 1.0, confidence)]) == pytest.approx(
        1 - (1 - LEAK) * (1 - confidence), abs=5e-5)


def test_a_rule_that_may_hold_counts_at_the_unknown_weight():
    assert UNKNOWN_WEIGHT == 0.5
    assert likelihood([("violates", UNKNOWN_WEIGHT, 0.9)]) == pytest.approx(
        _noisy_or(UNKNOWN_WEIGHT * 0.9), abs=5e-5)
    assert likelihood([("violates", 0.0, 0.9)]) < likelihood(
        [("violates", UNKNOWN_WEIGHT, 0.9)]) < likelihood([("violates", 1.0, 0.9)])


def test_rules_that_hold_combine_as_a_noisy_or():
    assert likelihood([("violates", 1.0, 0.9), ("remove_page", 1.0, 0.7)]) == pytest.approx(
        _noisy_or(0.9, 0.7), abs=5e-5)


def test_a_deficient_request_lowers_the_likelihood():
    base = likelihood([("violates", 1.0, 0.9)])
    assert likelihood([("violates", 1.0, 0.9), ("deficient", 1.0, 0.4)]) == pytest.approx(
        _noisy_or(0.9) * 0.6, abs=5e-5)
    assert likelihood([("violates", 1.0, 0.9), ("deficient", UNKNOWN_WEIGHT, 0.4)]) == (
        pytest.approx(_noisy_or(0.9) * 0.8, abs=5e-5))
    assert likelihood([("violates", 1.0, 0.9), ("deficient", 0.0, 0.4)]) == base
    assert likelihood([("deficient", 1.0, 1.0)]) == 0.0


def test_the_likelihood_is_a_rounded_probability():
    many = [("violates", 1.0, 0.99)] * 50 + [("allowed", 1.0, 1.0)]
    assert likelihood(many) == 1.0
    value = likelihood([("violates", 1.0, 0.123456)])
    assert value == round(value, 4)
    assert 0.0 <= value <= 1.0


# --- outcome order ----------------------------------------------------------------------------

def test_outcomes_are_ranked_and_undetermined_counts_as_its_lower_bound():
    assert [rank(o) for o in OUTCOMES] == [0, 1, 2, 3]
    assert rank(UNDETERMINED) == rank("no_action")
    assert outcome_of(set()) == "no_action"
    assert outcome_of({("violates", "post"), ("geo_block", "post")}) == "posts_removed"
    assert outcome_of({("violates", "post"), ("remove_page", "page")}) == "page_removed"
    assert outcome_of({("deficient", "request")}) == "no_action"
    assert combine("no_action", "no_action") == "no_action"
    assert combine("no_action", "page_removed") == UNDETERMINED
    assert combine("posts_removed", "page_removed") == "posts_removed"
