"""Consistency: the platform's response set beside the decision replayed under the rule
sets in force on the submission date."""

import dataclasses
import shutil

import pytest

from engine import Engine
from engine.audit.consistency import assess, case_report, replay
from engine.audit.records import Response
from engine.audit.store import open_store
from tests.audit.support import PAGE_TWO_ADVERTS, a_case, case_for


def _decision(lower: str, upper: str) -> dict:
    return {"bounds": {"lower": lower, "upper": upper}}


@pytest.mark.parametrize("lower, upper, asks, actual, expected", [
    # the posts surely go; the page stays
    ("posts_removed", "posts_removed", "remove_page", "no_action", ("inconsistent", "short")),
    ("posts_removed", "posts_removed", "remove_page", "geo_blocked", ("inconsistent", "short")),
    ("posts_removed", "posts_removed", "remove_page", "posts_removed", ("consistent", None)),
    ("posts_removed", "posts_removed", "remove_page", "page_removed", ("inconsistent", "beyond")),
    # the page too, if unknown facts are confirmed
    ("posts_removed", "page_removed", "remove_page", "posts_removed", ("undetermined", None)),
    ("posts_removed", "page_removed", "remove_page", "page_removed", ("consistent", None)),
    # nothing is owed beyond what was asked
    ("posts_removed", "page_removed", "remove_posts", "posts_removed", ("consistent", None)),
    ("page_removed", "page_removed", "remove_posts", "posts_removed", ("consistent", None)),
    ("posts_removed", "posts_removed", "geo_block", "geo_blocked", ("consistent", None)),
    ("posts_removed", "posts_removed", "review", "no_action", ("inconsistent", "short")),
    # nothing is sure
    ("no_action", "page_removed", "remove_page", "no_action", ("undetermined", None)),
    ("no_action", "no_action", "remove_posts", "no_action", ("consistent", None)),
    ("geo_blocked", "geo_blocked", "remove_page", "no_action", ("inconsistent", "short")),
    ("posts_removed", "posts_removed", "remove_page", "pending", ("pending", None)),
    ("posts_removed", "posts_removed", "remove_page", None, ("pending", None)),
])
def test_a_response_is_judged_against_the_bounds_and_the_ask(lower, upper, asks, actual, expected):
    response = Response("C-000001", "2024-02-01", actual) if actual else None
    finding = assess(_decision(lower, upper), asks, response)
    assert (finding.status, finding.direction) == expected


def test_a_recorded_case_replays_to_the_same_decision(audit_engine):
    case = case_for(audit_engine, PAGE_TWO_ADVERTS)
    played = replay(audit_engine, case)
    assert played.is_replayed and played.reproduces and played.notes == ()
    assert [(r["id"], r["version"]) for r in played.rulesets] == [
        (r["id"], r["version"]) for r in case.rulesets]
    assert all(r["sha256"] == r["recorded_sha256"] for r in played.rulesets)
    assert played.later and all(c["from"] > case.submitted for c in played.later)
    assert {"from", "rulesets", "outcome", "likelihood", "differs"} <= set(played.later[0])


def test_a_replay_says_when_the_rule_files_changed(audit_engine, audit_rules, tmp_path):
    case = case_for(audit_engine, PAGE_TWO_ADVERTS)
    edited = tmp_path / "rules"
    shutil.copytree(audit_rules, edited)
    changed = edited / "meta" / "human-exploitation" / "2022-12-07.yaml"
    changed.write_text(changed.read_text() + "\n# a comment added after the case was recorded\n")
    played = replay(Engine.from_paths([edited]), case)
    row = next(r for r in played.rulesets if r["id"] == "meta.human-exploitation")
    assert row["sha256"] != row["recorded_sha256"]
    assert "not the ones recorded" in played.notes[0]


def test_the_recorded_decision_stands_when_the_replay_differs_on_the_same_rules(audit_engine):
    case = case_for(audit_engine, PAGE_TWO_ADVERTS)
    recorded = dataclasses.replace(case, decision={**case.decision, "likelihood": 0.5})
    played = replay(audit_engine, recorded)
    assert played.reproduces is False and played.decision["likelihood"] == 0.5
    assert "rests on the decision recorded" in played.notes[0]


def test_a_case_without_rules_in_force_rests_on_the_recording(audit_engine):
    case = a_case(platform="facebook", submitted="2001-01-01")
    played = replay(audit_engine, case)
    assert not played.is_replayed and played.decision is case.decision


def test_the_report_quotes_the_clauses_a_rejection_ignores(audit_engine, sample_db):
    with open_store(sample_db, create=False) as store:
        case = store.find("NCA-2023-0412")
        responses = store.responses(case.id)[case.id]
        disputes = store.disputes(case.id)[case.id]
        model = case_report(case, responses, disputes, replay(audit_engine, case),
                            store.verify())
    assert model["finding"] == {"status": "inconsistent", "direction": "short",
                                "actual": "no_action", "owed": "posts_removed",
                                "ceiling": "posts_removed", "supported": "posts_removed",
                                "asked": "page_removed"}
    [clause] = model["clauses"]
    assert clause["key"] == "meta.human-exploitation/smuggling-offer"
    assert clause["honoured"] is False and clause["citations"][0]["section"] == "Do not post"
    assert [s["post"] for s in clause["subjects"]] == ["p1", "p2"]
    quotes = {q["pointer"]: q for q in clause["subjects"][0]["quotes"]}
    translation = quotes["/target/posts/0/translation"]
    marked = [translation["text"][m["start"]:m["end"]] for m in translation["highlights"]]
    assert marked == ["3000 pounds"] and "900123" not in translation["text"]
    threshold = next(t for t in model["thresholds"] if t["rule"] == "repeated-violations")
    assert (threshold["observed"], threshold["required"], threshold["met"]) == (2, 5, False)
    assert model["disputes"][0]["clauses"] == ["meta.human-exploitation/smuggling-offer"]
    assert model["redactions"]["by_rule"] == {"phone": 3}
    assert model["integrity"]["intact"] and model["integrity"]["record"] == case.seq


def test_an_undetermined_response_comes_with_the_missing_facts(audit_engine, sample_db):
    with open_store(sample_db, create=False) as store:
        case = store.find("EU-IRU-2025-0042")
        model = case_report(case, store.responses(case.id)[case.id], [],
                            replay(audit_engine, case), store.verify())
    assert model["finding"]["status"] == "undetermined"
    assert model["missing"] and all(m["fact"] for m in model["missing"])
