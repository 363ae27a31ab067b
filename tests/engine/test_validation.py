"""`takedown validate`: agreement with careful readings of the policy on real cases.

The corpus (validation/) is real public cases, each with the platform's decision and,
written separately and before the engine ran on it, what the policy in force predicts.
The floors below are where the engine stands; raise them as it improves, never lower
them to let a change through.
"""

import json

import pytest

from engine.authoring.validation import DEFAULT_CORPUS, summarise, validate
from engine.cli import main
from engine.extraction import Extractor

# Agreement with the policy reading, over all cases and over those the source settles.
FLOOR = 0.9
SETTLED_FLOOR = 0.95


@pytest.fixture(scope="module")
def results(engine):
    # As `takedown check` decides by default: the signals the texts show are read first.
    return validate(engine, DEFAULT_CORPUS, Extractor.from_rulesets(engine.registry), "found")


def test_the_engine_agrees_with_the_policy_reading_on_real_cases(results):
    summary = summarise(results)
    assert summary.cases >= 40
    assert summary.errors == 0, [(r.case, r.error) for r in results if r.error]
    disagreements = [(r.case, r.outcome, r.reading) for r in results if not r.agrees]
    assert summary.agreement >= FLOOR, disagreements
    assert summary.settled_agree / summary.settled >= SETTLED_FLOOR, disagreements
    assert summary.settled_undetermined == 0


def test_the_corpus_has_the_breadth_the_measure_needs(results):
    platforms = {r.platform for r in results}
    assert {"facebook", "instagram", "youtube", "tiktok", "x", "telegram"} <= platforms
    assert sum(r.topic in ("smuggling", "trafficking") for r in results) >= 25
    years = {r.date[:4] for r in results}
    assert {str(y) for y in range(2017, 2027)} <= years


def test_validate_prints_the_figures_and_holds_a_floor(capsys):
    assert main(["validate", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["cases"] == len(report["cases"])
    assert 0 <= report["summary"]["brier_reading"] <= 2
    assert main(["validate", "--floor", "100"]) == 1
    assert "under the floor" in capsys.readouterr().err
